/*
 * User-interrupt delivery, recognized by writing IA32_UINTR_RR with WRMSR.
 *
 * Command line:
 *   uintr=0|1   CPUID.(EAX=7,ECX=0):EDX[5] the run expects (required);
 *               with 0 the run only checks that CPUID says so
 *   uiret_uif=0|1  CPUID.(EAX=7,ECX=1):EDX[17] (flexible UIRET) the run
 *               expects (default 0)
 *
 * Rules, named in brackets in the messages:
 *   [cond]     delivered only with UIF=1, CPL=3 (and 64-bit mode; not
 *              tested: the harness has no 32-bit ring-3 code segment)
 *   [frame]    [RSP] vector, [RSP+8] RIP, [RSP+16] RFLAGS, [RSP+24] old RSP;
 *              entry RSP = align16(oldRSP - STACKADJUST) - 32, or with
 *              STACKADJUST bit 0 = 1, align16(STACKADJUST) - 32
 *   [handler]  in the handler UIF=0, TF and RF cleared; CPL 3
 *   [uirr]     the delivered vector's UIRR bit is cleared, others kept
 *   [resume]   UIRET restores RSP and the interrupted code resumes
 *   [prio]     highest UIRR bit first; the next one after UIRET
 *   [uif]      CLUI blocks, STUI unblocks at once, UIRR written with
 *              UIF=0 stays pending, WRMSR UIRR=0 withdraws it
 *   [cr4]      CR4.UINTR=0: no delivery; setting it later delivers
 *   [pf]       a #PF on the frame push is raised in ring 3 at the
 *              interrupted RIP and leaves UIRR set; delivery after the fix
 *   [uiret-uif] a handler that clears bit 1 of the saved RFLAGS image
 *              returns with UIF = 0 under flexible UIRET (the next pending
 *              vector waits for STUI), with UIF = 1 without it
 * A non-canonical IA32_UINTR_HANDLER cannot be set up (WRMSR #GPs), so
 * delivery to one is not tested.
 */
#include "args.h"
#include "desc.h"
#include "paging.h"
#include "processor.h"
#include "string.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"

#define FL_CF	0x1ul
#define FL_TF	0x100ul
#define FL_IF	0x200ul
#define FL_IOPL	0x3000ul
#define FL_RF	0x10000ul

#define STACKADJUST	0x88ul		/* bit 0 = 0, not a multiple of 16 */
#define ABORT_MAGIC	0x5afe
#define DB_VECTOR	1

static char user_stack[16384] __attribute__((aligned(16)));
#define USER_STACK_TOP	(user_stack + sizeof(user_stack))
/* user_call() leaves RSP here when it enters fn. */
#define USER_ENTRY_RSP	((uintptr_t)USER_STACK_TOP - 8)
static char alt_stack[4096] __attribute__((aligned(16)));

#define ALIGN16(x)	((x) & ~0xful)

/* ---- what the handler saw */

#define MAXREC 8
struct rec {
	struct uintr_frame f;
	uint64_t entry_rsp;	/* RSP at handler entry = &frame->vector */
	uint64_t rflags;	/* in the handler (PUSHFQ: RF not visible) */
	int uif, cpl;
};
static struct rec recs[MAXREC];
static volatile int nrec;

static void record(struct uintr_frame *f)
{
	int i = nrec;

	if (i < MAXREC)
		recs[i] = (struct rec) {
			.f = *f,
			.entry_rsp = (uintptr_t)f,
			.rflags = read_rflags(),
			.uif = testui(),
			.cpl = read_cs() & 3,
		};
	nrec = i + 1;
}

/* Records, then ends the ring-3 run without UIRET (back to run_in_user). */
static void abort_handler(struct uintr_frame *f)
{
	record(f);
	asm volatile("int %0" : : "i"(RET_TO_KERNEL_VECTOR), "D"((long)ABORT_MAGIC) : "memory");
}

