#ifndef SPINLOCK_H
#define SPINLOCK_H

#include "processor.h"

struct spinlock {
	bool locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_test_and_set(&l->locked, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_clear(&l->locked, __ATOMIC_RELEASE);
}

/* For locks also taken in interrupt handlers. */
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t flags = irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	spin_unlock(l);
	irq_restore(flags);
}

#endif
