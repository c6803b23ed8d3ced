/*
 * x2APIC mode through the MSR interface.
 *
 * Command line: x2apic=0|1, whether the CPU offers x2APIC
 * (CPUID.1:ECX[21]).  A mismatch is a failure, never a skip.
 *
 *   x2apic=1  IA32_APIC_BASE.EXTD switches the APIC to MSRs 800H-8FFH;
 *             the x2APIC ID equals the initial APIC ID; fixed IPIs through
 *             the 64-bit ICR (MSR 830H, destination in bits 63:32), which
 *             reads back what was written; the SELF IPI MSR (83FH); with
 *             2 CPUs IPIs both ways and an IPI to an APIC ID no CPU has
 *             (256, which an xAPIC destination cannot even encode) that
 *             reaches nobody.
 *   x2apic=0  setting EXTD raises #GP and the APIC stays in xAPIC mode;
 *             the x2APIC MSRs raise #GP.
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"

#define IPI_VECTOR	0x40
#define SELF_VECTOR	0x41
#define NOBODY_VECTOR	0x42
#define TIMEOUT_MS	1000
#define QUIET_MS	30
#define NO_SUCH_APIC	0x100

static unsigned hits[MAX_CPUS][3];

static void count_handler(struct ex_regs *regs)
{
	__atomic_add_fetch(&hits[smp_id()][regs->vector - IPI_VECTOR], 1, __ATOMIC_RELEASE);
	apic_eoi();
}

static unsigned count(int cpu, int vector)
{
	return LOAD(&hits[cpu][vector - IPI_VECTOR]);
}

static const char *to(bool met)
{
	return met ? "" : " - timeout";
}

static void test_off(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE), v;
	int vec;

	vec = wrmsr_safe(MSR_IA32_APICBASE, base | APIC_BASE_X2APIC);
	ok(vec == GP_VECTOR && !x2apic_enabled(),
	   "without x2APIC, setting IA32_APIC_BASE.EXTD raises #GP and the APIC stays in xAPIC mode, "
	   "got vector %d, IA32_APIC_BASE %#lx", vec, rdmsr(MSR_IA32_APICBASE));
	vec = rdmsr_safe(MSR_X2APIC_BASE + (APIC_ID >> 4), &v);
	ok(vec == GP_VECTOR, "without x2APIC mode, RDMSR of the x2APIC ID (MSR 0x802) raises #GP, got vector %d",
	   vec);
}

struct cpu1_info {
	bool x2;
	uint32_t id;
};

static void cpu1_enable(void *arg)
{
	struct cpu1_info *i = arg;

	i->x2 = enable_x2apic() && x2apic_enabled();
	i->id = apic_id();
}

static void cpu1_send(void *arg)
{
	(void)arg;
	apic_send_ipi(cpu_apic_id(0), IPI_VECTOR);
}

static void enable_cpu1(void)
{
	struct cpu1_info i = { 0 };

	on_cpu(1, cpu1_enable, &i);
	ok(i.x2 && i.id == cpu_apic_id(1),
	   "CPU 1 switches to x2APIC mode too, its x2APIC ID %u equals its xAPIC ID %u (mode %d)",
	   i.id, cpu_apic_id(1), i.x2);
}

static void test_two_cpus(void)
{
	uint32_t id1 = cpu_apic_id(1);
	unsigned b0 = count(0, IPI_VECTOR), b1 = count(1, IPI_VECTOR);
	bool met;

	apic_send_ipi(id1, IPI_VECTOR);
	met = wait_until(count(1, IPI_VECTOR) == b1 + 1, TIMEOUT_MS);
	mdelay(5);
	ok(met && count(0, IPI_VECTOR) == b0,
	   "x2APIC IPI %#x from the BSP to x2APIC ID %u is handled on CPU 1 only (CPU 0 %u, CPU 1 %u)%s",
	   IPI_VECTOR, id1, count(0, IPI_VECTOR) - b0, count(1, IPI_VECTOR) - b1, to(met));

	on_cpu(1, cpu1_send, NULL);
	met = wait_until(count(0, IPI_VECTOR) == b0 + 1, TIMEOUT_MS);
	ok(met && count(1, IPI_VECTOR) == b1 + 1,
	   "x2APIC IPI %#x from CPU 1 to the BSP is handled on the BSP only%s", IPI_VECTOR, to(met));
}

int main(void)
{
	int want = arg_flag("x2apic", 1);
	uint32_t xapic_id = apic_id();
	uint64_t icr;
	bool met;

	ok(x2apic_supported() == want,
	   "CPUID.1:ECX[21] (x2APIC) is %d as the command line says, got %d", want, x2apic_supported());
	if (x2apic_supported() != want)
		return tap_done();
	for (int v = IPI_VECTOR; v <= NOBODY_VECTOR; v++)
		handle_irq(v, count_handler);
	if (!want) {
		test_off();
		return tap_done();
	}

	ok(enable_x2apic() && x2apic_enabled(), "IA32_APIC_BASE.EXTD is set after enable_x2apic()");
	ok(apic_id() == xapic_id, "x2APIC ID (MSR 0x802) %u equals the xAPIC ID %u",
	   apic_id(), xapic_id);
	if (cpu_count() >= 2)
		enable_cpu1();

	apic_send_ipi(apic_id(), IPI_VECTOR);
	met = wait_until(count(0, IPI_VECTOR) == 1, TIMEOUT_MS);
	ok(met, "self IPI vector %#x through the x2APIC ICR (MSR 0x830) is handled once%s",
	   IPI_VECTOR, to(met));
	icr = rdmsr(MSR_X2APIC_ICR);
	ok((icr & 0xcffff) == (APIC_INT_ASSERT | IPI_VECTOR) && icr >> 32 == apic_id(),
	   "the x2APIC ICR (MSR 0x830) reads back fixed, physical, vector %#x, destination %u "
	   "in bits 63:32: %#lx", IPI_VECTOR, apic_id(), icr);

	wrmsr(MSR_X2APIC_SELF_IPI, SELF_VECTOR);
	met = wait_until(count(0, SELF_VECTOR) == 1, TIMEOUT_MS);
	ok(met, "SELF IPI MSR (0x83f) with vector %#x is handled once%s", SELF_VECTOR, to(met));

	apic_send_ipi(NO_SUCH_APIC, NOBODY_VECTOR);
	icr = rdmsr(MSR_X2APIC_ICR);
	ok((uint32_t)icr == (APIC_INT_ASSERT | NOBODY_VECTOR) && icr >> 32 == NO_SUCH_APIC,
	   "RDMSR of the x2APIC ICR (MSR 0x830) returns all 64 bits: destination %#x in bits 63:32, "
	   "vector %#x in 7:0, got %#lx", NO_SUCH_APIC, NOBODY_VECTOR, icr);
	mdelay(QUIET_MS);
	ok(count(0, NOBODY_VECTOR) == 0 && (cpu_count() < 2 || count(1, NOBODY_VECTOR) == 0),
	   "an IPI to x2APIC ID %#x (no such CPU) reaches nobody (CPU 0 %u, CPU 1 %u)",
	   NO_SUCH_APIC, count(0, NOBODY_VECTOR), cpu_count() < 2 ? 0 : count(1, NOBODY_VECTOR));

	if (cpu_count() >= 2)
		test_two_cpus();
	return tap_done();
}
