/*
 * UINTR instructions: STUI, CLUI, TESTUI, UIRET (and the RDPKRU/WRPKRU
 * encodings they share 0F 01 EE/EF with).
 *
 * Command line:
 *   uintr=0|1   CPUID.(EAX=7,ECX=0):EDX[5] the run expects (required)
 *   pku=0|1     CPUID.(EAX=7,ECX=0):ECX[3] the run expects (default 0)
 *   uiret_uif=0|1  CPUID.(EAX=7,ECX=1):EDX[17] (flexible UIRET) the run
 *               expects (default 0); [uiret-uif] checks UIF after UIRET
 *               against it
 *
 * Rules, named in brackets in the messages:
 *   [cpuid]  the CPUID bits match the command line (a dropped feature fails)
 *   [reset]  UIF is 0 after reset
 *   [ud]     STUI/CLUI/TESTUI/UIRET raise #UD with CR4.UINTR=0, without
 *            CPUID.UINTR, and with a LOCK prefix
 *   [cpl]    the instructions work at any CPL, ring 3 included
 *   [stui] [clui] [testui]  STUI sets UIF, CLUI clears it, TESTUI:
 *            CF := UIF, ZF AF OF PF SF := 0, other flags unchanged
 *   [pkru]   without F3, 0F 01 EE/EF stay RDPKRU/WRPKRU
 *   [uiret]  UIRET pops RIP, RFLAGS, RSP; loads RFLAGS bits 0x254DD5 only;
 *            sets UIF; #GP(0) on a non-canonical RIP, changing nothing
 *   [uiret-pf]  a frame whose RSP slot is on a not-present page: #PF (read,
 *            CR2 = that page) before anything changes; mapped, it returns
 */
#include "args.h"
#include "desc.h"
#include "paging.h"
#include "processor.h"
#include "tap.h"
#include "uintr.h"
#include "usermode.h"

#define CPUID_7_0_ECX_PKU	(1u << 3)
#define X86_CR4_PKE		(1ul << 22)

#define FL_CF	0x1ul
#define FL_PF	0x4ul
#define FL_AF	0x10ul
#define FL_ZF	0x40ul
#define FL_SF	0x80ul
#define FL_TF	0x100ul
#define FL_IF	0x200ul
#define FL_DF	0x400ul
#define FL_OF	0x800ul
#define FL_IOPL	0x3000ul
#define FL_NT	0x4000ul
#define FL_RF	0x10000ul
#define FL_AC	0x40000ul
#define FL_VIF	0x80000ul
#define FL_VIP	0x100000ul
#define FL_ID	0x200000ul
#define FL_ARITH	(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define UIRET_MASK	0x254dd5ul

#define NONCANONICAL	0x8000000000000000ul

/* Raw encodings, so the LOCK forms can be built. */
#define I_UIRET		".byte 0xf3, 0x0f, 0x01, 0xec"
#define I_TESTUI	".byte 0xf3, 0x0f, 0x01, 0xed"
#define I_CLUI		".byte 0xf3, 0x0f, 0x01, 0xee"
#define I_STUI		".byte 0xf3, 0x0f, 0x01, 0xef"
#define I_LOCK		".byte 0xf0\n\t"

static char user_stack[8192] __attribute__((aligned(16)));
#define USER_STACK_TOP	(user_stack + sizeof(user_stack))
/* Where UIRET moves RSP: a scratch stack. */
static char scratch_stack[1024] __attribute__((aligned(16)));

static bool has_uintr;

static int write_cr4_safe(uint64_t v)
{
	return asm_safe("mov %0, %%cr4", "r"(v));
}

static void set_cr4_bit(uint64_t bit, bool on)
{
	uint64_t cr4 = read_cr4();
	int vec = write_cr4_safe(on ? cr4 | bit : cr4 & ~bit);

	if (vec != -1)
		bail_out("cannot %s CR4 bit %#lx: vector %d", on ? "set" : "clear", bit, vec);
}

/* ---- probes that return the vector raised (-1: none) */

