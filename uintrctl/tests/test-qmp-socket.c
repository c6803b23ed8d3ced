/* test-qmp-socket.c - the QMP socket client against a scripted fake QEMU
 *
 * A server thread listens on a unix socket in a temporary directory and
 * plays a script: send bytes (split as written, "@ID@" replaced by the
 * id of the last command received), receive one command (checking its
 * name), sleep, or close.  After the script it waits for the client to
 * hang up.  Server-side problems are collected and checked afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cpuid.h"
#include "errors.h"
#include "qmp.h"
#include "unit.h"

typedef enum {
    STEP_END = 0,
    STEP_SEND,
    STEP_RECV,
    STEP_SLEEP,
    STEP_CLOSE,
} StepKind;

typedef struct {
    StepKind kind;
    const char *arg;
    int ms;
} Step;

#define SEND(s) { STEP_SEND, (s), 0 }
#define RECV(cmd) { STEP_RECV, (cmd), 0 }
#define SLEEP(ms) { STEP_SLEEP, NULL, (ms) }
#define CLOSE() { STEP_CLOSE, NULL, 0 }
#define END() { STEP_END, NULL, 0 }

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, " \
    "\"minor\": 2, \"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, " \
    "\"capabilities\": [\"oob\"]}}\r\n"
#define OK_REPLY "{\"return\": {}, \"id\": \"@ID@\"}\r\n"
#define HANDSHAKE SEND(GREETING), RECV("qmp_capabilities"), SEND(OK_REPLY)
#define EVENT "{\"timestamp\": {\"seconds\": 1764020000, \"microseconds\": 1}, " \
    "\"event\": \"RESUME\"}\r\n"
#define CPUS1 "{\"return\": [{\"thread-id\": 16416, \"props\": {\"core-id\": 0, " \
    "\"thread-id\": 0, \"socket-id\": 0}, \"qom-path\": " \
    "\"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": " \
    "\"x86_64\"}], \"id\": \"@ID@\"}\r\n"

typedef struct {
    const Step *steps;
    char *dir;
    char *path;
    int listen_fd;
    GThread *thread;
    GString *errors;
    GPtrArray *received;
    char *last_id;
} FakeServer;

static void server_error(FakeServer *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void server_error(FakeServer *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(s->errors, fmt, ap);
    va_end(ap);
    g_string_append(s->errors, "; ");
}

static gboolean wait_fd(int fd, short events, int ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    int r;

    do {
        r = poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

static void server_send(FakeServer *s, int fd, const char *text)
{
    g_autofree char *id = g_strdup(s->last_id ? s->last_id : "");
    g_auto(GStrv) parts = g_strsplit(text, "@ID@", -1);
    g_autofree char *data = g_strjoinv(id, parts);
    size_t len = strlen(data), off = 0;

    while (off < len) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return; /* the client gave up (timeout tests): fine */
        if (n < 0) {
            server_error(s, "send: %s", g_strerror(errno));
            return;
        }
        off += (size_t)n;
    }
}

/* Read one newline-terminated command into @line. */
static gboolean server_recv(FakeServer *s, int fd, GString *buf,
                            const char *want)
{
    char *nl;
    json_object *cmd, *v;

    while (!(nl = strchr(buf->str, '\n'))) {
        char chunk[512];
        ssize_t n;

        if (!wait_fd(fd, POLLIN, 5000)) {
            server_error(s, "no command '%s' within 5 s", want ? want : "");
            return FALSE;
        }
        n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) {
            server_error(s, "client hung up before sending '%s'",
                         want ? want : "");
            return FALSE;
        }
        g_string_append_len(buf, chunk, n);
    }
    *nl = '\0';
    g_ptr_array_add(s->received, g_strdup(buf->str));
    cmd = json_tokener_parse(buf->str);
    g_string_erase(buf, 0, nl - buf->str + 1);
    if (!cmd) {
        server_error(s, "client sent invalid JSON");
        return FALSE;
    }
    if (json_object_object_get_ex(cmd, "id", &v)) {
        g_free(s->last_id);
        s->last_id = g_strdup(json_object_get_string(v));
    }
    if (want && (!json_object_object_get_ex(cmd, "execute", &v) ||
                 strcmp(json_object_get_string(v), want) != 0))
        server_error(s, "expected command '%s', got %s", want,
                     json_object_to_json_string(cmd));
    json_object_put(cmd);
    return TRUE;
}

