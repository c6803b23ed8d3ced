/*
 * User-interrupt (UINTR) architectural state: CR4.UINTR (bit 25) and the
 * MSRs IA32_UINTR_RR .. IA32_UINTR_TT (985H-98AH).
 *
 * Command line:
 *   uintr=0|1   CPUID.(EAX=7,ECX=0):EDX[5] the run expects (required)
 *   la57=0|1    CPUID.(EAX=7,ECX=0):ECX[16] the run expects (default 0);
 *               selects the linear-address width (57 or 48 bits) that the
 *               canonical checks use
 *
 * The CPUID bits are checked against the command line first, so a feature
 * that QEMU silently drops fails the run instead of testing the other branch.
 *
 * Each message names the rule it checks in brackets:
 *   [enum]     MSRs 985H-98AH and CR4.UINTR exist only if CPUID.(7,0):EDX[5]
 *   [cr4]      CR4.UINTR is bit 25; settable/clearable with UINTR, else
 *              reserved (MOV to CR4 raises #GP(0))
 *   [any-cr4]  the MSRs are accessible whatever CR4.UINTR says
 *   [rr]       IA32_UINTR_RR takes any 64-bit value
 *   [canon]    HANDLER, STACKADJUST, PD and TT must be canonical for the
 *              widest linear-address width the CPU enumerates (48, or 57
 *              with LA57), not for the current paging mode
 *   [misc]     IA32_UINTR_MISC: 31:0 UITTSZ, 39:32 UINV, 63:40 reserved
 *   [pd]       IA32_UINTR_PD: 5:0 reserved (64-byte aligned UPID)
 *   [tt]       IA32_UINTR_TT: bit 0 valid, 3:1 reserved, 63:4 address
 *   [readback] a successful WRMSR reads back exactly
 *   [no-write] a faulting WRMSR leaves the MSR unchanged
 *   [percpu]   the state belongs to each logical processor
 *   [reset]    RESET and INIT clear CR4.UINTR and all six MSRs
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "printf.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"

#define CPUID_7_0_ECX_LA57	(1u << 16)

#define REINIT_TIMEOUT_MS	2000
#define STRESS_ITERATIONS	2000

struct umsr {
	uint32_t index;
	const char *name;
	uint64_t sample;	/* a valid non-zero value */
};

static const struct umsr umsrs[] = {
	{ MSR_IA32_UINTR_RR,		"IA32_UINTR_RR",	  0x8000000000000021ul },
	{ MSR_IA32_UINTR_HANDLER,	"IA32_UINTR_HANDLER",	  0x0000000000401000ul },
	{ MSR_IA32_UINTR_STACKADJUST,	"IA32_UINTR_STACKADJUST", 0xffffffffffffff80ul },
	{ MSR_IA32_UINTR_MISC,		"IA32_UINTR_MISC",	  0x000000ec00000010ul },
	{ MSR_IA32_UINTR_PD,		"IA32_UINTR_PD",	  0x0000000000402040ul },
	{ MSR_IA32_UINTR_TT,		"IA32_UINTR_TT",	  0x0000000000403001ul },
};
#define NR_UMSRS	(sizeof(umsrs) / sizeof(umsrs[0]))

static const struct umsr *const RR = &umsrs[0];
static const struct umsr *const HANDLER = &umsrs[1];
static const struct umsr *const STACKADJUST = &umsrs[2];
static const struct umsr *const MISC = &umsrs[3];
static const struct umsr *const PD = &umsrs[4];
static const struct umsr *const TT = &umsrs[5];

/* Address values for the enumerated linear-address width. */
static struct canon_bounds canon;

/* ---- instruction wrappers that report the exception vector (-1: none) */

static int write_cr4_safe(uint64_t v)
{
	return asm_safe("mov %0, %%cr4", "r"(v));
}

static uint32_t fault_error(void)
{
	return last_fault()->error_code;
}

/* ---- building blocks */

