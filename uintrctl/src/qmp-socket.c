/* qmp-socket.c - QMP client for a QEMU monitor unix socket
 *
 * Talks to `-qmp unix:PATH,server=on,wait=off` directly: connect, read
 * the greeting, negotiate with qmp_capabilities, then one command at a
 * time.  The byte stream is split into JSON messages by a QmpStream
 * (qmp-stream.h), so partial reads, several messages per read and
 * whitespace between messages all work; asynchronous events and
 * replies carrying somebody else's id are skipped.  Every wait is
 * bounded by a deadline (poll), so a silent peer produces a timeout
 * error instead of a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"
#include "qmp-stream.h"
#include "qmp.h"

typedef struct {
    QmpTransport base;
    int fd;
    int timeout_ms;
    char *path;
    QmpStream *stream;     /* received bytes -> JSON messages */
    gboolean eof;
    guint64 next_id;
    char *id;              /* id of the command in flight */
} QmpSocket;

static gint64 deadline_after(int timeout_ms)
{
    return g_get_monotonic_time() + (gint64)timeout_ms * 1000;
}

/* Milliseconds left until @deadline, rounded up, never negative. */
static int ms_left(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();

    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, G_MAXINT);
}

static void set_timeout_error(QmpSocket *s, const char *waiting_for,
                              GError **err)
{
    g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                "timed out after %d ms waiting for %s on QMP socket %s "
                "(is QEMU stopped or hung? raise --timeout if the host is "
                "slow)",
                s->timeout_ms, waiting_for, s->path);
}

/* Wait until the socket is ready for @events; 0 when it is, -1 on error
 * or when @deadline passes (@waiting_for names what we wait for). */
static int wait_ready(QmpSocket *s, short events, gint64 deadline,
                      const char *waiting_for, GError **err)
{
    for (;;) {
        struct pollfd pfd = { .fd = s->fd, .events = events };
        int r = poll(&pfd, 1, ms_left(deadline));

        if (r > 0)
            return 0;
        if (r == 0) {
            set_timeout_error(s, waiting_for, err);
            return -1;
        }
        if (errno != EINTR) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                        "poll on QMP socket %s failed: %s", s->path,
                        g_strerror(errno));
            return -1;
        }
    }
}

static int write_all(QmpSocket *s, const char *data, size_t len,
                     gint64 deadline, GError **err)
{
    while (len > 0) {
        ssize_t n;

        if (wait_ready(s, POLLOUT, deadline, "room to send a command", err) < 0)
            return -1;
        n = send(s->fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                        "lost the connection to QMP socket %s while "
                        "sending: %s (did QEMU exit?)", s->path,
                        g_strerror(errno));
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read more bytes into s->stream; 0 on data or EOF (s->eof), -1 on
 * error. */
static int fill(QmpSocket *s, gint64 deadline, const char *waiting_for,
                GError **err)
{
    for (;;) {
        guint8 chunk[4096];
        ssize_t n;

        if (wait_ready(s, POLLIN, deadline, waiting_for, err) < 0)
            return -1;
        n = recv(s->fd, chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                        "lost the connection to QMP socket %s: %s "
                        "(did QEMU exit?)", s->path, g_strerror(errno));
            return -1;
        }
        if (n == 0)
            s->eof = TRUE;
        else
            qmp_stream_feed(s->stream, chunk, (size_t)n);
        return 0;
    }
}

/* Return the next complete JSON value from the stream (new reference),
 * or NULL with @err set.  With @sink, a "return" value goes there as
 * it arrives (*@routed; qmp_stream_next_events). */
static json_object *read_message(QmpSocket *s, const QmpReturnSink *sink,
                                 gboolean *routed, gint64 deadline,
                                 const char *waiting_for, GError **err)
{
    g_autofree char *where = g_strdup_printf("QMP socket %s", s->path);
    gboolean ignored;

    for (;;) {
        GError *local = NULL;
        json_object *obj =
            sink ? qmp_stream_next_events(s->stream, sink,
                                          routed ? routed : &ignored, where,
                                          waiting_for, &local)
                 : qmp_stream_next(s->stream, where, waiting_for, &local);

        if (obj)
            return obj;
        if (local) {
            g_propagate_error(err, local);
            return NULL;
        }
        if (s->eof) {
            if (qmp_stream_in_message(s->stream))
                g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                            "QMP socket %s closed in the middle of a "
                            "message while waiting for %s (truncated reply)",
                            s->path, waiting_for);
            else
                g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                            "QMP socket %s closed by QEMU while waiting "
                            "for %s (did QEMU exit?)", s->path, waiting_for);
            return NULL;
        }
        if (fill(s, deadline, waiting_for, err) < 0)
            return NULL;
    }
}

