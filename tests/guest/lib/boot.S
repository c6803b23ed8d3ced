/*
 * Multiboot v1 entry (32-bit protected mode, paging off), switch to long
 * mode with the static page tables below, and the real-mode trampoline that
 * brings application processors through the same path.
 */
#include "layout.h"

#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0

#define PTE_P		0x001
#define PTE_W		0x002
#define PTE_U		0x004
#define PTE_PWT		0x008
#define PTE_PCD		0x010
#define PTE_PS		0x080
#define PTE_TABLE	(PTE_P | PTE_W | PTE_U)

#define APIC_MMIO	0xfee00000

#define X86_CR0_PE	0x00000001
#define X86_CR0_PG	0x80000000
#define X86_CR4_PAE	0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

	/* Linked first in .text, so within the first 8 KiB of the image. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

/*
 * 4-level page tables: 0-1 GiB identity mapped with user-accessible 2 MiB
 * pages, 1 GiB + 0..2 MiB is the 4 KiB test region (paging.c) and the
 * local APIC page is mapped uncached, supervisor only.
 */
	.data
	.balign 4096
	.globl pt_test
pml4:
	.quad pdpt + PTE_TABLE
	.fill 511, 8, 0
pdpt:
	.quad pd_low + PTE_TABLE
	.quad pd_test + PTE_TABLE
	.quad 0
	.quad pd_high + PTE_TABLE
	.fill 508, 8, 0
pd_low:
	i = 0
	.rept 512
	.quad (i << 21) | PTE_PS | PTE_U | PTE_W | PTE_P
	i = i + 1
	.endr
pd_high:
	.fill (APIC_MMIO >> 21) & 511, 8, 0
	.quad APIC_MMIO | PTE_PS | PTE_PCD | PTE_PWT | PTE_W | PTE_P
	.fill 511 - ((APIC_MMIO >> 21) & 511), 8, 0
pd_test:
	.quad pt_test + PTE_TABLE
	.fill 511, 8, 0
pt_test:
	.fill 512, 8, 0

gdt_ptr:
	.word GDT_ENTRIES * 8 - 1
	.quad gdt

mb_info:
	.long 0
ap_next_id:
	.long 1

	.bss
	.balign 4096
cpu_stacks:
	.skip MAX_CPUS * STACK_SIZE

.macro ENTER_LONG_MODE
	mov %cr4, %eax
	or $X86_CR4_PAE, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(X86_CR0_PG | X86_CR0_PE), %eax
	mov %eax, %cr0
.endm

.macro LOAD_DATA_SEGMENTS
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
.endm

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	mov %ebx, mb_info
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	lgdt gdt_ptr
	ljmp $KERNEL_CS32, $1f
1:	LOAD_DATA_SEGMENTS
	ENTER_LONG_MODE
	ljmp $KERNEL_CS, $bsp_start64

ap_start32:
	LOAD_DATA_SEGMENTS
	ENTER_LONG_MODE
	ljmp $KERNEL_CS, $ap_start64

	.code64
bsp_start64:
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $cpu_stacks + STACK_SIZE, %rsp
	mov mb_info, %edi
	call kernel_main
	ud2

ap_start64:
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $1, %eax
	lock xadd %eax, ap_next_id
	cmp $MAX_CPUS, %eax
	jae 2f
	mov %eax, %edi
	inc %eax
	imul $STACK_SIZE, %eax
	lea cpu_stacks(%rax), %rsp
	call ap_main
	ud2
	/* Only if fw_cfg undercounts CPUs: park rather than overrun cpu_stacks. */
2:	cli
	hlt
	jmp 2b

/*
 * Copied to TRAMPOLINE_ADDR by smp_init(); the SIPI starts APs here in real
 * mode with CS = TRAMPOLINE_ADDR >> 4.
 */
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tramp_gdt_ptr - trampoline_start
	mov %cr0, %eax
	or $X86_CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $KERNEL_CS32, $ap_start32
tramp_gdt_ptr:
	.word GDT_ENTRIES * 8 - 1
	.long gdt
trampoline_end:
