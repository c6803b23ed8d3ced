/*
 * UINTR benchmark: five figures measured in one QEMU run, repeat after
 * repeat, so that their ratios hold on a noisy host.
 *
 *   spin     shared-memory round trip CPU 0 <-> CPU 1 in ring 0: each
 *            side polls a counter and stores the answer (the floor of any
 *            cross-CPU notification)
 *   ipi      kernel fixed-IPI round trip CPU 0 <-> CPU 1: IDT handler,
 *            EOI, the handler sends the answer; both sides poll with IF=1
 *   uintr    user-interrupt round trip CPU 0 <-> CPU 1, both in ring 3
 *            with UIF=1: SENDUIPI, notification, delivery, handler, UIRET;
 *            CPU 1's ring-3 loop answers each ping with SENDUIPI
 *   self     SENDUIPI to the sender's own UPID, ring 3: TSC before
 *            SENDUIPI to TSC at handler entry
 *   fanin    CPUs 1 and 2 (ring 3) each send user interrupts to CPU 0
 *            (ring 3), one in flight per sender (the next after CPU 0's
 *            handler counted the last): time per delivered interrupt
 *            with both senders running
 *
 * Every phase counts what it sends and what arrives: a lost or extra
 * interrupt fails the test, so the figures are of complete runs only.
 * Receivers poll (never HLT) in every phase, so every figure is of the
 * same kind of wait.
 *
 * Output, parsed by scripts/bench.sh:
 *   # bench-sample NAME REPEAT NS      the mean of one repeat, ns
 *   # bench NAME min=.. median=.. max=..   over the repeats (ratio-*: x100)
 *
 * Command line: uintr=1, rounds=N (per repeat and phase, default 2000),
 * repeats=R (default 5, at most MAX_REPEATS), apic=xapic|x2, only=NAME
 * (one phase only, for profiling; its samples are the only non-zero ones).
 * uintr=0, on a CPU without UINTR (a QEMU without the series), measures
 * and prints spin and ipi only: the floor and the kernel IPI of that QEMU.
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"

#define UINV		0x50
#define PING_VECTOR	0x41	/* kernel IPI CPU 0 -> CPU 1 */
#define PONG_VECTOR	0x42	/* kernel IPI CPU 1 -> CPU 0 */

/* UITT indices and user vectors */
#define UITT_PEER	0	/* CPU 0 -> CPU 1 (PING_UV), CPU 1 -> CPU 0 (PONG_UV) */
#define UITT_SELF	1	/* own UPID, SELF_UV */
#define UITT_FANIN	2	/* CPU 1/2 -> CPU 0, FANIN_UV(cpu) */
#define PING_UV		1
#define PONG_UV		2
#define SELF_UV		3
#define FANIN_UV(c)	(8 + (c))

#define NCPU		3
#define MAX_REPEATS	64
#define STEP_TIMEOUT_MS	1000

enum { B_SPIN, B_IPI, B_UINTR, B_SELF, B_FANIN, R_UINTR_SPIN, R_UINTR_IPI, NB };
static const char *const bname[NB] = {
	"spin", "ipi", "uintr", "self", "fanin", "ratio-uintr-spin", "ratio-uintr-ipi",
};
static uint64_t sample[NB][MAX_REPEATS];

static unsigned rounds, repeats;

static struct upid rx[NCPU];
static struct uitte uitt[NCPU][3];
static char user_stack[NCPU][4096] __attribute__((aligned(16)));
#define USER_STACK_TOP(cpu)	(user_stack[cpu] + sizeof(user_stack[cpu]))

/* counted by the user-interrupt handler, per CPU and user vector */
static unsigned uhits[NCPU][16];
static unsigned wrong_uv, idt_uinv;
static uint64_t self_tsc;

/* spin and IPI phases */
static unsigned spin_ping, spin_pong, spin_done;
static unsigned ipi_pings, ipi_pongs, ipi_stop, ipi_ready;

