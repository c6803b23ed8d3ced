/*
 * User interrupts that keep working while QEMU migrates the guest.
 *
 * Meant to run under tests/migration/uintr-migrate.sh, which live-migrates
 * the guest many times while this runs; on its own it is a plain UINTR
 * ping-pong test.  Needs 2 CPUs and CPUID.UINTR.
 *
 * Command line:
 *   seconds=N   how long the traffic runs, guest TSC time (default 10)
 *   hold=M      seconds CPU 1 keeps a user interrupt pending in UIRR with
 *               UIF=0 before STUI (default min(3, N/3))
 *   idle=K      first wait K seconds in ring 0 without touching any UINTR
 *               state (default 0), so that a migration in that time carries
 *               no UINTR state; seconds and hold count from after it
 *   apic=x2     run both CPUs in x2APIC mode (default apic=xapic): NDST
 *               in the x2APIC encoding, notifications through the MSR ICR
 *   xsaves=1    also enable XSAVE with IA32_XSS[14] (needs XSAVES): at the
 *               end each CPU checks that IA32_XSS survived, and that XSAVES
 *               and XRSTORS of the user-interrupt component round-trip the
 *               state the migrations carried
 *
 * State that must survive every migration:
 *   - CPU 1: IA32_UINTR_RR bit 50 written with UIF=0 in ring 0; ring 3
 *     spins with UIF=0 for hold seconds, then STUI: vector 50 must be
 *     delivered exactly once, right after STUI (UIRR and UIF are CPU state).
 *   - CPU 0 <-> CPU 1 ring-3 ping-pong with SENDUIPI (UV 61 to CPU 1, UV 62
 *     back to CPU 0), strictly one request outstanding, so every SENDUIPI
 *     must produce exactly one handler call on the peer (HANDLER, MISC, PD,
 *     TT, STACKADJUST, UIF, the UPIDs in RAM and the APIC).
 *   - A third UPID with SN=1 (on a page of its own that only SENDUIPI
 *     writes) that CPU 0 posts UV 1..40 into all the run through UITT
 *     entry 1: PIR accumulates in RAM without notifications.  At the end
 *     CPU 0 points IA32_UINTR_PD at it, clears SN, sets NV/NDST to itself
 *     and sends once: each posted vector must arrive once, highest first.
 *   - The five non-RR MSRs read back the values written at the start.
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"
#include "xsave.h"

#define UINV0		0x50	/* CPU 0 notification vector */
#define UINV1		0x51	/* CPU 1 notification vector */
#define UV_PING		61	/* CPU 0 -> CPU 1 */
#define UV_PONG		62	/* CPU 1 -> CPU 0 */
#define UV_HELD		50	/* in CPU 1's UIRR from the start */
#define UV_PEND_MAX	40	/* pending UPID: UV 1..40 */
#define STACKADJ	128
#define REPLY_TIMEOUT_MS 2000
#define POST_EVERY_MS	20

/* Each UPID on a page of its own: only UINTR microcode writes them. */
struct upid_page {
	struct upid u;
	char pad[4096 - sizeof(struct upid)];
} __attribute__((aligned(4096)));

static struct upid_page upid0, upid1, upid_pend;
static struct uitte uitt0[2] __attribute__((aligned(4096)));	/* 0: CPU 1, 1: pending */
static struct uitte uitt1[1] __attribute__((aligned(4096)));	/* 0: CPU 0 */

static char stack0[16384] __attribute__((aligned(16)));
static char stack1[16384] __attribute__((aligned(16)));

static uint64_t start_tsc, hold_tsc, end_tsc;

/* Shared counters, all accessed with __atomic. */
static unsigned sent0, sent1, recv0, recv1, dup0, dup1;
static unsigned held_count, held_early, held_after_stui, uif_before_stui = 2;
static unsigned bad_vectors, last_bad_vector, timeouts;
static unsigned go, stui_done, stop, done1;
static unsigned posts;
static uint64_t posted_mask;
static unsigned draining, early_pend;
static unsigned drained, drain_cnt[64];
static unsigned drain_order[64];

struct cpu_result {
	int vec;		/* run_in_user: -1 or the exception */
	struct fault f;
	bool setup_ok;
	uint64_t msr_end[6];	/* RR..TT at the end */
	uint64_t xss;		/* xsaves=1: IA32_XSS at the end */
	int xsaves_vec, xrstors_vec;
	uint64_t saved[6];	/* component 14 as XSAVES wrote it */
	uint64_t misc_after_xsaves;
	bool uif;		/* TESTUI just before XSAVES */
	bool restored;		/* the MSRs after XRSTORS equal msr_end */
};
static struct cpu_result res[2];