static void reset_recs(void (*h)(struct uintr_frame *))
{
	for (int i = 0; i < MAXREC; i++)
		recs[i] = (struct rec){ .uif = -1, .cpl = -1 };
	nrec = 0;
	uintr_handler = h;
}

/* ---- ring-3 code */

/* Its first instruction reads nrec: delivery at the IRETQ comes before. */
static long user_first(void *arg)
{
	(void)arg;
	return nrec;
}

/* Globals so the asm addresses them absolutely. */
uint64_t st_rsp, st_flags, st_label, st_rsp_after;
int st_seen, st_spin_seen;

/*
 * With UIF=0: spin, then (RSP misaligned by 8, CF=1) STUI and read nrec
 * with the very next instruction.
 */
static long user_stui(void *arg)
{
	(void)arg;
	st_spin_seen = 0;
	for (int i = 0; i < 20000; i++) {
		if (nrec)
			st_spin_seen = nrec;
		cpu_relax();
	}
	asm volatile("lea 1f(%%rip), %%rax\n\t"
		     "mov %%rax, %[label]\n\t"
		     "sub $8, %%rsp\n\t"
		     "mov %%rsp, %[rsp]\n\t"
		     "stc\n\t"
		     "pushfq\n\t"
		     "pop %[flags]\n\t"
		     "stui\n"
		     "1:\n\t"
		     "mov %[n], %%eax\n\t"
		     "mov %%eax, %[seen]\n\t"
		     "mov %%rsp, %[rsp_after]\n\t"
		     "add $8, %%rsp"
		     : [label] "=m"(st_label), [rsp] "=m"(st_rsp), [flags] "=m"(st_flags),
		       [seen] "=m"(st_seen), [rsp_after] "=m"(st_rsp_after)
		     : [n] "m"(nrec)
		     : "rax", "memory", "cc");
	return st_seen;
}

/*
 * With UIF=0 and a user interrupt pending: UIRET to label 1 with TF and RF
 * set.  UIRET sets UIF, so the delivery comes at label 1; the handler's
 * UIRET restores TF and the instruction at 1 then single-steps (#DB).
 */
static long user_uiret_tf(void *arg)
{
	(void)arg;
	asm volatile("mov %%rsp, %%rax\n\t"
		     "push %%rax\n\t"
		     "pushfq\n\t"
		     "orq %[tfrf], (%%rsp)\n\t"
		     "lea 1f(%%rip), %%rcx\n\t"
		     "mov %%rcx, %[label]\n\t"
		     "push %%rcx\n\t"
		     "uiret\n"
		     "1:\n\t"
		     "nop\n\t"
		     "nop\n\t"
		     "pushfq\n\t"
		     "andq %[notf], (%%rsp)\n\t"
		     "popfq"
		     : [label] "=m"(st_label)
		     : [tfrf] "i"(FL_TF | FL_RF), [notf] "i"(~FL_TF)
		     : "rax", "rcx", "memory", "cc");
	return 0;
}

/* ---- helpers */


static int run_user(long (*fn)(void *), long *ret, struct fault *f)
{
	*ret = -1;
	return run_in_user(fn, NULL, USER_STACK_TOP, ret, f);
}

static uint64_t rr(void)
{
	return rdmsr(MSR_IA32_UINTR_RR);
}

/* ---- tests */

