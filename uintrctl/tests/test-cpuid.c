/* test-cpuid.c - gathering per-vCPU state from recorded replies, verdict */
#include "cpuid.h"
#include "errors.h"
#include "unit.h"
#include "virt.h"

#include <libvirt/virterror.h>

#define R_TRUE "{\"return\": true}"
#define R_FALSE "{\"return\": false}"

/* Build a NULL-terminated reply script; "@file" entries are read from
 * tests/data. */
static GPtrArray *script(const char *first, ...)
{
    GPtrArray *s = g_ptr_array_new_with_free_func(g_free);
    va_list ap;

    va_start(ap, first);
    for (const char *r = first; r; r = va_arg(ap, const char *))
        g_ptr_array_add(s, r[0] == '@' ? unit_read_data(r + 1) : g_strdup(r));
    va_end(ap);
    g_ptr_array_add(s, NULL);
    return s;
}

/* Run cpuid_gather over the script; returns the vCPUs or NULL. */
static GPtrArray *gather(GPtrArray *replies, GError **err, GPtrArray **sent)
{
    QmpTransport *t = fake_transport_new((const char *const *)replies->pdata);
    GPtrArray *v = cpuid_gather(t, UINTR_PROPERTY, err);

    if (sent)
        *sent = g_ptr_array_ref(fake_transport_sent(t));
    qmp_transport_free(t);
    return v;
}

static VcpuState *vcpu(GPtrArray *v, guint i)
{
    return v->pdata[i];
}

static void one_vcpu_enabled(void)
{
    g_autoptr(GPtrArray) s = script("@query-cpus-fast-1.json", R_TRUE,
                                    "@feature-words-uintr.json", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) sent = NULL;
    g_autoptr(GPtrArray) v = gather(s, &err, &sent);

    CHECK(err == NULL);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_INT(v->len, 1);
    CHECK_INT(vcpu(v, 0)->cpu_index, 0);
    CHECK_STR(vcpu(v, 0)->qom_path, "/machine/unattached/device[0]");
    CHECK(vcpu(v, 0)->enabled);
    CHECK_INT(vcpu(v, 0)->cpuid_bit, CPUID_BIT_SET);
    CHECK_INT(sent->len, 3);
    CHECK_STR(sent->pdata[0], "{\"execute\":\"query-cpus-fast\"}");
    CHECK_STR(sent->pdata[1], "{\"execute\":\"qom-get\",\"arguments\":"
              "{\"path\":\"/machine/unattached/device[0]\",\"property\":\"uintr\"}}");
    CHECK_STR(sent->pdata[2], "{\"execute\":\"qom-get\",\"arguments\":"
              "{\"path\":\"/machine/unattached/device[0]\","
              "\"property\":\"feature-words\"}}");
}

static void two_vcpus_disabled(void)
{
    g_autoptr(GPtrArray) s = script("@query-cpus-fast-2.json",
                                    R_FALSE, "@feature-words-qemu64.json",
                                    R_FALSE, "@feature-words-qemu64.json", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) sent = NULL;
    g_autoptr(GPtrArray) v = gather(s, &err, &sent);

    CHECK(err == NULL);
    CHECK(v && v->len == 2);
    if (!v || v->len != 2)
        return;
    CHECK(!vcpu(v, 0)->enabled && !vcpu(v, 1)->enabled);
    CHECK_INT(vcpu(v, 1)->cpu_index, 1);
    CHECK_STR(vcpu(v, 1)->qom_path, "/machine/unattached/device[2]");
    CHECK_INT(vcpu(v, 1)->cpuid_bit, CPUID_BIT_CLEAR);
    CHECK_CONTAINS(sent->pdata[3], "device[2]");
}

static void vcpus_sorted_by_index(void)
{
    g_autoptr(GPtrArray) s = script(
        "{\"return\": [{\"cpu-index\": 1, \"qom-path\": \"/b\"},"
        " {\"cpu-index\": 0, \"qom-path\": \"/a\"}]}",
        R_TRUE, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
        "\"Property 'x.feature-words' not found\"}}",
        R_TRUE, "{\"return\": []}", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) sent = NULL;
    g_autoptr(GPtrArray) v = gather(s, &err, &sent);

    CHECK(err == NULL);
    CHECK(v && v->len == 2);
    if (!v || v->len != 2)
        return;
    CHECK_STR(vcpu(v, 0)->qom_path, "/a");
    CHECK_STR(vcpu(v, 1)->qom_path, "/b");
    CHECK_CONTAINS(sent->pdata[1], "\"/a\"");
    /* feature-words failing or lacking the leaf is not an error */
    CHECK_INT(vcpu(v, 0)->cpuid_bit, CPUID_BIT_UNKNOWN);
    CHECK_INT(vcpu(v, 1)->cpuid_bit, CPUID_BIT_UNKNOWN);
}

