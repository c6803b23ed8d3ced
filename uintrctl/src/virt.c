/* virt.c - libvirt connection helpers */
#include <stdlib.h>

#include <libvirt/virterror.h>

#include "errors.h"
#include "virt.h"

static void virt_silent_error(void *opaque G_GNUC_UNUSED,
                              virErrorPtr error G_GNUC_UNUSED)
{
    /* keep libvirt quiet; the caller reports virGetLastError() */
}

void virt_init(void)
{
    virSetErrorFunc(NULL, virt_silent_error);
    if (virInitialize() < 0)
        g_warning("virInitialize failed");
}

int virt_error_exit_code(int code, int domain, int fallback)
{
    switch (code) {
    case VIR_ERR_NO_DOMAIN:
        return UINTRCTL_EXIT_NO_DOMAIN;
    case VIR_ERR_OPERATION_INVALID:
        return UINTRCTL_EXIT_NOT_RUNNING;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_RPC:
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
        return UINTRCTL_EXIT_CONNECT;
    default:
        break;
    }
    if (domain == VIR_FROM_RPC || domain == VIR_FROM_REMOTE)
        return UINTRCTL_EXIT_CONNECT;
    return fallback;
}

void virt_set_error(GError **err, int fallback, const char *fmt, ...)
{
    virErrorPtr e = virGetLastError();
    g_autofree char *prefix = NULL;
    va_list ap;

    va_start(ap, fmt);
    prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!e) {
        g_set_error(err, UINTRCTL_ERROR, fallback, "%s: unknown libvirt error",
                    prefix);
        return;
    }
    g_set_error(err, UINTRCTL_ERROR,
                virt_error_exit_code(e->code, e->domain, fallback), "%s: %s",
                prefix, e->message ? e->message : "unknown libvirt error");
}

virConnectPtr virt_connect(const char *uri, GError **err)
{
    virConnectPtr conn = virConnectOpen(uri);

    if (!conn) {
        virt_set_error(err, UINTRCTL_EXIT_CONNECT,
                       "cannot connect to libvirt at %s (is libvirtd running? "
                       "check -c URI)", uri ? uri : "the default URI");
        /* whatever libvirt said, failing to open is "cannot reach" */
        if (err && *err && (*err)->code != UINTRCTL_EXIT_CONNECT)
            (*err)->code = UINTRCTL_EXIT_CONNECT;
    }
    return conn;
}

virDomainPtr virt_lookup(virConnectPtr conn, const char *name, GError **err)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);

    if (!dom)
        virt_set_error(err, UINTRCTL_EXIT_FAILURE,
                       "cannot find domain '%s' (see 'virsh list --all')",
                       name);
    return dom;
}

char *virt_domain_xml(virDomainPtr dom, const char *name, gboolean inactive,
                      GError **err)
{
    char *xml = virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE
                                                  : 0);
    char *ret;

    if (!xml) {
        virt_set_error(err, UINTRCTL_EXIT_FAILURE,
                       "cannot get the XML of domain '%s'", name);
        return NULL;
    }
    /* libvirt allocates with malloc: copy into GLib memory */
    ret = g_strdup(xml);
    free(xml);
    return ret;
}
