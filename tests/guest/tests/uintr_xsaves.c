/*
 * XSAVES/XRSTORS, IA32_XSS and the user-interrupt state component 14
 * (SDM Vol. 1 13.5.11, 13.11, 13.12; shared/spec/uintr-spec.md section 8).
 *
 * Command line (each 0 or 1; CPUID is checked against it first):
 *   xsaves=  CPUID.(0DH,1):EAX[3]   (required)
 *   uintr=   CPUID.(7,0):EDX[5]     (required)
 *   xsavec=  CPUID.(0DH,1):EAX[1]   (default 0)
 *   avx=     CPUID.1:ECX[28]        (default 0)  } user components that sit
 *   pku=     CPUID.(7,0):ECX[3]     (default 0)  } before component 14
 *   la57=    CPUID.(7,0):ECX[16]    (default 0): the canonical width
 *
 * Component 14 (48 bytes): HANDLER, STACKADJUST, MISC (IA32_UINTR_MISC with
 * UIF in bit 63), PD, RR, TT.  Rules, named in brackets in the messages:
 *   [cpuid]   enumeration: CPUID.(0DH,1):ECX[14], sub-leaf 14 = 48/0/1/0
 *   [xss]     IA32_XSS exists with XSAVES; WRMSR #GP(0) for bits that
 *             CPUID.(0DH,1):EDX:ECX does not list
 *   [save]    XSAVES stores the six MSRs and UIF, then clears UINV
 *   [rstr]    XRSTORS loads them, UIF from MISC[63]
 *   [uinv]    XRSTORS #GP if UINV != 0 before loading anything
 *   [valid]   XRSTORS #GP for non-canonical HANDLER/STACKADJUST/PD/TT
 *             (widest enumerated width), MISC[62:40], PD[5:0], TT[3:1]
 *   [init]    RFBM[14] = 1, XSTATE_BV[14] = 0: all six MSRs and UIF zeroed
 *   [xinuse]  XSTATE_BV[14] is 1 whenever some part of the state is not 0;
 *             QEMU (like Bochs) also reports 0 when all of it is 0
 *   [recog]   after XRSTORS a user interrupt is recognized iff RR != 0
 *   [atomic]  a faulting XRSTORS loads nothing (13.5.11 says so for
 *             component 14; QEMU promises it for the whole instruction)
 */
#include "args.h"
#include "desc.h"
#include "paging.h"
#include "printf.h"
#include "processor.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"
#include "xsave.h"

#define CPUID_7_0_ECX_LA57	(1u << 16)
#define MISC_UIF		(1ul << 63)
#define MISC_UINV_MASK		(0xfful << 32)
#define AREA_SIZE		4096
#define STACKADJUST		0x80ul