static int probe_stui(void)		{ return asm_safe(I_STUI); }
static int probe_clui(void)		{ return asm_safe(I_CLUI); }
static int probe_testui(void)		{ return asm_safe(I_TESTUI); }
static int probe_lock_stui(void)	{ return asm_safe(I_LOCK I_STUI); }
static int probe_lock_clui(void)	{ return asm_safe(I_LOCK I_CLUI); }
static int probe_lock_testui(void)	{ return asm_safe(I_LOCK I_TESTUI); }

/*
 * UIRET with a valid frame that returns right after it, so a UIRET that
 * executes instead of faulting still comes back (and reports -1).
 */
#define UIRET_PROBE(bytes)						\
	asm volatile("mov %%rsp, %%rax\n\t"				\
		     "push %%rax\n\t"					\
		     "pushfq\n\t"					\
		     "lea 2f(%%rip), %%rcx\n\t"				\
		     "push %%rcx\n\t"					\
		     ASM_TRY("2f")					\
		     bytes "\n"						\
		     "2:\n\t"						\
		     "mov %%rax, %%rsp"					\
		     : : : "rax", "rcx", "memory")

static int probe_uiret(void)
{
	UIRET_PROBE(I_UIRET);
	return last_fault()->vector;
}

static int probe_lock_uiret(void)
{
	UIRET_PROBE(I_LOCK I_UIRET);
	return last_fault()->vector;
}

static int probe_rdpkru(uint32_t *pkru)
{
	uint32_t a = 0xdeadbeef, d = 0xdeadbeef;

	asm volatile(ASM_TRY("1f") ".byte 0x0f, 0x01, 0xee\n1:"
		     : "+a"(a), "+d"(d) : "c"(0) : "memory");
	*pkru = a;
	return last_fault()->vector;
}

static int probe_wrpkru(uint32_t pkru)
{
	return asm_safe(".byte 0x0f, 0x01, 0xef", "a"(pkru), "c"(0), "d"(0));
}

struct probe {
	const char *name;
	int (*fn)(void);
};

static const struct probe plain[] = {
	{ "STUI (F3 0F 01 EF)", probe_stui },
	{ "CLUI (F3 0F 01 EE)", probe_clui },
	{ "TESTUI (F3 0F 01 ED)", probe_testui },
	{ "UIRET (F3 0F 01 EC)", probe_uiret },
};

static const struct probe locked[] = {
	{ "LOCK STUI", probe_lock_stui },
	{ "LOCK CLUI", probe_lock_clui },
	{ "LOCK TESTUI", probe_lock_testui },
	{ "LOCK UIRET", probe_lock_uiret },
};

/* Runs probe fn in ring 3; returns vector | ring << 8. */
static long user_probe(void *arg)
{
	int vec = ((int (*)(void))arg)();

	return (vec & 0xff) | (long)last_fault()->ring << 8;
}

static void check_ud_all(const struct probe *p, int n, const char *why)
{
	for (int i = 0; i < n; i++) {
		int vec = p[i].fn();

		ok(vec == UD_VECTOR, "[ud] %s in ring 0 raises #UD %s, got vector %d",
		   p[i].name, why, vec);
	}
}

static void check_ud_ring3(const struct probe *p, const char *why)
{
	long ret = -1;
	int vec = run_in_user(user_probe, (void *)p->fn, USER_STACK_TOP, &ret, NULL);

	ok(vec == -1 && (ret & 0xff) == UD_VECTOR && (ret >> 8) == 3,
	   "[ud][cpl] %s in ring 3 raises #UD (caught in ring 3) %s, got vector %ld ring %ld (run_in_user %d)",
	   p->name, why, ret & 0xff, ret >> 8, vec);
}

/* ---- TESTUI flags */

