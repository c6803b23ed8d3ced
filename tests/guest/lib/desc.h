/* GDT/TSS/IDT, interrupt dispatch and exception capture. */
#ifndef DESC_H
#define DESC_H

#include "percpu.h"

/* Interrupt frame built by isr_common (entry.S). */
struct ex_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define DE_VECTOR	0
#define BP_VECTOR	3
#define UD_VECTOR	6
#define GP_VECTOR	13
#define PF_VECTOR	14

#define PF_ERR_P	(1u << 0)
#define PF_ERR_W	(1u << 1)
#define PF_ERR_U	(1u << 2)

typedef void (*irq_handler_t)(struct ex_regs *regs);

void desc_init(void);
void desc_init_cpu(int cpu);
void handle_irq(int vector, irq_handler_t handler);
const char *exception_mnemonic(int vector);

/*
 * Run fn(arg) in ring 0.  If it raises an exception, unwind to here.
 * Returns the vector (-1 if none); *ret gets fn's value and *f the
 * exception (both optional).
 */
int run_catch(long (*fn)(void *), void *arg, long *ret, struct fault *f);

/* Internal to run_catch()/run_in_user(). */
struct catch_ctx {
	uint64_t rsp;		/* first: entry.S stores it */
	uint64_t rflags;
	struct catch_ctx *prev;
	struct fault fault;
};

typedef long (*catch_entry_t)(long (*fn)(void *), void *arg, void *stack_top,
			      struct catch_ctx *ctx);
int run_caught(catch_entry_t entry, long (*fn)(void *), void *arg,
	       void *stack_top, long *ret, struct fault *f);

/*
 * ASM_TRY(label) arms the exception table for the instruction that follows
 * it: a fault there resumes at label and is recorded in last_fault().  Works
 * in ring 3 too.  Traps (#BP, #OF) report the next RIP: use run_catch().
 */
#define ASM_TRY(catch)							\
	"movl $-1, %%gs:" __stringify(PERCPU_FAULT_VECTOR) "\n\t"	\
	".pushsection .ex_table, \"a\"\n\t"				\
	".balign 8\n\t"							\
	".quad 1111f, " catch "\n\t"					\
	".popsection\n\t"						\
	"1111:"

/* Execute one instruction; evaluates to the vector it raised or -1. */
#define asm_safe(insn, ...)						\
({									\
	asm volatile(ASM_TRY("1f") insn "\n1:" : : __VA_ARGS__ : "memory"); \
	last_fault()->vector;						\
})

#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

static inline struct fault *last_fault(void)
{
	return &this_cpu()->fault;
}

/* RDMSR and WRMSR that report the vector they raised (-1: none). */
static inline int rdmsr_safe(uint32_t index, uint64_t *val)
{
	uint32_t lo = 0xdeadbeef, hi = 0xdeadbeef;

	asm volatile(ASM_TRY("1f") "rdmsr\n1:"
		     : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
	*val = lo | (uint64_t)hi << 32;
	return last_fault()->vector;
}

static inline int wrmsr_safe(uint32_t index, uint64_t val)
{
	return asm_safe("wrmsr", "c"(index), "a"((uint32_t)val),
			"d"((uint32_t)(val >> 32)));
}

#endif
