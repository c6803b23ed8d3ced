/* uintr-stream.c - the reply to query-uintr, decoded from JSON events */
#define _GNU_SOURCE /* strnlen */
#include <string.h>

#include <json-c/json.h>

#include "errors.h"
#include "uintr-state.h"
#include "uintr-stream.h"

/* --- the members of the open objects --- */

/* One member as json-c would hold it: its JSON type and its value. */
typedef struct {
    gboolean present;      /* the key was there (JSON null too) */
    json_type type;
    gboolean neg;          /* int: negative (json-c's int64 < 0) */
    gint64 i;              /* int, if neg */
    guint64 u;             /* int, if !neg */
    gboolean b;
    char *s;               /* string (NUL-terminated copy) */
    size_t slen;
} Member;

enum { V_CPU_INDEX, V_QOM_PATH, V_APIC_ID, V_APIC_MODE, V_CPL, V_UINTR,
       V_CR4_UINTR, V_UIF, V_XCR0, V_XSS, V_MSRS, V_SAL, V_UITTSZ, V_UINV,
       V_UITT_ADDRESS, V_UITT_VALID, V_UITT_CAP, V_UITT_TRUNCATED, V_UPID,
       V_UITT, V_N };
static const char *const vcpu_keys[] = {
    "cpu-index", "qom-path", "apic-id", "apic-mode", "cpl", "uintr",
    "cr4-uintr", "uif", "xcr0", "xss", "msrs", "stack-adjust-load", "uittsz",
    "uinv", "uitt-address", "uitt-valid", "uitt-cap", "uitt-truncated",
    "upid", "uitt", NULL,
};

enum { M_RR, M_HANDLER, M_STACKADJUST, M_MISC, M_PD, M_TT, M_N };
static const char *const msr_keys[] = {
    "rr", "handler", "stackadjust", "misc", "pd", "tt", NULL,
};

enum { U_ADDRESS, U_PHYS, U_ERROR, U_STATUS, U_ON, U_SN, U_NV, U_NDST,
       U_PIR, U_RESERVED, U_N };
static const char *const upid_keys[] = {
    "address", "phys-address", "error", "status", "on", "sn", "nv", "ndst",
    "pir", "reserved", NULL,
};

enum { E_INDEX, E_ADDRESS, E_PHYS, E_ERROR, E_VALID, E_UV, E_UPID_ADDRESS,
       E_RESERVED, E_UPID, E_N };
static const char *const entry_keys[] = {
    "index", "address", "phys-address", "error", "valid", "uv",
    "upid-address", "reserved", "upid", NULL,
};

/* The members present with data and absent with 'error'. */
static const int upid_data[] = { U_STATUS, U_ON, U_SN, U_NV, U_NDST, U_PIR,
                                 U_RESERVED, -1 };
static const int entry_data[] = { E_VALID, E_UV, E_UPID_ADDRESS, E_RESERVED,
                                  E_UPID, -1 };

static void members_clear(Member *m, int n)
{
    for (int i = 0; i < n; i++)
        g_free(m[i].s);
    memset(m, 0, sizeof(*m) * (size_t)n);
}

/* --- the stream --- */

typedef enum {
    F_LIST,     /* the list of vCPUs */
    F_VCPU,
    F_MSRS,
    F_UPID,     /* a vCPU's or a UITT entry's */
    F_UITT,
    F_ENTRY,    /* a UITT entry */
} Frame;

/* The state of one UPID object's decoding. */
typedef struct {
    UintrUpid upid;
    GError *error;
} UpidResult;

struct UintrStream {
    Frame frames[8];
    int depth;             /* open frames (the list is the first) */
    int skip;              /* > 0: inside a container nobody looks at */
    int key;               /* the current member's index, -1: unknown */
    gboolean started;      /* the value began */
    GError *error;         /* the first error; later vCPUs are skipped */
    GPtrArray *vcpus;
    size_t n_vcpus;        /* list elements seen */

