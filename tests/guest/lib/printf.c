#include <stdbool.h>
#include <stdint.h>
#include "printf.h"

struct out {
	char *buf;
	size_t size, len;
};

struct spec {
	bool left, zero, alt;
	int width;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const struct spec *s, const char *prefix,
		       const char *body, int body_len)
{
	int len = body_len;
	int pad;

	for (const char *p = prefix; *p; p++)
		len++;
	pad = s->width > len ? s->width - len : 0;
	if (!s->left && !s->zero)
		for (; pad; pad--)
			put(o, ' ');
	while (*prefix)
		put(o, *prefix++);
	if (!s->left)
		for (; pad; pad--)
			put(o, '0');
	for (int i = 0; i < body_len; i++)
		put(o, body[i]);
	for (; pad; pad--)
		put(o, ' ');
}

static void put_num(struct out *o, const struct spec *s, unsigned long long v,
		    unsigned base, bool upper, bool neg)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int i = sizeof(tmp);
	const char *prefix = neg ? "-" : "";

	do {
		tmp[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (s->alt && base == 16)
		prefix = upper ? "0X" : "0x";
	put_padded(o, s, prefix, tmp + i, sizeof(tmp) - i);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		struct spec s = { 0 };
		int longs = 0;
		unsigned long long u;
		long long d;
		const char *str;
		char c;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (;; fmt++) {
			if (fmt[1] == '-')
				s.left = true;
			else if (fmt[1] == '0')
				s.zero = true;
			else if (fmt[1] == '#')
				s.alt = true;
			else
				break;
		}
		while (fmt[1] >= '0' && fmt[1] <= '9')
			s.width = s.width * 10 + (*++fmt - '0');
		while (fmt[1] == 'l' || fmt[1] == 'z') {
			longs++;
			fmt++;
		}

		switch (*++fmt) {
		case 'd':
		case 'i':
			d = longs ? va_arg(ap, long long) : va_arg(ap, int);
			put_num(&o, &s, d < 0 ? -(unsigned long long)d : (unsigned long long)d,
				10, false, d < 0);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
			put_num(&o, &s, u, *fmt == 'u' ? 10 : 16, *fmt == 'X', false);
			break;
		case 'p':
			s.alt = true;
			put_num(&o, &s, (uintptr_t)va_arg(ap, void *), 16, false, false);
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			for (d = 0; str[d]; d++)
				;
			s.zero = false;
			put_padded(&o, &s, "", str, d);
			break;
		case 'c':
			c = va_arg(ap, int);
			s.zero = false;
			put_padded(&o, &s, "", &c, 1);
			break;
		case '%':
			put(&o, '%');
			break;
		default:	/* unsupported: print verbatim */
			put(&o, '%');
			if (!*fmt)
				goto out;
			put(&o, *fmt);
		}
	}
out:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
