/* cpumodel.c - does the domain's CPU model include a feature? (libvirt) */
#include <stdlib.h>
#include <string.h>

#include "cpumodel.h"
#include "errors.h"
#include "virt.h"

gboolean cpumodel_applies(const DomCpuInfo *info)
{
    return info->has_cpu && !info->policy && info->cpu_model &&
           (!info->cpu_mode || strcmp(info->cpu_mode, "custom") == 0);
}

char *cpumodel_baseline_input(const DomCpuInfo *info, GError **err)
{
    g_autofree char *vendor = NULL;
    g_autofree char *head = NULL;

    if (!info->arch) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "the domain XML has no architecture "
                    "(/domain/os/type/@arch)");
        return NULL;
    }
    if (!info->cpu_model) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "the domain XML has no CPU model (/domain/cpu/model)");
        return NULL;
    }
    head = g_markup_printf_escaped("<cpu><arch>%s</arch><model>%s</model>",
                                   info->arch, info->cpu_model);
    if (info->cpu_vendor)
        vendor = g_markup_printf_escaped("<vendor>%s</vendor>",
                                         info->cpu_vendor);
    return g_strconcat(head, vendor ? vendor : "", "</cpu>", NULL);
}

#define MALFORMED(...) \
    g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL, \
                "malformed expanded CPU from libvirt: " __VA_ARGS__)

int cpumodel_parse_expanded(const char *xml, const char *feature,
                            gboolean *includes, GError **err)
{
    xmlDocPtr doc = domxml_read(xml, "expanded CPU from libvirt", "cpu", err);
    xmlChar *policy = NULL;
    unsigned nfeatures = 0, nmatch = 0;
    int ret = -1;

    *includes = FALSE;
    if (!doc)
        return -1;
    for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        xmlChar *name;

        if (n->type != XML_ELEMENT_NODE ||
            strcmp((const char *)n->name, "feature") != 0)
            continue;
        nfeatures++;
        name = xmlGetProp(n, BAD_CAST "name");
        if (!name) {
            MALFORMED("a <feature> has no name");
            goto out;
        }
        if (strcmp((const char *)name, feature) == 0) {
            nmatch++;
            xmlFree(policy);
            policy = xmlGetProp(n, BAD_CAST "policy");
        }
        xmlFree(name);
    }
    if (nfeatures == 0) {
        MALFORMED("it lists no <feature> (libvirt did not expand the "
                  "model's features)");
        goto out;
    }
    if (nmatch > 1) {
        MALFORMED("<feature name='%s'> appears %u times", feature, nmatch);
        goto out;
    }
    if (nmatch == 1) {
        DomxmlRequest r = DOMXML_FEATURE_ON; /* no policy: require */

        if (policy &&
            (!domxml_policy_request((const char *)policy, &r) ||
             r == DOMXML_FEATURE_OPTIONAL)) {
            MALFORMED("unexpected policy '%s' for feature '%s'",
                      (const char *)policy, feature);
            goto out;
        }
        *includes = r == DOMXML_FEATURE_ON;
    }
    ret = 0;
out:
    xmlFree(policy);
    xmlFreeDoc(doc);
    return ret;
}

void cpumodel_expand_with(DomCpuInfo *info, const char *feature,
                          CpumodelBaselineFn baseline, void *opaque)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *input = NULL;
    g_autofree char *expanded = NULL;
    gboolean includes = FALSE;

    info->model_feature = DOMXML_MODEL_NOT_ASKED;
    g_clear_pointer(&info->model_error, g_free);
    if (!cpumodel_applies(info))
        return;
    if (!(input = cpumodel_baseline_input(info, &err)) ||
        !(expanded = baseline(opaque, input, &err)) ||
        cpumodel_parse_expanded(expanded, feature, &includes, &err) < 0) {
        info->model_feature = DOMXML_MODEL_UNKNOWN;
        info->model_error = g_strdup(err ? err->message : "unknown error");
        g_strdelimit(info->model_error, "\r\n", ' ');
        return;
    }
    info->model_feature = includes ? DOMXML_MODEL_INCLUDES
                                   : DOMXML_MODEL_LACKS;
}

char *cpumodel_baseline_libvirt(void *opaque, const char *cpu_xml,
                                GError **err)
{
    const char *cpus[] = { cpu_xml };
    char *xml = virConnectBaselineCPU(opaque, cpus, 1,
                                      VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES);
    char *ret;

    if (!xml) {
        virt_set_error(err, UINTRCTL_EXIT_FAILURE,
                       "virConnectBaselineCPU failed");
        return NULL;
    }
    /* libvirt allocates with malloc: copy into GLib memory */
    ret = g_strdup(xml);
    free(xml);
    return ret;
}

void cpumodel_expand(virConnectPtr conn, DomCpuInfo *info,
                     const char *feature)
{
    cpumodel_expand_with(info, feature, cpumodel_baseline_libvirt, conn);
}