#define INC(p)		__atomic_add_fetch((p), 1, __ATOMIC_ACQ_REL)

static void handler(struct uintr_frame *f)
{
	unsigned v = f->vector;

	if (v == UV_PING) {
		if (INC(&recv1) > LOAD(&sent0))
			INC(&dup1);
	} else if (v == UV_PONG) {
		if (INC(&recv0) > LOAD(&sent1))
			INC(&dup0);
	} else if (v == UV_HELD) {
		INC(&held_count);
	} else if (v >= 1 && v <= UV_PEND_MAX) {
		if (!LOAD(&draining)) {
			INC(&early_pend);
		} else {
			unsigned n = INC(&drained);

			INC(&drain_cnt[v]);
			if (n <= 64)
				drain_order[n - 1] = v;
		}
	} else {
		INC(&bad_vectors);
		STORE(&last_bad_vector, v);
	}
}

static bool use_xsaves;
static uint8_t xsave_area[2][4096] __attribute__((aligned(64)));

static const uint32_t msr_idx[6] = {
	MSR_IA32_UINTR_RR, MSR_IA32_UINTR_HANDLER, MSR_IA32_UINTR_STACKADJUST,
	MSR_IA32_UINTR_MISC, MSR_IA32_UINTR_PD, MSR_IA32_UINTR_TT,
};

static uint64_t msr_want(int cpu, int i)
{
	switch (i) {
	case 1: return (uint64_t)uintr_entry;
	case 2: return STACKADJ;
	case 3: return cpu ? UINTR_MISC(UINV1, 0) : UINTR_MISC(UINV0, 1);
	case 4: return (uint64_t)(cpu ? &upid1.u : &upid0.u);
	case 5: return (uint64_t)(cpu ? uitt1 : uitt0) | 1;
	}
	return 0;
}

/* Ring 0 on @cpu: CR4.UINTR and the MSRs. */
static bool setup_cpu(int cpu)
{
	bool good = true;

	write_cr4(read_cr4() | X86_CR4_UINTR);
	if (use_xsaves) {
		good &= xsave_set_cr4(true) == -1 && xsetbv_safe(0, 3) == -1 &&
			wrmsr_safe(MSR_IA32_XSS, XMASK(XFEATURE_UINTR)) == -1;
	}
	clui();
	for (int i = 1; i < 6; i++)
		wrmsr(msr_idx[i], msr_want(cpu, i));
	wrmsr(MSR_IA32_UINTR_RR, cpu ? 1ull << UV_HELD : 0);
	for (int i = 1; i < 6; i++)
		good &= rdmsr(msr_idx[i]) == msr_want(cpu, i);
	good &= rdmsr(MSR_IA32_UINTR_RR) == (cpu ? 1ull << UV_HELD : 0);
	good &= (read_cr4() & X86_CR4_UINTR) != 0 && !testui();
	return good;
}

static void read_msrs(int cpu)
{
	struct cpu_result *r = &res[cpu];
	uint8_t *area = xsave_area[cpu];
	unsigned off;

	for (int i = 0; i < 6; i++)
		r->msr_end[i] = rdmsr(msr_idx[i]);
	if (!use_xsaves)
		return;
	/*
	 * Component 14 alone, compacted: HANDLER, STACKADJUST, MISC (UIF in
	 * bit 63), PD, RR, TT.  XSAVES clears UINV; XRSTORS puts it back.
	 */
	r->xss = rdmsr(MSR_IA32_XSS);
	r->uif = testui();
	off = xsave_compacted_offset(XCOMP_BV_COMPACTED | XMASK(XFEATURE_UINTR),
				     XFEATURE_UINTR);
	r->xsaves_vec = xsaves_safe(area, XMASK(XFEATURE_UINTR));
	for (int i = 0; i < 6; i++)
		r->saved[i] = xs_q(area, off + 8 * i);
	r->misc_after_xsaves = rdmsr(MSR_IA32_UINTR_MISC);
	r->xrstors_vec = xrstors_safe(area, XMASK(XFEATURE_UINTR));
	r->restored = true;
	for (int i = 0; i < 6; i++)
		r->restored &= rdmsr(msr_idx[i]) == r->msr_end[i];
}

