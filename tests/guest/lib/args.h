/* key=value arguments from the multiboot command line (QEMU -append). */
#ifndef ARGS_H
#define ARGS_H

#include <stdint.h>

void args_init(uint32_t mb_info);
const char *arg_get(const char *key);

/*
 * A 0/1 argument: key=0 or key=1.  Absent: Bail out! if required, else 0.
 * Any other value is a Bail out!.
 */
int arg_flag(const char *key, int required);

/* A decimal argument; dflt if absent or empty, Bail out! if not a number. */
unsigned arg_uint(const char *key, unsigned dflt);

#endif
