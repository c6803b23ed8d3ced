/*
 * Model-based fuzzing of SENDUIPI, user-interrupt notification processing,
 * user-interrupt delivery and the UINTR MSRs.
 *
 * Each iteration picks one operation with random operands, predicts its
 * architectural outcome from a small model of the rules below, runs it and
 * compares: the exception (vector, error code, CR2, ring), the UPID bytes
 * it wrote (status and PIR of the target UPID and of the UPID at
 * IA32_UINTR_PD), IA32_UINTR_RR read with RDMSR, every ordinary interrupt
 * counted through the IDT on every CPU, the vectors that reach the
 * user-interrupt handler, and after every operation all six UINTR MSRs.
 * Any difference is a mismatch; the run passes only with 0 mismatches.
 * QEMU must not crash or hang whatever the guest puts in the structures.
 *
 * The model (ISE "User Interrupts"; notes in shared/spec/uintr-spec.md):
 *   WRMSR 985H-98AH (any CR4.UINTR):
 *     RR any value; HANDLER, STACKADJUST #GP(0) if not canonical for the
 *     CPU's widest linear-address width (48, or 57 with LA57 in CPUID);
 *     MISC #GP(0) if bits 63:40 != 0; PD #GP(0) if not canonical or
 *     bits 5:0 != 0; TT #GP(0) if not canonical or bits 3:1 != 0.  After
 *     #GP the MSR keeps its value, otherwise RDMSR returns what was written.
 *   SENDUIPI reg, ring 0 or ring 3, in this order:
 *     #UD if CR4.UINTR = 0 or IA32_UINTR_TT[0] = 0;
 *     #GP(0) if reg > UITTSZ (64-bit compare, UITTSZ = MISC[31:0]);
 *     UITT entry at (TT & ~0xf) + reg * 16, read with supervisor
 *     privilege: #PF, error code 0 (P = 0, read, U/S = 0) and CR2 = the
 *     entry if unmapped; #GP(0) if not canonical for the current paging
 *     mode (4-level: 48 bits, even on a CPU with LA57);
 *     #GP(0) if entry V = 0, a reserved bit (7:1, 63:16, so UV >= 64) or
 *     UPIDADDR bits 5:0 are set;
 *     UPID at UPIDADDR: #GP(0) if not canonical (current paging mode),
 *     #PF with P = 0, U/S = 0, W = 1 (the locked read-modify-write
 *     faults as a write, in both TCG modes) and CR2 in the UPID if
 *     unmapped, #GP(0) if
 *     the UPID has a reserved bit set (15:2, 31:24); a faulting SENDUIPI
 *     writes nothing and sends nothing;
 *     else PIR[UV] := 1; if SN = ON = 0: ON := 1 and an ordinary fixed
 *     physical IPI with vector NV goes to NDST[15:8] (xAPIC mode; the
 *     other NDST bits are ignored) or the 32-bit NDST (x2APIC mode); 0xff
 *     (xAPIC) and 0xffffffff (x2APIC) are broadcasts, a destination no CPU
 *     has reaches nobody.
 *   An ordinary interrupt with vector V on CPU 0 (IF = 1), from SENDUIPI
 *   or a self IPI: if CR4.UINTR = 1 and V = UINV (MISC[39:32]),
 *     notification processing instead of the IDT, whatever the CPL: UPID
 *     at PD: ON := 0 (nothing else in the status changes, reserved bits
 *     included), UIRR |= PIR, PIR := 0; else V goes through the IDT (CPU 1
 *     never has CR4.UINTR: it counts every V).
 *   Delivery, ring 3 after STUI, UIRR != 0: one handler run per set UIRR
 *     bit, highest vector first, frame = vector, RIP, RFLAGS, old RSP at
 *     ((STACKADJUST[0] ? STACKADJUST : old RSP - STACKADJUST) & ~0xf) - 32,
 *     UIRR = 0 afterwards; #GP(0) in ring 3 with nothing delivered if
 *     UIHANDLER is not canonical for the current paging mode (LA57 CPUs).
 *
 * Not modelled, so never generated: UPIDs and UITTs in MMIO or unassigned
 * memory, notification processing with an unmapped PD (the architecture
 * does not say), NV outside 0x40-0x7f (vectors the guest does not count),
 * read-only pages.
 *
 * Command line: iterations=N (default 20000), seed=S (default 1;
 * seed=tsc picks one from the TSC), apic=xapic|x2, uintr=1.  The seed is
 * printed; the same seed replays the same operations.  1 or 2 CPUs
 * (CPU 1 only receives IPIs).
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "irqcount.h"
#include "paging.h"
#include "printf.h"
#include "processor.h"
#include "rand.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"
#include <stdarg.h>

#define NSLOT		64
#define UITT_AREA	8192
#define UITTE_RESV	0xffffffffffffc0feull
#define UPID_RESV	0x00000000ff00fffcull
#define VEC_LO		0x40
#define VEC_HI		0x7f
#define UNMAPPED_TT	(TEST_REGION_BASE + 16 * PAGE_SIZE)
#define UNMAPPED_UPID	(TEST_REGION_BASE + 64 * PAGE_SIZE)
#define REPORT_MAX	20

static struct upid slots[NSLOT] __attribute__((aligned(4096)));
static uint8_t uitt_area[UITT_AREA] __attribute__((aligned(4096)));
static char user_stack[4096] __attribute__((aligned(16)));
static char alt_stack[4096] __attribute__((aligned(16)));

static uint64_t rng_state;
static bool la57_cpu, x2;
static int ncpu;

/* The model of CPU 0's user-interrupt state. */
static struct {
	bool cr4;
	uint64_t msr[6];	/* RR HANDLER STACKADJUST MISC PD TT */
} m;
enum { RR, HANDLER, SADJ, MISC, PD, TT };
static const uint32_t msr_index[6] = {
	MSR_IA32_UINTR_RR, MSR_IA32_UINTR_HANDLER, MSR_IA32_UINTR_STACKADJUST,
	MSR_IA32_UINTR_MISC, MSR_IA32_UINTR_PD, MSR_IA32_UINTR_TT,
};
static const char *const msr_name[6] = { "RR", "HANDLER", "STACKADJUST", "MISC", "PD", "TT" };

