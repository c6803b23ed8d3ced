/* uintr-state.c - the reply to QMP query-uintr, decoded and checked */
#include <string.h>

#include "errors.h"
#include "uintr-state.h"

/* Report "malformed reply to 'query-uintr': WHERE: MESSAGE". */
static gboolean malformed(GError **err, const char *where, const char *fmt,
                          ...) G_GNUC_PRINTF(3, 4);
static gboolean malformed(GError **err, const char *where, const char *fmt,
                          ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                "malformed reply to '" UINTR_QMP_COMMAND "': %s: %s", where,
                msg);
    return FALSE;
}

/* Member @key of @o of JSON type @type.  *@v is NULL when it is absent
 * (an error if @required). */
static gboolean member(json_object *o, const char *where, const char *key,
                       json_type type, gboolean required, json_object **v,
                       GError **err)
{
    *v = NULL;
    if (!json_object_object_get_ex(o, key, v) || !*v) {
        *v = NULL;
        if (required)
            return malformed(err, where, "member '%s' is missing", key);
        return TRUE;
    }
    if (!json_object_is_type(*v, type))
        return malformed(err, where, "member '%s' is %s, not %s", key,
                         json_type_to_name(json_object_get_type(*v)),
                         json_type_to_name(type));
    return TRUE;
}

/* An unsigned integer member no larger than @max. */
static gboolean get_uint(json_object *o, const char *where, const char *key,
                         guint64 max, gboolean required, gboolean *present,
                         guint64 *out, GError **err)
{
    json_object *v;
    guint64 val;

    if (present)
        *present = FALSE;
    if (!member(o, where, key, json_type_int, required, &v, err))
        return FALSE;
    if (!v)
        return TRUE;
    /* json-c keeps integers above INT64_MAX as uint64; get_int64 then
     * saturates at INT64_MAX, so a negative result is a negative number */
    if (json_object_get_int64(v) < 0)
        return malformed(err, where, "member '%s' is negative (%s)", key,
                         json_object_to_json_string(v));
    val = json_object_get_uint64(v);
    if (val > max)
        return malformed(err, where, "member '%s' is out of range (%s, at "
                         "most %" G_GUINT64_FORMAT ")", key,
                         json_object_to_json_string(v), max);
    *out = val;
    if (present)
        *present = TRUE;
    return TRUE;
}

static gboolean get_u64(json_object *o, const char *where, const char *key,
                        guint64 *out, GError **err)
{
    return get_uint(o, where, key, G_MAXUINT64, TRUE, NULL, out, err);
}

static gboolean get_bool(json_object *o, const char *where, const char *key,
                         gboolean *out, GError **err)
{
    json_object *v;

    if (!member(o, where, key, json_type_boolean, TRUE, &v, err))
        return FALSE;
    *out = json_object_get_boolean(v);
    return TRUE;
}

/* An enum member: index of its string in @names (NULL-terminated). */
static gboolean get_enum(json_object *o, const char *where, const char *key,
                         const char *const *names, gboolean required,
                         int *out, GError **err)
{
    json_object *v;

    if (!member(o, where, key, json_type_string, required, &v, err))
        return FALSE;
    if (!v)
        return TRUE;
    for (int i = 0; names[i]; i++) {
        if (strcmp(json_object_get_string(v), names[i]) == 0) {
            *out = i;
            return TRUE;
        }
    }
    return malformed(err, where, "member '%s' has unknown value '%.64s'", key,
                     json_object_get_string(v));
}

static const char *const apic_mode_names[] = {
    "disabled", "xapic", "x2apic", NULL,
};

/* index 0 is UINTR_READ_OK, which QEMU never sends */
static const char *const read_error_names[] = {
    "ok", "non-canonical", "not-mapped", "not-ram", NULL,
};

const char *uintr_apic_mode_name(UintrApicMode m)
{
    return (unsigned)m < G_N_ELEMENTS(apic_mode_names) - 1
               ? apic_mode_names[m] : "unknown";
}

