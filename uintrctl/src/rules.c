/* rules.c - the numbered rules of "uintrctl check" */
#include <string.h>

#include "errors.h"
#include "rules.h"

enum {
    R_CPUID,
    R_REPLY,
    R_XSAVE,
    R_CR4,
    R_MSR_RESERVED,
    R_CANONICAL,
    R_UPID_LOCATION,
    R_UPID_NV,
    R_UPID_NDST,
    R_UPID_RESERVED,
    R_SN_PIR,
    R_ON_IDLE,
    R_UIRR_UIF,
    R_XSS,
    R_UITT_READ,
    R_UITT_ENTRY,
    R_UITT_UPID_LOCATION,
    R_UITT_UPID,
    R_COUNT,
};

static const RuleInfo rule_table[R_COUNT] = {
    [R_CPUID] = {
        "UINTR-001", "ISE 9.2; spec 1: CPUID.(EAX=7,ECX=0):EDX[5]",
        "CPUID uintr bit as the domain XML (or --expect) asks",
        "check the domain's <cpu> (check='none' lets libvirt drop a feature "
        "QEMU lacks) and that QEMU has the UINTR series", FALSE },
    [R_REPLY] = {
        "UINTR-002", "query-uintr schema vs spec 3 (MSR layouts), 4 (UPID, UITTE)",
        "QEMU's decoded fields agree with the raw MSRs and memory",
        "QEMU reply inconsistent: a bug in QEMU's query-uintr", TRUE },
    [R_XSAVE] = {
        "UINTR-003", "SDM Vol1 13.5.11; spec 1, 8: CPUID.(0DH,1):EAX[3], ECX[14]",
        "XSAVES and supervisor state component 14 enumerated with uintr",
        "use a CPU model with xsaves (e.g. SapphireRapids-UINTR): without "
        "them the guest OS cannot switch UINTR state", TRUE },
    [R_CR4] = {
        "UINTR-004", "ISE 9.2; spec 1: CR4.UINTR (bit 25)",
        "CR4.UINTR set where the UINTR MSRs are in use",
        "the guest OS programmed the MSRs without enabling CR4.UINTR: no "
        "delivery, notification processing or UINTR instructions", TRUE },
    [R_MSR_RESERVED] = {
        "UINTR-005", "ISE 9.3.2; spec 3: MISC[63:40], TT[3:1]",
        "reserved bits of IA32_UINTR_MISC and IA32_UINTR_TT are zero",
        "WRMSR and XRSTORS refuse these values: the state did not come "
        "from the architecture", TRUE },
    [R_CANONICAL] = {
        "UINTR-006", "spec 3, 6.3: HANDLER, STACKADJUST, PD, TT canonical",
        "handler, stack adjust, UPID and UITT addresses canonical",
        "delivery #GPs on a non-canonical handler; WRMSR/XRSTORS refuse "
        "such values", TRUE },
    [R_UPID_LOCATION] = {
        "UINTR-007", "spec 3 (PD[5:0]), 4.1: UPID 64-byte aligned",
        "UPID at IA32_UINTR_PD 64-byte aligned, canonical, mapped RAM",
        "notification processing cannot read the UPID: the guest OS "
        "freed or unmapped it", TRUE },
    [R_UPID_NV] = {
        "UINTR-008", "ISE 9.5.1; spec 4.1, 7.1: UPID.NV, UINV",
        "UPID.NV equals UINV",
        "SENDUIPI notifications to this UPID arrive as ordinary "
        "interrupts, not user interrupts", TRUE },
    [R_UPID_NDST] = {
        "UINTR-009", "spec 4.1, 5.1: UPID.NDST (xAPIC: bits 15:8)",
        "UPID.NDST names this vCPU's APIC ID in its APIC mode",
        "notifications go to another CPU (or none): the guest OS did not "
        "update NDST when the thread moved", TRUE },
    [R_UPID_RESERVED] = {
        "UINTR-010", "spec 4.1, 5.1: UPID bits 15:2, 31:24",
        "reserved bits of the UPID are zero",
        "every SENDUIPI to this UPID raises #GP", TRUE },
    [R_SN_PIR] = {
        "UINTR-011", "spec 4.1 (SN), 5.1",
        "no posted interrupts held back by UPID.SN",
        "interrupts held back: PIR bits are pending while SN suppresses "
        "notifications", TRUE },
    [R_ON_IDLE] = {
        "UINTR-012", "spec 5.1, 7.2 (ON)",
        "UPID.ON not set without posted interrupts",
        "a stale ON suppresses every further notification to this UPID",
        TRUE },
    [R_UIRR_UIF] = {
        "UINTR-013", "ISE 9.4; spec 2, 6.2 (UIRR, UIF)",
        "pending user interrupts not blocked by UIF across two samples",
        "the thread keeps UIF clear (CLUI without STUI?): the pending user "
        "interrupts are not delivered", TRUE },
    [R_XSS] = {
        "UINTR-014", "SDM Vol1 13.5.11; spec 8: IA32_XSS[14]",
        "IA32_XSS[14] set where UINTR is in use",
        "XSAVES does not save the UINTR state: the guest OS loses it on a "
        "context switch", TRUE },
    [R_UITT_READ] = {
        "UINTR-015", "spec 4.2, 5.1: UITT at UITTADDR, entries 0..UITTSZ",
        "every UITT entry 0..UITTSZ is mapped RAM",
        "SENDUIPI faults on the unreadable entries", TRUE },
    [R_UITT_ENTRY] = {
        "UINTR-016", "spec 4.2, 5.1: UITTE bits 7:1, 63:16, UV < 64",
        "valid UITT entries: reserved bits zero, UV < 64",
        "SENDUIPI raises #GP on this entry", TRUE },
    [R_UITT_UPID_LOCATION] = {
        "UINTR-017", "spec 4.2 (UPIDADDR 64-byte aligned), 4.1",
        "valid UITT entries: target UPID aligned, canonical, mapped RAM",
        "SENDUIPI raises #GP or #PF on this entry", TRUE },
    [R_UITT_UPID] = {
        "UINTR-018", "spec 4.1, 5.1: target UPID NV, NDST, reserved bits",
        "valid UITT entries: target UPID well-formed, NDST names a vCPU, "
        "NV its UINV",
        "SENDUIPI #GPs, or its notification reaches no vCPU or the wrong "
        "vector", TRUE },
};