static void expect_gather_error(int code, const char *msg_part,
                                const char *first, ...)
{
    GPtrArray *s = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    GPtrArray *v;
    va_list ap;

    va_start(ap, first);
    for (const char *r = first; r; r = va_arg(ap, const char *))
        g_ptr_array_add(s, r[0] == '@' ? unit_read_data(r + 1) : g_strdup(r));
    va_end(ap);
    g_ptr_array_add(s, NULL);
    v = gather(s, &err, NULL);
    CHECK(v == NULL);
    CHECK_ERR_EXIT(err, code);
    if (err && msg_part)
        CHECK_CONTAINS(err->message, msg_part);
    if (v)
        g_ptr_array_unref(v);
    g_ptr_array_unref(s);
}

static void property_not_found_is_exit_6(void)
{
    expect_gather_error(UINTRCTL_EXIT_NO_FEATURE, "lacks the UINTR patches",
                        "@query-cpus-fast-2.json",
                        "@qom-get-uintr-not-found.json", NULL);
}

static void qmp_errors_are_exit_5(void)
{
    expect_gather_error(UINTRCTL_EXIT_PROTOCOL, "Device '/machine/nope'",
                        "@query-cpus-fast-1.json",
                        "@error-device-not-found.json", NULL);
    expect_gather_error(UINTRCTL_EXIT_PROTOCOL, "has not been found",
                        "@error-command-not-found.json", NULL);
}

static void qom_get_wrong_type(void)
{
    expect_gather_error(UINTRCTL_EXIT_PROTOCOL, "expected a boolean",
                        "@query-cpus-fast-1.json", "{\"return\": \"true\"}",
                        NULL);
    expect_gather_error(UINTRCTL_EXIT_PROTOCOL, "expected a boolean",
                        "@query-cpus-fast-1.json", "{\"return\": 1}", NULL);
    expect_gather_error(UINTRCTL_EXIT_PROTOCOL, "expected a boolean",
                        "@query-cpus-fast-1.json", "{\"return\": null}", NULL);
    expect_gather_error(UINTRCTL_EXIT_PROTOCOL, "malformed",
                        "@query-cpus-fast-1.json", "{\"return\": tru", NULL);
}

static void query_cpus_garbage(void)
{
    static const char *const bad[] = {
        "{\"return\": {}}",
        "{\"return\": []}",
        "{\"return\": null}",
        "{\"return\": [1]}",
        "{\"return\": [{\"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": \"0\", \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": -1, \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": 2147483648, \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": 99999999999999999999999, \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": 18446744073709551615, \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": 1e3, \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": 0.5, \"qom-path\": \"/a\"}]}",
        "{\"return\": [{\"cpu-index\": 0}]}",
        "{\"return\": [{\"cpu-index\": 0, \"qom-path\": 7}]}",
        "{\"return\": [{\"cpu-index\": 0, \"qom-path\": \"\"}]}",
        "{\"return\": [{\"cpu-index\": 0, \"qom-path\": \"relative\"}]}",
        "{\"return\": [{\"cpu-index\": 0, \"qom-path\": \"/a\\u0000b\"}]}",
        "{\"return\": [{\"cpu-index\": 0, \"qom-path\": \"/a\"},"
        " {\"cpu-index\": 0, \"qom-path\": \"/b\"}]}",
        "{\"return\": [{\"cpu-index\": 0, \"qom-path\": \"/a\"}",
        "[]",
        "{}",
        "42",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        GPtrArray *s = g_ptr_array_new();
        GPtrArray *v;

        g_ptr_array_add(s, (gpointer)bad[i]);
        g_ptr_array_add(s, NULL);
        v = gather(s, &err, NULL);
        if (v || uintrctl_exit_code(err) != UINTRCTL_EXIT_PROTOCOL)
            unit_fail(__FILE__, __LINE__, "query-cpus-fast reply %s: want "
                      "exit 5, got %d (%s)", bad[i], uintrctl_exit_code(err),
                      err ? err->message : "no error");
        if (v)
            g_ptr_array_unref(v);
        g_ptr_array_unref(s);
    }
}

