/* uintr-state.h - the reply to QMP query-uintr, decoded and checked
 *
 * QEMU's query-uintr (qapi/uintr.json in the QEMU series) returns one
 * UintrCpuInfo per vCPU: APIC, CR4.UINTR, UIF, XCR0, IA32_XSS, the six
 * UINTR MSRs raw and decoded, the UPID at IA32_UINTR_PD and the UITT
 * entries, each read from guest memory or with a read error.  The
 * parser checks the schema only (member types, presence, ranges, list
 * lengths against uitt-cap); whether QEMU's decoded fields agree with
 * the raw values is a rule (rules.h), not a parse error.  The decoder
 * itself is uintr-stream.h: it takes the reply as JSON events, so a
 * reply near the QMP size cap is never held as text or as a tree.
 */
#ifndef UINTRCTL_UINTR_STATE_H
#define UINTRCTL_UINTR_STATE_H

#include <glib.h>
#include <json-c/json.h>

#include "qmp.h"

#define UINTR_QMP_COMMAND "query-uintr"

typedef enum {
    UINTR_APIC_DISABLED = 0,
    UINTR_APIC_XAPIC,
    UINTR_APIC_X2APIC,
} UintrApicMode;

typedef enum {
    UINTR_READ_OK = 0,          /* no 'error' member: the data is there */
    UINTR_READ_NON_CANONICAL,
    UINTR_READ_NOT_MAPPED,
    UINTR_READ_NOT_RAM,
} UintrReadError;

typedef struct {
    guint64 address;
    gboolean has_phys;
    guint64 phys_address;
    UintrReadError error;
    /* valid when error == UINTR_READ_OK */
    guint64 status;
    gboolean on, sn;
    guint8 nv;
    guint32 ndst;
    guint64 pir;
    guint64 reserved;
} UintrUpid;

typedef struct {
    guint32 index;
    guint64 address;
    gboolean has_phys;
    guint64 phys_address;
    UintrReadError error;
    /* valid when error == UINTR_READ_OK */
    gboolean valid;
    guint8 uv;
    guint64 upid_address;
    guint64 reserved;
    gboolean has_upid;
    UintrUpid upid;
} UintrUitte;

typedef struct {
    guint64 rr, handler, stackadjust, misc, pd, tt;
} UintrMsrs;

typedef struct {
    int cpu_index;
    char *qom_path;
    guint32 apic_id;
    UintrApicMode apic_mode;
    guint8 cpl;
    gboolean uintr;
    gboolean cr4_uintr;
    gboolean uif;
    guint64 xcr0;
    guint64 xss;
    UintrMsrs msrs;
    /* QEMU's decoding of the MSRs */
    gboolean stack_adjust_load;
    guint32 uittsz;
    guint8 uinv;
    guint64 uitt_address;
    gboolean uitt_valid;
    gboolean has_upid;
    UintrUpid upid;
    GArray *uitt;            /* of UintrUitte; NULL when absent */
    guint32 uitt_cap;
    gboolean uitt_truncated;
} UintrVcpu;

void uintr_vcpu_free(gpointer v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(UintrVcpu, uintr_vcpu_free)

/* A list of UintrVcpu sorted by cpu-index, cpu-indexes unique, from the
 * value of "return" as a json-c tree (serialised and decoded by
 * uintr-stream.h, for the tests). */
GPtrArray *uintr_state_parse(json_object *ret, GError **err);

/* Run query-uintr through @t and decode it as it arrives
 * (qmp_execute_events).  A QEMU without the command (CommandNotFound)
 * is UINTRCTL_EXIT_NO_QUERY_UINTR. */
GPtrArray *uintr_state_query(QmpTransport *t, GError **err);

/* The vCPU with @cpu_index in @vcpus, or NULL. */
const UintrVcpu *uintr_state_find(GPtrArray *vcpus, int cpu_index);

/* The decoded state as JSON, with the member names of query-uintr. */
json_object *uintr_vcpu_to_json(const UintrVcpu *v);

const char *uintr_apic_mode_name(UintrApicMode m);
const char *uintr_read_error_name(UintrReadError e);

#endif