/* ring-3 phases: CPU 1/2 side */
static unsigned peer_go, peer_ready, peer_stop, peer_done;
static long peer_ret[NCPU];

/*
 * wait_until() reads the TSC on every iteration.  Under multi-threaded
 * TCG every RDTSC takes a lock that all vCPUs share, so two vCPUs polling
 * with it measure that lock.  Here the deadline is looked at once every
 * 1024 polls: a poll is a load and a PAUSE, as in a real spin-wait.
 */
#define poll_until(cond, timeout_ms)					\
({									\
	uint64_t __deadline = 0;					\
	unsigned __polls = 0;						\
	bool __met;							\
									\
	while (!(__met = (cond))) {					\
		cpu_relax();						\
		if (++__polls % 1024)					\
			continue;					\
		if (!__deadline)					\
			__deadline = deadline_after_ms(timeout_ms);	\
		else if (deadline_passed(__deadline))			\
			break;						\
	}								\
	__met || (cond);						\
})

static uint64_t ns_of(uint64_t tsc)
{
	return tsc * 1000000 / tsc_khz;
}

static void handler(struct uintr_frame *frame)
{
	uint64_t now = rdtsc();
	int c = smp_id();

	if (frame->vector >= 16) {
		__atomic_add_fetch(&wrong_uv, 1, __ATOMIC_RELAXED);
		return;
	}
	if (frame->vector == SELF_UV)
		self_tsc = now;
	__atomic_add_fetch(&uhits[c][frame->vector], 1, __ATOMIC_RELEASE);
}

static void idt_uinv_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&idt_uinv, 1, __ATOMIC_RELAXED);
	apic_eoi();
}

static void ping_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&ipi_pings, 1, __ATOMIC_RELEASE);
	apic_eoi();
	apic_send_ipi(cpu_apic_id(0), PONG_VECTOR);
}

static void pong_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&ipi_pongs, 1, __ATOMIC_RELEASE);
	apic_eoi();
}

static void setup_cpu(void *arg)
{
	int c = smp_id();

	(void)arg;
	rx[c].status = UPID_NV(UINV) | upid_ndst(apic_id());
	rx[c].pir = 0;
	uitt[c][UITT_PEER].lo = UITTE(c == 0 ? PING_UV : PONG_UV);
	uitt[c][UITT_PEER].upid = (uintptr_t)&rx[c == 0 ? 1 : 0];
	uitt[c][UITT_SELF].lo = UITTE(SELF_UV);
	uitt[c][UITT_SELF].upid = (uintptr_t)&rx[c];
	uitt[c][UITT_FANIN].lo = UITTE(FANIN_UV(c));
	uitt[c][UITT_FANIN].upid = (uintptr_t)&rx[0];
	uintr_setup_thread(&rx[c], uitt[c], 2, UINV);
}

/* ---- spin ---------------------------------------------------------- */

static void spin_ponger(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 1; i <= rounds; i++) {
		if (!poll_until(LOAD(&spin_pong) == i - 1 && LOAD(&spin_ping) == i,
				STEP_TIMEOUT_MS))
			break;
		STORE(&spin_pong, i);
	}
	STORE(&spin_done, 1);
}

static bool bench_spin(uint64_t *ns)
{
	uint64_t start;
	unsigned i;

	STORE(&spin_ping, 0);
	STORE(&spin_pong, 0);
	STORE(&spin_done, 0);
	on_cpu_async(1, spin_ponger, NULL);
	start = rdtsc();
	for (i = 1; i <= rounds; i++) {
		STORE(&spin_ping, i);
		if (!poll_until(LOAD(&spin_pong) == i, STEP_TIMEOUT_MS))
			break;
	}
	*ns = ns_of(rdtsc() - start) / rounds;
	poll_until(LOAD(&spin_done), STEP_TIMEOUT_MS);
	return ok(i > rounds && LOAD(&spin_done),
		  "spin: %u shared-memory round trips complete, got %u", rounds, i - 1);
}

/* ---- kernel IPI ---------------------------------------------------- */

