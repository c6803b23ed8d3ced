/* rules.h - the numbered rules of "uintrctl check"
 *
 * Every rule has a stable ID (UINTR-001 ...), the spec clause it
 * enforces, and a one-line "what".  The domain-wide rule (UINTR-001)
 * is evaluated once, every other rule once per vCPU.  Each evaluation
 * ends in PASS, FAIL, WARN or SKIP (with the reason).  Rules read the
 * raw values (MSRs, UPID status and PIR, UITT entries) and compare
 * QEMU's decoded fields with them (UINTR-002).
 *
 * "In use" (documented in uintrctl(1)): a vCPU uses UINTR when any of
 * its six UINTR MSRs is non-zero.  It is an armed receiver when
 * additionally UINV (IA32_UINTR_MISC[39:32]) and IA32_UINTR_PD are
 * non-zero (the UPID rules need both), and a sender when IA32_UINTR_TT
 * bit 0 is set (the UITT rules).
 */
#ifndef UINTRCTL_RULES_H
#define UINTRCTL_RULES_H

#include <glib.h>
#include <json-c/json.h>

#include "cpuid.h"
#include "uintr-state.h"

typedef enum {
    RULE_PASS = 0,
    RULE_SKIP,
    RULE_WARN,
    RULE_FAIL,
} RuleResult;

typedef struct {
    const char *id;      /* "UINTR-001" */
    const char *clause;  /* the spec clause it enforces */
    const char *what;    /* what it checks, one line */
    const char *hint;    /* what to do on FAIL/WARN */
    gboolean per_vcpu;
} RuleInfo;

typedef struct {
    const RuleInfo *rule;
    int cpu_index;       /* -1 for the domain-wide rule */
    RuleResult result;
    char *detail;
} RuleOutcome;

typedef struct {
    GPtrArray *cpus;               /* VcpuState, from cpuid_gather() */
    const CpuidVerdict *verdict;   /* cpuid_verdict() on them */
    GPtrArray *first;              /* UintrVcpu: query-uintr, 1st sample */
    GPtrArray *last;               /* the 2nd sample (may equal first) */
    const char *no_state_reason;   /* first/last are NULL: why */
    int interval_ms;               /* between the samples */
} RuleInput;

/* The rule table, in ID order. */
const RuleInfo *rules_table(size_t *n);

/* Evaluate every rule; a list of RuleOutcome (free with
 * g_ptr_array_unref), domain-wide first, then rule by rule, vCPU by
 * vCPU in cpu-index order. */
GPtrArray *rules_evaluate(const RuleInput *in);

/* The worst result of @outcomes. */
RuleResult rules_worst(GPtrArray *outcomes);

const char *rule_result_name(RuleResult r); /* "PASS", "FAIL", ... */

/* Helpers shared with show (raw MSR decoding). */
#define UINTR_MISC_UITTSZ(m) ((guint32)((m) & 0xffffffffu))
#define UINTR_MISC_UINV(m) ((guint8)(((m) >> 32) & 0xff))
#define UINTR_MISC_RESERVED G_GUINT64_CONSTANT(0xffffff0000000000) /* bits 63:40 */
#define UINTR_PD_RESERVED G_GUINT64_CONSTANT(0x3f)                 /* bits 5:0 */
#define UINTR_TT_RESERVED G_GUINT64_CONSTANT(0xe)                  /* bits 3:1 */
#define UINTR_TT_ADDRESS(t) ((t) & ~G_GUINT64_CONSTANT(0xf))
#define UPID_ON G_GUINT64_CONSTANT(0x1)
#define UPID_SN G_GUINT64_CONSTANT(0x2)
#define UPID_RESERVED G_GUINT64_CONSTANT(0xff00fffc)               /* bits 15:2, 31:24 */
#define UPID_NV(s) ((guint8)(((s) >> 16) & 0xff))
#define UPID_NDST(s) ((guint32)((s) >> 32))
#define UITTE_RESERVED G_GUINT64_CONSTANT(0xffffffffffff00fe)      /* bits 7:1, 63:16 */
#define XSS_UINTR (G_GUINT64_CONSTANT(1) << 14)

gboolean uintr_vcpu_in_use(const UintrVcpu *v);

#endif
