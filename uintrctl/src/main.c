/* main.c - uintrctl: inspect Intel User Interrupts (UINTR) state of
 * QEMU guests, through libvirt or a QMP socket.
 *
 * Global options are parsed here; the first operand names a command
 * from commands[] (exact names only), which gets the remaining
 * operands.  Adding a command touches this table and one file.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "output.h"
#include "uintrctl.h"

static int cmd_help(UintrctlOptions *opts, int argc, char **argv);

static const UintrctlCommand commands[] = {
    { "cpuid", cmd_cpuid, cmd_cpuid_synopsis, cmd_cpuid_summary },
    { "check", cmd_check, cmd_check_synopsis, cmd_check_summary },
    { "show", cmd_show, cmd_show_synopsis, cmd_show_summary },
    { "help", cmd_help, "help", "show this help" },
    { NULL, NULL, NULL, NULL },
};

static void print_help(FILE *fp)
{
    fprintf(fp,
        "Usage: uintrctl [OPTIONS] COMMAND [ARGS]\n"
        "Inspect Intel User Interrupts (UINTR) in QEMU guests, through "
        "libvirt\nor directly through a QEMU QMP socket.\n"
        "\n"
        "Commands:\n");
    for (const UintrctlCommand *c = commands; c->name; c++) {
        g_auto(GStrv) usage = g_strsplit(c->synopsis, "\n", -1);
        g_auto(GStrv) summary = g_strsplit(c->summary, "\n", -1);

        for (char **l = usage; *l; l++)
            fprintf(fp, "  uintrctl %s\n", *l);
        for (char **l = summary; *l; l++)
            fprintf(fp, "        %s\n", *l);
    }
    fprintf(fp,
        "\n"
        "Options:\n"
        "  -c, --connect URI    libvirt URI (default: libvirt's default URI),\n"
        "                       e.g. 'qemu:///session?socket=/run/x/libvirt-sock'\n"
        "  -q, --qmp SOCKET     talk to QEMU's QMP unix socket directly\n"
        "                       (QEMU started with -qmp unix:SOCKET,server=on,wait=off)\n"
        "  -t, --timeout SEC    give up on a silent QMP socket after SEC seconds\n"
        "                       (default %d; fractions allowed)\n"
        "  -e, --expect on|off  also require uintr to be on/off on every vCPU\n"
        "  -n, --interval MS    check: take the two query-uintr samples MS\n"
        "                       milliseconds apart (default %d; 0: one sample)\n"
        "  -i, --inactive       compare with the persistent (inactive) domain XML\n"
        "                       instead of the live one\n"
        "  -j, --json           print JSON instead of a table\n"
        "  -p, --pretty         print indented JSON (implies --json)\n"
        "  -h, --help           show this help\n"
        "  -V, --version        show the version\n"
        "\n"
        "Read-only: uintrctl sends only query commands (query-cpus-fast,\n"
        "qom-get, query-uintr).  Through libvirt it uses\n"
        "virDomainQemuMonitorCommand, which libvirt records as a\n"
        "'custom-monitor' taint on the domain (see 'virsh dominfo').\n"
        "\n"
        "Exit status:\n"
        "  0  success: every vCPU agrees, and with the domain XML / --expect;\n"
        "     check: no rule FAILed (WARN and SKIP allowed)\n"
        "  1  mismatch: vCPUs disagree, or the state differs from what the\n"
        "     domain XML (uintr policy require/force/disable/forbid, or else\n"
        "     its CPU model) or --expect asks; check: a rule FAILed\n"
        "  2  usage error\n"
        "  3  unknown domain\n"
        "  4  cannot reach libvirtd or the QMP socket (refused, missing,\n"
        "     timeout, connection lost)\n"
        "  5  QMP error reply, or a malformed reply or domain XML\n"
        "  6  QEMU has no 'uintr' CPU property (QEMU without UINTR patches)\n"
        "  7  the domain is not running\n"
        "  8  any other failure\n"
        "  9  QEMU has no 'query-uintr' command (check: no rule FAILed but\n"
        "     the state rules were skipped; show: nothing to show)\n",
        UINTRCTL_DEFAULT_TIMEOUT_MS / 1000, UINTRCTL_DEFAULT_INTERVAL_MS);
}

static int cmd_help(UintrctlOptions *opts G_GNUC_UNUSED, int argc G_GNUC_UNUSED,
                    char **argv G_GNUC_UNUSED)
{
    print_help(stdout);
    return UINTRCTL_EXIT_OK;
}

static gboolean parse_timeout(const char *s, int *ms)
{
    char *end = NULL;
    double sec = g_ascii_strtod(s, &end);

    if (!end || end == s || *end || !(sec > 0) || sec > 3600)
        return FALSE;
    *ms = (int)(sec * 1000 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return TRUE;
}

static gboolean parse_interval(const char *s, int *ms)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(s, 10, 0, UINTRCTL_MAX_INTERVAL_MS, &v,
                                    NULL))
        return FALSE;
    *ms = (int)v;
    return TRUE;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "connect", required_argument, NULL, 'c' },
        { "qmp", required_argument, NULL, 'q' },
        { "timeout", required_argument, NULL, 't' },
        { "expect", required_argument, NULL, 'e' },
        { "interval", required_argument, NULL, 'n' },
        { "inactive", no_argument, NULL, 'i' },
        { "json", no_argument, NULL, 'j' },
        { "pretty", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    UintrctlOptions opts = {
        .timeout_ms = UINTRCTL_DEFAULT_TIMEOUT_MS,
        .interval_ms = UINTRCTL_DEFAULT_INTERVAL_MS,
    };
    OutputMode mode = OUT_TEXT;
    g_autofree char *bad = NULL;
    const char *timeout_arg = NULL, *expect_arg = NULL, *interval_arg = NULL;
    const UintrctlCommand *cmd;
    int c, rc;

    opterr = 0; /* we report errors ourselves, once, in our format */
    while ((c = getopt_long(argc, argv, ":c:q:t:e:n:ijphV", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'c': opts.uri = optarg; break;
        case 'q': opts.qmp_socket = optarg; break;
        case 't': timeout_arg = optarg; break;
        case 'e': expect_arg = optarg; break;
        case 'n': interval_arg = optarg; break;
        case 'i': opts.inactive = TRUE; break;
        case 'j': if (mode == OUT_TEXT) mode = OUT_JSON; break;
        case 'p': mode = OUT_JSON_PRETTY; break;
        case 'h': print_help(stdout); return UINTRCTL_EXIT_OK;
        case 'V': printf("uintrctl %s\n", UINTRCTL_VERSION); return 0;
        case ':':
            bad = g_strdup_printf("option '%s' needs an argument",
                                  argv[optind - 1]);
            break;
        default:
            if (!bad)
                bad = optopt ? g_strdup_printf("unknown option '-%c'", optopt)
                             : g_strdup_printf("unknown option '%s'",
                                               argv[optind - 1]);
            break;
        }
    }
    opts.out = out_new(mode, stdout, stderr);

    if (bad)
        rc = out_usage_error(opts.out, "%s", bad);
    else if (timeout_arg && !parse_timeout(timeout_arg, &opts.timeout_ms))
        rc = out_usage_error(opts.out, "invalid --timeout '%s' (seconds, "
                                  "more than 0, at most 3600)", timeout_arg);
    else if (interval_arg && !parse_interval(interval_arg, &opts.interval_ms))
        rc = out_usage_error(opts.out, "invalid --interval '%s' (milliseconds, "
                             "0 to %d)", interval_arg, UINTRCTL_MAX_INTERVAL_MS);
    else if (expect_arg && strcmp(expect_arg, "on") != 0 &&
             strcmp(expect_arg, "off") != 0)
        rc = out_usage_error(opts.out, "invalid --expect '%s' (on or off)",
                                  expect_arg);
    else if (opts.uri && opts.qmp_socket)
        rc = out_usage_error(opts.out, "-c URI and --qmp SOCKET exclude "
                                  "each other");
    else if (optind >= argc)
        rc = out_usage_error(opts.out, "no command given");
    else
        rc = -1;
    if (rc >= 0) {
        out_free(opts.out);
        return rc;
    }
    if (expect_arg)
        opts.expect = strcmp(expect_arg, "on") == 0 ? CPUID_EXPECT_ON
                                                    : CPUID_EXPECT_OFF;

    for (cmd = commands; cmd->name; cmd++)
        if (strcmp(cmd->name, argv[optind]) == 0)
            break;
    if (!cmd->name)
        rc = out_usage_error(opts.out, "unknown command '%s'", argv[optind]);
    else
        rc = cmd->handler(&opts, argc - optind, argv + optind);
    out_free(opts.out);
    return rc;
}
