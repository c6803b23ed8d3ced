/* test-domxml.c - the <cpu> element of libvirt domain XMLs */
#include "domxml.h"
#include "errors.h"
#include "unit.h"

/* The template with @CPU@ replaced by @cpu. */
static char *domain_with(const char *cpu)
{
    g_autofree char *tpl = unit_read_data("domain-template.xml");
    g_auto(GStrv) parts = g_strsplit(tpl, "@CPU@", 2);

    return g_strconcat(parts[0], cpu, parts[1] ? parts[1] : "", NULL);
}

static void live_domain(void)
{
    g_autofree char *xml = unit_read_data("domain-u1-live.xml");
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK(err == NULL);
    CHECK_STR(info.name, "u1");
    CHECK(info.has_cpu);
    CHECK_STR(info.cpu_mode, "custom");
    CHECK_STR(info.cpu_match, "exact");
    CHECK_STR(info.cpu_check, "full");
    CHECK_STR(info.cpu_model, "qemu64");
    CHECK_STR(info.arch, "x86_64");
    CHECK(info.cpu_vendor == NULL);
    CHECK_INT(info.model_feature, DOMXML_MODEL_NOT_ASKED);
    CHECK_STR(info.policy, "require");
    CHECK(!info.policy_defaulted);
    CHECK_INT(info.request, DOMXML_FEATURE_ON);
    domxml_clear(&info);
    /* the same XML asked about another feature */
    CHECK_INT(domxml_parse(xml, "svm", &info, &err), 0);
    CHECK_INT(info.request, DOMXML_FEATURE_OFF);
    domxml_clear(&info);
    CHECK_INT(domxml_parse(xml, "avx512f", &info, &err), 0);
    CHECK_INT(info.request, DOMXML_FEATURE_ABSENT);
    CHECK(info.policy == NULL);
    domxml_clear(&info);
}

static void model_only_domain(void)
{
    /* virsh dumpxml of a running domain on SapphireRapids-UINTR */
    g_autofree char *xml = unit_read_data("domain-spr-live.xml");
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK(err == NULL);
    CHECK_STR(info.name, "sprm");
    CHECK_STR(info.cpu_mode, "custom");
    CHECK_STR(info.cpu_check, "full");
    CHECK_STR(info.cpu_model, "SapphireRapids-UINTR");
    CHECK_STR(info.arch, "x86_64");
    CHECK(info.policy == NULL);
    CHECK_INT(info.request, DOMXML_FEATURE_ABSENT);
    /* left to cpumodel_expand() */
    CHECK_INT(info.model_feature, DOMXML_MODEL_NOT_ASKED);
    CHECK(info.model_error == NULL);
    domxml_clear(&info);
}

static void vendor(void)
{
    g_autofree char *xml = domain_with(
        "  <cpu mode='custom' match='exact'>\n"
        "    <model fallback='allow'>Haswell</model>\n"
        "    <vendor> Intel </vendor>\n"
        "  </cpu>");
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK_STR(info.cpu_vendor, "Intel");
    CHECK_STR(info.cpu_model, "Haswell");
    domxml_clear(&info);
}

static void check_policy(const char *policy_attr, const char *want_policy,
                         DomxmlRequest want, gboolean defaulted)
{
    g_autofree char *cpu = g_strdup_printf(
        "  <cpu mode='custom' match='exact'>\n"
        "    <model fallback='forbid'>qemu64</model>\n"
        "    <feature %s name='uintr'/>\n"
        "  </cpu>", policy_attr);
    g_autofree char *xml = domain_with(cpu);
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK(err == NULL);
    CHECK_STR(info.policy, want_policy);
    CHECK_INT(info.request, want);
    CHECK_INT(info.policy_defaulted, defaulted);
    CHECK(info.cpu_check == NULL);
    domxml_clear(&info);
}

