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
#include <stdlib.h>

#include "cpuid.h"
#include "cpumodel.h"
#include "domxml.h"
#include "errors.h"
#include "output.h"
#include "qmp.h"
#include "uintrctl.h"
#include "virt.h"

const char cmd_cpuid_synopsis[] =
    "[-c URI] cpuid DOMAIN\n"
    "--qmp SOCKET cpuid";
const char cmd_cpuid_summary[] =
    "show whether each vCPU has uintr (CPUID.7.0:EDX[5]) on, and check\n"
    "that against the domain XML (the uintr <feature> policy, or else what\n"
    "its CPU model includes) and --expect";

static json_object *json_string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

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

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static void print_header(UintrctlOptions *opts, const char *domain,
                         const char *uri, const DomCpuInfo *dom)
{
    g_autofree char *policy = NULL;

    if (!dom) {
        out_text(opts->out, "QMP socket %s: uintr expect=%s", opts->qmp_socket,
                 cpuid_expect_name(opts->expect));
        return;
    }
    if (!dom->policy) {
        switch (dom->model_feature) {
        case DOMXML_MODEL_INCLUDES:
        case DOMXML_MODEL_LACKS:
            policy = g_strdup_printf(
                "none, from CPU model %s (libvirt: %s uintr): expect %s",
                dom->cpu_model,
                dom->model_feature == DOMXML_MODEL_INCLUDES
                    ? "includes" : "does not include",
                dom->model_feature == DOMXML_MODEL_INCLUDES ? "on" : "off");
            break;
        case DOMXML_MODEL_UNKNOWN:
            policy = g_strdup_printf(
                "none (not requested); cannot tell whether CPU model %s "
                "includes uintr (%s): nothing expected",
                or_dash(dom->cpu_model), or_dash(dom->model_error));
            break;
        case DOMXML_MODEL_NOT_ASKED:
        default:
            policy = g_strdup("none (not requested)");
            break;
        }
    } else if (dom->policy_defaulted)
        policy = g_strdup_printf("%s (default)", dom->policy);
    else
        policy = g_strdup(dom->policy);
    if (dom->has_cpu)
        out_text(opts->out, "domain %s (%s): cpu mode=%s model=%s check=%s, "
                 "uintr policy=%s", domain, uri, or_dash(dom->cpu_mode),
                 or_dash(dom->cpu_model), or_dash(dom->cpu_check), policy);
    else
        out_text(opts->out, "domain %s (%s): no <cpu> element (hypervisor "
                 "default CPU), uintr policy=%s", domain, uri, policy);
}

static json_object *build_document(UintrctlOptions *opts, const char *domain,
                                   const char *uri, const DomCpuInfo *dom,
                                   GPtrArray *vcpus, const CpuidVerdict *v)
{
    json_object *doc = json_object_new_object();
    json_object *src = json_object_new_object();
    json_object *uintr = json_object_new_object();
    json_object *res = json_object_new_object();
    json_object *model = NULL;

    if (dom) {
        json_object *cpu = NULL;

        json_object_object_add(src, "type", json_object_new_string("libvirt"));
        json_object_object_add(src, "uri", json_string_or_null(uri));
        json_object_object_add(src, "domain", json_object_new_string(domain));
        json_object_object_add(src, "xml", json_object_new_string(
                                   opts->inactive ? "inactive" : "live"));
        if (dom->has_cpu) {
            cpu = json_object_new_object();
            json_object_object_add(cpu, "mode", json_string_or_null(dom->cpu_mode));
            json_object_object_add(cpu, "model", json_string_or_null(dom->cpu_model));
            json_object_object_add(cpu, "match", json_string_or_null(dom->cpu_match));
            json_object_object_add(cpu, "check", json_string_or_null(dom->cpu_check));
        }
        json_object_object_add(doc, "source", src);
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
    } else {
        json_object_object_add(src, "type", json_object_new_string("qmp"));
        json_object_object_add(src, "socket",
                               json_object_new_string(opts->qmp_socket));
        json_object_object_add(doc, "source", src);
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

/* Gather, decide, print.  @dom is NULL in --qmp mode. */
static int cpuid_report(UintrctlOptions *opts, QmpTransport *t,
                        const char *domain, const char *uri,
                        const DomCpuInfo *dom)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) vcpus = cpuid_gather(t, UINTR_PROPERTY, &err);
    CpuidVerdict v;
    json_object *doc, *rows;

    if (!vcpus)
        return out_error(opts->out, err);
    cpuid_verdict(vcpus, dom, opts->expect, &v);
    doc = build_document(opts, domain, uri, dom, vcpus, &v);
    print_header(opts, domain, uri, dom);
    json_object_object_get_ex(doc, "vcpus", &rows);
    out_table(opts->out, vcpu_columns, G_N_ELEMENTS(vcpu_columns), rows);
    out_document(opts->out, doc);
    json_object_put(doc);
    if (v.exit_code != UINTRCTL_EXIT_OK)
        out_note(opts->out, "mismatch", v.message);
    cpuid_verdict_clear(&v);
    return v.exit_code;
}