static void transport_failure_propagates(void)
{
    /* script exhausted after query-cpus-fast: the fake returns exit 4 */
    expect_gather_error(UINTRCTL_EXIT_CONNECT, "exhausted",
                        "@query-cpus-fast-1.json", NULL);
}

static void feature_words_bit(void)
{
    g_autofree char *uintr = unit_read_data("feature-words-uintr.json");
    g_autofree char *plain = unit_read_data("feature-words-qemu64.json");
    json_object *a = json_tokener_parse(uintr);
    json_object *b = json_tokener_parse(plain);
    json_object *ra = NULL, *rb = NULL;
    json_object *odd = json_tokener_parse(
        "[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 7, "
        "\"cpuid-input-ecx\": 1, \"features\": 32},"
        " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 7, "
        "\"features\": -5}]");

    CHECK(json_object_object_get_ex(a, "return", &ra));
    CHECK(json_object_object_get_ex(b, "return", &rb));
    CHECK_INT(cpuid_feature_words_bit(ra, 7, 0, "EDX", 5), CPUID_BIT_SET);
    CHECK_INT(cpuid_feature_words_bit(rb, 7, 0, "EDX", 5), CPUID_BIT_CLEAR);
    /* qemu64 has SSE2: CPUID.1:EDX[26] */
    CHECK_INT(cpuid_feature_words_bit(rb, 1, 0, "EDX", 26), CPUID_BIT_SET);
    CHECK_INT(cpuid_feature_words_bit(rb, 0x4242, 0, "EDX", 5),
              CPUID_BIT_UNKNOWN);
    /* wrong sub-leaf is skipped; the ecx-less entry has a bad value */
    CHECK_INT(cpuid_feature_words_bit(odd, 7, 0, "EDX", 5), CPUID_BIT_UNKNOWN);
    CHECK_INT(cpuid_feature_words_bit(odd, 7, 1, "EDX", 5), CPUID_BIT_SET);
    CHECK_INT(cpuid_feature_words_bit(NULL, 7, 0, "EDX", 5), CPUID_BIT_UNKNOWN);
    json_object_put(a);
    json_object_put(b);
    json_object_put(odd);
}

/* --- verdict --- */

static GPtrArray *states(const char *spec)
{
    /* spec: one char per vCPU: E enabled, D disabled, e enabled but
     * CPUID bit clear, d disabled but CPUID bit set */
    GPtrArray *v = g_ptr_array_new_with_free_func(g_free);

    for (int i = 0; spec[i]; i++) {
        VcpuState *s = g_new0(VcpuState, 1);

        s->cpu_index = i;
        s->enabled = spec[i] == 'E' || spec[i] == 'e';
        s->cpuid_bit = spec[i] == 'E' || spec[i] == 'd' ? CPUID_BIT_SET
                                                        : CPUID_BIT_CLEAR;
        g_ptr_array_add(v, s);
    }
    return v;
}

static int verdict(const char *spec, DomxmlRequest req, CpuidExpect cli,
                   char **msg)
{
    GPtrArray *v = states(spec);
    DomCpuInfo dom = { .request = req };
    CpuidVerdict out;
    int rc;

    dom.policy = req == DOMXML_FEATURE_ON ? "require"
                 : req == DOMXML_FEATURE_OFF ? "disable"
                 : req == DOMXML_FEATURE_OPTIONAL ? "optional" : NULL;
    cpuid_verdict(v, (int)req < 0 ? NULL : &dom, cli, &out);
    rc = out.exit_code;
    if (msg)
        *msg = g_strdup(out.message);
    cpuid_verdict_clear(&out);
    g_ptr_array_unref(v);
    return rc;
}

#define NO_XML ((DomxmlRequest)-1)

