/*
 * A guest to inspect from the host: sets up user interrupts on CPU 0 and
 * CPU 1 the way an OS would (each CPU with its UPID, handler, UITT,
 * CR4.UINTR, and XSAVE with IA32_XSS[14]), breaks one thing on purpose,
 * prints "# inspect: ready", then keeps both CPUs in ring 3 until QEMU is
 * stopped.  The host then runs `uintrctl check` on it
 * (tests/inspect/check-live.sh) and expects exactly the rule that covers
 * the broken thing to fail or warn.
 *
 * Command line:
 *   state=NAME     what to break (default healthy):
 *     healthy        nothing
 *     traffic        nothing, and CPU 0 and CPU 1 ping-pong user
 *                    interrupts without end; the ready line gives the
 *                    address of the 32-bit round counter (identity
 *                    mapped), for the host to read with QMP
 *     wrong-nv       CPU 1's UPID.NV differs from its UINV
 *     wrong-ndst     CPU 1's UPID.NDST names CPU 0's APIC
 *     upid-reserved  a reserved bit (bit 5) of CPU 1's UPID is set
 *     sn-pending     CPU 1's UPID has SN set and CPU 0 posted a request
 *     on-stale       CPU 1's UPID has ON set with no request posted
 *     uirr-held      CPU 1 has a request in UIRR and runs ring 3 with UIF=0
 *     upid-unmapped  CPU 1's IA32_UINTR_PD points at an unmapped page
 *     uitt-misaligned  CPU 0's UITT entry 0 names a UPID 8 bytes off
 *     uitt-unmapped  CPU 0's UITT entry 0 names an unmapped UPID
 *     uitt-reserved  CPU 0's UITT entry 0 sets reserved bit 4
 *     uitt-uv        CPU 0's UITT entry 0 has UV 64
 *     xss-clear      IA32_XSS[14] is clear on CPU 1
 *   apic=xapic|x2  APIC mode of both CPUs (default xapic)
 */
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "paging.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"
#include "xsave.h"

#define UINV		0xec
#define PING_UV		1	/* CPU 0 -> CPU 1 */
#define PONG_UV		2	/* CPU 1 -> CPU 0 */
/* In the test region, never mapped. */
#define UNMAPPED	(TEST_REGION_BASE + 64 * PAGE_SIZE)

static struct upid rx[2];
static struct uitte uitt[2][1];
static const char *state;
static unsigned uhits[2];
static unsigned round;

static char user_stack[2][4096] __attribute__((aligned(16)));
#define USER_STACK_TOP(cpu)	(user_stack[cpu] + sizeof(user_stack[cpu]))

static bool is(const char *name)
{
	return !strcmp(state, name);
}

static void handler(struct uintr_frame *frame)
{
	(void)frame;
	__atomic_add_fetch(&uhits[smp_id()], 1, __ATOMIC_RELEASE);
}

/* Both CPUs' UPIDs and UITTs, written by CPU 0 before anything runs. */
static void setup_memory(void)
{
	for (int c = 0; c < 2; c++) {
		rx[c].status = UPID_NV(UINV) | upid_ndst(cpu_apic_id(c));
		rx[c].pir = 0;
		uitt[c][0].lo = UITTE(c == 0 ? PING_UV : PONG_UV);
		uitt[c][0].upid = (uintptr_t)&rx[!c];
	}
}

static void setup_cpu(int c)
{
	if (xsave_set_cr4(true) != -1 || xsetbv_safe(0, 3) != -1 ||
	    wrmsr_safe(MSR_IA32_XSS, XMASK(XFEATURE_UINTR)) != -1)
		bail_out("XSAVE with IA32_XSS[14] refused: needs -cpu ...,xsaves=on");
	uintr_setup_thread(&rx[c], uitt[c], 0, UINV);
}

/* CPU 1's own breakage, applied on CPU 1. */
static void break_cpu1(void)
{
	if (is("upid-unmapped"))
		wrmsr(MSR_IA32_UINTR_PD, UNMAPPED);
	else if (is("uirr-held"))
		wrmsr(MSR_IA32_UINTR_RR, 1ull << PING_UV);
	else if (is("xss-clear"))
		wrmsr(MSR_IA32_XSS, 0);
}

/* Breakage in memory, applied on CPU 0 before CPU 1 runs. */
static void break_memory(void)
{
	uint32_t other = cpu_apic_id(0);

	if (is("wrong-nv"))
		rx[1].status = (rx[1].status & ~UPID_NV(0xff)) | UPID_NV(UINV + 1);
	else if (is("wrong-ndst"))
		rx[1].status = (rx[1].status & 0xffffffffull) |
			       (x2apic_enabled() ? UPID_NDST_X2APIC(other) : UPID_NDST_XAPIC(other));
	else if (is("upid-reserved"))
		rx[1].status |= 1ull << 5;
	else if (is("sn-pending"))
		rx[1].status |= UPID_SN;
	else if (is("on-stale"))
		rx[1].status |= UPID_ON;
	else if (is("uitt-misaligned"))
		uitt[0][0].upid = (uintptr_t)&rx[1] + 8;
	else if (is("uitt-unmapped"))
		uitt[0][0].upid = UNMAPPED;
	else if (is("uitt-reserved"))
		uitt[0][0].lo |= 1ull << 4;
	else if (is("uitt-uv"))
		uitt[0][0].lo = UITTE(64);
}

/* CPU 1, ring 3: answer pings in "traffic", else just wait. */
static long user_cpu1(void *arg)
{
	unsigned replied = 0;

	(void)arg;
	if (!is("uirr-held"))
		stui();
	for (;;) {
		if (is("traffic") && LOAD(&uhits[1]) > replied) {
			senduipi(0);
			replied++;
		}
		asm volatile("pause");
	}
	return 0;
}

static void cpu1_main(void *arg)
{
	(void)arg;
	setup_cpu(1);
	break_cpu1();
	run_in_user(user_cpu1, NULL, USER_STACK_TOP(1), NULL, NULL);
}

/* CPU 0, ring 3: ping in "traffic", post once in "sn-pending". */
static long user_cpu0(void *arg)
{
	(void)arg;
	stui();
	if (is("sn-pending"))
		senduipi(0);
	for (;;) {
		if (is("traffic")) {
			unsigned want = LOAD(&uhits[0]) + 1;

			senduipi(0);
			while (LOAD(&uhits[0]) < want)
				asm volatile("pause");
			STORE(&round, round + 1);
		}
		asm volatile("pause");
	}
	return 0;
}

int main(void)
{
	state = arg_get("state");
	if (!state || !*state)
		state = "healthy";
	if (!uintr_supported())
		bail_out("CPU without UINTR");
	if (cpu_count() < 2)
		bail_out("needs 2 CPUs");
	if (!apic_mode_init())
		return tap_done();
	uintr_handler = handler;
	setup_memory();
	break_memory();
	setup_cpu(0);
	on_cpu_async(1, cpu1_main, NULL);
	/* CPU 1 is in ring 3 once it has had time to set up. */
	mdelay(200);
	diag("inspect: ready state=%s apic=%s rounds@%p", state,
	     x2apic_enabled() ? "x2" : "xapic", (void *)&round);
	run_in_user(user_cpu0, NULL, USER_STACK_TOP(0), NULL, NULL);
	return tap_done();
}
