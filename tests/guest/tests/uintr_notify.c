/*
 * User-interrupt notification identification and processing.
 *
 * With CR4.UINTR = 1 in long mode, an ordinary interrupt whose vector is
 * UINV (IA32_UINTR_MISC[39:32]) is not delivered through the IDT: the
 * local APIC gets an EOI, UPID.ON is cleared, PIR is zeroed and ORed into
 * UIRR, at any CPL and whatever UIF is.  Other vectors, or CR4.UINTR = 0:
 * normal IDT delivery.  RFLAGS.IF = 0 keeps the interrupt pending.
 *
 * Command line: uintr=0|1, the CPUID.(7,0):EDX[5] the run expects;
 * apic=xapic|x2 (default xapic), the APIC mode of every CPU.
 */
#include "apic.h"
#include "desc.h"
#include "irqcount.h"
#include "paging.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"

#define UINV		0x50	/* BSP notification vector */
#define OTHER_VEC	0x51	/* same priority class as UINV */
#define CPU1_UINV	0x52	/* CPU 1's notification vector */
#define TIMEOUT_MS	1000
#define QUIET_MS	30	/* how long "nothing happens" is watched */

#define APIC_ISR	0x100
#define APIC_IRR	0x200
#define BIT(n)		((uint64_t)1 << (n))

static struct upid upid[MAX_CPUS];
static unsigned uhits[MAX_CPUS];	/* user-interrupt handler runs */
static uint64_t uvec[MAX_CPUS][8];	/* vectors it saw, in order */

static char user_stack[MAX_CPUS][4096] __attribute__((aligned(16)));
#define USER_STACK_TOP(cpu)	(user_stack[cpu] + sizeof(user_stack[cpu]))

static void record_uintr(struct uintr_frame *frame)
{
	int c = smp_id();
	unsigned n = uhits[c];

	if (n < 8)
		uvec[c][n] = frame->vector;
	__atomic_store_n(&uhits[c], n + 1, __ATOMIC_RELEASE);
}

static bool apic_bit(unsigned base, int vec)
{
	return apic_read(base + 0x10 * (vec / 32)) & (1u << (vec % 32));
}

/* CR4.UINTR=1, UINV, PD, handler; UIRR := rr.  Runs on any CPU. */
static void setup_receiver(int uinv, uint64_t rr)
{
	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(uinv, 0));
	wrmsr(MSR_IA32_UINTR_PD, (uintptr_t)&upid[smp_id()]);
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)uintr_entry);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, 128);
	wrmsr(MSR_IA32_UINTR_RR, rr);
}

static void set_upid(int cpu, uint64_t status, uint64_t pir)
{
	__atomic_store_n(&upid[cpu].pir, pir, __ATOMIC_RELEASE);
	__atomic_store_n(&upid[cpu].status, status, __ATOMIC_RELEASE);
}

static bool upid_on(int cpu)
{
	return LOAD(&upid[cpu].status) & UPID_ON;
}

/* Ring 3: STUI, wait until the handler ran want times in all, CLUI. */
static long user_stui_wait(void *arg)
{
	unsigned want = (uintptr_t)arg;
	bool met;

	stui();
	met = wait_until(LOAD(&uhits[smp_id()]) >= want, TIMEOUT_MS);
	clui();
	return met;
}

/* Ring 3, UIF=0: watch for QUIET_MS, return how often the handler ran. */
static long user_uif0_watch(void *arg)
{
	(void)arg;
	mdelay(QUIET_MS);
	return LOAD(&uhits[smp_id()]);
}

/* Ring 3, UIF=0: wait until this CPU's UPID.ON clears. */
static long user_wait_on_clear(void *arg)
{
	(void)arg;
	return wait_until(!upid_on(smp_id()), TIMEOUT_MS);
}

static const char *to(bool met)
{
	return met ? "" : " - timeout";
}

/* Wait, interrupts on, for the self IPI that the caller sent. */
static long wait_notified(void *arg)
{
	(void)arg;
	irq_enable();
	mdelay(QUIET_MS);
	return 0;
}