/* POPF flags_in, TESTUI, return the flags; the caller's flags are restored. */
static uint64_t testui_flags(uint64_t flags_in)
{
	uint64_t saved, out;

	asm volatile("pushfq\n\t"
		     "pop %[saved]\n\t"
		     "push %[in]\n\t"
		     "popfq\n\t"
		     I_TESTUI "\n\t"
		     "pushfq\n\t"
		     "pop %[out]\n\t"
		     "push %[saved]\n\t"
		     "popfq"
		     : [saved] "=&r"(saved), [out] "=&r"(out)
		     : [in] "r"(flags_in)
		     : "memory", "cc");
	return out;
}

static void check_testui_flags(void)
{
	uint64_t base = (read_rflags() & FL_IF) | 0x2;
	uint64_t all = base | FL_ARITH | FL_DF;
	uint64_t out;

	stui();
	out = testui_flags(all);
	ok((out & FL_ARITH) == FL_CF,
	   "[testui] UIF=1, prior CF PF AF ZF SF OF=1: TESTUI gives CF=1 and ZF AF OF PF SF=0, got flags %#lx",
	   out);
	ok(out & FL_DF, "[testui] TESTUI leaves DF=1 unchanged, got flags %#lx", out);
	out = testui_flags(base);
	ok((out & FL_ARITH) == FL_CF && !(out & FL_DF),
	   "[testui] UIF=1, prior flags 0: TESTUI sets CF=1 (others 0, DF stays 0), got flags %#lx",
	   out);

	clui();
	out = testui_flags(all);
	ok((out & FL_ARITH) == 0 && (out & FL_DF),
	   "[testui] UIF=0, prior CF PF AF ZF SF OF DF=1: TESTUI gives CF=0, ZF AF OF PF SF=0, DF still 1, got flags %#lx",
	   out);
}

/* ---- STUI/CLUI/TESTUI in ring 3 */

static long user_stui_clui(void *arg)
{
	long r = 0;

	(void)arg;
	clui();
	stui();
	r |= testui() ? 1 : 0;		/* expect 1 */
	clui();
	r |= testui() ? 2 : 0;		/* expect 0 */
	stui();
	r |= testui() ? 4 : 0;		/* expect 1 */
	clui();
	return r | (long)(read_cs() & 3) << 8;
}

/* ---- UIRET */

/*
 * UIRET under ASM_TRY: it lands at 1 (the frame's RIP when the caller
 * points it there) or, faulting, at 2; %[fell] := 1 if it fell through,
 * %[rsp_after] := RSP at the landing.
 */
#define UIRET_TRY							\
	ASM_TRY("2f")							\
	I_UIRET "\n\t"							\
	"movq $1, %[fell]\n"						\
	"1:\n"								\
	"2:\n\t"							\
	"mov %%rsp, %[rsp_after]\n\t"

/* In/out of do_uiret(); globals so the asm addresses them absolutely. */
uint64_t ui_before, ui_rip, ui_pflags, ui_prsp;
uint64_t ui_flags_before, ui_flags_after, ui_rsp_frame, ui_rsp_after, ui_fell;

/*
 * POPF ui_before, push the frame {ui_rip (0: the landing label), ui_pflags,
 * ui_prsp}, UIRET.  Records the flags right before UIRET, the frame address,
 * RSP and RFLAGS at the landing label (or at the fault fixup), and whether
 * UIRET fell through.  Restores RSP and the caller's RFLAGS.
 */
static long do_uiret(void *arg)
{
	(void)arg;
	asm volatile("mov %%rsp, %%r12\n\t"
		     "pushfq\n\t"
		     "pop %%r13\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "mov %[rip], %%rcx\n\t"
		     "test %%rcx, %%rcx\n\t"
		     "cmovnz %%rcx, %%rax\n\t"
		     "push %[prsp]\n\t"
		     "push %[pflags]\n\t"
		     "push %%rax\n\t"
		     "mov %%rsp, %[frame]\n\t"
		     "movq $0, %[fell]\n\t"
		     "push %[before]\n\t"
		     "popfq\n\t"
		     "pushfq\n\t"
		     "pop %[fbefore]\n\t"
		     UIRET_TRY
		     "pushfq\n\t"
		     "pop %[fafter]\n\t"
		     "mov %%r12, %%rsp\n\t"
		     "push %%r13\n\t"
		     "popfq"
		     : [frame] "=m"(ui_rsp_frame), [fell] "=m"(ui_fell),
		       [fbefore] "=m"(ui_flags_before), [rsp_after] "=m"(ui_rsp_after),
		       [fafter] "=m"(ui_flags_after)
		     : [rip] "m"(ui_rip), [prsp] "m"(ui_prsp), [pflags] "m"(ui_pflags),
		       [before] "m"(ui_before)
		     : "rax", "rcx", "r12", "r13", "memory", "cc");
	return last_fault()->vector | (long)last_fault()->ring << 8;
}

