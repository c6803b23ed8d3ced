/* test-check.c - query-uintr decoding, every rule's PASS/FAIL/WARN/SKIP,
 * and the check/show reports, from synthetic replies written from
 * QEMU's query-uintr schema (tests/data/query-uintr-*.json) and edited
 * per test */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "cpuid.h"
#include "errors.h"
#include "reports.h"
#include "rules.h"
#include "uintr-state.h"
#include "unit.h"

/* --- editing replies: "0/upid/status" paths into the return value --- */

static json_object *load_return(const char *file)
{
    g_autofree char *text = unit_read_data(file);
    json_object *reply = json_tokener_parse(text);
    json_object *ret = NULL;

    CHECK(reply != NULL);
    CHECK(json_object_object_get_ex(reply, "return", &ret));
    json_object_get(ret);
    json_object_put(reply);
    return ret;
}

/* Walk to the parent of the last path element. */
static json_object *walk(json_object *root, const char *path, char **last)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    guint n = g_strv_length(parts);
    json_object *o = root;

    for (guint i = 0; i + 1 < n && o; i++) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)atoi(parts[i]));
        else if (!json_object_object_get_ex(o, parts[i], &o))
            o = NULL;
    }
    if (!o)
        unit_fail(__FILE__, __LINE__, "no such path %s", path);
    *last = g_strdup(parts[n - 1]);
    return o;
}

static void put(json_object *root, const char *path, json_object *val)
{
    g_autofree char *key = NULL;
    json_object *o = walk(root, path, &key);

    if (!o) {
        json_object_put(val);
        return;
    }
    if (json_object_is_type(o, json_type_array))
        json_object_array_put_idx(o, (size_t)atoi(key), val);
    else if (val)
        json_object_object_add(o, key, val);
    else
        json_object_object_del(o, key);
}

static void set_u64(json_object *root, const char *path, guint64 v)
{
    put(root, path, json_object_new_uint64(v));
}

static void set_bool(json_object *root, const char *path, gboolean v)
{
    put(root, path, json_object_new_boolean(v));
}

static guint64 get_u64(json_object *root, const char *path)
{
    g_autofree char *key = NULL;
    json_object *o = walk(root, path, &key), *v = NULL;

    if (!o || !json_object_object_get_ex(o, key, &v))
        unit_fail(__FILE__, __LINE__, "no such member %s", path);
    return v ? json_object_get_uint64(v) : 0;
}

/* Set a UPID's raw status and QEMU's decoding of it together. */
static void set_status(json_object *root, const char *upid, guint64 status)
{
    g_autofree char *s = g_strconcat(upid, "/status", NULL);
    g_autofree char *on = g_strconcat(upid, "/on", NULL);
    g_autofree char *sn = g_strconcat(upid, "/sn", NULL);
    g_autofree char *nv = g_strconcat(upid, "/nv", NULL);
    g_autofree char *ndst = g_strconcat(upid, "/ndst", NULL);
    g_autofree char *rsvd = g_strconcat(upid, "/reserved", NULL);

    set_u64(root, s, status);
    set_bool(root, on, status & UPID_ON);
    set_bool(root, sn, !!(status & UPID_SN));
    set_u64(root, nv, UPID_NV(status));
    set_u64(root, ndst, UPID_NDST(status));
    set_u64(root, rsvd, status & UPID_RESERVED);
}

/* Replace a read structure's data by a read error. */
static void set_read_error(json_object *root, const char *path,
                           const char *error)
{
    static const char *const data[] = {
        "status", "on", "sn", "nv", "ndst", "pir", "reserved", "valid", "uv",
        "upid-address", "upid", "phys-address",
    };
    json_object *o = root;
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);

    for (guint i = 0; parts[i] && o; i++) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)atoi(parts[i]));
        else if (!json_object_object_get_ex(o, parts[i], &o))
            o = NULL;
    }
    CHECK(o != NULL);
    if (!o)
        return;
    for (size_t i = 0; i < G_N_ELEMENTS(data); i++)
        json_object_object_del(o, data[i]);
    json_object_object_add(o, "error", json_object_new_string(error));
}

/* --- evaluating rules on edited replies --- */

typedef struct {
    const char *feature_words;   /* tests/data file; NULL: "[]" */
    gboolean uintr;              /* the vCPUs' uintr property */
    CpuidExpect expect;
    gboolean one_sample;
} Setup;

static const Setup healthy = {
    "feature-words-uintr-xsaves.json", TRUE, CPUID_EXPECT_ON, FALSE,
};

static GPtrArray *gather_cpus(const Setup *su)
{
    g_autofree char *fw = su->feature_words ? unit_read_data(su->feature_words)
                                            : g_strdup("{\"return\": []}");
    g_autofree char *cpus = unit_read_data("query-cpus-fast-2.json");
    const char *prop = su->uintr ? "{\"return\": true}" : "{\"return\": false}";
    const char *replies[] = { cpus, prop, fw, prop, fw, NULL };
    g_autoptr(GError) err = NULL;
    QmpTransport *t = fake_transport_new(replies);
    GPtrArray *v = cpuid_gather(t, UINTR_PROPERTY, &err);

    CHECK(err == NULL);
    qmp_transport_free(t);
    return v;
}

static GPtrArray *parse_ok(json_object *ret)
{
    g_autoptr(GError) err = NULL;
    GPtrArray *v = uintr_state_parse(ret, &err);

    if (err)
        unit_fail(__FILE__, __LINE__, "parse: %s", err->message);
    return v;
}

