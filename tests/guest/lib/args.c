#include "args.h"
#include "string.h"
#include "tap.h"

#define MB_INFO_CMDLINE	(1u << 2)
#define MAX_ARGS	16

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
};

static char cmdline[512];
static struct {
	const char *key, *val;
} args[MAX_ARGS];
static int nr_args;

/*
 * Copy and split the command line.  QEMU puts the kernel file name first,
 * then -append; words without '=' get the value "".
 */
void args_init(uint32_t mb_info)
{
	const struct multiboot_info *mbi = (void *)(uintptr_t)mb_info;
	const char *src;
	char *p = cmdline;

	if (!(mbi->flags & MB_INFO_CMDLINE))
		return;
	src = (const char *)(uintptr_t)mbi->cmdline;
	if (strlen(src) >= sizeof(cmdline))
		bail_out("command line longer than %zu bytes", sizeof(cmdline) - 1);
	memcpy(cmdline, src, strlen(src) + 1);

	while (*p && *p != ' ')		/* kernel file name */
		p++;
	for (;;) {
		char *word, *eq;

		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		if (nr_args == MAX_ARGS)
			bail_out("more than %d command line arguments", MAX_ARGS);
		word = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		eq = strchr(word, '=');
		args[nr_args].key = word;
		args[nr_args].val = eq ? eq + 1 : "";
		if (eq)
			*eq = '\0';
		nr_args++;
	}
}

/* The value of key, or NULL if absent; the last occurrence wins. */
const char *arg_get(const char *key)
{
	for (int i = nr_args - 1; i >= 0; i--)
		if (!strcmp(args[i].key, key))
			return args[i].val;
	return NULL;
}

int arg_flag(const char *key, int required)
{
	const char *v = arg_get(key);

	if (!v) {
		if (required)
			bail_out("needs %s=0 or %s=1 on the command line", key, key);
		return 0;
	}
	if ((v[0] != '0' && v[0] != '1') || v[1])
		bail_out("%s=%s, expected 0 or 1", key, v);
	return v[0] - '0';
}

unsigned arg_uint(const char *key, unsigned dflt)
{
	const char *v = arg_get(key);
	unsigned n = 0;

	if (!v || !*v)
		return dflt;
	for (const char *s = v; *s; s++) {
		if (*s < '0' || *s > '9' || n > (~0u - 9) / 10)
			bail_out("%s=%s, expected a decimal number", key, v);
		n = n * 10 + (*s - '0');
	}
	return n;
}
