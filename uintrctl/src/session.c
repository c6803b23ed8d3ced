/* session.c - operands, connection and domain XML for every command */
#include <stdlib.h>
#include <string.h>

#include "cpumodel.h"
#include "cpuid.h"
#include "errors.h"
#include "session.h"
#include "virt.h"

json_object *json_string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static int open_qmp(UintrctlOptions *opts, Session *s)
{
    g_autoptr(GError) err = NULL;

    s->t = qmp_socket_open(opts->qmp_socket, opts->timeout_ms, &err);
    if (!s->t)
        return out_error(opts->out, err);
    return -1;
}

static int open_libvirt(UintrctlOptions *opts, gboolean want_xml, Session *s)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autofree char *xml = NULL;
    char *uri;
    int active;

    virt_init();
    if (!(conn = virt_connect(opts->uri, &err)) ||
        !(dom = virt_lookup(conn, s->domain, &err)))
        return out_error(opts->out, err);
    /* libvirt allocates with malloc: copy into GLib memory */
    uri = virConnectGetURI(conn);
    s->uri = g_strdup(uri ? uri : opts->uri);
    free(uri);
    if (want_xml) {
        if (!(xml = virt_domain_xml(dom, s->domain, opts->inactive, &err)) ||
            domxml_parse(xml, UINTR_PROPERTY, &s->dom, &err) < 0)
            return out_error(opts->out, err);
        s->has_dom = TRUE;
    }
    active = virDomainIsActive(dom);
    if (active == 0)
        g_set_error(&err, UINTRCTL_ERROR, UINTRCTL_EXIT_NOT_RUNNING,
                    "domain '%s' is not running, so its vCPUs cannot be "
                    "queried; start it first ('virsh start %s')", s->domain,
                    s->domain);
    else if (active < 0)
        virt_set_error(&err, UINTRCTL_EXIT_FAILURE,
                       "cannot tell whether domain '%s' is running",
                       s->domain);
    else
        s->t = qmp_libvirt_open(dom, &err);
    if (!s->t)
        return out_error(opts->out, err);
    /* no <feature name='uintr'>: what does the CPU model say? */
    if (want_xml)
        cpumodel_expand(conn, &s->dom, UINTR_PROPERTY);
    return -1;
}

int session_open(UintrctlOptions *opts, int argc, char **argv,
                 gboolean want_xml, Session *s)
{
    const char *cmd = argv[0];

    memset(s, 0, sizeof(*s));
    if (opts->qmp_socket) {
        if (argc != 1)
            return out_usage_error(opts->out, "'%s' takes no DOMAIN with "
                                   "--qmp (got '%s')", cmd, argv[1]);
        if (opts->inactive)
            return out_usage_error(opts->out, "--inactive needs libvirt "
                                   "mode; there is no domain XML with --qmp");
        return open_qmp(opts, s);
    }
    if (argc != 2)
        return out_usage_error(opts->out, argc < 2
                               ? "'%s' needs a DOMAIN (or --qmp SOCKET)"
                               : "'%s' takes exactly one DOMAIN", cmd);
    if (opts->inactive && !want_xml)
        return out_usage_error(opts->out, "'%s' does not read the domain "
                               "XML; --inactive does not apply", cmd);
    s->domain = argv[1];
    return open_libvirt(opts, want_xml, s);
}

void session_close(Session *s)
{
    g_clear_pointer(&s->t, qmp_transport_free);
    g_clear_pointer(&s->uri, g_free);
    if (s->has_dom)
        domxml_clear(&s->dom);
    s->has_dom = FALSE;
}

int session_run(UintrctlOptions *opts, int argc, char **argv,
                gboolean want_xml, SessionFn fn)
{
    Session s;
    int rc = session_open(opts, argc, argv, want_xml, &s);

    if (rc < 0)
        rc = fn(opts, &s);
    session_close(&s);
    return rc;
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static char *policy_text(const DomCpuInfo *dom)
{
    if (dom->policy)
        return dom->policy_defaulted
                   ? g_strdup_printf("%s (default)", dom->policy)
                   : g_strdup(dom->policy);
    switch (dom->model_feature) {
    case DOMXML_MODEL_INCLUDES:
    case DOMXML_MODEL_LACKS:
        return g_strdup_printf(
            "none, from CPU model %s (libvirt: %s uintr): expect %s",
            dom->cpu_model,
            dom->model_feature == DOMXML_MODEL_INCLUDES
                ? "includes" : "does not include",
            dom->model_feature == DOMXML_MODEL_INCLUDES ? "on" : "off");
    case DOMXML_MODEL_UNKNOWN:
        return g_strdup_printf(
            "none (not requested); cannot tell whether CPU model %s "
            "includes uintr (%s): nothing expected",
            or_dash(dom->cpu_model), or_dash(dom->model_error));
    case DOMXML_MODEL_NOT_ASKED:
    default:
        return g_strdup("none (not requested)");
    }
}

void session_print_header(UintrctlOptions *opts, const Session *s)
{
    const DomCpuInfo *dom = &s->dom;
    g_autofree char *policy = NULL;

    if (!s->domain) {
        out_text(opts->out, "QMP socket %s: uintr expect=%s", opts->qmp_socket,
                 cpuid_expect_name(opts->expect));
        return;
    }
    if (!s->has_dom) {
        out_text(opts->out, "domain %s (%s)", s->domain, or_dash(s->uri));
        return;
    }
    policy = policy_text(dom);
    if (dom->has_cpu)
        out_text(opts->out, "domain %s (%s): cpu mode=%s model=%s check=%s, "
                 "uintr policy=%s", s->domain, s->uri, or_dash(dom->cpu_mode),
                 or_dash(dom->cpu_model), or_dash(dom->cpu_check), policy);
    else
        out_text(opts->out, "domain %s (%s): no <cpu> element (hypervisor "
                 "default CPU), uintr policy=%s", s->domain, s->uri, policy);
}

json_object *session_source_json(UintrctlOptions *opts, const Session *s)
{
    json_object *src = json_object_new_object();

    if (!s->domain) {
        json_object_object_add(src, "type", json_object_new_string("qmp"));
        json_object_object_add(src, "socket",
                               json_object_new_string(opts->qmp_socket));
        return src;
    }
    json_object_object_add(src, "type", json_object_new_string("libvirt"));
    json_object_object_add(src, "uri", json_string_or_null(s->uri));
    json_object_object_add(src, "domain", json_object_new_string(s->domain));
    if (s->has_dom)
        json_object_object_add(src, "xml", json_object_new_string(
                                   opts->inactive ? "inactive" : "live"));
    return src;
}