/* Evaluate with @first (and @last, or @first again) edited replies;
 * @last NULL and !one_sample: the same reply twice. */
static GPtrArray *eval2(const Setup *su, json_object *first, json_object *last)
{
    g_autoptr(GPtrArray) cpus = gather_cpus(su);
    g_autoptr(GPtrArray) a = first ? parse_ok(first) : NULL;
    g_autoptr(GPtrArray) b = last ? parse_ok(last)
                                  : (first && !su->one_sample ? parse_ok(first)
                                                              : NULL);
    CpuidVerdict verdict;
    RuleInput in = {
        .cpus = cpus, .verdict = &verdict, .first = a, .last = b ? b : a,
        .no_state_reason = "QEMU lacks query-uintr", .interval_ms = 200,
    };
    GPtrArray *out;

    if (!cpus)
        return g_ptr_array_new();
    cpuid_verdict(cpus, NULL, su->expect, &verdict);
    out = rules_evaluate(&in);
    cpuid_verdict_clear(&verdict);
    return out;
}

static GPtrArray *eval(const Setup *su, json_object *ret)
{
    return eval2(su, ret, NULL);
}

static const RuleOutcome *find(GPtrArray *out, const char *rule, int cpu)
{
    for (guint i = 0; i < out->len; i++) {
        const RuleOutcome *o = out->pdata[i];

        if (strcmp(o->rule->id, rule) == 0 && o->cpu_index == cpu)
            return o;
    }
    return NULL;
}

#define EXPECT_RULE(out, rule, cpu, res, detail_part) \
    expect_rule(__FILE__, __LINE__, out, rule, cpu, res, detail_part)

static void expect_rule(const char *file, int line, GPtrArray *out,
                        const char *rule, int cpu, RuleResult res,
                        const char *detail_part)
{
    const RuleOutcome *o = find(out, rule, cpu);

    if (!o) {
        unit_fail(file, line, "%s on vCPU %d not evaluated", rule, cpu);
        return;
    }
    if (o->result != res)
        unit_fail(file, line, "%s vCPU %d: %s, want %s (%s)", rule, cpu,
                  rule_result_name(o->result), rule_result_name(res),
                  o->detail);
    else if (detail_part && !strstr(o->detail, detail_part))
        unit_fail(file, line, "%s vCPU %d: detail \"%s\" lacks \"%s\"", rule,
                  cpu, o->detail, detail_part);
}

/* Only @rule (on @cpu) differs from the healthy reply's results. */
static void expect_only(const char *file, int line, GPtrArray *out,
                        const char *rule, int cpu, RuleResult res,
                        const char *detail_part)
{
    g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) base = eval(&healthy, ret);

    expect_rule(file, line, out, rule, cpu, res, detail_part);
    CHECK_INT(out->len, base->len);
    for (guint i = 0; i < out->len && i < base->len; i++) {
        const RuleOutcome *o = out->pdata[i], *b = base->pdata[i];

        if ((strcmp(o->rule->id, rule) != 0 || o->cpu_index != cpu) &&
            o->result != b->result)
            unit_fail(file, line, "%s vCPU %d changed too: %s (%s)",
                      o->rule->id, o->cpu_index, rule_result_name(o->result),
                      o->detail);
    }
}

#define EXPECT_ONLY(out, rule, cpu, res, detail_part) \
    expect_only(__FILE__, __LINE__, out, rule, cpu, res, detail_part)

/* --- healthy and idle guests --- */

static void healthy_xapic(void)
{
    g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) out = eval(&healthy, ret);
    size_t nrules;

    rules_table(&nrules);
    CHECK_INT(out->len, 1 + (nrules - 1) * 2);
    CHECK(rules_worst(out) == RULE_SKIP);
    EXPECT_RULE(out, "UINTR-001", -1, RULE_PASS, "as expected");
    for (int cpu = 0; cpu < 2; cpu++) {
        EXPECT_RULE(out, "UINTR-002", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-003", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-004", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-005", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-006", cpu, RULE_PASS, "48-bit");
        EXPECT_RULE(out, "UINTR-007", cpu, RULE_PASS, "guest-physical");
        EXPECT_RULE(out, "UINTR-008", cpu, RULE_PASS, "0xec");
        EXPECT_RULE(out, "UINTR-009", cpu, RULE_PASS, "xapic");
        EXPECT_RULE(out, "UINTR-010", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-011", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-012", cpu, RULE_PASS, NULL);
        EXPECT_RULE(out, "UINTR-013", cpu, RULE_PASS, "UIRR 0");
        EXPECT_RULE(out, "UINTR-014", cpu, RULE_PASS, NULL);
    }
    EXPECT_RULE(out, "UINTR-015", 0, RULE_PASS, "2 entries");
    EXPECT_RULE(out, "UINTR-016", 0, RULE_PASS, "1 valid entry");
    EXPECT_RULE(out, "UINTR-017", 0, RULE_PASS, NULL);
    EXPECT_RULE(out, "UINTR-018", 0, RULE_PASS, NULL);
    for (int r = 15; r <= 18; r++) {
        g_autofree char *id = g_strdup_printf("UINTR-%03d", r);

        EXPECT_RULE(out, id, 1, RULE_SKIP, "SENDUIPI disabled");
    }
}

static void healthy_x2apic(void)
{
    g_autoptr(json_object) ret = load_return("query-uintr-x2apic.json");
    g_autoptr(GPtrArray) out = eval(&healthy, ret);

    CHECK(rules_worst(out) == RULE_SKIP);
    EXPECT_RULE(out, "UINTR-009", 1, RULE_PASS, "x2apic");
    EXPECT_RULE(out, "UINTR-018", 0, RULE_PASS, NULL);
}