    /* the vCPU being decoded */
    Member vcpu[V_N];
    Member msrs[M_N];
    UpidResult vupid;
    GArray *uitt;          /* its valid entries, up to the first bad one */
    size_t n_entries;      /* UITT list elements seen */
    GError *entry_error;   /* the first bad UITT entry */
    /* the UITT entry being decoded, and the UPID */
    Member entry[E_N];
    UpidResult eupid;
    Member upid[U_N];
};

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

static void vcpu_clear(UintrStream *s)
{
    members_clear(s->vcpu, V_N);
    members_clear(s->msrs, M_N);
    g_clear_error(&s->vupid.error);
    if (s->uitt)
        g_array_unref(s->uitt);
    s->uitt = NULL;
    s->n_entries = 0;
    g_clear_error(&s->entry_error);
    members_clear(s->entry, E_N);
    g_clear_error(&s->eupid.error);
    members_clear(s->upid, U_N);
}

void uintr_stream_reset(UintrStream *s)
{
    vcpu_clear(s);
    g_clear_error(&s->error);
    g_ptr_array_set_size(s->vcpus, 0);
    s->n_vcpus = 0;
    s->depth = 0;
    s->skip = 0;
    s->key = -1;
    s->started = FALSE;
}

UintrStream *uintr_stream_new(void)
{
    UintrStream *s = g_new0(UintrStream, 1);

    s->vcpus = g_ptr_array_new_with_free_func(uintr_vcpu_free);
    s->key = -1;
    return s;
}

void uintr_stream_free(UintrStream *s)
{
    if (!s)
        return;
    uintr_stream_reset(s);
    g_ptr_array_unref(s->vcpus);
    g_free(s);
}

/* --- checks on one object's members, as the tree walk made them --- */

/* @m of JSON type @type; *@has FALSE when absent or null (an error if
 * @required). */
static gboolean member(const Member *m, const char *where, const char *key,
                       json_type type, gboolean required, gboolean *has,
                       GError **err)
{
    *has = FALSE;
    if (!m->present || m->type == json_type_null) {
        if (required)
            return malformed(err, where, "member '%s' is missing", key);
        return TRUE;
    }
    if (m->type != type)
        return malformed(err, where, "member '%s' is %s, not %s", key,
                         json_type_to_name(m->type), json_type_to_name(type));
    *has = TRUE;
    return TRUE;
}

/* An unsigned integer member no larger than @max. */
static gboolean get_uint(const Member *m, const char *where, const char *key,
                         guint64 max, gboolean required, gboolean *present,
                         guint64 *out, GError **err)
{
    gboolean has;

    if (present)
        *present = FALSE;
    if (!member(m, where, key, json_type_int, required, &has, err))
        return FALSE;
    if (!has)
        return TRUE;
    if (m->neg)
        return malformed(err, where, "member '%s' is negative (%" G_GINT64_FORMAT
                         ")", key, m->i);
    if (m->u > max)
        return malformed(err, where, "member '%s' is out of range (%"
                         G_GUINT64_FORMAT ", at most %" G_GUINT64_FORMAT ")",
                         key, m->u, max);
    *out = m->u;
    if (present)
        *present = TRUE;
    return TRUE;
}

static gboolean get_u64(const Member *m, const char *where, const char *key,
                        guint64 *out, GError **err)
{
    return get_uint(m, where, key, G_MAXUINT64, TRUE, NULL, out, err);
}

