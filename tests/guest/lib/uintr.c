/* User interrupts: feature probe and the handler pointer. */
#include "processor.h"
#include "uintr.h"

static void default_handler(struct uintr_frame *frame)
{
	(void)frame;
}

void (*volatile uintr_handler)(struct uintr_frame *frame) = default_handler;

bool uintr_supported(void)
{
	return cpuid(0).a >= 7 && (cpuid_count(7, 0).d & CPUID_7_0_EDX_UINTR);
}