static void idle_guest(void)
{
    g_autoptr(json_object) ret = load_return("query-uintr-idle.json");
    g_autoptr(GPtrArray) out = eval(&healthy, ret);
    static const char *const skipped[] = {
        "UINTR-004", "UINTR-007", "UINTR-008", "UINTR-009", "UINTR-010",
        "UINTR-011", "UINTR-012", "UINTR-014", "UINTR-015", "UINTR-016",
        "UINTR-017", "UINTR-018",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(skipped); i++)
        EXPECT_RULE(out, skipped[i], 0, RULE_SKIP, NULL);
    EXPECT_RULE(out, "UINTR-004", 1, RULE_SKIP, "not in use");
    EXPECT_RULE(out, "UINTR-002", 0, RULE_PASS, NULL);
    EXPECT_RULE(out, "UINTR-005", 0, RULE_PASS, NULL);
}

/* --- UINTR-001, 003: CPUID --- */

static void cpuid_rule(void)
{
    g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
    Setup off = healthy, none = healthy;
    g_autoptr(GPtrArray) a = NULL;
    g_autoptr(GPtrArray) b = NULL;

    off.expect = CPUID_EXPECT_OFF;
    a = eval(&off, ret);
    EXPECT_ONLY(a, "UINTR-001", -1, RULE_FAIL, "--expect asks for uintr off");
    none.expect = CPUID_EXPECT_NONE;
    b = eval(&none, ret);
    EXPECT_ONLY(b, "UINTR-001", -1, RULE_SKIP, "nothing to compare with");
}

static void xsave_rule(void)
{
    g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
    Setup no_xsaves = healthy, no_words = healthy, disabled = healthy;
    g_autoptr(GPtrArray) a = NULL;
    g_autoptr(GPtrArray) b = NULL;
    g_autoptr(GPtrArray) c = NULL;

    no_xsaves.feature_words = "feature-words-uintr.json";
    a = eval(&no_xsaves, ret);
    EXPECT_RULE(a, "UINTR-003", 0, RULE_FAIL, "without XSAVES");
    EXPECT_RULE(a, "UINTR-003", 1, RULE_FAIL, "ECX[14] = 0");
    no_words.feature_words = NULL;
    b = eval(&no_words, ret);
    EXPECT_RULE(b, "UINTR-003", 0, RULE_SKIP, "feature-words");
    EXPECT_RULE(b, "UINTR-006", 0, RULE_PASS, "LA57 unknown");
    disabled.uintr = FALSE;
    disabled.expect = CPUID_EXPECT_NONE;
    c = eval(&disabled, ret);
    EXPECT_RULE(c, "UINTR-003", 0, RULE_SKIP, "not enumerated");
    /* query-uintr says uintr, the property says no: QEMU contradicts itself */
    EXPECT_RULE(c, "UINTR-002", 0, RULE_FAIL, "uintr property");
}

/* --- UINTR-002: QEMU's decoding vs the raw values --- */

static void reply_consistency(void)
{
    static const struct {
        const char *path;
        guint64 value;
        const char *detail;
    } edits[] = {
        { "0/uinv", 0xed, "uinv" },
        { "0/uittsz", 7, "uittsz" },
        { "0/uitt-address", 0x1000, "uitt-address" },
        { "0/upid/nv", 0xed, "do not decode" },
        { "0/upid/reserved", 4, "do not decode" },
        { "0/upid/address", 0x2000, "address 0x2000" },
        { "0/uitt/1/index", 7, "index 7" },
        { "0/uitt/1/address", 0x10, "expected" },
        { "0/uitt/0/reserved", 0x100, "non-reserved" },
        { "0/uitt/0/upid/ndst", 9, "do not decode" },
        { "1/apic-id", 300, "xAPIC ID" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
        g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
        g_autoptr(GPtrArray) out = NULL;
        int cpu = edits[i].path[0] - '0';

        set_u64(ret, edits[i].path, edits[i].value);
        out = eval(&healthy, ret);
        EXPECT_RULE(out, "UINTR-002", cpu, RULE_FAIL, edits[i].detail);
    }
}

static void reply_consistency_flags(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) c = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) d = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL, oc = NULL, od = NULL;

    set_bool(a, "0/upid/on", TRUE);
    set_bool(a, "0/uitt-truncated", TRUE);
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-002", 0, RULE_FAIL, "do not decode");
    EXPECT_RULE(oa, "UINTR-002", 0, RULE_FAIL, "truncated 1");
    set_bool(b, "0/uitt-valid", FALSE);
    ob = eval(&healthy, b);
    EXPECT_ONLY(ob, "UINTR-002", 0, RULE_FAIL, "uitt-valid");
    put(c, "1/upid", NULL);
    oc = eval(&healthy, c);
    EXPECT_RULE(oc, "UINTR-002", 1, RULE_FAIL, "UPID absent");
    EXPECT_RULE(oc, "UINTR-007", 1, RULE_SKIP, "did not read");
    /* vCPU 1 missing from query-uintr */
    json_object_array_del_idx(d, 1, 1);
    od = eval(&healthy, d);
    EXPECT_RULE(od, "UINTR-002", 1, RULE_FAIL, "missing");
    EXPECT_RULE(od, "UINTR-004", 1, RULE_SKIP, "no query-uintr state");
    /* entry 0's target now names no vCPU's APIC ID */
    EXPECT_RULE(od, "UINTR-018", 0, RULE_FAIL, "no vCPU has it");
}

/* --- UINTR-004 .. 014 --- */