static gboolean get_bool(const Member *m, const char *where, const char *key,
                         gboolean *out, GError **err)
{
    gboolean has;

    if (!member(m, where, key, json_type_boolean, TRUE, &has, err))
        return FALSE;
    *out = m->b;
    return TRUE;
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

/* An enum member: index of its string in @names (NULL-terminated). */
static gboolean get_enum(const Member *m, const char *where, const char *key,
                         const char *const *names, gboolean required,
                         int *out, GError **err)
{
    gboolean has;

    if (!member(m, where, key, json_type_string, required, &has, err))
        return FALSE;
    if (!has)
        return TRUE;
    for (int i = 0; names[i]; i++) {
        if (strcmp(m->s, names[i]) == 0) {
            *out = i;
            return TRUE;
        }
    }
    return malformed(err, where, "member '%s' has unknown value '%.64s'", key,
                     m->s);
}

/* The optional 'phys-address' and 'error' of a read structure, and the
 * data members that must not come with 'error'. */
static gboolean get_read(const Member *phys_m, const Member *error_m,
                         const Member *all, const int *data,
                         const char *const *keys, const char *where,
                         gboolean *has_phys, guint64 *phys,
                         UintrReadError *error, GError **err)
{
    int e = UINTR_READ_OK;

    if (!get_uint(phys_m, where, "phys-address", G_MAXUINT64, FALSE, has_phys,
                  phys, err) ||
        !get_enum(error_m, where, "error", read_error_names, FALSE, &e, err))
        return FALSE;
    if (e == UINTR_READ_OK && error_m->present)
        return malformed(err, where, "member 'error' has unknown value 'ok'");
    *error = (UintrReadError)e;
    for (size_t i = 0; data[i] >= 0; i++)
        if (e != UINTR_READ_OK && all[data[i]].present)
            return malformed(err, where, "member '%s' comes with 'error' "
                             "'%s'", keys[data[i]],
                             uintr_read_error_name(*error));
    return TRUE;
}

static gboolean check_upid(const Member *m, const char *where, UintrUpid *u,
                           GError **err)
{
    guint64 nv = 0, ndst = 0;

    memset(u, 0, sizeof(*u));
    if (!get_u64(&m[U_ADDRESS], where, "address", &u->address, err) ||
        !get_read(&m[U_PHYS], &m[U_ERROR], m, upid_data, upid_keys, where,
                  &u->has_phys, &u->phys_address, &u->error, err))
        return FALSE;
    if (u->error != UINTR_READ_OK)
        return TRUE;
    if (!get_u64(&m[U_STATUS], where, "status", &u->status, err) ||
        !get_bool(&m[U_ON], where, "on", &u->on, err) ||
        !get_bool(&m[U_SN], where, "sn", &u->sn, err) ||
        !get_uint(&m[U_NV], where, "nv", G_MAXUINT8, TRUE, NULL, &nv, err) ||
        !get_uint(&m[U_NDST], where, "ndst", G_MAXUINT32, TRUE, NULL, &ndst,
                  err) ||
        !get_u64(&m[U_PIR], where, "pir", &u->pir, err) ||
        !get_u64(&m[U_RESERVED], where, "reserved", &u->reserved, err))
        return FALSE;
    u->nv = (guint8)nv;
    u->ndst = (guint32)ndst;
    return TRUE;
}

static gboolean check_entry(const Member *m, const UpidResult *upid,
                            const char *where, UintrUitte *e, GError **err)
{
    guint64 index = 0, uv = 0;
    gboolean has_upid;

    memset(e, 0, sizeof(*e));
    if (!get_uint(&m[E_INDEX], where, "index", G_MAXUINT32, TRUE, NULL, &index,
                  err) ||
        !get_u64(&m[E_ADDRESS], where, "address", &e->address, err) ||
        !get_read(&m[E_PHYS], &m[E_ERROR], m, entry_data, entry_keys, where,
                  &e->has_phys, &e->phys_address, &e->error, err))
        return FALSE;
    e->index = (guint32)index;
    if (e->error != UINTR_READ_OK)
        return TRUE;
    if (!get_bool(&m[E_VALID], where, "valid", &e->valid, err) ||
        !get_uint(&m[E_UV], where, "uv", G_MAXUINT8, TRUE, NULL, &uv, err) ||
        !get_u64(&m[E_UPID_ADDRESS], where, "upid-address", &e->upid_address,
                 err) ||
        !get_u64(&m[E_RESERVED], where, "reserved", &e->reserved, err) ||
        !member(&m[E_UPID], where, "upid", json_type_object, FALSE, &has_upid,
                err))
        return FALSE;
    e->uv = (guint8)uv;
    if (has_upid) {
        e->has_upid = TRUE;
        if (upid->error) {
            g_propagate_error(err, g_error_copy(upid->error));
            return FALSE;
        }
        e->upid = upid->upid;
    }
    return TRUE;
}

static gboolean check_msrs(const Member *m, const char *where, UintrMsrs *r,
                           GError **err)
{
    g_autofree char *w = g_strdup_printf("%s: msrs", where);

    return get_u64(&m[M_RR], w, "rr", &r->rr, err) &&
           get_u64(&m[M_HANDLER], w, "handler", &r->handler, err) &&
           get_u64(&m[M_STACKADJUST], w, "stackadjust", &r->stackadjust, err) &&
           get_u64(&m[M_MISC], w, "misc", &r->misc, err) &&
           get_u64(&m[M_PD], w, "pd", &r->pd, err) &&
           get_u64(&m[M_TT], w, "tt", &r->tt, err);
}

static UintrVcpu *check_vcpu(UintrStream *s, const char *where, GError **err)
{
    g_autoptr(UintrVcpu) v = g_new0(UintrVcpu, 1);
    const Member *m = s->vcpu;
    guint64 index = 0, apic_id = 0, cpl = 0, uittsz = 0, uinv = 0, cap = 0;
    gboolean has_msrs, has_upid, has_uitt, has_path;
    int mode = 0;

    if (!get_uint(&m[V_CPU_INDEX], where, "cpu-index", G_MAXINT, TRUE, NULL,
                  &index, err) ||
        !member(&m[V_QOM_PATH], where, "qom-path", json_type_string, TRUE,
                &has_path, err) ||
        !get_uint(&m[V_APIC_ID], where, "apic-id", G_MAXUINT32, TRUE, NULL,
                  &apic_id, err) ||
        !get_enum(&m[V_APIC_MODE], where, "apic-mode", apic_mode_names, TRUE,
                  &mode, err) ||
        !get_uint(&m[V_CPL], where, "cpl", 3, TRUE, NULL, &cpl, err) ||
        !get_bool(&m[V_UINTR], where, "uintr", &v->uintr, err) ||
        !get_bool(&m[V_CR4_UINTR], where, "cr4-uintr", &v->cr4_uintr, err) ||
        !get_bool(&m[V_UIF], where, "uif", &v->uif, err) ||
        !get_u64(&m[V_XCR0], where, "xcr0", &v->xcr0, err) ||
        !get_u64(&m[V_XSS], where, "xss", &v->xss, err) ||
        !member(&m[V_MSRS], where, "msrs", json_type_object, TRUE, &has_msrs,
                err) ||
        !check_msrs(s->msrs, where, &v->msrs, err) ||
        !get_bool(&m[V_SAL], where, "stack-adjust-load", &v->stack_adjust_load,
                  err) ||
        !get_uint(&m[V_UITTSZ], where, "uittsz", G_MAXUINT32, TRUE, NULL,
                  &uittsz, err) ||
        !get_uint(&m[V_UINV], where, "uinv", G_MAXUINT8, TRUE, NULL, &uinv,
                  err) ||
        !get_u64(&m[V_UITT_ADDRESS], where, "uitt-address", &v->uitt_address,
                 err) ||
        !get_bool(&m[V_UITT_VALID], where, "uitt-valid", &v->uitt_valid, err) ||
        !get_uint(&m[V_UITT_CAP], where, "uitt-cap", G_MAXUINT32, TRUE, NULL,
                  &cap, err) ||
        !get_bool(&m[V_UITT_TRUNCATED], where, "uitt-truncated",
                  &v->uitt_truncated, err) ||
        !member(&m[V_UPID], where, "upid", json_type_object, FALSE, &has_upid,
                err))
        return NULL;
    if (m[V_QOM_PATH].slen != strlen(m[V_QOM_PATH].s) ||
        m[V_QOM_PATH].s[0] != '/') {
        malformed(err, where, "invalid 'qom-path' '%.64s'", m[V_QOM_PATH].s);
        return NULL;
    }
    v->cpu_index = (int)index;
    v->qom_path = g_strdup(m[V_QOM_PATH].s);
    v->apic_id = (guint32)apic_id;
    v->apic_mode = (UintrApicMode)mode;
    v->cpl = (guint8)cpl;
    v->uittsz = (guint32)uittsz;
    v->uinv = (guint8)uinv;
    v->uitt_cap = (guint32)cap;
    if (has_upid) {
        v->has_upid = TRUE;
        if (s->vupid.error) {
            g_propagate_error(err, g_error_copy(s->vupid.error));
            return NULL;
        }
        v->upid = s->vupid.upid;
    }
    if (!member(&m[V_UITT], where, "uitt", json_type_array, FALSE, &has_uitt,
                err))
        return NULL;
    if (!has_uitt)
        return g_steal_pointer(&v);
    /* QEMU sends at most uitt-cap entries, and at most UITTSZ + 1 */
    if (s->n_entries > v->uitt_cap ||
        s->n_entries > (guint64)v->uittsz + 1) {
        malformed(err, where, "'uitt' lists %zu entries, more than "
                  "uitt-cap %u or UITTSZ + 1 = %" G_GUINT64_FORMAT,
                  s->n_entries, v->uitt_cap, (guint64)v->uittsz + 1);
        return NULL;
    }
    if (s->entry_error) {
        g_propagate_error(err, g_error_copy(s->entry_error));
        return NULL;
    }
    /* an exact copy: the array grew by doubling */
    v->uitt = g_array_sized_new(FALSE, TRUE, sizeof(UintrUitte),
                                s->uitt->len);
    g_array_append_vals(v->uitt, s->uitt->data, s->uitt->len);
    g_array_unref(g_steal_pointer(&s->uitt));
    return g_steal_pointer(&v);
}

/* --- the events --- */

static Frame top(const UintrStream *s)
{
    return s->frames[s->depth - 1];
}

/* The members of the innermost open object, or NULL. */
static Member *object_members(UintrStream *s, const char *const **keys)
{
    switch (top(s)) {
    case F_VCPU:
        *keys = vcpu_keys;
        return s->vcpu;
    case F_MSRS:
        *keys = msr_keys;
        return s->msrs;
    case F_UPID:
        *keys = upid_keys;
        return s->upid;
    case F_ENTRY:
        *keys = entry_keys;
        return s->entry;
    default:
        return NULL;
    }
}

static char *vcpu_where(const UintrStream *s)
{
    return g_strdup_printf("vCPU entry %zu", s->n_vcpus - 1);
}

static char *entry_where(const UintrStream *s)
{
    return g_strdup_printf("vCPU entry %zu: uitt entry %zu", s->n_vcpus - 1,
                           s->n_entries - 1);
}

/* The first error of its kind: "WHERE: is TYPE, not an object". */
static void not_an_object(GError **slot, const char *where, json_type type)
{
    if (!*slot)
        malformed(slot, where, "is %s, not an object",
                  json_type_to_name(type));
}

/* A value that is not an object where a list element should be one, or
 * the whole value when it is not a list. */
static void element(UintrStream *s, json_type type)
{
    if (s->depth == 0) {
        s->started = TRUE;
        if (!s->error)
            malformed(&s->error, "return value", "expected a list of vCPUs, "
                      "got %s", json_type_to_name(type));
        return;
    }
    if (top(s) == F_LIST) {
        g_autofree char *w = NULL;

        s->n_vcpus++;
        w = vcpu_where(s);
        not_an_object(&s->error, w, type);
    } else if (top(s) == F_UITT) {
        g_autofree char *w = NULL;

        s->n_entries++;
        w = entry_where(s);
        not_an_object(&s->entry_error, w, type);
    }
}

/* Store a scalar in the current member. */
static int scalar(UintrStream *s, Member *val)
{
    const char *const *keys;
    Member *m;

    if (s->skip > 0 || s->depth == 0 || top(s) == F_LIST ||
        top(s) == F_UITT) {
        if (s->skip == 0)
            element(s, val->type);
        g_free(val->s);
        return 1;
    }
    m = object_members(s, &keys);
    if (m && s->key >= 0) {
        g_free(m[s->key].s);
        m[s->key] = *val;
    } else {
        g_free(val->s);
    }
    return 1;
}

static int on_null(void *ctx)
{
    Member v = { .present = TRUE, .type = json_type_null };

    return scalar(ctx, &v);
}

static int on_boolean(void *ctx, int b)
{
    Member v = { .present = TRUE, .type = json_type_boolean, .b = !!b };

    return scalar(ctx, &v);
}

/* A number as json-c reads it: a double with '.', 'e' or 'E', else an
 * int64 if negative and a uint64 if not, both saturated. */
static int on_number(void *ctx, const char *text, size_t len)
{
    Member v = { .present = TRUE, .type = json_type_int };
    g_autofree char *t = g_strndup(text, len);

    if (strpbrk(t, ".eE")) {
        v.type = json_type_double;
    } else if (t[0] == '-') {
        v.i = g_ascii_strtoll(t, NULL, 10);
        v.neg = v.i < 0;
    } else {
        v.u = g_ascii_strtoull(t, NULL, 10);
    }
    return scalar(ctx, &v);
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
    Member v = { .present = TRUE, .type = json_type_string };

    /* the whole string, NULs included (qom-path must have none) */
    v.s = g_malloc(len + 1);
    memcpy(v.s, text, len);
    v.s[len] = 0;
    v.slen = len;
    return scalar(ctx, &v);
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    UintrStream *s = ctx;
    const char *const *keys;
    size_t klen;

    if (s->skip > 0 || !object_members(s, &keys))
        return 1;
    /* json-c keeps keys as C strings: an escaped NUL ends them */
    klen = strnlen((const char *)key, len);
    s->key = -1;
    for (int i = 0; keys[i]; i++) {
        if (strlen(keys[i]) == klen && memcmp(keys[i], key, klen) == 0) {
            s->key = i;
            break;
        }
    }
    return 1;
}

static void push(UintrStream *s, Frame f)
{
    s->frames[s->depth++] = f;
    s->key = -1;
}

static int on_start(UintrStream *s, gboolean map)
{
    json_type type = map ? json_type_object : json_type_array;
    const char *const *keys;
    Member *m;

    if (s->skip > 0) {
        s->skip++;
        return 1;
    }
    if (s->depth == 0) {
        if (map) {
            element(s, type);
            s->skip = 1;
        } else {
            s->started = TRUE;
            push(s, F_LIST);
        }
        return 1;
    }
    switch (top(s)) {
    case F_LIST:
        if (map && !s->error) {
            s->n_vcpus++;
            vcpu_clear(s);
            push(s, F_VCPU);
        } else {
            element(s, type);
            s->skip = 1;
        }
        return 1;
    case F_UITT:
        if (map && !s->entry_error) {
            s->n_entries++;
            members_clear(s->entry, E_N);
            g_clear_error(&s->eupid.error);
            push(s, F_ENTRY);
        } else {
            element(s, type);
            s->skip = 1;
        }
        return 1;
    default:
        break;
    }
    m = object_members(s, &keys);
    if (s->key < 0) {
        s->skip = 1;
        return 1;
    }
    g_free(m[s->key].s);
    memset(&m[s->key], 0, sizeof(Member));
    m[s->key].present = TRUE;
    m[s->key].type = type;
    if (top(s) == F_VCPU && s->key == V_MSRS && map) {
        members_clear(s->msrs, M_N);
        push(s, F_MSRS);
    } else if (top(s) == F_VCPU && s->key == V_UPID && map) {
        members_clear(s->upid, U_N);
        g_clear_error(&s->vupid.error);
        push(s, F_UPID);
    } else if (top(s) == F_ENTRY && s->key == E_UPID && map) {
        members_clear(s->upid, U_N);
        g_clear_error(&s->eupid.error);
        push(s, F_UPID);
    } else if (top(s) == F_VCPU && s->key == V_UITT && !map) {
        if (s->uitt)
            g_array_unref(s->uitt);
        s->uitt = g_array_new(FALSE, TRUE, sizeof(UintrUitte));
        s->n_entries = 0;
        g_clear_error(&s->entry_error);
        push(s, F_UITT);
    } else {
        s->skip = 1;
    }
    return 1;
}

static int on_start_map(void *ctx)
{
    return on_start(ctx, TRUE);
}

static int on_start_array(void *ctx)
{
    return on_start(ctx, FALSE);
}

static int on_end(void *ctx)
{
    UintrStream *s = ctx;
    Frame f;

    if (s->skip > 0) {
        s->skip--;
        return 1;
    }
    if (s->depth == 0)
        return 1;
    f = s->frames[--s->depth];
    s->key = -1;
    if (f == F_VCPU) {
        g_autofree char *w = vcpu_where(s);
        UintrVcpu *v = check_vcpu(s, w, &s->error);

        if (v)
            g_ptr_array_add(s->vcpus, v);
        vcpu_clear(s);
    } else if (f == F_UPID) {
        gboolean own = top(s) == F_VCPU;
        g_autofree char *w = own ? vcpu_where(s) : entry_where(s);
        g_autofree char *where = g_strdup_printf("%s: upid", w);
        UpidResult *r = own ? &s->vupid : &s->eupid;

        check_upid(s->upid, where, &r->upid, &r->error);
        members_clear(s->upid, U_N);
    } else if (f == F_ENTRY) {
        g_autofree char *w = entry_where(s);
        UintrUitte e;

        if (check_entry(s->entry, &s->eupid, w, &e, &s->entry_error))
            g_array_append_val(s->uitt, e);
        members_clear(s->entry, E_N);
        g_clear_error(&s->eupid.error);
    }
    return 1;
}

const yajl_callbacks uintr_stream_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static gint vcpu_cmp(gconstpointer a, gconstpointer b)
{
    const UintrVcpu *x = *(UintrVcpu *const *)a;
    const UintrVcpu *y = *(UintrVcpu *const *)b;

    return (x->cpu_index > y->cpu_index) - (x->cpu_index < y->cpu_index);
}

GPtrArray *uintr_stream_finish(UintrStream *s, GError **err)
{
    GPtrArray *vcpus = NULL;

    if (!s->started && !s->error)
        malformed(&s->error, "return value", "expected a list of vCPUs, got "
                  "null");
    if (!s->error && s->n_vcpus == 0)
        malformed(&s->error, "return value", "the list of vCPUs is empty");
    if (!s->error) {
        g_ptr_array_sort(s->vcpus, vcpu_cmp);
        for (guint i = 1; i < s->vcpus->len && !s->error; i++) {
            const UintrVcpu *a = s->vcpus->pdata[i - 1];
            const UintrVcpu *b = s->vcpus->pdata[i];

            if (a->cpu_index == b->cpu_index)
                malformed(&s->error, "return value", "'cpu-index' %d is "
                          "listed twice", a->cpu_index);
        }
    }
    if (s->error) {
        g_propagate_error(err, g_steal_pointer(&s->error));
    } else {
        vcpus = s->vcpus;
        s->vcpus = g_ptr_array_new_with_free_func(uintr_vcpu_free);
    }
    uintr_stream_reset(s);
    return vcpus;
}

GPtrArray *uintr_stream_decode_text(const char *text, size_t len,
                                    GError **err)
{
    g_autoptr(UintrStream) s = uintr_stream_new();
    yajl_handle h = yajl_alloc(&uintr_stream_callbacks, NULL, s);
    yajl_status st;

    yajl_config(h, yajl_dont_validate_strings, 1);
    st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (st != yajl_status_ok) {
        unsigned char *msg = yajl_get_error(h, 0, NULL, 0);

        malformed(err, "return value", "not JSON: %s", (const char *)msg);
        yajl_free_error(h, msg);
        yajl_free(h);
        return NULL;
    }
    yajl_free(h);
    return uintr_stream_finish(s, err);
}
