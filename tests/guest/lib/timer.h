/* TSC clock calibrated against PIT channel 2, and bounded waits. */
#ifndef TIMER_H
#define TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include "processor.h"

extern uint64_t tsc_khz;

void timer_init(void);
uint64_t pit_measure_tsc(unsigned ms);
void udelay(unsigned us);
void mdelay(unsigned ms);

static inline uint64_t deadline_after_ms(unsigned ms)
{
	return rdtsc() + ms * tsc_khz;
}

static inline bool deadline_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

static inline uint64_t ms_since(uint64_t tsc)
{
	return (rdtsc() - tsc) / tsc_khz;
}

/*
 * Poll cond until it holds or timeout_ms elapse; evaluates to the final
 * value of cond, so false means timeout.
 */
#define wait_until(cond, timeout_ms)					\
({									\
	uint64_t __deadline = deadline_after_ms(timeout_ms);		\
	bool __met;							\
									\
	while (!(__met = (cond)) && !deadline_passed(__deadline))	\
		cpu_relax();						\
	__met || (cond);						\
})

#endif
