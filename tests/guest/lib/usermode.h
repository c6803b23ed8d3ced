/* Running code in ring 3. */
#ifndef USERMODE_H
#define USERMODE_H

#include "desc.h"

/*
 * Run fn(arg) in ring 3 (interrupts enabled) on the stack below stack_top,
 * which must be 16-byte aligned.  Like run_catch(): returns the vector of an
 * exception that ended it (-1 if fn returned), *ret gets fn's value and *f
 * the exception, with f->ring telling where it was raised.
 */
int run_in_user(long (*fn)(void *), void *arg, void *stack_top, long *ret,
		struct fault *f);

#endif
