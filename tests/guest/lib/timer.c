#include "tap.h"
#include "timer.h"

#define PIT_HZ		1193182u
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT_B		0x61	/* bit 0: ch2 gate, bit 1: speaker, bit 5: ch2 out */

uint64_t tsc_khz;

/* TSC ticks during a PIT channel 2 one-shot of ms (<= 54) milliseconds. */
uint64_t pit_measure_tsc(unsigned ms)
{
	uint32_t count = PIT_HZ / 1000 * ms;
	uint64_t start, limit = 1ull << 32;

	outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);		/* ch2, lo/hi byte, mode 0 */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	start = rdtsc();
	while (!(inb(PORT_B) & 0x20))
		if (!--limit)
			bail_out("PIT channel 2 never expired");
	return rdtsc() - start;
}

void timer_init(void)
{
	tsc_khz = pit_measure_tsc(50) / 50;
	if (!tsc_khz)
		bail_out("TSC does not advance");
}

void udelay(unsigned us)
{
	uint64_t end = rdtsc() + us * tsc_khz / 1000;

	while (!deadline_passed(end))
		cpu_relax();
}

void mdelay(unsigned ms)
{
	uint64_t end = deadline_after_ms(ms);

	while (!deadline_passed(end))
		cpu_relax();
}