const char *uintr_read_error_name(UintrReadError e)
{
    return (unsigned)e < G_N_ELEMENTS(read_error_names) - 1
               ? read_error_names[e] : "unknown";
}

/* The optional 'phys-address' and 'error' of a read structure. */
static gboolean get_read(json_object *o, const char *where, gboolean *has_phys,
                         guint64 *phys, UintrReadError *error, GError **err)
{
    int e = UINTR_READ_OK;

    if (!get_uint(o, where, "phys-address", G_MAXUINT64, FALSE, has_phys,
                  phys, err) ||
        !get_enum(o, where, "error", read_error_names, FALSE, &e, err))
        return FALSE;
    if (e == UINTR_READ_OK && json_object_object_get_ex(o, "error", NULL))
        return malformed(err, where, "member 'error' has unknown value 'ok'");
    *error = (UintrReadError)e;
    return TRUE;
}

/* The members that are present with data and absent with 'error'. */
static gboolean data_members(json_object *o, const char *where,
                             UintrReadError error, const char *const *keys,
                             GError **err)
{
    for (size_t i = 0; keys[i]; i++) {
        gboolean has = json_object_object_get_ex(o, keys[i], NULL);

        if (error != UINTR_READ_OK && has)
            return malformed(err, where, "member '%s' comes with 'error' "
                             "'%s'", keys[i], uintr_read_error_name(error));
    }
    return TRUE;
}

static const char *const upid_data_keys[] = {
    "status", "on", "sn", "nv", "ndst", "pir", "reserved", NULL,
};

static const char *const uitte_data_keys[] = {
    "valid", "uv", "upid-address", "reserved", "upid", NULL,
};

static gboolean parse_upid(json_object *o, const char *where, UintrUpid *u,
                           GError **err)
{
    guint64 nv = 0, ndst = 0;

    memset(u, 0, sizeof(*u));
    if (!json_object_is_type(o, json_type_object))
        return malformed(err, where, "is %s, not an object",
                         json_type_to_name(json_object_get_type(o)));
    if (!get_u64(o, where, "address", &u->address, err) ||
        !get_read(o, where, &u->has_phys, &u->phys_address, &u->error, err) ||
        !data_members(o, where, u->error, upid_data_keys, err))
        return FALSE;
    if (u->error != UINTR_READ_OK)
        return TRUE;
    if (!get_u64(o, where, "status", &u->status, err) ||
        !get_bool(o, where, "on", &u->on, err) ||
        !get_bool(o, where, "sn", &u->sn, err) ||
        !get_uint(o, where, "nv", G_MAXUINT8, TRUE, NULL, &nv, err) ||
        !get_uint(o, where, "ndst", G_MAXUINT32, TRUE, NULL, &ndst, err) ||
        !get_u64(o, where, "pir", &u->pir, err) ||
        !get_u64(o, where, "reserved", &u->reserved, err))
        return FALSE;
    u->nv = (guint8)nv;
    u->ndst = (guint32)ndst;
    return TRUE;
}

static gboolean parse_uitte(json_object *o, const char *where, UintrUitte *e,
                            GError **err)
{
    guint64 index = 0, uv = 0;
    json_object *upid;

    memset(e, 0, sizeof(*e));
    if (!json_object_is_type(o, json_type_object))
        return malformed(err, where, "is %s, not an object",
                         json_type_to_name(json_object_get_type(o)));
    if (!get_uint(o, where, "index", G_MAXUINT32, TRUE, NULL, &index, err) ||
        !get_u64(o, where, "address", &e->address, err) ||
        !get_read(o, where, &e->has_phys, &e->phys_address, &e->error, err) ||
        !data_members(o, where, e->error, uitte_data_keys, err))
        return FALSE;
    e->index = (guint32)index;
    if (e->error != UINTR_READ_OK)
        return TRUE;
    if (!get_bool(o, where, "valid", &e->valid, err) ||
        !get_uint(o, where, "uv", G_MAXUINT8, TRUE, NULL, &uv, err) ||
        !get_u64(o, where, "upid-address", &e->upid_address, err) ||
        !get_u64(o, where, "reserved", &e->reserved, err) ||
        !member(o, where, "upid", json_type_object, FALSE, &upid, err))
        return FALSE;
    e->uv = (guint8)uv;
    if (upid) {
        g_autofree char *w = g_strdup_printf("%s: upid", where);

        e->has_upid = TRUE;
        return parse_upid(upid, w, &e->upid, err);
    }
    return TRUE;
}

