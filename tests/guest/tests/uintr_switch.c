/*
 * A thread switch of user-interrupt state the way an OS does it with
 * XSAVES/XRSTORS (the design Linux's UINTR patches use), with user
 * interrupts arriving while the receiver is switched out.  2 CPUs:
 * CPU 0 runs the receiving thread, CPU 1 sends.
 *
 *  1. CPU 0: the receiver's state is live (UINV, PD, handler, UIF = 1).
 *  2. Switch out: XSAVES of component 14 (which clears UINV), UPID.SN := 1,
 *     CLUI (the next thread's UIF).
 *  3. CPU 1 posts UV 3 and 7 with SENDUIPI: SN = 1, so only PIR changes.
 *     Then SN is cleared and UV 9 posted: ON is set and the notification
 *     vector reaches CPU 0, whose UINV is now 0, so it is an ordinary
 *     interrupt through the IDT and the UPID keeps PIR and ON.
 *  4. Switch in: XRSTORS (UINV, UIF and the rest back), SN := 0, and since
 *     PIR != 0 a self-IPI with UINV: notification processing moves PIR to
 *     UIRR and clears ON.
 *  5. Ring 3: the three user interrupts arrive once each, 9, 7, 3.
 *
 * Rules: SDM Vol. 1 13.5.11 (XSAVES clears UINV; XRSTORS), the UINTR
 * chapter's notification identification (vector == UINV) and processing,
 * SENDUIPI with SN.  Needs -cpu ...,xsaves=on,uintr=on (e.g. the
 * SapphireRapids-UINTR model) and -smp 2.  Command line: apic=xapic|x2
 * (default xapic), the APIC mode of both CPUs.
 */
#include "apic.h"
#include "desc.h"
#include "irqcount.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"
#include "xsave.h"

#define UINV		0x50
#define BIT(n)		((uint64_t)1 << (n))
#define TIMEOUT_MS	1000

static struct upid upid0;
static struct uitte uitt1[3] __attribute__((aligned(16)));
static uint8_t area[4096] __attribute__((aligned(64)));
static char user_stack[4096] __attribute__((aligned(16)));
static unsigned nrec;
static uint64_t rec[8];
static int sent_vec[3];

static void record(struct uintr_frame *f)
{
	if (nrec < 8)
		rec[nrec] = f->vector;
	__atomic_store_n(&nrec, nrec + 1, __ATOMIC_RELEASE);
}

/* CPU 1: CR4.UINTR, its UITT, and SENDUIPI of one entry. */
static void sender_setup(void *arg)
{
	(void)arg;
	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_TT, (uintptr_t)uitt1 | 1);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(0, 2));
}

static void sender_send(void *arg)
{
	int i = (int)(uintptr_t)arg;

	sent_vec[i] = asm_safe("senduipi %0", "r"((uint64_t)i));
}

static long user_wait(void *arg)
{
	(void)arg;
	wait_until(__atomic_load_n(&nrec, __ATOMIC_ACQUIRE) >= 3, TIMEOUT_MS);
	mdelay(20);	/* catch duplicates */
	return 0;
}

