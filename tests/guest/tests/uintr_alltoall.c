/*
 * User-interrupt soak: every CPU sends user interrupts to every other CPU
 * at once (all-to-all), in ring 3 with UIF = 1, and every single one is
 * accounted for.
 *
 * CPU s has its own UPID (NV = UINV, NDST = itself), its own UITT and its
 * own user vectors: UITT entry d * K + k of CPU s names CPU d's UPID with
 * UV = s * K + k (K = 16 vectors per sender, so 4 CPUs use all 64 UVs and
 * a receiver knows the sender from the UV alone).
 *
 * Exact accounting, as in uintr_upid_race: a sender posts (s, d, k) only
 * after claiming outstanding[d][UV] (compare-and-swap 0 -> 1), and the
 * user-interrupt handler on d releases it (exchange -> 0).  So no PIR bit
 * ever carries two posts and coalescing cannot hide a loss: at the end,
 * for every (sender, receiver, vector), sent == received, a handler run
 * that finds its flag clear is a duplicate, a post whose flag never clears
 * is lost.  Each sender keeps up to K interrupts in flight per receiver.
 *
 * Command line: count=N total user interrupts (default 1000000, split
 * evenly over the CPUs), apic=xapic|x2 (default xapic).  Needs 2 to 4 CPUs
 * and CPUID.UINTR (uintr=1).
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

#define NCPU_MAX	4
#define K		16		/* vectors per sender */
#define UINV		0x50
#define STALL_MS	5000		/* no post possible for this long: stuck */
#define DRAIN_MS	10000

static int ncpu;
static uint64_t quota[NCPU_MAX];

static struct upid rx[NCPU_MAX];
static struct uitte uitt[NCPU_MAX][NCPU_MAX * K] __attribute__((aligned(4096)));

/* [receiver][UV] */
static unsigned outstanding[NCPU_MAX][64];
static unsigned recv[NCPU_MAX][64], dup[NCPU_MAX][64];
static unsigned bad[NCPU_MAX];
static uint64_t last_bad[NCPU_MAX];
/* [sender][receiver][k]: only the sender writes its own */
static unsigned sent[NCPU_MAX][NCPU_MAX][K];

static unsigned ready, done_send, stalled, done_cpu;

struct cpu_result {
	int vec;
	struct fault f;
	long ret;
	uint64_t rr, status, pir;
	unsigned idt;
	uint64_t ms;
};
static struct cpu_result res[NCPU_MAX];

static char stacks[NCPU_MAX][8192] __attribute__((aligned(16)));

static void handler(struct uintr_frame *frame)
{
	int r = smp_id();
	uint64_t uv = frame->vector;

	if (uv >= (uint64_t)ncpu * K || uv / K == (uint64_t)r) {
		__atomic_add_fetch(&bad[r], 1, __ATOMIC_RELAXED);
		STORE(&last_bad[r], uv);
		return;
	}
	if (__atomic_exchange_n(&outstanding[r][uv], 0, __ATOMIC_ACQ_REL) == 1)
		__atomic_add_fetch(&recv[r][uv], 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&dup[r][uv], 1, __ATOMIC_RELAXED);
}

static bool nothing_outstanding(void)
{
	for (int r = 0; r < ncpu; r++)
		for (int uv = 0; uv < ncpu * K; uv++)
			if (LOAD(&outstanding[r][uv]))
				return false;
	return true;
}

