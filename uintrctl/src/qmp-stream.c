/* qmp-stream.c - split a QMP byte stream into JSON messages */
#include "errors.h"
#include "qmp-events.h"
#include "qmp-stream.h"

struct QmpStream {
    json_tokener *tok;
    QmpEvents *events;     /* the message is parsed by events */
    gboolean by_events;
    GByteArray *buf;       /* received, not yet fed to the tokener */
    size_t max_message;
    size_t msg_bytes;      /* bytes fed into the message being parsed */
    gboolean msg_started;  /* a non-blank byte of it was seen */
};

QmpStream *qmp_stream_new(size_t max_message)
{
    QmpStream *s = g_new0(QmpStream, 1);

    s->tok = json_tokener_new();
    json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT |
                                   JSON_TOKENER_ALLOW_TRAILING_CHARS);
    s->buf = g_byte_array_new();
    s->max_message = max_message;
    return s;
}

void qmp_stream_free(QmpStream *s)
{
    if (!s)
        return;
    json_tokener_free(s->tok);
    qmp_events_free(s->events);
    g_byte_array_unref(s->buf);
    g_free(s);
}

void qmp_stream_feed(QmpStream *s, const void *data, size_t len)
{
    while (len > 0) {
        guint n = (guint)MIN(len, (size_t)G_MAXUINT / 2);

        g_byte_array_append(s->buf, data, n);
        data = (const guint8 *)data + n;
        len -= n;
    }
}

gboolean qmp_stream_in_message(const QmpStream *s)
{
    return s->msg_started;
}

static void set_garbage_error(const char *where, const char *waiting_for,
                              const char *desc, GError **err)
{
    g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                "garbage on %s while waiting for %s: %s (is this really a "
                "QEMU QMP socket?)", where, waiting_for, desc);
}

static void set_cap_error(QmpStream *s, const char *where, GError **err)
{
    g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                "QMP message on %s exceeds %zu bytes; giving up", where,
                s->max_message);
}

/* @used bytes of the buffer went into the message. */
static void consumed(QmpStream *s, size_t used)
{
    if (used > s->buf->len)
        used = s->buf->len;
    for (size_t i = 0; i < used && !s->msg_started; i++)
        if (!g_ascii_isspace(s->buf->data[i]))
            s->msg_started = TRUE;
    s->msg_bytes += used;
    g_byte_array_remove_range(s->buf, 0, (guint)used);
}

static json_object *next_by_events(QmpStream *s, gboolean *routed,
                                   const char *where, const char *waiting_for,
                                   GError **err)
{
    while (s->buf->len > 0) {
        json_object *msg = NULL;
        const char *desc = NULL;
        size_t used = 0;
        QmpEventsStatus st = qmp_events_feed(s->events, s->buf->data,
                                             s->buf->len, &used, &msg, routed,
                                             &desc);

        consumed(s, used);
        if (st == QMP_EVENTS_DONE) {
            s->msg_bytes = 0;
            s->msg_started = FALSE;
            if (msg)
                return msg;
            /* json-c's tokener: a JSON null is no object, and no error */
            set_garbage_error(where, waiting_for,
                              json_tokener_error_desc(json_tokener_success),
                              err);
            return NULL;
        }
        if (st == QMP_EVENTS_ERROR) {
            set_garbage_error(where, waiting_for, desc, err);
            return NULL;
        }
        if (s->msg_bytes > s->max_message) {
            set_cap_error(s, where, err);
            return NULL;
        }
    }
    return NULL;
}

json_object *qmp_stream_next_events(QmpStream *s, const QmpReturnSink *sink,
                                    gboolean *routed, const char *where,
                                    const char *waiting_for, GError **err)
{
    *routed = FALSE;
    /* between messages, the caller chooses the parser */
    if (!s->msg_started && s->by_events != (sink != NULL)) {
        s->by_events = sink != NULL;
        json_tokener_reset(s->tok);
        if (s->events)
            qmp_events_reset(s->events);
    }
    if (!s->by_events)
        return qmp_stream_next(s, where, waiting_for, err);
    if (!s->events)
        s->events = qmp_events_new(sink);
    qmp_events_set_sink(s->events, sink);
    return next_by_events(s, routed, where, waiting_for, err);
}

json_object *qmp_stream_next(QmpStream *s, const char *where,
                             const char *waiting_for, GError **err)
{
    if (!s->msg_started && s->by_events) {
        s->by_events = FALSE;
        json_tokener_reset(s->tok);
        qmp_events_reset(s->events);
    }
    if (s->by_events) {
        gboolean routed;

        qmp_events_set_sink(s->events, NULL);
        return next_by_events(s, &routed, where, waiting_for, err);
    }
    while (s->buf->len > 0) {
        json_object *obj;
        enum json_tokener_error jerr;
        size_t used;

        obj = json_tokener_parse_ex(s->tok, (const char *)s->buf->data,
                                    (int)MIN(s->buf->len, (guint)G_MAXINT));
        jerr = json_tokener_get_error(s->tok);
        used = json_tokener_get_parse_end(s->tok);
        consumed(s, used);
        if (obj) {
            json_tokener_reset(s->tok);
            s->msg_bytes = 0;
            s->msg_started = FALSE;
            return obj;
        }
        if (jerr != json_tokener_continue) {
            set_garbage_error(where, waiting_for,
                              json_tokener_error_desc(jerr), err);
            return NULL;
        }
        if (s->msg_bytes > s->max_message) {
            set_cap_error(s, where, err);
            return NULL;
        }
        if (used == 0)
            break; /* the tokener takes nothing more: wait for bytes */
    }
    return NULL;
}
