/* User interrupts (UINTR): architectural definitions and instruction wrappers. */
#ifndef UINTR_H
#define UINTR_H

#include <stdbool.h>
#include <stdint.h>

#define CPUID_7_0_EDX_UINTR	(1u << 5)
/* Flexible UIRET: UIRET sets UIF from bit 1 of the popped RFLAGS image */
#define CPUID_7_1_EDX_UIRET_UIF	(1u << 17)
#define X86_CR4_UINTR		(1ul << 25)

#define MSR_IA32_UINTR_RR		0x985
#define MSR_IA32_UINTR_HANDLER		0x986
#define MSR_IA32_UINTR_STACKADJUST	0x987
#define MSR_IA32_UINTR_MISC		0x988	/* 39:32 UINV, 31:0 UITTSZ */
#define MSR_IA32_UINTR_PD		0x989
#define MSR_IA32_UINTR_TT		0x98a	/* bit 0: SENDUIPI enabled */

#define UINTR_MISC(uinv, uittsz)	((uint64_t)(uinv) << 32 | (uint32_t)(uittsz))

/* User posted-interrupt descriptor, 64-byte aligned. */
struct upid {
	uint64_t status;	/* 0 ON, 1 SN, 23:16 NV, 63:32 NDST */
	uint64_t pir;
} __attribute__((aligned(64)));

#define UPID_ON			(1ull << 0)
#define UPID_SN			(1ull << 1)
#define UPID_NV(v)		((uint64_t)(uint8_t)(v) << 16)
/* xAPIC mode: the destination APIC ID sits in NDST[15:8]. */
#define UPID_NDST_XAPIC(id)	((uint64_t)(uint8_t)(id) << 40)
/* x2APIC mode: NDST (bits 63:32) is the whole 32-bit APIC ID. */
#define UPID_NDST_X2APIC(id)	((uint64_t)(uint32_t)(id) << 32)

/* User-interrupt target table entry. */
struct uitte {
	uint64_t lo;		/* 0 V, 15:8 UV */
	uint64_t upid;
} __attribute__((aligned(16)));

#define UITTE(uv)		(1ull | (uint64_t)(uv) << 8)

/* What user-interrupt delivery pushes, lowest address first. */
struct uintr_frame {
	uint64_t vector;
	uint64_t rip;
	uint64_t rflags;
	uint64_t rsp;
};

bool uintr_supported(void);

/*
 * UPID.NDST (already in place, bits 63:32) naming APIC ID id in the
 * encoding of the mode this CPU's local APIC is in: SENDUIPI reads NDST
 * in the mode of the sender's APIC, so tests keep all CPUs in one mode
 * (apic_mode_init()).
 */
uint64_t upid_ndst(uint32_t id);

/*
 * The uintr=0|1 command-line key says whether the CPU has UINTR.  Checks it
 * against CPUID with one TAP line, so that a dropped feature fails instead
 * of testing the other branch: returns 1 or 0, or -1 on a mismatch.
 */
int uintr_expected(void);

/* Set or clear CR4.UINTR; bails out if the CPU refuses. */
void uintr_set_cr4(bool on);

/*
 * This CPU as an OS sets up a thread that receives and sends user
 * interrupts: CR4.UINTR, UINV and UITTSZ, the UPID at pd, the handler
 * uintr_entry (which calls uintr_handler) with a 128-byte stack adjust,
 * UIRR clear, and the UITT at uitt with SENDUIPI enabled.
 */
void uintr_setup_thread(struct upid *pd, struct uitte *uitt,
			uint32_t uittsz, uint8_t uinv);

/*
 * Boundary values for the canonicality checks of the UINTR address MSRs
 * and XSAVE fields, for the widest linear-address width the CPU has.
 */
struct canon_bounds {
	int bits;		/* 48 or 57 */
	uint64_t lo_max;	/* highest canonical lower-half value, 256-aligned */
	uint64_t hi_min;	/* lowest canonical upper-half value */
	uint64_t above_lo;	/* lo_max + 256: first non-canonical */
	uint64_t below_hi;	/* hi_min - 256: last non-canonical */
};

struct canon_bounds canon_bounds(bool la57);

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint64_t v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void stui(void)
{
	asm volatile("stui" : : : "memory");
}

static inline void clui(void)
{
	asm volatile("clui" : : : "memory");
}

/* TESTUI: CF := UIF. */
static inline bool testui(void)
{
	bool cf;

	asm volatile("testui; setc %0" : "=qm"(cf) : : "cc");
	return cf;
}

static inline void senduipi(uint64_t index)
{
	asm volatile("senduipi %0" : : "r"(index) : "memory");
}

/*
 * The handler entry in uintr_entry.S: saves the caller-saved registers,
 * calls uintr_handler(frame) with the frame delivery pushed, discards the
 * vector and returns with UIRET.  Tests set uintr_handler.
 */
void uintr_entry(void);
extern void (*volatile uintr_handler)(struct uintr_frame *frame);

#endif