static void ipi_receiver(void *arg)
{
	(void)arg;
	/* ap_main runs work with IF=1: pings are taken while polling. */
	STORE(&ipi_ready, 1);
	while (!LOAD(&ipi_stop))
		cpu_relax();
	STORE(&ipi_ready, 0);
}

static bool bench_ipi(uint64_t *ns)
{
	unsigned base_pings = LOAD(&ipi_pings), base = LOAD(&ipi_pongs), i;
	uint64_t start;
	bool done;

	STORE(&ipi_stop, 0);
	STORE(&ipi_ready, 0);
	on_cpu_async(1, ipi_receiver, NULL);
	poll_until(LOAD(&ipi_ready), STEP_TIMEOUT_MS);
	start = rdtsc();
	for (i = 0; i < rounds; i++) {
		apic_send_ipi(cpu_apic_id(1), PING_VECTOR);
		if (!poll_until(LOAD(&ipi_pongs) == base + i + 1, STEP_TIMEOUT_MS))
			break;
	}
	*ns = ns_of(rdtsc() - start) / rounds;
	udelay(200);
	STORE(&ipi_stop, 1);
	/* The next repeat's STORE(&ipi_stop, 0) must not reach CPU 1 first. */
	poll_until(!LOAD(&ipi_ready), STEP_TIMEOUT_MS);
	done = !LOAD(&ipi_ready) && i == rounds && LOAD(&ipi_pings) - base_pings == rounds &&
	       LOAD(&ipi_pongs) - base == rounds;
	return ok(done, "ipi: %u fixed-IPI round trips complete, %u pings and %u pongs",
		  rounds, LOAD(&ipi_pings) - base_pings, LOAD(&ipi_pongs) - base);
}

/* ---- ring 3 on CPU 1 and 2 ----------------------------------------- */

/* CPU 1, ring 3: answer each ping with a pong until told to stop. */
static long user_ponger(void *arg)
{
	unsigned base = LOAD(&uhits[1][PING_UV]), replied = 0;

	(void)arg;
	stui();
	__atomic_add_fetch(&peer_ready, 1, __ATOMIC_RELEASE);
	while (!LOAD(&peer_stop)) {
		if (LOAD(&uhits[1][PING_UV]) - base > replied) {
			replied++;
			senduipi(UITT_PEER);
		}
		cpu_relax();
	}
	clui();
	return replied;
}

/* CPU 1 or 2, ring 3: send rounds user interrupts to CPU 0, one at a time. */
static long user_fanin(void *arg)
{
	int c = smp_id();
	unsigned i, *seen = &uhits[0][FANIN_UV(c)];
	unsigned base = LOAD(seen);

	(void)arg;
	__atomic_add_fetch(&peer_ready, 1, __ATOMIC_RELEASE);
	while (!LOAD(&peer_go))
		cpu_relax();
	for (i = 0; i < rounds; i++) {
		senduipi(UITT_FANIN);
		if (!poll_until(LOAD(seen) == base + i + 1, STEP_TIMEOUT_MS))
			break;
	}
	return i;
}

static void peer_main(void *arg)
{
	long (*fn)(void *) = arg;
	int c = smp_id();
	int vec = run_in_user(fn, NULL, USER_STACK_TOP(c), &peer_ret[c], NULL);

	if (vec != -1)
		peer_ret[c] = -1000 - vec;
	__atomic_add_fetch(&peer_done, 1, __ATOMIC_RELEASE);
}

static void start_peers(long (*fn)(void *), int first, int last)
{
	STORE(&peer_go, 0);
	STORE(&peer_ready, 0);
	STORE(&peer_stop, 0);
	STORE(&peer_done, 0);
	for (int c = first; c <= last; c++)
		on_cpu_async(c, peer_main, fn);
	poll_until(LOAD(&peer_ready) == (unsigned)(last - first + 1), STEP_TIMEOUT_MS);
}

/* ---- ring 3 on CPU 0 ----------------------------------------------- */

