/* fuzz-query-uintr.c - a reply to query-uintr: decoding by events, the
 * rules on what decodes (two samples: the reply and the reply again),
 * and the check and show reports (to /dev/null).
 *
 * The reply is decoded twice: whole, as libvirt hands it over
 * (qmp_events_parse_text), and through a QmpStream in pieces whose
 * sizes (1..64 bytes) a hash of the input chooses, as the socket reads
 * it.  Whenever both give a reply, the decoded states (or the decoding
 * errors) must be the same. */
#include <stdio.h>
#include <stdlib.h>

#include "cpuid.h"
#include "errors.h"
#include "fuzz.h"
#include "qmp-events.h"
#include "qmp-stream.h"
#include "qmp.h"
#include "reports.h"
#include "rules.h"
#include "uintr-state.h"
#include "uintr-stream.h"

static FILE *devnull;

/* Two vCPUs as query-cpus-fast and qom-get would describe them. */
static GPtrArray *fake_cpus(void)
{
    GPtrArray *cpus = g_ptr_array_new_with_free_func(g_free);

    for (int i = 0; i < 2; i++) {
        VcpuState *v = g_new0(VcpuState, 1);

        v->cpu_index = i;
        v->qom_path = i ? "/machine/unattached/device[2]"
                        : "/machine/unattached/device[0]";
        v->enabled = TRUE;
        v->cpuid_bit = CPUID_BIT_SET;
        v->xsaves = CPUID_BIT_SET;
        v->xss_uintr = i ? CPUID_BIT_SET : CPUID_BIT_UNKNOWN;
        v->la57 = i ? CPUID_BIT_CLEAR : CPUID_BIT_UNKNOWN;
        g_ptr_array_add(cpus, v);
    }
    return cpus;
}

static void stream_reset(void *ctx)
{
    uintr_stream_reset(ctx);
}

/* The outcome of one decoding: NULL when there was no reply with
 * "return", else the decoded state as JSON text or the error message. */
static char *outcome(json_object *msg, gboolean routed, UintrStream *u,
                     GPtrArray **state)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(json_object) list = NULL;

    if (!msg || qmp_reply_parse("fuzz", msg, NULL, &err) < 0)
        return NULL;
    if (!routed)
        abort(); /* a "return" that did not go to the sink */
    *state = uintr_stream_finish(u, &err);
    if (!*state)
        return g_strdup(err->message);
    list = json_object_new_array();
    for (guint i = 0; i < (*state)->len; i++)
        json_object_array_add(list, uintr_vcpu_to_json((*state)->pdata[i]));
    return g_strdup(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
}

/* The first message of @text fed in pieces. */
static json_object *chunked(const uint8_t *data, size_t size,
                            const QmpReturnSink *sink, gboolean *routed)
{
    g_autoptr(QmpStream) s = qmp_stream_new(QMP_MAX_MESSAGE);
    guint32 h = 2166136261u;

    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    for (size_t off = 0; off <= size;) {
        g_autoptr(GError) err = NULL;
        size_t n = h % 64 + 1;
        json_object *msg;

        h = h * 1103515245u + 12345u;
        if (off < size)
            qmp_stream_feed(s, data + off, MIN(n, size - off));
        else
            qmp_stream_feed(s, "\n", 1); /* the end of a top-level number */
        off += off < size ? MIN(n, size - off) : 1;
        msg = qmp_stream_next_events(s, sink, routed, "fuzz", "a message",
                                     &err);
        if (msg || err)
            return msg;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_string(data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(json_object) whole = NULL;
    g_autoptr(json_object) pieces = NULL;
    g_autoptr(UintrStream) u1 = uintr_stream_new();
    g_autoptr(UintrStream) u2 = uintr_stream_new();
    const QmpReturnSink s1 = { &uintr_stream_callbacks, u1, stream_reset };
    const QmpReturnSink s2 = { &uintr_stream_callbacks, u2, stream_reset };
    g_autoptr(GPtrArray) state = NULL;
    g_autoptr(GPtrArray) state2 = NULL;
    g_autoptr(GPtrArray) cpus = NULL;
    g_autofree char *o1 = NULL;
    g_autofree char *o2 = NULL;
    gboolean r1 = FALSE, r2 = FALSE;
    UintrctlOptions opts = { .qmp_socket = "fuzz", .interval_ms = 200 };
    Session s = { 0 };

    if (!devnull)
        devnull = fopen("/dev/null", "w");
    whole = qmp_events_parse_text("fuzz", text, &s1, &r1, &err);
    o1 = outcome(whole, r1, u1, &state);
    pieces = chunked((const uint8_t *)text, strlen(text), &s2, &r2);
    o2 = outcome(pieces, r2, u2, &state2);
    if (o1 && o2 && strcmp(o1, o2) != 0) {
        fprintf(stderr, "whole: %s\npieces: %s\n", o1, o2);
        abort();
    }
    if (!state)
        return 0;
    cpus = fake_cpus();
    opts.out = out_new(OUT_TEXT, devnull, devnull);
    check_report(&opts, &s, cpus, state, state, NULL);
    show_report(&opts, &s, state);
    out_free(opts.out);
    opts.out = out_new(OUT_JSON, devnull, devnull);
    show_report(&opts, &s, state);
    out_free(opts.out);
    return 0;
}
