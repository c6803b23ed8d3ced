/* cpuid.c - per-vCPU CPUID feature state over QMP, and the verdict */
#include <string.h>

#include "cpuid.h"
#include "errors.h"

static void vcpu_state_free(gpointer p)
{
    VcpuState *v = p;

    g_free(v->qom_path);
    g_free(v);
}

static gint vcpu_cmp(gconstpointer a, gconstpointer b)
{
    const VcpuState *x = *(VcpuState *const *)a;
    const VcpuState *y = *(VcpuState *const *)b;

    return (x->cpu_index > y->cpu_index) - (x->cpu_index < y->cpu_index);
}

#define MALFORMED(...) \
    g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL, \
                "malformed reply to 'query-cpus-fast': " __VA_ARGS__)

GPtrArray *cpuid_parse_cpus(json_object *ret, GError **err)
{
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func(vcpu_state_free);
    size_t n;

    if (!json_object_is_type(ret, json_type_array)) {
        MALFORMED("expected a list of vCPUs, got %s",
                  json_type_to_name(json_object_get_type(ret)));
        return NULL;
    }
    n = json_object_array_length(ret);
    if (n == 0) {
        MALFORMED("the list of vCPUs is empty");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ret, i);
        json_object *idx, *path;
        int64_t index;
        const char *p;
        VcpuState *v;

        if (!json_object_is_type(e, json_type_object)) {
            MALFORMED("entry %zu is %s, not an object", i,
                      json_type_to_name(json_object_get_type(e)));
            return NULL;
        }
        if (!json_object_object_get_ex(e, "cpu-index", &idx) ||
            !json_object_is_type(idx, json_type_int)) {
            MALFORMED("entry %zu has no integer 'cpu-index'", i);
            return NULL;
        }
        /* json-c saturates out-of-range integers at INT64_MIN/MAX */
        index = json_object_get_int64(idx);
        if (index < 0 || index > G_MAXINT || json_object_get_uint64(idx) !=
                                                  (uint64_t)index) {
            MALFORMED("entry %zu has out-of-range 'cpu-index' %s", i,
                      json_object_to_json_string(idx));
            return NULL;
        }
        if (!json_object_object_get_ex(e, "qom-path", &path) ||
            !json_object_is_type(path, json_type_string)) {
            MALFORMED("entry %zu has no string 'qom-path'", i);
            return NULL;
        }
        p = json_object_get_string(path);
        if (p[0] != '/' || strlen(p) != (size_t)json_object_get_string_len(path)) {
            MALFORMED("entry %zu has an invalid 'qom-path' '%s'", i, p);
            return NULL;
        }
        for (guint j = 0; j < cpus->len; j++) {
            if (((VcpuState *)cpus->pdata[j])->cpu_index == (int)index) {
                MALFORMED("'cpu-index' %d is listed twice", (int)index);
                return NULL;
            }
        }
        v = g_new0(VcpuState, 1);
        v->cpu_index = (int)index;
        v->qom_path = g_strdup(p);
        v->cpuid_bit = CPUID_BIT_UNKNOWN;
        v->xsaves = CPUID_BIT_UNKNOWN;
        v->xss_uintr = CPUID_BIT_UNKNOWN;
        v->la57 = CPUID_BIT_UNKNOWN;
        g_ptr_array_add(cpus, v);
    }
    g_ptr_array_sort(cpus, vcpu_cmp);
    return g_steal_pointer(&cpus);
}

CpuidBit cpuid_feature_words_bit(json_object *words, int eax, int ecx,
                                 const char *reg, int bit)
{
    size_t n;

    if (!json_object_is_type(words, json_type_array))
        return CPUID_BIT_UNKNOWN;
    n = json_object_array_length(words);
    for (size_t i = 0; i < n; i++) {
        json_object *w = json_object_array_get_idx(words, i);
        json_object *in_eax, *in_ecx, *r, *features;
        int64_t f;

        if (!json_object_is_type(w, json_type_object) ||
            !json_object_object_get_ex(w, "cpuid-input-eax", &in_eax) ||
            !json_object_is_type(in_eax, json_type_int) ||
            json_object_get_int64(in_eax) != eax ||
            !json_object_object_get_ex(w, "cpuid-register", &r) ||
            !json_object_is_type(r, json_type_string) ||
            strcmp(json_object_get_string(r), reg) != 0)
            continue;
        /* cpuid-input-ecx is optional: absent for leaves without one */
        if (json_object_object_get_ex(w, "cpuid-input-ecx", &in_ecx)) {
            if (!json_object_is_type(in_ecx, json_type_int) ||
                json_object_get_int64(in_ecx) != ecx)
                continue;
        } else if (ecx != 0) {
            continue;
        }
        if (!json_object_object_get_ex(w, "features", &features) ||
            !json_object_is_type(features, json_type_int))
            return CPUID_BIT_UNKNOWN;
        f = json_object_get_int64(features);
        if (f < 0 || f > G_MAXUINT32)
            return CPUID_BIT_UNKNOWN;
        return (f >> bit) & 1 ? CPUID_BIT_SET : CPUID_BIT_CLEAR;
    }
    return CPUID_BIT_UNKNOWN;
}