static gpointer server_thread(gpointer opaque)
{
    FakeServer *s = opaque;
    g_autoptr(GString) buf = g_string_new(NULL);
    int fd;

    if (!wait_fd(s->listen_fd, POLLIN, 5000)) {
        server_error(s, "no client connected within 5 s");
        return NULL;
    }
    fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) {
        server_error(s, "accept: %s", g_strerror(errno));
        return NULL;
    }
    for (const Step *st = s->steps; st->kind != STEP_END; st++) {
        switch (st->kind) {
        case STEP_SEND:
            server_send(s, fd, st->arg);
            break;
        case STEP_RECV:
            if (!server_recv(s, fd, buf, st->arg))
                goto out;
            break;
        case STEP_SLEEP:
            g_usleep((gulong)st->ms * 1000);
            break;
        case STEP_CLOSE:
            goto out;
        case STEP_END:
            break;
        }
    }
    /* script done: wait (bounded) for the client to hang up */
    while (wait_fd(fd, POLLIN, 5000)) {
        char chunk[512];

        if (recv(fd, chunk, sizeof(chunk), 0) <= 0)
            break;
    }
out:
    close(fd);
    return NULL;
}

static FakeServer *server_start(const Step *steps)
{
    FakeServer *s = g_new0(FakeServer, 1);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autoptr(GError) err = NULL;

    s->steps = steps;
    s->errors = g_string_new(NULL);
    s->received = g_ptr_array_new_with_free_func(g_free);
    s->dir = g_dir_make_tmp("uintrctl-test-XXXXXX", &err);
    g_assert_no_error(err);
    s->path = g_build_filename(s->dir, "qmp.sock", NULL);
    g_strlcpy(addr.sun_path, s->path, sizeof(addr.sun_path));
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert(s->listen_fd >= 0);
    g_assert(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    g_assert(listen(s->listen_fd, 1) == 0);
    s->thread = g_thread_new("fake-qmp", server_thread, s);
    return s;
}

/* Join the server, check it had no complaints, clean up. */
static void server_finish(FakeServer *s)
{
    g_thread_join(s->thread);
    if (s->errors->len)
        unit_fail(__FILE__, __LINE__, "fake server: %s", s->errors->str);
    close(s->listen_fd);
    unlink(s->path);
    rmdir(s->dir);
    g_string_free(s->errors, TRUE);
    g_ptr_array_unref(s->received);
    g_free(s->last_id);
    g_free(s->path);
    g_free(s->dir);
    g_free(s);
}

/* --- tests --- */

static void handshake_and_gather(void)
{
    static const Step steps[] = {
        HANDSHAKE,
        RECV("query-cpus-fast"),
        SEND("{\"return\": [{\"cpu-index\": 1, \"qom-path\": \"/machine/unattached/device[2]\"},"
             " {\"cpu-index\": 0, \"qom-path\": \"/machine/unattached/device[0]\"}],"
             " \"id\": \"@ID@\"}\r\n"),
        RECV("qom-get"), SEND("{\"return\": true, \"id\": \"@ID@\"}\r\n"),
        RECV("qom-get"), SEND("{\"return\": [{\"cpuid-register\": \"EDX\", "
                              "\"cpuid-input-ecx\": 0, \"cpuid-input-eax\": 7, "
                              "\"features\": 32}], \"id\": \"@ID@\"}\r\n"),
        RECV("qom-get"), SEND("{\"return\": true, \"id\": \"@ID@\"}\r\n"),
        RECV("qom-get"), SEND("{\"return\": [], \"id\": \"@ID@\"}\r\n"),
        END(),
    };
    FakeServer *s = server_start(steps);
    g_autoptr(GError) err = NULL;
    QmpTransport *t = qmp_socket_open(s->path, 2000, &err);
    GPtrArray *v = NULL;

    CHECK(t != NULL);
    CHECK(err == NULL);
    if (t)
        v = cpuid_gather(t, "uintr", &err);
    CHECK(err == NULL);
    CHECK(v && v->len == 2);
    if (v && v->len == 2) {
        VcpuState *a = v->pdata[0], *b = v->pdata[1];

        CHECK(a->enabled && b->enabled);
        CHECK_INT(a->cpuid_bit, CPUID_BIT_SET);
        CHECK_INT(b->cpuid_bit, CPUID_BIT_UNKNOWN);
        CHECK_STR(b->qom_path, "/machine/unattached/device[2]");
    }
    qmp_transport_free(t);
    /* every command carried an id, and the first was the handshake */
    CHECK_INT(s->received->len, 6);
    for (guint i = 0; i < s->received->len; i++)
        CHECK_CONTAINS(s->received->pdata[i], "\"id\":\"uintrctl-");
    CHECK_STR(s->received->pdata[0],
              "{\"execute\":\"qmp_capabilities\",\"id\":\"uintrctl-1\"}");
    CHECK_CONTAINS(s->received->pdata[2], "\"property\":\"uintr\"");
    if (v)
        g_ptr_array_unref(v);
    server_finish(s);
}

/* Run the handshake + query-cpus-fast against @steps; return the error. */
static GError *run_query(const Step *steps, int timeout_ms, json_object **ret)
{
    FakeServer *s = server_start(steps);
    GError *err = NULL;
    QmpTransport *t = qmp_socket_open(s->path, timeout_ms, &err);

    if (t)
        qmp_execute(t, "query-cpus-fast", NULL, ret, &err);
    qmp_transport_free(t);
    server_finish(s);
    return err;
}

static void split_writes(void)
{
    static const Step steps[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": {\"mi"), SLEEP(30),
        SEND("cro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
             "\"capabilities\": []"), SLEEP(30),
        SEND("}}"), SLEEP(30), SEND("\r\n"),
        RECV("qmp_capabilities"),
        SEND("{\"ret"), SLEEP(20), SEND("urn\": {}, \"id\": \"@ID@\""),
        SLEEP(20), SEND("}"),
        RECV("query-cpus-fast"),
        /* one byte at a time for the start of the reply */
        SEND("{"), SLEEP(5), SEND("\""), SLEEP(5), SEND("r"), SLEEP(5),
        SEND("eturn\": [{\"cpu-index\": 0, \"qom-path\": \"/x\"}], \"id\": \"@ID@\"}"),
        END(),
    };
    json_object *ret = NULL;
    g_autoptr(GError) err = run_query(steps, 2000, &ret);

    CHECK(err == NULL);
    CHECK(json_object_is_type(ret, json_type_array));
    CHECK_INT(json_object_array_length(ret), 1);
    json_object_put(ret);
}