static void test_basic(void)
{
	struct rec *r = &recs[0];
	uint64_t want;
	long ret;
	int vec;

	reset_recs(record);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, STACKADJUST);
	stui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 5);
	mdelay(5);
	for (int i = 0; i < 1000; i++)
		cpu_relax();
	ok(nrec == 0, "[cond] UIF=1, UIRR=bit 5, CPL 0: nothing delivered in ring 0, got %d deliveries", nrec);
	ok(rr() == 1ul << 5, "[cond] UIRR stays %#lx while in ring 0, got %#lx", 1ul << 5, rr());

	vec = run_user(user_first, &ret, NULL);
	ok(vec == -1 && ret == 1,
	   "[cond][resume] entering ring 3 with UIF=1 delivers before fn's first instruction and fn resumes: fn saw %ld deliveries (want 1), vector %d",
	   ret, vec);
	ok(nrec == 1 && r->f.vector == 5,
	   "[frame] [RSP] holds the vector 5 (highest UIRR bit), got %lu (%d deliveries)", r->f.vector, nrec);
	ok(r->f.rip == (uintptr_t)user_first,
	   "[frame] [RSP+8] holds the interrupted RIP = fn %p, got %#lx", user_first, r->f.rip);
	ok((r->f.rflags & (FL_IF | FL_IOPL | FL_TF | 0x2)) == (FL_IF | 0x2),
	   "[frame] [RSP+16] holds ring-3 RFLAGS (IF=1 bit1=1 IOPL=0 TF=0), got %#lx", r->f.rflags);
	ok(r->f.rsp == USER_ENTRY_RSP,
	   "[frame] [RSP+24] holds the old RSP %#lx, got %#lx", USER_ENTRY_RSP, r->f.rsp);
	want = ALIGN16(USER_ENTRY_RSP - STACKADJUST) - 32;
	ok(r->entry_rsp == want && !(r->entry_rsp & 15),
	   "[frame] entry RSP = align16(oldRSP %#lx - STACKADJUST %#lx) - 32 = %#lx (16-byte aligned), got %#lx",
	   USER_ENTRY_RSP, STACKADJUST, want, r->entry_rsp);
	ok(r->uif == 0 && r->cpl == 3 && !(r->rflags & FL_TF),
	   "[handler] the handler runs in ring 3 with UIF=0 (TESTUI CF=0) and TF=0, got UIF %d CPL %d RFLAGS %#lx",
	   r->uif, r->cpl, r->rflags);
	ok(rr() == 0, "[uirr] delivery cleared UIRR bit 5, UIRR %#lx", rr());
	ok(testui(), "[resume] UIF is 1 after the handler's UIRET");
}

static void test_stui(void)
{
	struct rec *r = &recs[0];
	uint64_t want;
	long ret;
	int vec;

	reset_recs(record);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, STACKADJUST);
	stui();
	clui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 40);
	vec = run_user(user_stui, &ret, NULL);
	ok(vec == -1 && st_spin_seen == 0,
	   "[uif] CLUI blocks: UIRR written with UIF=0, ring 3 spins with nothing delivered, got %d (vector %d)",
	   st_spin_seen, vec);
	ok(st_seen == 1,
	   "[uif] STUI unblocks at once: the instruction right after STUI sees the handler's effect, got %d deliveries",
	   st_seen);
	ok(nrec == 1 && r->f.vector == 40 && r->f.rip == st_label,
	   "[frame] vector 40 and RIP = the instruction after STUI %#lx, got vector %lu RIP %#lx (%d deliveries)",
	   st_label, r->f.vector, r->f.rip, nrec);
	ok(r->f.rflags == st_flags && (st_flags & FL_CF),
	   "[frame] [RSP+16] is RFLAGS at the boundary (CF=1 set before STUI) %#lx, got %#lx",
	   st_flags, r->f.rflags);
	want = ALIGN16(st_rsp - STACKADJUST) - 32;
	ok(r->f.rsp == st_rsp && r->entry_rsp == want,
	   "[frame] misaligned old RSP %#lx: [RSP+24] = it, entry RSP = align16(old - %#lx) - 32 = %#lx, got %#lx and %#lx",
	   st_rsp, STACKADJUST, want, r->f.rsp, r->entry_rsp);
	ok(st_rsp_after == st_rsp, "[resume] RSP is restored after UIRET: %#lx, got %#lx", st_rsp, st_rsp_after);
	ok(rr() == 0, "[uirr] UIRR is 0 after vector 40 was delivered, got %#lx", rr());

	/* Withdraw: UIRR set then cleared while UIF=0. */
	reset_recs(record);
	clui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 12);
	wrmsr(MSR_IA32_UINTR_RR, 0);
	vec = run_user(user_stui, &ret, NULL);
	ok(vec == -1 && st_seen == 0 && nrec == 0,
	   "[uif] WRMSR UIRR=0 withdraws the user interrupt: nothing after STUI, got %d deliveries (vector %d)",
	   nrec, vec);
}

