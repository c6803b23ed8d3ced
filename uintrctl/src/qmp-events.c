/* qmp-events.c - one QMP message parsed by events (yajl) */
#define _GNU_SOURCE /* strnlen */
#include <string.h>

#include "errors.h"
#include "qmp-events.h"

/* json-c's JSON_TOKENER_DEFAULT_DEPTH: 32 nested containers, not 33 */
#define JSONC_MAX_DEPTH 32

/* A json-c container being built, and its key in its parent. */
typedef struct {
    json_object *obj;
    char *key;
} Level;

struct QmpEvents {
    QmpReturnSink sink;
    gboolean has_sink;
    yajl_handle h;
    GArray *levels;        /* of Level: the json-c containers open */
    char *key;             /* the key of the next value in levels' top */
    int depth;             /* containers open, routed ones included */
    gboolean routing;      /* inside the "return" value */
    gboolean routed;       /* this message's "return" went to the sink */
    gboolean torn;         /* ... but the sink changed in the middle */
    gboolean done;
    json_object *msg;
    const char *error;     /* our own refusal (nesting) */
};

static const yajl_callbacks message_callbacks;

static void level_clear(gpointer p)
{
    Level *l = p;

    json_object_put(l->obj);
    g_free(l->key);
}

void qmp_events_reset(QmpEvents *p)
{
    if (p->h)
        yajl_free(p->h);
    p->h = yajl_alloc(&message_callbacks, NULL, p);
    /* json-c does not check UTF-8 either */
    yajl_config(p->h, yajl_dont_validate_strings, 1);
    g_array_set_size(p->levels, 0);
    g_clear_pointer(&p->key, g_free);
    p->depth = 0;
    p->routing = p->routed = p->torn = p->done = FALSE;
    json_object_put(g_steal_pointer(&p->msg));
    p->error = NULL;
}

void qmp_events_set_sink(QmpEvents *p, const QmpReturnSink *sink)
{
    gboolean same = sink ? p->has_sink && p->sink.ctx == sink->ctx &&
                               p->sink.callbacks == sink->callbacks
                         : !p->has_sink;

    if (!same && p->routing)
        p->torn = TRUE;
    p->has_sink = sink != NULL;
    if (sink)
        p->sink = *sink;
}

QmpEvents *qmp_events_new(const QmpReturnSink *sink)
{
    QmpEvents *p = g_new0(QmpEvents, 1);

    p->levels = g_array_new(FALSE, FALSE, sizeof(Level));
    g_array_set_clear_func(p->levels, level_clear);
    qmp_events_set_sink(p, sink);
    qmp_events_reset(p);
    return p;
}

void qmp_events_free(QmpEvents *p)
{
    if (!p)
        return;
    yajl_free(p->h);
    g_array_unref(p->levels);
    g_free(p->key);
    json_object_put(p->msg);
    g_free(p);
}

/* --- the events --- */

/* Whether the sink takes this event: inside the "return" value. */
static gboolean to_sink(const QmpEvents *p)
{
    return p->routing && p->has_sink && !p->torn;
}

/* A complete value @v (consumed) at the current place; 0 (cancel the
 * parse) when it completes the message. */
static int add(QmpEvents *p, json_object *v)
{
    Level *l;

    if (p->depth == 0) {
        p->msg = v;
        p->done = TRUE;
        return 0;
    }
    l = &g_array_index(p->levels, Level, p->levels->len - 1);
    if (json_object_is_type(l->obj, json_type_array)) {
        json_object_array_add(l->obj, v);
    } else {
        json_object_object_add(l->obj, p->key ? p->key : "", v);
        g_clear_pointer(&p->key, g_free);
    }
    return 1;
}

/* The "return" value ended (at depth 1): its placeholder. */
static int routed_end(QmpEvents *p)
{
    p->routing = FALSE;
    if (p->torn)
        p->routed = FALSE;
    return add(p, NULL);
}

static int scalar(QmpEvents *p, json_object *v)
{
    if (p->routing) {
        json_object_put(v);
        return p->depth == 1 ? routed_end(p) : 1;
    }
    return add(p, v);
}

static int ev_null(void *ctx)
{
    QmpEvents *p = ctx;

    if (to_sink(p) && p->sink.callbacks->yajl_null)
        p->sink.callbacks->yajl_null(p->sink.ctx);
    return scalar(p, NULL);
}

static int ev_boolean(void *ctx, int b)
{
    QmpEvents *p = ctx;

    if (to_sink(p) && p->sink.callbacks->yajl_boolean)
        p->sink.callbacks->yajl_boolean(p->sink.ctx, b);
    return scalar(p, p->routing ? NULL : json_object_new_boolean(b));
}