static void events_interleaved(void)
{
    static const Step steps[] = {
        SEND(GREETING),
        RECV("qmp_capabilities"),
        SEND(EVENT EVENT), SLEEP(20), SEND(OK_REPLY),
        RECV("query-cpus-fast"),
        /* an event and the reply in the same write, and a stale reply
         * to somebody else's command that must be skipped */
        SEND(EVENT "{\"return\": \"stale\", \"id\": \"other-7\"}\n" EVENT CPUS1),
        END(),
    };
    json_object *ret = NULL;
    g_autoptr(GError) err = run_query(steps, 2000, &ret);

    CHECK(err == NULL);
    CHECK(json_object_is_type(ret, json_type_array));
    json_object_put(ret);
}

static void reply_without_id(void)
{
    static const Step steps[] = {
        HANDSHAKE,
        RECV("query-cpus-fast"),
        SEND("{\"error\": {\"class\": \"GenericError\", \"desc\": "
             "\"JSON parse error, invalid keyword 'x'\"}}\n"),
        END(),
    };
    g_autoptr(GError) err = run_query(steps, 2000, NULL);

    CHECK(err && err->domain == QMP_REPLY_ERROR);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    if (err)
        CHECK_CONTAINS(err->message, "JSON parse error");
}

static void expect_error(const Step *steps, int timeout_ms, int code,
                         const char *msg_part)
{
    g_autoptr(GError) err = run_query(steps, timeout_ms, NULL);

    CHECK_ERR_EXIT(err, code);
    if (err && msg_part)
        CHECK_CONTAINS(err->message, msg_part);
}

