/* test-cpumodel.c - what the domain's CPU model includes, from recorded
 * virConnectBaselineCPU replies and libvirt's in-process test driver */
#include <libvirt/virterror.h>

#include "cpumodel.h"
#include "errors.h"
#include "unit.h"
#include "virt.h"

/* The template with @CPU@ replaced by @cpu, parsed. */
static void parse_domain_with(const char *cpu, DomCpuInfo *info)
{
    g_autofree char *tpl = unit_read_data("domain-template.xml");
    g_auto(GStrv) parts = g_strsplit(tpl, "@CPU@", 2);
    g_autofree char *xml = g_strconcat(parts[0], cpu, parts[1] ? parts[1] : "",
                                       NULL);
    g_autoptr(GError) err = NULL;

    if (domxml_parse(xml, "uintr", info, &err) < 0)
        unit_fail(__FILE__, __LINE__, "domxml_parse: %s", err->message);
}

static void parse_file(const char *name, DomCpuInfo *info)
{
    g_autofree char *xml = unit_read_data(name);
    g_autoptr(GError) err = NULL;

    if (domxml_parse(xml, "uintr", info, &err) < 0)
        unit_fail(__FILE__, __LINE__, "domxml_parse %s: %s", name,
                  err->message);
}

static gboolean applies_to(const char *cpu)
{
    DomCpuInfo info;
    gboolean r;

    parse_domain_with(cpu, &info);
    r = cpumodel_applies(&info);
    domxml_clear(&info);
    return r;
}

static void applies(void)
{
    DomCpuInfo info;

    parse_file("domain-spr-live.xml", &info);
    CHECK(cpumodel_applies(&info));
    domxml_clear(&info);
    /* u1 requires uintr explicitly: the model does not matter */
    parse_file("domain-u1-live.xml", &info);
    CHECK(!cpumodel_applies(&info));
    domxml_clear(&info);

    CHECK(applies_to("<cpu mode='custom' match='exact'>"
                     "<model fallback='forbid'>qemu64</model></cpu>"));
    /* libvirt's default mode when a model is given is custom */
    CHECK(applies_to("<cpu><model>qemu64</model></cpu>"));
    /* other features do not count */
    CHECK(applies_to("<cpu mode='custom'><model>qemu64</model>"
                     "<feature policy='require' name='hypervisor'/></cpu>"));
    /* any explicit policy wins over the model */
    CHECK(!applies_to("<cpu mode='custom'><model>SapphireRapids-UINTR</model>"
                      "<feature policy='disable' name='uintr'/></cpu>"));
    CHECK(!applies_to("<cpu mode='custom'><model>SapphireRapids-UINTR</model>"
                      "<feature policy='optional' name='uintr'/></cpu>"));
    CHECK(!applies_to("<cpu mode='custom'><model>qemu64</model>"
                      "<feature name='uintr'/></cpu>"));
    /* no model, or a mode in which the model is not the guest CPU */
    CHECK(!applies_to(""));
    CHECK(!applies_to("<cpu mode='custom'/>"));
    CHECK(!applies_to("<cpu mode='host-model'/>"));
    CHECK(!applies_to("<cpu mode='host-passthrough'/>"));
    CHECK(!applies_to("<cpu mode='maximum'><model>qemu64</model></cpu>"));
}

static void baseline_input(void)
{
    DomCpuInfo info;
    g_autoptr(GError) err = NULL;
    g_autofree char *in1 = NULL, *in2 = NULL, *in3 = NULL;

    parse_file("domain-spr-live.xml", &info);
    in1 = cpumodel_baseline_input(&info, &err);
    CHECK_STR(in1, "<cpu><arch>x86_64</arch><model>SapphireRapids-UINTR"
                   "</model></cpu>");
    domxml_clear(&info);

    parse_domain_with("<cpu mode='custom'><model>a&amp;&lt;b</model>"
                      "<vendor>Intel</vendor></cpu>", &info);
    in2 = cpumodel_baseline_input(&info, &err);
    CHECK(err == NULL);
    CHECK_STR(in2, "<cpu><arch>x86_64</arch><model>a&amp;&lt;b</model>"
                   "<vendor>Intel</vendor></cpu>");
    CHECK_STR(info.cpu_vendor, "Intel");
    /* no arch: nothing to ask libvirt */
    g_clear_pointer(&info.arch, g_free);
    in3 = cpumodel_baseline_input(&info, &err);
    CHECK(in3 == NULL);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    if (err)
        CHECK_CONTAINS(err->message, "/domain/os/type/@arch");
    domxml_clear(&info);
}

static int parse_expanded(const char *xml, const char *feature,
                          gboolean *includes, GError **err)
{
    *includes = TRUE; /* must be overwritten */
    return cpumodel_parse_expanded(xml, feature, includes, err);
}