struct user_result {
	uint64_t tsc;
	unsigned n;
};

static long user_pinger(void *arg)
{
	struct user_result *r = arg;
	unsigned base = LOAD(&uhits[0][PONG_UV]), i;
	uint64_t start;

	stui();
	start = rdtsc();
	for (i = 0; i < rounds; i++) {
		senduipi(UITT_PEER);
		if (!poll_until(LOAD(&uhits[0][PONG_UV]) == base + i + 1, STEP_TIMEOUT_MS))
			break;
	}
	r->tsc = rdtsc() - start;
	r->n = i;
	clui();
	return 0;
}

static long user_self(void *arg)
{
	struct user_result *r = arg;
	unsigned base = LOAD(&uhits[0][SELF_UV]), i;
	uint64_t t0;

	r->tsc = 0;
	stui();
	for (i = 0; i < rounds; i++) {
		t0 = rdtsc();
		senduipi(UITT_SELF);
		if (!poll_until(LOAD(&uhits[0][SELF_UV]) == base + i + 1, STEP_TIMEOUT_MS))
			break;
		r->tsc += self_tsc - t0;
	}
	r->n = i;
	clui();
	return 0;
}

static long user_fanin_receiver(void *arg)
{
	struct user_result *r = arg;
	unsigned b1 = LOAD(&uhits[0][FANIN_UV(1)]), b2 = LOAD(&uhits[0][FANIN_UV(2)]);
	uint64_t start;

	stui();
	start = rdtsc();
	STORE(&peer_go, 1);
	poll_until(LOAD(&uhits[0][FANIN_UV(1)]) - b1 == rounds &&
		   LOAD(&uhits[0][FANIN_UV(2)]) - b2 == rounds, 10 * STEP_TIMEOUT_MS);
	r->tsc = rdtsc() - start;
	r->n = LOAD(&uhits[0][FANIN_UV(1)]) - b1 + LOAD(&uhits[0][FANIN_UV(2)]) - b2;
	/* anything more than 2 x rounds would show up here */
	udelay(500);
	r->n = LOAD(&uhits[0][FANIN_UV(1)]) - b1 + LOAD(&uhits[0][FANIN_UV(2)]) - b2;
	clui();
	return 0;
}

static bool in_user0(long (*fn)(void *), struct user_result *r)
{
	long ret;

	return run_in_user(fn, r, USER_STACK_TOP(0), &ret, NULL) == -1;
}

static bool bench_uintr(uint64_t *ns)
{
	unsigned pongs_before = LOAD(&uhits[0][PONG_UV]);
	struct user_result r = { 0 };
	bool user_ok;

	start_peers(user_ponger, 1, 1);
	user_ok = in_user0(user_pinger, &r);
	udelay(200);
	STORE(&peer_stop, 1);
	poll_until(LOAD(&peer_done) == 1, STEP_TIMEOUT_MS);
	*ns = r.n ? ns_of(r.tsc) / r.n : 0;
	return ok(user_ok && r.n == rounds && peer_ret[1] == (long)rounds &&
		  LOAD(&uhits[0][PONG_UV]) - pongs_before == rounds,
		  "uintr: %u ring-3 round trips complete, got %u, CPU 1 answered %ld, "
		  "%u pongs", rounds, r.n, peer_ret[1], LOAD(&uhits[0][PONG_UV]) - pongs_before);
}

static bool bench_self(uint64_t *ns)
{
	struct user_result r = { 0 };
	bool user_ok = in_user0(user_self, &r);

	*ns = r.n ? ns_of(r.tsc) / r.n : 0;
	return ok(user_ok && r.n == rounds,
		  "self: %u self-SENDUIPIs reach the handler, got %u", rounds, r.n);
}

