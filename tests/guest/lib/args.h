/* key=value arguments from the multiboot command line (QEMU -append). */
#ifndef ARGS_H
#define ARGS_H

#include <stdint.h>

void args_init(uint32_t mb_info);
const char *arg_get(const char *key);

#endif