static json_object *socket_exchange(QmpTransport *t, json_object *cmd,
                                    const QmpReturnSink *sink,
                                    gboolean *routed, GError **err)
{
    QmpSocket *s = (QmpSocket *)t;
    gint64 deadline = deadline_after(s->timeout_ms);
    g_autofree char *waiting_for = NULL;
    g_autofree char *line = NULL;
    json_object *execute;

    if (json_object_object_get_ex(cmd, "execute", &execute))
        waiting_for = g_strdup_printf("the reply to '%s'",
                                      json_object_get_string(execute));
    else
        waiting_for = g_strdup("a reply");
    g_free(s->id);
    s->id = g_strdup_printf("uintrctl-%" G_GUINT64_FORMAT, ++s->next_id);
    json_object_object_add(cmd, "id", json_object_new_string(s->id));
    line = g_strconcat(json_object_to_json_string_ext(cmd,
                           JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                       "\n", NULL);
    json_object_object_del(cmd, "id");
    if (write_all(s, line, strlen(line), deadline, err) < 0)
        return NULL;

    for (;;) {
        json_object *msg = read_message(s, sink, routed, deadline,
                                        waiting_for, err);
        json_object *id;

        if (!msg)
            return NULL;
        if (!json_object_is_type(msg, json_type_object)) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "malformed message on QMP socket %s: expected a "
                        "JSON object, got %s", s->path,
                        json_type_to_name(json_object_get_type(msg)));
            json_object_put(msg);
            return NULL;
        }
        if (json_object_object_get_ex(msg, "event", NULL)) {
            json_object_put(msg); /* asynchronous event: not ours */
            continue;
        }
        if (!json_object_object_get_ex(msg, "return", NULL) &&
            !json_object_object_get_ex(msg, "error", NULL)) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "malformed message on QMP socket %s: neither a "
                        "reply nor an event: %.200s", s->path,
                        json_object_to_json_string_ext(msg,
                                                       JSON_C_TO_STRING_PLAIN));
            json_object_put(msg);
            return NULL;
        }
        /* QEMU echoes our id; a reply without one is an error about a
         * command it could not even parse, which can only be ours. */
        if (json_object_object_get_ex(msg, "id", &id) &&
            !(json_object_is_type(id, json_type_string) &&
              strcmp(json_object_get_string(id), s->id) == 0)) {
            json_object_put(msg); /* stale reply to somebody else */
            continue;
        }
        return msg;
    }
}

static void socket_free(QmpTransport *t)
{
    QmpSocket *s = (QmpSocket *)t;

    if (s->fd >= 0)
        close(s->fd);
    qmp_stream_free(s->stream);
    g_free(s->path);
    g_free(s->id);
    g_free(s);
}

static const QmpTransportOps socket_ops = {
    .name = "socket",
    .exchange = socket_exchange,
    .free = socket_free,
};

static int socket_connect(QmpSocket *s, gint64 deadline, GError **err)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(s->path) >= sizeof(addr.sun_path)) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_USAGE,
                    "QMP socket path is too long (%zu bytes, at most %zu): "
                    "%s", strlen(s->path), sizeof(addr.sun_path) - 1,
                    s->path);
        return -1;
    }
    memcpy(addr.sun_path, s->path, strlen(s->path) + 1);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->fd < 0) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_FAILURE,
                    "cannot create a unix socket: %s", g_strerror(errno));
        return -1;
    }
    for (;;) {
        if (connect(s->fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        /* listen backlog full: retry until the deadline */
        if (errno == EAGAIN && ms_left(deadline) > 0) {
            g_usleep(10 * 1000);
            continue;
        }
        break;
    }
    if (errno == EAGAIN)
        set_timeout_error(s, "the connection to be accepted", err);
    else
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                    "cannot connect to QMP socket %s: %s (is QEMU running "
                    "with -qmp unix:%s,server=on,wait=off?)", s->path,
                    g_strerror(errno), s->path);
    return -1;
}

QmpTransport *qmp_socket_open(const char *path, int timeout_ms, GError **err)
{
    g_autoptr(QmpTransport) t = NULL;
    QmpSocket *s = g_new0(QmpSocket, 1);
    gint64 deadline = deadline_after(timeout_ms);
    json_object *greeting, *qmp;
    json_object *caps = NULL;

    s->base.ops = &socket_ops;
    s->base.description = g_strdup_printf("QMP socket %s", path);
    s->fd = -1;
    s->timeout_ms = timeout_ms;
    s->path = g_strdup(path);
    s->stream = qmp_stream_new(QMP_MAX_MESSAGE);
    t = &s->base;

    if (socket_connect(s, deadline, err) < 0)
        return NULL;

    greeting = read_message(s, NULL, NULL, deadline, "the QMP greeting", err);
    if (!greeting)
        return NULL;
    if (!json_object_is_type(greeting, json_type_object) ||
        !json_object_object_get_ex(greeting, "QMP", &qmp) ||
        !json_object_is_type(qmp, json_type_object)) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "%s did not start with a QMP greeting "
                    "({\"QMP\": {...}}); is it a QMP (not HMP) monitor?",
                    path);
        json_object_put(greeting);
        return NULL;
    }
    json_object_put(greeting);

    if (qmp_execute(t, "qmp_capabilities", NULL, &caps, err) < 0) {
        g_prefix_error(err, "QMP capabilities negotiation on %s failed: ",
                       path);
        return NULL;
    }
    json_object_put(caps);
    return g_steal_pointer(&t);
}