static void each_policy(void)
{
    check_policy("policy='require'", "require", DOMXML_FEATURE_ON, FALSE);
    check_policy("policy='force'", "force", DOMXML_FEATURE_ON, FALSE);
    check_policy("policy='disable'", "disable", DOMXML_FEATURE_OFF, FALSE);
    check_policy("policy='forbid'", "forbid", DOMXML_FEATURE_OFF, FALSE);
    check_policy("policy='optional'", "optional", DOMXML_FEATURE_OPTIONAL, FALSE);
    /* libvirt's default policy for a guest CPU feature is require */
    check_policy("", "require", DOMXML_FEATURE_ON, TRUE);
}

static void feature_absent(void)
{
    g_autofree char *xml = domain_with(
        "  <cpu mode='host-model' check='partial'>\n"
        "    <feature policy='require' name='uintrx'/>\n"
        "    <feature policy='require' name='UINTR'/>\n"
        "  </cpu>");
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK(info.has_cpu);
    CHECK_STR(info.cpu_mode, "host-model");
    CHECK_STR(info.cpu_check, "partial");
    CHECK(info.cpu_model == NULL);
    CHECK(info.policy == NULL);
    CHECK_INT(info.request, DOMXML_FEATURE_ABSENT);
    domxml_clear(&info);
}

static void no_cpu_element(void)
{
    g_autofree char *xml = domain_with("");
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    /* <features><uintr/></features> is not a CPU feature */
    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK(!info.has_cpu);
    CHECK(info.cpu_mode == NULL);
    CHECK_INT(info.request, DOMXML_FEATURE_ABSENT);
    CHECK_STR(info.name, "t1");
    domxml_clear(&info);
}

static void expect_xml_error(const char *xml, const char *msg_part)
{
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), -1);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    if (err && msg_part)
        CHECK_CONTAINS(err->message, msg_part);
    /* cleared on failure */
    CHECK(info.name == NULL && info.policy == NULL);
}

static void malformed(void)
{
    g_autofree char *dup = domain_with(
        "  <cpu mode='custom'><model>qemu64</model>\n"
        "    <feature policy='require' name='uintr'/>\n"
        "    <feature policy='disable' name='uintr'/>\n"
        "  </cpu>");
    g_autofree char *bad_policy = domain_with(
        "  <cpu mode='custom'><feature policy='maybe' name='uintr'/></cpu>");
    g_autofree char *truncated = unit_read_data("domain-u1-live.xml");

    truncated[strlen(truncated) / 2] = '\0';
    expect_xml_error("", "malformed domain XML");
    expect_xml_error("not xml at all", "malformed domain XML");
    expect_xml_error("<domain><cpu></domain>", "malformed domain XML");
    expect_xml_error(truncated, "malformed domain XML");
    expect_xml_error("<network><name>x</name></network>", "root element is <network>");
    expect_xml_error(dup, "appears 2 times");
    expect_xml_error(bad_policy, "unknown policy 'maybe'");
}

static void no_external_entities(void)
{
    /* an external entity must not be fetched or expanded */
    const char *xml =
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/hostname'>]>\n"
        "<domain><name>&x;</name><cpu mode='custom'>"
        "<feature policy='forbid' name='uintr'/></cpu></domain>";
    g_autoptr(GError) err = NULL;
    DomCpuInfo info;

    CHECK_INT(domxml_parse(xml, "uintr", &info, &err), 0);
    CHECK(info.name == NULL);
    CHECK_INT(info.request, DOMXML_FEATURE_OFF);
    domxml_clear(&info);
}

static void request_names(void)
{
    CHECK_STR(domxml_request_name(DOMXML_FEATURE_ABSENT), "absent");
    CHECK_STR(domxml_request_name(DOMXML_FEATURE_ON), "on");
    CHECK_STR(domxml_request_name(DOMXML_FEATURE_OFF), "off");
    CHECK_STR(domxml_request_name(DOMXML_FEATURE_OPTIONAL), "optional");
}

const UnitTest domxml_tests[] = {
    { "live-domain", live_domain },
    { "model-only-domain", model_only_domain },
    { "vendor", vendor },
    { "each-policy", each_policy },
    { "feature-absent", feature_absent },
    { "no-cpu-element", no_cpu_element },
    { "malformed", malformed },
    { "no-external-entities", no_external_entities },
    { "request-names", request_names },
    { NULL, NULL },
};