static void garbage(void)
{
    static const Step not_json[] = {
        SEND("this is not JSON\r\n"), END(),
    };
    static const Step garbage_after_handshake[] = {
        HANDSHAKE, RECV("query-cpus-fast"), SEND("{\"return\": [}\r\n"), END(),
    };
    static const Step missing_comma[] = {
        HANDSHAKE, RECV("query-cpus-fast"), SEND("{\"return\": [1 2]}\r\n"), END(),
    };
    static const Step not_object[] = {
        HANDSHAKE, RECV("query-cpus-fast"), SEND("[1, 2, 3]\r\n"), END(),
    };
    static const Step neither[] = {
        HANDSHAKE, RECV("query-cpus-fast"), SEND("{\"hello\": 1}\r\n"), END(),
    };
    static const Step binary[] = {
        SEND("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), END(),
    };

    expect_error(not_json, 2000, UINTRCTL_EXIT_PROTOCOL, "garbage on QMP socket");
    expect_error(garbage_after_handshake, 2000, UINTRCTL_EXIT_PROTOCOL,
                 "garbage on QMP socket");
    expect_error(missing_comma, 2000, UINTRCTL_EXIT_PROTOCOL, "garbage");
    expect_error(not_object, 2000, UINTRCTL_EXIT_PROTOCOL,
                 "expected a JSON object, got array");
    expect_error(neither, 2000, UINTRCTL_EXIT_PROTOCOL,
                 "neither a reply nor an event");
    expect_error(binary, 2000, UINTRCTL_EXIT_PROTOCOL, "garbage");
}

static void bad_greeting(void)
{
    static const Step hmp[] = {
        SEND("QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) "),
        END(),
    };
    static const Step no_qmp_key[] = {
        SEND("{\"hello\": {}}\r\n"), END(),
    };
    static const Step caps_refused[] = {
        SEND(GREETING), RECV("qmp_capabilities"),
        SEND("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
             "\"Capabilities negotiation is already complete, command "
             "ignored\"}, \"id\": \"@ID@\"}\r\n"),
        END(),
    };

    expect_error(hmp, 2000, UINTRCTL_EXIT_PROTOCOL, "garbage");
    expect_error(no_qmp_key, 2000, UINTRCTL_EXIT_PROTOCOL, "QMP greeting");
    expect_error(caps_refused, 2000, UINTRCTL_EXIT_PROTOCOL,
                 "capabilities negotiation");
}

static void closed_sockets(void)
{
    static const Step before_greeting[] = { CLOSE(), END() };
    static const Step before_reply[] = {
        HANDSHAKE, RECV("query-cpus-fast"), CLOSE(), END(),
    };
    static const Step mid_reply[] = {
        HANDSHAKE, RECV("query-cpus-fast"),
        SEND("{\"return\": [{\"cpu-ind"), CLOSE(), END(),
    };
    static const Step after_event[] = {
        HANDSHAKE, RECV("query-cpus-fast"), SEND(EVENT), CLOSE(), END(),
    };

    expect_error(before_greeting, 2000, UINTRCTL_EXIT_CONNECT,
                 "closed by QEMU while waiting for the QMP greeting");
    expect_error(before_reply, 2000, UINTRCTL_EXIT_CONNECT,
                 "closed by QEMU while waiting for the reply to 'query-cpus-fast'");
    expect_error(mid_reply, 2000, UINTRCTL_EXIT_PROTOCOL, "truncated reply");
    expect_error(after_event, 2000, UINTRCTL_EXIT_CONNECT, "closed by QEMU");
}

static void silence_times_out(void)
{
    static const Step no_greeting[] = { END() };
    static const Step no_reply[] = {
        HANDSHAKE, RECV("query-cpus-fast"), END(),
    };
    static const Step half_reply[] = {
        HANDSHAKE, RECV("query-cpus-fast"), SEND("{\"return\": "), END(),
    };
    /* events keep coming, but the reply never does: the deadline is
     * per command, not per message */
    static const Step chatty[] = {
        HANDSHAKE, RECV("query-cpus-fast"),
        SEND(EVENT), SLEEP(100), SEND(EVENT), SLEEP(100), SEND(EVENT),
        SLEEP(100), SEND(EVENT), SLEEP(100), SEND(EVENT), SLEEP(100),
        END(),
    };
    const Step *scripts[] = { no_greeting, no_reply, half_reply, chatty };

    for (size_t i = 0; i < G_N_ELEMENTS(scripts); i++) {
        gint64 start = g_get_monotonic_time();
        g_autoptr(GError) err = run_query(scripts[i], 300, NULL);
        gint64 ms = (g_get_monotonic_time() - start) / 1000;

        CHECK_ERR_EXIT(err, UINTRCTL_EXIT_CONNECT);
        if (err)
            CHECK_CONTAINS(err->message, "timed out after 300 ms");
        if (ms < 290 || ms > 3000)
            unit_fail(__FILE__, __LINE__, "script %zu: timeout took %" G_GINT64_FORMAT
                      " ms, want about 300", i, ms);
    }
}

static void connect_errors(void)
{
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_autofree char *dir = g_dir_make_tmp("uintrctl-test-XXXXXX", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.sock", NULL);
    g_autofree char *dead = g_build_filename(dir, "dead.sock", NULL);
    g_autofree char *longpath = g_strnfill(200, 'x');
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    CHECK(qmp_socket_open(missing, 1000, &e1) == NULL);
    CHECK_ERR_EXIT(e1, UINTRCTL_EXIT_CONNECT);
    if (e1)
        CHECK_CONTAINS(e1->message, "No such file or directory");

    /* bound but not listening: connection refused */
    g_strlcpy(addr.sun_path, dead, sizeof(addr.sun_path));
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    CHECK(qmp_socket_open(dead, 1000, &e2) == NULL);
    CHECK_ERR_EXIT(e2, UINTRCTL_EXIT_CONNECT);
    if (e2)
        CHECK_CONTAINS(e2->message, "Connection refused");
    close(fd);

    CHECK(qmp_socket_open(longpath, 1000, &e3) == NULL);
    CHECK_ERR_EXIT(e3, UINTRCTL_EXIT_USAGE);
    unlink(dead);
    rmdir(dir);
}

const UnitTest qmp_socket_tests[] = {
    { "handshake-and-gather", handshake_and_gather },
    { "split-writes", split_writes },
    { "events-interleaved", events_interleaved },
    { "reply-without-id", reply_without_id },
    { "garbage", garbage },
    { "bad-greeting", bad_greeting },
    { "closed-sockets", closed_sockets },
    { "silence-times-out", silence_times_out },
    { "connect-errors", connect_errors },
    { NULL, NULL },
};
