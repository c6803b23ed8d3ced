/*
 * CPUID.(EAX=7,ECX=0):EDX[5] advertises user interrupts (UINTR).
 * The command line says what to expect: expect=1 or expect=0.
 */
#include "args.h"
#include "processor.h"
#include "string.h"
#include "tap.h"

#define CPUID_7_0_EDX_UINTR	(1u << 5)

int main(void)
{
	const char *expect = arg_get("expect");
	uint32_t max_leaf = cpuid(0).a;
	struct cpuid leaf7;
	bool want, has;

	if (!expect || (strcmp(expect, "0") && strcmp(expect, "1")))
		bail_out("cpuid_uintr needs expect=0 or expect=1 on the command line");
	want = !strcmp(expect, "1");

	if (!ok(max_leaf >= 7, "CPUID max basic leaf %#x reaches leaf 7", max_leaf))
		return tap_done();
	leaf7 = cpuid_count(7, 0);
	diag("CPUID.(EAX=7,ECX=0): EAX=%#x EBX=%#x ECX=%#x EDX=%#x",
	     leaf7.a, leaf7.b, leaf7.c, leaf7.d);
	has = leaf7.d & CPUID_7_0_EDX_UINTR;
	ok(has == want, "CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) is %d, expected %d", has, want);
	return tap_done();
}
