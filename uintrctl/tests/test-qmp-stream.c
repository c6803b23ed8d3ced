/* test-qmp-stream.c - framing of the QMP byte stream */
#include "errors.h"
#include "qmp-stream.h"
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

const UnitTest qmp_stream_tests[] = {
    { "pieces", pieces },
    { "unfinished", unfinished },
    { "garbage-and-cap", garbage_and_cap },
    { NULL, NULL },
};