static void expanded_recorded(void)
{
    g_autofree char *spr = unit_read_data("baseline-SapphireRapids-UINTR.xml");
    g_autofree char *q64 = unit_read_data("baseline-qemu64.xml");
    g_autoptr(GError) err = NULL;
    gboolean inc;

    CHECK_INT(parse_expanded(spr, "uintr", &inc, &err), 0);
    CHECK(err == NULL);
    CHECK(inc);
    CHECK_INT(parse_expanded(spr, "avx2", &inc, &err), 0);
    CHECK(inc);
    /* listed with policy='disable' (the reply names Haswell-noTSX,
     * which has it; the model does not) */
    CHECK_INT(parse_expanded(spr, "invpcid", &inc, &err), 0);
    CHECK(!inc);
    CHECK_INT(parse_expanded(q64, "uintr", &inc, &err), 0);
    CHECK(err == NULL);
    CHECK(!inc);
    CHECK_INT(parse_expanded(q64, "sse2", &inc, &err), 0);
    CHECK(inc);
}

static void expect_expanded_error(const char *xml, const char *msg_part)
{
    g_autoptr(GError) err = NULL;
    gboolean inc;

    CHECK_INT(parse_expanded(xml, "uintr", &inc, &err), -1);
    CHECK_ERR_EXIT(err, UINTRCTL_EXIT_PROTOCOL);
    CHECK(!inc);
    if (err)
        CHECK_CONTAINS(err->message, msg_part);
}

static void expanded_edge_cases(void)
{
    g_autoptr(GError) err = NULL;
    gboolean inc;

    /* a feature without a policy is required (host-type CPU syntax) */
    CHECK_INT(parse_expanded("<cpu><model>x</model><feature name='uintr'/>"
                             "</cpu>", "uintr", &inc, &err), 0);
    CHECK(inc);
    CHECK_INT(parse_expanded("<cpu><feature policy='forbid' name='uintr'/>"
                             "</cpu>", "uintr", &inc, &err), 0);
    CHECK(!inc);
    CHECK_INT(parse_expanded("<cpu><feature policy='force' name='uintr'/>"
                             "</cpu>", "uintr", &inc, &err), 0);
    CHECK(inc);
    CHECK(err == NULL);
    /* without EXPAND_FEATURES libvirt lists only the model */
    expect_expanded_error("<cpu mode='custom' match='exact'>\n"
                          "  <model fallback='forbid'>qemu64</model>\n"
                          "</cpu>\n", "lists no <feature>");
    expect_expanded_error("<cpu><feature policy='require' name='uintr'/>"
                          "<feature policy='disable' name='uintr'/></cpu>",
                          "appears 2 times");
    expect_expanded_error("<cpu><feature policy='optional' name='uintr'/>"
                          "</cpu>", "unexpected policy 'optional'");
    expect_expanded_error("<cpu><feature policy='maybe' name='uintr'/>"
                          "</cpu>", "unexpected policy 'maybe'");
    expect_expanded_error("<cpu><feature policy='require'/></cpu>",
                          "has no name");
    expect_expanded_error("", "malformed expanded CPU from libvirt");
    expect_expanded_error("<cpu><feature name='uintr'/>",
                          "malformed expanded CPU from libvirt (line");
    expect_expanded_error("<domain><feature name='uintr'/></domain>",
                          "root element is <domain>, not <cpu>");
}

/* --- cpumodel_expand_with() over a recorded or failing baseline --- */

typedef struct {
    const char *reply;   /* file in tests/data, or inline XML if '<' */
    const char *error;   /* fail with this message instead */
    int calls;
    char *input;
} FakeBaseline;

static char *fake_baseline(void *opaque, const char *cpu_xml, GError **err)
{
    FakeBaseline *f = opaque;

    f->calls++;
    g_free(f->input);
    f->input = g_strdup(cpu_xml);
    if (f->error) {
        g_set_error(err, UINTRCTL_ERROR, UINTRCTL_EXIT_FAILURE, "%s",
                    f->error);
        return NULL;
    }
    return f->reply[0] == '<' ? g_strdup(f->reply) : unit_read_data(f->reply);
}

static void expand_recorded(void)
{
    FakeBaseline f = { .reply = "baseline-SapphireRapids-UINTR.xml" };
    DomCpuInfo info;

    parse_file("domain-spr-live.xml", &info);
    CHECK_INT(info.model_feature, DOMXML_MODEL_NOT_ASKED);
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(f.calls, 1);
    CHECK_STR(f.input, "<cpu><arch>x86_64</arch><model>SapphireRapids-UINTR"
                       "</model></cpu>");
    CHECK_INT(info.model_feature, DOMXML_MODEL_INCLUDES);
    CHECK(info.model_error == NULL);
    domxml_clear(&info);

    f.reply = "baseline-qemu64.xml";
    parse_domain_with("<cpu mode='custom' match='exact' check='none'>"
                      "<model fallback='forbid'>qemu64</model></cpu>", &info);
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(f.calls, 2);
    CHECK_CONTAINS(f.input, "<model>qemu64</model>");
    CHECK_INT(info.model_feature, DOMXML_MODEL_LACKS);
    domxml_clear(&info);
    g_free(f.input);
}