static void single_edits(void)
{
    static const struct {
        const char *path;
        guint64 value;
        gboolean is_bool;
        const char *rule;
        int cpu;
        RuleResult result;
        const char *detail;
    } edits[] = {
        { "0/cr4-uintr", 0, TRUE, "UINTR-004", 0, RULE_FAIL, "CR4.UINTR is clear" },
        { "0/msrs/handler", 0x0000800000000000ull, FALSE, "UINTR-006", 0,
          RULE_FAIL, "HANDLER" },
        { "1/msrs/stackadjust", 0x00ff000000000080ull, FALSE, "UINTR-006", 1,
          RULE_FAIL, "STACKADJUST" },
        { "0/xss", 0, FALSE, "UINTR-014", 0, RULE_WARN, "lacks bit 14" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
        g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
        g_autoptr(GPtrArray) out = NULL;

        if (edits[i].is_bool)
            set_bool(ret, edits[i].path, edits[i].value);
        else
            set_u64(ret, edits[i].path, edits[i].value);
        out = eval(&healthy, ret);
        expect_only(__FILE__, __LINE__, out, edits[i].rule, edits[i].cpu,
                    edits[i].result, edits[i].detail);
    }
}

static void msr_reserved(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL;

    set_u64(a, "1/msrs/misc", get_u64(a, "1/msrs/misc") | (1ull << 40));
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-005", 1, RULE_FAIL, "bits 63:40");
    set_u64(b, "0/msrs/tt", get_u64(b, "0/msrs/tt") | 2);
    ob = eval(&healthy, b);
    EXPECT_ONLY(ob, "UINTR-005", 0, RULE_FAIL, "bits 3:1");
}

static void upid_location(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) c = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL, oc = NULL;
    guint64 pd = get_u64(a, "1/msrs/pd") + 8;

    /* misaligned, and the sender's UITT entry points at it too */
    set_u64(a, "1/msrs/pd", pd);
    set_u64(a, "1/upid/address", pd);
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-007", 1, RULE_FAIL, "not 64-byte aligned");
    set_read_error(b, "1/upid", "not-mapped");
    ob = eval(&healthy, b);
    EXPECT_RULE(ob, "UINTR-007", 1, RULE_FAIL, "not-mapped");
    EXPECT_RULE(ob, "UINTR-008", 1, RULE_SKIP, "not readable");
    EXPECT_RULE(ob, "UINTR-002", 1, RULE_PASS, NULL);
    /* UINV armed without a UPID */
    set_u64(c, "1/msrs/pd", 0);
    put(c, "1/upid", NULL);
    oc = eval(&healthy, c);
    EXPECT_RULE(oc, "UINTR-007", 1, RULE_FAIL, "IA32_UINTR_PD is 0");
    EXPECT_RULE(oc, "UINTR-008", 1, RULE_SKIP, "no UPID");
}

static void upid_nv_ndst(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) c = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) d = load_return("query-uintr-x2apic.json");
    g_autoptr(json_object) e = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) f = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL, oc = NULL, od = NULL;
    g_autoptr(GPtrArray) oe = NULL, of = NULL;

    set_status(a, "0/upid", 0xedull << 16);
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-008", 0, RULE_FAIL, "UPID.NV 0xed, UINV 0xec");
    /* xAPIC: vCPU 0's UPID names APIC ID 1 */
    set_status(b, "0/upid", (0xecull << 16) | (0x100ull << 32));
    ob = eval(&healthy, b);
    EXPECT_ONLY(ob, "UINTR-009", 0, RULE_FAIL, "names APIC ID 1");
    /* xAPIC: right ID in 15:8, junk elsewhere */
    set_status(c, "1/upid", (0xecull << 16) | (0x10100ull << 32));
    set_status(c, "0/uitt/0/upid", (0xecull << 16) | (0x10100ull << 32));
    oc = eval(&healthy, c);
    EXPECT_RULE(oc, "UINTR-009", 1, RULE_WARN, "outside 15:8");
    EXPECT_RULE(oc, "UINTR-018", 0, RULE_WARN, "outside 15:8");
    /* x2APIC: the whole field counts */
    set_status(d, "1/upid", (0xecull << 16) | (0x100ull << 32));
    od = eval(&healthy, d);
    EXPECT_RULE(od, "UINTR-009", 1, RULE_FAIL, "APIC ID 256 in x2apic");
    /* a disabled APIC receives nothing */
    put(e, "0/apic-mode", json_object_new_string("disabled"));
    oe = eval(&healthy, e);
    EXPECT_RULE(oe, "UINTR-009", 0, RULE_FAIL, "disabled");
    EXPECT_RULE(oe, "UINTR-018", 0, RULE_FAIL, "disabled");
    /* UINV 0: switched out, NV and NDST not evaluated */
    set_u64(f, "1/msrs/misc", 0);
    set_u64(f, "1/uinv", 0);
    of = eval(&healthy, f);
    EXPECT_RULE(of, "UINTR-008", 1, RULE_SKIP, "UINV is 0");
    EXPECT_RULE(of, "UINTR-009", 1, RULE_SKIP, "UINV is 0");
    EXPECT_RULE(of, "UINTR-018", 0, RULE_PASS, NULL);
}