/* Ring 3 on CPU s: post quota[s] user interrupts round-robin over (d, k). */
static long user_main(void *arg)
{
	int s = (int)(uintptr_t)arg;
	uint64_t n = 0, last = rdtsc(), stall = STALL_MS * tsc_khz;
	unsigned cursor = 0, slots = ncpu * K;

	stui();
	/* Nobody posts before every receiver is set up. */
	__atomic_add_fetch(&ready, 1, __ATOMIC_ACQ_REL);
	while (LOAD(&ready) < (unsigned)ncpu)
		cpu_relax();
	last = rdtsc();
	while (n < quota[s]) {
		unsigned j = cursor++ % slots, d = j / K, k = j % K, zero = 0;

		if (d == (unsigned)s)
			continue;
		if (__atomic_compare_exchange_n(&outstanding[d][s * K + k], &zero, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_store_n(&sent[s][d][k], sent[s][d][k] + 1, __ATOMIC_RELAXED);
			senduipi(j);
			n++;
			last = rdtsc();
		} else if (rdtsc() - last > stall) {
			__atomic_add_fetch(&stalled, 1, __ATOMIC_RELAXED);
			break;
		} else {
			cpu_relax();
		}
	}
	__atomic_add_fetch(&done_send, 1, __ATOMIC_ACQ_REL);
	/* Keep receiving until everybody has sent and everything arrived. */
	wait_until(LOAD(&done_send) == (unsigned)ncpu && nothing_outstanding(), DRAIN_MS);
	udelay(2000);		/* anything extra would arrive here */
	clui();
	return n;
}

static void cpu_main(void *arg)
{
	int c = (int)(uintptr_t)arg;
	struct cpu_result *r = &res[c];
	unsigned idt0 = irq_count(c, UINV);
	uint64_t t0;

	uintr_setup_thread(&rx[c], uitt[c], ncpu * K - 1, UINV);
	t0 = rdtsc();
	r->vec = run_in_user(user_main, (void *)(uintptr_t)c, stacks[c] + sizeof(stacks[c]),
			     &r->ret, &r->f);
	r->ms = ms_since(t0);
	r->rr = rdmsr(MSR_IA32_UINTR_RR);
	r->status = __atomic_load_n(&rx[c].status, __ATOMIC_ACQUIRE);
	r->pir = __atomic_load_n(&rx[c].pir, __ATOMIC_ACQUIRE);
	r->idt = irq_count(c, UINV) - idt0;
	wrmsr(MSR_IA32_UINTR_TT, 0);
	uintr_set_cr4(false);
	__atomic_add_fetch(&done_cpu, 1, __ATOMIC_ACQ_REL);
}

int main(void)
{
	const char *s = arg_get("count");
	uint64_t count = 0, t0, ms, total_sent = 0, total_recv = 0, total_dup = 0, total_bad = 0;
	unsigned lost_pairs = 0, dup_pairs = 0, faults = 0;
	bool met, clean = true;
	int has;

	for (; s && *s >= '0' && *s <= '9'; s++)
		count = count * 10 + (*s - '0');
	if (!count)
		count = 1000000;
	has = uintr_expected();
	if (has < 0)
		return tap_done();
	if (!has)
		bail_out("needs uintr=1 and -cpu ...,uintr=on");
	ncpu = cpu_count();
	if (ncpu < 2)
		bail_out("needs 2 to %d CPUs, have %d", NCPU_MAX, ncpu);
	if (ncpu > NCPU_MAX)
		ncpu = NCPU_MAX;
	if (!apic_mode_init())
		return tap_done();

	for (int c = 0; c < ncpu; c++)
		quota[c] = count / ncpu + (c == 0 ? count % ncpu : 0);
	for (int c = 0; c < ncpu; c++) {
		rx[c].status = UPID_NV(UINV) | upid_ndst(cpu_apic_id(c));
		rx[c].pir = 0;
	}
	for (int src = 0; src < ncpu; src++)
		for (int d = 0; d < ncpu; d++)
			for (int k = 0; k < K; k++) {
				uitt[src][d * K + k].lo = d == src ? 0 : UITTE(src * K + k);
				uitt[src][d * K + k].upid = (uintptr_t)&rx[d];
			}
	count_irqs(UINV, UINV);
	uintr_handler = handler;
	diag("%s mode, %d CPUs all-to-all, %lu user interrupts (%d vectors per sender and receiver)",
	     apic_mode_name(), ncpu, count, K);

	t0 = rdtsc();
	for (int c = 1; c < ncpu; c++)
		on_cpu_async(c, cpu_main, (void *)(uintptr_t)c);
	cpu_main((void *)0);
	met = wait_until(LOAD(&done_cpu) == (unsigned)ncpu, DRAIN_MS + STALL_MS + 5000);
	ms = ms_since(t0);

	for (int src = 0; src < ncpu; src++)
		for (int r = 0; r < ncpu; r++) {
			unsigned ps = 0, pr = 0, pd = 0, lost = 0;

			if (src == r)
				continue;
			for (int k = 0; k < K; k++) {
				unsigned sn = LOAD(&sent[src][r][k]), rc = LOAD(&recv[r][src * K + k]);

				ps += sn;
				pr += rc;
				pd += LOAD(&dup[r][src * K + k]);
				lost += sn > rc ? sn - rc : 0;
			}
			diag("CPU %d -> CPU %d: sent %u, received %u, lost %u, duplicated %u",
			     src, r, ps, pr, lost, pd);
			total_sent += ps;
			total_recv += pr;
			total_dup += pd;
			lost_pairs += ps != pr;
			dup_pairs += pd != 0;
		}
	for (int c = 0; c < ncpu; c++) {
		struct cpu_result *r = &res[c];

		diag("CPU %d: posted %ld in %lu ms; end: UIRR %#lx, UPID status %#lx PIR %#lx, "
		     "IDT UINV %u, bad vectors %u (last %lu)%s", c, r->ret, r->ms, r->rr, r->status,
		     r->pir, r->idt, bad[c], last_bad[c],
		     r->vec == -1 ? "" : " - ring 3 ended by an exception");
		if (r->vec != -1)
			diag("CPU %d: exception %d (%s) ring %d error %#x RIP %#lx", c, r->vec,
			     exception_mnemonic(r->vec), r->f.ring, r->f.error_code, r->f.rip);
		faults += r->vec != -1;
		total_bad += bad[c];
		clean &= r->rr == 0 && r->pir == 0 && !(r->status & UPID_ON) && r->idt == 0;
	}
	diag("%s mode, %d CPUs: %lu sent, %lu received, %lu lost, %lu duplicated in %lu ms "
	     "(%lu user interrupts/s)", apic_mode_name(), ncpu, total_sent, total_recv,
	     total_sent > total_recv ? total_sent - total_recv : 0, total_dup, ms,
	     ms ? total_recv * 1000 / ms : 0);

	ok(met && faults == 0 && LOAD(&stalled) == 0,
	   "all %d CPUs post in ring 3 and finish without an exception or a stall "
	   "(%u finished, %u exceptions, %u stalls of %u ms)", ncpu, LOAD(&done_cpu), faults,
	   LOAD(&stalled), STALL_MS);
	ok(total_sent == count,
	   "%lu user interrupts sent all-to-all, want %lu", total_sent, count);
	ok(lost_pairs == 0 && total_recv == total_sent,
	   "every (sender, receiver, vector): received == sent: %lu sent, %lu received, "
	   "%u of %d sender/receiver pairs differ", total_sent, total_recv, lost_pairs,
	   ncpu * (ncpu - 1));
	ok(total_dup == 0 && dup_pairs == 0, "no user interrupt is delivered twice: %lu duplicates",
	   total_dup);
	ok(total_bad == 0, "every delivered vector is a UV some other CPU sends to this one: %lu bad",
	   total_bad);
	ok(clean, "afterwards nothing is pending on any CPU (UIRR, PIR, ON all 0) and no "
	   "notification went through the IDT");
	return tap_done();
}
