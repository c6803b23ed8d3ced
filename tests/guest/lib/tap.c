#include <stdarg.h>
#include "printf.h"
#include "processor.h"
#include "serial.h"
#include "spinlock.h"
#include "tap.h"

#define DEBUG_EXIT_PORT	0xf4	/* -device isa-debug-exit,iobase=0xf4 */
#define LINE_MAX	256

static struct spinlock tap_lock;
static unsigned tests_run, tests_failed;

static void tap_line(const char *prefix, bool number, const char *msg, const char *suffix)
{
	uint64_t flags = spin_lock_irqsave(&tap_lock);
	char num[16] = "";

	if (number)
		snprintf(num, sizeof(num), "%u - ", ++tests_run);
	serial_puts(prefix);
	serial_puts(num);
	serial_puts(msg);
	serial_puts(suffix);
	serial_puts("\n");
	spin_unlock_irqrestore(&tap_lock, flags);
}

void tap_init(void)
{
	tap_line("TAP version 13", false, "", "");
}

bool ok(bool cond, const char *fmt, ...)
{
	char msg[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!cond)
		__atomic_add_fetch(&tests_failed, 1, __ATOMIC_RELAXED);
	tap_line(cond ? "ok " : "not ok ", true, msg, "");
	return cond;
}

void skip(const char *reason, const char *fmt, ...)
{
	char msg[LINE_MAX], suffix[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(suffix, sizeof(suffix), " # SKIP %s", reason);
	tap_line("ok ", true, msg, suffix);
}

void diag(const char *fmt, ...)
{
	char msg[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_line("# ", false, msg, "");
}

/* Print the plan; returns the exit code for exit(). */
int tap_done(void)
{
	char plan[32];

	snprintf(plan, sizeof(plan), "1..%u", tests_run);
	tap_line(plan, false, "", "");
	return tests_failed ? 1 : 0;
}

void bail_out(const char *fmt, ...)
{
	char msg[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_line("Bail out! ", false, msg, "");
	exit(1);
}

/* QEMU exits with status (code << 1) | 1. */
void exit(int code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		asm volatile("cli; hlt");
}