/*
 * Run @fn (do_uiret() or do_uiret_at()) in ring 0 with IF=0 or in ring 3;
 * *vec := the vector UIRET raised, or -1.  False if a ring-3 run ended by
 * an exception outside UIRET's fixup.
 */
static bool uiret_run(long (*fn)(void *), bool user, long *vec)
{
	long ret = -1;
	int v;

	if (user) {
		v = run_in_user(fn, NULL, USER_STACK_TOP, &ret, NULL);
		if (v != -1) {
			diag("UIRET test: ring-3 run ended by vector %d", v);
			*vec = v;
			return false;
		}
	} else {
		uint64_t fl = irq_save();

		ret = fn(NULL);
		irq_restore(fl);
	}
	*vec = (int8_t)(ret & 0xff);
	return true;
}

static void check_uiret(bool user)
{
	const char *ring = user ? "ring 3" : "ring 0";
	/* IF as the code runs: off in ring 0 (irq_save), on in ring 3. */
	uint64_t run_if = user ? FL_IF : 0;
	uint64_t set = FL_ARITH | FL_DF | FL_NT | FL_AC | FL_ID;
	uint64_t expect, prsp;
	long vec;

	/* 1: popped flags set every loadable bit (but TF, RF) plus IF, IOPL, VIF, VIP. */
	prsp = (uintptr_t)(scratch_stack + sizeof(scratch_stack) - 8);
	ui_before = 0x2;
	ui_rip = 0;
	ui_pflags = 0x2 | set | (run_if ^ FL_IF) | FL_IOPL | FL_VIF | FL_VIP;
	ui_prsp = prsp;
	clui();
	if (uiret_run(do_uiret, user, &vec)) {
		bool uif = testui();

		ok(vec == -1 && !ui_fell,
		   "[uiret] %s: UIRET jumps to the popped RIP, got vector %ld fell-through %lu",
		   ring, vec, ui_fell);
		ok(ui_rsp_after == prsp,
		   "[uiret] %s: UIRET loads RSP from [RSP+16] = %#lx (no alignment), got %#lx",
		   ring, prsp, ui_rsp_after);
		expect = (ui_flags_before & ~UIRET_MASK) | (ui_pflags & UIRET_MASK);
		ok(ui_flags_after == expect,
		   "[uiret] %s: UIRET loads only RFLAGS bits 0x254DD5 (CF PF AF ZF SF DF OF NT AC ID set; IF, IOPL, VIF, VIP not restored): before %#lx popped %#lx, expected %#lx, got %#lx",
		   ring, ui_flags_before, ui_pflags, expect, ui_flags_after);
		ok(uif, "[uiret] %s: UIRET sets UIF (TESTUI CF=1 after UIRET with UIF=0 before)", ring);
	} else {
		ok(false, "[uiret] %s: UIRET with a valid frame returns (vector %ld)", ring, vec);
	}

	/* 2: flags set before, popped flags clear: the loadable bits are cleared. */
	ui_before = 0x2 | set;
	ui_pflags = 0x2 | run_if;
	clui();
	if (uiret_run(do_uiret, user, &vec)) {
		expect = (ui_flags_before & ~UIRET_MASK) | (ui_pflags & UIRET_MASK);
		ok(vec == -1 && !ui_fell && ui_flags_after == expect,
		   "[uiret] %s: UIRET clears CF PF AF ZF SF DF OF NT AC ID from a frame with them 0: before %#lx popped %#lx, expected %#lx, got %#lx (vector %ld)",
		   ring, ui_flags_before, ui_pflags, expect, ui_flags_after, vec);
	} else {
		ok(false, "[uiret] %s: UIRET clearing flags returns (vector %ld)", ring, vec);
	}

	/* 3: non-canonical RIP: #GP(0), RSP, RFLAGS and UIF unchanged. */
	ui_before = 0x2 | FL_CF | FL_ZF;
	ui_rip = NONCANONICAL;
	ui_pflags = 0x2 | run_if;
	clui();
	if (uiret_run(do_uiret, user, &vec)) {
		/* ASM_TRY recorded the fault, in ring 3 too. */
		struct fault *f = last_fault();
		bool uif = testui();

		ok(vec == GP_VECTOR && f->error_code == 0 && f->ring == (user ? 3 : 0) && !ui_fell,
		   "[uiret] %s: UIRET to non-canonical RIP %#lx raises #GP(0), got vector %ld error %#x ring %d",
		   ring, NONCANONICAL, vec, f->error_code, f->ring);
		ok(ui_rsp_after == ui_rsp_frame && ui_flags_after == ui_flags_before && !uif,
		   "[uiret] %s: the faulting UIRET changes nothing: RSP %#lx (got %#lx), RFLAGS %#lx (got %#lx), UIF 0 (got %d)",
		   ring, ui_rsp_frame, ui_rsp_after, ui_flags_before, ui_flags_after, uif);
	} else {
		ok(false, "[uiret] %s: UIRET to a non-canonical RIP comes back with #GP (vector %ld)",
		   ring, vec);
	}
	ui_rip = 0;
}

