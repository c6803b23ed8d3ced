#include "apic.h"
#include "desc.h"
#include "processor.h"

#define APIC_MMIO	0xfee00000ul

static uint32_t xapic_read(unsigned reg)
{
	return *(volatile uint32_t *)(APIC_MMIO + reg);
}

static void xapic_write(unsigned reg, uint32_t val)
{
	*(volatile uint32_t *)(APIC_MMIO + reg) = val;
}

static void xapic_icr_write(uint32_t low, uint32_t dest)
{
	uint64_t flags = irq_save();	/* ICR2+ICR must not interleave */

	while (xapic_read(APIC_ICR) & APIC_ICR_BUSY)
		cpu_relax();
	xapic_write(APIC_ICR2, dest << 24);
	xapic_write(APIC_ICR, low);
	irq_restore(flags);
}

static uint32_t xapic_id(void)
{
	return xapic_read(APIC_ID) >> 24;
}

static const struct apic_ops xapic_ops = {
	.read = xapic_read,
	.write = xapic_write,
	.icr_write = xapic_icr_write,
	.id = xapic_id,
};

static uint32_t x2apic_read(unsigned reg)
{
	return rdmsr(MSR_X2APIC_BASE + (reg >> 4));
}

static void x2apic_write(unsigned reg, uint32_t val)
{
	wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
}

static void x2apic_icr_write(uint32_t low, uint32_t dest)
{
	wrmsr(MSR_X2APIC_BASE + (APIC_ICR >> 4), (uint64_t)dest << 32 | low);
}

static uint32_t x2apic_id(void)
{
	return x2apic_read(APIC_ID);
}

static const struct apic_ops x2apic_ops = {
	.read = x2apic_read,
	.write = x2apic_write,
	.icr_write = x2apic_icr_write,
	.id = x2apic_id,
};

static void spurious_handler(struct ex_regs *regs)
{
	(void)regs;	/* spurious interrupts take no EOI */
}

/* Mask the legacy 8259s: SeaBIOS leaves the PIT on IRQ0 via LINT0. */
void pic_disable(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void apic_enable(void)
{
	this_cpu()->apic_ops = &xapic_ops;
	handle_irq(APIC_SPURIOUS_VECTOR, spurious_handler);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
}

uint32_t apic_read(unsigned reg)
{
	return this_cpu()->apic_ops->read(reg);
}

void apic_write(unsigned reg, uint32_t val)
{
	this_cpu()->apic_ops->write(reg, val);
}

uint32_t apic_id(void)
{
	return this_cpu()->apic_ops->id();
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_icr_write(uint32_t low, uint32_t dest)
{
	this_cpu()->apic_ops->icr_write(low, dest);
}

/* Fixed delivery, physical destination. */
void apic_send_ipi(uint32_t dest, int vector)
{
	apic_icr_write(APIC_DEST_PHYSICAL | APIC_INT_ASSERT | APIC_DM_FIXED | vector, dest);
}

bool x2apic_supported(void)
{
	return cpuid(1).c & (1u << 21);
}

bool x2apic_enabled(void)
{
	return rdmsr(MSR_IA32_APICBASE) & APIC_BASE_X2APIC;
}

/* Switch this CPU to x2APIC mode; false if the CPU does not offer it. */
bool enable_x2apic(void)
{
	if (!x2apic_supported())
		return false;
	wrmsr(MSR_IA32_APICBASE,
	      rdmsr(MSR_IA32_APICBASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	this_cpu()->apic_ops = &x2apic_ops;
	return true;
}
