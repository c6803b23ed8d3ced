/*
 * Cross-modifying code, as the SDM (vol. 3A, "Handling Self- and
 * Cross-Modifying Code") lets software do it: CPU 0 rewrites the
 * immediate of "mov $imm, %eax; ret" while the other CPUs keep calling
 * it, then publishes the new value; each other CPU, once it sees the
 * value published, executes CPUID (serializing) and calls the function,
 * which must return the new value.  Four ways to write: one 4-byte
 * store, one 4-byte store that crosses a page boundary, a byte copy
 * (REP MOVSB, as Linux's text_poke() copies) and an atomic XCHG.
 *
 * Under multi-threaded TCG a vCPU that calls the function while CPU 0's
 * store is on its way may translate it again from the old bytes; QEMU
 * must still drop that translation once the store is done, or the old
 * code runs for good (a Linux guest's text patching then loops on a
 * stale INT3).
 *
 *   rounds=N   rewrites per way of writing (default 2000)
 */
#include "args.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"

#define MAX_EXEC	(MAX_CPUS - 1)
#define ACK_MS		2000
#define STOP		0xffffffffu
#define RECHECKS	100

/* Two pages of code, RWX like all of the test's memory. */
static uint8_t code[2][4096] __attribute__((aligned(4096)));

enum how { STORE4, STORE4_CROSS, MOVSB, XCHG, NHOW };

static const char *const how_name[NHOW] = {
	[STORE4] = "one 4-byte store",
	[STORE4_CROSS] = "one 4-byte store across a page boundary",
	[MOVSB] = "a REP MOVSB byte copy",
	[XCHG] = "an XCHG (atomic swap)",
};

/* Where each function starts: its immediate is at +1. */
static uint8_t *fn_of(enum how how)
{
	switch (how) {
	case STORE4:
		return &code[0][0x100];
	case STORE4_CROSS:
		return &code[0][4096 - 2];	/* imm: 1 byte here, 3 on page 1 */
	case XCHG:
		return &code[0][0x403];		/* imm aligned, so XCHG is atomic */
	default:
		return &code[0][0x800];
	}
}

static uint8_t *volatile fn;
static uint32_t published;
static uint32_t acked[MAX_EXEC];

struct result {
	unsigned calls;		/* calls while waiting for a new value */
	unsigned checked;	/* new values checked after CPUID */
	unsigned stale;		/* of which the call returned something else */
	unsigned stuck;		/* of those, still wrong after RECHECKS more */
	uint32_t first_want, first_got;
};

static struct result res[MAX_EXEC];

static uint32_t call(uint8_t *f)
{
	return ((uint32_t (*)(void))f)();
}

static void serialize(void)
{
	(void)cpuid(0);
}

static void executor(void *arg)
{
	int me = (int)(uintptr_t)arg;
	struct result *r = &res[me];
	uint32_t last = 0;

	for (;;) {
		uint32_t want = LOAD(&published);
		uint8_t *f = fn;
		uint32_t got;

		if (want == last) {
			/* Keep running (and retranslating) the code. */
			(void)call(f);
			r->calls++;
			cpu_relax();
			continue;
		}
		if (want == STOP)
			break;
		serialize();
		got = call(f);
		r->checked++;
		if (got != want) {
			int i;

			if (!r->stale++) {
				r->first_want = want;
				r->first_got = got;
			}
			for (i = 0; i < RECHECKS; i++) {
				serialize();
				if (call(f) == want)
					break;
			}
			r->stuck += i == RECHECKS;
		}
		last = want;
		STORE(&acked[me], want);
	}
	STORE(&acked[me], STOP);
}

static void write_imm(enum how how, uint8_t *imm, uint32_t v)
{
	if (how == MOVSB) {
		void *dst = imm;
		const void *src = &v;
		unsigned long n = sizeof(v);

		asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	} else if (how == XCHG) {
		asm volatile("xchgl %0, %1" : "+r"(v), "+m"(*(uint32_t *)imm) : : "memory");
	} else {
		asm volatile("movl %1, %0" : "=m"(*(uint32_t *)imm) : "r"(v) : "memory");
	}
}

static bool all_acked(int nexec, uint32_t v)
{
	for (int i = 0; i < nexec; i++)
		if (LOAD(&acked[i]) != v)
			return false;
	return true;
}

static void run(enum how how, int nexec, unsigned rounds)
{
	uint8_t *f = fn_of(how);
	unsigned done = 0, checked = 0, stale = 0, stuck = 0, calls = 0;
	uint32_t first_want = 0, first_got = 0;
	bool acks = true;

	/* mov $0, %eax; ret */
	f[0] = 0xb8;
	write_imm(how, f + 1, 0);
	f[5] = 0xc3;
	fn = f;
	STORE(&published, 0);
	for (int i = 0; i < nexec; i++) {
		res[i] = (struct result){ 0 };
		STORE(&acked[i], 0);
		on_cpu_async(i + 1, executor, (void *)(uintptr_t)i);
	}

	for (uint32_t v = 1; v <= rounds; v++) {
		write_imm(how, f + 1, v);
		STORE(&published, v);
		if (!wait_until(all_acked(nexec, v), ACK_MS)) {
			acks = false;
			break;
		}
		done++;
	}
	STORE(&published, STOP);
	acks = wait_until(all_acked(nexec, STOP), ACK_MS) && acks;

	for (int i = 0; i < nexec; i++) {
		struct result *r = &res[i];

		diag("%s: CPU %d called it %u times while waiting, checked %u new values, "
		     "%u stale (%u still stale after %d more CPUID + call)",
		     how_name[how], i + 1, r->calls, r->checked, r->stale, r->stuck, RECHECKS);
		if (r->stale && !stale) {
			first_want = r->first_want;
			first_got = r->first_got;
		}
		checked += r->checked;
		stale += r->stale;
		stuck += r->stuck;
		calls += r->calls;
	}
	ok(acks && done == rounds,
	   "%s: the other CPUs saw all %u rewrites (%u done)", how_name[how], rounds, done);
	ok(stale == 0 && checked == done * (unsigned)nexec && calls > 0,
	   "%s: after CPUID every call returns the value just written: %u of %u checks stale, "
	   "%u of them for good (first: wanted %u, got %u)",
	   how_name[how], stale, checked, stuck, first_want, first_got);
}

int main(void)
{
	unsigned rounds = arg_uint("rounds", 2000);
	int nexec = cpu_count() - 1;

	if (nexec < 1)
		bail_out("needs 2 CPUs or more, have %d", cpu_count());
	if (nexec > MAX_EXEC)
		nexec = MAX_EXEC;
	diag("%d CPU(s) run the code while CPU 0 rewrites it, %u rewrites per way", nexec, rounds);
	for (enum how how = 0; how < NHOW; how++)
		run(how, nexec, rounds);
	return tap_done();
}