/* In/out of do_uiret_at(). */
uint64_t uf_frame, uf_rsp_after, uf_fell;

/*
 * RSP := uf_frame, whose first slot gets the landing label, then UIRET.
 * Records RSP at the landing label (or the fault fixup) and whether UIRET
 * fell through; restores RSP and RFLAGS.
 */
static long do_uiret_at(void *arg)
{
	(void)arg;
	asm volatile("mov %%rsp, %%r12\n\t"
		     "pushfq\n\t"
		     "pop %%r13\n\t"
		     "mov %[frame], %%rcx\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "mov %%rax, (%%rcx)\n\t"
		     "movq $0, %[fell]\n\t"
		     "mov %%rcx, %%rsp\n\t"
		     UIRET_TRY
		     "mov %%r12, %%rsp\n\t"
		     "push %%r13\n\t"
		     "popfq"
		     : [fell] "=m"(uf_fell), [rsp_after] "=m"(uf_rsp_after)
		     : [frame] "m"(uf_frame)
		     : "rax", "rcx", "r12", "r13", "memory", "cc");
	return last_fault()->vector | (long)last_fault()->ring << 8;
}

/*
 * UIRET reads its 24-byte frame before it changes anything: with RIP and
 * RFLAGS on a mapped page and the RSP slot on the next, not-present page,
 * it raises #PF for a read of that page and leaves RSP and UIF as they
 * were; with the page mapped the same frame returns.
 */