/* WRMSR val succeeds and RDMSR returns val. */
static bool check_write(const char *ctx, const struct umsr *m, uint64_t val,
			const char *what, const char *rule)
{
	uint64_t got = ~val;
	int wvec = wrmsr_safe(m->index, val);
	int rvec = rdmsr_safe(m->index, &got);

	return ok(wvec == -1 && rvec == -1 && got == val,
		  "%s: WRMSR %s = %#lx (%s) succeeds and reads back [%s][readback], "
		  "got WRMSR vector %d, RDMSR vector %d value %#lx",
		  ctx, m->name, val, what, rule, wvec, rvec, got);
}

/* With prior in the MSR, WRMSR bad raises #GP(0) and prior stays. */
static bool check_reject(const char *ctx, const struct umsr *m, uint64_t prior,
			 uint64_t bad, const char *what, const char *rule)
{
	uint64_t after = ~prior;
	int pvec = wrmsr_safe(m->index, prior);
	int vec = wrmsr_safe(m->index, bad);
	uint32_t err = fault_error();
	int rvec = rdmsr_safe(m->index, &after);

	return ok(pvec == -1 && vec == GP_VECTOR && err == 0 && rvec == -1 &&
		  after == prior,
		  "%s: WRMSR %s = %#lx (%s) raises #GP(0) [%s] and leaves %#lx "
		  "[no-write], got vector %d error %#x, value %#lx (prior write vector %d)",
		  ctx, m->name, bad, what, rule, prior, vec, err, after, pvec);
}

static void clear_all(void)
{
	for (unsigned i = 0; i < NR_UMSRS; i++)
		wrmsr_safe(umsrs[i].index, 0);
}

/* ---- command line and enumeration */

static bool arg_bool(const char *key, bool required, bool dflt)
{
	const char *v = arg_get(key);

	if (!v) {
		if (required)
			bail_out("uintr_msr needs %s=0 or %s=1 on the command line", key, key);
		return dflt;
	}
	if (strcmp(v, "0") && strcmp(v, "1"))
		bail_out("uintr_msr: %s=%s, expected 0 or 1", key, v);
	return !strcmp(v, "1");
}

/* ---- reset state */

struct snapshot {
	int cpu;
	uint64_t cr4;
	int vec[NR_UMSRS];
	uint64_t val[NR_UMSRS];
};

static void take_snapshot(void *arg)
{
	struct snapshot *s = arg;

	s->cpu = smp_id();
	s->cr4 = read_cr4();
	for (unsigned i = 0; i < NR_UMSRS; i++)
		s->vec[i] = rdmsr_safe(umsrs[i].index, &s->val[i]);
}

static void check_zero_state(const struct snapshot *s, const char *when)
{
	bool all_zero = true;

	ok(!(s->cr4 & X86_CR4_UINTR),
	   "%s (CPU %d): CR4.UINTR is 0 [reset][cr4], got CR4 %#lx",
	   when, s->cpu, s->cr4);
	for (unsigned i = 0; i < NR_UMSRS; i++) {
		if (s->vec[i] != -1 || s->val[i] != 0) {
			all_zero = false;
			diag("%s: %s vector %d value %#lx", when, umsrs[i].name,
			     s->vec[i], s->val[i]);
		}
	}
	ok(all_zero, "%s (CPU %d): all six UINTR MSRs 985H-98AH read 0 [reset]",
	   when, s->cpu);
}

/* ---- feature present */

static void test_cr4_toggle(void)
{
	uint64_t cr4 = read_cr4();
	uint64_t other = cr4 & ~X86_CR4_UINTR;
	int vec;

	vec = write_cr4_safe(cr4 | X86_CR4_UINTR);
	cr4 = read_cr4();
	ok(vec == -1 && (cr4 & X86_CR4_UINTR) && (cr4 & ~X86_CR4_UINTR) == other,
	   "MOV to CR4 setting bit 25 (UINTR) succeeds and CR4 reads back with "
	   "bit 25 set and the other bits unchanged [cr4], got vector %d CR4 %#lx",
	   vec, cr4);
	vec = write_cr4_safe(cr4 & ~X86_CR4_UINTR);
	cr4 = read_cr4();
	ok(vec == -1 && cr4 == other,
	   "MOV to CR4 clearing bit 25 succeeds and CR4 reads back %#lx [cr4], "
	   "got vector %d CR4 %#lx", other, vec, cr4);
}

