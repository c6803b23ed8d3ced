/* Per-CPU state, reached through the GS base. */
#ifndef PERCPU_H
#define PERCPU_H

#include <stddef.h>
#include <stdint.h>
#include "layout.h"

/* An exception as seen by the handler. */
struct fault {
	int vector;		/* -1: none */
	int ring;		/* CPL of the faulting code */
	uint32_t error_code;
	uint64_t rip;
	uint64_t cr2;		/* #PF only */
};

struct apic_ops;
struct catch_ctx;

struct percpu {
	struct percpu *self;
	struct fault fault;		/* last exception on this CPU */
	int id;				/* 0 = BSP, then in AP arrival order */
	uint32_t apic_id;
	const struct apic_ops *apic_ops;
	struct catch_ctx *catch;	/* innermost run_catch/run_in_user */
	void (*work_fn)(void *);	/* on_cpu() request */
	void *work_arg;
	unsigned work_req, work_done;
};

_Static_assert(offsetof(struct percpu, fault.vector) == PERCPU_FAULT_VECTOR,
	       "PERCPU_FAULT_VECTOR out of date");

extern struct percpu percpu[MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static inline int smp_id(void)
{
	return this_cpu()->id;
}

void percpu_init(int cpu);

#endif
