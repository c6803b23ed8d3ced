/* Constants shared by assembly and C. */
#ifndef LAYOUT_H
#define LAYOUT_H

#define MAX_CPUS		8
#define STACK_SIZE		16384	/* per-CPU kernel stack */
#define RSP0_STACK_SIZE		8192	/* per-CPU stack for ring 3 -> ring 0 */

/* GDT selectors: see gdt[] in desc.c. */
#define KERNEL_CS		0x08
#define KERNEL_DS		0x10
#define KERNEL_CS32		0x18
#define USER_CS			0x23
#define USER_DS			0x2b
#define TSS_SEL(cpu)		(0x30 + 16 * (cpu))
#define GDT_ENTRIES		(6 + 2 * MAX_CPUS)

/* Real-mode AP trampoline (SIPI vector TRAMPOLINE_ADDR >> 12). */
#define TRAMPOLINE_ADDR		0x8000

/* DPL-3 gate through which ring-3 code returns to run_in_user(). */
#define RET_TO_KERNEL_VECTOR	0x80

/* offsetof(struct percpu, fault.vector), checked in percpu.h. */
#define PERCPU_FAULT_VECTOR	8

#endif
