/*
 * The compaction extensions of the XSAVE feature set: XSAVEC, the compacted
 * form of XRSTOR, CPUID.(EAX=0DH), and XSAVES/XRSTORS on the user state
 * components x87, SSE, AVX, MPX and PKRU (SDM Vol. 1 chapter 13).
 *
 * Command line (each 0 or 1; the CPUID bits are checked against it first,
 * so a feature that QEMU silently drops fails the run):
 *   xsave=   CPUID.1:ECX[26]                 (required)
 *   xsavec=  CPUID.(0DH,1):EAX[1]            (required)
 *   xsaves=  CPUID.(0DH,1):EAX[3]            (required)
 *   avx=     CPUID.1:ECX[28]                 (default 0)
 *   pku=     CPUID.(7,0):ECX[3]              (default 0)
 *   mpx=     CPUID.(7,0):EBX[14]             (default 0)
 *
 * Every message names the SDM Vol. 1 section (or Vol. 2 instruction page)
 * of the rule it checks.  Component offsets and sizes are computed from
 * CPUID.(0DH,i) as SDM 13.4.3 describes, never taken from QEMU.
 */
#include "args.h"
#include "desc.h"
#include "printf.h"
#include "processor.h"
#include "string.h"
#include "tap.h"
#include "usermode.h"
#include "xsave.h"

#define AREA_SIZE	4096

