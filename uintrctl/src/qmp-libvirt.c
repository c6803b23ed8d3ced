/* qmp-libvirt.c - QMP through libvirt's virDomainQemuMonitorCommand
 *
 * libvirt adds its own command id and swallows events, so this back
 * end only serialises the command and parses the reply.  Note that
 * libvirt hands back QMP {"error": ...} replies with a *successful*
 * return code: the reply is interpreted by qmp_reply_parse() like any
 * other, never trusted because the call "worked".  query-uintr's reply
 * (with a sink) is decoded from the string by events, without a
 * json-c tree.
 */
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "errors.h"
#include "qmp-events.h"
#include "virt.h"

typedef struct {
    QmpTransport base;
    virDomainPtr dom;
    char *name; /* saved: virDomainGetName() would reset the last error */
} QmpLibvirt;

/* With @sink, the reply string goes through qmp-events.h: the text
 * and the decoded "return" value, never a tree of it. */
static json_object *libvirt_exchange(QmpTransport *t, json_object *cmd,
                                     const QmpReturnSink *sink,
                                     gboolean *routed, GError **err)
{
    QmpLibvirt *l = (QmpLibvirt *)t;
    const char *text = json_object_to_json_string_ext(cmd,
                           JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *reply = NULL;
    json_object *obj;
    g_autofree char *what = NULL;
    json_object *execute = NULL;

    json_object_object_get_ex(cmd, "execute", &execute);
    if (virDomainQemuMonitorCommand(l->dom, text, &reply, 0) < 0) {
        virErrorPtr e = virGetLastError();

        if (e && e->code == VIR_ERR_NO_SUPPORT)
            virt_set_error(err, UINTRCTL_EXIT_FAILURE,
                           "libvirt cannot pass QMP commands to domain '%s' "
                           "(only the QEMU driver can; use a qemu:// URI)",
                           l->name);
        else
            virt_set_error(err, UINTRCTL_EXIT_FAILURE,
                           "libvirt could not pass the QMP command to "
                           "domain '%s'", l->name);
        return NULL;
    }
    what = g_strdup_printf("the reply to '%s' from domain '%s'",
                           json_object_get_string(execute), l->name);
    if (sink)
        obj = qmp_events_parse_text(what, reply, sink, routed, err);
    else
        obj = qmp_json_parse(what, reply, err);
    free(reply);
    return obj;
}

static void libvirt_free(QmpTransport *t)
{
    QmpLibvirt *l = (QmpLibvirt *)t;

    if (l->dom)
        virDomainFree(l->dom);
    g_free(l->name);
    g_free(l);
}

static const QmpTransportOps libvirt_ops = {
    .name = "libvirt",
    .exchange = libvirt_exchange,
    .free = libvirt_free,
};

QmpTransport *qmp_libvirt_open(virDomainPtr dom, GError **err)
{
    QmpLibvirt *l;

    if (virDomainRef(dom) < 0) {
        virt_set_error(err, UINTRCTL_EXIT_FAILURE, "virDomainRef failed");
        return NULL;
    }
    l = g_new0(QmpLibvirt, 1);
    l->base.ops = &libvirt_ops;
    l->base.description = g_strdup_printf("domain %s", virDomainGetName(dom));
    l->dom = dom;
    l->name = g_strdup(virDomainGetName(dom));
    return &l->base;
}