static void expand_not_asked(void)
{
    FakeBaseline f = { .reply = "baseline-SapphireRapids-UINTR.xml" };
    DomCpuInfo info;

    /* explicit policy: libvirt is not asked */
    parse_domain_with("<cpu mode='custom'><model>SapphireRapids-UINTR</model>"
                      "<feature policy='disable' name='uintr'/></cpu>", &info);
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(f.calls, 0);
    CHECK_INT(info.model_feature, DOMXML_MODEL_NOT_ASKED);
    CHECK_INT(info.request, DOMXML_FEATURE_OFF);
    domxml_clear(&info);
    parse_domain_with("<cpu mode='host-passthrough'/>", &info);
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(f.calls, 0);
    CHECK_INT(info.model_feature, DOMXML_MODEL_NOT_ASKED);
    domxml_clear(&info);
}

static void expand_failures(void)
{
    FakeBaseline f = { .error = "virConnectBaselineCPU failed: internal "
                                "error: Unknown CPU model\nNoSuch" };
    DomCpuInfo info;

    parse_domain_with("<cpu mode='custom'><model>NoSuch</model></cpu>", &info);
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(f.calls, 1);
    CHECK_INT(info.model_feature, DOMXML_MODEL_UNKNOWN);
    /* one line, whatever libvirt said */
    CHECK_STR(info.model_error, "virConnectBaselineCPU failed: internal "
                                "error: Unknown CPU model NoSuch");

    /* a second expansion starts afresh */
    f.error = NULL;
    f.reply = "<cpu><model>NoSuch</model></cpu>";
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(info.model_feature, DOMXML_MODEL_UNKNOWN);
    CHECK_CONTAINS(info.model_error, "lists no <feature>");
    f.reply = "baseline-qemu64.xml";
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(info.model_feature, DOMXML_MODEL_LACKS);
    CHECK(info.model_error == NULL);

    /* no arch: not even asked, but unknown */
    g_clear_pointer(&info.arch, g_free);
    cpumodel_expand_with(&info, "uintr", fake_baseline, &f);
    CHECK_INT(f.calls, 3);
    CHECK_INT(info.model_feature, DOMXML_MODEL_UNKNOWN);
    CHECK_CONTAINS(info.model_error, "no architecture");
    domxml_clear(&info);
    g_free(f.input);
}

/* The real call, in process: libvirt's test driver expands models from
 * the system's cpu_map (Debian's libvirt 9.0: qemu64, no uintr, no
 * SapphireRapids-UINTR). */
static void expand_test_driver(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(virConnect) conn = NULL;
    g_autofree char *reply = NULL;
    DomCpuInfo info;
    gboolean inc = TRUE;

    virt_init();
    conn = virt_connect("test:///default", &err);
    CHECK(conn != NULL);
    if (!conn)
        return;
    reply = cpumodel_baseline_libvirt(conn, "<cpu><arch>x86_64</arch>"
                                      "<model>qemu64</model></cpu>", &err);
    CHECK(err == NULL);
    CHECK_CONTAINS(reply, "<feature policy='require' name='sse2'/>");
    CHECK_INT(cpumodel_parse_expanded(reply, "uintr", &inc, &err), 0);
    CHECK(!inc);

    parse_domain_with("<cpu mode='custom'><model>qemu64</model></cpu>", &info);
    cpumodel_expand(conn, &info, "uintr");
    CHECK_INT(info.model_feature, DOMXML_MODEL_LACKS);
    CHECK(info.model_error == NULL);
    /* the model includes sse2 */
    cpumodel_expand(conn, &info, "sse2");
    CHECK_INT(info.model_feature, DOMXML_MODEL_INCLUDES);
    domxml_clear(&info);

    parse_domain_with("<cpu mode='custom'><model>NoSuchModel</model></cpu>",
                      &info);
    cpumodel_expand(conn, &info, "uintr");
    CHECK_INT(info.model_feature, DOMXML_MODEL_UNKNOWN);
    CHECK_CONTAINS(info.model_error, "virConnectBaselineCPU failed: ");
    CHECK_CONTAINS(info.model_error, "NoSuchModel");
    domxml_clear(&info);
}

const UnitTest cpumodel_tests[] = {
    { "applies", applies },
    { "baseline-input", baseline_input },
    { "expanded-recorded", expanded_recorded },
    { "expanded-edge-cases", expanded_edge_cases },
    { "expand-recorded", expand_recorded },
    { "expand-not-asked", expand_not_asked },
    { "expand-failures", expand_failures },
    { "expand-test-driver", expand_test_driver },
    { NULL, NULL },
};
