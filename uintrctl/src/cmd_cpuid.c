/* cmd_cpuid.c - "uintrctl cpuid": is uintr (CPUID.7.0:EDX[5]) on?
 *
 *   uintrctl [-c URI] cpuid DOMAIN      libvirt: QMP through libvirtd,
 *                                       compared with the domain XML
 *   uintrctl --qmp SOCKET cpuid         a QEMU's QMP socket directly
 *
 * query-cpus-fast lists the vCPUs; qom-get of each vCPU's "uintr"
 * property says whether the bit is set, and its "feature-words" give
 * the raw CPUID word as a cross-check.  What the domain XML asks is the
 * policy of its <feature name='uintr'>, or without one what its CPU
 * model includes (cpumodel.h).
 */
#include "cpuid.h"
#include "errors.h"
#include "output.h"
#include "session.h"
#include "uintrctl.h"

const char cmd_cpuid_synopsis[] =
    "[-c URI] cpuid DOMAIN\n"
    "--qmp SOCKET cpuid";
const char cmd_cpuid_summary[] =
    "show whether each vCPU has uintr (CPUID.7.0:EDX[5]) on, and check\n"
    "that against the domain XML (the uintr <feature> policy, or else what\n"
    "its CPU model includes) and --expect";

static json_object *vcpus_to_json(GPtrArray *vcpus)
{
    json_object *arr = json_object_new_array();

    for (guint i = 0; i < vcpus->len; i++) {
        VcpuState *v = vcpus->pdata[i];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "cpu-index", json_object_new_int(v->cpu_index));
        json_object_object_add(o, "qom-path", json_object_new_string(v->qom_path));
        json_object_object_add(o, "uintr", json_object_new_boolean(v->enabled));
        json_object_object_add(o, "cpuid-bit",
                               v->cpuid_bit == CPUID_BIT_UNKNOWN
                                   ? NULL
                                   : json_object_new_boolean(v->cpuid_bit ==
                                                             CPUID_BIT_SET));
        json_object_array_add(arr, o);
    }
    return arr;
}

static const OutColumn vcpu_columns[] = {
    { "vCPU", "cpu-index", NULL },
    { "qom-path", "qom-path", NULL },
    { "uintr", "uintr", out_fmt_enabled },
    { "CPUID.7.0:EDX[5]", "cpuid-bit", out_fmt_bit },
};

static json_object *build_document(UintrctlOptions *opts, const Session *s,
                                   GPtrArray *vcpus, const CpuidVerdict *v)
{
    const DomCpuInfo *dom = s->has_dom ? &s->dom : NULL;
    json_object *doc = json_object_new_object();
    json_object *uintr = json_object_new_object();
    json_object *res = json_object_new_object();
    json_object *model = NULL;

    json_object_object_add(doc, "source", session_source_json(opts, s));
    if (dom) {
        json_object *cpu = NULL;

        if (dom->has_cpu) {
            cpu = json_object_new_object();
            json_object_object_add(cpu, "mode", json_string_or_null(dom->cpu_mode));
            json_object_object_add(cpu, "model", json_string_or_null(dom->cpu_model));
            json_object_object_add(cpu, "match", json_string_or_null(dom->cpu_match));
            json_object_object_add(cpu, "check", json_string_or_null(dom->cpu_check));
        }
        json_object_object_add(doc, "cpu", cpu);
        json_object_object_add(uintr, "policy", json_string_or_null(dom->policy));
        json_object_object_add(uintr, "policy-defaulted",
                               json_object_new_boolean(dom->policy_defaulted));
        json_object_object_add(uintr, "requested", json_object_new_string(
                                   domxml_request_name(dom->request)));
        if (dom->model_feature != DOMXML_MODEL_NOT_ASKED) {
            model = json_object_new_object();
            json_object_object_add(model, "name",
                                   json_string_or_null(dom->cpu_model));
            json_object_object_add(model, "includes",
                dom->model_feature == DOMXML_MODEL_UNKNOWN
                    ? NULL
                    : json_object_new_boolean(dom->model_feature ==
                                              DOMXML_MODEL_INCLUDES));
            json_object_object_add(model, "error",
                                   json_string_or_null(dom->model_error));
        }
    }
    json_object_object_add(uintr, "expect", json_object_new_string(
                               cpuid_expect_name(opts->expect)));
    json_object_object_add(uintr, "expected", json_object_new_string(
                               cpuid_expect_name(v->expected)));
    json_object_object_add(uintr, "expected-from", json_object_new_string(
                               cpuid_expect_from_name(v->expected_from)));
    if (dom)
        json_object_object_add(uintr, "model", model);
    json_object_object_add(doc, "uintr", uintr);
    json_object_object_add(doc, "vcpus", vcpus_to_json(vcpus));
    json_object_object_add(res, "ok", json_object_new_boolean(v->exit_code == 0));
    json_object_object_add(res, "code", json_object_new_int(v->exit_code));
    json_object_object_add(res, "name", json_object_new_string(
                               uintrctl_exit_name(v->exit_code)));
    json_object_object_add(res, "message", json_object_new_string(v->message));
    json_object_object_add(doc, "result", res);
    return doc;
}

/* Gather, decide, print. */
static int cpuid_report(UintrctlOptions *opts, const Session *s)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) vcpus = cpuid_gather(s->t, UINTR_PROPERTY, &err);
    CpuidVerdict v;
    json_object *doc, *rows;

    if (!vcpus)
        return out_error(opts->out, err);
    cpuid_verdict(vcpus, s->has_dom ? &s->dom : NULL, opts->expect, &v);
    doc = build_document(opts, s, vcpus, &v);
    session_print_header(opts, s);
    json_object_object_get_ex(doc, "vcpus", &rows);
    out_table(opts->out, vcpu_columns, G_N_ELEMENTS(vcpu_columns), rows);
    out_document(opts->out, doc);
    json_object_put(doc);
    if (v.exit_code != UINTRCTL_EXIT_OK)
        out_note(opts->out, "mismatch", v.message);
    cpuid_verdict_clear(&v);
    return v.exit_code;
}

int cmd_cpuid(UintrctlOptions *opts, int argc, char **argv)
{
    return session_run(opts, argc, argv, TRUE, cpuid_report);
}