/* Checks of an address MSR: both canonical halves, both edges. */
static void test_addr_msr(const char *ctx, const struct umsr *m, uint64_t low_bits)
{
	char what[64];

	check_write(ctx, m, canon.lo_max | low_bits,
		    canon.bits == 48 ? "highest canonical lower half, 48-bit"
				     : "highest canonical lower half, 57-bit",
		    "canon");
	check_write(ctx, m, canon.hi_min | low_bits,
		    canon.bits == 48 ? "lowest canonical upper half, 48-bit"
				     : "lowest canonical upper half, 57-bit",
		    "canon");
	snprintf(what, sizeof(what), "bit %d set, non-canonical for %d bits",
		 canon.bits - 1, canon.bits);
	check_reject(ctx, m, m->sample, canon.above_lo | low_bits, what, "canon");
	snprintf(what, sizeof(what), "upper half below the %d-bit hole end",
		 canon.bits);
	check_reject(ctx, m, m->sample, canon.below_hi | low_bits, what, "canon");
}

static void test_msrs(bool cr4_uintr)
{
	const char *ctx = cr4_uintr ? "CR4.UINTR=1" : "CR4.UINTR=0";

	uintr_set_cr4(cr4_uintr);

	/* Plain sample values: accessible whatever CR4.UINTR says. */
	for (unsigned i = 0; i < NR_UMSRS; i++)
		check_write(ctx, &umsrs[i], umsrs[i].sample, "sample value", "any-cr4");

	/* IA32_UINTR_RR: any 64-bit value, canonical or not. */
	check_write(ctx, RR, ~0ul, "all ones", "rr");
	check_write(ctx, RR, canon.above_lo, "a non-canonical pattern", "rr");
	wrmsr_safe(RR->index, 0);	/* nothing pending from here on */

	/* Addresses. */
	test_addr_msr(ctx, HANDLER, 0);
	test_addr_msr(ctx, STACKADJUST, 0);
	check_reject(ctx, HANDLER, HANDLER->sample, 0x8000000000000000ul,
		     "only bit 63 set", "canon");

	/* IA32_UINTR_MISC */
	check_write(ctx, MISC, 0x000000fffffffffful, "UINV=0xff, UITTSZ=0xffffffff", "misc");
	check_reject(ctx, MISC, MISC->sample, MISC->sample | 1ul << 40,
		     "bit 40 set", "misc");
	check_reject(ctx, MISC, MISC->sample, MISC->sample | 1ul << 63,
		     "bit 63 set", "misc");
	check_reject(ctx, MISC, MISC->sample, 0xffffff0000000000ul,
		     "bits 63:40 set", "misc");

	/* IA32_UINTR_PD */
	test_addr_msr(ctx, PD, 0);
	check_reject(ctx, PD, PD->sample, PD->sample | 0x01, "bit 0 set", "pd");
	check_reject(ctx, PD, PD->sample, PD->sample | 0x20, "bit 5 set", "pd");

	/* IA32_UINTR_TT */
	test_addr_msr(ctx, TT, 1);
	check_write(ctx, TT, TT->sample & ~1ul, "valid bit 0 clear", "tt");
	for (int bit = 1; bit <= 3; bit++) {
		char what[32];

		snprintf(what, sizeof(what), "bit %d set", bit);
		check_reject(ctx, TT, TT->sample, TT->sample | 1ul << bit, what, "tt");
	}
	check_write(ctx, TT, TT->sample | 0xfff0, "address bits 15:4 set", "tt");

	clear_all();
}

/*
 * The widest linear-address width counts, not the paging mode: this guest
 * runs with 4-level paging, yet with LA57 a 57-bit address is accepted.
 */
static void test_la57_vs_paging(void)
{
	const char *ctx = "LA57 CPU, 4-level paging";

	ok(!(read_cr4() & (1ul << 12)), "%s: CR4.LA57 is 0 (the guest uses 4-level paging)", ctx);
	check_write(ctx, HANDLER, 0x0000800000000000ul,
		    "non-canonical for 48 bits only", "canon");
	check_write(ctx, PD, 0x00ff800000000040ul,
		    "non-canonical for 48 bits only", "canon");
	check_reject(ctx, TT, TT->sample, 0x0100000000000001ul,
		     "bit 56 set, non-canonical for 57 bits", "canon");
	clear_all();
}