static void check_uiret_pf(bool user)
{
	const char *ring = user ? "ring 3" : "ring 0";
	uintptr_t va = TEST_REGION_BASE + (user ? 8 : 4) * PAGE_SIZE;
	uint64_t *frame = (uint64_t *)(va + PAGE_SIZE - 16);
	uint32_t want_err = user ? PF_ERR_U : 0;
	struct fault *f = last_fault();
	long vec;
	bool ran;

	map_page(va, alloc_page(), PTE_W | PTE_U);
	unmap_page(va + PAGE_SIZE);
	frame[1] = 0x2 | (user ? FL_IF : 0);
	uf_frame = (uintptr_t)frame;
	clui();
	ran = uiret_run(do_uiret_at, user, &vec);
	ok(ran && vec == PF_VECTOR && f->ring == (user ? 3 : 0) && f->cr2 == va + PAGE_SIZE &&
	   f->error_code == want_err && !uf_fell,
	   "[uiret-pf] %s: UIRET with its RSP slot at not-present %#lx raises #PF there (error %#x), got vector %ld ring %d CR2 %#lx error %#x",
	   ring, va + PAGE_SIZE, want_err, vec, f->ring, f->cr2, f->error_code);
	ok(uf_rsp_after == (uintptr_t)frame && !testui(),
	   "[uiret-pf] %s: the faulting UIRET changes nothing: RSP %p (got %#lx), UIF 0 (got %d)",
	   ring, frame, uf_rsp_after, testui());

	map_page(va + PAGE_SIZE, alloc_page(), PTE_W | PTE_U);
	frame[2] = (uintptr_t)frame;
	ran = uiret_run(do_uiret_at, user, &vec);
	ok(ran && vec == -1 && !uf_fell && uf_rsp_after == (uintptr_t)frame && testui(),
	   "[uiret-pf] %s: with the page mapped the same frame returns: RSP %p, UIF 1, got vector %ld RSP %#lx UIF %d",
	   ring, frame, vec, uf_rsp_after, testui());
	clui();
	unmap_page(va);
	unmap_page(va + PAGE_SIZE);
}

/*
 * Flexible UIRET (CPUID.(7,1):EDX.UIRET_UIF[17]): UIF := bit 1 of the
 * popped RFLAGS image; without it UIF := 1 whatever the image says.
 */
static void check_uiret_uif(bool user, bool flexible)
{
	const char *ring = user ? "ring 3" : "ring 0";
	long vec;

	ui_before = 0x2;
	ui_rip = 0;
	ui_prsp = (uintptr_t)(scratch_stack + sizeof(scratch_stack) - 8);
	for (int bit1 = 0; bit1 <= 1; bit1++) {
		bool want = flexible ? bit1 : true;

		ui_pflags = bit1 ? 0x2 : 0;
		if (user)
			ui_pflags |= FL_IF;
		if (bit1)
			clui();
		else
			stui();
		if (uiret_run(do_uiret, user, &vec)) {
			bool uif = testui();

			ok(vec == -1 && !ui_fell && uif == want,
			   "[uiret-uif] %s: UIRET with RFLAGS image bit 1 = %d and UIF %d before: UIF %d (%s), got %d (vector %ld)",
			   ring, bit1, !bit1, want,
			   flexible ? "UIRET_UIF: UIF := RFLAGS[1]" : "UIF := 1",
			   uif, vec);
		} else {
			ok(false, "[uiret-uif] %s: UIRET with RFLAGS image bit 1 = %d returns (vector %ld)",
			   ring, bit1, vec);
		}
	}
	clui();
}

/* ---- RDPKRU/WRPKRU */

static void check_pkru(bool pku)
{
	uint32_t got = 0;
	int vec;

	if (!pku) {
		vec = probe_rdpkru(&got);
		ok(vec == UD_VECTOR, "[pkru] RDPKRU (0F 01 EE) without PKU raises #UD, got vector %d", vec);
		return;
	}
	set_cr4_bit(X86_CR4_PKE, false);
	vec = probe_rdpkru(&got);
	ok(vec == UD_VECTOR, "[pkru] RDPKRU (0F 01 EE) with CR4.PKE=0 raises #UD, got vector %d", vec);

	set_cr4_bit(X86_CR4_PKE, true);
	if (has_uintr)
		clui();
	vec = probe_wrpkru(0x55550000);
	int rvec = probe_rdpkru(&got);
	ok(vec == -1 && rvec == -1 && got == 0x55550000,
	   "[pkru] with CR4.PKE=1 RDPKRU reads what WRPKRU wrote (0x55550000), got %#x (vectors %d, %d)",
	   got, vec, rvec);
	if (has_uintr) {
		bool uif = testui();

		ok(!uif, "[pkru] WRPKRU (0F 01 EF, no F3) is not STUI: UIF stays 0, got %d", uif);
		stui();
		vec = probe_rdpkru(&got);
		uif = testui();
		ok(vec == -1 && got == 0x55550000 && uif,
		   "[pkru] RDPKRU (0F 01 EE, no F3) is not CLUI: UIF stays 1 and PKRU reads %#x, got UIF %d PKRU %#x (vector %d)",
		   0x55550000, uif, got, vec);
		clui();
	}
	probe_wrpkru(0);
	set_cr4_bit(X86_CR4_PKE, false);
}