static uint8_t area_a[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_b[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_c[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_u1[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_u2[AREA_SIZE] __attribute__((aligned(4096)));

static char user_stack[8192] __attribute__((aligned(16)));
#define USER_STACK_TOP	(user_stack + sizeof(user_stack))

static bool has_xsaves, has_uintr, has_xsavec, has_avx, has_pku, has_la57;
static uint64_t xcr0;			/* user components enabled */
static struct vregs vr_known, vr_other;

static struct canon_bounds canon;

/* ---- small helpers */

static uint32_t gp_err(void)
{
	return last_fault()->error_code;
}

static void set_xss(uint64_t v)
{
	int vec = wrmsr_safe(MSR_IA32_XSS, v);

	if (vec != -1)
		bail_out("WRMSR IA32_XSS = %#lx raised vector %d", v, vec);
}

/* ---- the user-interrupt state */

struct ust {
	uint64_t handler, sa, misc, pd, rr, tt;
	int uif;
};

static const char *const field_name[6] = {
	"HANDLER", "STACKADJUST", "MISC", "PD", "RR", "TT"
};

static const uint32_t field_msr[6] = {
	MSR_IA32_UINTR_HANDLER, MSR_IA32_UINTR_STACKADJUST, MSR_IA32_UINTR_MISC,
	MSR_IA32_UINTR_PD, MSR_IA32_UINTR_RR, MSR_IA32_UINTR_TT,
};

static uint64_t *ufield(struct ust *u, int k)
{
	uint64_t *f[6] = { &u->handler, &u->sa, &u->misc, &u->pd, &u->rr, &u->tt };

	return f[k];
}

/* Needs CR4.UINTR = 1 (TESTUI). */
static void read_ust(struct ust *u)
{
	for (int k = 0; k < 6; k++)
		if (rdmsr_safe(field_msr[k], ufield(u, k)) != -1)
			bail_out("RDMSR %#x failed", field_msr[k]);
	u->uif = testui();
}

/* Live state; u->misc must leave bit 63 clear. */
static void write_ust(const struct ust *u)
{
	struct ust v = *u;

	for (int k = 0; k < 6; k++)
		if (wrmsr_safe(field_msr[k], *ufield(&v, k)) != -1)
			bail_out("WRMSR %s = %#lx failed", field_name[k], *ufield(&v, k));
	if (u->uif)
		stui();
	else
		clui();
}

static const char *ust_diff(const struct ust *a, const struct ust *b)
{
	static char why[96];

	for (int k = 0; k < 6; k++) {
		uint64_t x = *ufield((struct ust *)a, k), y = *ufield((struct ust *)b, k);

		if (x != y) {
			snprintf(why, sizeof(why), "%s %#lx, want %#lx", field_name[k], x, y);
			return why;
		}
	}
	if (a->uif != b->uif) {
		snprintf(why, sizeof(why), "UIF %d, want %d", a->uif, b->uif);
		return why;
	}
	return NULL;
}

/* Valid sample states. */
static const struct ust S1 = {
	.handler = 0x00007f0000401000ul, .sa = 0xffffffffffffff80ul,
	.misc = UINTR_MISC(0xec, 0x10), .pd = 0x0000000000402040ul,
	.rr = 0x8000000000000021ul, .tt = 0x0000000000403001ul, .uif = 1,
};
static const struct ust S2 = {
	.handler = 0xffff800000123000ul, .sa = 0x0000000000002001ul,
	.misc = UINTR_MISC(0x21, 0x3), .pd = 0x00007ffffffff0c0ul,
	.rr = 0x0000000100000004ul, .tt = 0x00007fffffff0ff1ul, .uif = 1,
};

/* S1 with UINV = 0, as XRSTORS needs it live. */
static const struct ust S1N = {
	.handler = 0x00007f0000401000ul, .sa = 0xffffffffffffff80ul,
	.misc = UINTR_MISC(0, 0x10), .pd = 0x0000000000402040ul,
	.rr = 0x8000000000000021ul, .tt = 0x0000000000403001ul, .uif = 1,
};

static struct ust no_uinv(struct ust u)
{
	u.misc &= ~MISC_UINV_MASK;
	return u;
}

/* Component 14 of a compacted area. */
static uint64_t *c14(uint8_t *area)
{
	return (uint64_t *)(area + xsave_compacted_offset(xs_q(area, XS_XCOMP_BV),
							  XFEATURE_UINTR));
}

static void put_c14(uint8_t *area, const struct ust *u)
{
	uint64_t *c = c14(area);

	c[0] = u->handler;
	c[1] = u->sa;
	c[2] = (u->misc & ~MISC_UIF) | (u->uif ? MISC_UIF : 0);
	c[3] = u->pd;
	c[4] = u->rr;
	c[5] = u->tt;
}

/* ---- user components, to see that a faulting XRSTORS loads none */

static void user_known(void)
{
	x87_load_sample(0x0e7f);
	vregs_load(&vr_known, has_avx);
	mxcsr_write_safe(0x3f81);
	if (has_pku)
		pkru_write(0x5555555c);
}

static void user_other(void)
{
	x87_init();
	vregs_load(&vr_other, has_avx);
	mxcsr_write_safe(0x7f80);
	if (has_pku)
		pkru_write(0xf0);
}

static void user_snapshot(uint8_t *dst)
{
	memset(dst, 0, AREA_SIZE);
	if (xsave_safe(dst, xcr0) != -1)
		bail_out("XSAVE failed");
}

static bool user_same(const uint8_t *x, const uint8_t *y)
{
	return !memcmp(x, y, xsave_standard_size(xcr0));
}

/*
 * A complete XRSTORS image: the user components in their "known" values
 * (saved with XSAVES), component 14 = u, XSTATE_BV[14] = 1.
 */
static void make_area(uint8_t *area, const struct ust *u)
{
	memset(area, 0, AREA_SIZE);
	user_known();
	if (xsaves_safe(area, ~0ul) != -1)
		bail_out("XSAVES failed");
	if (!(xs_q(area, XS_XCOMP_BV) & XMASK(XFEATURE_UINTR)))
		bail_out("XSAVES with IA32_XSS[14] = 1 left component 14 out of XCOMP_BV %#lx",
			 xs_q(area, XS_XCOMP_BV));
	put_c14(area, u);
	xs_set_q(area, XS_XSTATE_BV, xs_q(area, XS_XSTATE_BV) | XMASK(XFEATURE_UINTR));
}

/*
 * XRSTORS of area with the live UINTR state "live" and the user state
 * "other" must raise #GP(0) and change nothing.
 */
static void expect_rstors_gp(uint8_t *area, uint64_t rfbm, const struct ust *live,
			     const char *rule, const char *what)
{
	struct ust before, after;
	const char *d;
	bool same_user;
	int vec;

	write_ust(live);
	user_other();
	read_ust(&before);
	user_snapshot(area_u1);
	vec = xrstors_safe(area, rfbm);
	read_ust(&after);
	user_snapshot(area_u2);
	d = ust_diff(&after, &before);
	same_user = user_same(area_u1, area_u2);
	ok(vec == GP_VECTOR && gp_err() == 0 && !d && same_user,
	   "[%s][atomic] XRSTORS %s raises #GP(0) (SDM 13.5.11) and loads nothing: UINTR state kept (first change: %s), x87/SSE%s%s kept (%s); got vector %d error %#x",
	   rule, what, x_or(d), has_avx ? "/AVX" : "", has_pku ? "/PKRU" : "",
	   same_user ? "yes" : "NO", vec, gp_err());
}

/* ---- user-interrupt delivery after XRSTORS */

static volatile int nrec;
static volatile uint64_t rec_vector[4];

static void record(struct uintr_frame *f)
{
	int i = nrec;

	if (i < 4)
		rec_vector[i] = f->vector;
	nrec = i + 1;
}

static long user_first(void *arg)
{
	(void)arg;
	return nrec;
}

static long user_xrstors(void *arg)
{
	uint64_t m = ~0ul;

	asm volatile("xrstors64 (%0)" : : "r"(arg), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
	return 0;
}

static int run_user(long *ret)
{
	*ret = -1;
	return run_in_user(user_first, NULL, USER_STACK_TOP, ret, NULL);
}

static void test_recognition(void)
{
	struct ust live = { .handler = (uintptr_t)uintr_entry, .sa = STACKADJUST };
	struct ust img = live;
	long ret;
	int vec;

	uintr_handler = record;

	/* RR != 0 and UIF = 1 restored: delivered on entry to ring 3. */
	nrec = 0;
	write_ust(&live);
	img.rr = 1ul << 7;
	img.uif = 1;
	make_area(area_a, &img);
	vec = xrstors_safe(area_a, XMASK(XFEATURE_UINTR));
	for (int i = 0; i < 2000; i++)
		cpu_relax();
	ok(vec == -1 && nrec == 0 && rdmsr(MSR_IA32_UINTR_RR) == 1ul << 7,
	   "[recog] XRSTORS of RR = bit 7, UIF = 1 in ring 0: the interrupt stays pending, nothing is delivered at CPL 0, got vector %d, %d deliveries, RR %#lx",
	   vec, nrec, rdmsr(MSR_IA32_UINTR_RR));
	vec = run_user(&ret);
	ok(vec == -1 && ret == 1 && nrec == 1 && rec_vector[0] == 7,
	   "[recog] after XRSTORS loaded RR = bit 7 (UIF = 1, CR4.UINTR = 1) the user interrupt is recognized: vector 7 delivered before the first ring-3 instruction (SDM 13.5.11), got %ld seen by ring 3, %d deliveries, vector %lu (run vector %d)",
	   ret, nrec, rec_vector[0], vec);
	ok(rdmsr(MSR_IA32_UINTR_RR) == 0, "[recog] delivery cleared RR bit 7, RR %#lx",
	   rdmsr(MSR_IA32_UINTR_RR));

	/* RR = 0 restored over a pending interrupt: nothing delivered. */
	nrec = 0;
	live.rr = 1ul << 3;
	live.uif = 0;
	write_ust(&live);
	img.rr = 0;
	img.uif = 1;
	make_area(area_a, &img);
	vec = xrstors_safe(area_a, XMASK(XFEATURE_UINTR));
	ok(vec == -1 && testui() && rdmsr(MSR_IA32_UINTR_RR) == 0,
	   "[rstr] XRSTORS replaced RR = bit 3 by 0 and set UIF, got vector %d UIF %d RR %#lx",
	   vec, testui(), rdmsr(MSR_IA32_UINTR_RR));
	vec = run_user(&ret);
	ok(vec == -1 && ret == 0 && nrec == 0,
	   "[recog] after XRSTORS loaded RR = 0 no user interrupt is recognized: the earlier bit 3 is not delivered in ring 3 with UIF = 1 (SDM 13.5.11), got %d deliveries (vector %lu)",
	   nrec, nrec ? rec_vector[0] : 0);

	/* RR != 0 restored with UIF = 0: pending until STUI. */
	nrec = 0;
	live.rr = 0;
	write_ust(&live);
	img.rr = 1ul << 9;
	img.uif = 0;
	make_area(area_a, &img);
	vec = xrstors_safe(area_a, XMASK(XFEATURE_UINTR));
	run_user(&ret);
	ok(vec == -1 && ret == 0 && nrec == 0,
	   "[recog] XRSTORS of RR = bit 9 with UIF = 0: not delivered in ring 3 (UIF blocks), got %d deliveries", nrec);
	stui();
	vec = run_user(&ret);
	ok(vec == -1 && ret == 1 && nrec == 1 && rec_vector[0] == 9,
	   "[recog] ... and after STUI vector 9 is delivered on entry to ring 3, got %ld/%d deliveries vector %lu (run vector %d)",
	   ret, nrec, rec_vector[0], vec);

	/* Restored with CR4.UINTR = 0: recognized once CR4.UINTR is set. */
	nrec = 0;
	live.rr = 0;
	live.uif = 0;
	write_ust(&live);
	img.rr = 1ul << 11;
	img.uif = 1;
	make_area(area_a, &img);
	uintr_set_cr4(false);
	vec = xrstors_safe(area_a, XMASK(XFEATURE_UINTR));
	run_user(&ret);
	ok(vec == -1 && ret == 0 && nrec == 0,
	   "[recog] XRSTORS of RR = bit 11, UIF = 1 with CR4.UINTR = 0: nothing delivered in ring 3 (delivery needs CR4.UINTR), got %d deliveries", nrec);
	uintr_set_cr4(true);
	if (!testui()) {
		diag("UIF read 0 after CR4.UINTR was cleared and set again");
		stui();
	}
	vec = run_user(&ret);
	ok(vec == -1 && ret == 1 && nrec == 1 && rec_vector[0] == 11,
	   "[recog] ... and once CR4.UINTR is set, vector 11 is delivered on entry to ring 3, got %ld/%d deliveries vector %lu (run vector %d)",
	   ret, nrec, rec_vector[0], vec);

	/* Init over a pending interrupt: recognition ends. */
	nrec = 0;
	live.rr = 1ul << 5;
	live.uif = 1;
	write_ust(&live);
	make_area(area_a, &img);
	xs_set_q(area_a, XS_XSTATE_BV, xs_q(area_a, XS_XSTATE_BV) & ~XMASK(XFEATURE_UINTR));
	vec = xrstors_safe(area_a, XMASK(XFEATURE_UINTR));
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)uintr_entry);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, STACKADJUST);
	stui();
	run_user(&ret);
	ok(vec == -1 && ret == 0 && nrec == 0,
	   "[recog][init] XRSTORS with XSTATE_BV[14] = 0 over a pending bit 5 zeroes RR: nothing is delivered in ring 3 afterwards, got %d deliveries (vector %lu)",
	   nrec, nrec ? rec_vector[0] : 0);

	clui();
	write_ust(&(struct ust){ 0 });
}

/* ---- the tests */

static void test_enumeration(void)
{
	struct cpuid d1 = cpuid_count(0xd, 1), d14 = cpuid_count(0xd, 14), d0 = cpuid_count(0xd, 0);
	int vec;

	ok(!!(d1.c & XMASK(XFEATURE_UINTR)) == has_uintr,
	   "[cpuid] CPUID.(0DH,1):ECX[14] (IA32_XSS[14] supported) = %d with uintr=%d (SDM 13.5.11), got ECX %#x",
	   has_uintr, has_uintr, d1.c);
	if (has_uintr)
		ok(d14.a == 48 && d14.b == 0 && d14.c == 1 && d14.d == 0,
		   "[cpuid] CPUID.(0DH,14) = EAX 48 (size), EBX 0 (no standard offset), ECX 1 (supervisor, not 64-byte aligned), EDX 0, got %#x %#x %#x %#x",
		   d14.a, d14.b, d14.c, d14.d);
	else
		ok(!d14.a && !d14.b && !d14.c && !d14.d,
		   "[cpuid] without UINTR, CPUID.(0DH,14) is all zero (component not supported), got %#x %#x %#x %#x",
		   d14.a, d14.b, d14.c, d14.d);
	ok(!(d0.a & XMASK(XFEATURE_UINTR)),
	   "[cpuid] CPUID.(0DH,0):EAX[14] = 0: component 14 is a supervisor component, not an XCR0 bit, got EAX %#x", d0.a);
	vec = xsetbv_safe(0, xcr0 | XMASK(XFEATURE_UINTR));
	ok(vec == GP_VECTOR,
	   "[cpuid] XSETBV with XCR0[14] = 1 raises #GP (supervisor bits are reserved in XCR0, SDM 13.3), got vector %d",
	   vec);
}

static void test_xss(void)
{
	uint64_t sup = xsave_xss_supported(), v = ~0ul, got;
	int vec, bad = 0, first_bad = -1;

	vec = rdmsr_safe(MSR_IA32_XSS, &v);
	ok(vec == -1 && v == 0, "[xss] RDMSR IA32_XSS (DA0H) works with XSAVES and reads 0 after reset, got vector %d value %#lx",
	   vec, v);
	if (sup & ~XMASK(XFEATURE_UINTR))
		diag("CPUID.(0DH,1):EDX:ECX also lists IA32_XSS bits %#lx", sup & ~XMASK(XFEATURE_UINTR));

	vec = wrmsr_safe(MSR_IA32_XSS, XMASK(XFEATURE_UINTR));
	rdmsr_safe(MSR_IA32_XSS, &got);
	if (has_uintr)
		ok(vec == -1 && got == XMASK(XFEATURE_UINTR),
		   "[xss] WRMSR IA32_XSS = bit 14 succeeds with UINTR and reads back, got vector %d value %#lx", vec, got);
	else
		ok(vec == GP_VECTOR && gp_err() == 0 && got == 0,
		   "[xss] WRMSR IA32_XSS = bit 14 raises #GP(0) without UINTR (not in CPUID.(0DH,1):ECX) and IA32_XSS stays 0, got vector %d error %#x value %#lx",
		   vec, gp_err(), got);

	set_xss(0);
	for (int b = 0; b < 64; b++) {
		if (sup & XMASK(b))
			continue;
		vec = wrmsr_safe(MSR_IA32_XSS, XMASK(b));
		rdmsr_safe(MSR_IA32_XSS, &got);
		if (vec != GP_VECTOR || gp_err() != 0 || got != 0) {
			if (!bad++)
				first_bad = b;
			diag("WRMSR IA32_XSS bit %d: vector %d error %#x, reads %#lx", b, vec, gp_err(), got);
			set_xss(0);
		}
	}
	ok(!bad, "[xss] WRMSR IA32_XSS with any single bit that CPUID.(0DH,1):EDX:ECX = %#lx does not list raises #GP(0) and leaves 0 (SDM 13.3), %d bits misbehave (first %d)",
	   sup, bad, first_bad);

	if (has_uintr) {
		uint32_t before, after;

		set_xss(0);
		before = cpuid_count(0xd, 1).b;
		set_xss(XMASK(XFEATURE_UINTR));
		after = cpuid_count(0xd, 1).b;
		ok(before == xsave_compacted_size(xcr0) &&
		   after == xsave_compacted_size(xcr0 | XMASK(XFEATURE_UINTR)) && after == before + 48,
		   "[cpuid] CPUID.(0DH,1):EBX follows XCR0 | IA32_XSS: %u with IA32_XSS = 0, %u (+48) with IA32_XSS[14] = 1 (SDM 13.2), got %u and %u",
		   xsave_compacted_size(xcr0), xsave_compacted_size(xcr0 | XMASK(XFEATURE_UINTR)),
		   before, after);
	}
}

static void test_save(void)
{
	struct ust now, want;
	uint64_t *c, comp, bv;
	int vec;

	set_xss(XMASK(XFEATURE_UINTR));
	write_ust(&S1);
	memset(area_a, 0xa5, AREA_SIZE);
	vec = xsaves_safe(area_a, ~0ul);
	comp = xs_q(area_a, XS_XCOMP_BV);
	bv = xs_q(area_a, XS_XSTATE_BV);
	ok(vec == -1 && comp == (xcr0 | XMASK(XFEATURE_UINTR) | XCOMP_BV_COMPACTED) &&
	   (bv & XMASK(XFEATURE_UINTR)),
	   "[save] XSAVES with IA32_XSS[14] = 1: XCOMP_BV = %#lx, XSTATE_BV[14] = 1 (the state is not zero) (SDM 13.11), got %#lx %#lx (vector %d)",
	   xcr0 | XMASK(XFEATURE_UINTR) | XCOMP_BV_COMPACTED, comp, bv, vec);
	c = c14(area_a);
	diag("component 14 at offset %u", xsave_compacted_offset(comp, XFEATURE_UINTR));
	for (int k = 0; k < 6; k++) {
		uint64_t w = *ufield((struct ust *)&S1, k);

		if (k == 2)
			w |= MISC_UIF;
		ok(c[k] == w,
		   "[save] XSAVES stores %s = %#lx at byte %d of component 14%s (SDM 13.5.11), got %#lx",
		   field_name[k], w, 8 * k, k == 2 ? " with UIF = 1 in bit 63" : "", c[k]);
	}
	read_ust(&now);
	want = no_uinv(S1);
	ok(!ust_diff(&now, &want),
	   "[save] after saving, XSAVES cleared UINV (MISC %#lx -> %#lx) and changed nothing else, UIF still 1 (SDM 13.5.11), first difference: %s",
	   S1.misc, want.misc, x_or(ust_diff(&now, &want)));

	/* UIF = 0. */
	write_ust(&(struct ust){ .handler = S1.handler, .uif = 0 });
	memset(area_a, 0, AREA_SIZE);
	xsaves_safe(area_a, ~0ul);
	ok(!(c14(area_a)[2] & MISC_UIF) && c14(area_a)[0] == S1.handler,
	   "[save] with UIF = 0, XSAVES stores bit 63 of the MISC qword as 0, got %#lx", c14(area_a)[2]);

	/* Not requested: RFBM[14] = 0, then IA32_XSS[14] = 0. */
	for (int variant = 0; variant < 2; variant++) {
		uint64_t mask = variant ? ~0ul : ~XMASK(XFEATURE_UINTR);

		write_ust(&S1);
		if (variant)
			set_xss(0);
		memset(area_a, 0xa5, AREA_SIZE);
		xs_set_q(area_a, XS_XCOMP_BV, 0);
		vec = xsaves_safe(area_a, mask);
		read_ust(&now);
		ok(vec == -1 && xs_q(area_a, XS_XCOMP_BV) == (xcr0 | XCOMP_BV_COMPACTED) &&
		   all_byte(area_a + xsave_compacted_size(xcr0), 48, 0xa5) && !ust_diff(&now, &S1),
		   "[save] XSAVES with %s: component 14 not saved (XCOMP_BV %#lx, nothing written after byte %u) and UINV not cleared (SDM 13.11: RFBM = EDX:EAX & (XCR0 | IA32_XSS)), got XCOMP_BV %#lx, state change: %s (vector %d)",
		   variant ? "IA32_XSS[14] = 0" : "EDX:EAX[14] = 0", xcr0 | XCOMP_BV_COMPACTED,
		   xsave_compacted_size(xcr0), xs_q(area_a, XS_XCOMP_BV), x_or(ust_diff(&now, &S1)), vec);
	}
	set_xss(XMASK(XFEATURE_UINTR));

	if (has_xsavec) {
		write_ust(&S1);
		memset(area_a, 0, AREA_SIZE);
		vec = xsavec_safe(area_a, ~0ul);
		read_ust(&now);
		ok(vec == -1 && xs_q(area_a, XS_XCOMP_BV) == (xcr0 | XCOMP_BV_COMPACTED) && !ust_diff(&now, &S1),
		   "[save] XSAVEC never saves supervisor component 14 (RFBM = EDX:EAX & XCR0) nor clears UINV, got XCOMP_BV %#lx, state change: %s (vector %d)",
		   xs_q(area_a, XS_XCOMP_BV), x_or(ust_diff(&now, &S1)), vec);
	}

	/* The standard XSAVE and XGETBV(1) only know XCR0. */
	write_ust(&S1);
	memset(area_a, 0, AREA_SIZE);
	vec = xsave_safe(area_a, ~0ul);
	read_ust(&now);
	ok(vec == -1 && !(xs_q(area_a, XS_XSTATE_BV) & XMASK(XFEATURE_UINTR)) && !ust_diff(&now, &S1),
	   "[save] the standard XSAVE with EDX:EAX all ones and IA32_XSS[14] = 1 neither saves component 14 (XSTATE_BV[14] = 0) nor clears UINV (RFBM = EDX:EAX & XCR0, SDM 13.7), got XSTATE_BV %#lx, state change: %s (vector %d)",
	   xs_q(area_a, XS_XSTATE_BV), x_or(ust_diff(&now, &S1)), vec);
	if (cpuid_count(0xd, 1).a & CPUID_D_1_EAX_XGETBV1) {
		uint64_t v = 0;

		vec = xgetbv_safe(1, &v);
		ok(vec == -1 && !(v & XMASK(XFEATURE_UINTR)),
		   "[xinuse] XGETBV(1) returns XINUSE & XCR0, so bit 14 is 0 even with UINTR state in use (XGETBV page), got %#lx (vector %d)",
		   v, vec);
	}

	/* CR4.UINTR does not gate the XSAVE feature set. */
	write_ust(&S1);
	uintr_set_cr4(false);
	memset(area_a, 0, AREA_SIZE);
	vec = xsaves_safe(area_a, ~0ul);
	uintr_set_cr4(true);
	ok(vec == -1 && c14(area_a)[0] == S1.handler && c14(area_a)[4] == S1.rr &&
	   (rdmsr(MSR_IA32_UINTR_MISC) & MISC_UINV_MASK) == 0,
	   "[save] with CR4.UINTR = 0 XSAVES still saves component 14 and clears UINV (CR4.UINTR does not affect the XSAVE feature set, ISE 9.2), got HANDLER %#lx RR %#lx MISC MSR %#lx (vector %d)",
	   c14(area_a)[0], c14(area_a)[4], rdmsr(MSR_IA32_UINTR_MISC), vec);

	/* A #PF on the component: the instruction did not complete. */
	{
		uintptr_t page = TEST_REGION_BASE + 8 * PAGE_SIZE;
		uint8_t *area = (uint8_t *)(page + PAGE_SIZE - XS_EXT);
		struct fault *f = last_fault();

		map_page(page, alloc_page(), PTE_W);
		unmap_page(page + PAGE_SIZE);
		write_ust(&S1);
		vec = xsaves_safe(area, ~0ul);
		read_ust(&now);
		ok(vec == PF_VECTOR && f->cr2 >= page + PAGE_SIZE && !ust_diff(&now, &S1),
		   "[save] XSAVES that takes a #PF on the extended region (CR2 on the unmapped page) does not clear UINV: a faulting instruction changes no register state (SDM Vol. 3 6.5), got vector %d CR2 %#lx, state change: %s",
		   vec, f->cr2, x_or(ust_diff(&now, &S1)));
	}
	write_ust(&(struct ust){ 0 });
}

static void test_restore(void)
{
	struct ust now, want;
	const char *d;
	int vec;

	set_xss(XMASK(XFEATURE_UINTR));

	/* Plain load. */
	make_area(area_a, &S2);
	write_ust(&(struct ust){ .handler = S1.handler, .rr = S1.rr, .uif = 0 });
	vec = xrstors_safe(area_a, ~0ul);
	read_ust(&now);
	want = S2;
	d = ust_diff(&now, &want);
	ok(vec == -1 && !d,
	   "[rstr] XRSTORS loads HANDLER, STACKADJUST, MISC (UINV %#lx, UITTSZ %#lx), PD, RR, TT and UIF = MISC[63] = 1 (SDM 13.5.11), first difference: %s (vector %d)",
	   (S2.misc >> 32) & 0xff, S2.misc & 0xffffffff, x_or(d), vec);
	ok(!(rdmsr(MSR_IA32_UINTR_MISC) & MISC_UIF),
	   "[rstr] UIF is not part of the IA32_UINTR_MISC MSR after XRSTORS: RDMSR MISC bit 63 = 0, got %#lx",
	   rdmsr(MSR_IA32_UINTR_MISC));

	/* UINV != 0 now (0x21 loaded): XRSTORS must fault. */
	make_area(area_b, &S1);
	expect_rstors_gp(area_b, ~0ul, &S2, "uinv",
			 "with the live UINV = 0x21 != 0 and RFBM[14] = XSTATE_BV[14] = 1");
	xs_set_q(area_b, XS_XSTATE_BV, xs_q(area_b, XS_XSTATE_BV) & ~XMASK(XFEATURE_UINTR));
	expect_rstors_gp(area_b, ~0ul, &S2, "uinv",
			 "with the live UINV != 0, RFBM[14] = 1 and XSTATE_BV[14] = 0 (init requested)");

	/* RFBM[14] = 0: no check, user components load, UINTR kept. */
	make_area(area_b, &S1);
	write_ust(&S2);
	user_other();
	vec = xrstors_safe(area_b, ~XMASK(XFEATURE_UINTR));
	read_ust(&now);
	user_snapshot(area_u1);
	user_known();
	user_snapshot(area_u2);
	ok(vec == -1 && !ust_diff(&now, &S2) && user_same(area_u1, area_u2),
	   "[uinv] XRSTORS with RFBM[14] = 0 ignores the live UINV != 0, loads the user components and leaves the UINTR state alone, got vector %d, state change: %s, user state loaded: %s",
	   vec, x_or(ust_diff(&now, &S2)), user_same(area_u1, area_u2) ? "yes" : "NO");

	/* XSAVES clears UINV, after which XRSTORS works again. */
	write_ust(&S2);
	memset(area_c, 0, AREA_SIZE);
	xsaves_safe(area_c, ~0ul);
	vec = xrstors_safe(area_c, ~0ul);
	read_ust(&now);
	ok(vec == -1 && !ust_diff(&now, &S2),
	   "[save][rstr] XSAVES then XRSTORS of its own area: XSAVES cleared UINV so XRSTORS succeeds and restores UINV 0x21 with the rest, first difference: %s (vector %d)",
	   x_or(ust_diff(&now, &S2)), vec);
	write_ust(&(struct ust){ 0 });

	/* The UIF round trip. */
	write_ust(&S1N);
	stui();
	memset(area_c, 0, AREA_SIZE);
	xsaves_safe(area_c, ~0ul);
	clui();
	vec = xrstors_safe(area_c, ~0ul);
	ok(vec == -1 && (c14(area_c)[2] & MISC_UIF) && testui(),
	   "[rstr] STUI, XSAVES (MISC[63] = 1), CLUI, XRSTORS: TESTUI reads UIF = 1 again, got MISC %#lx UIF %d (vector %d)",
	   c14(area_c)[2], testui(), vec);
	clui();
	memset(area_c, 0, AREA_SIZE);
	xsaves_safe(area_c, ~0ul);
	stui();
	vec = xrstors_safe(area_c, ~0ul);
	ok(vec == -1 && !(c14(area_c)[2] & MISC_UIF) && !testui(),
	   "[rstr] CLUI, XSAVES (MISC[63] = 0), STUI, XRSTORS: TESTUI reads UIF = 0 again, got MISC %#lx UIF %d (vector %d)",
	   c14(area_c)[2], testui(), vec);

	/* CR4.UINTR does not gate XRSTORS either. */
	write_ust(&(struct ust){ 0 });
	make_area(area_b, &S2);
	uintr_set_cr4(false);
	vec = xrstors_safe(area_b, ~0ul);
	uintr_set_cr4(true);
	read_ust(&now);
	now.uif = S2.uif;	/* UIF is only readable with CR4.UINTR = 1 */
	ok(vec == -1 && !ust_diff(&now, &S2),
	   "[rstr] with CR4.UINTR = 0 XRSTORS still loads component 14 (CR4.UINTR does not affect the XSAVE feature set, ISE 9.2), first difference: %s (vector %d)",
	   x_or(ust_diff(&now, &S2)), vec);
	write_ust(&(struct ust){ 0 });

	/* The contents are validated only when they are loaded. */
	{
		struct ust bad = S2;

		bad.handler = canon.above_lo;
		bad.pd |= 1;
		make_area(area_b, &bad);
		xs_set_q(area_b, XS_XSTATE_BV, xs_q(area_b, XS_XSTATE_BV) & ~XMASK(XFEATURE_UINTR));
		write_ust(&S1N);
		vec = xrstors_safe(area_b, ~0ul);
		read_ust(&now);
		ok(vec == -1 && !ust_diff(&now, &(struct ust){ 0 }),
		   "[valid][init] XSTATE_BV[14] = 0: the invalid HANDLER/PD left in the area are not examined, XRSTORS initializes component 14, first non-zero: %s (vector %d)",
		   x_or(ust_diff(&now, &(struct ust){ 0 })), vec);
		make_area(area_b, &bad);
		write_ust(&S1);		/* UINV != 0 too */
		vec = xrstors_safe(area_b, ~XMASK(XFEATURE_UINTR));
		read_ust(&now);
		ok(vec == -1 && !ust_diff(&now, &S1),
		   "[valid] RFBM[14] = 0: an invalid component 14 in the area is neither examined nor loaded, got vector %d, state change: %s",
		   vec, x_or(ust_diff(&now, &S1)));
		make_area(area_b, &S2);
		xs_set_q(area_b, XS_XCOMP_BV, xs_q(area_b, XS_XCOMP_BV) & ~XMASK(XFEATURE_UINTR));
		expect_rstors_gp(area_b, ~0ul, &S1N, "xss",
				 "with XSTATE_BV[14] = 1 but XCOMP_BV[14] = 0 (SDM 13.12)");
	}

	/* Init. */
	for (int variant = 0; variant < 2; variant++) {
		make_area(area_b, &S2);
		xs_set_q(area_b, XS_XSTATE_BV, xs_q(area_b, XS_XSTATE_BV) & ~XMASK(XFEATURE_UINTR));
		if (variant)	/* component absent from the area altogether */
			xs_set_q(area_b, XS_XCOMP_BV, xs_q(area_b, XS_XCOMP_BV) & ~XMASK(XFEATURE_UINTR));
		write_ust(&S1N);
		vec = xrstors_safe(area_b, ~0ul);
		read_ust(&now);
		d = ust_diff(&now, &(struct ust){ 0 });
		ok(vec == -1 && !d,
		   "[init] XRSTORS with RFBM[14] = 1, XSTATE_BV[14] = 0%s puts component 14 in its initial configuration: all six MSRs 0 and UIF 0 (SDM 13.12), first non-zero: %s (vector %d)",
		   variant ? ", XCOMP_BV[14] = 0" : "", x_or(d), vec);
	}

	/* XRSTORS cannot name component 14 when IA32_XSS[14] = 0. */
	make_area(area_b, &S2);
	set_xss(0);
	expect_rstors_gp(area_b, ~0ul, &S1N, "xss",
			 "with XCOMP_BV[14] = 1 while IA32_XSS[14] = 0 (XCOMP_BV must be within XCR0 | IA32_XSS, SDM 13.12)");
	/* ... and does not touch it, even with UINV != 0. */
	memset(area_c, 0, AREA_SIZE);
	user_known();
	xsaves_safe(area_c, ~0ul);
	write_ust(&S1);
	vec = xrstors_safe(area_c, ~0ul);
	read_ust(&now);
	ok(vec == -1 && !ust_diff(&now, &S1),
	   "[xss] with IA32_XSS[14] = 0, XRSTORS (EDX:EAX all ones) neither checks UINV nor touches the UINTR state, got vector %d, state change: %s",
	   vec, x_or(ust_diff(&now, &S1)));
	set_xss(XMASK(XFEATURE_UINTR));
	write_ust(&(struct ust){ 0 });

	/* XRSTOR (not S) of an area holding component 14. */
	if (has_xsavec) {
		struct ust before;

		make_area(area_b, &S2);
		write_ust(&S1N);
		read_ust(&before);
		user_other();
		user_snapshot(area_u1);
		vec = xrstor_safe(area_b, ~0ul);
		read_ust(&now);
		user_snapshot(area_u2);
		ok(vec == GP_VECTOR && !ust_diff(&now, &before) && user_same(area_u1, area_u2),
		   "[xss] XRSTOR (not XRSTORS) of an area with XCOMP_BV[14] = 1 raises #GP (bit not in XCR0, SDM 13.8.2) and loads nothing, got vector %d, state change: %s",
		   vec, x_or(ust_diff(&now, &before)));
	}

	/* UINV loaded from the area is live: XRSTORS refuses, XSAVES clears it. */
	make_area(area_b, &(struct ust){ .misc = UINTR_MISC(0x77, 0) });
	write_ust(&(struct ust){ 0 });
	vec = xrstors_safe(area_b, ~0ul);
	ok(vec == -1 && rdmsr(MSR_IA32_UINTR_MISC) == UINTR_MISC(0x77, 0) &&
	   xrstors_safe(area_b, ~0ul) == GP_VECTOR,
	   "[uinv] XRSTORS loads UINV = 0x77 from the area, so a second XRSTORS raises #GP, got MISC %#lx (first vector %d)",
	   rdmsr(MSR_IA32_UINTR_MISC), vec);
	memset(area_c, 0, AREA_SIZE);
	xsaves_safe(area_c, ~0ul);
	ok(rdmsr(MSR_IA32_UINTR_MISC) == 0 && c14(area_c)[2] == UINTR_MISC(0x77, 0) &&
	   xrstors_safe(area_b, ~0ul) == -1,
	   "[save] XSAVES saves MISC %#lx and clears UINV, and then XRSTORS works, got MISC MSR %#lx saved %#lx",
	   UINTR_MISC(0x77, 0), rdmsr(MSR_IA32_UINTR_MISC), c14(area_c)[2]);
	memset(area_c, 0, AREA_SIZE);
	xsaves_safe(area_c, ~0ul);	/* UINV = 0 again */
	write_ust(&(struct ust){ 0 });

	/* CPL 3. */
	{
		struct fault f;
		struct ust before;

		/* Nothing pending: ring 3 must not take a user interrupt here. */
		struct ust live = S1N;

		live.rr = 0;
		live.uif = 0;
		make_area(area_b, &S2);
		write_ust(&live);
		read_ust(&before);
		vec = run_in_user(user_xrstors, area_b, USER_STACK_TOP, NULL, &f);
		read_ust(&now);
		ok(vec == GP_VECTOR && f.ring == 3 && f.error_code == 0 && !ust_diff(&now, &before),
		   "[cpl] XRSTORS at CPL 3 raises #GP(0) and loads no UINTR state (SDM 13.12), got vector %d ring %d error %#x, state change: %s",
		   vec, f.ring, f.error_code, x_or(ust_diff(&now, &before)));
		write_ust(&(struct ust){ 0 });
	}
}

static void test_valid(void)
{
	struct { int k; uint64_t v; const char *what; } bad[] = {
		{ 0, canon.above_lo, "HANDLER first non-canonical lower-half address" },
		{ 0, canon.below_hi, "HANDLER last non-canonical upper-half address" },
		{ 1, canon.above_lo | 1, "STACKADJUST non-canonical" },
		{ 1, canon.below_hi, "STACKADJUST non-canonical upper half" },
		{ 3, canon.above_lo, "PD non-canonical" },
		{ 3, S1.pd | 0x01, "PD bit 0 set" },
		{ 3, S1.pd | 0x20, "PD bit 5 set" },
		{ 5, canon.above_lo | 1, "TT non-canonical" },
		{ 5, S1.tt | 0x2, "TT bit 1 set" },
		{ 5, S1.tt | 0x8, "TT bit 3 set" },
		{ 2, UINTR_MISC(0, 5) | 1ul << 40, "MISC bit 40 set" },
		{ 2, UINTR_MISC(0, 5) | 1ul << 62, "MISC bit 62 set" },
		{ 2, UINTR_MISC(0, 5) | 0x7fffff0000000000ul, "MISC bits 62:40 set" },
	};
	struct { int k; uint64_t v; const char *what; } good[] = {
		{ 0, canon.lo_max, "HANDLER highest canonical lower-half address" },
		{ 0, canon.hi_min, "HANDLER lowest canonical upper-half address" },
		{ 1, canon.hi_min | 1, "STACKADJUST lowest canonical upper half, bit 0 set" },
		{ 3, canon.lo_max & ~0x3ful, "PD highest 64-byte aligned canonical address" },
		{ 4, canon.above_lo | 0x8000000000000001ul, "RR with a non-canonical pattern (any value is valid)" },
		{ 5, canon.hi_min | 0xff1, "TT upper half, valid bit, bits 15:4 set" },
		{ 2, UINTR_MISC(0, 0xffffffff) | MISC_UIF, "MISC UITTSZ all ones with UIF (bit 63)" },
	};
	struct ust img, now;
	char what[160];
	int vec;

	set_xss(XMASK(XFEATURE_UINTR));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		img = no_uinv(S2);
		*ufield(&img, bad[i].k) = bad[i].v;
		make_area(area_b, &img);
		snprintf(what, sizeof(what), "with %s (%#lx, %d-bit canonical)", bad[i].what, bad[i].v, canon.bits);
		expect_rstors_gp(area_b, ~0ul, &S1N, "valid", what);
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		img = no_uinv(S2);
		*ufield(&img, good[i].k) = good[i].v;
		if (good[i].k == 2) {
			img.uif = 1;
			img.misc &= ~MISC_UIF;
		}
		make_area(area_b, &img);
		write_ust(&S1N);
		vec = xrstors_safe(area_b, ~0ul);
		read_ust(&now);
		ok(vec == -1 && !ust_diff(&now, &img),
		   "[valid] XRSTORS accepts %s = %#lx (%d-bit canonical) and loads it, first difference: %s (vector %d)",
		   good[i].what, good[i].v, canon.bits, x_or(ust_diff(&now, &img)), vec);
	}
	if (has_la57) {
		img = no_uinv(S2);
		img.handler = 0x0000800000000000ul;
		img.pd = 0x00ff800000000040ul;
		make_area(area_b, &img);
		write_ust(&S1N);
		vec = xrstors_safe(area_b, ~0ul);
		read_ust(&now);
		ok(vec == -1 && !ust_diff(&now, &img),
		   "[valid] LA57 CPU with 4-level paging: HANDLER %#lx and PD %#lx (non-canonical for 48 bits only) are accepted, the widest enumerated width counts (SDM 13.5.11), first difference: %s (vector %d)",
		   img.handler, img.pd, x_or(ust_diff(&now, &img)), vec);
	}
	write_ust(&(struct ust){ 0 });
}

static void test_xinuse(void)
{
	struct one { int k; uint64_t v; const char *what; } ones[] = {
		{ 0, 0x1000, "HANDLER" }, { 1, 0x10, "STACKADJUST" },
		{ 2, UINTR_MISC(0, 1), "MISC.UITTSZ" }, { 2, UINTR_MISC(0x40, 0), "MISC.UINV" },
		{ 3, 0x40, "PD" }, { 4, 1ul << 63, "RR" }, { 5, 0x10, "TT" },
		{ -1, 0, "UIF" },
	};
	uint64_t off;
	int vec;

	set_xss(XMASK(XFEATURE_UINTR));
	write_ust(&(struct ust){ 0 });
	memset(area_a, 0xa5, AREA_SIZE);
	memset(area_a, 0, XS_EXT);
	vec = xsaves_safe(area_a, ~0ul);
	off = xsave_compacted_offset(xs_q(area_a, XS_XCOMP_BV), XFEATURE_UINTR);
	ok(vec == -1 && !(xs_q(area_a, XS_XSTATE_BV) & XMASK(XFEATURE_UINTR)) &&
	   all_byte(area_a + off, 48, 0xa5),
	   "[xinuse] all six MSRs and UIF are 0: XSAVES writes XSTATE_BV[14] = 0 and skips the component (XINUSE[14] = 0, SDM 13.6/13.11), got XSTATE_BV %#lx (vector %d)",
	   xs_q(area_a, XS_XSTATE_BV), vec);

	for (unsigned i = 0; i < sizeof(ones) / sizeof(ones[0]); i++) {
		struct ust u = { 0 };
		uint64_t *c;

		if (ones[i].k >= 0)
			*ufield(&u, ones[i].k) = ones[i].v;
		else
			u.uif = 1;
		write_ust(&u);
		memset(area_a, 0, AREA_SIZE);
		vec = xsaves_safe(area_a, ~0ul);
		c = c14(area_a);
		ok(vec == -1 && (xs_q(area_a, XS_XSTATE_BV) & XMASK(XFEATURE_UINTR)) &&
		   (ones[i].k >= 0 ? c[ones[i].k] == ones[i].v : c[2] == MISC_UIF),
		   "[xinuse] only %s is non-zero: XSAVES sets XSTATE_BV[14] and saves it (a component not in its initial state is in use, SDM 13.6), got XSTATE_BV %#lx (vector %d)",
		   ones[i].what, xs_q(area_a, XS_XSTATE_BV), vec);
	}
	write_ust(&(struct ust){ 0 });
}

/* XSAVES/XRSTORS/IA32_XSS absent. */
static void test_no_xsaves(void)
{
	uint64_t v;
	int vec;

	vec = rdmsr_safe(MSR_IA32_XSS, &v);
	ok(vec == GP_VECTOR && gp_err() == 0,
	   "[xss] without XSAVES, RDMSR IA32_XSS raises #GP(0) (the MSR does not exist), got vector %d error %#x",
	   vec, gp_err());
	vec = wrmsr_safe(MSR_IA32_XSS, has_uintr ? XMASK(XFEATURE_UINTR) : 0);
	ok(vec == GP_VECTOR && gp_err() == 0,
	   "[xss] without XSAVES, WRMSR IA32_XSS raises #GP(0), got vector %d error %#x",
	   vec, gp_err());
	vec = xsaves_safe(area_a, ~0ul);
	ok(vec == UD_VECTOR, "[ud] XSAVES raises #UD without CPUID.(0DH,1):EAX[3], got vector %d", vec);
	memset(area_a, 0, AREA_SIZE);
	xs_set_q(area_a, XS_XCOMP_BV, XCOMP_BV_COMPACTED | 3);
	vec = xrstors_safe(area_a, ~0ul);
	ok(vec == UD_VECTOR, "[ud] XRSTORS raises #UD without CPUID.(0DH,1):EAX[3], got vector %d", vec);
	ok(cpuid_count(0xd, 1).c == 0 && cpuid_count(0xd, 1).d == 0,
	   "[cpuid] without XSAVES, CPUID.(0DH,1):EDX:ECX lists no IA32_XSS bit (there is no IA32_XSS), got %#x:%#x",
	   cpuid_count(0xd, 1).d, cpuid_count(0xd, 1).c);
	ok(cpuid_count(0xd, 14).a == 0 && cpuid_count(0xd, 14).c == 0,
	   "[cpuid] without XSAVES, CPUID.(0DH,14) describes no component (nothing can save it), got EAX %#x ECX %#x",
	   cpuid_count(0xd, 14).a, cpuid_count(0xd, 14).c);
}

/* XSAVES with UINTR absent: component 14 cannot be named. */
static void test_no_uintr(void)
{
	int vec;

	memset(area_a, 0, AREA_SIZE);
	vec = xsaves_safe(area_a, ~0ul);
	ok(vec == -1 && xs_q(area_a, XS_XCOMP_BV) == (xcr0 | XCOMP_BV_COMPACTED),
	   "[save] without UINTR, XSAVES with EDX:EAX all ones saves XCOMP_BV = %#lx, got %#lx (vector %d)",
	   xcr0 | XCOMP_BV_COMPACTED, xs_q(area_a, XS_XCOMP_BV), vec);
	xs_set_q(area_a, XS_XCOMP_BV, xs_q(area_a, XS_XCOMP_BV) | XMASK(XFEATURE_UINTR));
	vec = xrstors_safe(area_a, ~0ul);
	ok(vec == GP_VECTOR && gp_err() == 0,
	   "[xss] without UINTR, XRSTORS of an area with XCOMP_BV[14] = 1 raises #GP(0) (not in XCR0 | IA32_XSS), got vector %d error %#x",
	   vec, gp_err());
}

int main(void)
{
	struct cpuid r1 = cpuid(1), r7 = cpuid_count(7, 0), d1;
	bool good = true;

	has_xsaves = arg_flag("xsaves", 1);
	has_uintr = arg_flag("uintr", 1);
	has_xsavec = arg_flag("xsavec", 0);
	has_avx = arg_flag("avx", 0);
	has_pku = arg_flag("pku", 0);
	has_la57 = arg_flag("la57", 0);

	if (!(r1.c & CPUID_1_ECX_XSAVE))
		bail_out("uintr_xsaves needs a CPU with XSAVE (-cpu ...,xsave=on)");
	d1 = cpuid_count(0xd, 1);
	good &= ok(!!(d1.a & CPUID_D_1_EAX_XSAVES) == has_xsaves,
		   "[cpuid] CPUID.(0DH,1):EAX[3] XSAVES = %d as the command line says, got %#x", has_xsaves, d1.a);
	good &= ok(!!(d1.a & CPUID_D_1_EAX_XSAVEC) == has_xsavec,
		   "[cpuid] CPUID.(0DH,1):EAX[1] XSAVEC = %d as the command line says, got %#x", has_xsavec, d1.a);
	good &= ok(uintr_supported() == has_uintr,
		   "[cpuid] CPUID.(7,0):EDX[5] UINTR = %d as the command line says, got %d", has_uintr, uintr_supported());
	good &= ok(!!(r1.c & CPUID_1_ECX_AVX) == has_avx,
		   "[cpuid] CPUID.1:ECX[28] AVX = %d as the command line says", has_avx);
	good &= ok(!!(r7.c & CPUID_7_0_ECX_PKU) == has_pku,
		   "[cpuid] CPUID.(7,0):ECX[3] PKU = %d as the command line says", has_pku);
	good &= ok(!!(r7.c & CPUID_7_0_ECX_LA57) == has_la57,
		   "[cpuid] CPUID.(7,0):ECX[16] LA57 = %d as the command line says", has_la57);
	if (!good)
		return tap_done();

	canon = canon_bounds(has_la57);

	if (xsave_set_cr4(true) != -1)
		bail_out("cannot set CR4.OSXSAVE");
	xcr0 = 3;
	if (has_avx)
		xcr0 |= XMASK(XFEATURE_YMM);
	if (has_pku) {
		uint64_t cr4 = read_cr4();

		xcr0 |= XMASK(XFEATURE_PKRU);
		if (asm_safe("mov %0, %%cr4", "r"(cr4 | X86_CR4_PKE)) != -1)
			bail_out("cannot set CR4.PKE");
	}
	if (xsetbv_safe(0, xcr0) != -1)
		bail_out("XSETBV XCR0 = %#lx failed", xcr0);
	xs_fill(&vr_known, sizeof(vr_known), 11);
	xs_fill(&vr_other, sizeof(vr_other), 12);

	if (!has_xsaves) {
		test_no_xsaves();
		return tap_done();
	}
	test_enumeration();
	test_xss();
	if (!has_uintr) {
		test_no_uintr();
		return tap_done();
	}

	uintr_set_cr4(true);
	test_save();
	test_restore();
	test_valid();
	test_xinuse();
	test_recognition();

	set_xss(0);
	uintr_set_cr4(false);
	if (has_pku)
		pkru_write(0);
	return tap_done();
}