static void verdict_table(void)
{
    g_autofree char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;

    CHECK_INT(verdict("EE", DOMXML_FEATURE_ON, CPUID_EXPECT_NONE, &m1), 0);
    CHECK_CONTAINS(m1, "enabled on all 2 vCPUs, as expected");
    CHECK_INT(verdict("DD", DOMXML_FEATURE_ON, CPUID_EXPECT_NONE, &m2), 1);
    CHECK_CONTAINS(m2, "policy='require'");
    CHECK_CONTAINS(m2, "vCPU 0 has it disabled");
    CHECK_INT(verdict("DD", DOMXML_FEATURE_OFF, CPUID_EXPECT_NONE, NULL), 0);
    CHECK_INT(verdict("EE", DOMXML_FEATURE_OFF, CPUID_EXPECT_NONE, NULL), 1);
    CHECK_INT(verdict("EE", DOMXML_FEATURE_OPTIONAL, CPUID_EXPECT_NONE, NULL), 0);
    CHECK_INT(verdict("DD", DOMXML_FEATURE_OPTIONAL, CPUID_EXPECT_NONE, NULL), 0);
    CHECK_INT(verdict("DD", DOMXML_FEATURE_ABSENT, CPUID_EXPECT_NONE, NULL), 0);
    CHECK_INT(verdict("ED", DOMXML_FEATURE_ABSENT, CPUID_EXPECT_NONE, &m3), 1);
    CHECK_CONTAINS(m3, "vCPUs disagree");
    CHECK_INT(verdict("ED", DOMXML_FEATURE_ON, CPUID_EXPECT_NONE, NULL), 1);
    CHECK_INT(verdict("Ee", NO_XML, CPUID_EXPECT_NONE, &m4), 1);
    CHECK_CONTAINS(m4, "CPUID.7.0:EDX[5]");
    CHECK_INT(verdict("d", NO_XML, CPUID_EXPECT_NONE, NULL), 1);
    /* --qmp mode: plain state is fine unless --expect says otherwise */
    CHECK_INT(verdict("D", NO_XML, CPUID_EXPECT_NONE, NULL), 0);
    CHECK_INT(verdict("D", NO_XML, CPUID_EXPECT_ON, NULL), 1);
    CHECK_INT(verdict("D", NO_XML, CPUID_EXPECT_OFF, NULL), 0);
    CHECK_INT(verdict("EE", NO_XML, CPUID_EXPECT_ON, NULL), 0);
    CHECK_INT(verdict("EE", NO_XML, CPUID_EXPECT_OFF, NULL), 1);
    /* both: XML satisfied, --expect not */
    CHECK_INT(verdict("EE", DOMXML_FEATURE_ON, CPUID_EXPECT_OFF, NULL), 1);
    CHECK_INT(verdict("EE", DOMXML_FEATURE_OPTIONAL, CPUID_EXPECT_ON, NULL), 0);
}

static void verdict_expected_field(void)
{
    GPtrArray *v = states("E");
    DomCpuInfo dom = { .request = DOMXML_FEATURE_ON, .policy = "force" };
    CpuidVerdict out;

    cpuid_verdict(v, &dom, CPUID_EXPECT_NONE, &out);
    CHECK_INT(out.expected, CPUID_EXPECT_ON);
    cpuid_verdict_clear(&out);
    cpuid_verdict(v, NULL, CPUID_EXPECT_NONE, &out);
    CHECK_INT(out.expected, CPUID_EXPECT_NONE);
    cpuid_verdict_clear(&out);
    /* on a mismatch, "expected" names the expectation that failed */
    dom.request = DOMXML_FEATURE_OFF;
    dom.policy = "forbid";
    cpuid_verdict(v, &dom, CPUID_EXPECT_NONE, &out);
    CHECK_INT(out.exit_code, 1);
    CHECK_INT(out.expected, CPUID_EXPECT_OFF);
    cpuid_verdict_clear(&out);
    dom.request = DOMXML_FEATURE_ON;
    cpuid_verdict(v, &dom, CPUID_EXPECT_OFF, &out);
    CHECK_INT(out.exit_code, 1);
    CHECK_INT(out.expected, CPUID_EXPECT_OFF);
    cpuid_verdict_clear(&out);
    g_ptr_array_unref(v);
}

/* A domain XML without <feature name='uintr'> on CPU model @model whose
 * expansion by libvirt gave @m. */
static int model_verdict(const char *spec, DomxmlModel m, CpuidExpect cli,
                         CpuidVerdict *out)
{
    GPtrArray *v = states(spec);
    DomCpuInfo dom = { .has_cpu = TRUE, .cpu_mode = "custom",
                       .cpu_model = "SapphireRapids-UINTR",
                       .model_feature = m };

    cpuid_verdict(v, &dom, cli, out);
    g_ptr_array_unref(v);
    return out->exit_code;
}

