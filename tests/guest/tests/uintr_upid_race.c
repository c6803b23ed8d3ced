/*
 * One UPID hammered from two CPUs at once, every posted bit accounted for.
 *
 * The UPID belongs to CPU 1 (IA32_UINTR_PD, UINV = UINV1, NDST = CPU 1).
 * Writers, all concurrent:
 *
 *   CPU 0, ring 3   SENDUIPI in a loop through UITT entries whose user
 *                   vectors cycle over 32 values in uvs[] (both PIR halves,
 *                   0 and 63):
 *                   the processor's locked read-modify-write of the UPID
 *                   (PIR[UV] := 1, ON := 1 if ON = SN = 0, then the IPI).
 *   CPU 0, ring 0   between SENDUIPI batches, an OS-style post: LOCK BTS
 *                   or LOCK OR of the PIR bit, then LOCK CMPXCHG of the
 *                   status qword to set ON if ON = SN = 0, and if it did,
 *                   the notification IPI (vector UINV1 to CPU 1).
 *   CPU 1           notification processing (locked AND of ON, locked XCHG
 *                   of PIR, OR into UIRR), in ring 3 with UIF = 1 and in
 *                   ring 0, whenever UINV1 arrives.
 *   CPU 1, ring 0   between ring-3 slices, an OS "thread switch": LOCK BTS
 *                   of SN (suppress), a self-post with LOCK BTS of a PIR
 *                   bit while suppressed, a short wait, LOCK AND of ~SN,
 *                   and the re-check the architecture requires: if PIR !=
 *                   0, a self-IPI with UINV1 so notification processing
 *                   picks up what was posted while SN was 1.
 *
 * Exact accounting: a vector is posted only by whoever claims its
 * outstanding[] flag (compare-and-swap 0 -> 1); the user-interrupt handler
 * on CPU 1 releases it (exchange to 0).  So every vector has at most one
 * post in flight, and at the end, for every vector, posts == handler runs,
 * no handler ran for a vector that was not outstanding, nothing is left in
 * PIR, ON, SN or UIRR, and no UINV1 went through CPU 1's IDT.  Only CPU 1
 * writes SN, so LOCK BTS of SN must always find it clear and CPU 1 must
 * always find it still set before clearing it.
 *
 * Why this fails if the UPID updates are not atomic (thread=multi, where
 * the CPUs really run at once):
 *   - SENDUIPI as a plain 16-byte read, modify, write: a PIR XCHG or an SN
 *     or ON update by CPU 1 between the read and the write is undone.  The
 *     written-back PIR resurrects bits CPU 1 already moved to UIRR, so a
 *     vector is delivered twice: the second handler run finds outstanding
 *     clear (unless CPU 0 re-posted in between, which the cycling over
 *     uvs[] makes rare) and counts "bad"; an undone SN set or clear shows
 *     up in sn_lost/sn_stale; an ON resurrected with no notification in
 *     flight stays set at the end.
 *   - Notification processing reading PIR and then writing 0 separately: a
 *     SENDUIPI or a LOCK BTS in between loses its bit, the vector stays
 *     outstanding forever and posts != runs.
 *   - Clearing ON with a plain write of the status qword: an SN update by
 *     CPU 1's OS side cannot race it (same CPU), but an ON/PIR update by
 *     CPU 0 can: ON set by a post is lost, the post's PIR bit waits for a
 *     notification that never comes until the next SN re-check (late but
 *     counted); a lost SN from CPU 0's CMPXCHG would be seen as above.
 * nonatomic=1 makes CPU 0's OS-side post a plain load and store of PIR
 * with a delay between them, a non-atomic writer racing CPU 1's XCHG, to
 * show that the checks catch it: that run is expected to FAIL.
 *
 * Command line: uintr=1 (required), apic=xapic|x2, ms=N (how long CPU 0
 * posts, default 2000), nonatomic=0|1 (default 0), switch=0|1 (default 1;
 * 0: CPU 1 never switches out, so no SN traffic and no self posts).
 * Needs 2 CPUs.
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "irqcount.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"

#define UINV1		0x50	/* CPU 1's notification vector */
#define BATCH		16	/* SENDUIPIs per ring-3 run on CPU 0 */
#define DRAIN_MS	3000	/* time for the last posts to arrive */
#define NVEC		32

