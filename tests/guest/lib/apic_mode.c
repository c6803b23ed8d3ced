/* apic=xapic|x2: the local APIC mode a test runs in (see apic.h). */
#include "apic.h"
#include "args.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"

static bool mode_x2;

bool apic_mode_x2(void)
{
	return mode_x2;
}

const char *apic_mode_name(void)
{
	return x2apic_enabled() ? "x2APIC" : "xAPIC";
}

static int switched[MAX_CPUS];
static uint32_t x2_id[MAX_CPUS];

static void switch_cpu(void *arg)
{
	(void)arg;
	if (enable_x2apic() && x2apic_enabled()) {
		x2_id[smp_id()] = apic_id();
		STORE(&switched[smp_id()], 1);
	} else {
		STORE(&switched[smp_id()], -1);
	}
}

bool apic_mode_init(void)
{
	const char *want = arg_get("apic");
	bool all = true;
	int n = cpu_count();

	if (!want || !strcmp(want, "xapic")) {
		mode_x2 = false;
		return true;
	}
	if (strcmp(want, "x2"))
		bail_out("apic=%s, expected apic=xapic or apic=x2", want);
	mode_x2 = true;
	if (!ok(x2apic_supported(),
		"apic=x2: CPUID.1:ECX[21] (x2APIC) is set, got %d", x2apic_supported()))
		return false;
	for (int c = 0; c < n; c++)
		on_cpu(c, switch_cpu, NULL);
	for (int c = 0; c < n; c++)
		all = all && LOAD(&switched[c]) == 1 && x2_id[c] == cpu_apic_id(c);
	return ok(all, "apic=x2: all %d CPU(s) switched to x2APIC mode (IA32_APIC_BASE.EXTD), "
		  "x2APIC IDs equal the xAPIC IDs (CPU 0: %d/%u, CPU %d: %d/%u)",
		  n, LOAD(&switched[0]), x2_id[0], n - 1, LOAD(&switched[n - 1]), x2_id[n - 1]);
}
