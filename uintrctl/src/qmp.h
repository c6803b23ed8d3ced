/* qmp.h - transport-neutral QMP command execution
 *
 * A QmpTransport moves one QMP command object to QEMU and brings back
 * the matching reply object ({"return": ...} or {"error": ...}); it
 * hides asynchronous events, command ids and the channel (a QMP unix
 * socket, or libvirt's virDomainQemuMonitorCommand).  qmp_execute()
 * builds the command with json-c and interprets the reply.
 */
#ifndef UINTRCTL_QMP_H
#define UINTRCTL_QMP_H

#include <glib.h>
#include <json-c/json.h>
#include <yajl/yajl_parse.h>

/* json-c objects are reference counted: g_autoptr drops the reference */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

typedef struct QmpTransport QmpTransport;

/* Where the value of a reply's "return" member can go instead of into
 * a json-c tree: yajl callbacks with their context (qmp-events.h). */
typedef struct {
    const yajl_callbacks *callbacks;
    void *ctx;
    void (*reset)(void *ctx);  /* a "return" value begins */
} QmpReturnSink;

typedef struct {
    const char *name; /* "socket", "libvirt", "fake" ... */
    /* Send @cmd (an {"execute":...} object, not consumed) and return the
     * reply object (new reference) or NULL with @err set.  With @sink
     * (may be NULL), the reply's "return" value goes to @sink as it is
     * parsed instead (*@routed then TRUE, and the reply object has
     * "return": null). */
    json_object *(*exchange)(QmpTransport *t, json_object *cmd,
                             const QmpReturnSink *sink, gboolean *routed,
                             GError **err);
    void (*free)(QmpTransport *t);
} QmpTransportOps;

struct QmpTransport {
    const QmpTransportOps *ops;
    char *description; /* for messages: "QMP socket /x/y", "domain u1" */
};

/* Error domain of QMP {"error": {"class": C, "desc": D}} replies.  The
 * GError code is one of QmpErrorClass, the message is D. */
#define QMP_REPLY_ERROR (qmp_reply_error_quark())
GQuark qmp_reply_error_quark(void);

typedef enum {
    QMP_ERROR_CLASS_GENERIC = 0,    /* GenericError */
    QMP_ERROR_CLASS_COMMAND_NOT_FOUND,
    QMP_ERROR_CLASS_DEVICE_NOT_ACTIVE,
    QMP_ERROR_CLASS_DEVICE_NOT_FOUND,
    QMP_ERROR_CLASS_KVM_MISSING_CAP,
    QMP_ERROR_CLASS_OTHER,          /* a class this tool does not know */
} QmpErrorClass;

QmpErrorClass qmp_error_class_from_string(const char *s);

/* Execute @cmd with optional @args (borrowed; may be NULL).  On success
 * returns 0 and stores the value of "return" in *@ret (new reference,
 * may be any JSON type, NULL for JSON null) if @ret is non-NULL.  On a
 * QMP error reply returns -1 with @err in QMP_REPLY_ERROR; on transport
 * or protocol trouble returns -1 with @err in UINTRCTL_ERROR. */
int qmp_execute(QmpTransport *t, const char *cmd, json_object *args,
                json_object **ret, GError **err);

/* Execute @cmd (no arguments) like qmp_execute(), but hand the value of
 * "return" to @sink as yajl events, straight from the transport, instead
 * of returning it.  0 when the reply was a "return" (the events are then
 * complete), -1 with @err as qmp_execute(). */
int qmp_execute_events(QmpTransport *t, const char *cmd,
                       const QmpReturnSink *sink, GError **err);

/* Interpret a reply object (exported for the unit tests). */
int qmp_reply_parse(const char *what, json_object *reply, json_object **ret,
                    GError **err);

/* True if @err is QEMU's "Property 'TYPE.NAME' not found" for @name. */
gboolean qmp_error_is_property_not_found(const GError *err, const char *name);

void qmp_transport_free(QmpTransport *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpTransport, qmp_transport_free)

/* --- back ends --- */

/* qmp-socket.c: connect to a QMP unix socket, read the greeting,
 * negotiate capabilities.  @timeout_ms bounds every single wait. */
QmpTransport *qmp_socket_open(const char *path, int timeout_ms, GError **err);

/* qmp-libvirt.c: see qmp-libvirt.h */

#endif

/* Parse one complete JSON text (a whole reply string, as libvirt hands
 * it over) strictly: trailing non-blank characters, truncation and
 * non-standard JSON are errors (UINTRCTL_EXIT_PROTOCOL). */
json_object *qmp_json_parse(const char *what, const char *text, GError **err);