static bool bench_fanin(uint64_t *ns)
{
	struct user_result r = { 0 };
	bool user_ok;

	start_peers(user_fanin, 1, 2);
	user_ok = in_user0(user_fanin_receiver, &r);
	poll_until(LOAD(&peer_done) == 2, 10 * STEP_TIMEOUT_MS);
	*ns = r.n ? ns_of(r.tsc) / r.n : 0;
	return ok(user_ok && r.n == 2 * rounds && peer_ret[1] == (long)rounds &&
		  peer_ret[2] == (long)rounds,
		  "fanin: CPUs 1 and 2 send %u user interrupts each to CPU 0, all counted once: "
		  "got %u, sent %ld + %ld", rounds, r.n, peer_ret[1], peer_ret[2]);
}

/* ---- summary ------------------------------------------------------- */

static void sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void summary(int b, unsigned n)
{
	uint64_t v[MAX_REPEATS];

	memcpy(v, sample[b], n * sizeof(v[0]));
	sort(v, n);
	diag("bench %s min=%lu median=%lu max=%lu", bname[b], v[0],
	     n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[n - 1]);
}

static bool (*const phase[])(uint64_t *ns) = {
	[B_SPIN] = bench_spin, [B_IPI] = bench_ipi, [B_UINTR] = bench_uintr,
	[B_SELF] = bench_self, [B_FANIN] = bench_fanin,
};

int main(void)
{
	const char *only;
	bool all = true;
	int last, shown;
	unsigned r;
	int has;

	rounds = arg_uint("rounds", 2000);
	repeats = arg_uint("repeats", 5);
	if (!rounds || !repeats || repeats > MAX_REPEATS)
		bail_out("rounds=%u repeats=%u: need rounds >= 1, 1 <= repeats <= %u",
			 rounds, repeats, MAX_REPEATS);
	has = uintr_expected();
	if (has < 0)
		bail_out("CPUID does not say what uintr= says");
	last = has ? B_FANIN : B_IPI;	/* the last phase run */
	shown = has ? NB : B_IPI + 1;	/* the figures printed */
	only = arg_get("only");
	if (only && !has && strcmp(only, bname[B_SPIN]) && strcmp(only, bname[B_IPI]))
		bail_out("only=%s needs a CPU with UINTR (uintr=1 and -cpu ...,uintr=on)", only);
	if (cpu_count() < NCPU)
		bail_out("the benchmark needs %d CPUs, got %d", NCPU, cpu_count());
	if (!apic_mode_init())
		return tap_done();
	diag("bench: %s mode, %u CPUs, %u rounds x %u repeats, TSC %lu kHz%s",
	     apic_mode_name(), cpu_count(), rounds, repeats, tsc_khz,
	     has ? "" : ", no UINTR: spin and ipi only");

	handle_irq(UINV, idt_uinv_handler);
	handle_irq(PING_VECTOR, ping_handler);
	handle_irq(PONG_VECTOR, pong_handler);
	if (has) {
		uintr_handler = handler;
		for (int c = 0; c < NCPU; c++)
			on_cpu(c, setup_cpu, NULL);
	}

	for (r = 0; r < repeats && all; r++) {
		for (int b = 0; b <= last && all; b++)
			if (!only || !strcmp(only, bname[b]))
				all = phase[b](&sample[b][r]);
		if (!all)
			break;
		sample[R_UINTR_SPIN][r] = sample[B_SPIN][r] ?
			sample[B_UINTR][r] * 100 / sample[B_SPIN][r] : 0;
		sample[R_UINTR_IPI][r] = sample[B_IPI][r] ?
			sample[B_UINTR][r] * 100 / sample[B_IPI][r] : 0;
		for (int b = 0; b < shown; b++)
			diag("bench-sample %s %u %lu", bname[b], r, sample[b][r]);
	}
	if (all)
		for (int b = 0; b < shown; b++)
			summary(b, repeats);
	ok(LOAD(&wrong_uv) == 0 && LOAD(&idt_uinv) == 0,
	   "no user interrupt with an unexpected vector (%u) and no notification through "
	   "the IDT (%u)", LOAD(&wrong_uv), LOAD(&idt_uinv));
	return tap_done();
}