/*
 * A UPID that is not mapped: notification processing faults.  The SDM does
 * not say what happens; QEMU raises #PF (a supervisor write to UPIDADDR) at
 * the interrupted boundary, after the EOI.  Whatever the outcome, QEMU must
 * not hang and the APIC must keep working.
 */
static void test_unmapped_upid(void)
{
	uintptr_t va = TEST_REGION_BASE + 37 * PAGE_SIZE;
	unsigned oth0 = irq_count(0, OTHER_VEC);
	struct fault f = { 0 };
	bool met;
	int vec;

	unmap_page(va);
	setup_receiver(UINV, 0);
	wrmsr(MSR_IA32_UINTR_PD, va);
	irq_disable();
	apic_send_ipi(apic_id(), UINV);
	vec = run_catch(wait_notified, NULL, NULL, &f);
	irq_enable();
	ok(vec == PF_VECTOR && f.cr2 == va && !(f.error_code & PF_ERR_U) &&
	   (f.error_code & PF_ERR_W),
	   "notification with an unmapped UPID raises #PF (supervisor write, CR2 = UPIDADDR %#lx): "
	   "vector %d, CR2 %#lx, error code %#x", va, vec, f.cr2, (unsigned)f.error_code);
	ok(!apic_bit(APIC_ISR, UINV) && !apic_bit(APIC_IRR, UINV),
	   "the faulting notification was dismissed at the APIC (ISR %d, IRR %d)",
	   apic_bit(APIC_ISR, UINV), apic_bit(APIC_IRR, UINV));
	apic_send_ipi(apic_id(), OTHER_VEC);
	met = wait_until(irq_count(0, OTHER_VEC) == oth0 + 1, TIMEOUT_MS);
	ok(met, "after a faulting notification the APIC keeps working: IPI %#x arrives%s",
	   OTHER_VEC, to(met));
	wrmsr(MSR_IA32_UINTR_PD, (uintptr_t)&upid[0]);
}

/* Ring 0, IF=1, UIF=0: a self IPI with vector UINV is a notification. */
static void test_ring0_uif0(void)
{
	uint64_t pir = BIT(5) | BIT(40), rr0 = BIT(1), rr;
	uint64_t status = UPID_ON | UPID_NV(UINV) | upid_ndst(apic_id()) | 0xab00000000ull;
	unsigned idt0 = irq_count(0, UINV), oth0 = irq_count(0, OTHER_VEC);
	long ret = -1;
	bool met;
	int vec;

	setup_receiver(UINV, rr0);
	set_upid(0, status, pir);
	apic_send_ipi(apic_id(), UINV);
	met = wait_until(!upid_on(0), TIMEOUT_MS);
	mdelay(5);	/* give a wrong IDT delivery time to show */
	ok(met, "ring 0, UIF=0: self IPI with vector UINV %#x clears UPID.ON%s", UINV, to(met));
	ok(irq_count(0, UINV) == idt0,
	   "notification vector UINV %#x is not delivered through the IDT, IDT handler ran %u times",
	   UINV, irq_count(0, UINV) - idt0);
	ok(LOAD(&upid[0].status) == (status & ~UPID_ON),
	   "notification processing clears only UPID.ON: status %#lx expected %#lx",
	   LOAD(&upid[0].status), (uint64_t)(status & ~UPID_ON));
	ok(LOAD(&upid[0].pir) == 0,
	   "notification processing zeroes PIR, got %#lx", LOAD(&upid[0].pir));
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(rr == (rr0 | pir),
	   "notification processing ORs PIR %#lx into UIRR %#lx: UIRR %#lx expected %#lx",
	   pir, rr0, rr, rr0 | pir);
	ok(!apic_bit(APIC_ISR, UINV) && !apic_bit(APIC_IRR, UINV),
	   "notification processing EOIs the local APIC: ISR bit %#x is %d, IRR bit %d",
	   UINV, apic_bit(APIC_ISR, UINV), apic_bit(APIC_IRR, UINV));

	apic_send_ipi(apic_id(), OTHER_VEC);
	met = wait_until(irq_count(0, OTHER_VEC) == oth0 + 1, TIMEOUT_MS);
	ok(met, "after a notification the APIC keeps working: ordinary IPI %#x (UINV's priority class) "
	   "arrives through the IDT%s", OTHER_VEC, to(met));

	mdelay(QUIET_MS);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(LOAD(&uhits[0]) == 0 && rr == (rr0 | pir),
	   "ring 0: no user interrupt is delivered with UIRR %#lx pending (handler ran %u times, UIRR %#lx)",
	   rr0 | pir, LOAD(&uhits[0]), rr);

	vec = run_in_user(user_uif0_watch, NULL, USER_STACK_TOP(0), &ret, NULL);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(vec == -1 && ret == 0 && rr == (rr0 | pir),
	   "ring 3 with UIF=0: no user interrupt is delivered (handler ran %ld times, UIRR %#lx, vector %d)",
	   ret, rr, vec);

	vec = run_in_user(user_stui_wait, (void *)3ul, USER_STACK_TOP(0), &ret, NULL);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(vec == -1 && ret == 1 && LOAD(&uhits[0]) == 3 && rr == 0,
	   "ring 3 after STUI: the three pending user interrupts are delivered and UIRR clears "
	   "(handler ran %u times, UIRR %#lx, vector %d)%s", LOAD(&uhits[0]), rr, vec, to(ret == 1));
	ok(uvec[0][0] == 40 && uvec[0][1] == 5 && uvec[0][2] == 1,
	   "user interrupts are delivered highest vector first: expected 40, 5, 1, got %lu, %lu, %lu",
	   uvec[0][0], uvec[0][1], uvec[0][2]);

	/* A second notification after the first: processed again. */
	set_upid(0, status, BIT(17));
	apic_send_ipi(apic_id(), UINV);
	met = wait_until(!upid_on(0), TIMEOUT_MS);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(met && rr == BIT(17) && irq_count(0, UINV) == idt0,
	   "a second notification is processed too: UIRR %#lx expected %#lx, IDT ran %u%s",
	   rr, BIT(17), irq_count(0, UINV) - idt0, to(met));
	wrmsr(MSR_IA32_UINTR_RR, 0);
}

