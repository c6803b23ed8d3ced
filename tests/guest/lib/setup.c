/* C entry on the BSP: bring the machine up, then run the test's main(). */
#include <stdint.h>
#include "apic.h"
#include "args.h"
#include "desc.h"
#include "processor.h"
#include "serial.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"

int main(void);

void __attribute__((noreturn)) kernel_main(uint32_t mb_info)
{
	serial_init();
	tap_init();
	args_init(mb_info);
	desc_init();
	desc_init_cpu(0);
	percpu_init(0);
	pic_disable();
	apic_enable();
	timer_init();
	smp_init();
	irq_enable();
	exit(main());
}
