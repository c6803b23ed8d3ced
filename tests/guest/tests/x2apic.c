/*
 * x2APIC mode through the MSR interface.  QEMU 7.2 TCG does not offer
 * x2APIC, so there this reports a SKIP.
 */
#include "apic.h"
#include "desc.h"
#include "processor.h"
#include "tap.h"
#include "timer.h"

#define SELF_IPI_VECTOR	0x40

static unsigned hits;

static void self_ipi_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&hits, 1, __ATOMIC_RELEASE);
	apic_eoi();
}

int main(void)
{
	uint32_t xapic_id = apic_id();
	bool met;

	diag("CPUID.1:ECX[21] (x2APIC) is %d", x2apic_supported());
	if (!enable_x2apic()) {
		skip("x2APIC not offered by this CPU", "x2APIC mode via MSRs 0x800+");
		return tap_done();
	}
	ok(x2apic_enabled(), "IA32_APIC_BASE.EXTD is set after enable_x2apic()");
	ok(apic_id() == xapic_id, "x2APIC ID (MSR 0x802) %u equals the xAPIC ID %u",
	   apic_id(), xapic_id);

	handle_irq(SELF_IPI_VECTOR, self_ipi_handler);
	apic_send_ipi(apic_id(), SELF_IPI_VECTOR);
	met = wait_until(__atomic_load_n(&hits, __ATOMIC_ACQUIRE) == 1, 1000);
	ok(met, "self IPI vector %#x through the x2APIC ICR (MSR 0x830) is handled once%s",
	   SELF_IPI_VECTOR, met ? "" : " - timeout");
	return tap_done();
}