int main(void)
{
	uint64_t misc_before, status, pir, rr;
	unsigned idt0;
	struct fault f;
	int vec;

	if (!uintr_supported() || !(cpuid_count(0xd, 1).a & CPUID_D_1_EAX_XSAVES))
		bail_out("needs -cpu ...,xsaves=on,uintr=on");
	if (cpu_count() < 2)
		bail_out("needs 2 CPUs, have %d", cpu_count());
	if (xsave_set_cr4(true) != -1 || xsetbv_safe(0, 3) != -1 ||
	    wrmsr_safe(MSR_IA32_XSS, XMASK(XFEATURE_UINTR)) != -1)
		bail_out("cannot enable XSAVES with IA32_XSS[14]");
	if (!apic_mode_init())
		return tap_done();
	count_irqs(UINV, UINV);
	uintr_handler = record;

	/* 1. The receiver's state, live on CPU 0. */
	upid0.status = UPID_NV(UINV) | upid_ndst(cpu_apic_id(0));
	for (int i = 0; i < 3; i++) {
		static const int uv[3] = { 3, 7, 9 };

		uitt1[i].lo = UITTE(uv[i]);
		uitt1[i].upid = (uintptr_t)&upid0;
	}
	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)uintr_entry);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, 128);
	wrmsr(MSR_IA32_UINTR_PD, (uintptr_t)&upid0);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(UINV, 0));
	wrmsr(MSR_IA32_UINTR_RR, 0);
	stui();
	misc_before = rdmsr(MSR_IA32_UINTR_MISC);
	on_cpu(1, sender_setup, NULL);

	/* 2. Switch out. */
	vec = xsaves_safe(area, XMASK(XFEATURE_UINTR));
	__atomic_or_fetch(&upid0.status, UPID_SN, __ATOMIC_ACQ_REL);
	clui();
	ok(vec == -1 && rdmsr(MSR_IA32_UINTR_MISC) == (misc_before & ~(0xfful << 32)) &&
	   (xs_q(area, XS_EXT + 16) >> 63) == 1,
	   "switch out: XSAVES saves the state with UIF = 1 in MISC[63] and clears UINV (MISC %#lx -> %#lx), vector %d",
	   misc_before, rdmsr(MSR_IA32_UINTR_MISC), vec);

	/* 3. Posts while switched out. */
	idt0 = irq_count(0, UINV);
	on_cpu(1, sender_send, (void *)0);
	on_cpu(1, sender_send, (void *)1);
	mdelay(20);
	status = LOAD(&upid0.status);
	pir = LOAD(&upid0.pir);
	ok(sent_vec[0] == -1 && sent_vec[1] == -1 && pir == (BIT(3) | BIT(7)) &&
	   !(status & UPID_ON) && irq_count(0, UINV) == idt0,
	   "SENDUIPI to a suppressed UPID (SN = 1) posts UV 3 and 7 in PIR (%#lx) without ON or a notification (status %#lx, IDT ran %u)",
	   pir, status, irq_count(0, UINV) - idt0);

	__atomic_and_fetch(&upid0.status, ~UPID_SN, __ATOMIC_ACQ_REL);
	on_cpu(1, sender_send, (void *)2);
	wait_until(irq_count(0, UINV) > idt0, TIMEOUT_MS);
	mdelay(20);
	status = LOAD(&upid0.status);
	pir = LOAD(&upid0.pir);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(sent_vec[2] == -1 && irq_count(0, UINV) == idt0 + 1 && (status & UPID_ON) &&
	   pir == (BIT(3) | BIT(7) | BIT(9)) && rr == 0,
	   "with UINV cleared by XSAVES, vector %#x is an ordinary interrupt: the IDT ran %u time(s) (want 1), UPID keeps ON (status %#lx) and PIR %#lx, UIRR %#lx stays 0",
	   UINV, irq_count(0, UINV) - idt0, status, pir, rr);

	/* 4. Switch in: XRSTORS, SN := 0 (already), self-IPI because PIR != 0. */
	vec = xrstors_safe(area, XMASK(XFEATURE_UINTR));
	ok(vec == -1 && rdmsr(MSR_IA32_UINTR_MISC) == misc_before && testui(),
	   "switch in: XRSTORS brings back UINV (MISC %#lx) and UIF = 1 (TESTUI %d), vector %d",
	   rdmsr(MSR_IA32_UINTR_MISC), testui(), vec);
	clui();		/* stay masked until ring 3 */
	if (LOAD(&upid0.pir))
		apic_send_ipi(cpu_apic_id(0), UINV);
	wait_until(!(LOAD(&upid0.status) & UPID_ON), TIMEOUT_MS);
	mdelay(5);
	status = LOAD(&upid0.status);
	pir = LOAD(&upid0.pir);
	rr = rdmsr(MSR_IA32_UINTR_RR);
	ok(rr == (BIT(3) | BIT(7) | BIT(9)) && pir == 0 && !(status & UPID_ON) &&
	   irq_count(0, UINV) == idt0 + 1,
	   "the self-IPI with UINV is a notification: UIRR %#lx takes PIR, PIR %#lx and ON cleared (status %#lx), IDT not used (%u)",
	   rr, pir, status, irq_count(0, UINV) - idt0);

	/* 5. Ring 3, UIF = 1: each one, highest first. */
	stui();
	vec = run_in_user(user_wait, NULL, user_stack + sizeof(user_stack), NULL, &f);
	clui();
	ok(vec == -1 && nrec == 3 && rec[0] == 9 && rec[1] == 7 && rec[2] == 3 &&
	   rdmsr(MSR_IA32_UINTR_RR) == 0,
	   "in ring 3 the posted user interrupts arrive once each, highest first: %u deliveries (%lu %lu %lu), UIRR %#lx, vector %d",
	   nrec, rec[0], rec[1], rec[2], rdmsr(MSR_IA32_UINTR_RR), vec);

	uintr_set_cr4(false);
	wrmsr(MSR_IA32_XSS, 0);
	return tap_done();
}