/* UITT entry i posts uvs[i]: 0, 2, ..., 30, 33, 35, ..., 63 (both PIR halves). */
static uint8_t uvs[NVEC];

static struct upid upid;			/* CPU 1's */
static struct uitte uitt[NVEC] __attribute__((aligned(4096)));

/* Per user vector, all updated with __atomic. */
static unsigned outstanding[64];
static unsigned sent_hw[64], sent_os[64], sent_self[64], received[64], bad[64];

static unsigned os_ipis, recheck_ipis, switches, sn_lost, sn_stale;
static unsigned stop_send, stop_recv, done1, nonatomic, no_switch;
static uint64_t ms_run;

struct cpu1_result {
	int vec;
	struct fault f;
	uint64_t rr, status, pir;
	unsigned idt;
};

static char stack0[4096] __attribute__((aligned(16)));
static char stack1[4096] __attribute__((aligned(16)));

static void inc(unsigned *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
}

static bool claim(int uv)
{
	unsigned zero = 0;

	return __atomic_compare_exchange_n(&outstanding[uv], &zero, 1, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/*
 * Claim the next vector, from *cursor on, that nobody has in flight and
 * move the cursor @step past it; returns its index in uvs[], which is
 * also its UITT index, or -1 if every vector is in flight.
 */
static int claim_next(unsigned *cursor, unsigned step)
{
	for (int i = 0; i < NVEC; i++) {
		int j = (*cursor + i) % NVEC;

		if (claim(uvs[j])) {
			*cursor = j + step;
			return j;
		}
	}
	return -1;
}

/* CPU 1, ring 3. */
static void handler(struct uintr_frame *frame)
{
	unsigned uv = frame->vector & 63;

	if (frame->vector > 63 || __atomic_exchange_n(&outstanding[uv], 0, __ATOMIC_ACQ_REL) != 1)
		inc(&bad[uv]);
	else
		inc(&received[uv]);
}

/* ---- CPU 0 */

static unsigned cursor0;

/* Ring 3: up to BATCH SENDUIPIs, each to a vector nobody has in flight. */
static long user_sender(void *arg)
{
	(void)arg;
	for (int k = 0; k < BATCH; k++) {
		int j = claim_next(&cursor0, 1);

		if (j < 0) {
			cpu_relax();
			continue;
		}
		inc(&sent_hw[uvs[j]]);
		senduipi(j);
	}
	return 0;
}

static unsigned os_cursor;

/* Ring 0: an OS posting into CPU 1's UPID, alternating LOCK BTS / LOCK OR. */
static void os_post(void)
{
	uint64_t st;
	int j = claim_next(&os_cursor, 3), uv;

	if (j < 0)
		return;
	uv = uvs[j];
	inc(&sent_os[uv]);
	if (nonatomic) {
		uint64_t pir = __atomic_load_n(&upid.pir, __ATOMIC_RELAXED);

		for (int d = 0; d < 50; d++)
			cpu_relax();
		__atomic_store_n(&upid.pir, pir | 1ull << uv, __ATOMIC_RELAXED);
	} else if (os_cursor & 1) {
		asm volatile("lock btsq %1, %0" : "+m"(upid.pir) : "r"((uint64_t)uv) : "memory", "cc");
	} else {
		asm volatile("lock orq %1, %0" : "+m"(upid.pir) : "r"(1ull << uv) : "memory", "cc");
	}
	/* ON := 1 only if ON = SN = 0; the one that sets it notifies. */
	st = __atomic_load_n(&upid.status, __ATOMIC_ACQUIRE);
	while (!(st & (UPID_ON | UPID_SN))) {
		if (__atomic_compare_exchange_n(&upid.status, &st, st | UPID_ON, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			apic_send_ipi(cpu_apic_id(1), UINV1);
			inc(&os_ipis);
			break;
		}
	}
}

/* ---- CPU 1 */

static long user_slice(void *arg)
{
	unsigned us = (uintptr_t)arg;

	stui();
	udelay(us);
	clui();
	return 0;
}

static unsigned self_cursor;

/* Ring 0: switch the receiving thread out and back in. */
static void os_switch(void)
{
	uint64_t st;
	bool was;
	int j, uv;

	asm volatile("lock btsq $1, %0; setc %1" : "+m"(upid.status), "=qm"(was) : : "memory", "cc");
	if (was)
		inc(&sn_stale);

	/* A post while suppressed: PIR only, the re-check must find it. */
	j = claim_next(&self_cursor, 5);
	uv = j < 0 ? -1 : uvs[j];
	if (uv >= 0) {
		inc(&sent_self[uv]);
		asm volatile("lock btsq %1, %0" : "+m"(upid.pir) : "r"((uint64_t)uv) : "memory", "cc");
	}
	udelay(20 + switches % 7 * 10);

	st = __atomic_load_n(&upid.status, __ATOMIC_ACQUIRE);
	if (!(st & UPID_SN))
		inc(&sn_lost);
	asm volatile("lock andq %1, %0" : "+m"(upid.status) : "er"(~UPID_SN) : "memory", "cc");
	if (__atomic_load_n(&upid.pir, __ATOMIC_ACQUIRE)) {
		apic_send_ipi(apic_id(), UINV1);
		inc(&recheck_ipis);
	}
	switches++;
}

static void cpu1_main(void *arg)
{
	struct cpu1_result *r = arg;
	unsigned idt0 = irq_count(1, UINV1);

	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(UINV1, 0));
	wrmsr(MSR_IA32_UINTR_PD, (uintptr_t)&upid);
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)uintr_entry);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, 128);
	wrmsr(MSR_IA32_UINTR_RR, 0);

	r->vec = -1;
	while (!LOAD(&stop_recv)) {
		r->vec = run_in_user(user_slice, (void *)(uintptr_t)(100 + switches % 5 * 100),
				     stack1 + sizeof(stack1), NULL, &r->f);
		if (r->vec != -1)
			break;
		if (!no_switch)
			os_switch();
	}
	if (r->vec == -1)	/* anything late arrives here, once */
		r->vec = run_in_user(user_slice, (void *)20000ul, stack1 + sizeof(stack1), NULL, &r->f);
	r->rr = rdmsr(MSR_IA32_UINTR_RR);
	r->status = __atomic_load_n(&upid.status, __ATOMIC_ACQUIRE);
	r->pir = __atomic_load_n(&upid.pir, __ATOMIC_ACQUIRE);
	r->idt = irq_count(1, UINV1) - idt0;
	wrmsr(MSR_IA32_UINTR_RR, 0);
	uintr_set_cr4(false);
	STORE(&done1, 1);
}