static void test_alt_stack(void)
{
	uintptr_t sa = ((uintptr_t)alt_stack + sizeof(alt_stack) - 24) | 1;
	uint64_t want = ALIGN16(sa) - 32;
	struct rec *r = &recs[0];
	long ret;
	int vec;

	reset_recs(record);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, sa);
	stui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 2);
	vec = run_user(user_first, &ret, NULL);
	ok(vec == -1 && ret == 1 && r->entry_rsp == want && r->f.rsp == USER_ENTRY_RSP,
	   "[frame] STACKADJUST %#lx (bit 0 = 1): entry RSP = align16(STACKADJUST) - 32 = %#lx, old RSP %#lx saved; got %#lx and %#lx (fn saw %ld, vector %d)",
	   sa, want, USER_ENTRY_RSP, r->entry_rsp, r->f.rsp, ret, vec);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, STACKADJUST);
}

static void test_priority(void)
{
	static const int order[3] = { 63, 17, 3 };
	bool in_order = true, rips = true;
	long ret;
	int vec;

	reset_recs(record);
	stui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 3 | 1ul << 17 | 1ul << 63);
	vec = run_user(user_first, &ret, NULL);
	for (int i = 0; i < 3; i++) {
		in_order &= recs[i].f.vector == (uint64_t)order[i];
		rips &= recs[i].f.rip == (uintptr_t)user_first;
	}
	ok(vec == -1 && ret == 3 && nrec == 3,
	   "[prio] UIRR bits {3,17,63}: three deliveries, each after the previous UIRET, before fn's first instruction; fn saw %ld, total %d (vector %d)",
	   ret, nrec, vec);
	ok(in_order, "[prio] vectors delivered highest first 63, 17, 3, got %lu, %lu, %lu",
	   recs[0].f.vector, recs[1].f.vector, recs[2].f.vector);
	ok(rips, "[prio] each frame holds fn's first RIP %p, got %#lx %#lx %#lx",
	   user_first, recs[0].f.rip, recs[1].f.rip, recs[2].f.rip);
	ok(rr() == 0, "[uirr] UIRR is 0 after all three, got %#lx", rr());
}

static void test_uirr_kept(void)
{
	long ret;
	int vec;

	reset_recs(abort_handler);
	stui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 9 | 1ul << 33);
	vec = run_user(user_first, &ret, NULL);
	ok(vec == -1 && ret == ABORT_MAGIC && nrec == 1 && recs[0].f.vector == 33,
	   "[prio] UIRR {9,33}: vector 33 delivered first (handler leaves ring 3 without UIRET), got vector %lu, %d deliveries, return %#lx (vector %d)",
	   recs[0].f.vector, nrec, ret, vec);
	ok(rr() == 1ul << 9,
	   "[uirr] delivery cleared only bit 33: UIRR = %#lx, got %#lx", 1ul << 9, rr());
	ok(!testui(), "[handler] delivery cleared UIF (still 0 in ring 0 without UIRET)");
	wrmsr(MSR_IA32_UINTR_RR, 0);
	uintr_handler = record;
}

