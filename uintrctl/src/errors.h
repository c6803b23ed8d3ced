/* errors.h - exit codes and the GError domain of uintrctl
 *
 * Every failure inside uintrctl is reported as a GError in the
 * UINTRCTL_ERROR domain whose code *is* the process exit code, so the
 * mapping from "what went wrong" to "how the process exits" lives in
 * one place: the code that detects the problem.  QMP {"error": ...}
 * replies use their own domain (QMP_REPLY_ERROR, see qmp.h) so that a
 * caller can still look at the QMP error class before deciding.
 */
#ifndef UINTRCTL_ERRORS_H
#define UINTRCTL_ERRORS_H

#include <glib.h>

typedef enum {
    UINTRCTL_EXIT_OK = 0,          /* success; requested state matches        */
    UINTRCTL_EXIT_MISMATCH = 1,    /* checked state does not match            */
    UINTRCTL_EXIT_USAGE = 2,       /* bad command line                        */
    UINTRCTL_EXIT_NO_DOMAIN = 3,   /* libvirt: no such domain                 */
    UINTRCTL_EXIT_CONNECT = 4,     /* cannot reach libvirtd / QMP socket,
                                      timeout, connection lost               */
    UINTRCTL_EXIT_PROTOCOL = 5,    /* QMP error reply, malformed reply or XML */
    UINTRCTL_EXIT_NO_FEATURE = 6,  /* QEMU has no 'uintr' CPU property        */
    UINTRCTL_EXIT_NOT_RUNNING = 7, /* libvirt: domain exists, is not running  */
    UINTRCTL_EXIT_FAILURE = 8,     /* any other failure (libvirt error
                                      without a better code, out of memory)   */
    UINTRCTL_EXIT_NO_QUERY_UINTR = 9, /* QEMU has no 'query-uintr' command
                                         (check: no rule failed, but the
                                         state rules were skipped)           */
} UintrctlExit;

#define UINTRCTL_EXIT_LAST UINTRCTL_EXIT_NO_QUERY_UINTR

#define UINTRCTL_ERROR (uintrctl_error_quark())
GQuark uintrctl_error_quark(void);

/* Map any GError to an exit code (UINTRCTL_ERROR code as is, QMP error
 * replies to UINTRCTL_EXIT_PROTOCOL, anything else to _FAILURE). */
int uintrctl_exit_code(const GError *err);

/* Human-readable name of an exit code, for --help and JSON output. */
const char *uintrctl_exit_name(int code);

#endif
