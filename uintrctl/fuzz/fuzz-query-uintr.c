/* fuzz-query-uintr.c - a reply to query-uintr: decoding, the rules on
 * what decodes (two samples: the reply and the reply again), and the
 * check and show reports (to /dev/null) */
#include <stdio.h>

#include "cpuid.h"
#include "errors.h"
#include "fuzz.h"
#include "qmp.h"
#include "reports.h"
#include "rules.h"
#include "uintr-state.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_string(data, size);
    g_autoptr(GError) err = NULL;
    g_autoptr(json_object) reply = NULL;
    g_autoptr(json_object) ret = NULL;
    g_autoptr(GPtrArray) state = NULL;
    g_autoptr(GPtrArray) cpus = NULL;
    UintrctlOptions opts = { .qmp_socket = "fuzz", .interval_ms = 200 };
    Session s = { 0 };

    if (!devnull)
        devnull = fopen("/dev/null", "w");
    reply = qmp_json_parse("fuzz", text, &err);
    if (!reply || qmp_reply_parse("fuzz", reply, &ret, &err) < 0)
        return 0;
    state = uintr_state_parse(ret, &err);
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
