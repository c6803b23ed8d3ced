/* The guests' seeded PRNG: xorshift64*, so that a printed seed replays a run. */
#ifndef RAND_H
#define RAND_H

#include <stdint.h>

/* The next number from *state (which must not be 0). */
static inline uint64_t xorshift64s(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

#endif
