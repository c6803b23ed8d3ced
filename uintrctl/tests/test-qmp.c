/* test-qmp.c - reply interpretation, strict JSON parsing, fake transport */
#include "errors.h"
#include "qmp-events.h"
#include "qmp.h"
#include "unit.h"

/* --- the fake transport: replays recorded reply texts in order --- */

typedef struct {
    QmpTransport base;
    const char *const *replies;
    size_t next;
    GPtrArray *sent;
} FakeTransport;

static json_object *fake_exchange(QmpTransport *t, json_object *cmd,
                                  const QmpReturnSink *sink, gboolean *routed,
                                  GError **err)
{
    FakeTransport *f = (FakeTransport *)t;

    g_ptr_array_add(f->sent, g_strdup(json_object_to_json_string_ext(
                                 cmd, JSON_C_TO_STRING_PLAIN |
                                      JSON_C_TO_STRING_NOSLASHESCAPE)));
    if (!f->replies[f->next]) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_CONNECT,
                    "fake transport: script exhausted");
        return NULL;
    }
    /* like the libvirt back end: the reply is one JSON text */
    if (sink)
        return qmp_events_parse_text("fake reply", f->replies[f->next++],
                                     sink, routed, err);
    return qmp_json_parse("fake reply", f->replies[f->next++], err);
}

static void fake_free(QmpTransport *t)
{
    FakeTransport *f = (FakeTransport *)t;

    g_ptr_array_unref(f->sent);
    g_free(f);
}

static const QmpTransportOps fake_ops = {
    .name = "fake",
    .exchange = fake_exchange,
    .free = fake_free,
};

QmpTransport *fake_transport_new(const char *const *replies)
{
    FakeTransport *f = g_new0(FakeTransport, 1);

    f->base.ops = &fake_ops;
    f->base.description = g_strdup("fake QEMU");
    f->replies = replies;
    f->sent = g_ptr_array_new_with_free_func(g_free);
    return &f->base;
}

GPtrArray *fake_transport_sent(QmpTransport *t)
{
    return ((FakeTransport *)t)->sent;
}

/* --- qmp_json_parse --- */

static void json_parse_good(void)
{
    g_autoptr(GError) err = NULL;
    json_object *o = qmp_json_parse("t", "  {\"return\": {}}\r\n", &err);

    CHECK(o != NULL);
    CHECK(err == NULL);
    CHECK(json_object_is_type(o, json_type_object));
    json_object_put(o);
    /* a bare number at the very end of the text is complete */
    o = qmp_json_parse("t", "42", &err);
    CHECK(o != NULL && json_object_get_int(o) == 42);
    json_object_put(o);
}

static void expect_parse_error(const char *text, const char *msg_part)
{
    g_autoptr(GError) err = NULL;
    json_object *o = qmp_json_parse("t", text, &err);

    CHECK(o == NULL);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    if (err && msg_part)
        CHECK_CONTAINS(err->message, msg_part);
    json_object_put(o);
}

static void json_parse_garbage(void)
{
    expect_parse_error("{\"return\": [", "end of data");
    expect_parse_error("", NULL);
    expect_parse_error("hello", "malformed JSON");
    expect_parse_error("{\"return\": {}} trailing", "unexpected data");
    expect_parse_error("{\"return\": {}}{\"return\": {}}", "unexpected data");
    /* json-c accepts {'single': 'quotes'} and NaN even in strict mode
     * (QEMU's own parser takes single quotes too); the type checks of
     * the callers reject NaN where a number matters. */
    expect_parse_error("{\"return\": [1 2]}", "malformed JSON");
    expect_parse_error("{\"a\": 1,}", "malformed JSON");
    expect_parse_error("\x01\x02\x03", "malformed JSON");
}

/* --- qmp_reply_parse --- */

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);

    CHECK(o != NULL);
    return o;
}

static void reply_return(void)
{
    g_autoptr(GError) err = NULL;
    json_object *reply = parse("{\"return\": [1, 2], \"id\": \"x\"}");
    json_object *ret = NULL;

    CHECK_INT(qmp_reply_parse("cmd", reply, &ret, &err), 0);
    CHECK(err == NULL);
    CHECK(json_object_is_type(ret, json_type_array));
    CHECK_INT(json_object_array_length(ret), 2);
    json_object_put(ret);
    json_object_put(reply);
}

static void reply_error(void)
{
    g_autoptr(GError) err = NULL;
    json_object *reply = parse("{\"error\": {\"class\": \"DeviceNotFound\", "
                               "\"desc\": \"Device 'x' not found\"}}");
    json_object *ret = NULL;

    CHECK_INT(qmp_reply_parse("cmd", reply, &ret, &err), -1);
    CHECK(ret == NULL);
    CHECK(err && err->domain == QMP_REPLY_ERROR);
    CHECK(err && err->code == QMP_ERROR_CLASS_DEVICE_NOT_FOUND);
    CHECK_STR(err ? err->message : NULL, "Device 'x' not found");
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    json_object_put(reply);
}

static void reply_error_unknown_class(void)
{
    g_autoptr(GError) err = NULL;
    json_object *reply = parse("{\"error\": {\"class\": \"BrandNewError\", "
                               "\"desc\": \"d\"}}");

    CHECK_INT(qmp_reply_parse("cmd", reply, NULL, &err), -1);
    CHECK(err && err->domain == QMP_REPLY_ERROR &&
          err->code == QMP_ERROR_CLASS_OTHER);
    json_object_put(reply);
}

