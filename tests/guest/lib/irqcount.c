/* Counting ordinary interrupts, per CPU and vector. */
#include "apic.h"
#include "desc.h"
#include "irqcount.h"
#include "smp.h"

static unsigned counts[MAX_CPUS][256];

static void count_irq(struct ex_regs *regs)
{
	__atomic_add_fetch(&counts[smp_id()][regs->vector & 0xff], 1, __ATOMIC_RELEASE);
	apic_eoi();
}

void count_irqs(int first, int last)
{
	for (int v = first; v <= last; v++)
		handle_irq(v, count_irq);
}

unsigned irq_count(int cpu, int vector)
{
	return __atomic_load_n(&counts[cpu][vector & 0xff], __ATOMIC_ACQUIRE);
}