/* RFLAGS.IF=0: the notification interrupt stays pending in the APIC. */
static void test_if0(void)
{
	uint64_t status = UPID_ON | UPID_NV(UINV) | upid_ndst(apic_id());
	uint64_t rr, pir;
	bool on, irr, met;

	setup_receiver(UINV, 0);
	set_upid(0, status, BIT(7));
	irq_disable();
	apic_send_ipi(apic_id(), UINV);
	mdelay(QUIET_MS);
	on = upid_on(0);
	pir = LOAD(&upid[0].pir);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	irr = apic_bit(APIC_IRR, UINV);
	irq_enable();
	ok(on && pir == BIT(7) && rr == 0,
	   "RFLAGS.IF=0: a UINV interrupt is not processed (UPID.ON %d, PIR %#lx, UIRR %#lx)",
	   on, pir, rr);
	ok(irr, "RFLAGS.IF=0: the UINV interrupt stays pending in the APIC IRR, IRR bit %#x is %d",
	   UINV, irr);
	met = wait_until(!upid_on(0), TIMEOUT_MS);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(met && rr == BIT(7) && LOAD(&upid[0].pir) == 0,
	   "once IF=1 the pending notification is processed: UIRR %#lx expected %#lx, PIR %#lx%s",
	   rr, BIT(7), LOAD(&upid[0].pir), to(met));
	wrmsr(MSR_IA32_UINTR_RR, 0);
}

