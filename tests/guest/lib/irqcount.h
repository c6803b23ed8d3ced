/* Counting ordinary interrupts, per CPU and vector. */
#ifndef IRQCOUNT_H
#define IRQCOUNT_H

/* Count vectors first..last on every CPU; the handler sends the EOI. */
void count_irqs(int first, int last);

/* How many interrupts with @vector @cpu took so far. */
unsigned irq_count(int cpu, int vector);

#endif
