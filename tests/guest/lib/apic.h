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

#endif
