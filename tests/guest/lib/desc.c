#include "desc.h"
#include "processor.h"
#include "tap.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_entry {
	uint16_t offset0;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset1;
	uint32_t offset2;
	uint32_t reserved;
};

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct ex_table_entry {
	uint64_t insn, fixup;
};

/* Also loaded by boot.S before long mode, hence the 32-bit code segment. */
uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16))) = {
	[KERNEL_CS >> 3]   = 0x00af9a000000ffff,	/* 64-bit code, DPL 0 */
	[KERNEL_DS >> 3]   = 0x00cf92000000ffff,	/* data, DPL 0 */
	[KERNEL_CS32 >> 3] = 0x00cf9a000000ffff,	/* 32-bit code, DPL 0 */
	[USER_CS >> 3]     = 0x00affa000000ffff,	/* 64-bit code, DPL 3 */
	[USER_DS >> 3]     = 0x00cff2000000ffff,	/* data, DPL 3 */
};

static struct tss tss[MAX_CPUS] __attribute__((aligned(16)));
static char rsp0_stacks[MAX_CPUS][RSP0_STACK_SIZE] __attribute__((aligned(16)));
static struct idt_entry idt[256];
static irq_handler_t irq_handlers[256];

extern const uint64_t isr_table[256];
extern const struct ex_table_entry __ex_table_start[], __ex_table_end[];
extern char catch_landing[];

static void set_idt_gate(int vector, uint64_t handler, int dpl)
{
	idt[vector] = (struct idt_entry) {
		.offset0 = handler,
		.selector = KERNEL_CS,
		.type_attr = 0x80 | dpl << 5 | 0xe,	/* present, interrupt gate */
		.offset1 = handler >> 16,
		.offset2 = handler >> 32,
	};
}

static void set_tss_desc(int cpu)
{
	uint64_t base = (uintptr_t)&tss[cpu];
	uint64_t limit = sizeof(tss[cpu]) - 1;
	int i = TSS_SEL(cpu) >> 3;

	gdt[i] = (limit & 0xffff) | (base & 0xffffff) << 16 |
		 0x89ull << 40 |		/* present, available 64-bit TSS */
		 (limit >> 16 & 0xf) << 48 | (base >> 24 & 0xff) << 56;
	gdt[i + 1] = base >> 32;
}

void desc_init(void)
{
	for (int v = 0; v < 256; v++)
		set_idt_gate(v, isr_table[v], v == RET_TO_KERNEL_VECTOR ? 3 : 0);
}

void desc_init_cpu(int cpu)
{
	struct desc_ptr gdtr = { sizeof(gdt) - 1, (uintptr_t)gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	tss[cpu].rsp[0] = (uintptr_t)rsp0_stacks[cpu + 1];
	tss[cpu].iomap_base = sizeof(struct tss);
	set_tss_desc(cpu);
	asm volatile("lgdt %0; lidt %1; ltr %w2"
		     : : "m"(gdtr), "m"(idtr), "r"(TSS_SEL(cpu)) : "memory");
}

void handle_irq(int vector, irq_handler_t handler)
{
	irq_handlers[vector] = handler;
}

const char *exception_mnemonic(int vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#RSV15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	if (vector < 0 || vector >= 32 || !names[vector])
		return "#??";
	return names[vector];
}

static uint64_t find_fixup(uint64_t rip)
{
	for (const struct ex_table_entry *e = __ex_table_start; e < __ex_table_end; e++)
		if (e->insn == rip)
			return e->fixup;
	return 0;
}

/* Resume at catch_landing, returning ret from catch_call()/user_call(). */
static void unwind(struct ex_regs *regs, struct catch_ctx *ctx, long ret)
{
	regs->rip = (uintptr_t)catch_landing;
	regs->cs = KERNEL_CS;
	regs->rsp = ctx->rsp;
	regs->ss = KERNEL_DS;
	regs->rflags = ctx->rflags;
	regs->rax = ret;
}

static void handle_exception(struct percpu *cpu, struct ex_regs *regs)
{
	struct fault *f = &cpu->fault;
	uint64_t fixup;

	*f = (struct fault) {
		.vector = regs->vector,
		.ring = regs->cs & 3,
		.error_code = regs->error_code,
		.rip = regs->rip,
		.cr2 = regs->vector == PF_VECTOR ? read_cr2() : 0,
	};
	fixup = find_fixup(regs->rip);
	if (fixup) {
		regs->rip = fixup;
		return;
	}
	if (cpu->catch) {
		cpu->catch->fault = *f;
		unwind(regs, cpu->catch, 0);
		return;
	}
	bail_out("unhandled %s (vector %d) on CPU %d in ring %d: rip=%#lx error_code=%#x cr2=%#lx",
		 exception_mnemonic(f->vector), f->vector, cpu->id, f->ring,
		 f->rip, f->error_code, f->cr2);
}

void handle_interrupt(struct ex_regs *regs)
{
	struct percpu *cpu = this_cpu();

	if (regs->vector < 32) {
		handle_exception(cpu, regs);
	} else if (regs->vector == RET_TO_KERNEL_VECTOR && (regs->cs & 3) == 3 &&
		   cpu->catch) {
		unwind(regs, cpu->catch, regs->rdi);
	} else if (irq_handlers[regs->vector]) {
		irq_handlers[regs->vector](regs);
	} else {
		bail_out("unexpected interrupt vector %#lx on CPU %d at rip=%#lx",
			 regs->vector, cpu->id, regs->rip);
	}
}

long catch_call(long (*fn)(void *), void *arg, void *unused, struct catch_ctx *ctx);

/* entry() runs fn(arg) with exceptions unwinding back here. */
int run_caught(catch_entry_t entry, long (*fn)(void *), void *arg,
	       void *stack_top, long *ret, struct fault *f)
{
	struct percpu *cpu = this_cpu();
	struct catch_ctx ctx = {
		.rflags = read_rflags(),
		.prev = cpu->catch,
		.fault.vector = -1,
	};
	long r;

	cpu->catch = &ctx;
	r = entry(fn, arg, stack_top, &ctx);
	cpu->catch = ctx.prev;
	if (ret)
		*ret = r;
	if (f)
		*f = ctx.fault;
	return ctx.fault.vector;
}

int run_catch(long (*fn)(void *), void *arg, long *ret, struct fault *f)
{
	return run_caught(catch_call, fn, arg, NULL, ret, f);
}