static unsigned next_uv = 1;
static uint64_t next_post;

/* Ring 3 on CPU 0: post the next UV into the suppressed UPID. */
static void post_pending(void)
{
	uint64_t now = rdtsc();

	if ((int64_t)(now - next_post) < 0)
		return;
	next_post = now + POST_EVERY_MS * tsc_khz;
	uitt0[1].lo = UITTE(next_uv);
	senduipi(1);
	__atomic_or_fetch(&posted_mask, 1ull << next_uv, __ATOMIC_RELEASE);
	INC(&posts);
	next_uv = next_uv % UV_PEND_MAX + 1;
}

static long cpu0_user(void *arg)
{
	(void)arg;
	while (!deadline_passed(hold_tsc))
		post_pending();
	STORE(&go, 1);
	if (!wait_until(LOAD(&stui_done), REPLY_TIMEOUT_MS)) {
		INC(&timeouts);
		goto out;
	}
	while (!deadline_passed(end_tsc)) {
		unsigned n = INC(&sent0);

		senduipi(0);
		if (!wait_until(LOAD(&recv0) >= n, REPLY_TIMEOUT_MS)) {
			INC(&timeouts);
			break;
		}
		post_pending();
	}
out:
	STORE(&stop, 1);
	return 0;
}

static long cpu1_user(void *arg)
{
	(void)arg;
	while (!LOAD(&go) && !LOAD(&stop))
		cpu_relax();
	STORE(&held_early, LOAD(&held_count));
	STORE(&uif_before_stui, testui());
	stui();
	STORE(&held_after_stui, LOAD(&held_count));
	STORE(&stui_done, 1);
	for (;;) {
		if (LOAD(&recv1) > LOAD(&sent1)) {
			INC(&sent1);
			senduipi(0);
			continue;
		}
		if (LOAD(&stop) && LOAD(&recv1) == LOAD(&sent1))
			break;
		cpu_relax();
	}
	return 0;
}

static void cpu1_main(void *arg)
{
	(void)arg;
	res[1].setup_ok = setup_cpu(1);
	res[1].vec = run_in_user(cpu1_user, NULL, stack1 + sizeof(stack1), NULL, &res[1].f);
	read_msrs(1);
	STORE(&done1, 1);
}

static long cpu0_drain(void *arg)
{
	unsigned want = (unsigned)(uintptr_t)arg;

	/* Any UV already posted: the PIR bit is set again, SN=0 now notifies. */
	uitt0[1].lo = UITTE(UV_PEND_MAX);
	senduipi(1);
	wait_until(LOAD(&drained) >= want, REPLY_TIMEOUT_MS);
	mdelay(50);			/* catch duplicates */
	return 0;
}

static void report_fault(const char *who, struct cpu_result *r)
{
	if (r->vec != -1)
		diag("%s: ring-3 part ended by exception %d (%s) ring %d error %#x rip %#lx",
		     who, r->vec, exception_mnemonic(r->vec), r->f.ring, r->f.error_code, r->f.rip);
}

