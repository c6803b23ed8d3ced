/* cpuid.h - per-vCPU CPUID feature state over QMP, and the verdict */
#ifndef UINTRCTL_CPUID_H
#define UINTRCTL_CPUID_H

#include <glib.h>

#include "domxml.h"
#include "qmp.h"

/* CPUID.(EAX=7,ECX=0):EDX[5] */
#define UINTR_PROPERTY "uintr"
#define UINTR_CPUID_EAX 7
#define UINTR_CPUID_ECX 0
#define UINTR_CPUID_REG "EDX"
#define UINTR_CPUID_BIT 5

typedef enum {
    CPUID_EXPECT_NONE = 0,
    CPUID_EXPECT_ON,
    CPUID_EXPECT_OFF,
} CpuidExpect;

typedef enum {
    CPUID_BIT_UNKNOWN = -1, /* feature-words not available */
    CPUID_BIT_CLEAR = 0,
    CPUID_BIT_SET = 1,
} CpuidBit;

/* CPUID bits the check rules need besides uintr (feature-words) */
#define XSAVES_CPUID_EAX 0xd  /* CPUID.(EAX=0DH,ECX=1):EAX[3] XSAVES */
#define XSAVES_CPUID_ECX 1
#define XSAVES_CPUID_REG "EAX"
#define XSAVES_CPUID_BIT 3
#define XSS_UINTR_CPUID_REG "ECX" /* CPUID.(0DH,1):ECX[14]: IA32_XSS[14] */
#define XSS_UINTR_CPUID_BIT 14
#define LA57_CPUID_REG "ECX"      /* CPUID.(EAX=7,ECX=0):ECX[16] LA57 */
#define LA57_CPUID_BIT 16

typedef struct {
    int cpu_index;
    char *qom_path;
    gboolean enabled;   /* qom-get PATH uintr */
    CpuidBit cpuid_bit; /* from qom-get PATH feature-words */
    CpuidBit xsaves;    /* CPUID.(0DH,1):EAX[3], feature-words */
    CpuidBit xss_uintr; /* CPUID.(0DH,1):ECX[14], feature-words */
    CpuidBit la57;      /* CPUID.(7,0):ECX[16], feature-words */
} VcpuState;

/* Ask QEMU through @t: query-cpus-fast, then for every vCPU qom-get of
 * the property @property and of "feature-words" (cross-check of the
 * raw CPUID word; optional).  Returns a GPtrArray of VcpuState sorted
 * by cpu-index, or NULL with @err set: UINTRCTL_EXIT_PROTOCOL for QMP
 * errors or malformed replies, UINTRCTL_EXIT_NO_FEATURE if QEMU does
 * not know @property, transport codes as they come. */
GPtrArray *cpuid_gather(QmpTransport *t, const char *property, GError **err);

/* Validate a query-cpus-fast "return" value (exported for tests). */
GPtrArray *cpuid_parse_cpus(json_object *ret, GError **err);

/* Find CPUID.(eax,ecx):reg[bit] in a feature-words "return" value. */
CpuidBit cpuid_feature_words_bit(json_object *words, int eax, int ecx,
                                 const char *reg, int bit);

/* Where an expectation comes from. */
typedef enum {
    CPUID_FROM_NONE = 0, /* nothing expected                             */
    CPUID_FROM_EXPECT,   /* --expect                                     */
    CPUID_FROM_FEATURE,  /* the XML's <feature name='uintr' policy=...>  */
    CPUID_FROM_MODEL,    /* the XML's CPU model, expanded by libvirt     */
} CpuidExpectFrom;

/* What the domain XML asks: the policy of its <feature> element if it
 * has one (require/force: on, disable/forbid: off, optional: none), else
 * what its CPU model contains (dom->model_feature: includes: on, lacks:
 * off, unknown or not asked: none).  *@from says which (CPUID_FROM_NONE
 * when nothing is expected). */
CpuidExpect cpuid_dom_expect(const DomCpuInfo *dom, CpuidExpectFrom *from);

typedef struct {
    int exit_code;        /* UINTRCTL_EXIT_OK or UINTRCTL_EXIT_MISMATCH */
    CpuidExpect expected; /* the expectation that was applied */
    CpuidExpectFrom expected_from; /* where it came from */
    char *message;        /* one sentence saying why */
} CpuidVerdict;

/* Decide: every vCPU must agree with the others and with its own CPUID
 * word; what the XML asks (cpuid_dom_expect; @dom may be NULL) and
 * @cli_expect, where set, must match. */
void cpuid_verdict(GPtrArray *vcpus, const DomCpuInfo *dom,
                   CpuidExpect cli_expect, CpuidVerdict *v);
void cpuid_verdict_clear(CpuidVerdict *v);

const char *cpuid_expect_name(CpuidExpect e);  /* "none", "on", "off" */
/* "none", "expect", "feature", "model" */
const char *cpuid_expect_from_name(CpuidExpectFrom f);

#endif