static void verdict_from_model(void)
{
    CpuidVerdict out;

    /* the model includes uintr: on is expected */
    CHECK_INT(model_verdict("EE", DOMXML_MODEL_INCLUDES, CPUID_EXPECT_NONE,
                            &out), 0);
    CHECK_INT(out.expected, CPUID_EXPECT_ON);
    CHECK_INT(out.expected_from, CPUID_FROM_MODEL);
    CHECK_CONTAINS(out.message, "as expected");
    cpuid_verdict_clear(&out);
    CHECK_INT(model_verdict("DD", DOMXML_MODEL_INCLUDES, CPUID_EXPECT_NONE,
                            &out), 1);
    CHECK_INT(out.expected, CPUID_EXPECT_ON);
    CHECK_INT(out.expected_from, CPUID_FROM_MODEL);
    CHECK_STR(out.message, "the domain XML's CPU model 'SapphireRapids-UINTR' "
              "(which includes uintr; the XML has no <feature name='uintr'>) "
              "asks for uintr on but vCPU 0 has it disabled");
    cpuid_verdict_clear(&out);
    /* the model lacks it: off is expected */
    CHECK_INT(model_verdict("D", DOMXML_MODEL_LACKS, CPUID_EXPECT_NONE,
                            &out), 0);
    CHECK_INT(out.expected, CPUID_EXPECT_OFF);
    CHECK_INT(out.expected_from, CPUID_FROM_MODEL);
    cpuid_verdict_clear(&out);
    CHECK_INT(model_verdict("EE", DOMXML_MODEL_LACKS, CPUID_EXPECT_NONE,
                            &out), 1);
    CHECK_CONTAINS(out.message, "(which does not include uintr; ");
    CHECK_CONTAINS(out.message, "asks for uintr off but vCPU 0 has it "
                   "enabled");
    cpuid_verdict_clear(&out);
    /* libvirt could not tell, or was not asked: nothing expected */
    CHECK_INT(model_verdict("EE", DOMXML_MODEL_UNKNOWN, CPUID_EXPECT_NONE,
                            &out), 0);
    CHECK_INT(out.expected, CPUID_EXPECT_NONE);
    CHECK_INT(out.expected_from, CPUID_FROM_NONE);
    cpuid_verdict_clear(&out);
    CHECK_INT(model_verdict("DD", DOMXML_MODEL_UNKNOWN, CPUID_EXPECT_NONE,
                            &out), 0);
    cpuid_verdict_clear(&out);
    CHECK_INT(model_verdict("EE", DOMXML_MODEL_NOT_ASKED, CPUID_EXPECT_NONE,
                            &out), 0);
    CHECK_INT(out.expected_from, CPUID_FROM_NONE);
    cpuid_verdict_clear(&out);
    /* --expect on top: the model is satisfied, --expect is not */
    CHECK_INT(model_verdict("EE", DOMXML_MODEL_INCLUDES, CPUID_EXPECT_OFF,
                            &out), 1);
    CHECK_INT(out.expected, CPUID_EXPECT_OFF);
    CHECK_INT(out.expected_from, CPUID_FROM_EXPECT);
    CHECK_STR(out.message, "--expect asks for uintr off but vCPU 0 has it "
              "enabled");
    cpuid_verdict_clear(&out);
    CHECK_INT(model_verdict("EE", DOMXML_MODEL_INCLUDES, CPUID_EXPECT_ON,
                            &out), 0);
    CHECK_INT(out.expected_from, CPUID_FROM_EXPECT);
    cpuid_verdict_clear(&out);
    /* the model mismatches first, even if --expect agrees */
    CHECK_INT(model_verdict("DD", DOMXML_MODEL_INCLUDES, CPUID_EXPECT_OFF,
                            &out), 1);
    CHECK_INT(out.expected_from, CPUID_FROM_MODEL);
    cpuid_verdict_clear(&out);
    /* --expect with a model libvirt could not expand */
    CHECK_INT(model_verdict("DD", DOMXML_MODEL_UNKNOWN, CPUID_EXPECT_ON,
                            &out), 1);
    CHECK_INT(out.expected_from, CPUID_FROM_EXPECT);
    cpuid_verdict_clear(&out);
}

