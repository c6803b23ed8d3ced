#include "apic.h"
#include "desc.h"
#include "processor.h"
#include "smp.h"
#include "string.h"
#include "tap.h"
#include "timer.h"

#define FW_CFG_CTL		0x510
#define FW_CFG_DATA		0x511
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_NB_CPUS		0x05

#define AP_BOOT_TIMEOUT_MS	2000

struct percpu percpu[MAX_CPUS];
static int nr_cpus = 1;
static int cpus_online = 1;

extern char trampoline_start[], trampoline_end[];

void percpu_init(int cpu)
{
	struct percpu *p = &percpu[cpu];

	p->self = p;
	p->id = cpu;
	p->fault.vector = -1;
	wrmsr(MSR_GS_BASE, (uintptr_t)p);
}

static void fw_cfg_read(uint16_t key, void *buf, size_t len)
{
	outw(FW_CFG_CTL, key);
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = inb(FW_CFG_DATA);
}

/* Number of CPUs QEMU was started with (-smp), from fw_cfg. */
static int fw_cfg_nb_cpus(void)
{
	char sig[4];
	uint16_t n;

	fw_cfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	if (memcmp(sig, "QEMU", 4))
		bail_out("no QEMU fw_cfg device, cannot count CPUs");
	fw_cfg_read(FW_CFG_NB_CPUS, &n, sizeof(n));
	return n;
}

static void wakeup_handler(struct ex_regs *regs)
{
	(void)regs;
	apic_eoi();
}

void ap_main(int cpu)
{
	struct percpu *self = &percpu[cpu];

	desc_init_cpu(cpu);
	percpu_init(cpu);
	apic_enable();
	self->apic_id = apic_id();
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_RELEASE);

	for (;;) {
		unsigned req;

		irq_disable();
		req = __atomic_load_n(&self->work_req, __ATOMIC_ACQUIRE);
		if (req == self->work_done) {
			safe_halt();
			continue;
		}
		irq_enable();
		self->work_fn(self->work_arg);
		__atomic_store_n(&self->work_done, req, __ATOMIC_RELEASE);
	}
}

void smp_init(void)
{
	int n = fw_cfg_nb_cpus();

	percpu[0].apic_id = apic_id();
	handle_irq(WAKEUP_VECTOR, wakeup_handler);
	if (n > MAX_CPUS)
		bail_out("%d CPUs but the harness supports at most %d", n, MAX_CPUS);
	if (n == 1)
		return;

	memcpy((void *)TRAMPOLINE_ADDR, trampoline_start, trampoline_end - trampoline_start);
	apic_icr_write(APIC_DEST_ALLBUT | APIC_INT_ASSERT | APIC_DM_INIT, 0);
	mdelay(10);
	for (int i = 0; i < 2; i++) {
		apic_icr_write(APIC_DEST_ALLBUT | APIC_INT_ASSERT | APIC_DM_STARTUP |
			       TRAMPOLINE_ADDR >> 12, 0);
		udelay(200);
	}
	if (!wait_until(__atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE) == n,
			AP_BOOT_TIMEOUT_MS))
		bail_out("only %d of %d CPUs came online", cpus_online, n);
	nr_cpus = n;
}

int cpu_count(void)
{
	return nr_cpus;
}

uint32_t cpu_apic_id(int cpu)
{
	return percpu[cpu].apic_id;
}

static bool work_done(struct percpu *p)
{
	return __atomic_load_n(&p->work_done, __ATOMIC_ACQUIRE) == p->work_req;
}

/*
 * Run fn(arg) on cpu without waiting for it to finish.  A CPU runs one
 * request at a time; only one CPU may post requests to a given target.
 */
void on_cpu_async(int cpu, void (*fn)(void *), void *arg)
{
	struct percpu *p = &percpu[cpu];

	if (cpu == smp_id()) {
		fn(arg);
		return;
	}
	while (!work_done(p))
		cpu_relax();
	p->work_fn = fn;
	p->work_arg = arg;
	__atomic_store_n(&p->work_req, p->work_req + 1, __ATOMIC_RELEASE);
	apic_send_ipi(p->apic_id, WAKEUP_VECTOR);
}

void on_cpu(int cpu, void (*fn)(void *), void *arg)
{
	on_cpu_async(cpu, fn, arg);
	while (!work_done(&percpu[cpu]))
		cpu_relax();
}