int main(void)
{
	const char *s = arg_get("seconds");
	unsigned seconds = s ? 0 : 10, hold;
	uint64_t want_mask = ((1ull << UV_PEND_MAX) - 1) << 1;
	uint64_t status, pir;
	unsigned elapsed_ms;

	while (s && *s >= '0' && *s <= '9')
		seconds = seconds * 10 + (*s++ - '0');
	s = arg_get("hold");
	hold = seconds / 3 < 3 ? seconds / 3 : 3;
	if (s)
		for (hold = 0; *s >= '0' && *s <= '9'; s++)
			hold = hold * 10 + (*s - '0');
	if (!seconds || hold >= seconds)
		bail_out("bad arguments: seconds=%u hold=%u", seconds, hold);
	if (!uintr_supported())
		bail_out("CPUID.(7,0):EDX[5] (UINTR) is clear: run with -cpu ...,uintr=on");
	if (cpu_count() < 2)
		bail_out("needs 2 CPUs, have %d", cpu_count());
	use_xsaves = arg_get("xsaves") && arg_flag("xsaves", 0);
	if (use_xsaves && !(cpuid_count(0xd, 1).a & CPUID_D_1_EAX_XSAVES))
		bail_out("xsaves=1 needs XSAVES: run with -cpu ...,xsaves=on");
	s = arg_get("idle");
	if (s) {
		unsigned idle = 0;

		while (*s >= '0' && *s <= '9')
			idle = idle * 10 + (*s++ - '0');
		diag("idle for %u s before touching UINTR state", idle);
		mdelay(idle * 1000);
	}
	if (!apic_mode_init())
		return tap_done();
	diag("seconds=%u hold=%u tsc_khz=%lu %s", seconds, hold, tsc_khz, apic_mode_name());

	upid0.u.status = UPID_NV(UINV0) | upid_ndst(cpu_apic_id(0));
	upid1.u.status = UPID_NV(UINV1) | upid_ndst(cpu_apic_id(1));
	upid_pend.u.status = UPID_SN | UPID_NV(UINV0) | upid_ndst(cpu_apic_id(0));
	uitt0[0].lo = UITTE(UV_PING);
	uitt0[0].upid = (uint64_t)&upid1.u;
	uitt0[1].lo = UITTE(1);
	uitt0[1].upid = (uint64_t)&upid_pend.u;
	uitt1[0].lo = UITTE(UV_PONG);
	uitt1[0].upid = (uint64_t)&upid0.u;
	uintr_handler = handler;

	start_tsc = rdtsc();
	hold_tsc = start_tsc + hold * 1000ull * tsc_khz;
	end_tsc = start_tsc + seconds * 1000ull * tsc_khz;
	next_post = start_tsc;

	res[0].setup_ok = setup_cpu(0);
	on_cpu_async(1, cpu1_main, NULL);
	stui();
	res[0].vec = run_in_user(cpu0_user, NULL, stack0 + sizeof(stack0), NULL, &res[0].f);
	STORE(&stop, 1);
	if (!wait_until(LOAD(&done1), 5000))
		bail_out("CPU 1 did not leave ring 3 within 5 s (sent %u/%u, received %u/%u)",
			 LOAD(&sent0), LOAD(&sent1), LOAD(&recv0), LOAD(&recv1));
	elapsed_ms = ms_since(start_tsc);
	diag("ran %u ms: %u round trips, %u pending posts", elapsed_ms, sent0, posts);
	report_fault("CPU 0", &res[0]);
	report_fault("CPU 1", &res[1]);

	ok(res[0].setup_ok && res[1].setup_ok,
	   "CR4.UINTR, UIF=0 and the 6 UINTR MSRs set and read back on CPU 0 (%d) and CPU 1 (%d)",
	   res[0].setup_ok, res[1].setup_ok);
	ok(res[0].vec == -1 && res[1].vec == -1,
	   "ring-3 parts run to the end without exceptions, CPU 0 vector %d, CPU 1 vector %d",
	   res[0].vec, res[1].vec);
	ok(held_early == 0 && uif_before_stui == 0,
	   "CPU 1: UIRR bit %d held with UIF=0 for %u s is not delivered before STUI, got %u deliveries, TESTUI %u",
	   UV_HELD, hold, held_early, uif_before_stui);
	ok(held_after_stui == 1 && LOAD(&held_count) == 1,
	   "CPU 1: vector %d delivered exactly once right after STUI, got %u after STUI, %u in total",
	   UV_HELD, held_after_stui, LOAD(&held_count));
	ok(timeouts == 0 && sent0 >= 100,
	   "ping-pong ran until the end: %u round trips (want >= 100), %u reply timeouts of %u ms",
	   sent0, timeouts, REPLY_TIMEOUT_MS);
	ok(sent0 == recv1 && dup1 == 0,
	   "CPU 0 -> CPU 1: sent %u, CPU 1's handler received %u, %u duplicates",
	   sent0, recv1, dup1);
	ok(sent1 == recv0 && dup0 == 0,
	   "CPU 1 -> CPU 0: sent %u, CPU 0's handler received %u, %u duplicates",
	   sent1, recv0, dup0);
	ok(bad_vectors == 0,
	   "no user interrupt with an unexpected vector, got %u (last %u)", bad_vectors, last_bad_vector);

	/* The suppressed UPID, then drain it into CPU 0. */
	status = __atomic_load_n(&upid_pend.u.status, __ATOMIC_ACQUIRE);
	pir = __atomic_load_n(&upid_pend.u.pir, __ATOMIC_ACQUIRE);
	ok(posts >= UV_PEND_MAX && posted_mask == want_mask && pir == posted_mask &&
	   (status & (UPID_ON | UPID_SN)) == UPID_SN && early_pend == 0,
	   "suppressed UPID after %u posts: PIR %#lx == posted %#lx == UV 1..%d, SN=1 ON=0 (status %#lx), %u early deliveries",
	   posts, pir, posted_mask, UV_PEND_MAX, status, early_pend);

	wrmsr(MSR_IA32_UINTR_PD, (uint64_t)&upid_pend.u);
	STORE(&draining, 1);
	__atomic_store_n(&upid_pend.u.status, UPID_NV(UINV0) | upid_ndst(cpu_apic_id(0)),
			 __ATOMIC_RELEASE);
	{
		unsigned want = 0, once = 0, desc = 1, prev = 64;
		long r;
		int vec;

		for (unsigned v = 0; v < 64; v++)
			want += (posted_mask >> v) & 1;
		vec = run_in_user(cpu0_drain, (void *)(uintptr_t)want,
				      stack0 + sizeof(stack0), &r, &res[0].f);
		unsigned n = LOAD(&drained);

		for (unsigned v = 1; v <= UV_PEND_MAX; v++)
			once += ((posted_mask >> v) & 1) && drain_cnt[v] == 1;
		for (unsigned i = 0; i < n && i < 64; i++) {
			desc &= drain_order[i] < prev;
			prev = drain_order[i];
		}
		ok(vec == -1 && n == want && once == want && desc,
		   "one SENDUIPI after clearing SN delivers each of the %u posted vectors once, highest first: %u deliveries, %u exactly once, order %s%s (%u..%u)",
		   want, n, once, desc ? "descending" : "NOT descending",
		   vec == -1 ? "" : ", exception in ring 3", n ? drain_order[0] : 0,
		   n ? drain_order[(n < 64 ? n : 64) - 1] : 0);
		pir = __atomic_load_n(&upid_pend.u.pir, __ATOMIC_ACQUIRE);
		status = __atomic_load_n(&upid_pend.u.status, __ATOMIC_ACQUIRE);
		ok(pir == 0 && !(status & UPID_ON),
		   "drained UPID has PIR 0 and ON=0, got PIR %#lx status %#lx", pir, status);
	}

	read_msrs(0);
	for (int cpu = 0; cpu < 2; cpu++) {
		bool same = true;

		for (int i = 1; i < 6; i++)
			same &= res[cpu].msr_end[i] ==
				(cpu == 0 && i == 4 ? (uint64_t)&upid_pend.u : msr_want(cpu, i));
		ok(same && res[cpu].msr_end[0] == 0,
		   "CPU %d at the end: HANDLER %#lx STACKADJUST %#lx MISC %#lx PD %#lx TT %#lx as written, UIRR %#lx == 0",
		   cpu, res[cpu].msr_end[1], res[cpu].msr_end[2], res[cpu].msr_end[3],
		   res[cpu].msr_end[4], res[cpu].msr_end[5], res[cpu].msr_end[0]);
	}
	for (int cpu = 0; use_xsaves && cpu < 2; cpu++) {
		struct cpu_result *r = &res[cpu];
		/* XSAVE order: HANDLER STACKADJUST MISC PD RR TT; MSR order: RR first */
		static const int from_msr[6] = { 1, 2, 3, 4, 0, 5 };
		bool same = true;

		for (int i = 0; i < 6; i++)
			same &= r->saved[i] == (i == 2 ? r->msr_end[3] | (uint64_t)r->uif << 63
						       : r->msr_end[from_msr[i]]);
		ok(r->xss == XMASK(XFEATURE_UINTR),
		   "CPU %d at the end: IA32_XSS = %#lx as written before the migrations, got %#lx",
		   cpu, (unsigned long)XMASK(XFEATURE_UINTR), r->xss);
		ok(r->xsaves_vec == -1 && same &&
		   (r->misc_after_xsaves >> 32 & 0xff) == 0,
		   "CPU %d at the end: XSAVES of component 14 holds the migrated MSRs with UIF %d in bit 63 (MISC qword %#lx) and then clears UINV (MISC MSR %#lx), vector %d",
		   cpu, r->uif, r->saved[2], r->misc_after_xsaves, r->xsaves_vec);
		ok(r->xrstors_vec == -1 && r->restored,
		   "CPU %d at the end: XRSTORS of that area brings back every MSR, UINV included (vector %d)",
		   cpu, r->xrstors_vec);
	}
	ok(elapsed_ms >= seconds * 1000,
	   "the run lasted %u ms of guest time (want >= %u)", elapsed_ms, seconds * 1000);
	return tap_done();
}
