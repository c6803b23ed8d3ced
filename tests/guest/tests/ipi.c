/* Harness self-test: fixed IPIs through the IDT, between and within vCPUs. */
#include "apic.h"
#include "desc.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"

#define IPI_VECTOR	0x40	/* counted per receiving CPU */
#define PING_VECTOR	0x41	/* AP: count, answer with PONG_VECTOR */
#define PONG_VECTOR	0x42	/* BSP: count */
#define ROUND_TRIPS	1000
#define TIMEOUT_MS	1000

static unsigned hits[MAX_CPUS];
static unsigned pings, pongs;

static void ipi_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&hits[smp_id()], 1, __ATOMIC_RELEASE);
	apic_eoi();
}

static void ping_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&pings, 1, __ATOMIC_RELEASE);
	apic_eoi();
	apic_send_ipi(cpu_apic_id(0), PONG_VECTOR);
}

static void pong_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&pongs, 1, __ATOMIC_RELEASE);
	apic_eoi();
}

static const char *timeout_note(bool met)
{
	return met ? "" : " - timeout";
}

static void test_self_ipi(void)
{
	bool met;

	apic_send_ipi(apic_id(), IPI_VECTOR);
	met = wait_until(LOAD(&hits[0]) == 1, TIMEOUT_MS);
	ok(met, "fixed IPI vector %#x to the BSP's own APIC ID %u is handled once on the BSP, count %u%s",
	   IPI_VECTOR, apic_id(), LOAD(&hits[0]), timeout_note(met));
}

static void send_to_bsp(void *arg)
{
	(void)arg;
	apic_send_ipi(cpu_apic_id(0), IPI_VECTOR);
}

static void test_bsp_ap(void)
{
	unsigned bsp_before = LOAD(&hits[0]);
	bool met;

	apic_send_ipi(cpu_apic_id(1), IPI_VECTOR);
	met = wait_until(LOAD(&hits[1]) == 1, TIMEOUT_MS);
	ok(met && LOAD(&hits[0]) == bsp_before,
	   "fixed IPI vector %#x from the BSP to CPU 1 (APIC ID %u) is handled on CPU 1 only (BSP %u, CPU 1 %u)%s",
	   IPI_VECTOR, cpu_apic_id(1), LOAD(&hits[0]) - bsp_before, LOAD(&hits[1]),
	   timeout_note(met));

	on_cpu_async(1, send_to_bsp, NULL);
	met = wait_until(LOAD(&hits[0]) == bsp_before + 1, TIMEOUT_MS);
	ok(met && LOAD(&hits[1]) == 1,
	   "fixed IPI vector %#x from CPU 1 to the BSP is handled on the BSP only (BSP %u, CPU 1 %u)%s",
	   IPI_VECTOR, LOAD(&hits[0]) - bsp_before, LOAD(&hits[1]), timeout_note(met));
}

static void test_ping_pong(void)
{
	uint64_t start = rdtsc();
	unsigned i;

	for (i = 0; i < ROUND_TRIPS; i++) {
		apic_send_ipi(cpu_apic_id(1), PING_VECTOR);
		if (!wait_until(LOAD(&pongs) == i + 1, TIMEOUT_MS))
			break;
	}
	diag("%u IPI round trips in %lu ms", i, ms_since(start));
	ok(i == ROUND_TRIPS && LOAD(&pings) == ROUND_TRIPS,
	   "%u IPI round trips BSP -> CPU 1 -> BSP without loss, got %u pings, %u pongs%s",
	   ROUND_TRIPS, LOAD(&pings), LOAD(&pongs), timeout_note(i == ROUND_TRIPS));
}

int main(void)
{
	handle_irq(IPI_VECTOR, ipi_handler);
	handle_irq(PING_VECTOR, ping_handler);
	handle_irq(PONG_VECTOR, pong_handler);

	test_self_ipi();
	if (cpu_count() < 2) {
		skip("needs 2 CPUs", "IPIs between the BSP and CPU 1");
		skip("needs 2 CPUs", "%u IPI round trips between the BSP and CPU 1", ROUND_TRIPS);
		return tap_done();
	}
	test_bsp_ap();
	test_ping_pong();
	return tap_done();
}