static int cpuid_qmp(UintrctlOptions *opts)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QmpTransport) t = qmp_socket_open(opts->qmp_socket,
                                                opts->timeout_ms, &err);

    if (!t)
        return out_error(opts->out, err);
    return cpuid_report(opts, t, NULL, NULL, NULL);
}

static int cpuid_libvirt(UintrctlOptions *opts, const char *name)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(QmpTransport) t = NULL;
    g_autofree char *xml = NULL;
    char *uri = NULL;
    DomCpuInfo info;
    int active;
    int rc;

    virt_init();
    if (!(conn = virt_connect(opts->uri, &err)) ||
        !(dom = virt_lookup(conn, name, &err)))
        return out_error(opts->out, err);
    {
        /* libvirt allocates with malloc: copy into GLib memory */
        char *tmp = virConnectGetURI(conn);

        uri = g_strdup(tmp ? tmp : opts->uri);
        free(tmp);
    }
    if (!(xml = virt_domain_xml(dom, name, opts->inactive, &err)) ||
        domxml_parse(xml, UINTR_PROPERTY, &info, &err) < 0) {
        g_free(uri);
        return out_error(opts->out, err);
    }
    active = virDomainIsActive(dom);
    if (active == 0)
        g_set_error(&err, UINTRCTL_ERROR, UINTRCTL_EXIT_NOT_RUNNING,
                    "domain '%s' is not running, so its vCPUs cannot be "
                    "queried; start it first ('virsh start %s')", name, name);
    else if (active < 0)
        virt_set_error(&err, UINTRCTL_EXIT_FAILURE,
                       "cannot tell whether domain '%s' is running", name);
    else
        t = qmp_libvirt_open(dom, &err);
    /* no <feature name='uintr'>: what does the CPU model say? */
    if (t)
        cpumodel_expand(conn, &info, UINTR_PROPERTY);
    if (!t)
        rc = out_error(opts->out, err);
    else
        rc = cpuid_report(opts, t, name, uri, &info);
    domxml_clear(&info);
    g_free(uri);
    return rc;
}

int cmd_cpuid(UintrctlOptions *opts, int argc, char **argv)
{
    if (opts->qmp_socket) {
        if (argc != 1)
            return out_usage_error(opts->out, "'cpuid' takes no DOMAIN with "
                                        "--qmp (got '%s')", argv[1]);
        if (opts->inactive)
            return out_usage_error(opts->out, "--inactive needs libvirt "
                                        "mode; there is no domain XML with "
                                        "--qmp");
        return cpuid_qmp(opts);
    }
    if (argc != 2)
        return out_usage_error(opts->out, argc < 2
                                    ? "'cpuid' needs a DOMAIN (or --qmp SOCKET)"
                                    : "'cpuid' takes exactly one DOMAIN");
    return cpuid_libvirt(opts, argv[1]);
}
