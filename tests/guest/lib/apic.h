/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode. */
#ifndef APIC_H
#define APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_ID			0x020
#define APIC_EOI		0x0b0
#define APIC_SVR		0x0f0
#define APIC_ICR		0x300
#define APIC_ICR2		0x310

#define APIC_SVR_ENABLE		0x100
#define APIC_SPURIOUS_VECTOR	0xff

/* ICR low word */
#define APIC_DM_FIXED		0x00000
#define APIC_DM_INIT		0x00500
#define APIC_DM_STARTUP		0x00600
#define APIC_ICR_BUSY		0x01000
#define APIC_INT_ASSERT		0x04000
#define APIC_DEST_PHYSICAL	0x00000
#define APIC_DEST_SELF		0x40000
#define APIC_DEST_ALLINC	0x80000
#define APIC_DEST_ALLBUT	0xc0000

#define APIC_BASE_X2APIC	(1ull << 10)
#define APIC_BASE_ENABLE	(1ull << 11)
#define MSR_X2APIC_BASE		0x800	/* + (xAPIC offset >> 4) */

struct apic_ops {
	uint32_t (*read)(unsigned reg);
	void (*write)(unsigned reg, uint32_t val);
	void (*icr_write)(uint32_t low, uint32_t dest);
	uint32_t (*id)(void);
};

void pic_disable(void);
void apic_enable(void);
uint32_t apic_read(unsigned reg);
void apic_write(unsigned reg, uint32_t val);
uint32_t apic_id(void);
void apic_eoi(void);
void apic_icr_write(uint32_t low, uint32_t dest);
void apic_send_ipi(uint32_t dest, int vector);

bool x2apic_supported(void);
bool x2apic_enabled(void);
bool enable_x2apic(void);

/* x2APIC mode: the ICR is one 64-bit MSR, destination in bits 63:32. */
#define MSR_X2APIC_ICR		(MSR_X2APIC_BASE + (APIC_ICR >> 4))	/* 0x830 */
#define MSR_X2APIC_SELF_IPI	0x83f

/*
 * The apic=xapic|x2 command-line key (default xapic).  With apic=x2,
 * switches every CPU to x2APIC mode and reports it with one TAP line; a
 * CPU without x2APIC (or one that does not switch) is a failed check, not
 * a skip.  Returns false if the mode asked for is not in effect; the test
 * should then end with tap_done().  Call from main() on the BSP.
 */
bool apic_mode_init(void);

/* True if the command line asked for x2APIC mode (apic=x2). */
bool apic_mode_x2(void);

/* "xAPIC" or "x2APIC": the mode this CPU is in, for messages. */
const char *apic_mode_name(void);

#endif