static void test_tf_rf(void)
{
	struct rec *r = &recs[0];
	struct fault f;
	long ret;
	int vec;

	reset_recs(record);
	clui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 1);
	vec = run_user(user_uiret_tf, &ret, &f);
	ok(nrec == 1 && r->f.vector == 1 && r->f.rip == st_label,
	   "[uif] UIRET sets UIF: the pending vector 1 is delivered at the UIRET target %#lx, got %d deliveries vector %lu RIP %#lx",
	   st_label, nrec, r->f.vector, r->f.rip);
	ok((r->f.rflags & (FL_TF | FL_RF)) == (FL_TF | FL_RF),
	   "[frame] [RSP+16] keeps TF=1 RF=1 loaded by UIRET, got %#lx", r->f.rflags);
	ok(!(r->rflags & FL_TF),
	   "[handler] TF is cleared in the handler (no #DB inside it), got handler RFLAGS %#lx", r->rflags);
	ok(vec == DB_VECTOR && f.ring == 3 && f.rip == st_label + 1,
	   "[resume] the handler's UIRET restores TF=1: #DB after the first instruction at %#lx, got vector %d ring %d RIP %#lx",
	   st_label, vec, f.ring, f.rip);
	wrmsr(MSR_IA32_UINTR_RR, 0);
}

static void test_cr4(void)
{
	long ret;
	int vec;

	reset_recs(record);
	stui();
	uintr_set_cr4(false);
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 20);
	vec = run_user(user_first, &ret, NULL);
	ok(vec == -1 && ret == 0 && nrec == 0,
	   "[cr4] CR4.UINTR=0, UIRR=bit 20, UIF=1: nothing delivered in ring 3, got %d (vector %d)", nrec, vec);
	ok(rr() == 1ul << 20, "[cr4] UIRR keeps bit 20 with CR4.UINTR=0, got %#lx", rr());
	uintr_set_cr4(true);
	if (!testui()) {
		diag("UIF read 0 after CR4.UINTR was cleared and set again");
		stui();
	}
	mdelay(1);
	ok(nrec == 0, "[cond] setting CR4.UINTR in ring 0 delivers nothing in ring 0, got %d", nrec);
	vec = run_user(user_first, &ret, NULL);
	ok(vec == -1 && ret == 1 && recs[0].f.vector == 20,
	   "[cr4] after setting CR4.UINTR the pending vector 20 is delivered on entry to ring 3, got %ld deliveries vector %lu (vector %d)",
	   ret, recs[0].f.vector, vec);
}

static void test_pf(void)
{
	uintptr_t page = TEST_REGION_BASE + 16 * PAGE_SIZE;
	uintptr_t sa = (page + 0x800) | 1;
	uint64_t want = ALIGN16(sa) - 32;
	struct fault f;
	long ret;
	int vec;

	reset_recs(record);
	unmap_page(page);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, sa);
	stui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 6);
	vec = run_user(user_first, &ret, &f);
	ok(vec == PF_VECTOR && f.ring == 3 && f.rip == (uintptr_t)user_first,
	   "[pf] frame push to unmapped %#lx raises #PF in ring 3 at the interrupted RIP %p, got vector %d ring %d RIP %#lx",
	   want, user_first, vec, f.ring, f.rip);
	ok(vec == PF_VECTOR && f.cr2 >= want && f.cr2 < want + 32 &&
	   f.error_code == (PF_ERR_W | PF_ERR_U),
	   "[pf] the #PF is a user write (error W=1 U=1 P=0) with CR2 in the frame [%#lx, %#lx), got error %#x CR2 %#lx",
	   want, want + 32, f.error_code, f.cr2);
	ok(nrec == 0 && rr() == 1ul << 6,
	   "[pf] the faulting delivery leaves UIRR bit 6 set and runs no handler, got UIRR %#lx, %d deliveries",
	   rr(), nrec);
	map_page(page, alloc_page(), PTE_W | PTE_U);
	vec = run_user(user_first, &ret, &f);
	ok(vec == -1 && ret == 1 && recs[0].f.vector == 6 && recs[0].entry_rsp == want,
	   "[pf] with the page mapped the delivery happens: vector 6, entry RSP %#lx, got %ld deliveries vector %lu RSP %#lx (vector %d)",
	   want, ret, recs[0].f.vector, recs[0].entry_rsp, vec);
	ok(rr() == 0, "[uirr] UIRR is 0 after the retried delivery, got %#lx", rr());
	wrmsr(MSR_IA32_UINTR_STACKADJUST, STACKADJUST);
}

