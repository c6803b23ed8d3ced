/* errors.c - exit codes and GError domain */
#include "errors.h"
#include "qmp.h"

G_DEFINE_QUARK(uintrctl-error-quark, uintrctl_error)

int uintrctl_exit_code(const GError *err)
{
    if (!err)
        return UINTRCTL_EXIT_OK;
    if (err->domain == UINTRCTL_ERROR && err->code > 0 &&
        err->code <= UINTRCTL_EXIT_LAST)
        return err->code;
    if (err->domain == QMP_REPLY_ERROR)
        return UINTRCTL_EXIT_PROTOCOL;
    return UINTRCTL_EXIT_FAILURE;
}

const char *uintrctl_exit_name(int code)
{
    switch (code) {
    case UINTRCTL_EXIT_OK: return "ok";
    case UINTRCTL_EXIT_MISMATCH: return "mismatch";
    case UINTRCTL_EXIT_USAGE: return "usage";
    case UINTRCTL_EXIT_NO_DOMAIN: return "no-domain";
    case UINTRCTL_EXIT_CONNECT: return "connect";
    case UINTRCTL_EXIT_PROTOCOL: return "protocol";
    case UINTRCTL_EXIT_NO_FEATURE: return "no-feature";
    case UINTRCTL_EXIT_NOT_RUNNING: return "not-running";
    case UINTRCTL_EXIT_FAILURE: return "failure";
    case UINTRCTL_EXIT_NO_QUERY_UINTR: return "no-query-uintr";
    }
    return "unknown";
}