/* A number as json-c's tokener makes it: a double (keeping its text)
 * with '.', 'e' or 'E'; else int64 if negative, uint64 above INT64_MAX,
 * saturated. */
static json_object *number(const char *text, size_t len)
{
    g_autofree char *t = g_strndup(text, len);
    guint64 u;

    if (strpbrk(t, ".eE"))
        return json_object_new_double_s(g_ascii_strtod(t, NULL), t);
    if (t[0] == '-')
        return json_object_new_int64(g_ascii_strtoll(t, NULL, 10));
    u = g_ascii_strtoull(t, NULL, 10);
    return u <= G_MAXINT64 ? json_object_new_int64((gint64)u)
                           : json_object_new_uint64(u);
}

static int ev_number(void *ctx, const char *text, size_t len)
{
    QmpEvents *p = ctx;

    if (to_sink(p) && p->sink.callbacks->yajl_number)
        p->sink.callbacks->yajl_number(p->sink.ctx, text, len);
    return scalar(p, p->routing ? NULL : number(text, len));
}

static int ev_string(void *ctx, const unsigned char *text, size_t len)
{
    QmpEvents *p = ctx;

    if (to_sink(p) && p->sink.callbacks->yajl_string)
        p->sink.callbacks->yajl_string(p->sink.ctx, text, len);
    return scalar(p, p->routing ? NULL
                                : json_object_new_string_len(
                                      (const char *)text, (int)len));
}

static int ev_key(void *ctx, const unsigned char *key, size_t len)
{
    QmpEvents *p = ctx;
    /* json-c keeps keys as C strings: an escaped NUL ends them */
    size_t klen = strnlen((const char *)key, len);

    if (p->routing) {
        if (to_sink(p) && p->sink.callbacks->yajl_map_key)
            p->sink.callbacks->yajl_map_key(p->sink.ctx, key, len);
        return 1;
    }
    g_free(p->key);
    p->key = g_strndup((const char *)key, klen);
    if (p->depth == 1 && strcmp(p->key, "return") == 0 && p->has_sink) {
        p->routing = p->routed = TRUE;
        p->torn = FALSE;
        p->sink.reset(p->sink.ctx);
    }
    return 1;
}

static int ev_start(QmpEvents *p, gboolean map)
{
    Level l;

    if (p->depth >= JSONC_MAX_DEPTH) {
        p->error = "nesting too deep";
        return 0;
    }
    p->depth++;
    if (p->routing) {
        if (to_sink(p)) {
            if (map && p->sink.callbacks->yajl_start_map)
                p->sink.callbacks->yajl_start_map(p->sink.ctx);
            else if (!map && p->sink.callbacks->yajl_start_array)
                p->sink.callbacks->yajl_start_array(p->sink.ctx);
        }
        return 1;
    }
    l.obj = map ? json_object_new_object() : json_object_new_array();
    l.key = g_steal_pointer(&p->key);
    g_array_append_val(p->levels, l);
    return 1;
}

static int ev_end(QmpEvents *p, gboolean map)
{
    Level *l;
    json_object *obj;

    p->depth--;
    if (p->routing) {
        if (to_sink(p)) {
            if (map && p->sink.callbacks->yajl_end_map)
                p->sink.callbacks->yajl_end_map(p->sink.ctx);
            else if (!map && p->sink.callbacks->yajl_end_array)
                p->sink.callbacks->yajl_end_array(p->sink.ctx);
        }
        return p->depth == 1 ? routed_end(p) : 1;
    }
    l = &g_array_index(p->levels, Level, p->levels->len - 1);
    obj = g_steal_pointer(&l->obj);
    g_free(p->key);
    p->key = g_steal_pointer(&l->key);
    g_array_set_size(p->levels, p->levels->len - 1);
    return add(p, obj);
}

static int ev_start_map(void *ctx)
{
    return ev_start(ctx, TRUE);
}

static int ev_end_map(void *ctx)
{
    return ev_end(ctx, TRUE);
}

static int ev_start_array(void *ctx)
{
    return ev_start(ctx, FALSE);
}

static int ev_end_array(void *ctx)
{
    return ev_end(ctx, FALSE);
}

static const yajl_callbacks message_callbacks = {
    .yajl_null = ev_null,
    .yajl_boolean = ev_boolean,
    .yajl_number = ev_number,
    .yajl_string = ev_string,
    .yajl_start_map = ev_start_map,
    .yajl_map_key = ev_key,
    .yajl_end_map = ev_end_map,
    .yajl_start_array = ev_start_array,
    .yajl_end_array = ev_end_array,
};