static unsigned want_irq[2][256];

static uint64_t it_now;
static unsigned mismatches;
static unsigned n_ops[4], n_ud, n_gp, n_pf, n_pf_w, n_post, n_notify, n_nproc, n_idt,
	n_idt1, n_nobody, n_wr_ok, n_wr_gp, n_deliv, n_deliv_gp, n_ring3;

/* ---- PRNG: xorshift64* */

static uint64_t rnd(void)
{
	return xorshift64s(&rng_state);
}

/* True with probability n/32. */
static bool chance(unsigned n)
{
	return (rnd() & 31) < n;
}

/* ---- address classes */

static bool canonical_bits(uint64_t a, int bits)
{
	int shift = 64 - bits;

	return (uint64_t)((int64_t)(a << shift) >> shift) == a;
}

/* For WRMSR: the CPU's widest linear-address width. */
static bool canon_max(uint64_t a)
{
	return canonical_bits(a, la57_cpu ? 57 : 48);
}

/* For memory accesses: the current paging mode, 4-level here. */
static bool canon_cur(uint64_t a)
{
	return canonical_bits(a, (read_cr4() & (1ul << 12)) ? 57 : 48);
}

enum where { W_UITT, W_SLOT, W_UNMAPPED, W_NONCANON, W_OTHER };

/* Only PML4[0] is present (boot.S), and nothing maps the test region. */
static bool unmapped(uint64_t a)
{
	return (a >= TEST_REGION_BASE && a < TEST_REGION_BASE + TEST_REGION_SIZE) ||
	       ((a >> 39) & 511) != 0;
}

static enum where classify(uint64_t a, uint64_t len)
{
	uintptr_t s = (uintptr_t)slots, u = (uintptr_t)uitt_area;

	if (!canon_cur(a) || !canon_cur(a + len - 1))
		return W_NONCANON;
	if (a >= u && a + len <= u + UITT_AREA)
		return W_UITT;
	if (a >= s && a + len <= s + sizeof(slots))
		return W_SLOT;
	if (unmapped(a) && unmapped(a + len - 1) && (a >> 39) == ((a + len - 1) >> 39))
		return W_UNMAPPED;
	return W_OTHER;
}

/* A canonical (max width) address outside everything mapped. */
static uint64_t unmapped_addr(void)
{
	switch (rnd() % 3) {
	case 0:
		return (1ull << 39) + (rnd() & ((1ull << 46) - 1));
	case 1:
		return 0xffff800000000000ull | (rnd() & ((1ull << 47) - 1));
	default:
		return UNMAPPED_UPID + (rnd() % (256 * PAGE_SIZE));
	}
}

/* Not canonical for the current paging mode (maybe canonical for LA57). */
static uint64_t noncanon_addr(void)
{
	switch (rnd() % 4) {
	case 0:
		return 0x0000800000000000ull + (rnd() & 0xffffffffff);
	case 1:
		return 0xffff7fffffffff00ull - (rnd() & 0xfffffff);
	case 2:
		return 0x0080000000000000ull | (rnd() & 0xffffffffffff);	/* LA57-canonical */
	default:
		return (rnd() | 1ull << 62) & ~(1ull << 63);
	}
}