static void expect_malformed_reply(const char *text)
{
    g_autoptr(GError) err = NULL;
    json_object *reply = parse(text);
    json_object *ret = NULL;

    CHECK_INT(qmp_reply_parse("cmd", reply, &ret, &err), -1);
    CHECK(ret == NULL);
    CHECK(err && err->domain == UINTRCTL_ERROR);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    json_object_put(reply);
}

static void reply_malformed(void)
{
    expect_malformed_reply("[\"return\"]");
    expect_malformed_reply("\"return\"");
    expect_malformed_reply("{\"result\": 1}");
    expect_malformed_reply("{\"error\": \"boom\"}");
    expect_malformed_reply("{\"error\": {\"class\": \"GenericError\"}}");
    expect_malformed_reply("{\"error\": {\"class\": 1, \"desc\": \"x\"}}");
    expect_malformed_reply("{\"error\": {\"class\": \"GenericError\", "
                           "\"desc\": [\"x\"]}}");
}

static void property_not_found(void)
{
    g_autoptr(GError) e1 = g_error_new(QMP_REPLY_ERROR, QMP_ERROR_CLASS_GENERIC,
        "Property 'qemu64-x86_64-cpu.uintr' not found");
    g_autoptr(GError) e2 = g_error_new(QMP_REPLY_ERROR, QMP_ERROR_CLASS_GENERIC,
        "Property 'qemu64-x86_64-cpu.uintrx' not found");
    g_autoptr(GError) e3 = g_error_new(UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
        "Property 'qemu64-x86_64-cpu.uintr' not found");
    g_autoptr(GError) e4 = g_error_new(QMP_REPLY_ERROR, QMP_ERROR_CLASS_GENERIC,
        "Device 'x' not found");

    CHECK(qmp_error_is_property_not_found(e1, "uintr"));
    CHECK(!qmp_error_is_property_not_found(e2, "uintr"));
    CHECK(!qmp_error_is_property_not_found(e3, "uintr"));
    CHECK(!qmp_error_is_property_not_found(e4, "uintr"));
    CHECK(!qmp_error_is_property_not_found(NULL, "uintr"));
}

static void execute_builds_command(void)
{
    static const char *const replies[] = { "{\"return\": true}", NULL };
    g_autoptr(QmpTransport) t = fake_transport_new(replies);
    g_autoptr(GError) err = NULL;
    json_object *args = json_object_new_object();
    json_object *ret = NULL;
    json_object *sent;
    json_object *v;

    json_object_object_add(args, "path", json_object_new_string("/a/b"));
    CHECK_INT(qmp_execute(t, "qom-get", args, &ret, &err), 0);
    CHECK(json_object_get_boolean(ret));
    CHECK_INT(fake_transport_sent(t)->len, 1);
    sent = json_tokener_parse(fake_transport_sent(t)->pdata[0]);
    CHECK(json_object_object_get_ex(sent, "execute", &v));
    CHECK_STR(json_object_get_string(v), "qom-get");
    CHECK(json_object_object_get_ex(sent, "arguments", &v));
    CHECK(json_object_object_get_ex(v, "path", &v));
    CHECK_STR(json_object_get_string(v), "/a/b");
    /* no "id": libvirt adds its own and rejects a duplicate */
    CHECK(!json_object_object_get_ex(sent, "id", NULL));
    json_object_put(sent);
    json_object_put(ret);
    json_object_put(args);
}

static void execute_without_args(void)
{
    static const char *const replies[] = { "{\"return\": {}}", NULL };
    g_autoptr(QmpTransport) t = fake_transport_new(replies);
    g_autoptr(GError) err = NULL;

    CHECK_INT(qmp_execute(t, "qmp_capabilities", NULL, NULL, &err), 0);
    CHECK_STR(fake_transport_sent(t)->pdata[0],
              "{\"execute\":\"qmp_capabilities\"}");
}

static void exit_codes(void)
{
    g_autoptr(GError) a = g_error_new(UINTRCTL_ERROR, UINTRCTL_EXIT_NO_FEATURE, "x");
    g_autoptr(GError) b = g_error_new(QMP_REPLY_ERROR, QMP_ERROR_CLASS_GENERIC, "x");
    g_autoptr(GError) c = g_error_new(G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");

    CHECK_INT(uintrctl_exit_code(NULL), 0);
    CHECK_INT(uintrctl_exit_code(a), 6);
    CHECK_INT(uintrctl_exit_code(b), 5);
    CHECK_INT(uintrctl_exit_code(c), 8);
    CHECK_STR(uintrctl_exit_name(3), "no-domain");
    CHECK_STR(uintrctl_exit_name(42), "unknown");
}

const UnitTest qmp_tests[] = {
    { "json-parse-good", json_parse_good },
    { "json-parse-garbage", json_parse_garbage },
    { "reply-return", reply_return },
    { "reply-error", reply_error },
    { "reply-error-unknown-class", reply_error_unknown_class },
    { "reply-malformed", reply_malformed },
    { "property-not-found", property_not_found },
    { "execute-builds-command", execute_builds_command },
    { "execute-without-args", execute_without_args },
    { "exit-codes", exit_codes },
    { NULL, NULL },
};