static gboolean parse_msrs(json_object *o, const char *where, UintrMsrs *m,
                           GError **err)
{
    json_object *msrs;
    g_autofree char *w = g_strdup_printf("%s: msrs", where);

    return member(o, where, "msrs", json_type_object, TRUE, &msrs, err) &&
           get_u64(msrs, w, "rr", &m->rr, err) &&
           get_u64(msrs, w, "handler", &m->handler, err) &&
           get_u64(msrs, w, "stackadjust", &m->stackadjust, err) &&
           get_u64(msrs, w, "misc", &m->misc, err) &&
           get_u64(msrs, w, "pd", &m->pd, err) &&
           get_u64(msrs, w, "tt", &m->tt, err);
}

static gboolean parse_uitt(json_object *o, const char *where, UintrVcpu *v,
                           GError **err)
{
    json_object *list;
    size_t n;

    if (!member(o, where, "uitt", json_type_array, FALSE, &list, err))
        return FALSE;
    if (!list)
        return TRUE;
    n = json_object_array_length(list);
    /* QEMU sends at most uitt-cap entries, and at most UITTSZ + 1 */
    if (n > v->uitt_cap || n > (guint64)v->uittsz + 1)
        return malformed(err, where, "'uitt' lists %zu entries, more than "
                         "uitt-cap %u or UITTSZ + 1 = %" G_GUINT64_FORMAT, n,
                         v->uitt_cap, (guint64)v->uittsz + 1);
    v->uitt = g_array_sized_new(FALSE, TRUE, sizeof(UintrUitte), (guint)n);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *w = g_strdup_printf("%s: uitt entry %zu", where, i);
        UintrUitte e;

        if (!parse_uitte(json_object_array_get_idx(list, i), w, &e, err))
            return FALSE;
        g_array_append_val(v->uitt, e);
    }
    return TRUE;
}

