/*
 * Fixed IPIs to every kind of destination the local APIC model routes:
 * the three shorthands, each physical ID, the physical broadcast, a
 * logical destination and a logical destination nobody matches, in
 * xAPIC or x2APIC mode (apic=xapic|x2), on 3 CPUs.  Each IPI is counted
 * on every CPU: exactly the CPUs it names get it, once.  These are the
 * routes through hw/intc/apic.c's destination bitmap that the series'
 * generic APIC patches change.
 */
#include "apic.h"
#include "irqcount.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"

#define VECTOR			0x50
#define TIMEOUT_MS		1000
#define SETTLE_MS		20	/* after the last expected one arrived */
#define NCPU			3

#define APIC_LDR		0x0d0
#define APIC_DFR		0x0e0
#define APIC_DFR_FLAT		0xffffffffu
#define APIC_DEST_LOGICAL	0x00800
#define FIXED			(APIC_INT_ASSERT | APIC_DM_FIXED | VECTOR)

static uint32_t ldr[MAX_CPUS];

struct ipi {
	uint32_t low;
	uint32_t dest;
};

static void send(void *arg)
{
	const struct ipi *ipi = arg;

	apic_icr_write(ipi->low, ipi->dest);
}

static unsigned received(const unsigned *before, int cpu)
{
	return irq_count(cpu, VECTOR) - before[cpu];
}

static unsigned received_total(const unsigned *before)
{
	unsigned sum = 0;

	for (int i = 0; i < NCPU; i++)
		sum += received(before, i);
	return sum;
}

/*
 * CPU 'from' sends one IPI; 'want' has bit i set for each CPU that must
 * get it.  Every CPU's count must then have moved by exactly 0 or 1.
 */
static void check(int from, uint32_t low, uint32_t dest, unsigned want,
		  const char *what)
{
	unsigned before[NCPU], count = 0;
	struct ipi ipi = { low, dest };
	bool exact = true;

	for (int i = 0; i < NCPU; i++) {
		before[i] = irq_count(i, VECTOR);
		count += (want >> i) & 1;
	}
	on_cpu(from, send, &ipi);
	wait_until(received_total(before) >= count, TIMEOUT_MS);
	mdelay(SETTLE_MS);
	for (int i = 0; i < NCPU; i++)
		exact &= received(before, i) == ((want >> i) & 1);
	ok(exact, "%s: %s (ICR %#x, destination %#x) from CPU %d: CPUs 0/1/2 got %u/%u/%u, want %u/%u/%u",
	   apic_mode_name(), what, low, dest, from,
	   received(before, 0), received(before, 1), received(before, 2),
	   want & 1, (want >> 1) & 1, (want >> 2) & 1);
}

/* xAPIC: flat logical model, CPU i answers to logical bit i. */
static void set_flat_ldr(void *arg)
{
	(void)arg;
	apic_write(APIC_DFR, APIC_DFR_FLAT);
	apic_write(APIC_LDR, (1u << smp_id()) << 24);
	STORE(&ldr[smp_id()], apic_read(APIC_LDR));
}

/* x2APIC: the LDR is read-only, derived from the x2APIC ID. */
static void read_ldr(void *arg)
{
	(void)arg;
	STORE(&ldr[smp_id()], apic_read(APIC_LDR));
}

static void test_logical(void)
{
	uint32_t both, none;

	if (apic_mode_x2()) {
		for (int i = 0; i < NCPU; i++)
			on_cpu(i, read_ldr, NULL);
		/* Cluster in bits 31:16, a bit per member in 15:0. */
		if (!ok(ldr[0] >> 16 == ldr[2] >> 16,
			"x2APIC: CPUs 0 and 2 are in one logical cluster (LDR %#x, %#x)",
			ldr[0], ldr[2]))
			return;
		both = (ldr[0] & 0xffff0000u) | (ldr[0] & 0xffff) | (ldr[2] & 0xffff);
		none = ((ldr[0] >> 16) + 1) << 16 | 0xffff;
	} else {
		for (int i = 0; i < NCPU; i++)
			on_cpu(i, set_flat_ldr, NULL);
		ok(ldr[0] == 1u << 24 && ldr[1] == 2u << 24 && ldr[2] == 4u << 24,
		   "xAPIC: flat logical IDs set (LDR %#x, %#x, %#x)", ldr[0], ldr[1], ldr[2]);
		both = 0x05;
		none = 0x80;
	}
	check(1, APIC_DEST_LOGICAL | FIXED, both, 0x5, "logical destination of CPUs 0 and 2");
	check(0, APIC_DEST_LOGICAL | FIXED, none, 0x0, "logical destination matching no CPU");
}

int main(void)
{
	uint32_t broadcast;

	if (cpu_count() != NCPU)
		bail_out("needs %d CPUs, has %d", NCPU, cpu_count());
	if (!apic_mode_init())
		return tap_done();
	count_irqs(VECTOR, VECTOR);
	broadcast = apic_mode_x2() ? 0xffffffffu : 0xff;

	check(1, APIC_DEST_SELF | FIXED, 0, 0x2, "shorthand self");
	check(0, APIC_DEST_ALLINC | FIXED, 0, 0x7, "shorthand all including self");
	check(2, APIC_DEST_ALLBUT | FIXED, 0, 0x3, "shorthand all excluding self");
	for (int i = 0; i < NCPU; i++)
		check((i + 1) % NCPU, APIC_DEST_PHYSICAL | FIXED, cpu_apic_id(i),
		      1u << i, "physical destination");
	check(1, APIC_DEST_PHYSICAL | FIXED, broadcast, 0x7, "physical broadcast");
	test_logical();
	return tap_done();
}