static void upid_state_bits(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) c = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) d = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL, oc = NULL, od = NULL;

    set_status(a, "0/upid", (0xecull << 16) | 0x4);
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-010", 0, RULE_FAIL, "reserved bits 0x4");
    set_status(b, "1/upid", (0xecull << 16) | (0x100ull << 32) | UPID_SN);
    set_u64(b, "1/upid/pir", 8);
    ob = eval(&healthy, b);
    EXPECT_ONLY(ob, "UINTR-011", 1, RULE_WARN, "PIR 0x0000000000000008");
    set_status(c, "1/upid", (0xecull << 16) | (0x100ull << 32) | UPID_ON);
    oc = eval(&healthy, c);
    EXPECT_ONLY(oc, "UINTR-012", 1, RULE_WARN, "nothing posted");
    /* ON with something posted: in flight, fine */
    set_status(d, "1/upid", (0xecull << 16) | (0x100ull << 32) | UPID_ON);
    set_u64(d, "1/upid/pir", 1);
    od = eval(&healthy, d);
    EXPECT_RULE(od, "UINTR-012", 1, RULE_PASS, NULL);
    EXPECT_RULE(od, "UINTR-011", 1, RULE_PASS, NULL);
}

static void uirr_uif(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    Setup one = healthy;
    g_autoptr(GPtrArray) both = NULL, once = NULL, cleared = NULL;

    set_u64(a, "0/msrs/rr", 0x10);
    set_bool(a, "0/uif", FALSE);
    both = eval(&healthy, a);
    EXPECT_ONLY(both, "UINTR-013", 0, RULE_WARN, "both samples, 200 ms apart");
    one.one_sample = TRUE;
    once = eval(&one, a);
    EXPECT_RULE(once, "UINTR-013", 0, RULE_SKIP, "only one sample");
    /* UIF set again in the second sample: PASS */
    set_u64(b, "0/msrs/rr", 0x10);
    cleared = eval2(&healthy, a, b);
    EXPECT_RULE(cleared, "UINTR-013", 0, RULE_PASS, "UIF 0 then 1");
}

/* --- UINTR-015 .. 018: the UITT --- */

static void uitt_rules(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) c = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) d = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) e = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL, oc = NULL, od = NULL;
    g_autoptr(GPtrArray) oe = NULL;

    set_read_error(a, "0/uitt/1", "not-mapped");
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-015", 0, RULE_FAIL, "entry 1 at");
    set_u64(b, "0/uitt/0/uv", 64);
    ob = eval(&healthy, b);
    EXPECT_ONLY(ob, "UINTR-016", 0, RULE_FAIL, "UV 64 is not below 64");
    set_u64(c, "0/uitt/0/reserved", 0x10000);
    oc = eval(&healthy, c);
    EXPECT_ONLY(oc, "UINTR-016", 0, RULE_FAIL, "reserved bits 0x10000");
    /* no valid entry left */
    set_bool(d, "0/uitt/0/valid", FALSE);
    put(d, "0/uitt/0/upid", NULL);
    od = eval(&healthy, d);
    EXPECT_RULE(od, "UINTR-016", 0, RULE_SKIP, "no valid UITT entry");
    EXPECT_RULE(od, "UINTR-018", 0, RULE_SKIP, "no valid UITT entry");
    /* misaligned target UPID */
    set_u64(e, "0/uitt/0/upid-address", get_u64(e, "0/uitt/0/upid-address") + 16);
    set_u64(e, "0/uitt/0/upid/address", get_u64(e, "0/uitt/0/upid-address"));
    oe = eval(&healthy, e);
    EXPECT_ONLY(oe, "UINTR-017", 0, RULE_FAIL, "not 64-byte aligned");
}

static void uitt_target_upid(void)
{
    g_autoptr(json_object) a = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) b = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) c = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) d = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) oa = NULL, ob = NULL, oc = NULL, od = NULL;

    set_read_error(a, "0/uitt/0/upid", "not-ram");
    oa = eval(&healthy, a);
    EXPECT_ONLY(oa, "UINTR-017", 0, RULE_FAIL, "not-ram");
    set_status(b, "0/uitt/0/upid", (0xecull << 16) | (0x500ull << 32));
    ob = eval(&healthy, b);
    EXPECT_ONLY(ob, "UINTR-018", 0, RULE_FAIL, "names APIC ID 5");
    set_status(c, "0/uitt/0/upid", (0xedull << 16) | (0x100ull << 32));
    oc = eval(&healthy, c);
    EXPECT_ONLY(oc, "UINTR-018", 0, RULE_FAIL, "NV 0xed, but vCPU 1");
    set_status(d, "0/uitt/0/upid", (0xecull << 16) | (0x100ull << 32) | 0x8);
    od = eval(&healthy, d);
    EXPECT_ONLY(od, "UINTR-018", 0, RULE_FAIL, "reserved bits 0x8");
}

static void no_query_uintr(void)
{
    g_autoptr(GPtrArray) out = eval(&healthy, NULL);

    EXPECT_RULE(out, "UINTR-001", -1, RULE_PASS, NULL);
    EXPECT_RULE(out, "UINTR-003", 0, RULE_PASS, NULL);
    EXPECT_RULE(out, "UINTR-002", 0, RULE_SKIP, "QEMU lacks query-uintr");
    EXPECT_RULE(out, "UINTR-018", 1, RULE_SKIP, "QEMU lacks query-uintr");
}

static void rule_table_ids(void)
{
    size_t n;
    const RuleInfo *t = rules_table(&n);

    CHECK(n >= 18);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *id = g_strdup_printf("UINTR-%03zu", i + 1);

        CHECK_STR(t[i].id, id);
        CHECK(t[i].clause && t[i].clause[0]);
        CHECK(t[i].what && t[i].hint);
        CHECK(t[i].per_vcpu == (i != 0));
    }
}

/* --- decoding garbage --- */

