/* virt.h - libvirt connection helpers and the libvirt QMP back end */
#ifndef UINTRCTL_VIRT_H
#define UINTRCTL_VIRT_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "qmp.h"

/* Silence libvirt's default error printing (virSetErrorFunc); errors are
 * fetched with virGetLastError and reported once by uintrctl. */
void virt_init(void);

/* Fill @err from virGetLastError().  The exit code comes from the
 * libvirt error where it says something specific (no domain, not
 * running, connection trouble); @fallback otherwise.  The message is
 * "@prefix: <libvirt message>".  Call it right after the failing libvirt
 * call: any other libvirt API call (even virDomainGetName) resets the
 * last error. */
void virt_set_error(GError **err, int fallback, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Map a libvirt error number/domain to an exit code (for the tests). */
int virt_error_exit_code(int code, int domain, int fallback);

virConnectPtr virt_connect(const char *uri, GError **err);
virDomainPtr virt_lookup(virConnectPtr conn, const char *name, GError **err);

/* Domain XML: live (flags 0) or, with @inactive, the persistent config;
 * a GLib copy of libvirt's string (g_free it). */
char *virt_domain_xml(virDomainPtr dom, const char *name, gboolean inactive,
                      GError **err);

/* A QmpTransport over virDomainQemuMonitorCommand(); takes its own
 * reference on @dom. */
QmpTransport *qmp_libvirt_open(virDomainPtr dom, GError **err);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

#endif