const RuleInfo *rules_table(size_t *n)
{
    *n = R_COUNT;
    return rule_table;
}

const char *rule_result_name(RuleResult r)
{
    switch (r) {
    case RULE_PASS: return "PASS";
    case RULE_SKIP: return "SKIP";
    case RULE_WARN: return "WARN";
    case RULE_FAIL: return "FAIL";
    }
    return "UNKNOWN";
}

/* --- one evaluation: a result and the problems found --- */

#define JUDGE_MAX_PROBLEMS 4

typedef struct {
    RuleResult result;
    GString *detail;
    unsigned problems;
} Judge;

static void judge_problem(Judge *j, RuleResult r, const char *fmt,
                          va_list ap) G_GNUC_PRINTF(3, 0);
static void judge_problem(Judge *j, RuleResult r, const char *fmt, va_list ap)
{
    if (j->result == RULE_SKIP || j->problems == 0)
        g_string_truncate(j->detail, 0);
    if (r > j->result || j->result == RULE_SKIP)
        j->result = r;
    if (++j->problems > JUDGE_MAX_PROBLEMS)
        return;
    if (j->detail->len)
        g_string_append(j->detail, "; ");
    g_string_append_vprintf(j->detail, fmt, ap);
}

static void judge_fail(Judge *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void judge_fail(Judge *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    judge_problem(j, RULE_FAIL, fmt, ap);
    va_end(ap);
}

static void judge_warn(Judge *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void judge_warn(Judge *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    judge_problem(j, RULE_WARN, fmt, ap);
    va_end(ap);
}

/* Set the outcome to @r with this detail (SKIP, or PASS when no problem
 * was found). */
static void judge_set(Judge *j, RuleResult r, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void judge_set(Judge *j, RuleResult r, const char *fmt, ...)
{
    va_list ap;

    if (j->problems)
        return;
    j->result = r;
    g_string_truncate(j->detail, 0);
    va_start(ap, fmt);
    g_string_append_vprintf(j->detail, fmt, ap);
    va_end(ap);
}

static void judge_finish(Judge *j)
{
    if (j->problems > JUDGE_MAX_PROBLEMS)
        g_string_append_printf(j->detail, "; and %u more",
                               j->problems - JUDGE_MAX_PROBLEMS);
}

/* --- helpers on the raw values --- */

static gboolean canonical(guint64 addr, unsigned bits)
{
    unsigned shift = 64 - bits;

    return (guint64)((gint64)(addr << shift) >> shift) == addr;
}

gboolean uintr_vcpu_in_use(const UintrVcpu *v)
{
    const UintrMsrs *m = &v->msrs;

    return m->rr || m->handler || m->stackadjust || m->misc || m->pd || m->tt;
}

static const UintrUpid *readable_upid(const UintrVcpu *v)
{
    return v->has_upid && v->upid.error == UINTR_READ_OK ? &v->upid : NULL;
}

/* The APIC ID a notification with @ndst reaches from a vCPU in @mode;
 * FALSE if that APIC sends nothing. */
static gboolean ndst_dest(UintrApicMode mode, guint32 ndst, guint32 *dest)
{
    switch (mode) {
    case UINTR_APIC_X2APIC:
        *dest = ndst;
        return TRUE;
    case UINTR_APIC_XAPIC:
        *dest = (ndst >> 8) & 0xff;
        return TRUE;
    case UINTR_APIC_DISABLED:
        break;
    }
    return FALSE;
}

typedef struct {
    const RuleInput *in;
    unsigned la_bits;        /* linear-address width for canonical checks */
    gboolean la_known;
} Ctx;

/* --- UINTR-002: QEMU's reply agrees with itself --- */

static void check_upid_decoding(Judge *j, const char *what, guint64 address,
                                const UintrUpid *u)
{
    if (u->address != address)
        judge_fail(j, "%s: address 0x%" G_GINT64_MODIFIER "x, expected "
                   "0x%" G_GINT64_MODIFIER "x", what, u->address, address);
    if (u->error != UINTR_READ_OK)
        return;
    if (u->on != !!(u->status & UPID_ON) || u->sn != !!(u->status & UPID_SN) ||
        u->nv != UPID_NV(u->status) || u->ndst != UPID_NDST(u->status) ||
        u->reserved != (u->status & UPID_RESERVED))
        judge_fail(j, "%s: on/sn/nv/ndst/reserved do not decode status "
                   "0x%016" G_GINT64_MODIFIER "x", what, u->status);
}

static void rule_reply(const Ctx *c, const VcpuState *cpu, const UintrVcpu *v,
                       Judge *j)
{
    const UintrMsrs *m = &v->msrs;
    guint64 want_len;

    if (!cpu)
        judge_fail(j, "vCPU %d is in query-uintr but not in query-cpus-fast",
                   v->cpu_index);
    else if (strcmp(cpu->qom_path, v->qom_path) != 0)
        judge_fail(j, "qom-path '%s', query-cpus-fast says '%s'", v->qom_path,
                   cpu->qom_path);
    if (cpu && cpu->enabled != v->uintr)
        judge_fail(j, "'uintr' %d, but the vCPU's uintr property is %d",
                   v->uintr, cpu->enabled);
    if (v->apic_mode == UINTR_APIC_XAPIC && v->apic_id > 0xff)
        judge_fail(j, "apic-id %u does not fit an xAPIC ID", v->apic_id);
    if (v->stack_adjust_load != (gboolean)(m->stackadjust & 1))
        judge_fail(j, "stack-adjust-load %d, STACKADJUST[0] is %d",
                   v->stack_adjust_load, (int)(m->stackadjust & 1));
    if (v->uittsz != UINTR_MISC_UITTSZ(m->misc) ||
        v->uinv != UINTR_MISC_UINV(m->misc))
        judge_fail(j, "uittsz %u/uinv %u, MISC 0x%" G_GINT64_MODIFIER "x "
                   "says %u/%u", v->uittsz, v->uinv, m->misc,
                   UINTR_MISC_UITTSZ(m->misc), UINTR_MISC_UINV(m->misc));
    if (v->uitt_address != UINTR_TT_ADDRESS(m->tt) ||
        v->uitt_valid != (gboolean)(m->tt & 1))
        judge_fail(j, "uitt-address 0x%" G_GINT64_MODIFIER "x/uitt-valid %d, "
                   "TT 0x%" G_GINT64_MODIFIER "x says 0x%" G_GINT64_MODIFIER
                   "x/%d", v->uitt_address, v->uitt_valid, m->tt,
                   UINTR_TT_ADDRESS(m->tt), (int)(m->tt & 1));
    if (v->has_upid != (m->pd != 0))
        judge_fail(j, "UPID %s, but PD is 0x%" G_GINT64_MODIFIER "x",
                   v->has_upid ? "present" : "absent", m->pd);
    if (v->has_upid)
        check_upid_decoding(j, "UPID", m->pd, &v->upid);
    if (!!v->uitt != (gboolean)(m->tt & 1)) {
        judge_fail(j, "UITT %s, but TT[0] is %d", v->uitt ? "present" : "absent",
                   (int)(m->tt & 1));
    }
    if (!v->uitt)
        goto done;
    want_len = MIN((guint64)UINTR_MISC_UITTSZ(m->misc) + 1, v->uitt_cap);
    if (v->uitt->len != want_len ||
        v->uitt_truncated != ((guint64)UINTR_MISC_UITTSZ(m->misc) + 1 >
                              v->uitt_cap))
        judge_fail(j, "UITT has %u entries (truncated %d), UITTSZ %u and "
                   "uitt-cap %u want %" G_GUINT64_FORMAT, v->uitt->len,
                   v->uitt_truncated, UINTR_MISC_UITTSZ(m->misc), v->uitt_cap,
                   want_len);
    for (guint i = 0; i < v->uitt->len; i++) {
        const UintrUitte *e = &g_array_index(v->uitt, UintrUitte, i);
        g_autofree char *what = g_strdup_printf("UITT entry %u's UPID", i);

        if (e->index != i ||
            e->address != UINTR_TT_ADDRESS(m->tt) + ((guint64)i << 4))
            judge_fail(j, "UITT entry %u: index %u at 0x%" G_GINT64_MODIFIER
                       "x, expected 0x%" G_GINT64_MODIFIER "x", i, e->index,
                       e->address, UINTR_TT_ADDRESS(m->tt) + ((guint64)i << 4));
        if (e->error != UINTR_READ_OK)
            continue;
        if (e->reserved & ~UITTE_RESERVED)
            judge_fail(j, "UITT entry %u: 'reserved' 0x%" G_GINT64_MODIFIER
                       "x has non-reserved bits", i, e->reserved);
        if (e->has_upid != e->valid)
            judge_fail(j, "UITT entry %u: target UPID %s for a%s entry", i,
                       e->has_upid ? "read" : "not read",
                       e->valid ? " valid" : "n invalid");
        if (e->has_upid)
            check_upid_decoding(j, what, e->upid_address, &e->upid);
    }
done:
    (void)c;
    judge_set(j, RULE_PASS, "decoded fields agree with MSRs, UPID and UITT");
}

/* --- UINTR-003 .. 014: the vCPU's own state --- */

static void rule_xsave(const Ctx *c, const VcpuState *cpu, const UintrVcpu *v,
                       Judge *j)
{
    (void)c;
    (void)v;
    if (!cpu) {
        judge_set(j, RULE_SKIP, "not listed by query-cpus-fast");
        return;
    }
    if (!cpu->enabled) {
        judge_set(j, RULE_SKIP, "uintr is not enumerated on this vCPU");
        return;
    }
    if (cpu->xsaves == CPUID_BIT_UNKNOWN ||
        cpu->xss_uintr == CPUID_BIT_UNKNOWN) {
        judge_set(j, RULE_SKIP, "QEMU reports no CPUID leaf 0DH subleaf 1 in "
                  "the vCPU's feature-words");
        return;
    }
    if (cpu->xsaves != CPUID_BIT_SET)
        judge_fail(j, "uintr without XSAVES (CPUID.(0DH,1):EAX[3] = 0)");
    if (cpu->xss_uintr != CPUID_BIT_SET)
        judge_fail(j, "uintr without supervisor state component 14 "
                   "(CPUID.(0DH,1):ECX[14] = 0)");
    judge_set(j, RULE_PASS, "XSAVES and CPUID.(0DH,1):ECX[14] enumerated");
}

static gboolean skip_unused(const UintrVcpu *v, Judge *j)
{
    if (uintr_vcpu_in_use(v))
        return FALSE;
    judge_set(j, RULE_SKIP, "UINTR not in use (all six UINTR MSRs are 0)");
    return TRUE;
}

static void rule_cr4(const Ctx *c, const VcpuState *cpu, const UintrVcpu *v,
                     Judge *j)
{
    (void)c;
    (void)cpu;
    if (skip_unused(v, j))
        return;
    if (!v->cr4_uintr)
        judge_fail(j, "UINTR MSRs in use but CR4.UINTR is clear");
    judge_set(j, RULE_PASS, "CR4.UINTR set, UINTR MSRs in use");
}

static void rule_msr_reserved(const Ctx *c, const VcpuState *cpu,
                              const UintrVcpu *v, Judge *j)
{
    (void)c;
    (void)cpu;
    if (v->msrs.misc & UINTR_MISC_RESERVED)
        judge_fail(j, "IA32_UINTR_MISC 0x%016" G_GINT64_MODIFIER "x sets "
                   "reserved bits 63:40", v->msrs.misc);
    if (v->msrs.tt & UINTR_TT_RESERVED)
        judge_fail(j, "IA32_UINTR_TT 0x%016" G_GINT64_MODIFIER "x sets "
                   "reserved bits 3:1", v->msrs.tt);
    judge_set(j, RULE_PASS, "MISC[63:40] and TT[3:1] are zero");
}

static void rule_canonical(const Ctx *c, const VcpuState *cpu,
                           const UintrVcpu *v, Judge *j)
{
    const struct {
        const char *name;
        guint64 value;
    } msrs[] = {
        { "IA32_UINTR_HANDLER", v->msrs.handler },
        { "IA32_UINTR_STACKADJUST", v->msrs.stackadjust },
        { "IA32_UINTR_PD", v->msrs.pd },
        { "IA32_UINTR_TT", v->msrs.tt },
    };

    (void)cpu;
    for (size_t i = 0; i < G_N_ELEMENTS(msrs); i++)
        if (!canonical(msrs[i].value, c->la_bits))
            judge_fail(j, "%s 0x%016" G_GINT64_MODIFIER "x is not canonical "
                       "(%u-bit linear addresses)", msrs[i].name,
                       msrs[i].value, c->la_bits);
    judge_set(j, RULE_PASS, "canonical for %u-bit linear addresses%s",
              c->la_bits, c->la_known ? "" : " (LA57 unknown)");
}

static void rule_upid_location(const Ctx *c, const VcpuState *cpu,
                               const UintrVcpu *v, Judge *j)
{
    guint64 pd = v->msrs.pd;

    (void)cpu;
    if (pd == 0) {
        if (UINTR_MISC_UINV(v->msrs.misc))
            judge_fail(j, "UINV 0x%x is set but IA32_UINTR_PD is 0: "
                       "notifications would use a UPID at address 0",
                       UINTR_MISC_UINV(v->msrs.misc));
        judge_set(j, RULE_SKIP, "no UPID (IA32_UINTR_PD is 0)");
        return;
    }
    if (pd & UINTR_PD_RESERVED)
        judge_fail(j, "UPID 0x%" G_GINT64_MODIFIER "x is not 64-byte "
                   "aligned", pd);
    if (!canonical(pd, c->la_bits))
        judge_fail(j, "UPID 0x%" G_GINT64_MODIFIER "x is not canonical", pd);
    if (!v->has_upid) {
        judge_set(j, RULE_SKIP, "QEMU did not read the UPID (see UINTR-002)");
        return;
    }
    if (v->upid.error != UINTR_READ_OK)
        judge_fail(j, "UPID 0x%" G_GINT64_MODIFIER "x: %s", pd,
                   uintr_read_error_name(v->upid.error));
    judge_set(j, RULE_PASS, "UPID at 0x%" G_GINT64_MODIFIER "x (guest-physical "
              "0x%" G_GINT64_MODIFIER "x)", pd, v->upid.phys_address);
}

/* The UPID rules need a UPID, and 008/009 a receiver that identifies
 * notifications (UINV != 0). */
static const UintrUpid *need_upid(const UintrVcpu *v, gboolean armed,
                                  Judge *j)
{
    const UintrUpid *u = readable_upid(v);

    if (!u) {
        judge_set(j, RULE_SKIP, v->msrs.pd ? "the UPID is not readable (see "
                  "UINTR-007)" : "no UPID (IA32_UINTR_PD is 0)");
        return NULL;
    }
    if (armed && !UINTR_MISC_UINV(v->msrs.misc)) {
        judge_set(j, RULE_SKIP, "UINV is 0: this vCPU identifies no "
                  "notifications now (state saved by XSAVES, or no "
                  "receiver)");
        return NULL;
    }
    return u;
}

static void rule_upid_nv(const UintrVcpu *v, const UintrUpid *u, Judge *j)
{
    guint8 uinv = UINTR_MISC_UINV(v->msrs.misc);

    if (UPID_NV(u->status) != uinv)
        judge_fail(j, "UPID.NV 0x%x, UINV 0x%x", UPID_NV(u->status), uinv);
    judge_set(j, RULE_PASS, "UPID.NV 0x%x = UINV", uinv);
}

/* NDST against APIC ID @apic_id of a vCPU in @mode, as a sender in
 * that mode sends it.  @what names the UPID. */
static void check_ndst(Judge *j, const char *what, UintrApicMode mode,
                       guint32 ndst, guint32 apic_id)
{
    guint32 dest;

    if (!ndst_dest(mode, ndst, &dest)) {
        judge_fail(j, "%s: the local APIC is disabled, no notification "
                   "reaches this vCPU", what);
        return;
    }
    if (dest != apic_id)
        judge_fail(j, "%s: NDST 0x%08x names APIC ID %u in %s mode, this "
                   "vCPU is %u", what, ndst, dest, uintr_apic_mode_name(mode),
                   apic_id);
    else if (mode == UINTR_APIC_XAPIC && (ndst & ~0xff00u))
        judge_warn(j, "%s: NDST 0x%08x sets bits outside 15:8 (ignored in "
                   "xAPIC mode; Linux writes them 0)", what, ndst);
}

static void rule_upid_ndst(const UintrVcpu *v, const UintrUpid *u, Judge *j)
{

    check_ndst(j, "UPID", v->apic_mode, UPID_NDST(u->status), v->apic_id);
    judge_set(j, RULE_PASS, "UPID.NDST 0x%08x names APIC ID %u (%s)",
              UPID_NDST(u->status), v->apic_id,
              uintr_apic_mode_name(v->apic_mode));
}

static void rule_upid_reserved(const UintrVcpu *v G_GNUC_UNUSED,
                               const UintrUpid *u, Judge *j)
{
    if (u->status & UPID_RESERVED)
        judge_fail(j, "UPID status 0x%016" G_GINT64_MODIFIER "x sets reserved "
                   "bits 0x%" G_GINT64_MODIFIER "x", u->status,
                   u->status & UPID_RESERVED);
    judge_set(j, RULE_PASS, "UPID bits 15:2 and 31:24 are zero");
}

static void rule_sn_pir(const UintrVcpu *v G_GNUC_UNUSED,
                        const UintrUpid *u, Judge *j)
{
    if ((u->status & UPID_SN) && u->pir)
        judge_warn(j, "UPID.SN is set with PIR 0x%016" G_GINT64_MODIFIER "x "
                   "pending", u->pir);
    judge_set(j, RULE_PASS, "SN %d, PIR 0x%" G_GINT64_MODIFIER "x",
              !!(u->status & UPID_SN), u->pir);
}

static void rule_on_idle(const UintrVcpu *v G_GNUC_UNUSED,
                         const UintrUpid *u, Judge *j)
{
    if ((u->status & UPID_ON) && !u->pir)
        judge_warn(j, "UPID.ON is set with nothing posted (PIR 0)");
    judge_set(j, RULE_PASS, "ON %d, PIR 0x%" G_GINT64_MODIFIER "x",
              !!(u->status & UPID_ON), u->pir);
}

static void rule_uirr_uif(const Ctx *c, const VcpuState *cpu,
                          const UintrVcpu *v, Judge *j)
{
    const UintrVcpu *first = uintr_state_find(c->in->first, v->cpu_index);

    (void)cpu;
    if (!v->msrs.rr) {
        judge_set(j, RULE_PASS, "nothing pending (UIRR 0)");
        return;
    }
    if (!first || c->in->first == c->in->last) {
        judge_set(j, RULE_SKIP, "UIRR 0x%" G_GINT64_MODIFIER "x pending, UIF "
                  "%d, but only one sample (--interval 0)", v->msrs.rr,
                  v->uif);
        return;
    }
    if (first->msrs.rr && !first->uif && !v->uif)
        judge_warn(j, "UIRR 0x%" G_GINT64_MODIFIER "x then 0x%"
                   G_GINT64_MODIFIER "x pending with UIF clear in both "
                   "samples, %d ms apart", first->msrs.rr, v->msrs.rr,
                   c->in->interval_ms);
    judge_set(j, RULE_PASS, "UIRR 0x%" G_GINT64_MODIFIER "x pending, UIF %d "
              "then %d", v->msrs.rr, first->uif, v->uif);
}

static void rule_xss(const Ctx *c, const VcpuState *cpu, const UintrVcpu *v,
                     Judge *j)
{
    (void)c;
    (void)cpu;
    if (skip_unused(v, j))
        return;
    if (!(v->xss & XSS_UINTR))
        judge_warn(j, "UINTR in use but IA32_XSS 0x%" G_GINT64_MODIFIER "x "
                   "lacks bit 14", v->xss);
    judge_set(j, RULE_PASS, "IA32_XSS 0x%" G_GINT64_MODIFIER "x has bit 14",
              v->xss);
}

/* --- UINTR-015 .. 018: the UITT --- */

static gboolean skip_no_uitt(const UintrVcpu *v, Judge *j)
{
    if (!(v->msrs.tt & 1)) {
        judge_set(j, RULE_SKIP, "SENDUIPI disabled (IA32_UINTR_TT[0] is 0)");
        return TRUE;
    }
    if (!v->uitt) {
        judge_set(j, RULE_SKIP, "QEMU sent no UITT (see UINTR-002)");
        return TRUE;
    }
    return FALSE;
}

static void rule_uitt_read(const Ctx *c, const VcpuState *cpu,
                           const UintrVcpu *v, Judge *j)
{
    (void)c;
    (void)cpu;
    if (skip_no_uitt(v, j))
        return;
    for (guint i = 0; i < v->uitt->len; i++) {
        const UintrUitte *e = &g_array_index(v->uitt, UintrUitte, i);

        if (e->error != UINTR_READ_OK)
            judge_fail(j, "entry %u at 0x%" G_GINT64_MODIFIER "x: %s", i,
                       e->address, uintr_read_error_name(e->error));
    }
    judge_set(j, RULE_PASS, "%u entr%s read%s", v->uitt->len,
              v->uitt->len == 1 ? "y" : "ies",
              v->uitt_truncated ? " (truncated at uitt-cap; the rest is not "
              "checked)" : "");
}

/* Call @fn on every valid, readable UITT entry; SKIP if there is none. */
static void each_valid_entry(const Ctx *c, const UintrVcpu *v, Judge *j,
                             void (*fn)(const Ctx *, const UintrVcpu *,
                                        const UintrUitte *, Judge *))
{
    guint n = 0;

    if (skip_no_uitt(v, j))
        return;
    for (guint i = 0; i < v->uitt->len; i++) {
        const UintrUitte *e = &g_array_index(v->uitt, UintrUitte, i);

        if (e->error != UINTR_READ_OK || !e->valid)
            continue;
        n++;
        fn(c, v, e, j);
    }
    if (n == 0)
        judge_set(j, RULE_SKIP, "no valid UITT entry");
    else
        judge_set(j, RULE_PASS, "%u valid entr%s", n, n == 1 ? "y" : "ies");
}

static void entry_fields(const Ctx *c, const UintrVcpu *v,
                         const UintrUitte *e, Judge *j)
{
    guint64 low = e->reserved | ((guint64)e->uv << 8) | 1;

    (void)c;
    (void)v;
    if (low & UITTE_RESERVED)
        judge_fail(j, "entry %u sets reserved bits 0x%" G_GINT64_MODIFIER "x",
                   e->index, low & UITTE_RESERVED);
    if (e->uv >= 64)
        judge_fail(j, "entry %u: UV %u is not below 64", e->index, e->uv);
}

static void rule_uitt_entry(const Ctx *c, const VcpuState *cpu,
                            const UintrVcpu *v, Judge *j)
{
    (void)cpu;
    each_valid_entry(c, v, j, entry_fields);
}

static void entry_upid_location(const Ctx *c, const UintrVcpu *v,
                                const UintrUitte *e, Judge *j)
{
    (void)v;
    if (e->upid_address & 0x3f)
        judge_fail(j, "entry %u: UPID 0x%" G_GINT64_MODIFIER "x is not "
                   "64-byte aligned", e->index, e->upid_address);
    if (!canonical(e->upid_address, c->la_bits))
        judge_fail(j, "entry %u: UPID 0x%" G_GINT64_MODIFIER "x is not "
                   "canonical", e->index, e->upid_address);
    if (e->has_upid && e->upid.error != UINTR_READ_OK)
        judge_fail(j, "entry %u: UPID 0x%" G_GINT64_MODIFIER "x: %s",
                   e->index, e->upid_address,
                   uintr_read_error_name(e->upid.error));
}

static void rule_uitt_upid_location(const Ctx *c, const VcpuState *cpu,
                                    const UintrVcpu *v, Judge *j)
{
    (void)cpu;
    each_valid_entry(c, v, j, entry_upid_location);
}

static void entry_upid(const Ctx *c, const UintrVcpu *v, const UintrUitte *e,
                       Judge *j)
{
    /* A misaligned or unreadable UPID fails UINTR-017; what a misaligned
     * address reads is not a UPID, so it is not judged as one here. */
    const UintrUpid *u = e->has_upid && e->upid.error == UINTR_READ_OK &&
                         !(e->upid_address & 0x3f) ? &e->upid : NULL;
    g_autofree char *what = g_strdup_printf("entry %u's UPID", e->index);
    const UintrVcpu *target = NULL;
    guint32 dest;

    if (!u)
        return;
    if (u->status & UPID_RESERVED)
        judge_fail(j, "%s sets reserved bits 0x%" G_GINT64_MODIFIER "x",
                   what, u->status & UPID_RESERVED);
    if (!ndst_dest(v->apic_mode, UPID_NDST(u->status), &dest)) {
        judge_fail(j, "%s: this vCPU's local APIC is disabled, SENDUIPI "
                   "sends no notification", what);
        return;
    }
    for (guint i = 0; i < c->in->last->len && !target; i++) {
        const UintrVcpu *t = c->in->last->pdata[i];

        if (t->apic_mode != UINTR_APIC_DISABLED && t->apic_id == dest)
            target = t;
    }
    if (!target) {
        judge_fail(j, "%s: NDST 0x%08x names APIC ID %u (%s), no vCPU has it",
                   what, UPID_NDST(u->status), dest,
                   uintr_apic_mode_name(v->apic_mode));
        return;
    }
    check_ndst(j, what, v->apic_mode, UPID_NDST(u->status), dest);
    if (UINTR_MISC_UINV(target->msrs.misc) &&
        UPID_NV(u->status) != UINTR_MISC_UINV(target->msrs.misc))
        judge_fail(j, "%s: NV 0x%x, but vCPU %d (APIC ID %u) has UINV 0x%x",
                   what, UPID_NV(u->status), target->cpu_index, dest,
                   UINTR_MISC_UINV(target->msrs.misc));
}

static void rule_uitt_upid(const Ctx *c, const VcpuState *cpu,
                           const UintrVcpu *v, Judge *j)
{
    (void)cpu;
    each_valid_entry(c, v, j, entry_upid);
}

typedef void (*RuleFn)(const Ctx *c, const VcpuState *cpu, const UintrVcpu *v,
                       Judge *j);

/* The rules on the vCPU's own UPID: evaluated when it is readable, and
 * for the "armed" ones when UINV is set too (need_upid). */
typedef void (*UpidRuleFn)(const UintrVcpu *v, const UintrUpid *u, Judge *j);

static const struct {
    UpidRuleFn fn;
    gboolean armed;
} upid_rule_fns[R_COUNT] = {
    [R_UPID_NV] = { rule_upid_nv, TRUE },
    [R_UPID_NDST] = { rule_upid_ndst, TRUE },
    [R_UPID_RESERVED] = { rule_upid_reserved, FALSE },
    [R_SN_PIR] = { rule_sn_pir, FALSE },
    [R_ON_IDLE] = { rule_on_idle, FALSE },
};

static void rule_upid(int r, const UintrVcpu *v, Judge *j)
{
    const UintrUpid *u = need_upid(v, upid_rule_fns[r].armed, j);

    if (u)
        upid_rule_fns[r].fn(v, u, j);
}

static const RuleFn rule_fns[R_COUNT] = {
    [R_REPLY] = rule_reply,
    [R_XSAVE] = rule_xsave,
    [R_CR4] = rule_cr4,
    [R_MSR_RESERVED] = rule_msr_reserved,
    [R_CANONICAL] = rule_canonical,
    [R_UPID_LOCATION] = rule_upid_location,
    [R_UIRR_UIF] = rule_uirr_uif,
    [R_XSS] = rule_xss,
    [R_UITT_READ] = rule_uitt_read,
    [R_UITT_ENTRY] = rule_uitt_entry,
    [R_UITT_UPID_LOCATION] = rule_uitt_upid_location,
    [R_UITT_UPID] = rule_uitt_upid,
};

static void outcome_free(gpointer p)
{
    RuleOutcome *o = p;

    g_free(o->detail);
    g_free(o);
}

static void add_outcome(GPtrArray *out, int rule, int cpu_index, Judge *j)
{
    RuleOutcome *o = g_new0(RuleOutcome, 1);

    judge_finish(j);
    o->rule = &rule_table[rule];
    o->cpu_index = cpu_index;
    o->result = j->result;
    o->detail = g_string_free(j->detail, FALSE);
    g_ptr_array_add(out, o);
}

static void rule_cpuid(const Ctx *c, Judge *j)
{
    const CpuidVerdict *v = c->in->verdict;

    if (v->exit_code != UINTRCTL_EXIT_OK)
        judge_fail(j, "%s", v->message);
    else if (v->expected == CPUID_EXPECT_NONE)
        judge_set(j, RULE_SKIP, "%s; nothing to compare with (no uintr "
                  "<feature> or CPU model in the domain XML, no --expect)",
                  v->message);
    else
        judge_set(j, RULE_PASS, "%s (from %s)", v->message,
                  cpuid_expect_from_name(v->expected_from));
}

/* The vCPUs to evaluate: every vCPU query-cpus-fast lists, then those
 * only query-uintr lists. */
static GArray *vcpu_indexes(const RuleInput *in)
{
    GArray *idx = g_array_new(FALSE, FALSE, sizeof(int));

    for (guint i = 0; i < in->cpus->len; i++)
        g_array_append_val(idx, ((VcpuState *)in->cpus->pdata[i])->cpu_index);
    for (guint i = 0; in->last && i < in->last->len; i++) {
        const UintrVcpu *v = in->last->pdata[i];
        gboolean known = FALSE;

        for (guint k = 0; k < in->cpus->len && !known; k++)
            known = ((VcpuState *)in->cpus->pdata[k])->cpu_index ==
                    v->cpu_index;
        if (!known)
            g_array_append_val(idx, v->cpu_index);
    }
    return idx;
}

static const VcpuState *find_cpu(GPtrArray *cpus, int cpu_index)
{
    for (guint i = 0; i < cpus->len; i++)
        if (((VcpuState *)cpus->pdata[i])->cpu_index == cpu_index)
            return cpus->pdata[i];
    return NULL;
}

GPtrArray *rules_evaluate(const RuleInput *in)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(outcome_free);
    g_autoptr(GArray) idx = vcpu_indexes(in);
    Ctx c = { .in = in, .la_bits = 48, .la_known = TRUE };
    Judge j = { RULE_PASS, g_string_new(NULL), 0 };

    /* the linear-address width: 57 if any vCPU enumerates LA57, and
     * 57 (the lenient choice) when QEMU does not say */
    for (guint i = 0; i < in->cpus->len; i++) {
        const VcpuState *s = in->cpus->pdata[i];

        if (s->la57 == CPUID_BIT_UNKNOWN)
            c.la_known = FALSE;
        if (s->la57 != CPUID_BIT_CLEAR)
            c.la_bits = 57;
    }
    rule_cpuid(&c, &j);
    add_outcome(out, R_CPUID, -1, &j);

    for (int r = R_CPUID + 1; r < R_COUNT; r++) {
        for (guint i = 0; i < idx->len; i++) {
            int cpu_index = g_array_index(idx, int, i);
            const VcpuState *cpu = find_cpu(in->cpus, cpu_index);
            const UintrVcpu *v = uintr_state_find(in->last, cpu_index);

            j = (Judge){ RULE_PASS, g_string_new(NULL), 0 };
            if (r == R_XSAVE)
                rule_fns[r](&c, cpu, v, &j);
            else if (!in->last)
                judge_set(&j, RULE_SKIP, "%s", in->no_state_reason
                          ? in->no_state_reason : "no query-uintr state");
            else if (!v && r == R_REPLY)
                judge_fail(&j, "vCPU %d is missing from the query-uintr reply",
                           cpu_index);
            else if (!v)
                judge_set(&j, RULE_SKIP, "no query-uintr state for this vCPU");
            else if (upid_rule_fns[r].fn)
                rule_upid(r, v, &j);
            else
                rule_fns[r](&c, cpu, v, &j);
            add_outcome(out, r, cpu_index, &j);
        }
    }
    return out;
}

RuleResult rules_worst(GPtrArray *outcomes)
{
    RuleResult worst = RULE_PASS;

    for (guint i = 0; i < outcomes->len; i++) {
        const RuleOutcome *o = outcomes->pdata[i];

        if (o->result > worst)
            worst = o->result;
    }
    return worst;
}