static void expect_garbage(json_object *ret, const char *msg_part)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) v = uintr_state_parse(ret, &err);

    CHECK(v == NULL);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    if (err)
        CHECK_CONTAINS(err->message, msg_part);
}

static void garbage_edit(const char *path, json_object *val,
                         const char *msg_part)
{
    g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");

    put(ret, path, val);
    expect_garbage(ret, msg_part);
}

static void parse_garbage(void)
{
    g_autoptr(json_object) list = json_object_new_array();
    g_autoptr(json_object) obj = json_object_new_object();
    g_autoptr(json_object) dup = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) both = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) many = load_return("query-uintr-xapic.json");
    json_object *entries;

    expect_garbage(obj, "expected a list of vCPUs");
    expect_garbage(list, "empty");
    json_object_array_add(list, json_object_new_int(1));
    expect_garbage(list, "vCPU entry 0: is int");
    garbage_edit("0/xcr0", json_object_new_string("7"), "'xcr0' is string");
    garbage_edit("0/xcr0", json_object_new_double(7.0), "'xcr0' is double");
    garbage_edit("0/xcr0", NULL, "'xcr0' is missing");
    garbage_edit("0/msrs/pd", json_object_new_int(-1), "'pd' is negative");
    garbage_edit("0/cpu-index", json_object_new_int64(-5), "negative");
    garbage_edit("0/cpu-index", json_object_new_int64(1ll << 40), "out of range");
    garbage_edit("0/uinv", json_object_new_int(256), "out of range");
    garbage_edit("0/cpl", json_object_new_int(4), "'cpl' is out of range");
    garbage_edit("0/upid/ndst", json_object_new_int64(1ll << 32), "out of range");
    garbage_edit("0/apic-mode", json_object_new_string("x3apic"), "unknown value");
    garbage_edit("0/apic-mode", json_object_new_int(1), "'apic-mode' is int");
    garbage_edit("0/uif", json_object_new_int(1), "'uif' is int");
    garbage_edit("0/qom-path", json_object_new_string("cpu0"), "invalid 'qom-path'");
    garbage_edit("0/msrs", json_object_new_array(), "'msrs' is array");
    garbage_edit("0/upid", json_object_new_string("x"), "'upid' is string");
    garbage_edit("0/uitt", json_object_new_object(), "'uitt' is object");
    garbage_edit("0/uitt/0", json_object_new_boolean(TRUE), "uitt entry 0: is boolean");
    garbage_edit("0/uitt/0/upid/error", json_object_new_string("ok"), "'error'");
    garbage_edit("0/upid/error", json_object_new_string("gone"), "unknown value");
    garbage_edit("0/uitt/0/upid/pir", NULL, "'pir' is missing");
    /* error and data together */
    put(both, "0/upid/error", json_object_new_string("not-mapped"));
    expect_garbage(both, "comes with 'error'");
    /* duplicate cpu-index */
    set_u64(dup, "1/cpu-index", 0);
    expect_garbage(dup, "listed twice");
    /* more entries than uitt-cap or UITTSZ + 1 allow */
    json_object_object_get_ex(json_object_array_get_idx(many, 0), "uitt",
                              &entries);
    for (int i = 0; i < 300; i++)
        json_object_array_add(entries, json_object_new_object());
    expect_garbage(many, "lists 302 entries");
}

static void parse_huge_numbers(void)
{
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    json_object *o;
    g_autoptr(json_object) max = load_return("query-uintr-xapic.json");
    g_autoptr(GPtrArray) v = NULL;

    /* beyond uint64: json-c saturates at UINT64_MAX (and INT64_MIN), so
     * a bounded member is out of range and a raw register reads as all
     * ones, which the rules then reject */
    o = qmp_json_parse("t", "[18446744073709551616, -99999999999999999999]",
                       &e1);
    CHECK(o != NULL);
    if (o) {
        CHECK(json_object_get_uint64(json_object_array_get_idx(o, 0)) ==
              G_MAXUINT64);
        CHECK(json_object_get_int64(json_object_array_get_idx(o, 1)) ==
              G_MININT64);
        garbage_edit("0/uinv", json_object_get(json_object_array_get_idx(o, 0)),
                     "out of range");
        garbage_edit("0/xss", json_object_get(json_object_array_get_idx(o, 1)),
                     "negative");
    }
    json_object_put(o);
    /* uint64 max is a valid raw MSR value */
    set_u64(max, "0/msrs/rr", G_MAXUINT64);
    v = uintr_state_parse(max, &e2);
    CHECK(v != NULL);
    if (v)
        CHECK(((UintrVcpu *)v->pdata[0])->msrs.rr == G_MAXUINT64);
}

static void query_errors(void)
{
    g_autofree char *nf = unit_read_data("error-command-not-found.json");
    const char *r1[] = { nf, NULL };
    const char *r2[] = { "{\"error\": {\"class\": \"GenericError\", "
                         "\"desc\": \"boom\"}}", NULL };
    const char *r3[] = { "{\"return\": 5}", NULL };
    const char *const *scripts[] = { r1, r2, r3 };
    const int codes[] = { UINTRCTL_EXIT_NO_QUERY_UINTR, UINTRCTL_EXIT_PROTOCOL,
                          UINTRCTL_EXIT_PROTOCOL };

    for (size_t i = 0; i < G_N_ELEMENTS(scripts); i++) {
        g_autoptr(GError) err = NULL;
        QmpTransport *t = fake_transport_new(scripts[i]);

        CHECK(uintr_state_query(t, &err) == NULL);
        CHECK_ERR_EXIT(err, codes[i]);
        CHECK_STR(fake_transport_sent(t)->pdata[0],
                  "{\"execute\":\"query-uintr\"}");
        qmp_transport_free(t);
    }
}

