/*
 * Model-based fuzzing of XRSTOR and XRSTORS: random XSAVE areas, headers,
 * instruction masks, MXCSR values and user-interrupt components, each
 * restored in ring 0.  The test predicts from the SDM rules alone whether
 * the instruction must raise #GP(0) or succeed, and checks the outcome;
 * after a successful XRSTORS with component 14 it saves the state again
 * with XSAVES and compares it with what it loaded.  QEMU must never crash
 * or hang whatever the guest puts in the area.
 *
 * Rules (SDM Vol. 1 13.8, 13.12, 13.5.11), with RFBM = EDX:EAX & enabled:
 *   standard XRSTOR (XCOMP_BV[63] = 0): #GP if XSTATE_BV has a bit not in
 *     XCR0, XCOMP_BV != 0 or bytes 23:16 of the header != 0; MXCSR is loaded
 *     when RFBM[1] or RFBM[2] and must have no bit outside MXCSR_MASK;
 *   compacted XRSTOR and XRSTORS: #GP if XCOMP_BV[62:0] has a bit not
 *     enabled (XCR0, | IA32_XSS for XRSTORS), XSTATE_BV has a bit not in
 *     XCOMP_BV, or bytes 63:16 of the header != 0; MXCSR is loaded when
 *     RFBM[1] & XSTATE_BV[1];
 *   XRSTORS: #GP if XCOMP_BV[63] = 0; with RFBM[14]: #GP if the live UINV
 *     != 0, and with XSTATE_BV[14] if HANDLER, STACKADJUST, PD or TT is not
 *     canonical, MISC[62:40], PD[5:0] or TT[3:1] is set.
 *
 * Then areas that end in an unmapped page: each instruction raises #PF
 * with CR2 at the first unmapped byte, and an XRSTORS whose component 14
 * lies there leaves the live user-interrupt state as it was.
 *
 * Command line: iterations=N (default 20000), seed=S (default 1).
 * Needs -cpu ...,xsave=on,xsavec=on,xsaves=on,avx=on,uintr=on.
 */
#include "args.h"
#include "desc.h"
#include "paging.h"
#include "processor.h"
#include "rand.h"
#include "string.h"
#include "tap.h"
#include "uintr.h"
#include "xsave.h"

#define AREA_SIZE	4096
#define XCR0		(XMASK(XFEATURE_X87) | XMASK(XFEATURE_SSE) | XMASK(XFEATURE_YMM))
#define XSS		XMASK(XFEATURE_UINTR)
#define MISC_UIF	(1ul << 63)
#define MISC_UINV	(0xfful << 32)

static uint8_t area[AREA_SIZE] __attribute__((aligned(64)));
static uint8_t again[AREA_SIZE] __attribute__((aligned(64)));
static uint64_t rng_state;
static struct canon_bounds canon;

static uint64_t rnd(void)
{
	return xorshift64s(&rng_state);
}

/* True with probability n/16. */
static bool chance(unsigned n)
{
	return (rnd() & 15) < n;
}

/* A random subset of @bits, plus now and then one bit from anywhere. */
static uint64_t some_bits(uint64_t bits)
{
	uint64_t v = rnd() & bits;

	if (chance(1))
		v |= 1ull << (rnd() % 64);
	return v;
}

static bool canonical(uint64_t a)
{
	int shift = 64 - canon.bits;

	return (uint64_t)((int64_t)(a << shift) >> shift) == a;
}

/* An address that is usually valid for @align and canonical. */
static uint64_t some_addr(uint64_t align_mask)
{
	uint64_t a = chance(8) ? rnd() & 0x3fffffff :
		     chance(8) ? canon.hi_min | (rnd() & 0xffffff) : rnd();

	if (chance(14))
		a &= ~align_mask;
	return a;
}

static bool uintr_component_valid(const uint64_t *c)
{
	return canonical(c[0]) && canonical(c[1]) && canonical(c[3]) &&
	       canonical(c[5]) && !(c[2] & 0x7fffff0000000000ul) &&
	       !(c[3] & 0x3f) && !(c[5] & 0xe);
}

static unsigned n_ok, n_gp, n_wrong, n_mismatch, n_other, n_c14;

static void fail_once(const char *what, uint64_t it, int vec, int want)
{
	if (n_wrong + n_mismatch + n_other < 5)
		diag("iteration %lu: %s: vector %d, want %d", it, what, vec, want);
}