static unsigned total(const unsigned *a)
{
	unsigned t = 0;

	for (int i = 0; i < NVEC; i++)
		t += LOAD(&a[uvs[i]]);
	return t;
}

int main(void)
{
	struct cpu1_result r1 = { 0 };
	uint64_t status0, start;
	unsigned batches = 0, mism = 0, nbad, pending;
	struct fault f0 = { 0 };
	int vec0 = -1, has;
	bool drained, met;

	has = uintr_expected();
	if (has < 0)
		return tap_done();
	if (!has)
		bail_out("needs uintr=1 and -cpu ...,uintr=on");
	if (cpu_count() < 2)
		bail_out("needs 2 CPUs, have %d", cpu_count());
	if (!apic_mode_init())
		return tap_done();
	ms_run = arg_uint("ms", 2000);
	nonatomic = arg_get("nonatomic") ? arg_flag("nonatomic", 0) : 0;
	no_switch = arg_get("switch") ? !arg_flag("switch", 0) : 0;
	if (nonatomic)
		diag("nonatomic=1: CPU 0's OS-side post is a plain load/store of PIR; this run should FAIL");

	count_irqs(UINV1, UINV1);
	uintr_handler = handler;
	status0 = UPID_NV(UINV1) | upid_ndst(cpu_apic_id(1));
	upid.status = status0;
	upid.pir = 0;
	for (int i = 0; i < NVEC; i++) {
		uvs[i] = 2 * i + (i >= NVEC / 2);
		uitt[i].lo = UITTE(uvs[i]);
		uitt[i].upid = (uintptr_t)&upid;
	}
	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(0, NVEC - 1));
	wrmsr(MSR_IA32_UINTR_TT, (uintptr_t)uitt | 1);

	on_cpu_async(1, cpu1_main, &r1);
	mdelay(5);

	start = rdtsc();
	while (ms_since(start) < ms_run) {
		vec0 = run_in_user(user_sender, NULL, stack0 + sizeof(stack0), NULL, &f0);
		if (vec0 != -1)
			break;
		os_post();
		batches++;
	}
	STORE(&stop_send, 1);
	drained = wait_until(({
		bool none = true;

		for (int i = 0; i < NVEC; i++)
			none = none && !LOAD(&outstanding[uvs[i]]);
		none;
	}), DRAIN_MS);
	STORE(&stop_recv, 1);
	met = wait_until(LOAD(&done1), 5000);
	wrmsr(MSR_IA32_UINTR_TT, 0);
	uintr_set_cr4(false);

	diag("%s mode, %lu ms, %u batches: %u SENDUIPI posts, %u OS posts (%u notified), "
	     "%u self posts under SN, %u thread switches, %u re-check self-IPIs", apic_mode_name(),
	     ms_run, batches, total(sent_hw), total(sent_os), LOAD(&os_ipis), total(sent_self),
	     switches, LOAD(&recheck_ipis));
	pending = 0;
	nbad = 0;
	for (int i = 0; i < NVEC; i++) {
		int uv = uvs[i];
		unsigned s = sent_hw[uv] + sent_os[uv] + sent_self[uv];

		diag("UV %2d: posted %u (SENDUIPI %u, OS %u, self %u), handled %u, bad %u, outstanding %u",
		     uv, s, sent_hw[uv], sent_os[uv], sent_self[uv], received[uv], bad[uv],
		     outstanding[uv]);
		mism += s != received[uv];
		nbad += bad[uv];
		pending += outstanding[uv];
	}

	ok(vec0 == -1, "CPU 0 posts for %lu ms without a fault (vector %d, RIP %#lx)", ms_run, vec0,
	   f0.rip);
	ok(met && r1.vec == -1, "CPU 1 receives in ring 3 without a fault (vector %d, RIP %#lx)%s",
	   r1.vec, r1.f.rip, met ? "" : " - CPU 1 did not finish");
	ok(total(sent_hw) > 0 && total(sent_os) > 0 && (no_switch || total(sent_self) > 0),
	   "all %s writers posted: SENDUIPI %u, OS %u, self under SN %u", no_switch ? "two" : "three",
	   total(sent_hw), total(sent_os), total(sent_self));
	ok(drained && pending == 0,
	   "every post is handled within %u ms after the last one: %u vector(s) still outstanding",
	   DRAIN_MS, pending);
	ok(mism == 0, "for each of the %d vectors, handler runs == posts (%u vector(s) differ; "
	   "%u posts, %u runs in all)", NVEC, mism,
	   total(sent_hw) + total(sent_os) + total(sent_self), total(received));
	ok(nbad == 0, "no handler run for a vector that was not outstanding (a duplicate): %u", nbad);
	ok(LOAD(&sn_stale) == 0 && LOAD(&sn_lost) == 0,
	   "SN is only written by CPU 1 and no other update undoes it: found set before LOCK BTS %u "
	   "time(s), found clear before LOCK AND %u time(s)", LOAD(&sn_stale), LOAD(&sn_lost));
	ok(met && r1.pir == 0 && r1.status == status0 && r1.rr == 0,
	   "afterwards the UPID is clean (PIR %#lx, status %#lx expected %#lx: ON = SN = 0, NV and "
	   "NDST unchanged) and CPU 1's UIRR is 0 (%#lx)", r1.pir, r1.status, status0, r1.rr);
	ok(met && r1.idt == 0, "no UINV %#x went through CPU 1's IDT: %u", UINV1, r1.idt);
	return tap_done();
}
