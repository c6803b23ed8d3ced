/* cmd_show.c - "uintrctl show": every vCPU's UINTR state (query-uintr)
 *
 * Text: one table of the vCPUs (APIC, CR4.UINTR, UIF, the MSRs decoded
 * from their raw values), one of the UPIDs and one of the UITT entries
 * with their target UPIDs.  JSON: query-uintr's own members per vCPU.
 */
#include "errors.h"
#include "output.h"
#include "reports.h"
#include "rules.h"
#include "session.h"
#include "uintr-state.h"
#include "uintrctl.h"

const char cmd_show_synopsis[] =
    "[-c URI] show DOMAIN\n"
    "--qmp SOCKET show";
const char cmd_show_summary[] =
    "show every vCPU's UINTR state (query-uintr): CR4.UINTR, UIF, the\n"
    "UINTR MSRs, the UPID and the UITT entries, decoded";

static void add_str(json_object *row, const char *key, const char *s)
{
    json_object_object_add(row, key, json_object_new_string(s));
}

static void add_fmt(json_object *row, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void add_fmt(json_object *row, const char *key, const char *fmt, ...)
{
    g_autofree char *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    add_str(row, key, s);
}

static void add_hex(json_object *row, const char *key, guint64 v)
{
    add_fmt(row, key, "0x%" G_GINT64_MODIFIER "x", v);
}

static const OutColumn vcpu_columns[] = {
    { "vCPU", "cpu", NULL },
    { "APIC", "apic", NULL },
    { "CPL", "cpl", NULL },
    { "uintr", "uintr", NULL },
    { "CR4.UINTR", "cr4", NULL },
    { "UIF", "uif", NULL },
    { "UIRR", "rr", NULL },
    { "handler", "handler", NULL },
    { "stackadjust", "stackadjust", NULL },
    { "UINV", "uinv", NULL },
    { "UITTSZ", "uittsz", NULL },
    { "UITT", "uitt", NULL },
    { "UPID", "pd", NULL },
    { "XSS[14]", "xss", NULL },
};

static json_object *vcpu_row(const UintrVcpu *v)
{
    json_object *r = json_object_new_object();
    const UintrMsrs *m = &v->msrs;

    add_fmt(r, "cpu", "%d", v->cpu_index);
    add_fmt(r, "apic", "%u/%s", v->apic_id, uintr_apic_mode_name(v->apic_mode));
    add_fmt(r, "cpl", "%u", v->cpl);
    add_str(r, "uintr", v->uintr ? "1" : "0");
    add_str(r, "cr4", v->cr4_uintr ? "1" : "0");
    add_str(r, "uif", v->uif ? "1" : "0");
    add_hex(r, "rr", m->rr);
    add_hex(r, "handler", m->handler);
    add_fmt(r, "stackadjust", "0x%" G_GINT64_MODIFIER "x/%s",
            m->stackadjust & ~G_GUINT64_CONSTANT(1), m->stackadjust & 1 ? "load" : "sub");
    add_hex(r, "uinv", UINTR_MISC_UINV(m->misc));
    add_fmt(r, "uittsz", "%u", UINTR_MISC_UITTSZ(m->misc));
    add_fmt(r, "uitt", "0x%" G_GINT64_MODIFIER "x/%s",
            UINTR_TT_ADDRESS(m->tt), m->tt & 1 ? "on" : "off");
    add_hex(r, "pd", m->pd);
    add_str(r, "xss", v->xss & XSS_UINTR ? "1" : "0");
    return r;
}

/* The UPID members of a row, from the raw status and PIR. */
static void upid_cells(json_object *r, const UintrUpid *u)
{
    add_hex(r, "upid", u->address);
    if (u->has_phys)
        add_hex(r, "phys", u->phys_address);
    if (u->error != UINTR_READ_OK) {
        add_str(r, "state", uintr_read_error_name(u->error));
        return;
    }
    add_fmt(r, "state", "ON=%d SN=%d", !!(u->status & UPID_ON),
            !!(u->status & UPID_SN));
    add_hex(r, "nv", UPID_NV(u->status));
    add_fmt(r, "ndst", "0x%08x", UPID_NDST(u->status));
    add_hex(r, "pir", u->pir);
    add_hex(r, "reserved", u->status & UPID_RESERVED);
}

static const OutColumn upid_columns[] = {
    { "vCPU", "cpu", NULL },
    { "UPID", "upid", NULL },
    { "phys", "phys", NULL },
    { "state", "state", NULL },
    { "NV", "nv", NULL },
    { "NDST", "ndst", NULL },
    { "PIR", "pir", NULL },
    { "reserved", "reserved", NULL },
};

static const OutColumn uitt_columns[] = {
    { "vCPU", "cpu", NULL },
    { "index", "index", NULL },
    { "entry", "entry", NULL },
    { "V", "v", NULL },
    { "UV", "uv", NULL },
    { "rsvd", "rsvd", NULL },
    { "UPID", "upid", NULL },
    { "phys", "phys", NULL },
    { "state", "state", NULL },
    { "NV", "nv", NULL },
    { "NDST", "ndst", NULL },
    { "PIR", "pir", NULL },
    { "reserved", "reserved", NULL },
};

static json_object *uitte_row(const UintrVcpu *v, const UintrUitte *e)
{
    json_object *r = json_object_new_object();

    add_fmt(r, "cpu", "%d", v->cpu_index);
    add_fmt(r, "index", "%u", e->index);
    add_hex(r, "entry", e->address);
    if (e->error != UINTR_READ_OK) {
        add_str(r, "state", uintr_read_error_name(e->error));
        return r;
    }
    add_str(r, "v", e->valid ? "1" : "0");
    add_fmt(r, "uv", "%u", e->uv);
    add_hex(r, "rsvd", e->reserved);
    if (e->has_upid)
        upid_cells(r, &e->upid);
    else
        add_hex(r, "upid", e->upid_address);
    return r;
}

static void print_tables(UintrctlOptions *opts, GPtrArray *vcpus)
{
    json_object *rows = json_object_new_array();
    json_object *upids = json_object_new_array();
    json_object *uitt = json_object_new_array();
    gboolean truncated = FALSE;

    for (guint i = 0; i < vcpus->len; i++) {
        const UintrVcpu *v = vcpus->pdata[i];

        json_object_array_add(rows, vcpu_row(v));
        if (v->has_upid) {
            json_object *r = json_object_new_object();

            add_fmt(r, "cpu", "%d", v->cpu_index);
            upid_cells(r, &v->upid);
            json_object_array_add(upids, r);
        }
        for (guint k = 0; v->uitt && k < v->uitt->len; k++)
            json_object_array_add(uitt, uitte_row(
                                      v, &g_array_index(v->uitt, UintrUitte, k)));
        truncated |= v->uitt_truncated;
    }
    out_table(opts->out, vcpu_columns, G_N_ELEMENTS(vcpu_columns), rows);
    out_text(opts->out, "%s", "");
    if (json_object_array_length(upids))
        out_table(opts->out, upid_columns, G_N_ELEMENTS(upid_columns), upids);
    else
        out_text(opts->out, "UPID: none (IA32_UINTR_PD is 0 on every vCPU)");
    out_text(opts->out, "%s", "");
    if (json_object_array_length(uitt))
        out_table(opts->out, uitt_columns, G_N_ELEMENTS(uitt_columns), uitt);
    else
        out_text(opts->out, "UITT: none (IA32_UINTR_TT[0] is 0 on every "
                 "vCPU)");
    if (truncated)
        out_text(opts->out, "UITT: truncated at QEMU's uitt-cap");
    json_object_put(rows);
    json_object_put(upids);
    json_object_put(uitt);
}

int show_report(UintrctlOptions *opts, const Session *s, GPtrArray *vcpus)
{
    json_object *doc = json_object_new_object();
    json_object *list = json_object_new_array();

    session_print_header(opts, s);
    print_tables(opts, vcpus);
    for (guint i = 0; i < vcpus->len; i++)
        json_object_array_add(list, uintr_vcpu_to_json(vcpus->pdata[i]));
    json_object_object_add(doc, "source", session_source_json(opts, s));
    json_object_object_add(doc, "vcpus", list);
    out_document(opts->out, doc);
    json_object_put(doc);
    return UINTRCTL_EXIT_OK;
}

static int show_run(UintrctlOptions *opts, const Session *s)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) vcpus = uintr_state_query(s->t, &err);

    if (!vcpus)
        return out_error(opts->out, err);
    return show_report(opts, s, vcpus);
}

int cmd_show(UintrctlOptions *opts, int argc, char **argv)
{
    return session_run(opts, argc, argv, FALSE, show_run);
}
