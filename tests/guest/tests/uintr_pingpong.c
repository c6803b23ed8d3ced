/*
 * User-interrupt ping-pong: CPU 0 and CPU 1, both in ring 3 with UIF=1,
 * each with its own UPID and UITT, bounce a user interrupt with SENDUIPI.
 * Every ping and every pong must arrive: the counts are exact.
 *
 * First the two CPUs bounce a counter through shared memory the same
 * number of times with the same polling loop: the spin round trip, the
 * floor a cross-CPU notification cannot beat.  Both figures come from the
 * same run, so their ratio holds on a noisy host.
 *
 * Command line: uintr=0|1 (CPUID.(7,0):EDX[5] expected), rounds=N
 * (default 100000), apic=xapic|x2 (default xapic: the APIC mode of both
 * CPUs, which decides how SENDUIPI reads UPID.NDST).
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
#define PING_UV		1	/* CPU 0 -> CPU 1 */
#define PONG_UV		2	/* CPU 1 -> CPU 0 */
#define STEP_TIMEOUT_MS	1000

static struct upid rx[2];
static struct uitte uitt[2][1];
static unsigned uhits[2], wrong_vec[2];
static uint64_t last_wrong[2];
static unsigned idt_uinv[2];
static unsigned rounds, replied;
static int ready, stop;

static unsigned spin_ping, spin_pong, spin_done;

static char user_stack[2][4096] __attribute__((aligned(16)));
#define USER_STACK_TOP(cpu)	(user_stack[cpu] + sizeof(user_stack[cpu]))

static void handler(struct uintr_frame *frame)
{
	int c = smp_id();

	if (frame->vector != (c == 0 ? PONG_UV : PING_UV)) {
		wrong_vec[c]++;
		last_wrong[c] = frame->vector;
	}
	__atomic_add_fetch(&uhits[c], 1, __ATOMIC_RELEASE);
}

static void idt_uinv_handler(struct ex_regs *regs)
{
	(void)regs;
	__atomic_add_fetch(&idt_uinv[smp_id()], 1, __ATOMIC_RELEASE);
	apic_eoi();
}

struct cpu_result {
	int vec;
	long ret;
	uint64_t rr, status, pir;
	int done;
};

static void setup_cpu(int c)
{
	int other = !c;

	rx[c].status = UPID_NV(UINV) | upid_ndst(apic_id());
	rx[c].pir = 0;
	uitt[c][0].lo = UITTE(c == 0 ? PING_UV : PONG_UV);
	uitt[c][0].upid = (uintptr_t)&rx[other];
	uintr_setup_thread(&rx[c], uitt[c], 0, UINV);
}

static void finish_cpu(struct cpu_result *r)
{
	r->rr = rdmsr(MSR_IA32_UINTR_RR);
	r->status = __atomic_load_n(&rx[smp_id()].status, __ATOMIC_ACQUIRE);
	r->pir = __atomic_load_n(&rx[smp_id()].pir, __ATOMIC_ACQUIRE);
	write_cr4(read_cr4() & ~X86_CR4_UINTR);
}

/* CPU 1, ring 3: answer each ping with a pong. */
static long user_ponger(void *arg)
{
	(void)arg;
	stui();
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	while (replied < rounds) {
		if (!wait_until(LOAD(&uhits[1]) > replied ||
				__atomic_load_n(&stop, __ATOMIC_ACQUIRE), 5 * STEP_TIMEOUT_MS))
			break;
		if (LOAD(&uhits[1]) <= replied)
			break;	/* stop */
		senduipi(0);
		__atomic_store_n(&replied, replied + 1, __ATOMIC_RELEASE);
	}
	clui();
	return replied;
}