static json_object *qom_get_args(const char *path, const char *property)
{
    json_object *args = json_object_new_object();

    json_object_object_add(args, "path", json_object_new_string(path));
    json_object_object_add(args, "property", json_object_new_string(property));
    return args;
}

GPtrArray *cpuid_gather(QmpTransport *t, const char *property, GError **err)
{
    g_autoptr(GPtrArray) cpus = NULL;
    json_object *ret = NULL;

    if (qmp_execute(t, "query-cpus-fast", NULL, &ret, err) < 0) {
        g_prefix_error(err, "'query-cpus-fast' failed on %s: ", t->description);
        return NULL;
    }
    cpus = cpuid_parse_cpus(ret, err);
    json_object_put(ret);
    if (!cpus)
        return NULL;

    for (guint i = 0; i < cpus->len; i++) {
        VcpuState *v = cpus->pdata[i];
        json_object *args = qom_get_args(v->qom_path, property);
        g_autoptr(GError) local = NULL;
        int rc;

        ret = NULL;
        rc = qmp_execute(t, "qom-get", args, &ret, &local);
        json_object_put(args);
        if (rc < 0) {
            if (qmp_error_is_property_not_found(local, property)) {
                g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_NO_FEATURE,
                            "QEMU behind %s has no '%s' CPU property (%s): it "
                            "lacks the UINTR patches; use the patched "
                            "qemu-system-x86_64", t->description, property,
                            local->message);
                return NULL;
            }
            g_propagate_prefixed_error(err, g_steal_pointer(&local),
                                       "'qom-get' of '%s' on vCPU %d (%s) "
                                       "failed: ", property, v->cpu_index,
                                       v->qom_path);
            return NULL;
        }
        if (!json_object_is_type(ret, json_type_boolean)) {
            g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_PROTOCOL,
                        "malformed reply to 'qom-get' of '%s' on vCPU %d: "
                        "expected a boolean, got %s", property, v->cpu_index,
                        json_type_to_name(json_object_get_type(ret)));
            json_object_put(ret);
            return NULL;
        }
        v->enabled = json_object_get_boolean(ret);
        json_object_put(ret);

        /* Cross-check with the raw CPUID word; best effort only. */
        ret = NULL;
        args = qom_get_args(v->qom_path, "feature-words");
        if (qmp_execute(t, "qom-get", args, &ret, &local) == 0) {
            v->cpuid_bit = cpuid_feature_words_bit(ret, UINTR_CPUID_EAX,
                                                   UINTR_CPUID_ECX,
                                                   UINTR_CPUID_REG,
                                                   UINTR_CPUID_BIT);
            v->xsaves = cpuid_feature_words_bit(ret, XSAVES_CPUID_EAX,
                                                XSAVES_CPUID_ECX,
                                                XSAVES_CPUID_REG,
                                                XSAVES_CPUID_BIT);
            v->xss_uintr = cpuid_feature_words_bit(ret, XSAVES_CPUID_EAX,
                                                   XSAVES_CPUID_ECX,
                                                   XSS_UINTR_CPUID_REG,
                                                   XSS_UINTR_CPUID_BIT);
            v->la57 = cpuid_feature_words_bit(ret, UINTR_CPUID_EAX,
                                              UINTR_CPUID_ECX, LA57_CPUID_REG,
                                              LA57_CPUID_BIT);
        } else if (local->domain != QMP_REPLY_ERROR) {
            /* transport or protocol trouble is not "best effort" */
            json_object_put(args);
            g_propagate_prefixed_error(err, g_steal_pointer(&local),
                                       "'qom-get' of 'feature-words' on "
                                       "vCPU %d failed: ", v->cpu_index);
            return NULL;
        }
        json_object_put(args);
        json_object_put(ret);
    }
    return g_steal_pointer(&cpus);
}

const char *cpuid_expect_name(CpuidExpect e)
{
    switch (e) {
    case CPUID_EXPECT_NONE: return "none";
    case CPUID_EXPECT_ON: return "on";
    case CPUID_EXPECT_OFF: return "off";
    }
    return "unknown";
}

const char *cpuid_expect_from_name(CpuidExpectFrom f)
{
    switch (f) {
    case CPUID_FROM_NONE: return "none";
    case CPUID_FROM_EXPECT: return "expect";
    case CPUID_FROM_FEATURE: return "feature";
    case CPUID_FROM_MODEL: return "model";
    }
    return "unknown";
}

