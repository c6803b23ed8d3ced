/* Harness self-test: every CPU comes up and runs on_cpu() requests. */
#include "apic.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"

struct whoami {
	int id;
	uint32_t apic_id;
	int ring;
};

static struct whoami seen[MAX_CPUS];

static void record(void *arg)
{
	struct whoami *w = arg;

	w->id = smp_id();
	w->apic_id = apic_id();
	w->ring = read_cs() & 3;
}

static void test_on_cpu(void)
{
	for (int cpu = 0; cpu < cpu_count(); cpu++) {
		struct whoami w = { .id = -1 };

		on_cpu(cpu, record, &w);
		ok(w.id == cpu && w.apic_id == cpu_apic_id(cpu) && w.ring == 0,
		   "on_cpu(%d) runs in ring 0 on CPU %d with APIC ID %u, got CPU %d APIC ID %u ring %d",
		   cpu, cpu, cpu_apic_id(cpu), w.id, w.apic_id, w.ring);
	}
}

static bool all_recorded(int n)
{
	for (int cpu = 0; cpu < n; cpu++)
		if (__atomic_load_n(&seen[cpu].id, __ATOMIC_ACQUIRE) != cpu)
			return false;
	return true;
}

static void test_on_cpu_async(void)
{
	int n = cpu_count();
	bool met;

	for (int cpu = 0; cpu < n; cpu++)
		seen[cpu].id = -1;
	for (int cpu = 0; cpu < n; cpu++)
		on_cpu_async(cpu, record, &seen[cpu]);
	met = wait_until(all_recorded(n), 1000);
	ok(met, "on_cpu_async() on all %d CPUs completes on each target%s", n,
	   met ? "" : " - timeout");
}

int main(void)
{
	diag("%d CPUs online", cpu_count());
	test_on_cpu();
	test_on_cpu_async();
	return tap_done();
}