static void json_round_trip(void)
{
    const char *files[] = {
        "query-uintr-xapic.json", "query-uintr-x2apic.json",
        "query-uintr-idle.json",
    };

    for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
        g_autoptr(json_object) ret = load_return(files[f]);
        g_autoptr(json_object) err_ret = load_return(files[f]);
        g_autoptr(GPtrArray) v = NULL;
        g_autoptr(GPtrArray) w = NULL;

        if (json_object_object_get_ex(json_object_array_get_idx(err_ret, 0),
                                      "upid", NULL))
            set_read_error(err_ret, "0/upid", "non-canonical");
        v = parse_ok(ret);
        w = parse_ok(err_ret);
        for (guint i = 0; v && i < v->len; i++) {
            g_autoptr(json_object) back = uintr_vcpu_to_json(v->pdata[i]);
            g_autoptr(json_object) back2 = uintr_vcpu_to_json(w->pdata[i]);

            CHECK(json_object_equal(back, json_object_array_get_idx(ret, i)));
            CHECK(json_object_equal(back2,
                                    json_object_array_get_idx(err_ret, i)));
        }
    }
}

/* --- the reports --- */

typedef struct {
    FILE *out, *err;
    char *out_buf, *err_buf;
    size_t out_len, err_len;
} Capture;

static UintrctlOptions capture_opts(Capture *c, OutputMode mode)
{
    UintrctlOptions o = { .interval_ms = 200, .qmp_socket = "/run/q.sock" };

    memset(c, 0, sizeof(*c));
    c->out = open_memstream(&c->out_buf, &c->out_len);
    c->err = open_memstream(&c->err_buf, &c->err_len);
    o.out = out_new(mode, c->out, c->err);
    o.expect = CPUID_EXPECT_ON;
    return o;
}

static void capture_done(Capture *c, UintrctlOptions *o)
{
    out_free(o->out);
    fclose(c->out);
    fclose(c->err);
}

static void capture_clear(Capture *c)
{
    free(c->out_buf);
    free(c->err_buf);
}

static int run_check(OutputMode mode, json_object *ret, Capture *c)
{
    UintrctlOptions o = capture_opts(c, mode);
    Session s = { 0 };
    g_autoptr(GPtrArray) cpus = gather_cpus(&healthy);
    g_autoptr(GPtrArray) state = ret ? parse_ok(ret) : NULL;
    g_autoptr(GError) no_state = g_error_new(UINTRCTL_ERROR,
                                             UINTRCTL_EXIT_NO_QUERY_UINTR,
                                             "QEMU has no 'query-uintr'");
    int rc = check_report(&o, &s, cpus, state, state, no_state);

    capture_done(c, &o);
    return rc;
}

static void check_text(void)
{
    g_autoptr(json_object) ok = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) bad = load_return("query-uintr-xapic.json");
    g_auto(GStrv) lines = NULL;
    g_autoptr(GRegex) re = g_regex_new("^UINTR-0[0-9][0-9]  (PASS|FAIL|WARN|"
                                       "SKIP)  (vCPU [0-9]+: )?[^:]+: .+$",
                                       0, 0, NULL);
    Capture c;
    size_t nrules;

    rules_table(&nrules);
    CHECK_INT(run_check(OUT_TEXT, ok, &c), 0);
    lines = g_strsplit(c.out_buf, "\n", -1);
    CHECK_STR(lines[0], "QMP socket /run/q.sock: uintr expect=on");
    CHECK_INT(g_strv_length(lines), 1 + 1 + (nrules - 1) * 2 + 1 + 1);
    for (guint i = 1; lines[i] && lines[i + 1] && lines[i + 2]; i++)
        if (!g_regex_match(re, lines[i], 0, NULL))
            unit_fail(__FILE__, __LINE__, "line %u: '%s'", i, lines[i]);
    CHECK_CONTAINS(c.out_buf, "UINTR-008  PASS  vCPU 1: UPID.NV equals UINV: "
                   "UPID.NV 0xec = UINV\n");
    CHECK_CONTAINS(c.out_buf, "\ncheck: 35 results: 31 passed, 0 failed, 0 "
                   "warnings, 4 skipped\n");
    CHECK_STR(c.err_buf, "");
    capture_clear(&c);

    set_status(bad, "1/upid", 0xecull << 16);
    set_u64(bad, "0/xss", 0);
    CHECK_INT(run_check(OUT_TEXT, bad, &c), UINTRCTL_EXIT_MISMATCH);
    CHECK_CONTAINS(c.out_buf, "UINTR-009  FAIL  vCPU 1: UPID.NDST names this "
                   "vCPU's APIC ID in its APIC mode: UPID: NDST 0x00000000 "
                   "names APIC ID 0 in xapic mode, this vCPU is 1  "
                   "(notifications go to another CPU");
    CHECK_CONTAINS(c.out_buf, "UINTR-014  WARN  vCPU 0: ");
    CHECK_STR(c.err_buf, "uintrctl: check: 35 results: 29 passed, 1 failed, "
              "1 warnings, 4 skipped\n");
    capture_clear(&c);

    CHECK_INT(run_check(OUT_TEXT, NULL, &c), UINTRCTL_EXIT_NO_QUERY_UINTR);
    CHECK_CONTAINS(c.out_buf, "UINTR-002  SKIP  vCPU 0: ");
    CHECK_STR(c.err_buf, "uintrctl: error: QEMU has no 'query-uintr'\n");
    capture_clear(&c);
}