CpuidExpect cpuid_dom_expect(const DomCpuInfo *dom, CpuidExpectFrom *from)
{
    CpuidExpect e = CPUID_EXPECT_NONE;
    CpuidExpectFrom f = CPUID_FROM_NONE;

    if (dom->request != DOMXML_FEATURE_ABSENT) {
        f = CPUID_FROM_FEATURE;
        if (dom->request == DOMXML_FEATURE_ON)
            e = CPUID_EXPECT_ON;
        else if (dom->request == DOMXML_FEATURE_OFF)
            e = CPUID_EXPECT_OFF;
    } else {
        f = CPUID_FROM_MODEL;
        if (dom->model_feature == DOMXML_MODEL_INCLUDES)
            e = CPUID_EXPECT_ON;
        else if (dom->model_feature == DOMXML_MODEL_LACKS)
            e = CPUID_EXPECT_OFF;
    }
    if (from)
        *from = e == CPUID_EXPECT_NONE ? CPUID_FROM_NONE : f;
    return e;
}

static gboolean check_expect(GPtrArray *vcpus, CpuidExpect e,
                             const char *source, CpuidVerdict *v)
{
    if (e == CPUID_EXPECT_NONE)
        return TRUE;
    for (guint i = 0; i < vcpus->len; i++) {
        VcpuState *s = vcpus->pdata[i];

        if (s->enabled != (e == CPUID_EXPECT_ON)) {
            v->exit_code = UINTRCTL_EXIT_MISMATCH;
            v->message = g_strdup_printf("%s asks for uintr %s but vCPU %d "
                                         "has it %s", source,
                                         cpuid_expect_name(e), s->cpu_index,
                                         s->enabled ? "enabled" : "disabled");
            return FALSE;
        }
    }
    return TRUE;
}

void cpuid_verdict(GPtrArray *vcpus, const DomCpuInfo *dom,
                   CpuidExpect cli_expect, CpuidVerdict *v)
{
    g_autofree char *xml_source = NULL;
    CpuidExpect xml_expect = CPUID_EXPECT_NONE;
    CpuidExpectFrom xml_from = CPUID_FROM_NONE;
    VcpuState *first;

    memset(v, 0, sizeof(*v));
    v->exit_code = UINTRCTL_EXIT_OK;
    v->expected = cli_expect;
    v->expected_from = cli_expect != CPUID_EXPECT_NONE ? CPUID_FROM_EXPECT
                                                       : CPUID_FROM_NONE;
    g_return_if_fail(vcpus && vcpus->len > 0);
    first = vcpus->pdata[0];

    for (guint i = 0; i < vcpus->len; i++) {
        VcpuState *s = vcpus->pdata[i];

        if (s->enabled != first->enabled) {
            v->exit_code = UINTRCTL_EXIT_MISMATCH;
            v->message = g_strdup_printf("vCPUs disagree: uintr is %s on "
                                         "vCPU %d but %s on vCPU %d",
                                         first->enabled ? "enabled" : "disabled",
                                         first->cpu_index,
                                         s->enabled ? "enabled" : "disabled",
                                         s->cpu_index);
            return;
        }
        if (s->cpuid_bit != CPUID_BIT_UNKNOWN &&
            (s->cpuid_bit == CPUID_BIT_SET) != s->enabled) {
            v->exit_code = UINTRCTL_EXIT_MISMATCH;
            v->message = g_strdup_printf("vCPU %d: property 'uintr' is %s but "
                                         "CPUID.7.0:EDX[5] in its feature-"
                                         "words is %d", s->cpu_index,
                                         s->enabled ? "true" : "false",
                                         (int)s->cpuid_bit);
            return;
        }
    }
    if (dom) {
        xml_expect = cpuid_dom_expect(dom, &xml_from);
        if (xml_from == CPUID_FROM_MODEL)
            xml_source = g_strdup_printf(
                "the domain XML's CPU model '%s' (which %s uintr; the XML "
                "has no <feature name='uintr'>)", dom->cpu_model,
                xml_expect == CPUID_EXPECT_ON ? "includes"
                                              : "does not include");
        else
            xml_source = g_strdup_printf("the domain XML (policy='%s')",
                                         dom->policy ? dom->policy : "");
        if (cli_expect == CPUID_EXPECT_NONE) {
            v->expected = xml_expect;
            v->expected_from = xml_from;
        }
        if (!check_expect(vcpus, xml_expect, xml_source, v)) {
            /* the one that failed */
            v->expected = xml_expect;
            v->expected_from = xml_from;
            return;
        }
    }
    if (!check_expect(vcpus, cli_expect, "--expect", v))
        return;
    v->message = g_strdup_printf("uintr is %s on all %u vCPUs%s",
                                 first->enabled ? "enabled" : "disabled",
                                 vcpus->len,
                                 v->expected != CPUID_EXPECT_NONE
                                     ? ", as expected" : "");
}

void cpuid_verdict_clear(CpuidVerdict *v)
{
    g_clear_pointer(&v->message, g_free);
}