/* ---- reporting */

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void mismatch(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	mismatches++;
	if (mismatches > REPORT_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag("MISMATCH iteration %lu: %s", it_now, buf);
}

/* ---- state */

static void set_cr4(bool on)
{
	uint64_t cr4 = read_cr4();

	write_cr4(on ? cr4 | X86_CR4_UINTR : cr4 & ~X86_CR4_UINTR);
	m.cr4 = on;
}

static uint8_t uinv(void)
{
	return m.msr[MISC] >> 32;
}

static bool wrmsr_gp(int i, uint64_t v)
{
	switch (i) {
	case HANDLER:
	case SADJ:
		return !canon_max(v);
	case MISC:
		return (v >> 40) != 0;
	case PD:
		return !canon_max(v) || (v & 0x3f);
	case TT:
		return !canon_max(v) || (v & 0xe);
	}
	return false;
}

/* WRMSR checked against the model; returns whether it took. */
static bool checked_wrmsr(int i, uint64_t v)
{
	bool gp = wrmsr_gp(i, v);
	int vec = wrmsr_safe(msr_index[i], v);
	uint32_t err = last_fault()->error_code;
	uint64_t back;

	if (vec != (gp ? GP_VECTOR : -1) || (vec == GP_VECTOR && err != 0))
		mismatch("WRMSR %s %#lx: vector %d error %#x, want %s", msr_name[i], v, vec, err,
			 gp ? "#GP(0)" : "no fault");
	if (vec == -1) {
		m.msr[i] = v;
		n_wr_ok++;
	} else {
		n_wr_gp++;
	}
	back = rdmsr(msr_index[i]);
	if (back != m.msr[i]) {
		mismatch("RDMSR %s after WRMSR %#lx (vector %d): %#lx, want %#lx", msr_name[i], v,
			 vec, back, m.msr[i]);
		m.msr[i] = back;
	}
	return vec == -1;
}

static void check_msrs(const char *after)
{
	for (int i = 0; i < 6; i++) {
		uint64_t v = rdmsr(msr_index[i]);

		if (v != m.msr[i]) {
			mismatch("after %s: RDMSR %s = %#lx, want %#lx", after, msr_name[i], v,
				 m.msr[i]);
			m.msr[i] = v;
		}
	}
}

static bool irqs_match(void)
{
	for (int c = 0; c < ncpu && c < 2; c++)
		for (int v = VEC_LO; v <= VEC_HI; v++)
			if (irq_count(c, v) != want_irq[c][v])
				return false;
	return true;
}

static void check_irqs(const char *after)
{
	/* CPU 0's own interrupts are taken at once; CPU 1's may take a while. */
	if (!wait_until(irqs_match(), 500)) {
		for (int c = 0; c < ncpu && c < 2; c++)
			for (int v = VEC_LO; v <= VEC_HI; v++)
				if (irq_count(c, v) != want_irq[c][v]) {
					mismatch("after %s: CPU %d took vector %#x %u times through the IDT, want %u",
						 after, c, v, irq_count(c, v), want_irq[c][v]);
					want_irq[c][v] = irq_count(c, v);
				}
	}
}

/* ---- random values */

static uint8_t some_vector(void)
{
	return VEC_LO + rnd() % (VEC_HI - VEC_LO + 1);
}

static uint64_t some_addr_msr(uint64_t align)
{
	uint64_t a;

	switch (rnd() % 8) {
	case 0:
		a = noncanon_addr();
		break;
	case 1:
		a = (rnd() & 1) ? 0x00007fffffffff00ull : 0xffff800000000000ull;
		if (la57_cpu && (rnd() & 1))
			a = (rnd() & 1) ? 0x00ffffffffffff00ull : 0xff00000000000000ull;
		break;
	case 2:
		a = unmapped_addr();
		break;
	case 3:
		a = rnd();
		break;
	default:
		a = rnd() & 0x3fffffff;
	}
	if (!chance(6))
		a &= ~align;
	return a;
}

static uint64_t some_misc(void)
{
	uint64_t sz, v;

	switch (rnd() % 8) {
	case 0:
		sz = 0;
		break;
	case 1:
		sz = 0xffffffff;
		break;
	case 2:
		sz = rnd() & 0xffffffff;
		break;
	case 3:
		sz = rnd() % 256;
		break;
	default:
		sz = rnd() % 16;
	}
	v = sz | (uint64_t)(chance(24) ? some_vector() : (uint8_t)rnd()) << 32;
	if (chance(2))
		v |= (rnd() & 0xffffff) << 40 | 1ull << (40 + rnd() % 24);
	return v;
}

static uint64_t some_ndst(void)
{
	uint32_t id;

	switch (rnd() % 10) {
	case 0: case 1: case 2: case 3:
		id = cpu_apic_id(0);
		break;
	case 4: case 5:
		id = cpu_apic_id(ncpu > 1 ? 1 : 0);
		break;
	case 6:
		id = x2 ? 0xffffffff : 0xff;
		break;
	default:
		do
			id = x2 ? (uint32_t)rnd() : rnd() % 0xff;
		while (id == cpu_apic_id(0) || (ncpu > 1 && id == cpu_apic_id(1)) ||
		       id == 0xffffffff);
	}
	if (x2)
		return UPID_NDST_X2APIC(id);
	/* xAPIC: only NDST[15:8] counts; sometimes garbage around it. */
	return UPID_NDST_XAPIC(id) | (chance(10) ? (rnd() & 0xffff00ff00000000ull) : 0);
}

static uint64_t some_status(uint8_t nv)
{
	uint64_t st = UPID_NV(nv) | some_ndst();

	if (chance(8))
		st |= UPID_ON;
	if (chance(8))
		st |= UPID_SN;
	if (chance(3))
		st |= 1ull << (rnd() & 1 ? 2 + rnd() % 14 : 24 + rnd() % 8);
	return st;
}

static uint64_t some_pir(void)
{
	return chance(16) ? 0 : chance(8) ? 1ull << (rnd() % 64) : rnd() & rnd();
}

/* NV: UINV if it is one the guest counts, else a counted vector. */
static uint8_t some_nv(void)
{
	uint8_t u = uinv();

	return chance(14) && u >= VEC_LO && u <= VEC_HI ? u : some_vector();
}

/* ---- interrupts: what the model expects when vector v reaches CPU c */

/* *pd: the expected copy of the UPID at IA32_UINTR_PD, updated here. */
static void model_interrupt(int c, uint8_t v, struct upid *pd)
{
	if (c == 0 && m.cr4 && v == uinv()) {
		pd->status &= ~UPID_ON;
		m.msr[RR] |= pd->pir;
		pd->pir = 0;
		n_nproc++;
	} else {
		want_irq[c][v]++;
		if (c == 0)
			n_idt++;
		else
			n_idt1++;
	}
}

static void model_ipi(uint64_t status, struct upid *pd)
{
	uint32_t ndst = status >> 32, dest = x2 ? ndst : (ndst >> 8) & 0xff;
	bool bcast = dest == (x2 ? 0xffffffffu : 0xffu), any = false;

	for (int c = 0; c < ncpu && c < 2; c++)
		if (bcast || dest == cpu_apic_id(c)) {
			model_interrupt(c, status >> 16, pd);
			any = true;
		}
	if (!any)
		n_nobody++;
}

/* PD: always a UPID slot, so notification processing is always modelled. */
static void setup_pd(void)
{
	if (chance(4))		/* a PD WRMSR that must fail: model keeps the slot */
		checked_wrmsr(PD, chance(16) ? (uintptr_t)&slots[rnd() % NSLOT] + 1 + rnd() % 63
					     : noncanon_addr() & ~0x3full);
	if (chance(20) || classify(m.msr[PD], 16) != W_SLOT || (m.msr[PD] & 0x3f))
		checked_wrmsr(PD, (uintptr_t)&slots[rnd() % NSLOT]);
}

/* ---- the operations */

struct send_arg {
	uint64_t idx;
};

static long do_senduipi(void *arg)
{
	asm volatile("senduipi %0" : : "r"(((struct send_arg *)arg)->idx) : "memory");
	return 0;
}

static void check_upid(const char *what, struct upid *u, uint64_t st, uint64_t pir)
{
	uint64_t s = __atomic_load_n(&u->status, __ATOMIC_ACQUIRE);
	uint64_t p = __atomic_load_n(&u->pir, __ATOMIC_ACQUIRE);

	if (s != st || p != pir)
		mismatch("%s: UPID %p status %#lx PIR %#lx, want status %#lx PIR %#lx", what, u, s,
			 p, st, pir);
	/* the expected values become the truth for the next operation */
	u->status = s;
	u->pir = p;
}

static void op_senduipi(void)
{
	uint64_t tt, base, idx, ent_addr, lo = 0, upidaddr = 0, cr2_lo = 0, cr2_hi = 0, uittsz;
	uint64_t before_st[NSLOT], before_pir[NSLOT];
	struct upid e_tgt = { 0, 0 }, e_pd, *tgt = NULL, *pd;
	struct send_arg a;
	enum where ent_w, up_w = W_OTHER;
	int want = -1, vec, ring = chance(16) ? 3 : 0;
	struct fault f = { 0 };
	char what[112];

	n_ops[0]++;
	set_cr4(!chance(1));
	if (chance(24))
		checked_wrmsr(MISC, some_misc());
	setup_pd();

	/*
	 * IA32_UINTR_TT: the UITT area at a 16-byte offset, an unmapped table,
	 * an address canonical only with LA57, or anything (mostly refused).
	 */
	switch (rnd() % 16) {
	case 0:
		tt = UNMAPPED_TT + (rnd() % 64) * 16;
		break;
	case 1:
		tt = la57_cpu ? noncanon_addr() & ~0xfull : (uintptr_t)uitt_area;
		break;
	case 2:
		tt = some_addr_msr(0xf);
		break;
	default:
		tt = (uintptr_t)uitt_area + (rnd() % 256) * 16;
	}
	checked_wrmsr(TT, tt | !chance(1));
	base = m.msr[TT] & ~0xfull;
	uittsz = m.msr[MISC] & 0xffffffff;

	/* The index: mostly one that reads an entry we control, else past UITTSZ. */
	idx = ~0ull;
	if (chance(26)) {
		uint64_t max = 255;

		if (classify(base, 16) == W_UITT)
			max = ((uintptr_t)uitt_area + UITT_AREA - base) / 16 - 1;
		if (max > uittsz)
			max = uittsz;
		idx = rnd() % (max + 1);
		ent_w = classify(base + idx * 16, 16);
		if (ent_w != W_UITT && ent_w != W_UNMAPPED && ent_w != W_NONCANON)
			idx = ~0ull;
	}
	if (idx == ~0ull) {
		switch (rnd() % 4) {
		case 0:
			idx = uittsz + 1;
			break;
		case 1:
			idx = 1ull << 32 | (rnd() & 0xff);
			break;
		case 2:
			idx = ~0ull - (rnd() & 0xff);
			break;
		default:
			idx = uittsz + 1 + (rnd() & 0xffff);
		}
	}
	ent_addr = base + idx * 16;
	ent_w = classify(ent_addr, 16);
	a.idx = idx;

	/* The entry and its UPID. */
	if (idx <= uittsz && ent_w == W_UITT) {
		unsigned uv = chance(28) ? rnd() % 64 : rnd() & 0xff;
		unsigned k = rnd() % 32;

		lo = (chance(30) ? 1 : 0) | (uint64_t)uv << 8;
		if (chance(2))
			lo |= 1ull << (1 + rnd() % 7);
		if (chance(2))
			lo |= 1ull << (16 + rnd() % 48);
		if (k < 2)
			upidaddr = m.msr[PD] + 1 + rnd() % 63;
		else if (k < 4)
			upidaddr = (uintptr_t)&slots[rnd() % NSLOT] + 1 + rnd() % 63;
		else if (k < 7)
			upidaddr = unmapped_addr() & ~0x3full;
		else if (k < 9)
			upidaddr = noncanon_addr() & ~(chance(28) ? 0x3full : 0);
		else if (k < 17)
			upidaddr = m.msr[PD];
		else
			upidaddr = (uintptr_t)&slots[rnd() % NSLOT];
		((uint64_t *)(uintptr_t)ent_addr)[0] = lo;
		((uint64_t *)(uintptr_t)ent_addr)[1] = upidaddr;
		up_w = classify(upidaddr, 16);
		if (up_w == W_SLOT && !(upidaddr & 0x3f)) {
			tgt = (struct upid *)(uintptr_t)upidaddr;
			tgt->status = some_status(some_nv());
			tgt->pir = some_pir();
		}
	}
	pd = (struct upid *)(uintptr_t)m.msr[PD];
	if (pd != tgt && chance(16)) {
		pd->status = some_status(some_vector());
		pd->pir = some_pir();
	}
	for (int i = 0; i < NSLOT; i++) {
		before_st[i] = slots[i].status;
		before_pir[i] = slots[i].pir;
	}

	/* The prediction, in the order of the SENDUIPI pseudo-code. */
	if (!m.cr4 || !(m.msr[TT] & 1)) {
		want = UD_VECTOR;
	} else if (idx > uittsz) {
		want = GP_VECTOR;
	} else if (ent_w == W_NONCANON) {
		want = GP_VECTOR;
	} else if (ent_w == W_UNMAPPED) {
		want = PF_VECTOR;
		cr2_lo = cr2_hi = ent_addr;
	} else if (!(lo & 1) || (lo & UITTE_RESV) || (upidaddr & 0x3f)) {
		want = GP_VECTOR;
	} else if (up_w == W_NONCANON) {
		want = GP_VECTOR;
	} else if (up_w == W_UNMAPPED) {
		want = PF_VECTOR;
		cr2_lo = upidaddr;
		cr2_hi = upidaddr + 15;
	} else if (!tgt) {
		bail_out("iteration %lu: UPID %#lx not modelled", it_now, upidaddr);
	} else if (tgt->status & UPID_RESV) {
		want = GP_VECTOR;
	}
	e_pd = *pd;
	if (tgt)
		e_tgt = *tgt;
	if (want == -1) {
		bool notify = !(e_tgt.status & (UPID_ON | UPID_SN));

		e_tgt.pir |= 1ull << ((lo >> 8) & 63);
		if (notify)
			e_tgt.status |= UPID_ON;
		n_post++;
		if (notify) {
			n_notify++;
			if (pd == tgt) {
				model_ipi(e_tgt.status, &e_tgt);
			} else {
				model_ipi(e_tgt.status, &e_pd);
			}
		}
	}
	if (pd == tgt)
		e_pd = e_tgt;

	snprintf(what, sizeof(what), "SENDUIPI %#lx ring %d (MISC %#lx TT %#lx UITTE %#lx:%#lx)",
		 idx, ring, m.msr[MISC], m.msr[TT], upidaddr, lo);
	if (ring == 3) {
		n_ring3++;
		vec = run_in_user(do_senduipi, &a, user_stack + sizeof(user_stack), NULL, &f);
	} else {
		vec = run_catch(do_senduipi, &a, NULL, &f);
	}
	for (int i = 0; i < 64; i++)
		cpu_relax();

	if (vec == UD_VECTOR)
		n_ud++;
	else if (vec == GP_VECTOR)
		n_gp++;
	else if (vec == PF_VECTOR)
		n_pf++;
	if (vec != want) {
		mismatch("%s: vector %d error %#x CR2 %#lx, want %d", what, vec, f.error_code, f.cr2,
			 want);
	} else if (vec != -1 && ring == 3 && f.ring != 3) {
		mismatch("%s: fault reported in ring %d, want 3", what, f.ring);
	} else if (vec == GP_VECTOR && f.error_code != 0) {
		mismatch("%s: #GP error code %#x, want 0", what, f.error_code);
	} else if (vec == PF_VECTOR) {
		bool upid_pf = cr2_lo != cr2_hi;

		if (f.error_code & PF_ERR_W)
			n_pf_w++;
		/* The UPID update is a locked read-modify-write: it faults as a
		 * write (W=1) in both TCG modes; the UITT read faults as a read. */
		if (f.error_code != (upid_pf ? PF_ERR_W : 0) || f.cr2 < cr2_lo ||
		    f.cr2 > cr2_hi)
			mismatch("%s: #PF error code %#x CR2 %#lx, want error %#x, CR2 %#lx-%#lx", what,
				 f.error_code, f.cr2, upid_pf ? PF_ERR_W : 0, cr2_lo, cr2_hi);
	}

	/* The UPID bytes: target and PD as predicted, every other slot untouched. */
	if (tgt)
		check_upid(what, tgt, e_tgt.status, e_tgt.pir);
	if (pd != tgt)
		check_upid(what, pd, e_pd.status, e_pd.pir);
	for (int i = 0; i < NSLOT; i++)
		if (&slots[i] != tgt && &slots[i] != pd &&
		    (slots[i].status != before_st[i] || slots[i].pir != before_pir[i]))
			mismatch("%s: slot %d changed: status %#lx PIR %#lx, was %#lx %#lx", what, i,
				 slots[i].status, slots[i].pir, before_st[i], before_pir[i]);
	check_irqs(what);
	check_msrs(what);
}

/* A self IPI with UINV or another vector: notification processing or the IDT. */
static void op_notify(void)
{
	struct upid *pd, exp;
	uint8_t v;
	char what[64];

	n_ops[1]++;
	set_cr4(!chance(2));
	if (chance(6))
		checked_wrmsr(MISC, some_misc());
	setup_pd();
	pd = (struct upid *)(uintptr_t)m.msr[PD];
	pd->status = some_status(some_vector());
	pd->pir = some_pir();
	v = some_nv();
	exp = *pd;
	model_interrupt(0, v, &exp);
	snprintf(what, sizeof(what), "self IPI %#x (UINV %#x, CR4.UINTR %d)", v, uinv(), m.cr4);
	apic_send_ipi(apic_id(), v);
	for (int i = 0; i < 64; i++)
		cpu_relax();
	check_upid(what, pd, exp.status, exp.pir);
	check_irqs(what);
	check_msrs(what);
}

static void op_wrmsr(void)
{
	int i = rnd() % 6;
	uint64_t v;

	n_ops[2]++;
	switch (i) {
	case RR:
		v = chance(8) ? 0 : rnd();
		break;
	case HANDLER:
	case SADJ:
		v = some_addr_msr(0);
		break;
	case MISC:
		v = some_misc();
		break;
	case PD:
		v = chance(16) ? (uintptr_t)&slots[rnd() % NSLOT] : some_addr_msr(0x3f);
		break;
	default:
		v = chance(16) ? (uintptr_t)uitt_area | (rnd() & 1) : some_addr_msr(0xe) | (rnd() & 1);
	}
	if (chance(4))
		set_cr4(!m.cr4);	/* the MSRs do not depend on CR4.UINTR */
	checked_wrmsr(i, v);
	/* Keep PD on a slot and TT on something classified (see setup_pd). */
	setup_pd();
	check_msrs("WRMSR");
}

/* ---- delivery */

static unsigned nrec;
static uint64_t rec_vec[64];
static uint64_t rec_frame[64], rec_rsp[64];

static void record(struct uintr_frame *frame)
{
	unsigned n = nrec;

	if (n < 64) {
		rec_vec[n] = frame->vector;
		rec_frame[n] = (uintptr_t)frame;
		rec_rsp[n] = frame->rsp;
	}
	STORE(&nrec, n + 1);
}

static long user_deliver(void *arg)
{
	unsigned want = (uintptr_t)arg;

	stui();
	wait_until(LOAD(&nrec) >= want, 200);
	udelay(20);
	clui();
	return 0;
}

static void op_deliver(void)
{
	uint64_t rr, sa;
	unsigned want;
	bool bad_handler = la57_cpu && chance(4);
	struct fault f = { 0 };
	int vec;

	n_ops[3]++;
	set_cr4(true);
	if (!m.msr[RR])
		checked_wrmsr(RR, chance(16) ? 1ull << (rnd() % 64) : rnd() | 1);
	rr = m.msr[RR];
	want = 0;
	for (uint64_t b = rr; b; b &= b - 1)
		want++;
	checked_wrmsr(HANDLER, bad_handler ? 0x0080000000000000ull : (uintptr_t)uintr_entry);
	switch (rnd() % 4) {
	case 0:
		sa = ((uintptr_t)alt_stack + sizeof(alt_stack) - 16 * (rnd() % 8) - (rnd() & 14)) | 1;
		break;
	case 1:
		sa = 0;
		break;
	case 2:
		sa = 8 * (rnd() % 40);
		break;
	default:
		sa = 128;
	}
	checked_wrmsr(SADJ, sa);
	STORE(&nrec, 0);
	vec = run_in_user(user_deliver, (void *)(uintptr_t)want,
			  user_stack + sizeof(user_stack), NULL, &f);
	clui();
	if (bad_handler && m.msr[HANDLER] == 0x0080000000000000ull) {
		n_deliv_gp++;
		if (vec != GP_VECTOR || f.ring != 3 || f.error_code != 0 || LOAD(&nrec) != 0)
			mismatch("delivery with UIHANDLER %#lx (not canonical in 4-level paging): "
				 "vector %d ring %d error %#x, %u handler runs; want #GP(0) in ring 3, none",
				 m.msr[HANDLER], vec, f.ring, f.error_code, LOAD(&nrec));
		check_msrs("delivery #GP");
		checked_wrmsr(RR, 0);
		return;
	}
	n_deliv += want;
	if (vec != -1 || LOAD(&nrec) != want) {
		mismatch("delivery of UIRR %#lx: vector %d, %u handler runs, want %u", rr, vec,
			 LOAD(&nrec), want);
	} else {
		uint64_t left = rr;

		for (unsigned i = 0; i < want && i < 64; i++) {
			uint64_t top = 63 - __builtin_clzll(left), exp_frame;

			exp_frame = ((sa & 1) ? sa : rec_rsp[i] - sa) & ~0xfull;
			exp_frame -= 32;
			if (rec_vec[i] != top || rec_frame[i] != exp_frame) {
				mismatch("delivery of UIRR %#lx (STACKADJUST %#lx): run %u got vector %lu frame %#lx (old RSP %#lx), want vector %lu frame %#lx",
					 rr, sa, i, rec_vec[i], rec_frame[i], rec_rsp[i], top, exp_frame);
				break;
			}
			left &= ~(1ull << top);
		}
	}
	m.msr[RR] = 0;
	check_msrs("delivery");
}

int main(void)
{
	const char *s = arg_get("iterations");
	uint64_t iterations = 0, seed = 0, t0;
	int has;

	for (; s && *s >= '0' && *s <= '9'; s++)
		iterations = iterations * 10 + (*s - '0');
	if (!iterations)
		iterations = 20000;
	s = arg_get("seed");
	if (s && !strcmp(s, "tsc")) {
		seed = rdtsc() ^ (rdtsc() << 29);
		seed = seed % 1000000000000ull + 1;
	} else {
		for (; s && *s >= '0' && *s <= '9'; s++)
			seed = seed * 10 + (*s - '0');
		if (!seed)
			seed = 1;
	}
	rng_state = seed * 0x9e3779b97f4a7c15ull;

	has = uintr_expected();
	if (has < 0)
		return tap_done();
	if (!has)
		bail_out("needs uintr=1 and -cpu ...,uintr=on");
	if (!apic_mode_init())
		return tap_done();
	ncpu = cpu_count() > 2 ? 2 : cpu_count();
	x2 = x2apic_enabled();
	la57_cpu = (cpuid_count(7, 0).c & (1u << 16)) != 0;
	diag("seed %lu (replay: seed=%lu), %lu iterations, %s mode, %d CPU(s), LA57 %s", seed, seed,
	     iterations, apic_mode_name(), ncpu, la57_cpu ? "in CPUID" : "absent");

	count_irqs(VEC_LO, VEC_HI);
	uintr_handler = record;
	/* Start from a known state, written through the checked path. */
	for (int i = 0; i < 6; i++)
		m.msr[i] = rdmsr(msr_index[i]);
	set_cr4(true);
	clui();
	checked_wrmsr(MISC, UINTR_MISC(0x50, 15));
	checked_wrmsr(PD, (uintptr_t)&slots[0]);
	checked_wrmsr(RR, 0);
	for (int c = 0; c < ncpu; c++)
		for (int v = VEC_LO; v <= VEC_HI; v++)
			want_irq[c][v] = irq_count(c, v);

	t0 = rdtsc();
	for (uint64_t it = 0; it < iterations; it++) {
		unsigned k = rnd() % 100;

		it_now = it;
		if (k < 55)
			op_senduipi();
		else if (k < 75)
			op_notify();
		else if (k < 93)
			op_wrmsr();
		else
			op_deliver();
	}
	check_irqs("the last operation");

	/* Leave things clean. */
	checked_wrmsr(RR, 0);
	wrmsr(MSR_IA32_UINTR_TT, 0);
	set_cr4(false);

	diag("seed %lu: %lu operations in %lu ms: %u SENDUIPI (%u ring 3), %u self IPIs, %u WRMSR ops, %u delivery ops",
	     seed, iterations, ms_since(t0), n_ops[0], n_ring3, n_ops[1], n_ops[2], n_ops[3]);
	diag("SENDUIPI outcomes: %u #UD, %u #GP, %u #PF (%u with W=1), %u posted, %u notifications sent: %u to nobody",
	     n_ud, n_gp, n_pf, n_pf_w, n_post, n_notify, n_nobody);
	diag("interrupts: %u notification processings, %u through CPU 0's IDT, %u through CPU 1's IDT; "
	     "%u user interrupts delivered, %u delivery #GP; WRMSR %u taken, %u #GP",
	     n_nproc, n_idt, n_idt1, n_deliv, n_deliv_gp, n_wr_ok, n_wr_gp);
	diag("seed %lu: %u mismatches", seed, mismatches);

	ok(mismatches == 0,
	   "%lu random SENDUIPI/notification/delivery/WRMSR operations (seed %lu) match the model: %u mismatches",
	   iterations, seed, mismatches);
	ok(n_ud && n_gp && n_pf && n_post && n_notify && n_nproc && n_idt && n_deliv && n_wr_ok &&
	   n_wr_gp && (ncpu < 2 || n_idt1) && n_nobody,
	   "every outcome was exercised: #UD %u, #GP %u, #PF %u, posted %u, notified %u, processed %u, "
	   "IDT %u/%u, nobody %u, delivered %u, WRMSR ok %u, WRMSR #GP %u", n_ud, n_gp, n_pf, n_post,
	   n_notify, n_nproc, n_idt, n_idt1, n_nobody, n_deliv, n_wr_ok, n_wr_gp);
	return tap_done();
}
