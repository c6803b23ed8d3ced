/* qmp-stream.c - split a QMP byte stream into JSON messages */
#include "errors.h"
#include "qmp-stream.h"

struct QmpStream {
    json_tokener *tok;
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

json_object *qmp_stream_next(QmpStream *s, const char *where,
                             const char *waiting_for, GError **err)
{
    while (s->buf->len > 0) {
        json_object *obj;
        enum json_tokener_error jerr;
        size_t used;

        obj = json_tokener_parse_ex(s->tok, (const char *)s->buf->data,
                                    (int)MIN(s->buf->len, (guint)G_MAXINT));
        jerr = json_tokener_get_error(s->tok);
        used = json_tokener_get_parse_end(s->tok);
        if (used > s->buf->len)
            used = s->buf->len;
        for (size_t i = 0; i < used && !s->msg_started; i++)
            if (!g_ascii_isspace(s->buf->data[i]))
                s->msg_started = TRUE;
        s->msg_bytes += used;
        g_byte_array_remove_range(s->buf, 0, (guint)used);
        if (obj) {
            json_tokener_reset(s->tok);
            s->msg_bytes = 0;
            s->msg_started = FALSE;
            return obj;
        }
        if (jerr != json_tokener_continue) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "garbage on %s while waiting for %s: %s (is this "
                        "really a QEMU QMP socket?)", where, waiting_for,
                        json_tokener_error_desc(jerr));
            return NULL;
        }
        if (s->msg_bytes > s->max_message) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "QMP message on %s exceeds %zu bytes; giving up",
                        where, s->max_message);
            return NULL;
        }
        if (used == 0)
            break; /* the tokener takes nothing more: wait for bytes */
    }
    return NULL;
}
