/* Harness self-test: the calibrated clock and wait_until()'s timeout. */
#include "processor.h"
#include "tap.h"
#include "timer.h"

#define TIMEOUT_MS	200
#define SLACK_MS	1000	/* host scheduling on a loaded TCG host */
#define PIT_MS		50

static bool never;

static void test_calibration(void)
{
	uint64_t ticks = pit_measure_tsc(PIT_MS);
	uint64_t ms = ticks / tsc_khz;

	diag("TSC %lu kHz; a %u ms PIT one-shot took %lu TSC ticks", tsc_khz, PIT_MS, ticks);
	ok(ms >= PIT_MS / 2 && ms <= PIT_MS * 2,
	   "a %u ms PIT channel 2 one-shot measures %lu ms on the calibrated TSC (expected %u..%u)",
	   PIT_MS, ms, PIT_MS / 2, PIT_MS * 2);
}

static void test_timeout(void)
{
	uint64_t start = rdtsc(), ms;
	bool met = wait_until(__atomic_load_n(&never, __ATOMIC_RELAXED), TIMEOUT_MS);

	ms = ms_since(start);
	ok(!met, "wait_until on a never-true condition returns false");
	ok(ms >= TIMEOUT_MS && ms <= TIMEOUT_MS + SLACK_MS,
	   "wait_until(never, %u ms) gives up after %lu ms (expected %u..%u)",
	   TIMEOUT_MS, ms, TIMEOUT_MS, TIMEOUT_MS + SLACK_MS);
}

static void test_immediate(void)
{
	uint64_t start = rdtsc(), ms;
	bool met = wait_until(!__atomic_load_n(&never, __ATOMIC_RELAXED), TIMEOUT_MS);

	ms = ms_since(start);
	ok(met && ms < TIMEOUT_MS,
	   "wait_until on a true condition returns true at once, after %lu ms (expected < %u)",
	   ms, TIMEOUT_MS);
}

int main(void)
{
	test_calibration();
	test_timeout();
	test_immediate();
	return tap_done();
}