static void uintr_vcpu_free(gpointer p)
{
    UintrVcpu *v = p;

    g_free(v->qom_path);
    if (v->uitt)
        g_array_unref(v->uitt);
    g_free(v);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(UintrVcpu, uintr_vcpu_free)

static UintrVcpu *parse_vcpu(json_object *o, const char *where, GError **err)
{
    g_autoptr(UintrVcpu) v = g_new0(UintrVcpu, 1);
    json_object *path, *upid;
    guint64 index = 0, apic_id = 0, cpl = 0, uittsz = 0, uinv = 0, cap = 0;
    int mode = 0;

    if (!json_object_is_type(o, json_type_object)) {
        malformed(err, where, "is %s, not an object",
                  json_type_to_name(json_object_get_type(o)));
        return NULL;
    }
    if (!get_uint(o, where, "cpu-index", G_MAXINT, TRUE, NULL, &index, err) ||
        !member(o, where, "qom-path", json_type_string, TRUE, &path, err) ||
        !get_uint(o, where, "apic-id", G_MAXUINT32, TRUE, NULL, &apic_id,
                  err) ||
        !get_enum(o, where, "apic-mode", apic_mode_names, TRUE, &mode, err) ||
        !get_uint(o, where, "cpl", 3, TRUE, NULL, &cpl, err) ||
        !get_bool(o, where, "uintr", &v->uintr, err) ||
        !get_bool(o, where, "cr4-uintr", &v->cr4_uintr, err) ||
        !get_bool(o, where, "uif", &v->uif, err) ||
        !get_u64(o, where, "xcr0", &v->xcr0, err) ||
        !get_u64(o, where, "xss", &v->xss, err) ||
        !parse_msrs(o, where, &v->msrs, err) ||
        !get_bool(o, where, "stack-adjust-load", &v->stack_adjust_load,
                  err) ||
        !get_uint(o, where, "uittsz", G_MAXUINT32, TRUE, NULL, &uittsz,
                  err) ||
        !get_uint(o, where, "uinv", G_MAXUINT8, TRUE, NULL, &uinv, err) ||
        !get_u64(o, where, "uitt-address", &v->uitt_address, err) ||
        !get_bool(o, where, "uitt-valid", &v->uitt_valid, err) ||
        !get_uint(o, where, "uitt-cap", G_MAXUINT32, TRUE, NULL, &cap, err) ||
        !get_bool(o, where, "uitt-truncated", &v->uitt_truncated, err) ||
        !member(o, where, "upid", json_type_object, FALSE, &upid, err))
        return NULL;
    if ((size_t)json_object_get_string_len(path) !=
            strlen(json_object_get_string(path)) ||
        json_object_get_string(path)[0] != '/') {
        malformed(err, where, "invalid 'qom-path' '%.64s'",
                  json_object_get_string(path));
        return NULL;
    }
    v->cpu_index = (int)index;
    v->qom_path = g_strdup(json_object_get_string(path));
    v->apic_id = (guint32)apic_id;
    v->apic_mode = (UintrApicMode)mode;
    v->cpl = (guint8)cpl;
    v->uittsz = (guint32)uittsz;
    v->uinv = (guint8)uinv;
    v->uitt_cap = (guint32)cap;
    if (upid) {
        g_autofree char *w = g_strdup_printf("%s: upid", where);

        v->has_upid = TRUE;
        if (!parse_upid(upid, w, &v->upid, err))
            return NULL;
    }
    if (!parse_uitt(o, where, v, err))
        return NULL;
    return g_steal_pointer(&v);
}

static gint vcpu_cmp(gconstpointer a, gconstpointer b)
{
    const UintrVcpu *x = *(UintrVcpu *const *)a;
    const UintrVcpu *y = *(UintrVcpu *const *)b;

    return (x->cpu_index > y->cpu_index) - (x->cpu_index < y->cpu_index);
}

GPtrArray *uintr_state_parse(json_object *ret, GError **err)
{
    g_autoptr(GPtrArray) vcpus =
        g_ptr_array_new_with_free_func(uintr_vcpu_free);
    size_t n;

    if (!json_object_is_type(ret, json_type_array)) {
        malformed(err, "return value", "expected a list of vCPUs, got %s",
                  json_type_to_name(json_object_get_type(ret)));
        return NULL;
    }
    n = json_object_array_length(ret);
    if (n == 0) {
        malformed(err, "return value", "the list of vCPUs is empty");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        g_autofree char *where = g_strdup_printf("vCPU entry %zu", i);
        UintrVcpu *v = parse_vcpu(json_object_array_get_idx(ret, i), where,
                                  err);

        if (!v)
            return NULL;
        g_ptr_array_add(vcpus, v);
    }
    g_ptr_array_sort(vcpus, vcpu_cmp);
    for (guint i = 1; i < vcpus->len; i++) {
        const UintrVcpu *a = vcpus->pdata[i - 1], *b = vcpus->pdata[i];

        if (a->cpu_index == b->cpu_index) {
            malformed(err, "return value", "'cpu-index' %d is listed twice",
                      a->cpu_index);
            return NULL;
        }
    }
    return g_steal_pointer(&vcpus);
}

GPtrArray *uintr_state_query(QmpTransport *t, GError **err)
{
    g_autoptr(GError) local = NULL;
    json_object *ret = NULL;
    GPtrArray *vcpus;

    if (qmp_execute(t, UINTR_QMP_COMMAND, NULL, &ret, &local) < 0) {
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
    vcpus = uintr_state_parse(ret, err);
    json_object_put(ret);
    return vcpus;
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