/* Records, and asks UIRET (under flexible UIRET) to leave UIF = 0. */
static void block_handler(struct uintr_frame *f)
{
	record(f);
	f->rflags &= ~0x2ul;
}

static void test_uiret_uif(bool flexible)
{
	long ret;
	int vec;

	reset_recs(block_handler);
	stui();
	wrmsr(MSR_IA32_UINTR_RR, 1ul << 5 | 1ul << 40);
	vec = run_user(user_first, &ret, NULL);
	if (flexible) {
		ok(vec == -1 && ret == 1 && nrec == 1 && recs[0].f.vector == 40 &&
		   rr() == 1ul << 5 && !testui(),
		   "[uiret-uif] UIRR {5,40}, the handler clears RFLAGS[1] in its frame: vector 40 only, UIRET leaves UIF = 0, vector 5 stays in UIRR; got %d deliveries (first %lu), fn saw %ld, UIRR %#lx, UIF %d (vector %d)",
		   nrec, recs[0].f.vector, ret, rr(), testui(), vec);
		stui();
		vec = run_user(user_first, &ret, NULL);
		ok(vec == -1 && ret == 2 && recs[1].f.vector == 5 && rr() == 0,
		   "[uiret-uif] after STUI vector 5 is delivered, got %d deliveries (second %lu), UIRR %#lx (vector %d)",
		   nrec, recs[1].f.vector, rr(), vec);
	} else {
		ok(vec == -1 && ret == 2 && nrec == 2 && rr() == 0 && testui(),
		   "[uiret-uif] without flexible UIRET, clearing RFLAGS[1] in the frame changes nothing: vectors 40 and 5 delivered, UIF = 1; got %d deliveries, fn saw %ld, UIRR %#lx, UIF %d (vector %d)",
		   nrec, ret, rr(), testui(), vec);
	}
	clui();
	wrmsr(MSR_IA32_UINTR_RR, 0);
	uintr_handler = record;
}

int main(void)
{
	const char *v = arg_get("uintr");
	int want, flexible;

	if (!v || (strcmp(v, "0") && strcmp(v, "1")))
		bail_out("uintr_deliver needs uintr=0 or uintr=1 on the command line");
	want = v[0] - '0';
	if (!ok(uintr_supported() == want,
		"[cpuid] CPUID.(7,0):EDX[5] UINTR = %d as the command line says, got %d",
		want, uintr_supported()))
		return tap_done();
	if (!want)
		return tap_done();
	flexible = arg_flag("uiret_uif", false);
	if (!ok(flexible == !!(cpuid_count(7, 0).a >= 1 &&
			       (cpuid_count(7, 1).d & CPUID_7_1_EDX_UIRET_UIF)),
		"[cpuid] CPUID.(7,1):EDX[17] UIRET_UIF = %d as the command line says", flexible))
		return tap_done();

	uintr_set_cr4(true);
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)uintr_entry);
	ok(rdmsr(MSR_IA32_UINTR_HANDLER) == (uintptr_t)uintr_entry,
	   "IA32_UINTR_HANDLER reads back uintr_entry %p", uintr_entry);

	test_basic();
	test_stui();
	test_alt_stack();
	test_priority();
	test_uirr_kept();
	test_tf_rf();
	test_cr4();
	test_pf();
	test_uiret_uif(flexible);

	clui();
	wrmsr(MSR_IA32_UINTR_RR, 0);
	uintr_set_cr4(false);
	return tap_done();
}
