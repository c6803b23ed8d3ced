/* cpumodel.h - does the domain's CPU model include a feature?
 *
 * A domain XML can ask for uintr without naming it: through its CPU
 * model, <cpu mode='custom'><model>SapphireRapids-UINTR</model></cpu>.
 * What a model contains is libvirt's business (its cpu_map), so uintrctl
 * asks libvirt rather than reading cpu_map files: virConnectBaselineCPU()
 * of the one host CPU <cpu><arch/><model/>[<vendor/>]</cpu> with
 * VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES returns a guest CPU that lists
 * every feature, each with policy require or disable (the model it names
 * may be another one with the same features: libvirt never reports models
 * marked <decode guest='off'/>, such as SapphireRapids-UINTR).
 *
 * virConnectBaselineHypervisorCPU() is not used: it answers what a
 * hypervisor can run (libvirt 9.0 filters the result through the default
 * emulator's capabilities, which for a QEMU without the UINTR series drops
 * uintr), not what the model contains.
 */
#ifndef UINTRCTL_CPUMODEL_H
#define UINTRCTL_CPUMODEL_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "domxml.h"

/* Whether the model decides: @info has a CPU model in custom mode
 * (libvirt's default mode when a model is given) and no <feature> element
 * for the feature (an explicit policy always wins over the model). */
gboolean cpumodel_applies(const DomCpuInfo *info);

/* The host CPU description handed to virConnectBaselineCPU: arch, model
 * and (if the domain names one) vendor of @info, XML-escaped.  NULL with
 * @err set if the domain XML has no arch. */
char *cpumodel_baseline_input(const DomCpuInfo *info, GError **err);

/* Read libvirt's expanded CPU @xml: *@includes is TRUE if it lists
 * @feature with policy require or force (or without a policy), FALSE if
 * with disable or forbid, or not at all.  A reply that is not a <cpu>,
 * lists no feature at all (not expanded), lists @feature twice or with
 * another policy is an error (UINTRCTL_EXIT_PROTOCOL). */
int cpumodel_parse_expanded(const char *xml, const char *feature,
                            gboolean *includes, GError **err);

/* virConnectBaselineCPU(conn, {@cpu_xml}, 1, EXPAND_FEATURES), or a
 * recorded reply in the tests.  Returns GLib memory or NULL with @err. */
typedef char *(*CpumodelBaselineFn)(void *opaque, const char *cpu_xml,
                                    GError **err);

/* If cpumodel_applies(@info), ask @baseline what the model contains and
 * set @info->model_feature to DOMXML_MODEL_INCLUDES or _LACKS, or, when
 * that fails, to DOMXML_MODEL_UNKNOWN with the reason in
 * @info->model_error (one line).  Otherwise DOMXML_MODEL_NOT_ASKED.
 * Never fails: a model libvirt cannot expand only means that nothing is
 * expected from it. */
void cpumodel_expand_with(DomCpuInfo *info, const char *feature,
                          CpumodelBaselineFn baseline, void *opaque);

/* cpumodel_expand_with() through libvirt's virConnectBaselineCPU. */
void cpumodel_expand(virConnectPtr conn, DomCpuInfo *info,
                     const char *feature);

/* The CpumodelBaselineFn behind cpumodel_expand(); @opaque is the
 * virConnectPtr (exported for the tests). */
char *cpumodel_baseline_libvirt(void *opaque, const char *cpu_xml,
                                GError **err);

#endif
