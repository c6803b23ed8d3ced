/*
 * Interrupt entry stubs and the two ways of running a function under the
 * exception catcher: catch_call() (ring 0) and user_call() (ring 3).
 */
#include "layout.h"

#define X86_EFLAGS_IF	0x200

	.text
	.code64

/*
 * One stub per vector: push a dummy error code where the CPU pushes none,
 * then the vector number.  isr_table[] holds the stub addresses.
 */
	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.text
	vec = 0
	.rept 256
1:	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.pushsection .rodata
	.quad 1b
	.popsection
	vec = vec + 1
	.endr

/* The pushes below build struct ex_regs (desc.h). */
isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rdi
	call handle_interrupt
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

.macro SAVE_CALLEE_REGS ctx
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp
	mov %rsp, (\ctx)	/* catch_ctx.rsp */
.endm

/*
 * long catch_call(long (*fn)(void *), void *arg, void *unused,
 *		   struct catch_ctx *ctx)
 */
	.globl catch_call
catch_call:
	SAVE_CALLEE_REGS %rcx
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
catch_return:
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/*
 * handle_interrupt() unwinds a caught exception (or the ring-3 return) by
 * IRETQ-ing here in ring 0 with RSP = catch_ctx.rsp and the result in RAX.
 */
	.globl catch_landing
catch_landing:
	mov $KERNEL_DS, %ecx
	mov %ecx, %ds
	mov %ecx, %es
	jmp catch_return

/*
 * long user_call(long (*fn)(void *), void *arg, void *stack_top,
 *		  struct catch_ctx *ctx)
 * Enters fn(arg) in ring 3 with interrupts enabled; fn returns into
 * user_exit, whose INT RET_TO_KERNEL_VECTOR comes back through catch_landing.
 */
	.globl user_call
user_call:
	SAVE_CALLEE_REGS %rcx
	lea -8(%rdx), %rax
	movq $user_exit, (%rax)
	mov $USER_DS, %ecx
	mov %ecx, %ds
	mov %ecx, %es
	pushq $USER_DS
	push %rax
	pushfq
	orq $X86_EFLAGS_IF, (%rsp)
	pushq $USER_CS
	push %rdi
	mov %rsi, %rdi
	iretq

user_exit:
	mov %rax, %rdi
	int $RET_TO_KERNEL_VECTOR
	ud2