/* ---- other logical processors */

struct ap_write {
	int cpu;
	int wvec, rvec;
	uint64_t val, got;
};

static void ap_write_handler(void *arg)
{
	struct ap_write *w = arg;

	w->cpu = smp_id();
	w->wvec = wrmsr_safe(MSR_IA32_UINTR_HANDLER, w->val);
	w->rvec = rdmsr_safe(MSR_IA32_UINTR_HANDLER, &w->got);
}

static void test_percpu(void)
{
	struct snapshot s;
	struct ap_write w = { .val = 0x00007f0000001000ul };
	uint64_t bsp_val = 0xffffffff81000000ul, got = 0;

	wrmsr_safe(MSR_IA32_UINTR_HANDLER, bsp_val);
	on_cpu(1, take_snapshot, &s);
	ok(s.vec[1] == -1 && s.val[1] == 0,
	   "IA32_UINTR_HANDLER written on CPU 0 still reads 0 on CPU 1 [percpu], "
	   "got vector %d value %#lx", s.vec[1], s.val[1]);
	on_cpu(1, ap_write_handler, &w);
	rdmsr_safe(MSR_IA32_UINTR_HANDLER, &got);
	ok(w.wvec == -1 && w.rvec == -1 && w.got == w.val && got == bsp_val,
	   "CPU %d writes and reads back its own IA32_UINTR_HANDLER %#lx while "
	   "CPU 0 keeps %#lx [percpu][readback], got CPU 1 vectors %d/%d value "
	   "%#lx, CPU 0 %#lx", w.cpu, w.val, bsp_val, w.wvec, w.rvec, w.got, got);
	w.val = 0;
	on_cpu(1, ap_write_handler, &w);
	clear_all();
}

/* Both CPUs write and read their MSRs at the same time (thread=multi). */
struct stress {
	uint64_t tag;
	int started, errors;
	uint64_t first_bad;
};

static void stress_loop(void *arg)
{
	struct stress *st = arg;
	uint64_t got;

	__atomic_store_n(&st->started, 1, __ATOMIC_RELEASE);
	for (uint64_t i = 0; i < STRESS_ITERATIONS; i++) {
		uint64_t rr = st->tag | i, h = (st->tag >> 16) | i << 6;

		if (wrmsr_safe(MSR_IA32_UINTR_RR, rr) != -1 ||
		    rdmsr_safe(MSR_IA32_UINTR_RR, &got) != -1 || got != rr ||
		    wrmsr_safe(MSR_IA32_UINTR_HANDLER, h) != -1 ||
		    rdmsr_safe(MSR_IA32_UINTR_HANDLER, &got) != -1 || got != h) {
			if (!st->errors++)
				st->first_bad = i;
		}
	}
	wrmsr_safe(MSR_IA32_UINTR_RR, 0);
	wrmsr_safe(MSR_IA32_UINTR_HANDLER, 0);
}

static void nothing(void *arg)
{
	(void)arg;
}

static void test_concurrent(void)
{
	struct stress ap = { .tag = 0x5a00000000000000ul };
	struct stress bsp = { .tag = 0x3c00000000000000ul };

	on_cpu_async(1, stress_loop, &ap);
	wait_until(__atomic_load_n(&ap.started, __ATOMIC_ACQUIRE), 1000);
	stress_loop(&bsp);
	on_cpu(1, nothing, NULL);	/* returns once the AP's loop is done */
	ok(ap.errors == 0 && bsp.errors == 0,
	   "%d concurrent WRMSR/RDMSR rounds of IA32_UINTR_RR and _HANDLER on "
	   "CPU 0 and CPU 1 each read back their own values [percpu][readback], "
	   "got %d errors on CPU 0 (first %ld), %d on CPU 1 (first %ld)",
	   STRESS_ITERATIONS, bsp.errors, (long)bsp.first_bad, ap.errors,
	   (long)ap.first_bad);
}