/* Notification processing in ring 3, with UIF=0 and with UIF=1. */
static void test_ring3(void)
{
	uint64_t status = UPID_ON | UPID_NV(UINV) | upid_ndst(apic_id());
	unsigned idt0 = irq_count(0, UINV), u0;
	long ret = 0;
	uint64_t rr;
	int vec;

	setup_receiver(UINV, 0);
	set_upid(0, status, BIT(9));
	irq_disable();	/* pending until IRETQ to ring 3 sets IF */
	apic_send_ipi(apic_id(), UINV);
	u0 = LOAD(&uhits[0]);
	vec = run_in_user(user_wait_on_clear, NULL, USER_STACK_TOP(0), &ret, NULL);
	irq_enable();
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(vec == -1 && ret == 1 && rr == BIT(9) && LOAD(&uhits[0]) == u0 &&
	   irq_count(0, UINV) == idt0,
	   "ring 3, UIF=0: notification processed (UPID.ON cleared %ld, UIRR %#lx expected %#lx), "
	   "nothing delivered (handler ran %u times, IDT %u)",
	   ret, rr, BIT(9), LOAD(&uhits[0]) - u0, irq_count(0, UINV) - idt0);
	wrmsr(MSR_IA32_UINTR_RR, 0);

	set_upid(0, status, BIT(33));
	irq_disable();
	apic_send_ipi(apic_id(), UINV);
	u0 = LOAD(&uhits[0]);
	vec = run_in_user(user_stui_wait, (void *)(uintptr_t)(u0 + 1), USER_STACK_TOP(0), &ret, NULL);
	irq_enable();
	ok(vec == -1 && ret == 1 && LOAD(&uhits[0]) == u0 + 1 && uvec[0][u0 < 8 ? u0 : 7] == 33 &&
	   irq_count(0, UINV) == idt0,
	   "ring 3, UIF=1: a UINV interrupt becomes user interrupt 33 and the handler runs once "
	   "(ran %u times, vector %lu, IDT %u)%s", LOAD(&uhits[0]) - u0, uvec[0][u0 < 8 ? u0 : 7],
	   irq_count(0, UINV) - idt0, to(ret == 1));
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(rr == 0, "after delivery UIRR is 0, got %#lx", rr);
}

/* Vectors that are not notifications go through the IDT. */
static void test_not_notifications(void)
{
	uint64_t status = UPID_ON | UPID_NV(UINV) | upid_ndst(apic_id());
	unsigned h;
	uint64_t rr;
	bool met;

	/* CR4.UINTR=1, another vector. */
	setup_receiver(UINV, 0);
	set_upid(0, status, BIT(3));
	h = irq_count(0, OTHER_VEC);
	apic_send_ipi(apic_id(), OTHER_VEC);
	met = wait_until(irq_count(0, OTHER_VEC) == h + 1, TIMEOUT_MS);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(met && upid_on(0) && LOAD(&upid[0].pir) == BIT(3) && rr == 0,
	   "CR4.UINTR=1: vector %#x != UINV goes through the IDT and leaves the UPID alone "
	   "(status %#lx PIR %#lx UIRR %#lx)%s", OTHER_VEC, LOAD(&upid[0].status),
	   LOAD(&upid[0].pir), rr, to(met));

	/* CR4.UINTR=0, the UINV vector. */
	uintr_set_cr4(false);
	h = irq_count(0, UINV);
	apic_send_ipi(apic_id(), UINV);
	met = wait_until(irq_count(0, UINV) == h + 1, TIMEOUT_MS);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(met && upid_on(0) && LOAD(&upid[0].pir) == BIT(3) && rr == 0,
	   "CR4.UINTR=0: vector UINV %#x goes through the IDT and leaves the UPID alone "
	   "(status %#lx PIR %#lx UIRR %#lx)%s", UINV, LOAD(&upid[0].status),
	   LOAD(&upid[0].pir), rr, to(met));

	/* A new UINV takes effect: the old one is ordinary again. */
	setup_receiver(OTHER_VEC, 0);
	h = irq_count(0, UINV);
	apic_send_ipi(apic_id(), UINV);
	met = wait_until(irq_count(0, UINV) == h + 1, TIMEOUT_MS);
	ok(met && upid_on(0),
	   "after UINV is changed to %#x, vector %#x goes through the IDT%s", OTHER_VEC, UINV, to(met));
	h = irq_count(0, OTHER_VEC);
	apic_send_ipi(apic_id(), OTHER_VEC);
	met = wait_until(!upid_on(0), TIMEOUT_MS);
	mdelay(5);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(met && rr == BIT(3) && irq_count(0, OTHER_VEC) == h,
	   "after UINV is changed to %#x, vector %#x is a notification (UIRR %#lx, IDT ran %u)%s",
	   OTHER_VEC, OTHER_VEC, rr, irq_count(0, OTHER_VEC) - h, to(met));
	wrmsr(MSR_IA32_UINTR_RR, 0);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(UINV, 0));
}

