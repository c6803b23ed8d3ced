/* TAP version 13 output on COM1, safe to use from any CPU. */
#ifndef TAP_H
#define TAP_H

#include <stdbool.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))

void tap_init(void);
bool ok(bool cond, const char *fmt, ...) __printf(2, 3);
void skip(const char *reason, const char *fmt, ...) __printf(2, 3);
void diag(const char *fmt, ...) __printf(1, 2);
int tap_done(void);
void __attribute__((noreturn)) bail_out(const char *fmt, ...) __printf(1, 2);
void __attribute__((noreturn)) exit(int code);

#endif