/* Give the AP non-zero state everywhere, then INIT-SIPI it. */
static void ap_fill(void *arg)
{
	struct snapshot *s = arg;

	write_cr4_safe(read_cr4() | X86_CR4_UINTR);
	for (unsigned i = 0; i < NR_UMSRS; i++)
		wrmsr_safe(umsrs[i].index, umsrs[i].sample);
	take_snapshot(s);
}

static void test_init(void)
{
	struct snapshot before, after;
	bool filled = true;
	uint32_t apic = cpu_apic_id(1);
	int new_id = cpu_count();	/* the AP takes the next free id */
	struct percpu *p;

	if (new_id >= MAX_CPUS) {
		skip("no free per-CPU slot to bring CPU 1 back", "INIT clears UINTR state");
		return;
	}
	p = &percpu[new_id];

	on_cpu(1, ap_fill, &before);
	for (unsigned i = 0; i < NR_UMSRS; i++)
		filled &= before.vec[i] == -1 && before.val[i] == umsrs[i].sample;
	if (!ok(filled && (before.cr4 & X86_CR4_UINTR),
		"CPU 1 set CR4.UINTR and non-zero values in all six MSRs before INIT "
		"[cr4][readback], CR4 %#lx", before.cr4))
		return;

	apic_icr_write(APIC_DEST_PHYSICAL | APIC_INT_ASSERT | APIC_DM_INIT, apic);
	mdelay(10);
	for (int i = 0; i < 2; i++) {
		apic_icr_write(APIC_DEST_PHYSICAL | APIC_DM_STARTUP |
			       TRAMPOLINE_ADDR >> 12, apic);
		udelay(200);
	}
	if (!ok(wait_until(__atomic_load_n(&p->apic_id, __ATOMIC_ACQUIRE) == apic,
			   REINIT_TIMEOUT_MS),
		"CPU 1 (APIC ID %u) comes back after INIT-SIPI-SIPI as CPU %d",
		apic, new_id))
		return;
	on_cpu(new_id, take_snapshot, &after);
	check_zero_state(&after, "CPU 1 after INIT-SIPI-SIPI, now");
}

/* ---- feature absent */

static void test_absent_msrs(const char *ctx)
{
	for (unsigned i = 0; i < NR_UMSRS; i++) {
		const struct umsr *m = &umsrs[i];
		uint64_t v;
		int vec = rdmsr_safe(m->index, &v);
		uint32_t err = fault_error();

		ok(vec == GP_VECTOR && err == 0,
		   "%s: RDMSR %s (%#x) raises #GP(0) without UINTR [enum], got vector %d error %#x",
		   ctx, m->name, m->index, vec, err);
		vec = wrmsr_safe(m->index, 0);
		err = fault_error();
		ok(vec == GP_VECTOR && err == 0,
		   "%s: WRMSR %s (%#x) = 0 raises #GP(0) without UINTR [enum], got vector %d error %#x",
		   ctx, m->name, m->index, vec, err);
	}
}

struct absent_ap {
	int cpu, bad;
};

static void ap_absent(void *arg)
{
	struct absent_ap *a = arg;
	uint64_t v;

	a->cpu = smp_id();
	for (unsigned i = 0; i < NR_UMSRS; i++) {
		if (rdmsr_safe(umsrs[i].index, &v) != GP_VECTOR || fault_error())
			a->bad++;
		if (wrmsr_safe(umsrs[i].index, umsrs[i].sample) != GP_VECTOR || fault_error())
			a->bad++;
	}
}

/*
 * Last: a QEMU that mishandles the reserved bit can take the CPU down.  With
 * 2 CPUs the check runs on CPU 1 under a timeout, so the run still reports.
 */
struct cr4_try {
	int cpu, done, vec;
	uint32_t err;
	uint64_t before, after;
};

static void cr4_reserved_here(void *arg)
{
	struct cr4_try *t = arg;

	t->cpu = smp_id();
	t->before = read_cr4();
	t->vec = write_cr4_safe(t->before | X86_CR4_UINTR);
	t->err = fault_error();
	t->after = read_cr4();
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
}

