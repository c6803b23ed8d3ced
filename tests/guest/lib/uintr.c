/* User interrupts: feature probe, configuration check, CR4 and the handler pointer. */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "processor.h"
#include "string.h"
#include "tap.h"
#include "uintr.h"

static void default_handler(struct uintr_frame *frame)
{
	(void)frame;
}

void (*volatile uintr_handler)(struct uintr_frame *frame) = default_handler;

bool uintr_supported(void)
{
	return cpuid(0).a >= 7 && (cpuid_count(7, 0).d & CPUID_7_0_EDX_UINTR);
}

uint64_t upid_ndst(uint32_t id)
{
	return x2apic_enabled() ? UPID_NDST_X2APIC(id) : UPID_NDST_XAPIC(id);
}

int uintr_expected(void)
{
	const char *want = arg_get("uintr");
	bool has = uintr_supported();

	if (!want || (strcmp(want, "0") && strcmp(want, "1")))
		bail_out("this test needs uintr=0 or uintr=1 on the command line");
	if (!ok(has == !strcmp(want, "1"),
		"CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) is %s as the command line says, got %d",
		want, has))
		return -1;
	return has;
}

void uintr_set_cr4(bool on)
{
	uint64_t cr4 = read_cr4();
	int vec;

	cr4 = on ? cr4 | X86_CR4_UINTR : cr4 & ~X86_CR4_UINTR;
	vec = asm_safe("mov %0, %%cr4", "r"(cr4));
	if (vec != -1 || read_cr4() != cr4)
		bail_out("cannot %s CR4.UINTR: vector %d, CR4 %#lx",
			 on ? "set" : "clear", vec, read_cr4());
}

void uintr_setup_thread(struct upid *pd, struct uitte *uitt,
			uint32_t uittsz, uint8_t uinv)
{
	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(uinv, uittsz));
	wrmsr(MSR_IA32_UINTR_PD, (uintptr_t)pd);
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)uintr_entry);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, 128);
	wrmsr(MSR_IA32_UINTR_RR, 0);
	wrmsr(MSR_IA32_UINTR_TT, (uintptr_t)uitt | 1);
}

struct canon_bounds canon_bounds(bool la57)
{
	struct canon_bounds c;

	c.bits = la57 ? 57 : 48;
	c.lo_max = (1ul << (c.bits - 1)) - 0x100;
	c.hi_min = ~0ul << (c.bits - 1);
	c.above_lo = 1ul << (c.bits - 1);
	c.below_hi = c.hi_min - 0x100;
	return c;
}
