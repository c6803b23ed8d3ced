/* test-qmp-stream.c - framing of the QMP byte stream */
#include "errors.h"
#include "qmp-events.h"
#include "qmp-stream.h"
#include "uintr-state.h"
#include "uintr-stream.h"
#include "unit.h"

/* Feed @text in pieces of @chunk bytes; count the messages. */
static int count_messages(const char *text, size_t chunk, size_t cap,
                          GError **err)
{
    g_autoptr(QmpStream) s = qmp_stream_new(cap);
    size_t len = strlen(text);
    int n = 0;

    for (size_t off = 0; off < len; off += chunk) {
        json_object *o;

        qmp_stream_feed(s, text + off, MIN(chunk, len - off));
        while ((o = qmp_stream_next(s, "test", "a message", err))) {
            n++;
            json_object_put(o);
        }
        if (*err)
            return -1;
    }
    CHECK(!qmp_stream_in_message(s));
    return n;
}

static void pieces(void)
{
    const char *text = "{\"QMP\": {}}\r\n{\"return\": {}}\r\n  {\"event\": "
                       "\"X\"}{\"return\": [1, 2, \"a\\\"b\"]}\n";

    for (size_t chunk = 1; chunk < 70; chunk += 3) {
        g_autoptr(GError) err = NULL;

        CHECK_INT(count_messages(text, chunk, 1024, &err), 4);
        CHECK(err == NULL);
    }
}

static void unfinished(void)
{
    g_autoptr(QmpStream) s = qmp_stream_new(1024);
    g_autoptr(GError) err = NULL;

    qmp_stream_feed(s, "  \r\n", 4);
    CHECK(qmp_stream_next(s, "t", "m", &err) == NULL);
    CHECK(err == NULL);
    CHECK(!qmp_stream_in_message(s));
    qmp_stream_feed(s, "{\"ret", 5);
    CHECK(qmp_stream_next(s, "t", "m", &err) == NULL);
    CHECK(err == NULL);
    CHECK(qmp_stream_in_message(s));
}

static void garbage_and_cap(void)
{
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autofree char *big = g_strdup_printf("{\"return\": \"%0*d\"}", 2000, 0);

    CHECK_INT(count_messages("{\"a\": 1} }", 4, 1024, &e1), -1);
    CHECK_ERR_EXIT(e1, UINTRCTL_EXIT_PROTOCOL);
    if (e1)
        CHECK_CONTAINS(e1->message, "garbage on test while waiting for a message");
    CHECK_INT(count_messages(big, 100, 1024, &e2), -1);
    CHECK_ERR_EXIT(e2, UINTRCTL_EXIT_PROTOCOL);
    if (e2)
        CHECK_CONTAINS(e2->message, "exceeds 1024 bytes");
}

static void stream_reset(void *ctx)
{
    uintr_stream_reset(ctx);
}

/* The decoded state as one JSON text, for comparing. */
static char *state_text(GPtrArray *vcpus)
{
    g_autoptr(json_object) list = json_object_new_array();

    for (guint i = 0; vcpus && i < vcpus->len; i++)
        json_object_array_add(list, uintr_vcpu_to_json(vcpus->pdata[i]));
    return g_strdup(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
}

/* A query-uintr reply, after an event, through a QmpStream in pieces of
 * @chunk bytes: the decoded state, or NULL with @err. */
static GPtrArray *decode_chunked(const char *reply, size_t chunk, GError **err)
{
    g_autoptr(QmpStream) s = qmp_stream_new(QMP_MAX_MESSAGE);
    g_autoptr(UintrStream) u = uintr_stream_new();
    const QmpReturnSink sink = { &uintr_stream_callbacks, u, stream_reset };
    g_autofree char *text = g_strconcat("{\"event\": \"X\", \"data\": {}}\r\n",
                                        reply, "\r\n", NULL);
    size_t len = strlen(text);
    int messages = 0;
    gboolean routed = FALSE;

    for (size_t off = 0; off < len; off += chunk) {
        json_object *o;

        qmp_stream_feed(s, text + off, MIN(chunk, len - off));
        while ((o = qmp_stream_next_events(s, &sink, &routed, "test",
                                           "a message", err))) {
            messages++;
            CHECK(routed == (messages == 2));
            json_object_put(o);
        }
        if (*err)
            return NULL;
    }
    CHECK_INT(messages, 2);
    return uintr_stream_finish(u, err);
}

static void uintr_chunks(void)
{
    const char *files[] = {
        "query-uintr-xapic.json", "query-uintr-x2apic.json",
        "query-uintr-idle.json",
    };

    for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
        g_autofree char *reply = unit_read_data(files[f]);
        g_autoptr(GError) e1 = NULL;
        g_autoptr(GError) e2 = NULL;
        g_autoptr(GError) e3 = NULL;
        g_autoptr(json_object) msg = NULL;
        g_autoptr(GPtrArray) one = NULL;
        g_autoptr(GPtrArray) bytes = NULL;
        g_autoptr(UintrStream) u = uintr_stream_new();
        const QmpReturnSink sink = { &uintr_stream_callbacks, u, stream_reset };
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;
        gboolean routed = FALSE;

        g_strchomp(reply);
        /* one piece, as libvirt hands the reply over */
        msg = qmp_events_parse_text("test", reply, &sink, &routed, &e1);
        CHECK(msg != NULL && routed);
        one = uintr_stream_finish(u, &e2);
        CHECK(one != NULL && e2 == NULL);
        /* one byte at a time, as a socket could */
        bytes = decode_chunked(reply, 1, &e3);
        CHECK(bytes != NULL && e3 == NULL);
        a = state_text(one);
        b = state_text(bytes);
        CHECK(one && one->len > 0);
        CHECK_STR(a, b);
    }
}

/* Decoding errors do not depend on the pieces either. */
static void uintr_chunks_errors(void)
{
    const char *replies[] = {
        "{\"return\": [{\"cpu-index\": -1}]}",
        "{\"return\": {}}",
        "{\"return\": []}",
        "{\"return\": [1, {\"cpu-index\": 0}]}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(replies); i++) {
        g_autoptr(GError) e1 = NULL;
        g_autoptr(GError) e2 = NULL;
        g_autoptr(GError) e3 = NULL;
        g_autoptr(GPtrArray) a = decode_chunked(replies[i], 1, &e1);
        g_autoptr(GPtrArray) b = decode_chunked(replies[i], 1000, &e2);
        g_autoptr(json_object) tree = qmp_json_parse("t", replies[i], &e3);
        json_object *ret = NULL;
        g_autoptr(GError) e4 = NULL;
        g_autoptr(GPtrArray) c = NULL;

        json_object_object_get_ex(tree, "return", &ret);
        c = uintr_state_parse(ret, &e4);
        CHECK(!a && !b && !c && e1 && e2 && e4);
        if (e1 && e2 && e4) {
            CHECK_CONTAINS(e1->message, "malformed reply to 'query-uintr'");
            CHECK_STR(e1->message, e2->message);
            CHECK_STR(e1->message, e4->message);
        }
    }
}

const UnitTest qmp_stream_tests[] = {
    { "uintr-chunks", uintr_chunks },
    { "uintr-chunks-errors", uintr_chunks_errors },
    { "pieces", pieces },
    { "unfinished", unfinished },
    { "garbage-and-cap", garbage_and_cap },
    { NULL, NULL },
};