static void feature_wins_over_model(void)
{
    DomCpuInfo dom = { .has_cpu = TRUE, .cpu_model = "SapphireRapids-UINTR",
                       .policy = "disable", .request = DOMXML_FEATURE_OFF,
                       .model_feature = DOMXML_MODEL_INCLUDES };
    GPtrArray *v = states("E");
    CpuidExpectFrom from = CPUID_FROM_NONE;
    CpuidVerdict out;

    CHECK_INT(cpuid_dom_expect(&dom, &from), CPUID_EXPECT_OFF);
    CHECK_INT(from, CPUID_FROM_FEATURE);
    cpuid_verdict(v, &dom, CPUID_EXPECT_NONE, &out);
    CHECK_INT(out.exit_code, 1);
    CHECK_INT(out.expected, CPUID_EXPECT_OFF);
    CHECK_INT(out.expected_from, CPUID_FROM_FEATURE);
    CHECK_CONTAINS(out.message, "the domain XML (policy='disable') asks for "
                   "uintr off");
    cpuid_verdict_clear(&out);
    /* optional: nothing expected, the model notwithstanding */
    dom.policy = "optional";
    dom.request = DOMXML_FEATURE_OPTIONAL;
    CHECK_INT(cpuid_dom_expect(&dom, &from), CPUID_EXPECT_NONE);
    CHECK_INT(from, CPUID_FROM_NONE);
    /* require on a model without it */
    dom.policy = "require";
    dom.request = DOMXML_FEATURE_ON;
    dom.model_feature = DOMXML_MODEL_LACKS;
    CHECK_INT(cpuid_dom_expect(&dom, &from), CPUID_EXPECT_ON);
    CHECK_INT(from, CPUID_FROM_FEATURE);
    /* no feature: the model */
    dom.policy = NULL;
    dom.request = DOMXML_FEATURE_ABSENT;
    CHECK_INT(cpuid_dom_expect(&dom, &from), CPUID_EXPECT_OFF);
    CHECK_INT(from, CPUID_FROM_MODEL);
    CHECK_INT(cpuid_dom_expect(&dom, NULL), CPUID_EXPECT_OFF);
    g_ptr_array_unref(v);
}

static void expect_from_names(void)
{
    CHECK_STR(cpuid_expect_from_name(CPUID_FROM_NONE), "none");
    CHECK_STR(cpuid_expect_from_name(CPUID_FROM_EXPECT), "expect");
    CHECK_STR(cpuid_expect_from_name(CPUID_FROM_FEATURE), "feature");
    CHECK_STR(cpuid_expect_from_name(CPUID_FROM_MODEL), "model");
}

static void libvirt_error_mapping(void)
{
    CHECK_INT(virt_error_exit_code(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, 8), 3);
    CHECK_INT(virt_error_exit_code(VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU, 8), 7);
    CHECK_INT(virt_error_exit_code(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, 8), 4);
    CHECK_INT(virt_error_exit_code(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, 8), 4);
    CHECK_INT(virt_error_exit_code(VIR_ERR_NO_CONNECT, VIR_FROM_NONE, 8), 4);
    CHECK_INT(virt_error_exit_code(VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, 8), 8);
    CHECK_INT(virt_error_exit_code(VIR_ERR_NO_SUPPORT, VIR_FROM_QEMU, 5), 5);
}

const UnitTest cpuid_tests[] = {
    { "one-vcpu-enabled", one_vcpu_enabled },
    { "two-vcpus-disabled", two_vcpus_disabled },
    { "vcpus-sorted-by-index", vcpus_sorted_by_index },
    { "property-not-found-is-exit-6", property_not_found_is_exit_6 },
    { "qmp-errors-are-exit-5", qmp_errors_are_exit_5 },
    { "qom-get-wrong-type", qom_get_wrong_type },
    { "query-cpus-garbage", query_cpus_garbage },
    { "transport-failure-propagates", transport_failure_propagates },
    { "feature-words-bit", feature_words_bit },
    { "verdict-table", verdict_table },
    { "verdict-expected-field", verdict_expected_field },
    { "verdict-from-model", verdict_from_model },
    { "feature-wins-over-model", feature_wins_over_model },
    { "expect-from-names", expect_from_names },
    { "libvirt-error-mapping", libvirt_error_mapping },
    { NULL, NULL },
};
