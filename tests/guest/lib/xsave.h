/*
 * XSAVE feature set (SDM Vol. 1 chapter 13): enabling, CPUID 0DH layout
 * queries, the save/restore instructions as fault-reporting wrappers, and
 * loading/reading the user register state they manage.
 */
#ifndef XSAVE_H
#define XSAVE_H

#include <stdbool.h>
#include <stdint.h>

#define CPUID_1_ECX_XSAVE	(1u << 26)
#define CPUID_1_ECX_OSXSAVE	(1u << 27)
#define CPUID_1_ECX_AVX		(1u << 28)
#define CPUID_7_0_EBX_MPX	(1u << 14)
#define CPUID_7_0_ECX_PKU	(1u << 3)
#define CPUID_D_1_EAX_XSAVEOPT	(1u << 0)
#define CPUID_D_1_EAX_XSAVEC	(1u << 1)
#define CPUID_D_1_EAX_XGETBV1	(1u << 2)
#define CPUID_D_1_EAX_XSAVES	(1u << 3)

#define X86_CR0_MP		(1ul << 1)
#define X86_CR0_EM		(1ul << 2)
#define X86_CR0_TS		(1ul << 3)
#define X86_CR0_NE		(1ul << 5)
#define X86_CR4_OSFXSR		(1ul << 9)
#define X86_CR4_OSXMMEXCPT	(1ul << 10)
#define X86_CR4_OSXSAVE		(1ul << 18)
#define X86_CR4_PKE		(1ul << 22)

#define MSR_IA32_XSS		0xda0

/* State components (bit numbers in XCR0, IA32_XSS, XSTATE_BV, XCOMP_BV). */
#define XFEATURE_X87		0
#define XFEATURE_SSE		1
#define XFEATURE_YMM		2
#define XFEATURE_BNDREGS	3
#define XFEATURE_BNDCSR		4
#define XFEATURE_PKRU		9
#define XFEATURE_UINTR		14
#define XMASK(i)		(1ul << (i))
#define XCOMP_BV_COMPACTED	(1ul << 63)

/* Legacy region (SDM Vol. 1 table 13-1, 64-bit format) and header. */
#define XS_FCW			0
#define XS_FSW			2
#define XS_FTW			4
#define XS_FOP			6
#define XS_FIP			8
#define XS_FDP			16
#define XS_MXCSR		24
#define XS_MXCSR_MASK		28
#define XS_ST(i)		(32 + 16 * (i))
#define XS_XMM(i)		(160 + 16 * (i))
#define XS_HDR			512
#define XS_XSTATE_BV		512
#define XS_XCOMP_BV		520
#define XS_EXT			576	/* start of the extended region */

#define MXCSR_DEFAULT		0x1f80

struct xcomp {
	uint32_t size;		/* CPUID.(0DH,i).EAX */
	uint32_t offset;	/* CPUID.(0DH,i).EBX: standard-format offset */
	bool supervisor;	/* ECX[0] */
	bool align64;		/* ECX[1]: 64-byte aligned in the compacted format */
};

/* CPUID.(0DH,i) for a component i >= 2. */
struct xcomp xsave_component(int i);

/* CPUID.(0DH,0):EDX:EAX, the XCR0 bits the CPU supports. */
uint64_t xsave_xcr0_supported(void);

/* CPUID.(0DH,1):EDX:ECX, the IA32_XSS bits the CPU supports. */
uint64_t xsave_xss_supported(void);

/*
 * Offset of component i (>= 2) in a compacted area with this XCOMP_BV,
 * computed from CPUID as SDM Vol. 1 13.4.3 says: 576, plus the sizes of the
 * components j < i present in XCOMP_BV, each rounded up to 64 first if
 * CPUID.(0DH,j):ECX[1] says so.
 */
uint32_t xsave_compacted_offset(uint64_t xcomp_bv, int i);

/* Size of a compacted area holding the components of mask. */
uint32_t xsave_compacted_size(uint64_t mask);

/* Size of a standard-format area holding the components of mask. */
uint32_t xsave_standard_size(uint64_t mask);

/*
 * CR0.MP=1 EM=0 TS=0 NE=1, CR4.OSFXSR and OSXMMEXCPT; CR4.OSXSAVE too if
 * osxsave.  Returns the vector of the MOV to CR4 (-1: none).
 */
int xsave_set_cr4(bool osxsave);

int xsetbv_safe(uint32_t index, uint64_t value);
int xgetbv_safe(uint32_t index, uint64_t *value);

/* The instructions (64-bit forms); each returns the vector it raised or -1. */
int xsave_safe(void *area, uint64_t mask);
int xsavec_safe(void *area, uint64_t mask);
int xsaves_safe(void *area, uint64_t mask);
int xrstor_safe(const void *area, uint64_t mask);
int xrstors_safe(const void *area, uint64_t mask);
int fxsave_safe(void *area);

/* Header access. */
static inline uint64_t xs_q(const void *area, unsigned off)
{
	return *(const volatile uint64_t *)((const char *)area + off);
}

static inline void xs_set_q(void *area, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)((char *)area + off) = v;
}

/* ---- register state outside the XSAVE instructions */

/*
 * SSE/AVX registers: xmm[i] is XMMi, ymmh[i] the upper half of YMMi.
 * With avx the loads are 256-bit VMOVDQU (both halves), else MOVDQU.
 */
struct vregs {
	uint8_t xmm[16][16];
	uint8_t ymmh[16][16];
};

void vregs_load(const struct vregs *v, bool avx);
void vregs_store(struct vregs *v, bool avx);

uint32_t mxcsr_read(void);
int mxcsr_write_safe(uint32_t v);
uint32_t pkru_read(void);
void pkru_write(uint32_t v);

/*
 * FNINIT, then seven x87 pushes (six constants and 1/0.0f = +inf, which sets
 * FSW.ZE), leaving ST7 empty and TOP = 1; then FLDCW fcw.
 */
void x87_load_sample(uint16_t fcw);
uint16_t x87_fcw(void);
uint16_t x87_fsw(void);
void x87_init(void);

/* A deterministic byte pattern. */
void xs_fill(void *buf, unsigned len, uint32_t seed);

#endif