static void one(uint64_t it)
{
	bool supervisor = chance(8), compacted, gp = false, load_mxcsr;
	uint64_t enabled = XCR0 | (supervisor ? XSS : 0);
	uint64_t rfbm = some_bits(enabled) | (chance(4) ? ~0ull : 0);
	uint64_t xstate_bv, xcomp_bv, uintr[6] = { 0 }, live_uinv;
	uint32_t mxcsr, off14 = 0;
	int vec, want;

	for (int i = 0; i < AREA_SIZE / 8; i++)
		((uint64_t *)area)[i] = chance(8) ? 0 : rnd();

	compacted = supervisor ? !chance(1) : chance(8);
	xcomp_bv = compacted ? some_bits(enabled) | XCOMP_BV_COMPACTED :
		   (chance(1) ? some_bits(~0ull) : 0);
	xstate_bv = some_bits(compacted ? xcomp_bv & ~XCOMP_BV_COMPACTED : XCR0);
	xs_set_q(area, XS_XSTATE_BV, xstate_bv);
	xs_set_q(area, XS_XCOMP_BV, xcomp_bv);
	for (unsigned o = 16; o < 64; o += 8)
		xs_set_q(area, XS_HDR + o, chance(14) ? 0 : rnd());
	mxcsr = chance(14) ? (uint32_t)rnd() & 0xffff : (uint32_t)rnd();
	*(uint32_t *)(area + XS_MXCSR) = mxcsr;

	if ((xcomp_bv & XCOMP_BV_COMPACTED) && (xcomp_bv & XSS)) {
		off14 = xsave_compacted_offset(xcomp_bv, XFEATURE_UINTR);
		uintr[0] = some_addr(0);
		uintr[1] = some_addr(0);
		uintr[2] = (rnd() & 0xffffffff) | (rnd() & 0xff) << 32 |
			   (chance(8) ? MISC_UIF : 0) |
			   (chance(2) ? rnd() & 0x7fffff0000000000ul : 0);
		uintr[3] = some_addr(0x3f);
		uintr[4] = rnd();
		uintr[5] = some_addr(0xe) | (rnd() & 1);
		for (int i = 0; i < 6; i++)
			xs_set_q(area, off14 + 8 * i, uintr[i]);
	}
	/* The live UINV: usually 0, since XRSTORS needs it to be. */
	live_uinv = chance(14) ? 0 : (rnd() & 0xff) << 32;
	wrmsr(MSR_IA32_UINTR_MISC, live_uinv);

	/* The prediction, from the rules above. */
	rfbm &= enabled;
	if (supervisor && !(xcomp_bv & XCOMP_BV_COMPACTED))
		gp = true;
	if (xcomp_bv & XCOMP_BV_COMPACTED) {
		gp |= (xcomp_bv & ~XCOMP_BV_COMPACTED & ~enabled) != 0;
		gp |= (xstate_bv & ~xcomp_bv) != 0;
		for (unsigned o = 16; o < 64; o += 8)
			gp |= xs_q(area, XS_HDR + o) != 0;
		load_mxcsr = rfbm & xstate_bv & XMASK(XFEATURE_SSE);
	} else {
		gp |= (xstate_bv & ~XCR0) != 0 || xcomp_bv != 0 ||
		      xs_q(area, XS_HDR + 16) != 0;
		load_mxcsr = rfbm & (XMASK(XFEATURE_SSE) | XMASK(XFEATURE_YMM));
	}
	if (load_mxcsr && (mxcsr & ~0xffffu))
		gp = true;
	if (supervisor && (rfbm & XSS)) {
		gp |= live_uinv != 0;
		if ((xstate_bv & XSS) && (xcomp_bv & XSS))
			gp |= !uintr_component_valid(uintr);
	}
	want = gp ? GP_VECTOR : -1;

	vec = supervisor ? xrstors_safe(area, rfbm | (chance(2) ? rnd() << 32 : 0))
			 : xrstor_safe(area, rfbm);
	if (vec == GP_VECTOR)
		n_gp++;
	else if (vec == -1)
		n_ok++;
	else
		n_other++;
	if (vec != want) {
		n_wrong++;
		fail_once(supervisor ? "XRSTORS" : "XRSTOR", it, vec, want);
		return;
	}

	/* Loaded component 14: XSAVES gives it back, with UINV then cleared. */
	if (vec == -1 && supervisor && (rfbm & XSS)) {
		bool same = true;
		uint64_t misc_after;

		memset(again, 0, AREA_SIZE);
		if (xsaves_safe(again, XSS) != -1) {
			n_mismatch++;
			fail_once("XSAVES after XRSTORS", it, -2, -1);
			return;
		}
		misc_after = rdmsr(MSR_IA32_UINTR_MISC);
		if (xstate_bv & XSS)
			n_c14++;
		for (int i = 0; i < 6; i++) {
			uint64_t want_q = (xstate_bv & XSS) ? uintr[i] : 0;

			same &= xs_q(again, XS_EXT + 8 * i) == want_q;
		}
		if (!same || (misc_after & MISC_UINV)) {
			n_mismatch++;
			if (n_wrong + n_mismatch + n_other < 5)
				diag("iteration %lu: component 14 after XRSTORS/XSAVES differs (MISC %#lx)",
				     it, misc_after);
		}
	}
}

/*
 * An area whose first 576 bytes (legacy region and header) end a mapped
 * page and whose extended region starts the next, unmapped one.
 */