static void test_cr4_reserved(void)
{
	struct cr4_try t = { .vec = -1 };

	if (cpu_count() >= 2) {
		on_cpu_async(1, cr4_reserved_here, &t);
		if (!wait_until(__atomic_load_n(&t.done, __ATOMIC_ACQUIRE), 2000)) {
			ok(false, "CPU 1: MOV to CR4 setting bit 25 without UINTR raises #GP(0) "
			   "[cr4][enum], got no return within 2 s (no #GP delivered)");
			return;
		}
	} else {
		diag("MOV to CR4 with reserved bit 25 next; a hang here means no #GP was delivered");
		cr4_reserved_here(&t);
	}
	ok(t.vec == GP_VECTOR && t.err == 0 && t.after == t.before,
	   "CPU %d: MOV to CR4 setting bit 25 without UINTR raises #GP(0) and CR4 stays %#lx "
	   "[cr4][enum], got vector %d error %#x CR4 %#lx",
	   t.cpu, t.before, t.vec, t.err, t.after);
}

int main(void)
{
	bool want_uintr = arg_bool("uintr", true, false);
	bool want_la57 = arg_bool("la57", false, false);
	struct cpuid leaf7;
	bool has_uintr, has_la57;
	struct snapshot boot;

	/* The BSP's state as it came out of RESET, before anything touches it. */
	take_snapshot(&boot);

	if (!ok(cpuid(0).a >= 7, "CPUID max basic leaf %#x reaches leaf 7", cpuid(0).a))
		return tap_done();
	leaf7 = cpuid_count(7, 0);
	diag("CPUID.(EAX=7,ECX=0): EAX=%#x EBX=%#x ECX=%#x EDX=%#x",
	     leaf7.a, leaf7.b, leaf7.c, leaf7.d);
	has_uintr = leaf7.d & CPUID_7_0_EDX_UINTR;
	has_la57 = leaf7.c & CPUID_7_0_ECX_LA57;
	ok(has_uintr == want_uintr,
	   "CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) is %d as the command line says [enum], got %d",
	   want_uintr, has_uintr);
	ok(has_la57 == want_la57,
	   "CPUID.(EAX=7,ECX=0):ECX[16] (LA57) is %d as the command line says [canon], got %d",
	   want_la57, has_la57);
	if (has_uintr != want_uintr || has_la57 != want_la57)
		return tap_done();

	canon = canon_bounds(has_la57);

	if (!has_uintr) {
		struct absent_ap a = { 0 };

		test_absent_msrs("CR4.UINTR=0");
		if (cpu_count() >= 2) {
			on_cpu(1, ap_absent, &a);
			ok(a.bad == 0,
			   "CPU %d: RDMSR and WRMSR of all six UINTR MSRs raise #GP(0) without UINTR [enum], "
			   "%d did not", a.cpu, a.bad);
		} else {
			skip("needs 2 CPUs", "RDMSR/WRMSR of UINTR MSRs raise #GP(0) on CPU 1");
		}
		test_cr4_reserved();
		return tap_done();
	}

	check_zero_state(&boot, "BSP at boot");
	if (cpu_count() >= 2) {
		struct snapshot ap;

		on_cpu(1, take_snapshot, &ap);
		check_zero_state(&ap, "AP after its boot INIT-SIPI");
	} else {
		skip("needs 2 CPUs", "AP at boot: CR4.UINTR and the UINTR MSRs read 0");
	}

	test_cr4_toggle();
	test_msrs(false);
	test_msrs(true);
	uintr_set_cr4(false);
	if (has_la57)
		test_la57_vs_paging();
	else
		skip("CPU without LA57 (la57=0)", "57-bit canonical rule under 4-level paging");

	if (cpu_count() >= 2) {
		test_percpu();
		test_concurrent();
		test_init();
	} else {
		skip("needs 2 CPUs", "UINTR state is per CPU");
		skip("needs 2 CPUs", "concurrent UINTR MSR access on two CPUs");
		skip("needs 2 CPUs", "INIT-SIPI of CPU 1 clears its UINTR state");
	}
	return tap_done();
}