static void check_json(void)
{
    g_autoptr(json_object) bad = load_return("query-uintr-xapic.json");
    json_object *doc, *checks, *v, *res;
    Capture c;
    gboolean saw_fail = FALSE;

    set_u64(bad, "0/uitt/0/uv", 70);
    CHECK_INT(run_check(OUT_JSON, bad, &c), 1);
    doc = json_tokener_parse(c.out_buf);
    CHECK(doc != NULL);
    CHECK(json_object_object_get_ex(doc, "checks", &checks) &&
          json_object_is_type(checks, json_type_array));
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
        json_object *o = json_object_array_get_idx(checks, i);
        static const char *const keys[] = {
            "rule", "clause", "what", "cpu", "result", "detail", "hint",
        };

        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
            CHECK(json_object_object_get_ex(o, keys[k], NULL));
        json_object_object_get_ex(o, "result", &v);
        if (strcmp(json_object_get_string(v), "FAIL") == 0) {
            saw_fail = TRUE;
            json_object_object_get_ex(o, "rule", &v);
            CHECK_STR(json_object_get_string(v), "UINTR-016");
            json_object_object_get_ex(o, "cpu", &v);
            CHECK_INT(json_object_get_int(v), 0);
            json_object_object_get_ex(o, "hint", &v);
            CHECK(json_object_is_type(v, json_type_string));
        }
    }
    CHECK(saw_fail);
    CHECK(json_object_object_get_ex(doc, "result", &res));
    CHECK(json_object_object_get_ex(res, "code", &v) &&
          json_object_get_int(v) == 1);
    CHECK(json_object_object_get_ex(doc, "summary", &v));
    CHECK(json_object_object_get_ex(v, "fail", &v) &&
          json_object_get_int(v) == 1);
    CHECK(json_object_object_get_ex(doc, "query-uintr", &v) &&
          json_object_get_boolean(v));
    json_object_put(doc);
    capture_clear(&c);
}

static void show_output(void)
{
    g_autoptr(json_object) ret = load_return("query-uintr-xapic.json");
    g_autoptr(json_object) idle = load_return("query-uintr-idle.json");
    g_autoptr(GPtrArray) v = parse_ok(ret);
    g_autoptr(GPtrArray) w = parse_ok(idle);
    UintrctlOptions o;
    Session s = { 0 };
    json_object *doc, *list;
    Capture c;

    o = capture_opts(&c, OUT_TEXT);
    CHECK_INT(show_report(&o, &s, v), 0);
    capture_done(&c, &o);
    CHECK_CONTAINS(c.out_buf, "vCPU  APIC     CPL  uintr  CR4.UINTR  UIF  UIRR");
    CHECK_CONTAINS(c.out_buf, "\n0     0/xapic  3    1      1          1    0x0 "
                   "  0x401000  0x80/sub     0xec  1       "
                   "0xffff888000102000/on  0xffff888000101000  1\n");
    CHECK_CONTAINS(c.out_buf, "\n1     0xffff888000201000  0x201000  ON=0 SN=0"
                   "  0xec  0x00000100  0x0  0x0\n");
    CHECK_CONTAINS(c.out_buf, "\n0     0      0xffff888000102000  1  3   0x0   "
                   "0xffff888000201000  0x201000  ON=0 SN=0  0xec  0x00000100");
    CHECK_CONTAINS(c.out_buf, "\n0     1      0xffff888000102010  0  0   0x0   "
                   "0x0                 -         -          -     -  ");
    capture_clear(&c);

    o = capture_opts(&c, OUT_TEXT);
    CHECK_INT(show_report(&o, &s, w), 0);
    capture_done(&c, &o);
    CHECK_CONTAINS(c.out_buf, "UPID: none");
    CHECK_CONTAINS(c.out_buf, "UITT: none");
    capture_clear(&c);

    o = capture_opts(&c, OUT_JSON);
    CHECK_INT(show_report(&o, &s, v), 0);
    capture_done(&c, &o);
    doc = json_tokener_parse(c.out_buf);
    CHECK(json_object_object_get_ex(doc, "vcpus", &list));
    CHECK(json_object_equal(list, ret));
    CHECK(json_object_object_get_ex(doc, "source", &list));
    json_object_put(doc);
    capture_clear(&c);
}

const UnitTest check_tests[] = {
    { "healthy-xapic", healthy_xapic },
    { "healthy-x2apic", healthy_x2apic },
    { "idle-guest", idle_guest },
    { "rule-table-ids", rule_table_ids },
    { "001-cpuid", cpuid_rule },
    { "002-reply-consistency", reply_consistency },
    { "002-reply-consistency-flags", reply_consistency_flags },
    { "003-xsave", xsave_rule },
    { "004-006-014-single-edits", single_edits },
    { "005-msr-reserved", msr_reserved },
    { "007-upid-location", upid_location },
    { "008-009-upid-nv-ndst", upid_nv_ndst },
    { "010-012-upid-state-bits", upid_state_bits },
    { "013-uirr-uif", uirr_uif },
    { "015-017-uitt", uitt_rules },
    { "017-018-uitt-target-upid", uitt_target_upid },
    { "no-query-uintr", no_query_uintr },
    { "parse-garbage", parse_garbage },
    { "parse-huge-numbers", parse_huge_numbers },
    { "query-errors", query_errors },
    { "json-round-trip", json_round_trip },
    { "check-text", check_text },
    { "check-json", check_json },
    { "show-output", show_output },
    { NULL, NULL },
};
