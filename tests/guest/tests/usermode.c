/* Harness self-test: ring-3 round trips and exceptions raised in ring 3. */
#include "apic.h"
#include "desc.h"
#include "paging.h"
#include "processor.h"
#include "tap.h"
#include "timer.h"
#include "usermode.h"

#define USER_VECTOR	0x40

static char user_stack[4096] __attribute__((aligned(16)));
#define USER_STACK_TOP	(user_stack + sizeof(user_stack))

static long user_cpl(void *arg)
{
	(void)arg;
	return read_cs() & 3;
}

static long user_fib(void *arg)
{
	long a = 0, b = 1;

	for (long n = (long)arg; n; n--) {
		long t = a + b;

		a = b;
		b = t;
	}
	return a;
}

static long user_read(void *p)
{
	return *(volatile char *)p;
}

static long user_write(void *p)
{
	*(volatile char *)p = 1;
	return 0;
}

static long user_hlt(void *arg)
{
	(void)arg;
	asm volatile("hlt");
	return 0;
}

static long user_ud2(void *arg)
{
	(void)arg;
	asm volatile("ud2");
	return 0;
}

/* Ring-3 ASM_TRY: returns the vector seen by the fixup, in ring 3. */
static long user_asm_try(void *arg)
{
	(void)arg;
	return asm_safe("ud2");
}

static void test_round_trip(void)
{
	long ret = -1;
	int vec;

	vec = run_in_user(user_cpl, NULL, USER_STACK_TOP, &ret, NULL);
	ok(vec == -1 && ret == 3, "CPL read in ring 3 is 3, got %ld (vector %d)", ret, vec);
	ok((read_cs() & 3) == 0, "CPL is 0 again after run_in_user returns");

	vec = run_in_user(user_fib, (void *)30, USER_STACK_TOP, &ret, NULL);
	ok(vec == -1 && ret == 832040,
	   "ring 3 computes fib(30) = 832040 and returns it, got %ld (vector %d)", ret, vec);
}

static void test_user_faults(void)
{
	uintptr_t unmapped = TEST_REGION_BASE, kernel_only = TEST_REGION_BASE + PAGE_SIZE;
	struct fault f;
	long ret = 0;
	int vec;

	vec = run_in_user(user_ud2, NULL, USER_STACK_TOP, NULL, &f);
	ok(vec == UD_VECTOR && f.ring == 3, "ud2 in ring 3 raises #UD reported from ring 3, got vector %d ring %d",
	   vec, f.ring);

	vec = run_in_user(user_hlt, NULL, USER_STACK_TOP, NULL, &f);
	ok(vec == GP_VECTOR && f.error_code == 0 && f.ring == 3,
	   "hlt in ring 3 raises #GP(0) from ring 3, got vector %d error %#x ring %d",
	   vec, f.error_code, f.ring);

	unmap_page(unmapped);
	vec = run_in_user(user_write, (void *)unmapped, USER_STACK_TOP, NULL, &f);
	ok(vec == PF_VECTOR && f.ring == 3 && f.cr2 == unmapped &&
	   f.error_code == (PF_ERR_U | PF_ERR_W),
	   "ring-3 write to unmapped %#lx raises #PF error P=0 W=1 U=1, got vector %d ring %d CR2 %#lx error %#x",
	   unmapped, vec, f.ring, f.cr2, f.error_code);

	map_page(kernel_only, alloc_page(), PTE_W);
	vec = asm_safe("movb $1, (%0)", "r"(kernel_only));
	ok(vec == -1, "ring 0 writes supervisor-only page %#lx, got vector %d", kernel_only, vec);
	vec = run_in_user(user_read, (void *)kernel_only, USER_STACK_TOP, NULL, &f);
	ok(vec == PF_VECTOR && f.ring == 3 && f.cr2 == kernel_only &&
	   f.error_code == (PF_ERR_U | PF_ERR_P),
	   "ring-3 read of supervisor-only %#lx raises #PF error P=1 W=0 U=1, got vector %d ring %d CR2 %#lx error %#x",
	   kernel_only, vec, f.ring, f.cr2, f.error_code);

	vec = run_in_user(user_asm_try, NULL, USER_STACK_TOP, &ret, &f);
	ok(vec == -1 && ret == UD_VECTOR && last_fault()->ring == 3,
	   "ASM_TRY in ring 3 resumes in ring 3 with vector 6, got %ld ring %d (run_in_user %d)",
	   ret, last_fault()->ring, vec);
}

static int irq_ring = -1;

static void user_irq_handler(struct ex_regs *regs)
{
	__atomic_store_n(&irq_ring, regs->cs & 3, __ATOMIC_RELEASE);
	apic_eoi();
}

static long user_wait_irq(void *arg)
{
	(void)arg;
	return wait_until(__atomic_load_n(&irq_ring, __ATOMIC_ACQUIRE) != -1, 1000);
}

/* A self-IPI left pending across the IRET is taken in ring 3. */
static void test_user_irq(void)
{
	long ret = 0;
	int vec;

	handle_irq(USER_VECTOR, user_irq_handler);
	irq_disable();
	apic_send_ipi(apic_id(), USER_VECTOR);
	vec = run_in_user(user_wait_irq, NULL, USER_STACK_TOP, &ret, NULL);
	irq_enable();
	ok(vec == -1 && ret == 1 && irq_ring == 3,
	   "interrupt taken in ring 3 runs its handler and resumes ring 3, got ring %d, return %ld (vector %d)",
	   irq_ring, ret, vec);
}

int main(void)
{
	test_round_trip();
	test_user_faults();
	test_user_irq();
	return tap_done();
}
