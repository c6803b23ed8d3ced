/* Application processor bring-up and cross-CPU calls. */
#ifndef SMP_H
#define SMP_H

#include "percpu.h"

#define WAKEUP_VECTOR	0x20

void smp_init(void);
int cpu_count(void);
uint32_t cpu_apic_id(int cpu);
void on_cpu_async(int cpu, void (*fn)(void *), void *arg);
void on_cpu(int cpu, void (*fn)(void *), void *arg);

/* Acquire loads and release stores of data that other CPUs touch. */
#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

#endif
