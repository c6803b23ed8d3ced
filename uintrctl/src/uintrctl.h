/* uintrctl.h - global options and the command table interface */
#ifndef UINTRCTL_H
#define UINTRCTL_H

#include <glib.h>

#include "cpuid.h"
#include "output.h"

#define UINTRCTL_VERSION "0.1.0"
#define UINTRCTL_DEFAULT_TIMEOUT_MS 5000
#define UINTRCTL_DEFAULT_INTERVAL_MS 200
#define UINTRCTL_MAX_INTERVAL_MS 60000

typedef struct {
    const char *uri;        /* -c/--connect URI (NULL: libvirt's default) */
    const char *qmp_socket; /* --qmp SOCKET: talk to QEMU directly */
    int timeout_ms;         /* --timeout SEC, per QMP exchange */
    CpuidExpect expect;     /* --expect on|off */
    gboolean inactive;      /* --inactive: persistent domain XML */
    int interval_ms;        /* --interval MS between query-uintr samples */
    Output *out;
} UintrctlOptions;

/* A subcommand.  @argv[0] is the command name, the rest its operands
 * (options are parsed globally by main.c).  Returns the exit code and
 * reports its own errors through out_error(). */
typedef int (*UintrctlHandler)(UintrctlOptions *opts, int argc, char **argv);

typedef struct {
    const char *name;
    UintrctlHandler handler;
    const char *synopsis; /* usage lines without "uintrctl ", \n-separated */
    const char *summary;  /* what it does, \n-separated lines, for --help */
} UintrctlCommand;

/* cmd_cpuid.c */
int cmd_cpuid(UintrctlOptions *opts, int argc, char **argv);
extern const char cmd_cpuid_synopsis[];
extern const char cmd_cpuid_summary[];

/* cmd_check.c */
int cmd_check(UintrctlOptions *opts, int argc, char **argv);
extern const char cmd_check_synopsis[];
extern const char cmd_check_summary[];

/* cmd_show.c */
int cmd_show(UintrctlOptions *opts, int argc, char **argv);
extern const char cmd_show_synopsis[];
extern const char cmd_show_summary[];

#endif
