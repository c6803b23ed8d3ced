/* Harness self-test: ring-0 exceptions are captured with the right details. */
#include "desc.h"
#include "paging.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"

#define NONCANONICAL	0x8000000000000000ul

/* Faulting instructions at known addresses. */
extern char do_ud2[], do_int3[], int3_next[], do_div0[], div0_insn[];
asm(".pushsection .text\n"
    "do_ud2:\n\t"
    "ud2\n\t"
    "ret\n"
    "do_int3:\n\t"
    "int3\n"
    "int3_next:\n\t"
    "ret\n"
    "do_div0:\n\t"
    "xor %ecx, %ecx\n\t"
    "mov $1, %eax\n\t"
    "xor %edx, %edx\n"
    "div0_insn:\n\t"
    "divl %ecx\n\t"
    "ret\n"
    ".popsection");

static long call(void *fn)
{
	return ((long (*)(void))fn)();
}

static void test_ud2(void)
{
	struct fault f;
	int vec = run_catch(call, do_ud2, NULL, &f);
	int resumed = 0;

	ok(vec == UD_VECTOR, "ud2 raises #UD (vector 6), got %d", vec);
	ok(f.rip == (uintptr_t)do_ud2 && f.ring == 0,
	   "#UD is reported at the ud2 RIP %p in ring 0, got %#lx ring %d",
	   do_ud2, f.rip, f.ring);

	asm volatile(ASM_TRY("1f") "ud2\n1:\n\t"
		     "movl $1, %0" : "=m"(resumed) : : "memory");
	ok(last_fault()->vector == UD_VECTOR && resumed,
	   "ASM_TRY catches ud2 (vector %d, expected 6) and resumes after it (%d)",
	   last_fault()->vector, resumed);
	ok(asm_safe("nop") == -1, "asm_safe(nop) reports no exception");
}

static void test_gp(void)
{
	int vec;

	vec = asm_safe("mov %w0, %%ds", "r"(0x1000));
	ok(vec == GP_VECTOR && last_fault()->error_code == 0x1000,
	   "loading DS with selector 0x1000 beyond the GDT limit raises #GP(0x1000), got vector %d error %#x",
	   vec, last_fault()->error_code);

	vec = asm_safe("cmpb $0, (%0)", "r"(NONCANONICAL));
	ok(vec == GP_VECTOR && last_fault()->error_code == 0,
	   "read of non-canonical %#lx raises #GP(0), got vector %d error %#x",
	   NONCANONICAL, vec, last_fault()->error_code);
}

static void test_pf(void)
{
	uintptr_t va = TEST_REGION_BASE;
	struct fault *f = last_fault();
	int vec;

	unmap_page(va);
	vec = asm_safe("movl $1, (%0)", "r"(va));
	ok(vec == PF_VECTOR && f->cr2 == va && f->error_code == PF_ERR_W,
	   "write to unmapped %#lx raises #PF with CR2 = address and error P=0 W=1 U=0, got vector %d CR2 %#lx error %#x",
	   va, vec, f->cr2, f->error_code);
	vec = asm_safe("cmpb $0, (%0)", "r"(va));
	ok(vec == PF_VECTOR && f->cr2 == va && f->error_code == 0,
	   "read of unmapped %#lx raises #PF with error P=0 W=0 U=0, got vector %d CR2 %#lx error %#x",
	   va, vec, f->cr2, f->error_code);

	map_page(va, alloc_page(), PTE_W);
	vec = asm_safe("movl $1, (%0)", "r"(va));
	ok(vec == -1, "write to %#lx after map_page() succeeds, got vector %d", va, vec);
	unmap_page(va);
	vec = asm_safe("movl $1, (%0)", "r"(va));
	ok(vec == PF_VECTOR && f->cr2 == va,
	   "write to %#lx after unmap_page() raises #PF (stale TLB entry flushed), got vector %d",
	   va, vec);
}

static void test_bp_de(void)
{
	struct fault f;
	int vec;

	vec = run_catch(call, do_int3, NULL, &f);
	ok(vec == BP_VECTOR && f.rip == (uintptr_t)int3_next,
	   "int3 raises #BP (vector 3) reporting the next RIP %p, got vector %d at %#lx",
	   int3_next, vec, f.rip);
	vec = run_catch(call, do_div0, NULL, &f);
	ok(vec == DE_VECTOR && f.rip == (uintptr_t)div0_insn,
	   "divide by zero raises #DE (vector 0) at the div RIP %p, got vector %d at %#lx",
	   div0_insn, vec, f.rip);
}

static long add_one(void *arg)
{
	return (long)arg + 1;
}

static void test_no_fault(void)
{
	long ret = 0;
	int vec = run_catch(add_one, (void *)41, &ret, NULL);

	ok(vec == -1 && ret == 42,
	   "run_catch without an exception returns -1 and the function's value 42, got %d and %ld",
	   vec, ret);
}

static void ud2_here(void *arg)
{
	struct fault *f = arg;

	run_catch(call, do_ud2, NULL, f);
}

static void test_on_ap(void)
{
	struct fault f = { .vector = -1 };

	if (cpu_count() < 2) {
		skip("needs 2 CPUs", "run_catch() captures #UD on CPU 1");
		return;
	}
	on_cpu(1, ud2_here, &f);
	ok(f.vector == UD_VECTOR && f.rip == (uintptr_t)do_ud2,
	   "run_catch() on CPU 1 captures #UD at the ud2 RIP, got vector %d at %#lx",
	   f.vector, f.rip);
}

int main(void)
{
	test_ud2();
	test_gp();
	test_pf();
	test_bp_de();
	test_no_fault();
	test_on_ap();
	return tap_done();
}