static void test_unmapped(void)
{
	uintptr_t page = TEST_REGION_BASE, edge = page + PAGE_SIZE;
	uint8_t *a = (uint8_t *)(edge - 576);
	uint64_t misc, handler;
	int vec;

	map_page(page, alloc_page(), PTE_W);
	unmap_page(edge);
	memset(a, 0, 576);

	vec = xsavec_safe(a, XCR0);
	ok(vec == 14 && read_cr2() == edge,
	   "[pf] XSAVEC whose AVX component lies in an unmapped page raises #PF at it (CR2 %#lx, want %#lx), vector %d",
	   read_cr2(), edge, vec);
	xs_set_q(a, XS_XSTATE_BV, XCR0);
	xs_set_q(a, XS_XCOMP_BV, XCR0 | XCOMP_BV_COMPACTED);
	*(uint32_t *)(a + XS_MXCSR) = MXCSR_DEFAULT;
	vec = xrstor_safe(a, XCR0);
	ok(vec == 14 && read_cr2() == edge,
	   "[pf] compacted XRSTOR whose AVX component lies in an unmapped page raises #PF at it (CR2 %#lx), vector %d",
	   read_cr2(), vec);

	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(0x50, 0));
	wrmsr(MSR_IA32_UINTR_HANDLER, 0x1000);
	vec = xsaves_safe(a, XMASK(XFEATURE_X87) | XSS);
	misc = rdmsr(MSR_IA32_UINTR_MISC);
	ok(vec == 14 && read_cr2() == edge && misc == UINTR_MISC(0x50, 0),
	   "[pf] XSAVES whose component 14 lies in an unmapped page raises #PF at it (CR2 %#lx) and, not having saved it, keeps UINV (MISC %#lx), vector %d",
	   read_cr2(), misc, vec);
	xs_set_q(a, XS_XSTATE_BV, XMASK(XFEATURE_X87) | XSS);
	xs_set_q(a, XS_XCOMP_BV, XMASK(XFEATURE_X87) | XSS | XCOMP_BV_COMPACTED);
	wrmsr(MSR_IA32_UINTR_MISC, 0);
	vec = xrstors_safe(a, XMASK(XFEATURE_X87) | XSS);
	misc = rdmsr(MSR_IA32_UINTR_MISC);
	handler = rdmsr(MSR_IA32_UINTR_HANDLER);
	ok(vec == 14 && read_cr2() == edge && misc == 0 && handler == 0x1000,
	   "[pf] XRSTORS whose component 14 lies in an unmapped page raises #PF at it (CR2 %#lx) and leaves the user-interrupt state alone (HANDLER %#lx, MISC %#lx), vector %d",
	   read_cr2(), handler, misc, vec);
	wrmsr(MSR_IA32_UINTR_HANDLER, 0);
	unmap_page(page);
}

int main(void)
{
	const char *s = arg_get("iterations");
	uint64_t iterations = 0, seed = 0;

	for (; s && *s >= '0' && *s <= '9'; s++)
		iterations = iterations * 10 + (*s - '0');
	if (!iterations)
		iterations = 20000;
	for (s = arg_get("seed"); s && *s >= '0' && *s <= '9'; s++)
		seed = seed * 10 + (*s - '0');
	rng_state = seed ? seed * 0x9e3779b97f4a7c15ull : 0x9e3779b97f4a7c15ull;

	if (!(cpuid_count(0xd, 1).a & CPUID_D_1_EAX_XSAVES) ||
	    !(cpuid_count(0xd, 1).a & CPUID_D_1_EAX_XSAVEC) || !uintr_supported() ||
	    !(cpuid(1).c & CPUID_1_ECX_AVX))
		bail_out("needs -cpu ...,xsave=on,xsavec=on,xsaves=on,avx=on,uintr=on");
	canon = canon_bounds(cpuid_count(7, 0).c & (1u << 16));
	if (xsave_set_cr4(true) != -1 || xsetbv_safe(0, XCR0) != -1 ||
	    wrmsr_safe(MSR_IA32_XSS, XSS) != -1)
		bail_out("cannot enable XSAVE with XCR0 %#lx, IA32_XSS %#lx",
			 (unsigned long)XCR0, (unsigned long)XSS);
	diag("seed %lu, %lu iterations", seed, iterations);

	for (uint64_t it = 0; it < iterations; it++)
		one(it);

	test_unmapped();

	/* Back to a sane state for whatever follows. */
	wrmsr(MSR_IA32_UINTR_MISC, 0);
	xsave_set_cr4(true);
	asm volatile("fninit");
	mxcsr_write_safe(MXCSR_DEFAULT);

	ok(n_other == 0, "XRSTOR/XRSTORS raise nothing but #GP on random areas: %u other vectors", n_other);
	ok(n_wrong == 0,
	   "%lu random XRSTOR/XRSTORS: the outcome matches the SDM rules every time (%u loaded, %u #GP, %u wrong)",
	   iterations, n_ok, n_gp, n_wrong);
	ok(n_ok > iterations / 10 && n_gp > iterations / 10,
	   "both outcomes are exercised: %u loads, %u #GP", n_ok, n_gp);
	ok(n_mismatch == 0 && n_c14 >= 50,
	   "after every successful XRSTORS of component 14 (%u loaded from memory), XSAVES returns what was loaded and clears UINV (%u mismatches)",
	   n_c14, n_mismatch);
	return tap_done();
}