int main(void)
{
	int want_uintr = arg_flag("uintr", true);
	int want_pku = arg_flag("pku", false);
	int want_uiret_uif = arg_flag("uiret_uif", false);
	struct cpuid c = cpuid_count(7, 0);
	bool has_pku, has_uiret_uif;
	long ret;
	int vec;

	has_uintr = uintr_supported();
	has_pku = !!(c.c & CPUID_7_0_ECX_PKU);
	if (!ok(has_uintr == want_uintr && has_pku == want_pku,
		"[cpuid] CPUID.(7,0):EDX[5] UINTR = %d and ECX[3] PKU = %d as the command line says, got %d and %d",
		want_uintr, want_pku, has_uintr, has_pku))
		return tap_done();
	/* Leaf 7 sub-leaf 1 exists when EAX of sub-leaf 0 says so. */
	has_uiret_uif = c.a >= 1 && (cpuid_count(7, 1).d & CPUID_7_1_EDX_UIRET_UIF);
	if (!ok(has_uiret_uif == want_uiret_uif,
		"[cpuid] CPUID.(7,1):EDX[17] UIRET_UIF = %d as the command line says, got %d",
		want_uiret_uif, has_uiret_uif))
		return tap_done();

	if (!has_uintr) {
		check_ud_all(plain, 4, "without CPUID.UINTR");
		for (int i = 0; i < 4; i++)
			check_ud_ring3(&plain[i], "without CPUID.UINTR");
		check_pkru(has_pku);
		return tap_done();
	}

	/* Nothing has executed STUI yet: this is UIF's reset value. */
	set_cr4_bit(X86_CR4_UINTR, true);
	ok(!testui(), "[reset] UIF is 0 after reset (first TESTUI gives CF=0)");

	/* CR4.UINTR=0: #UD in both rings. */
	set_cr4_bit(X86_CR4_UINTR, false);
	check_ud_all(plain, 4, "with CR4.UINTR=0");
	check_ud_ring3(&plain[0], "with CR4.UINTR=0");
	check_ud_ring3(&plain[3], "with CR4.UINTR=0");
	set_cr4_bit(X86_CR4_UINTR, true);

	check_ud_all(locked, 4, "with a LOCK prefix (CR4.UINTR=1)");
	check_ud_ring3(&locked[0], "with a LOCK prefix");

	vec = probe_stui();
	ok(vec == -1 && testui(), "[stui] ring 0: STUI sets UIF (TESTUI CF=1), vector %d", vec);
	vec = probe_clui();
	ok(vec == -1 && !testui(), "[clui] ring 0: CLUI clears UIF (TESTUI CF=0), vector %d", vec);

	ret = 0;
	vec = run_in_user(user_stui_clui, NULL, USER_STACK_TOP, &ret, NULL);
	ok(vec == -1 && (ret & 0xff) == 5 && ret >> 8 == 3,
	   "[cpl][stui][clui] ring 3: STUI, CLUI, TESTUI work at CPL 3 (UIF 1,0,1 expected mask 5), got mask %ld CPL %ld (vector %d)",
	   ret & 0xff, ret >> 8, vec);

	check_testui_flags();
	check_uiret(false);
	check_uiret(true);
	check_uiret_pf(false);
	check_uiret_pf(true);
	check_uiret_uif(false, has_uiret_uif);
	check_uiret_uif(true, has_uiret_uif);
	check_pkru(has_pku);

	clui();
	set_cr4_bit(X86_CR4_UINTR, false);
	return tap_done();
}