static uint8_t area_a[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_b[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_c[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_d[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_e[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_s[AREA_SIZE] __attribute__((aligned(4096)));
static uint8_t area_t[AREA_SIZE] __attribute__((aligned(4096)));

static char user_stack[8192] __attribute__((aligned(16)));
#define USER_STACK_TOP	(user_stack + sizeof(user_stack))

static bool has_xsave, has_xsavec, has_xsaves, has_avx, has_pku, has_mpx;
static bool has_xgetbv1;
static uint64_t xcr0;		/* every user component the CPU offers */

/* Known register contents ("known") and what the clobber puts there. */
static struct vregs vr_known, vr_other, vr_read;
#define FCW_KNOWN	0x0e7f		/* RC=11 PC=10, all exceptions masked */
#define FCW_INIT	0x037f
#define MXCSR_KNOWN	0x3f81		/* RC=01, all masked, IE flag */
#define MXCSR_OTHER	0x7f80		/* RC=11, all masked */
#define PKRU_KNOWN	0x5555555cu	/* key 0 (all our pages) stays open */
#define PKRU_OTHER	0x000000f0u

static uint16_t fsw_known;

/* ---- command line */

static bool check_cpuid(const char *name, const char *where, bool want, bool got)
{
	return ok(want == got, "[cpuid] %s %s = %d as the command line says, got %d",
		  where, name, want, got);
}

static uint32_t gp_err(void)
{
	return last_fault()->error_code;
}

/* ---- register state */

/* The standard offset and defined size of ext component i. */
static uint32_t std_off(int i)
{
	return xsave_component(i).offset;
}

static uint32_t def_size(int i)
{
	if (i == XFEATURE_PKRU)
		return 4;		/* PKRU; 4 bytes of padding */
	if (i == XFEATURE_BNDCSR)
		return 16;		/* BNDCFGU, BNDSTATUS; then padding */
	return xsave_component(i).size;
}

/* Valid, recognisable contents for ext component i. */
static void comp_pattern(int i, uint8_t *dst, uint32_t seed)
{
	uint32_t size = xsave_component(i).size;

	xs_fill(dst, size, seed);
	if (i == XFEATURE_PKRU) {
		dst[0] &= ~3;			/* key 0: access and write allowed */
		memset(dst + 4, 0, size - 4);
	}
	if (i == XFEATURE_BNDCSR) {
		uint64_t *q = (uint64_t *)dst;

		q[0] &= 0x00007ffffffff000ull;	/* BNDCFGU: EN=0, reserved 0 */
		q[1] &= 0x00007ffffffffffcull;	/* BNDSTATUS */
		memset(dst + 16, 0, size - 16);
	}
}

static uint64_t mpx_mask(void)
{
	return XMASK(XFEATURE_BNDREGS) | XMASK(XFEATURE_BNDCSR);
}

/* Put the MPX registers in a known state with the standard XRSTOR. */
static void bnd_load(uint32_t seed)
{
	int vec;

	memset(area_t, 0, AREA_SIZE);
	comp_pattern(XFEATURE_BNDREGS, area_t + std_off(XFEATURE_BNDREGS), seed);
	comp_pattern(XFEATURE_BNDCSR, area_t + std_off(XFEATURE_BNDCSR), seed + 1);
	xs_set_q(area_t, XS_XSTATE_BV, mpx_mask());
	vec = xrstor_safe(area_t, mpx_mask());
	if (vec != -1)
		bail_out("standard XRSTOR of MPX state raised vector %d", vec);
}

static void set_known(void)
{
	x87_load_sample(FCW_KNOWN);
	fsw_known = x87_fsw();
	vregs_load(&vr_known, has_avx);
	mxcsr_write_safe(MXCSR_KNOWN);
	if (has_pku)
		pkru_write(PKRU_KNOWN);
	if (has_mpx)
		bnd_load(100);
}

static void clobber(void)
{
	x87_init();
	vregs_load(&vr_other, has_avx);
	mxcsr_write_safe(MXCSR_OTHER);
	if (has_pku)
		pkru_write(PKRU_OTHER);
	if (has_mpx)
		bnd_load(200);
}

/*
 * First difference between two areas on the fields the XSAVE feature set
 * defines for the components in mask: x is read with XCOMP_BV xcomp_x
 * (0: standard format), y is standard.  NULL if none.
 */
static const char *area_diff(const uint8_t *x, uint64_t xcomp_x, const uint8_t *y,
			     uint64_t mask)
{
	static char why[64];
	static const struct { unsigned off, len; const char *name; } legacy[] = {
		{ XS_FCW, 2, "FCW" }, { XS_FSW, 2, "FSW" }, { XS_FTW, 1, "FTW" },
		{ XS_FOP, 2, "FOP" }, { XS_FIP, 8, "FIP" }, { XS_FDP, 8, "FDP" },
	};

	if (mask & XMASK(XFEATURE_X87)) {
		for (unsigned k = 0; k < sizeof(legacy) / sizeof(legacy[0]); k++)
			if (memcmp(x + legacy[k].off, y + legacy[k].off, legacy[k].len))
				return legacy[k].name;
		for (int i = 0; i < 8; i++)
			if (memcmp(x + XS_ST(i), y + XS_ST(i), 10)) {
				snprintf(why, sizeof(why), "ST%d/MM%d", i, i);
				return why;
			}
	}
	if (mask & XMASK(XFEATURE_SSE)) {
		if (memcmp(x + XS_MXCSR, y + XS_MXCSR, 4))
			return "MXCSR";
		if (memcmp(x + XS_MXCSR_MASK, y + XS_MXCSR_MASK, 4))
			return "MXCSR_MASK";
		for (int i = 0; i < 16; i++)
			if (memcmp(x + XS_XMM(i), y + XS_XMM(i), 16)) {
				snprintf(why, sizeof(why), "XMM%d", i);
				return why;
			}
	}
	for (int i = 2; i < 63; i++) {
		uint32_t xo;

		if (!(mask & XMASK(i)))
			continue;
		xo = xcomp_x & XCOMP_BV_COMPACTED ? xsave_compacted_offset(xcomp_x, i)
						  : std_off(i);
		if (memcmp(x + xo, y + std_off(i), def_size(i))) {
			snprintf(why, sizeof(why), "component %d (at %u vs %u)", i, xo, std_off(i));
			return why;
		}
	}
	return NULL;
}

static const char *vregs_diff(const struct vregs *x, const struct vregs *y)
{
	static char why[32];

	for (int i = 0; i < 16; i++) {
		if (memcmp(x->xmm[i], y->xmm[i], 16)) {
			snprintf(why, sizeof(why), "XMM%d", i);
			return why;
		}
		if (has_avx && memcmp(x->ymmh[i], y->ymmh[i], 16)) {
			snprintf(why, sizeof(why), "YMM%d[255:128]", i);
			return why;
		}
	}
	return NULL;
}

static bool all_zero(const uint8_t *p, unsigned len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* What a standard XSAVE of everything shows now (the reference reader). */
static void snapshot(uint8_t *dst)
{
	int vec;

	memset(dst, 0, AREA_SIZE);
	vec = xsave_safe(dst, xcr0);
	if (vec != -1)
		bail_out("standard XSAVE raised vector %d", vec);
}

/* ---- features absent */

static void test_no_xsave(void)
{
	uint64_t cr4;
	int vec;

	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	vec = asm_safe("mov %0, %%cr4", "r"(cr4 | X86_CR4_OSXSAVE));
	ok(vec == GP_VECTOR,
	   "[enum] without CPUID.1:ECX.XSAVE, setting CR4.OSXSAVE raises #GP (SDM Vol. 3 2.5), got vector %d",
	   vec);
	vec = xsavec_safe(area_b, ~0ull);
	ok(vec == UD_VECTOR, "[ud] XSAVEC raises #UD without XSAVE (CR4.OSXSAVE = 0, SDM 13.10), got vector %d", vec);
	vec = xsaves_safe(area_b, ~0ull);
	ok(vec == UD_VECTOR, "[ud] XSAVES raises #UD without XSAVE (SDM 13.11), got vector %d", vec);
	vec = xrstors_safe(area_b, ~0ull);
	ok(vec == UD_VECTOR, "[ud] XRSTORS raises #UD without XSAVE (SDM 13.12), got vector %d", vec);
}

/* With CR4.OSXSAVE = 0 every instruction of the feature set is #UD. */
static void test_osxsave_off(const char *when)
{
	int vec;

	if (xsave_set_cr4(false) != -1)
		bail_out("cannot clear CR4.OSXSAVE");
	vec = xsavec_safe(area_b, ~0ull);
	ok(vec == UD_VECTOR, "[ud] %s: XSAVEC with CR4.OSXSAVE = 0 raises #UD (SDM 13.10), got vector %d",
	   when, vec);
	if (has_xsaves) {
		vec = xsaves_safe(area_b, ~0ull);
		ok(vec == UD_VECTOR,
		   "[ud] %s: XSAVES with CR4.OSXSAVE = 0 raises #UD (SDM 13.11), got vector %d", when, vec);
		memset(area_b, 0, AREA_SIZE);
		xs_set_q(area_b, XS_XCOMP_BV, XCOMP_BV_COMPACTED | 3);
		xs_set_q(area_b, XS_XSTATE_BV, 0);
		vec = xrstors_safe(area_b, ~0ull);
		ok(vec == UD_VECTOR,
		   "[ud] %s: XRSTORS with CR4.OSXSAVE = 0 raises #UD (SDM 13.12), got vector %d", when, vec);
	}
}

/* SDM Vol. 3 2.5: CR4.OSXSAVE may be set iff CPUID.1:ECX.XSAVE[26] = 1. */
static bool enable_osxsave(void)
{
	int vec = xsave_set_cr4(true);

	return ok(vec == -1,
		  "[enum] with CPUID.1:ECX.XSAVE = 1, MOV to CR4 setting OSXSAVE (bit 18) succeeds whatever CPUID.(0DH,1):EAX says (SDM Vol. 3 2.5), got vector %d error %#x",
		  vec, gp_err());
}

/* XSAVE on, compaction extensions or XSAVES off. */
static void test_missing_insns(void)
{
	int vec;

	if (!has_xsavec) {
		vec = xsavec_safe(area_b, ~0ull);
		ok(vec == UD_VECTOR,
		   "[ud] XSAVEC raises #UD with CR4.OSXSAVE = 1 when CPUID.(0DH,1):EAX[1] = 0 (XSAVEC page), got vector %d",
		   vec);
		/* A compacted-looking area: the standard form demands XCOMP_BV = 0. */
		memset(area_b, 0, AREA_SIZE);
		xs_set_q(area_b, XS_XCOMP_BV, XCOMP_BV_COMPACTED | 3);
		xs_set_q(area_b, XS_XSTATE_BV, 0);
		vec = xrstor_safe(area_b, 3);
		ok(vec == GP_VECTOR && gp_err() == 0,
		   "[std] without compaction extensions XRSTOR of an area with XCOMP_BV[63] = 1 raises #GP(0) (XRSTOR page: XCOMP_BV[63] = 1 and CPUID.(0DH,1):EAX[1] = 0), got vector %d error %#x",
		   vec, gp_err());
	}
	if (!has_xsaves) {
		vec = xsaves_safe(area_b, ~0ull);
		ok(vec == UD_VECTOR,
		   "[ud] XSAVES raises #UD with CR4.OSXSAVE = 1 when CPUID.(0DH,1):EAX[3] = 0 (XSAVES page), got vector %d",
		   vec);
		memset(area_b, 0, AREA_SIZE);
		xs_set_q(area_b, XS_XCOMP_BV, XCOMP_BV_COMPACTED | 3);
		vec = xrstors_safe(area_b, ~0ull);
		ok(vec == UD_VECTOR,
		   "[ud] XRSTORS raises #UD with CR4.OSXSAVE = 1 when CPUID.(0DH,1):EAX[3] = 0 (XRSTORS page), got vector %d",
		   vec);
	}
}

/* ---- CPUID leaf 0DH */

static void test_cpuid_layout(void)
{
	static const struct { int i; uint32_t size, offset; const char *name; bool *has; } arch[] = {
		{ XFEATURE_YMM,     256,  576, "AVX (YMM_H)", &has_avx },
		{ XFEATURE_BNDREGS,  64,  960, "MPX BNDREGS", &has_mpx },
		{ XFEATURE_BNDCSR,   64, 1024, "MPX BNDCSR",  &has_mpx },
		{ XFEATURE_PKRU,      8, 2688, "PKRU",        &has_pku },
	};
	uint64_t sup = xsave_xcr0_supported();
	uint64_t want = 3;
	uint64_t known = 3 | XMASK(XFEATURE_YMM) | mpx_mask() | XMASK(XFEATURE_PKRU);
	struct cpuid r;

	if (has_avx)
		want |= XMASK(XFEATURE_YMM);
	if (has_mpx)
		want |= mpx_mask();
	if (has_pku)
		want |= XMASK(XFEATURE_PKRU);
	ok((sup & known) == want,
	   "[cpuid] CPUID.(0DH,0):EDX:EAX lists x87, SSE and exactly the offered components of AVX/MPX/PKRU = %#lx (SDM 13.2), got %#lx",
	   want, sup & known);
	ok(!(sup & XMASK(XFEATURE_UINTR)),
	   "[cpuid] CPUID.(0DH,0):EAX[14] = 0: the supervisor UINTR component is never an XCR0 bit (SDM 13.3), got %#lx",
	   sup);
	if (sup & ~known)
		diag("CPUID.(0DH,0) also lists %#lx", sup & ~known);
	xcr0 = sup & known;

	for (unsigned k = 0; k < sizeof(arch) / sizeof(arch[0]); k++) {
		struct xcomp c;

		if (!*arch[k].has)
			continue;
		c = xsave_component(arch[k].i);
		ok(c.size == arch[k].size && c.offset == arch[k].offset && !c.supervisor,
		   "[cpuid] CPUID.(0DH,%d): %s is a user component of %u bytes at standard offset %u (SDM table 13-1/13.5), got size %u offset %u ECX[0] %d",
		   arch[k].i, arch[k].name, arch[k].size, arch[k].offset, c.size, c.offset, c.supervisor);
	}

	r = cpuid_count(0xd, 0);
	ok(r.c == xsave_standard_size(sup),
	   "[cpuid] CPUID.(0DH,0):ECX = %u, the standard-format size for every supported XCR0 bit (SDM 13.2), got %u",
	   xsave_standard_size(sup), r.c);
}

/* CPUID.(0DH,0):EBX and (0DH,1):EBX follow XCR0 (and IA32_XSS = 0 here). */
static void check_sizes(const char *when, uint64_t cur)
{
	struct cpuid r0 = cpuid_count(0xd, 0), r1 = cpuid_count(0xd, 1);
	uint32_t want1 = xsave_compacted_size(cur);

	ok(r0.b == xsave_standard_size(cur),
	   "[cpuid] %s: CPUID.(0DH,0):EBX = %u, the standard size for the current XCR0 %#lx (SDM 13.2), got %u",
	   when, xsave_standard_size(cur), cur, r0.b);
	if (has_xsavec || has_xsaves)
		ok(r1.b == want1,
		   "[cpuid] %s: CPUID.(0DH,1):EBX = %u, the compacted size for XCR0 | IA32_XSS = %#lx (SDM 13.2: 576 + sizes, 64-aligned where ECX[1]), got %u",
		   when, want1, cur, r1.b);
	else
		diag("%s: CPUID.(0DH,1):EBX = %u", when, r1.b);
}

static void test_cpuid_sizes(void)
{
	int vec;

	vec = xsetbv_safe(0, 3);
	ok(vec == -1, "[xcr0] XSETBV XCR0 = 3 (x87 | SSE) succeeds, got vector %d", vec);
	check_sizes("XCR0 = 3", 3);
	if (has_xsavec || has_xsaves)
		ok(cpuid_count(0xd, 1).b == 576,
		   "[cpuid] XCR0 = 3: CPUID.(0DH,1):EBX is 576, legacy region and header only (SDM 13.4.3), got %u",
		   cpuid_count(0xd, 1).b);
	if (has_pku) {
		vec = xsetbv_safe(0, 3 | XMASK(XFEATURE_PKRU));
		ok(vec == -1, "[xcr0] XSETBV XCR0 = x87|SSE|PKRU succeeds, got vector %d", vec);
		check_sizes("XCR0 = x87|SSE|PKRU", 3 | XMASK(XFEATURE_PKRU));
	}
	vec = xsetbv_safe(0, xcr0);
	ok(vec == -1, "[xcr0] XSETBV XCR0 = %#lx (everything offered) succeeds, got vector %d", xcr0, vec);
	check_sizes("XCR0 = all", xcr0);
}

/* ---- XSAVEC and the compacted XRSTOR: round trip */

static void test_roundtrip(void)
{
	uint64_t xinuse = 0, bv, comp;
	int va, vb, vr, vc, vx = -1;
	uint16_t fcw, fsw;
	uint32_t mxcsr, pkru = 0;
	const char *d;

	memset(area_a, 0, AREA_SIZE);
	memset(area_b, 0, AREA_SIZE);
	memset(area_c, 0, AREA_SIZE);

	set_known();
	va = xsave_safe(area_a, xcr0);
	if (has_xgetbv1)
		vx = xgetbv_safe(1, &xinuse);
	vb = xsavec_safe(area_b, xcr0);
	clobber();
	vr = xrstor_safe(area_b, xcr0);
	vregs_store(&vr_read, has_avx);
	mxcsr = mxcsr_read();
	if (has_pku)
		pkru = pkru_read();
	fcw = x87_fcw();
	fsw = x87_fsw();
	vc = xsave_safe(area_c, xcr0);

	ok(va == -1 && vb == -1 && vr == -1 && vc == -1,
	   "[rt] XSAVE, XSAVEC, clobber, compacted XRSTOR, XSAVE of XCR0 %#lx all execute, got vectors %d %d %d %d",
	   xcr0, va, vb, vr, vc);

	bv = xs_q(area_b, XS_XSTATE_BV);
	comp = xs_q(area_b, XS_XCOMP_BV);
	ok(comp == (xcr0 | XCOMP_BV_COMPACTED),
	   "[xsavec] XSAVEC writes XCOMP_BV = RFBM | bit 63 = %#lx (SDM 13.10), got %#lx",
	   xcr0 | XCOMP_BV_COMPACTED, comp);
	ok(bv == xcr0,
	   "[xsavec] every component holds non-initial values, so XINUSE covers RFBM and XSAVEC writes XSTATE_BV = RFBM & XINUSE = %#lx (SDM 13.6, 13.10), got %#lx",
	   xcr0, bv);
	if (has_xgetbv1)
		ok(vx == -1 && bv == (xcr0 & xinuse),
		   "[xsavec] XSTATE_BV = RFBM & XINUSE where XGETBV(1) reads XINUSE & XCR0 = %#lx (SDM 13.10), got %#lx (XGETBV vector %d)",
		   xinuse, bv, vx);
	ok(xs_q(area_a, XS_XSTATE_BV) == xcr0,
	   "[std] the standard XSAVE reference also has XSTATE_BV = %#lx, got %#lx",
	   xcr0, xs_q(area_a, XS_XSTATE_BV));

	/* Layout of the compacted area, component by component. */
	d = area_diff(area_b, comp, area_a, 3);
	ok(!d, "[layout] XSAVEC puts x87 and SSE state in the legacy region exactly as XSAVE does (SDM 13.4.1, 13.10), first difference: %s",
	   x_or(d));
	for (int i = 2; i < 63; i++) {
		if (!(xcr0 & XMASK(i)))
			continue;
		d = area_diff(area_b, comp, area_a, XMASK(i));
		ok(!d, "[layout] XSAVEC puts component %d at compacted offset %u (576 + sizes of the lower components in XCOMP_BV, SDM 13.4.3) with the bytes XSAVE puts at %u, first difference: %s",
		   i, xsave_compacted_offset(comp, i), std_off(i), x_or(d));
	}

	/* The restore. */
	d = area_diff(area_c, 0, area_a, xcr0);
	ok(!d, "[rt] XSAVE after the compacted XRSTOR equals XSAVE before it on every defined field (SDM 13.8.2), first difference: %s",
	   x_or(d));
	ok(xs_q(area_c, XS_XSTATE_BV) == xcr0,
	   "[rt] XSTATE_BV after the round trip is %#lx, got %#lx", xcr0, xs_q(area_c, XS_XSTATE_BV));
	d = vregs_diff(&vr_read, &vr_known);
	ok(!d, "[rt] the XMM%s registers read back directly hold the known values after the compacted XRSTOR, first difference: %s",
	   has_avx ? "/YMM" : "", x_or(d));
	ok(mxcsr == MXCSR_KNOWN, "[rt] STMXCSR reads %#x after the compacted XRSTOR, got %#x",
	   MXCSR_KNOWN, mxcsr);
	ok(fcw == FCW_KNOWN && fsw == fsw_known,
	   "[rt] FNSTCW/FNSTSW read %#x/%#x after the compacted XRSTOR, got %#x/%#x",
	   FCW_KNOWN, fsw_known, fcw, fsw);
	if (has_pku)
		ok(pkru == PKRU_KNOWN, "[rt] RDPKRU reads %#x after the compacted XRSTOR, got %#x",
		   PKRU_KNOWN, pkru);
}

/*
 * 0xa5 where XSAVEC must not write (or writes only some RFBMs): MXCSR and
 * MXCSR_MASK, XMM0-15, bytes 511:464, header bytes 63:16 and the extended
 * region; zero elsewhere, so that x87 fields QEMU never writes (FOP) match
 * the zero-filled reference.
 */
static void prefill(uint8_t *a)
{
	memset(a, 0, AREA_SIZE);
	memset(a + XS_MXCSR, 0xa5, 8);
	memset(a + XS_XMM(0), 0xa5, 256);
	memset(a + 464, 0xa5, 48);
	memset(a + XS_HDR + 16, 0xa5, 48);
	memset(a + XS_EXT, 0xa5, AREA_SIZE - XS_EXT);
}

/* XSAVEC leaves alone what it does not save (SDM 13.10). */
static void test_xsavec_untouched(void)
{
	uint64_t rfbm;
	int vec;

	set_known();
	snapshot(area_a);

	prefill(area_b);
	vec = xsavec_safe(area_b, ~0ull);
	ok(vec == -1 && xs_q(area_b, XS_XCOMP_BV) == (xcr0 | XCOMP_BV_COMPACTED),
	   "[xsavec] XSAVEC with EDX:EAX = all ones saves RFBM = XCR0: XCOMP_BV = %#lx (SDM 13.10), got %#lx (vector %d)",
	   xcr0 | XCOMP_BV_COMPACTED, xs_q(area_b, XS_XCOMP_BV), vec);
	ok(all_byte(area_b + XS_HDR + 16, 48, 0xa5),
	   "[xsavec] XSAVEC writes no part of the header but XSTATE_BV and XCOMP_BV: bytes 63:16 keep their 0xa5 fill (XSAVEC page)");
	ok(all_byte(area_b + 464, 48, 0xa5),
	   "[xsavec] XSAVEC does not modify bytes 511:464 of the legacy region (XSAVEC page)");
	ok(all_byte(area_b + xsave_compacted_size(xcr0), 64, 0xa5),
	   "[xsavec] XSAVEC writes nothing past the compacted size %u (SDM 13.10: only the components of RFBM)", xsave_compacted_size(xcr0));

	/* x87 and one extended component: SSE state untouched. */
	for (int i = 2; i < 63; i++) {
		const char *d;

		if (!(xcr0 & XMASK(i)))
			continue;
		rfbm = XMASK(XFEATURE_X87) | XMASK(i);
		prefill(area_b);
		vec = xsavec_safe(area_b, rfbm);
		ok(vec == -1 && xs_q(area_b, XS_XCOMP_BV) == (rfbm | XCOMP_BV_COMPACTED) &&
		   xs_q(area_b, XS_XSTATE_BV) == rfbm,
		   "[xsavec] XSAVEC with RFBM = %#lx: XCOMP_BV = %#lx, XSTATE_BV = %#lx (SDM 13.10), got %#lx %#lx (vector %d)",
		   rfbm, rfbm | XCOMP_BV_COMPACTED, rfbm, xs_q(area_b, XS_XCOMP_BV),
		   xs_q(area_b, XS_XSTATE_BV), vec);
		d = area_diff(area_b, rfbm | XCOMP_BV_COMPACTED, area_a, XMASK(i) | 1);
		ok(!d, "[layout] XSAVEC with RFBM = %#lx puts component %d at %u, right after the header (SDM 13.4.3), first difference: %s",
		   rfbm, i, xsave_compacted_offset(rfbm, i), x_or(d));
		ok(all_byte(area_b + XS_MXCSR, 8, 0xa5) && all_byte(area_b + XS_XMM(0), 256, 0xa5),
		   "[xsavec] XSAVEC with RFBM[1] = 0 writes neither MXCSR/MXCSR_MASK nor XMM0-15 (SDM 13.10)");
	}

	if (has_avx) {
		prefill(area_b);
		vec = xsavec_safe(area_b, XMASK(XFEATURE_YMM));
		ok(vec == -1 && all_byte(area_b + XS_MXCSR, 8, 0xa5),
		   "[mxcsr] XSAVEC with RFBM = {AVX} does not save MXCSR: it goes with SSE state only (SDM 13.10, unlike XSAVE), got bytes 31:24 %#lx (vector %d)",
		   xs_q(area_b, XS_MXCSR), vec);
		memset(area_d, 0xa5, AREA_SIZE);
		xs_set_q(area_d, XS_HDR, 0);
		xs_set_q(area_d, XS_XCOMP_BV, 0);
		vec = xsave_safe(area_d, XMASK(XFEATURE_YMM));
		ok(vec == -1 && *(uint32_t *)(area_d + XS_MXCSR) == MXCSR_KNOWN,
		   "[mxcsr] the standard XSAVE with RFBM = {AVX} saves MXCSR %#x (SDM 13.7: whenever RFBM[1] or RFBM[2] is 1), got %#x (vector %d)",
		   MXCSR_KNOWN, *(uint32_t *)(area_d + XS_MXCSR), vec);
	}
}

/*
 * A component not in use is not saved, but its space stays reserved: the
 * offsets depend on XCOMP_BV = RFBM, not on XSTATE_BV (SDM 13.4.3, XSAVEC
 * page).  The MPX bound registers are the component QEMU tracks, so with
 * mpx=1 BNDREGS goes back to its initial state while BNDCSR and PKRU, which
 * sit after it, stay in use.
 */
static void test_xinuse_gap(void)
{
	uint64_t xinuse = ~0ul, bv, comp;
	const char *d;
	int vec;

	set_known();
	if (has_mpx) {
		memset(area_d, 0, AREA_SIZE);	/* XSTATE_BV = 0: init BNDREGS */
		if (xrstor_safe(area_d, XMASK(XFEATURE_BNDREGS)) != -1)
			bail_out("XRSTOR of BNDREGS failed");
	}
	snapshot(area_a);
	if (has_xgetbv1)
		xgetbv_safe(1, &xinuse);
	prefill(area_b);
	vec = xsavec_safe(area_b, xcr0);
	bv = xs_q(area_b, XS_XSTATE_BV);
	comp = xs_q(area_b, XS_XCOMP_BV);
	if (has_xgetbv1)
		ok(vec == -1 && bv == (xcr0 & xinuse),
		   "[xinuse] XSAVEC writes XSTATE_BV = RFBM & XINUSE = %#lx (XGETBV(1) = %#lx) (SDM 13.10), got %#lx (vector %d)",
		   xcr0 & xinuse, xinuse, bv, vec);
	for (int i = 2; i < 63; i++) {
		uint32_t off = xsave_compacted_offset(comp, i);

		if (!(xcr0 & XMASK(i)))
			continue;
		if (!(bv & XMASK(i))) {
			ok(all_byte(area_b + off, xsave_component(i).size, 0xa5),
			   "[xinuse] XSAVEC does not write component %d, not in use (XSTATE_BV[%d] = 0), at %u (SDM 13.10: saved iff RFBM[i] = XINUSE[i] = 1)",
			   i, i, off);
			continue;
		}
		d = area_diff(area_b, comp, area_a, XMASK(i));
		ok(!d, "[layout] XSAVEC puts in-use component %d at %u, counting the space of lower components in XCOMP_BV %#lx even if not in use (XSTATE_BV %#lx) (SDM 13.4.3), first difference: %s",
		   i, off, comp, bv, x_or(d));
	}
	memset(area_b + XS_HDR + 16, 0, 48);	/* undo the prefill */
	clobber();
	vec = xrstor_safe(area_b, xcr0);
	snapshot(area_c);
	d = area_diff(area_c, 0, area_a, xcr0);
	ok(vec == -1 && !d,
	   "[rt] the compacted XRSTOR of that area (XSTATE_BV %#lx) restores the same state (SDM 13.8.2), first difference: %s (vector %d)",
	   bv, x_or(d), vec);
}

/* The compacted XRSTOR with a partial RFBM takes offsets from XCOMP_BV. */
static void test_partial_restore(void)
{
	uint16_t fcw;
	uint32_t mxcsr;
	const char *d;
	int vec;

	set_known();
	snapshot(area_a);
	memset(area_b, 0, AREA_SIZE);
	if (xsavec_safe(area_b, xcr0) != -1)
		bail_out("XSAVEC failed");

	for (int i = 2; i < 63; i++) {
		if (!(xcr0 & XMASK(i)))
			continue;
		clobber();
		vec = xrstor_safe(area_b, XMASK(i));
		vregs_store(&vr_read, has_avx);
		mxcsr = mxcsr_read();
		fcw = x87_fcw();
		snapshot(area_c);
		d = area_diff(area_c, 0, area_a, XMASK(i));
		ok(vec == -1 && !d,
		   "[offset] XRSTOR of a full XSAVEC area with RFBM = {%d} restores component %d from its offset %u computed from XCOMP_BV, not RFBM (SDM 13.8.2), first difference: %s (vector %d)",
		   i, i, xsave_compacted_offset(xs_q(area_b, XS_XCOMP_BV), i), x_or(d), vec);
		ok(!memcmp(vr_read.xmm, vr_other.xmm, sizeof(vr_read.xmm)) &&
		   mxcsr == MXCSR_OTHER && fcw == FCW_INIT,
		   "[rfbm] XRSTOR with RFBM = {%d} leaves x87, XMM and MXCSR alone (SDM 13.8.2: RFBM[i] = 0, not updated), got MXCSR %#x FCW %#x",
		   i, mxcsr, fcw);
		if (i == XFEATURE_YMM)
			ok(!memcmp(vr_read.ymmh, vr_known.ymmh, sizeof(vr_read.ymmh)),
			   "[offset] XRSTOR with RFBM = {AVX} loads YMM0-15[255:128] and read back with VMOVDQU they hold the saved values");
		if (i == XFEATURE_PKRU)
			ok(pkru_read() == PKRU_KNOWN, "[offset] RDPKRU reads %#x after XRSTOR with RFBM = {PKRU}, got %#x",
			   PKRU_KNOWN, pkru_read());
	}

	/* Hand-made areas: a decoy where RFBM-based offsets would look. */
	for (int i = 2; i < 63; i++) {
		uint64_t comp;
		uint8_t want[256];
		uint32_t size;

		if (!(xcr0 & XMASK(i)))
			continue;
		size = xsave_component(i).size;
		if (size > sizeof(want))
			continue;
		comp_pattern(i, want, 300 + i);
		for (int variant = 0; variant < 2; variant++) {
			comp = variant ? XMASK(i) : xcr0;
			memset(area_e, 0, AREA_SIZE);
			xs_fill(area_e + XS_EXT, AREA_SIZE - XS_EXT, 77);
			for (int j = 2; j < 63; j++)	/* valid decoys */
				if (xcr0 & XMASK(j) && j != i)
					comp_pattern(j, area_e + xsave_compacted_offset(xcr0, j), 400 + j);
			if (variant == 0 && xsave_compacted_offset(comp, i) != XS_EXT)
				comp_pattern(i, area_e + XS_EXT, 500);
			memcpy(area_e + xsave_compacted_offset(comp, i), want, size);
			xs_set_q(area_e, XS_XSTATE_BV, XMASK(i));
			xs_set_q(area_e, XS_XCOMP_BV, comp | XCOMP_BV_COMPACTED);
			clobber();
			vec = xrstor_safe(area_e, XMASK(i));
			snapshot(area_c);
			ok(vec == -1 && !memcmp(area_c + std_off(i), want, def_size(i)),
			   "[offset] hand-made area, XCOMP_BV = %#lx, XSTATE_BV = RFBM = {%d}: XRSTOR loads component %d from offset %u (SDM 13.4.3, 13.8.2) (vector %d)",
			   comp | XCOMP_BV_COMPACTED, i, i, xsave_compacted_offset(comp, i), vec);
		}
	}
}

/* RFBM[i] = 1, XSTATE_BV[i] = 0: initialize, even if XCOMP_BV[i] = 0. */
static void test_init_components(void)
{
	static const struct vregs zero;
	uint32_t mxcsr;
	const char *d;
	int vec;

	/* Area with only x87 and SSE. */
	set_known();
	snapshot(area_a);
	memset(area_e, 0, AREA_SIZE);
	if (xsavec_safe(area_e, 3) != -1)
		bail_out("XSAVEC failed");
	xs_fill(area_e + XS_EXT, 1024, 5);	/* no component lives here */
	clobber();
	if (has_pku)
		pkru_write(PKRU_OTHER);
	vec = xrstor_safe(area_e, xcr0);
	vregs_store(&vr_read, has_avx);
	snapshot(area_c);
	d = area_diff(area_c, 0, area_a, 3);
	ok(vec == -1 && !d,
	   "[init] XCOMP_BV = XSTATE_BV = x87|SSE, RFBM = XCR0: x87 and SSE are loaded (SDM 13.8.2), first difference: %s (vector %d)",
	   x_or(d), vec);
	for (int i = 2; i < 63; i++) {
		if (!(xcr0 & XMASK(i)))
			continue;
		ok(all_zero(area_c + std_off(i), def_size(i)),
		   "[init] component %d with RFBM = 1, XSTATE_BV = 0 and XCOMP_BV = 0 is initialized (all zero) (SDM 13.8.2)",
		   i);
	}
	if (has_avx)
		ok(!memcmp(vr_read.ymmh, zero.ymmh, sizeof(zero.ymmh)),
		   "[init] VMOVDQU reads YMM0-15[255:128] = 0 after the init of AVX state (SDM 13.8.2)");
	if (has_pku)
		ok(pkru_read() == 0, "[init] RDPKRU reads 0 after the init of PKRU (SDM 13.8.2), got %#x", pkru_read());

	/* x87 and SSE themselves: XSTATE_BV = 0. */
	set_known();
	memset(area_e, 0, AREA_SIZE);
	xsavec_safe(area_e, xcr0);
	xs_set_q(area_e, XS_XSTATE_BV, 0);
	*(uint32_t *)(area_e + XS_MXCSR) = MXCSR_KNOWN;
	vec = xrstor_safe(area_e, 3);
	vregs_store(&vr_read, has_avx);
	mxcsr = mxcsr_read();
	ok(vec == -1 && x87_fcw() == FCW_INIT && (x87_fsw() & 0x3800) == 0,
	   "[init] compacted XRSTOR, RFBM[0] = 1, XSTATE_BV[0] = 0: x87 state initialized, FCW = %#x and TOP = 0 (SDM 13.8.2), got FCW %#x FSW %#x (vector %d)",
	   FCW_INIT, x87_fcw(), x87_fsw(), vec);
	ok(!memcmp(vr_read.xmm, zero.xmm, sizeof(zero.xmm)),
	   "[init] compacted XRSTOR, RFBM[1] = 1, XSTATE_BV[1] = 0: XMM0-15 are 0 (SDM 13.8.2)");
	ok(mxcsr == MXCSR_DEFAULT,
	   "[mxcsr] compacted XRSTOR, RFBM[1] = 1, XSTATE_BV[1] = 0: MXCSR is initialized to 1F80H, not loaded (%#x in memory) (SDM 13.8.2), got %#x",
	   MXCSR_KNOWN, mxcsr);
	/* ... and so an illegal MXCSR in memory does not matter. */
	set_known();
	*(uint32_t *)(area_e + XS_MXCSR) = 0x00010000 | MXCSR_DEFAULT;
	vec = xrstor_safe(area_e, 3);
	ok(vec == -1 && mxcsr_read() == MXCSR_DEFAULT,
	   "[mxcsr] compacted XRSTOR with XSTATE_BV[1] = 0 does not read the illegal MXCSR %#x in memory: no #GP, MXCSR = 1F80H (SDM 13.8.2), got vector %d MXCSR %#x",
	   0x00010000 | MXCSR_DEFAULT, vec, mxcsr_read());

	/* The standard form loads MXCSR whenever RFBM[1] = 1. */
	set_known();
	memset(area_d, 0, AREA_SIZE);
	xsave_safe(area_d, xcr0);
	xs_set_q(area_d, XS_XSTATE_BV, 0);
	*(uint32_t *)(area_d + XS_MXCSR) = MXCSR_KNOWN;
	mxcsr_write_safe(MXCSR_OTHER);
	vec = xrstor_safe(area_d, 3);
	vregs_store(&vr_read, has_avx);
	ok(vec == -1 && mxcsr_read() == MXCSR_KNOWN && !memcmp(vr_read.xmm, zero.xmm, sizeof(zero.xmm)),
	   "[mxcsr] standard XRSTOR, RFBM[1] = 1, XSTATE_BV[1] = 0: XMM0-15 initialized but MXCSR loaded from memory = %#x (SDM 13.8.1), got %#x (vector %d)",
	   MXCSR_KNOWN, mxcsr_read(), vec);

	if (has_avx) {
		/* RFBM = {AVX}: compacted form leaves MXCSR, standard loads it. */
		set_known();
		memset(area_e, 0, AREA_SIZE);
		xsavec_safe(area_e, xcr0);
		mxcsr_write_safe(MXCSR_OTHER);
		vec = xrstor_safe(area_e, XMASK(XFEATURE_YMM));
		ok(vec == -1 && mxcsr_read() == MXCSR_OTHER,
		   "[mxcsr] compacted XRSTOR with RFBM = {AVX} leaves MXCSR (%#x) alone (SDM 13.8.2: RFBM[2] is not considered), got %#x (vector %d)",
		   MXCSR_OTHER, mxcsr_read(), vec);
		memset(area_d, 0, AREA_SIZE);
		xsave_safe(area_d, xcr0);
		*(uint32_t *)(area_d + XS_MXCSR) = MXCSR_KNOWN;
		mxcsr_write_safe(MXCSR_OTHER);
		vec = xrstor_safe(area_d, XMASK(XFEATURE_YMM));
		ok(vec == -1 && mxcsr_read() == MXCSR_KNOWN,
		   "[mxcsr] standard XRSTOR with RFBM = {AVX} loads MXCSR = %#x from memory (SDM 13.8.1: whenever RFBM[1] or RFBM[2] is 1), got %#x (vector %d)",
		   MXCSR_KNOWN, mxcsr_read(), vec);
	}
}

/* Faulting compacted XRSTOR: #GP(0), and no state changes. */
static void expect_gp(const uint8_t *area, uint64_t rfbm, bool supervisor, const char *what)
{
	const char *d;
	int vec;

	clobber();
	snapshot(area_a);
	vec = supervisor ? xrstors_safe(area, rfbm) : xrstor_safe(area, rfbm);
	snapshot(area_c);
	d = area_diff(area_c, 0, area_a, xcr0);
	ok(vec == GP_VECTOR && gp_err() == 0 && !d,
	   "[gp] %s %s raises #GP(0) and loads nothing, got vector %d error %#x, first change: %s",
	   supervisor ? "XRSTORS" : "XRSTOR", what, vec, gp_err(), x_or(d));
}

static void test_xrstor_faults(bool supervisor)
{
	uint64_t comp;
	char what[160];
	int vec;

	set_known();
	memset(area_s, 0, AREA_SIZE);
	if ((supervisor ? xsaves_safe(area_s, xcr0) : xsavec_safe(area_s, xcr0)) != -1)
		bail_out("XSAVEC/XSAVES failed");
	comp = xs_q(area_s, XS_XCOMP_BV);

	/* Control: the untouched area restores fine. */
	clobber();
	vec = supervisor ? xrstors_safe(area_s, xcr0) : xrstor_safe(area_s, xcr0);
	ok(vec == -1, "[gp] control: %s of the unmodified area succeeds, got vector %d",
	   supervisor ? "XRSTORS" : "XRSTOR", vec);

	static const int bad_bits[] = { 5, XFEATURE_UINTR, 62 };
	for (unsigned k = 0; k < sizeof(bad_bits) / sizeof(bad_bits[0]); k++) {
		int b = bad_bits[k];

		memcpy(area_e, area_s, AREA_SIZE);
		xs_set_q(area_e, XS_XCOMP_BV, comp | XMASK(b));
		snprintf(what, sizeof(what),
			 "with XCOMP_BV[%d] = 1, not in XCR0%s (SDM 13.8.2%s)", b,
			 supervisor ? " | IA32_XSS" : "", supervisor ? ", 13.12" : "");
		expect_gp(area_e, xcr0, supervisor, what);
	}

	/* XSTATE_BV not a subset of XCOMP_BV: SSE, then each ext component. */
	memcpy(area_e, area_s, AREA_SIZE);
	xs_set_q(area_e, XS_XCOMP_BV, comp & ~XMASK(XFEATURE_SSE));
	expect_gp(area_e, xcr0, supervisor,
		  "with XSTATE_BV[1] = 1 but XCOMP_BV[1] = 0 (SDM 13.8.2)");
	for (int i = 2; i < 63; i++) {
		if (!(xcr0 & XMASK(i)))
			continue;
		memcpy(area_e, area_s, AREA_SIZE);
		xs_set_q(area_e, XS_XCOMP_BV, comp & ~XMASK(i));
		snprintf(what, sizeof(what),
			 "with XSTATE_BV[%d] = 1 but XCOMP_BV[%d] = 0 (SDM 13.8.2)", i, i);
		expect_gp(area_e, xcr0, supervisor, what);
	}

	/* Bytes 63:16 of the header. */
	for (int k = 0; k < 7; k++) {
		unsigned byte = k < 6 ? 16 + 8 * k + k : 63;

		memcpy(area_e, area_s, AREA_SIZE);
		area_e[XS_HDR + byte] = 0x01;
		snprintf(what, sizeof(what),
			 "with header byte %u = 1 (bytes 63:16 must be 0, SDM 13.8.2)", byte);
		expect_gp(area_e, xcr0, supervisor, what);
	}

	/* Illegal MXCSR loaded. */
	memcpy(area_e, area_s, AREA_SIZE);
	*(uint32_t *)(area_e + XS_MXCSR) = 0x00010000 | MXCSR_DEFAULT;
	expect_gp(area_e, xcr0, supervisor,
		  "loading MXCSR 0x11f80 (bit 16 reserved) with XSTATE_BV[1] = 1 (SDM 13.8.2)");

	/* Alignment. */
	memcpy(area_e + 16, area_s, AREA_SIZE - 16);
	expect_gp(area_e + 16, xcr0, supervisor, "of an area 16 bytes off 64-byte alignment (SDM 13.8)");

	/* A component the CPU offers but XCR0 does not enable right now. */
	if (xcr0 != 3) {
		int top = 63 - __builtin_clzll(xcr0);

		memcpy(area_e, area_s, AREA_SIZE);
		xs_set_q(area_e, XS_XSTATE_BV, 3);
		xs_set_q(area_e, XS_XCOMP_BV, 3 | XMASK(top) | XCOMP_BV_COMPACTED);
		/* No clobber(): VEX instructions would #UD with XCR0[2] = 0. */
		if (xsetbv_safe(0, xcr0 & ~XMASK(top) & ~(top == XFEATURE_BNDCSR ? mpx_mask() : 0)) != -1)
			bail_out("XSETBV failed");
		vec = supervisor ? xrstors_safe(area_e, ~0ull) : xrstor_safe(area_e, ~0ull);
		ok(vec == GP_VECTOR && gp_err() == 0,
		   "[gp] %s with XCOMP_BV[%d] = 1 while XCR0[%d] = 0 (offered, not enabled) raises #GP(0) (SDM 13.8.2), got vector %d error %#x",
		   supervisor ? "XRSTORS" : "XRSTOR", top, top, vec, gp_err());
		if (xsetbv_safe(0, xcr0) != -1)
			bail_out("XSETBV failed");
	}
}

/* XSAVEC/XRSTOR at other CPLs, alignment, LOCK. */
static long user_xsavec(void *arg)
{
	uint64_t m = ~0ull;

	asm volatile("xsavec64 (%0)" : : "r"(arg), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
	asm volatile("xrstor64 (%0)" : : "r"(arg), "a"(3), "d"(0) : "memory");
	return 0;
}

static long user_xsaves(void *arg)
{
	uint64_t m = ~0ull;

	asm volatile("xsaves64 (%0)" : : "r"(arg), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
	return 0;
}

static long user_xrstors(void *arg)
{
	uint64_t m = ~0ull;

	asm volatile("xrstors64 (%0)" : : "r"(arg), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
	return 0;
}

static void test_xsavec_misc(void)
{
	struct fault f;
	long ret;
	int vec;

	vec = xsavec_safe(area_b + 32, xcr0);
	ok(vec == GP_VECTOR && gp_err() == 0,
	   "[gp] XSAVEC to an area 32 bytes off 64-byte alignment raises #GP(0) (SDM 13.10), got vector %d error %#x",
	   vec, gp_err());
	vec = asm_safe(".byte 0xf0\n\txsavec64 (%0)", "r"(area_b), "a"(3), "d"(0));
	ok(vec == UD_VECTOR, "[ud] LOCK XSAVEC raises #UD (XSAVEC page), got vector %d", vec);
	/* 66/F2/F3 + REX.W 0F C7 /4 (%rdi): a mandatory-prefix slot, #UD. */
	memset(area_b, 0x5a, AREA_SIZE);
	vec = asm_safe(".byte 0x66, 0x48, 0x0f, 0xc7, 0x27", "D"(area_b), "a"(3), "d"(0));
	ok(vec == UD_VECTOR && all_byte(area_b, 1024, 0x5a),
	   "[ud] 66-prefixed XSAVEC raises #UD and writes nothing (XSAVEC page: NP), got vector %d", vec);
	vec = asm_safe(".byte 0xf2, 0x48, 0x0f, 0xc7, 0x27", "D"(area_b), "a"(3), "d"(0));
	ok(vec == UD_VECTOR && all_byte(area_b, 1024, 0x5a),
	   "[ud] F2-prefixed XSAVEC raises #UD and writes nothing (XSAVEC page: NP), got vector %d", vec);
	vec = asm_safe(".byte 0xf3, 0x48, 0x0f, 0xc7, 0x27", "D"(area_b), "a"(3), "d"(0));
	ok(vec == UD_VECTOR && all_byte(area_b, 1024, 0x5a),
	   "[ud] F3-prefixed XSAVEC raises #UD and writes nothing (XSAVEC page: NP), got vector %d", vec);

	memset(area_b, 0, AREA_SIZE);
	vec = run_in_user(user_xsavec, area_b, USER_STACK_TOP, &ret, &f);
	ok(vec == -1 && xs_q(area_b, XS_XCOMP_BV) == (xcr0 | XCOMP_BV_COMPACTED),
	   "[cpl] XSAVEC and the compacted XRSTOR execute at CPL 3 (they are not privileged): XCOMP_BV %#lx, got %#lx (vector %d ring %d)",
	   xcr0 | XCOMP_BV_COMPACTED, xs_q(area_b, XS_XCOMP_BV), vec, vec == -1 ? 3 : f.ring);
}

/* ---- XSAVES/XRSTORS on user components (IA32_XSS = 0) */

static void test_xsaves_user(void)
{
	struct fault f;
	const char *d;
	uint32_t lo = 0xdead, hi = 0xdead;
	int vec, vr;

	asm volatile(ASM_TRY("1f") "rdmsr\n1:"
		     : "+a"(lo), "+d"(hi) : "c"(MSR_IA32_XSS) : "memory");
	vec = last_fault()->vector;
	ok(vec == -1 && lo == 0 && hi == 0,
	   "[xss] RDMSR IA32_XSS works with XSAVES and reads 0 after reset (SDM 13.3), got vector %d value %#x:%#x",
	   vec, hi, lo);

	set_known();
	snapshot(area_a);
	memset(area_s, 0, AREA_SIZE);
	memset(area_s + XS_HDR + 16, 0xa5, 48);
	memset(area_b, 0, AREA_SIZE);
	vec = xsaves_safe(area_s, ~0ull);
	ok(all_byte(area_s + XS_HDR + 16, 48, 0xa5),
	   "[xsaves] XSAVES writes no part of the header but XSTATE_BV and XCOMP_BV: bytes 63:16 keep their 0xa5 fill (XSAVES page)");
	memset(area_s + XS_HDR + 16, 0, 48);
	ok(vec == -1 && xs_q(area_s, XS_XCOMP_BV) == (xcr0 | XCOMP_BV_COMPACTED) &&
	   xs_q(area_s, XS_XSTATE_BV) == xcr0,
	   "[xsaves] XSAVES with EDX:EAX = all ones and IA32_XSS = 0: RFBM = XCR0, XCOMP_BV = %#lx, XSTATE_BV = %#lx (SDM 13.11), got %#lx %#lx (vector %d)",
	   xcr0 | XCOMP_BV_COMPACTED, xcr0, xs_q(area_s, XS_XCOMP_BV), xs_q(area_s, XS_XSTATE_BV), vec);
	d = area_diff(area_s, xs_q(area_s, XS_XCOMP_BV), area_a, xcr0);
	ok(!d, "[layout] XSAVES uses the compacted format with the bytes XSAVE saves (SDM 13.11), first difference: %s",
	   x_or(d));
	clobber();
	vr = xrstors_safe(area_s, ~0ull);
	vregs_store(&vr_read, has_avx);
	snapshot(area_c);
	d = area_diff(area_c, 0, area_a, xcr0);
	ok(vr == -1 && !d,
	   "[rt] XRSTORS of the XSAVES area restores every user component (SDM 13.12), first difference: %s (vector %d)",
	   x_or(d), vr);
	d = vregs_diff(&vr_read, &vr_known);
	ok(!d, "[rt] the vector registers read back directly after XRSTORS, first difference: %s", x_or(d));

	if (has_xsavec) {
		xsavec_safe(area_b, xcr0);
		clobber();
		vr = xrstors_safe(area_b, xcr0);
		snapshot(area_c);
		d = area_diff(area_c, 0, area_a, xcr0);
		ok(vr == -1 && !d,
		   "[rt] XRSTORS accepts an area written by XSAVEC (same compacted format, SDM 13.12), first difference: %s (vector %d)",
		   x_or(d), vr);
		clobber();
		vr = xrstor_safe(area_s, xcr0);
		snapshot(area_c);
		d = area_diff(area_c, 0, area_a, xcr0);
		ok(vr == -1 && !d,
		   "[rt] the compacted XRSTOR accepts an area written by XSAVES without supervisor components (SDM 13.8.2), first difference: %s (vector %d)",
		   x_or(d), vr);
	}

	/* XRSTORS of a standard-format area. */
	memset(area_d, 0, AREA_SIZE);
	set_known();
	xsave_safe(area_d, xcr0);
	expect_gp(area_d, xcr0, true, "of a standard-format area (XCOMP_BV[63] = 0, SDM 13.12)");

	vec = xsaves_safe(area_s + 16, xcr0);
	ok(vec == GP_VECTOR && gp_err() == 0,
	   "[gp] XSAVES to an area 16 bytes off 64-byte alignment raises #GP(0) (SDM 13.11), got vector %d error %#x",
	   vec, gp_err());
	vec = asm_safe(".byte 0xf0\n\txsaves64 (%0)", "r"(area_b), "a"(3), "d"(0));
	ok(vec == UD_VECTOR, "[ud] LOCK XSAVES raises #UD (XSAVES page), got vector %d", vec);
	/* 66/F2/F3 + REX.W 0F C7 /5 and /3 (%rdi): #UD, nothing written or loaded. */
	memset(area_b, 0x5a, AREA_SIZE);
	for (int p = 0; p < 3; p++) {
		static const char *const name[3] = { "66", "F2", "F3" };

		if (p == 0)
			vec = asm_safe(".byte 0x66, 0x48, 0x0f, 0xc7, 0x2f", "D"(area_b), "a"(3), "d"(0));
		else if (p == 1)
			vec = asm_safe(".byte 0xf2, 0x48, 0x0f, 0xc7, 0x2f", "D"(area_b), "a"(3), "d"(0));
		else
			vec = asm_safe(".byte 0xf3, 0x48, 0x0f, 0xc7, 0x2f", "D"(area_b), "a"(3), "d"(0));
		ok(vec == UD_VECTOR && all_byte(area_b, 1024, 0x5a),
		   "[ud] %s-prefixed XSAVES raises #UD and writes nothing (XSAVES page: NP), got vector %d",
		   name[p], vec);
		clobber();
		snapshot(area_a);
		if (p == 0)
			vec = asm_safe(".byte 0x66, 0x48, 0x0f, 0xc7, 0x1f", "D"(area_s), "a"(3), "d"(0));
		else if (p == 1)
			vec = asm_safe(".byte 0xf2, 0x48, 0x0f, 0xc7, 0x1f", "D"(area_s), "a"(3), "d"(0));
		else
			vec = asm_safe(".byte 0xf3, 0x48, 0x0f, 0xc7, 0x1f", "D"(area_s), "a"(3), "d"(0));
		snapshot(area_c);
		d = area_diff(area_c, 0, area_a, xcr0);
		ok(vec == UD_VECTOR && !d,
		   "[ud] %s-prefixed XRSTORS raises #UD and loads nothing (XRSTORS page: NP), got vector %d, first change: %s",
		   name[p], vec, x_or(d));
	}

	memset(area_b, 0x5a, AREA_SIZE);
	vec = run_in_user(user_xsaves, area_b, USER_STACK_TOP, NULL, &f);
	ok(vec == GP_VECTOR && f.ring == 3 && f.error_code == 0 && all_byte(area_b, 1024, 0x5a),
	   "[cpl] XSAVES at CPL 3 raises #GP(0) and writes nothing (SDM 13.11), got vector %d ring %d error %#x",
	   vec, f.ring, f.error_code);
	clobber();		/* area_s holds the known values */
	snapshot(area_a);
	vec = run_in_user(user_xrstors, area_s, USER_STACK_TOP, NULL, &f);
	snapshot(area_c);
	d = area_diff(area_c, 0, area_a, xcr0);
	ok(vec == GP_VECTOR && f.ring == 3 && f.error_code == 0 && !d,
	   "[cpl] XRSTORS at CPL 3 raises #GP(0) and loads nothing (SDM 13.12), got vector %d ring %d error %#x, first change: %s",
	   vec, f.ring, f.error_code, x_or(d));
}

int main(void)
{
	struct cpuid r1 = cpuid(1), r7 = cpuid_count(7, 0), rd1 = { 0 };
	bool good = true;

	has_xsave = arg_flag("xsave", 1);
	has_xsavec = arg_flag("xsavec", 1);
	has_xsaves = arg_flag("xsaves", 1);
	has_avx = arg_flag("avx", 0);
	has_pku = arg_flag("pku", 0);
	has_mpx = arg_flag("mpx", 0);

	good &= check_cpuid("XSAVE", "CPUID.1:ECX[26]", has_xsave, r1.c & CPUID_1_ECX_XSAVE);
	if (has_xsave)
		rd1 = cpuid_count(0xd, 1);
	good &= check_cpuid("XSAVEC", "CPUID.(0DH,1):EAX[1]", has_xsavec, rd1.a & CPUID_D_1_EAX_XSAVEC);
	good &= check_cpuid("XSAVES", "CPUID.(0DH,1):EAX[3]", has_xsaves, rd1.a & CPUID_D_1_EAX_XSAVES);
	good &= check_cpuid("AVX", "CPUID.1:ECX[28]", has_avx, r1.c & CPUID_1_ECX_AVX);
	good &= check_cpuid("PKU", "CPUID.(7,0):ECX[3]", has_pku, r7.c & CPUID_7_0_ECX_PKU);
	good &= check_cpuid("MPX", "CPUID.(7,0):EBX[14]", has_mpx, r7.b & CPUID_7_0_EBX_MPX);
	if (!good)
		return tap_done();
	has_xgetbv1 = rd1.a & CPUID_D_1_EAX_XGETBV1;

	xs_fill(&vr_known, sizeof(vr_known), 1);
	xs_fill(&vr_other, sizeof(vr_other), 2);

	if (!has_xsave) {
		xsave_set_cr4(false);
		test_no_xsave();
		return tap_done();
	}

	test_osxsave_off("at reset");
	if (!enable_osxsave())
		return tap_done();
	ok(cpuid(1).c & CPUID_1_ECX_OSXSAVE, "[cpuid] CPUID.1:ECX[27] OSXSAVE reflects CR4.OSXSAVE = 1");
	if (has_pku) {
		uint64_t cr4;

		asm volatile("mov %%cr4, %0" : "=r"(cr4));
		if (asm_safe("mov %0, %%cr4", "r"(cr4 | X86_CR4_PKE)) != -1)
			bail_out("cannot set CR4.PKE");
	}

	test_missing_insns();
	test_cpuid_layout();
	test_cpuid_sizes();

	if (has_xsavec) {
		test_roundtrip();
		test_xsavec_untouched();
		test_xinuse_gap();
		test_partial_restore();
		test_init_components();
		test_xrstor_faults(false);
		test_xsavec_misc();
	}
	if (has_xsaves) {
		test_xsaves_user();
		test_xrstor_faults(true);
	}
	test_osxsave_off("at the end");
	enable_osxsave();

	if (has_pku)
		pkru_write(0);
	return tap_done();
}