static void cpu1_main(void *arg)
{
	struct cpu_result *r = arg;

	setup_cpu(1);
	r->vec = run_in_user(user_ponger, NULL, USER_STACK_TOP(1), &r->ret, NULL);
	finish_cpu(r);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

/* CPU 0, ring 3: ping, wait for the pong. */
static long user_pinger(void *arg)
{
	unsigned i;

	(void)arg;
	stui();
	for (i = 0; i < rounds; i++) {
		senduipi(0);
		if (!wait_until(LOAD(&uhits[0]) == i + 1, STEP_TIMEOUT_MS))
			break;
	}
	/* Nothing extra may arrive afterwards. */
	udelay(1000);
	clui();
	return i;
}

/* CPU 1 answers each shared-memory ping with a pong.  */
static void spin_ponger(void *arg)
{
	unsigned i;

	(void)arg;
	for (i = 1; i <= rounds; i++) {
		if (!wait_until(LOAD(&spin_ping) == i, STEP_TIMEOUT_MS))
			break;
		STORE(&spin_pong, i);
	}
	STORE(&spin_done, 1);
}

/* CPU 0's side; returns the number of completed round trips.  */
static unsigned spin_pingpong(void)
{
	unsigned i;

	on_cpu_async(1, spin_ponger, NULL);
	for (i = 1; i <= rounds; i++) {
		STORE(&spin_ping, i);
		if (!wait_until(LOAD(&spin_pong) == i, STEP_TIMEOUT_MS))
			break;
	}
	wait_until(LOAD(&spin_done), STEP_TIMEOUT_MS);
	return i - 1;
}

int main(void)
{
	const char *n = arg_get("rounds");
	struct cpu_result r0 = { 0 }, r1 = { 0 };
	uint64_t start, ms, spin_ns = 0, uintr_ns;
	unsigned spins;
	bool met;
	int has;

	rounds = 100000;
	if (n && *n) {
		rounds = 0;
		for (; *n >= '0' && *n <= '9'; n++)
			rounds = rounds * 10 + (*n - '0');
	}
	has = uintr_expected();
	if (has < 0)
		return tap_done();
	if (!has) {
		skip("CPU without UINTR", "user-interrupt ping-pong");
		return tap_done();
	}
	if (cpu_count() < 2) {
		skip("needs 2 CPUs", "%u user-interrupt round trips CPU 0 <-> CPU 1 in ring 3", rounds);
		return tap_done();
	}

	if (!apic_mode_init())
		return tap_done();

	start = rdtsc();
	spins = spin_pingpong();
	ms = ms_since(start);
	if (spins)
		spin_ns = (rdtsc() - start) * 1000000 / tsc_khz / spins;
	diag("%s mode: %u shared-memory spin round trips in %lu ms: %lu ns per round trip",
	     apic_mode_name(), spins, ms, spin_ns);
	ok(spins == rounds && LOAD(&spin_done),
	   "CPU 0 and CPU 1 complete %u shared-memory round trips, got %u", rounds, spins);

	handle_irq(UINV, idt_uinv_handler);
	uintr_handler = handler;
	setup_cpu(0);
	on_cpu_async(1, cpu1_main, &r1);
	if (!wait_until(__atomic_load_n(&ready, __ATOMIC_ACQUIRE), STEP_TIMEOUT_MS))
		diag("CPU 1 did not get ready in ring 3");

	start = rdtsc();
	r0.vec = run_in_user(user_pinger, NULL, USER_STACK_TOP(0), &r0.ret, NULL);
	ms = ms_since(start);
	uintr_ns = r0.ret > 0 ? (rdtsc() - start) * 1000000 / tsc_khz / r0.ret : 0;
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	finish_cpu(&r0);
	met = wait_until(__atomic_load_n(&r1.done, __ATOMIC_ACQUIRE), 10 * STEP_TIMEOUT_MS);

	diag("%s mode: %ld user-interrupt round trips in %lu ms: %lu ns per round trip",
	     apic_mode_name(), r0.ret, ms, uintr_ns);
	if (spin_ns)
		diag("%s mode: user-interrupt round trip / spin round trip = %lu.%02lu",
		     apic_mode_name(), uintr_ns / spin_ns, uintr_ns * 100 / spin_ns % 100);
	ok(r0.vec == -1 && r0.ret == rounds && LOAD(&uhits[0]) == rounds,
	   "CPU 0 (ring 3) completes %u SENDUIPI round trips to CPU 1 and receives exactly %u pongs, "
	   "got %ld round trips, %u pongs (vector %d)", rounds, rounds, r0.ret, LOAD(&uhits[0]), r0.vec);
	ok(met && r1.vec == -1 && r1.ret == rounds && LOAD(&uhits[1]) == rounds,
	   "CPU 1 (ring 3) receives exactly %u pings and answers each, got %u pings, %ld answers "
	   "(vector %d)%s", rounds, LOAD(&uhits[1]), r1.ret, r1.vec, met ? "" : " - CPU 1 did not finish");
	ok(wrong_vec[0] == 0 && wrong_vec[1] == 0,
	   "every user interrupt has the sender's UV (CPU 0 gets %d, CPU 1 gets %d): wrong %u on CPU 0 "
	   "(last %lu), %u on CPU 1 (last %lu)", PONG_UV, PING_UV, wrong_vec[0], last_wrong[0],
	   wrong_vec[1], last_wrong[1]);
	ok(LOAD(&idt_uinv[0]) == 0 && LOAD(&idt_uinv[1]) == 0,
	   "no notification goes through the IDT (CPU 0 %u, CPU 1 %u)", LOAD(&idt_uinv[0]),
	   LOAD(&idt_uinv[1]));
	ok(r0.rr == 0 && r1.rr == 0 && r0.pir == 0 && r1.pir == 0 &&
	   !(r0.status & UPID_ON) && !(r1.status & UPID_ON),
	   "afterwards nothing is left pending: UIRR %#lx/%#lx, PIR %#lx/%#lx, ON %d/%d",
	   r0.rr, r1.rr, r0.pir, r1.pir, (int)(r0.status & UPID_ON), (int)(r1.status & UPID_ON));
	return tap_done();
}