/* --- feeding --- */

/* yajl's complaint in json-c's words, where one fits. */
static const char *describe(yajl_handle h)
{
    static const struct {
        const char *yajl, *jsonc;
    } map[] = {
        { "invalid object key", "quoted object property name expected" },
        { "separated by a colon", "object property name separator ':' expected" },
        { "after array element", "array value separator ',' expected" },
        { "after key and value", "object value separator ',' expected" },
        { "malformed number", "number expected" },
        { "'\\' occurs before", "invalid string sequence" },
        { "after '\\u'", "invalid string sequence" },
        { "premature EOF", "unexpected end of data" },
    };
    unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
    const char *desc = "unexpected character";

    for (size_t i = 0; msg && i < G_N_ELEMENTS(map); i++) {
        if (strstr((const char *)msg, map[i].yajl)) {
            desc = map[i].jsonc;
            break;
        }
    }
    yajl_free_error(h, msg);
    return desc;
}

static QmpEventsStatus finished(QmpEvents *p, yajl_status st,
                                json_object **msg, gboolean *routed,
                                const char **desc)
{
    if (p->done) {
        *msg = g_steal_pointer(&p->msg);
        *routed = p->routed && !p->torn;
        qmp_events_reset(p);
        return QMP_EVENTS_DONE;
    }
    if (st != yajl_status_ok) {
        *desc = p->error ? p->error : describe(p->h);
        return QMP_EVENTS_ERROR;
    }
    return QMP_EVENTS_MORE;
}

QmpEventsStatus qmp_events_feed(QmpEvents *p, const void *data, size_t len,
                                size_t *used, json_object **msg,
                                gboolean *routed, const char **desc)
{
    const guint8 *b = data;
    size_t stop = 0;
    const char *stop_desc = NULL;
    QmpEventsStatus st;
    yajl_status ys;

    *msg = NULL;
    *routed = FALSE;
    /* bytes where json-c and yajl part: json-c takes NUL for the end of
     * the data, and vertical tab and form feed for no whitespace */
    for (; stop < len; stop++) {
        if (b[stop] == 0) {
            stop_desc = "unexpected end of data";
            break;
        }
        if (b[stop] == '\v' || b[stop] == '\f') {
            stop_desc = "unexpected character";
            break;
        }
    }
    ys = yajl_parse(p->h, b, stop);
    /* before finished(): a complete message resets the parser */
    *used = MIN(yajl_get_bytes_consumed(p->h), stop);
    st = finished(p, ys, msg, routed, desc);
    if (st == QMP_EVENTS_MORE)
        *used = stop;
    if (st == QMP_EVENTS_DONE)
        return st;
    if (st == QMP_EVENTS_MORE && stop_desc) {
        *desc = stop_desc;
        return QMP_EVENTS_ERROR;
    }
    return st;
}

QmpEventsStatus qmp_events_finish(QmpEvents *p, json_object **msg,
                                  gboolean *routed, const char **desc)
{
    QmpEventsStatus st;

    *msg = NULL;
    *routed = FALSE;
    st = finished(p, yajl_complete_parse(p->h), msg, routed, desc);
    if (st == QMP_EVENTS_MORE) {
        *desc = "unexpected end of data";
        return QMP_EVENTS_ERROR;
    }
    return st;
}

json_object *qmp_events_parse_text(const char *what, const char *text,
                                   const QmpReturnSink *sink,
                                   gboolean *routed, GError **err)
{
    g_autoptr(QmpEvents) p = qmp_events_new(sink);
    size_t len = strlen(text), used = 0;
    const char *desc = NULL;
    json_object *msg = NULL, *obj;
    QmpEventsStatus st;

    st = qmp_events_feed(p, text, len, &used, &msg, routed, &desc);
    if (st == QMP_EVENTS_MORE) {
        st = qmp_events_finish(p, &msg, routed, &desc);
        used = len;
    }
    if (st == QMP_EVENTS_DONE && msg) {
        for (; used < len; used++) {
            if (!g_ascii_isspace(text[used])) {
                json_object_put(msg);
                g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                            "malformed JSON in %s: unexpected data after "
                            "the JSON value at offset %zu", what, used);
                return NULL;
            }
        }
        return msg;
    }
    json_object_put(msg);
    *routed = FALSE;
    /* json-c's own words for it (this parses the text into a tree, but
     * only up to the error, and only on this error path) */
    obj = qmp_json_parse(what, text, err);
    if (obj) {
        /* one of the few texts json-c's strict mode takes and yajl not */
        json_object_put(obj);
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed JSON in %s: %s", what,
                    desc ? desc : "unexpected character");
    }
    return NULL;
}