/* ---- CPU 1 */

struct cpu1_state {
	uint64_t rr;
	bool isr;
};

static void cpu1_setup(void *arg)
{
	(void)arg;
	setup_receiver(CPU1_UINV, 0);
}

static void cpu1_read(void *arg)
{
	struct cpu1_state *s = arg;

	s->rr = rdmsr(MSR_IA32_UINTR_RR);
	s->isr = apic_bit(APIC_ISR, CPU1_UINV);
}

static void cpu1_cleanup(void *arg)
{
	(void)arg;
	wrmsr(MSR_IA32_UINTR_RR, 0);
	uintr_set_cr4(false);
}

static void test_cross_cpu(void)
{
	uint32_t id1 = cpu_apic_id(1);
	uint64_t status = UPID_ON | UPID_NV(CPU1_UINV) | upid_ndst(id1);
	unsigned h = irq_count(1, CPU1_UINV), h0 = irq_count(0, CPU1_UINV);
	struct cpu1_state s = { 0 };
	bool met;

	on_cpu(1, cpu1_setup, NULL);
	set_upid(1, status, BIT(12) | BIT(62));
	apic_send_ipi(id1, CPU1_UINV);
	met = wait_until(!upid_on(1), TIMEOUT_MS);
	mdelay(5);
	on_cpu(1, cpu1_read, &s);
	ok(met && LOAD(&upid[1].pir) == 0 && s.rr == (BIT(12) | BIT(62)),
	   "IPI %#x from CPU 0 to CPU 1 (its UINV): CPU 1 clears ON, zeroes PIR (%#lx) and sets UIRR "
	   "%#lx, got %#lx%s", CPU1_UINV, LOAD(&upid[1].pir), BIT(12) | BIT(62), s.rr, to(met));
	ok(irq_count(1, CPU1_UINV) == h && irq_count(0, CPU1_UINV) == h0 && !s.isr,
	   "CPU 1: the notification is not delivered through its IDT (ran %u) and its ISR bit is %d",
	   irq_count(1, CPU1_UINV) - h, s.isr);

	h = irq_count(1, UINV);
	set_upid(1, status, BIT(4));
	apic_send_ipi(id1, UINV);
	met = wait_until(irq_count(1, UINV) == h + 1, TIMEOUT_MS);
	ok(met && upid_on(1) && LOAD(&upid[1].pir) == BIT(4),
	   "UINV is per CPU: vector %#x (the BSP's UINV) sent to CPU 1 goes through CPU 1's IDT "
	   "and leaves its UPID alone%s", UINV, to(met));

	h = irq_count(1, CPU1_UINV + 1);
	apic_send_ipi(id1, CPU1_UINV + 1);
	met = wait_until(irq_count(1, CPU1_UINV + 1) == h + 1, TIMEOUT_MS);
	ok(met, "CPU 1's APIC keeps working after a notification: ordinary IPI %#x arrives%s",
	   CPU1_UINV + 1, to(met));
	on_cpu(1, cpu1_cleanup, NULL);
}

int main(void)
{
	int has;

	has = uintr_expected();
	if (has < 0)
		return tap_done();
	if (!has) {
		skip("CPU without UINTR", "user-interrupt notification processing");
		return tap_done();
	}

	if (!apic_mode_init())
		return tap_done();
	count_irqs(0x40, 0x7f);
	uintr_handler = record_uintr;

	test_ring0_uif0();
	test_unmapped_upid();
	test_if0();
	test_ring3();
	test_not_notifications();
	uintr_set_cr4(false);
	if (cpu_count() >= 2)
		test_cross_cpu();
	else
		skip("needs 2 CPUs", "notification from CPU 0 to CPU 1, per-CPU UINV");
	return tap_done();
}
