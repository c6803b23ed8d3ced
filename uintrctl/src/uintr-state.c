/* uintr-state.c - the reply to QMP query-uintr, decoded and checked */
#include <string.h>

#include "errors.h"
#include "uintr-state.h"
#include "uintr-stream.h"

void uintr_vcpu_free(gpointer p)
{
    UintrVcpu *v = p;

    if (!v)
        return;
    g_free(v->qom_path);
    if (v->uitt)
        g_array_unref(v->uitt);
    g_free(v);
}

GPtrArray *uintr_state_parse(json_object *ret, GError **err)
{
    const char *text = json_object_to_json_string_ext(ret,
                           JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    return uintr_stream_decode_text(text, strlen(text), err);
}

static void sink_reset(void *ctx)
{
    uintr_stream_reset(ctx);
}

GPtrArray *uintr_state_query(QmpTransport *t, GError **err)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(UintrStream) stream = uintr_stream_new();
    const QmpReturnSink sink = {
        .callbacks = &uintr_stream_callbacks,
        .ctx = stream,
        .reset = sink_reset,
    };

    /* the "return" value goes straight into the stream: no tree */
    if (qmp_execute_events(t, UINTR_QMP_COMMAND, &sink, &local) < 0) {
        if (local->domain == QMP_REPLY_ERROR &&
            local->code == QMP_ERROR_CLASS_COMMAND_NOT_FOUND) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_NO_QUERY_UINTR,
                        "QEMU behind %s has no '" UINTR_QMP_COMMAND "' "
                        "command (%s): it lacks the UINTR inspection patch",
                        t->description, local->message);
            return NULL;
        }
        g_propagate_prefixed_error(err, g_steal_pointer(&local),
                                   "'" UINTR_QMP_COMMAND "' failed on %s: ",
                                   t->description);
        return NULL;
    }
    return uintr_stream_finish(stream, err);
}

const UintrVcpu *uintr_state_find(GPtrArray *vcpus, int cpu_index)
{
    for (guint i = 0; vcpus && i < vcpus->len; i++) {
        const UintrVcpu *v = vcpus->pdata[i];

        if (v->cpu_index == cpu_index)
            return v;
    }
    return NULL;
}

/* --- back to JSON, for show --json --- */

static void add_u64(json_object *o, const char *key, guint64 v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_bool(json_object *o, const char *key, gboolean v)
{
    json_object_object_add(o, key, json_object_new_boolean(v));
}

static void add_read(json_object *o, guint64 address, gboolean has_phys,
                     guint64 phys, UintrReadError error)
{
    add_u64(o, "address", address);
    if (has_phys)
        add_u64(o, "phys-address", phys);
    if (error != UINTR_READ_OK)
        json_object_object_add(o, "error", json_object_new_string(
                                   uintr_read_error_name(error)));
}

static json_object *upid_to_json(const UintrUpid *u)
{
    json_object *o = json_object_new_object();

    add_read(o, u->address, u->has_phys, u->phys_address, u->error);
    if (u->error != UINTR_READ_OK)
        return o;
    add_u64(o, "status", u->status);
    add_bool(o, "on", u->on);
    add_bool(o, "sn", u->sn);
    add_u64(o, "nv", u->nv);
    add_u64(o, "ndst", u->ndst);
    add_u64(o, "pir", u->pir);
    add_u64(o, "reserved", u->reserved);
    return o;
}

static json_object *uitte_to_json(const UintrUitte *e)
{
    json_object *o = json_object_new_object();

    add_u64(o, "index", e->index);
    add_read(o, e->address, e->has_phys, e->phys_address, e->error);
    if (e->error != UINTR_READ_OK)
        return o;
    add_bool(o, "valid", e->valid);
    add_u64(o, "uv", e->uv);
    add_u64(o, "upid-address", e->upid_address);
    add_u64(o, "reserved", e->reserved);
    if (e->has_upid)
        json_object_object_add(o, "upid", upid_to_json(&e->upid));
    return o;
}

json_object *uintr_vcpu_to_json(const UintrVcpu *v)
{
    json_object *o = json_object_new_object();
    json_object *m = json_object_new_object();

    json_object_object_add(o, "cpu-index", json_object_new_int(v->cpu_index));
    json_object_object_add(o, "qom-path", json_object_new_string(v->qom_path));
    add_u64(o, "apic-id", v->apic_id);
    json_object_object_add(o, "apic-mode", json_object_new_string(
                               uintr_apic_mode_name(v->apic_mode)));
    add_u64(o, "cpl", v->cpl);
    add_bool(o, "uintr", v->uintr);
    add_bool(o, "cr4-uintr", v->cr4_uintr);
    add_bool(o, "uif", v->uif);
    add_u64(o, "xcr0", v->xcr0);
    add_u64(o, "xss", v->xss);
    add_u64(m, "rr", v->msrs.rr);
    add_u64(m, "handler", v->msrs.handler);
    add_u64(m, "stackadjust", v->msrs.stackadjust);
    add_u64(m, "misc", v->msrs.misc);
    add_u64(m, "pd", v->msrs.pd);
    add_u64(m, "tt", v->msrs.tt);
    json_object_object_add(o, "msrs", m);
    add_bool(o, "stack-adjust-load", v->stack_adjust_load);
    add_u64(o, "uittsz", v->uittsz);
    add_u64(o, "uinv", v->uinv);
    add_u64(o, "uitt-address", v->uitt_address);
    add_bool(o, "uitt-valid", v->uitt_valid);
    if (v->has_upid)
        json_object_object_add(o, "upid", upid_to_json(&v->upid));
    if (v->uitt) {
        json_object *list = json_object_new_array_ext((int)v->uitt->len);

        for (guint i = 0; i < v->uitt->len; i++)
            json_object_array_add(list, uitte_to_json(
                                      &g_array_index(v->uitt, UintrUitte, i)));
        json_object_object_add(o, "uitt", list);
    }
    add_u64(o, "uitt-cap", v->uitt_cap);
    add_bool(o, "uitt-truncated", v->uitt_truncated);
    return o;
}
