#ifndef STRING_H
#define STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strchr(const char *s, int c);

/* Whether all @len bytes at @p are @b. */
bool all_byte(const uint8_t *p, size_t len, uint8_t b);

/* @s, or "none" for NULL (for messages). */
static inline const char *x_or(const char *s)
{
	return s ? s : "none";
}

#endif
