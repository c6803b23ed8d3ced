/* session.h - what every command needs: operands, a QMP transport, and
 * in libvirt mode the domain XML
 *
 *   uintrctl [-c URI] CMD DOMAIN   libvirt: virDomainQemuMonitorCommand
 *   uintrctl --qmp SOCKET CMD      a QEMU's QMP socket directly
 */
#ifndef UINTRCTL_SESSION_H
#define UINTRCTL_SESSION_H

#include <glib.h>
#include <json-c/json.h>

#include "domxml.h"
#include "qmp.h"
#include "uintrctl.h"

typedef struct {
    QmpTransport *t;
    const char *domain;  /* the DOMAIN operand; NULL with --qmp */
    char *uri;           /* libvirt's URI of the connection (GLib memory) */
    gboolean has_dom;    /* dom was read (libvirt mode, @want_xml) */
    DomCpuInfo dom;      /* <cpu> of the domain XML, model expanded */
} Session;

/* Check the operands of command argv[0] and connect.  With @want_xml
 * (libvirt mode) also read the domain XML and ask libvirt what its CPU
 * model contains.  Returns -1 when @s is open, else the exit code of the
 * error, which has been reported through opts->out. */
int session_open(UintrctlOptions *opts, int argc, char **argv,
                 gboolean want_xml, Session *s);
void session_close(Session *s);

/* What a command does once connected; returns the exit code. */
typedef int (*SessionFn)(UintrctlOptions *opts, const Session *s);

/* session_open(), @fn, session_close(): a command's whole handler. */
int session_run(UintrctlOptions *opts, int argc, char **argv,
                gboolean want_xml, SessionFn fn);

/* Text mode: the header line naming the domain or socket (and, with the
 * domain XML, its CPU and uintr policy). */
void session_print_header(UintrctlOptions *opts, const Session *s);

/* The "source" member of the JSON documents. */
json_object *session_source_json(UintrctlOptions *opts, const Session *s);

/* JSON string, or JSON null for NULL. */
json_object *json_string_or_null(const char *s);

#endif
