/* domxml.c - parse the <cpu> element of a libvirt domain XML (libxml2) */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domxml.h"
#include "errors.h"

/* Evaluate @expr (an XPath string() expression); NULL if it is empty. */
static char *xpath_string(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    char *ret = NULL;

    if (obj && obj->type == XPATH_STRING && obj->stringval &&
        obj->stringval[0])
        ret = g_strstrip(g_strdup((const char *)obj->stringval));
    xmlXPathFreeObject(obj);
    if (ret && !ret[0])
        g_clear_pointer(&ret, g_free);
    return ret;
}

static void silent_structured(void *ud G_GNUC_UNUSED,
                              const xmlError *e G_GNUC_UNUSED)
{
}

static const struct {
    const char *policy;
    DomxmlRequest request;
} policies[] = {
    { "require", DOMXML_FEATURE_ON },
    { "force", DOMXML_FEATURE_ON },
    { "disable", DOMXML_FEATURE_OFF },
    { "forbid", DOMXML_FEATURE_OFF },
    { "optional", DOMXML_FEATURE_OPTIONAL },
};

gboolean domxml_policy_request(const char *policy, DomxmlRequest *request)
{
    for (size_t i = 0; i < G_N_ELEMENTS(policies); i++) {
        if (strcmp(policy, policies[i].policy) == 0) {
            *request = policies[i].request;
            return TRUE;
        }
    }
    return FALSE;
}

xmlDocPtr domxml_read(const char *xml, const char *what, const char *root,
                      GError **err)
{
    xmlParserCtxtPtr pctx;
    xmlDocPtr doc;
    xmlNodePtr r;

    xmlSetStructuredErrorFunc(NULL, (xmlStructuredErrorFunc)silent_structured);
    pctx = xmlNewParserCtxt();
    if (!pctx) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_FAILURE,
                    "cannot allocate an XML parser");
        return NULL;
    }
    doc = xmlCtxtReadMemory(pctx, xml, (int)MIN(strlen(xml), (size_t)G_MAXINT),
                            root, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(pctx);
        g_autofree char *msg = g_strdup(e && e->message ? e->message
                                                        : "unknown error");

        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed %s (line %d): %s", what, e ? e->line : 0,
                    g_strstrip(msg));
        xmlFreeParserCtxt(pctx);
        return NULL;
    }
    xmlFreeParserCtxt(pctx);
    r = xmlDocGetRootElement(doc);
    if (!r || strcmp((const char *)r->name, root) != 0) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed %s: root element is <%s>, not <%s>", what,
                    r ? (const char *)r->name : "(none)", root);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

int domxml_parse(const char *xml, const char *feature, DomCpuInfo *info,
                 GError **err)
{
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr ctx = NULL;
    xmlXPathObjectPtr nodes = NULL;
    int ret = -1;

    memset(info, 0, sizeof(*info));
    if (!(doc = domxml_read(xml, "domain XML", "domain", err)))
        goto out;
    ctx = xmlXPathNewContext(doc);
    if (!ctx) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_FAILURE,
                    "cannot allocate an XPath context");
        goto out;
    }
    xmlXPathRegisterVariable(ctx, BAD_CAST "feature",
                             xmlXPathNewString(BAD_CAST feature));

    info->name = xpath_string(ctx, "string(/domain/name)");
    nodes = xmlXPathEvalExpression(BAD_CAST "/domain/cpu", ctx);
    info->has_cpu = nodes && nodes->nodesetval &&
                    nodes->nodesetval->nodeNr > 0;
    xmlXPathFreeObject(nodes);
    info->cpu_mode = xpath_string(ctx, "string(/domain/cpu/@mode)");
    info->cpu_match = xpath_string(ctx, "string(/domain/cpu/@match)");
    info->cpu_check = xpath_string(ctx, "string(/domain/cpu/@check)");
    info->cpu_model = xpath_string(ctx, "string(/domain/cpu/model)");
    info->cpu_vendor = xpath_string(ctx, "string(/domain/cpu/vendor)");
    info->arch = xpath_string(ctx, "string(/domain/os/type/@arch)");

    nodes = xmlXPathEvalExpression(
        BAD_CAST "/domain/cpu/feature[@name=$feature]", ctx);
    if (!nodes || nodes->type != XPATH_NODESET) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_FAILURE,
                    "XPath evaluation failed");
        goto out;
    }
    if (nodes->nodesetval && nodes->nodesetval->nodeNr > 1) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                    "malformed domain XML: <feature name='%s'> appears %d "
                    "times in <cpu>", feature, nodes->nodesetval->nodeNr);
        goto out;
    }
    if (nodes->nodesetval && nodes->nodesetval->nodeNr == 1) {
        xmlChar *p = xmlGetProp(nodes->nodesetval->nodeTab[0],
                                BAD_CAST "policy");

        if (p) {
            info->policy = g_strdup((const char *)p);
            xmlFree(p);
        } else {
            /* libvirt's default for a guest CPU feature */
            info->policy = g_strdup("require");
            info->policy_defaulted = TRUE;
        }
        if (!domxml_policy_request(info->policy, &info->request)) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "malformed domain XML: unknown policy '%s' for CPU "
                        "feature '%s' (expected require, force, optional, "
                        "disable or forbid)", info->policy, feature);
            goto out;
        }
    }
    ret = 0;
out:
    xmlXPathFreeObject(nodes);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    if (ret < 0)
        domxml_clear(info);
    return ret;
}

void domxml_clear(DomCpuInfo *info)
{
    g_clear_pointer(&info->name, g_free);
    g_clear_pointer(&info->cpu_mode, g_free);
    g_clear_pointer(&info->cpu_match, g_free);
    g_clear_pointer(&info->cpu_check, g_free);
    g_clear_pointer(&info->cpu_model, g_free);
    g_clear_pointer(&info->cpu_vendor, g_free);
    g_clear_pointer(&info->arch, g_free);
    g_clear_pointer(&info->model_error, g_free);
    g_clear_pointer(&info->policy, g_free);
    memset(info, 0, sizeof(*info));
}

const char *domxml_request_name(DomxmlRequest r)
{
    switch (r) {
    case DOMXML_FEATURE_ABSENT: return "absent";
    case DOMXML_FEATURE_ON: return "on";
    case DOMXML_FEATURE_OFF: return "off";
    case DOMXML_FEATURE_OPTIONAL: return "optional";
    }
    return "unknown";
}
