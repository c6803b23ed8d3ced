/* User-interrupt handler entry (see uintr.h). */
	.text
	.globl	uintr_entry
	.type	uintr_entry, @function
uintr_entry:
	/* Delivery left RSP 16-byte aligned, pointing at the vector. */
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	lea	72(%rsp), %rdi		/* struct uintr_frame * */
	sub	$8, %rsp		/* 10 slots: aligned again for the call */
	mov	uintr_handler(%rip), %rax
	call	*%rax
	add	$8, %rsp
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$8, %rsp		/* UIRET does not pop the vector */
	uiret
	.size	uintr_entry, . - uintr_entry
