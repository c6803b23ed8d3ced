/*
 * A user-interrupt handler written with GCC's -muintr support:
 * void __attribute__((interrupt)) h(struct __uintr_frame *, unsigned long long)
 * returns with UIRET after popping the vector.  A ring-3 self SENDUIPI
 * (_senduipi) must run it with the right vector and frame, and return to
 * the interrupted code with every general register, RSP and RFLAGS intact.
 *
 * Command line: uintr=0|1, the CPUID.(7,0):EDX[5] the run expects.
 * Built with -muintr (Makefile rule for tests/uintr_gcc*.c).
 */
#include <x86gprintrin.h>
#include "apic.h"
#include "desc.h"
#include "processor.h"
#include "smp.h"
#include "tap.h"
#include "timer.h"
#include "uintr.h"
#include "usermode.h"

#define UINV		0x50
#define UV		37
#define NREGS		16	/* rax..r15 in encoding order, with rsp */

static struct upid upid;
static struct uitte uitt[1];
static char user_stack[4096] __attribute__((aligned(16)));

volatile unsigned long long gcc_hits, gcc_vector, gcc_rip, gcc_rflags, gcc_rsp;
unsigned long long probe_before[NREGS + 1], probe_after[NREGS + 1];	/* + RFLAGS */
unsigned long long probe_budget;
extern char probe_spin[];

void __attribute__((interrupt)) gcc_handler(struct __uintr_frame *frame, unsigned long long vector)
{
	gcc_vector = vector;
	gcc_rip = frame->rip;
	gcc_rflags = frame->rflags;
	gcc_rsp = frame->rsp;
	gcc_hits++;
}

/*
 * long gcc_probe(void *): in ring 3, load every register with a pattern,
 * SENDUIPI to self (index in R12 = 0), spin until the handler ran, store
 * every register.  Returns 1 if the handler ran, 0 on timeout.
 */
asm(".text\n"
    ".globl gcc_probe\n"
    "gcc_probe:\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	movq $50000000, probe_budget(%rip)\n"
    "	stui\n"
    "	movabs $0x1111111111111101, %rax\n"
    "	movabs $0x3333333333333303, %rbx\n"
    "	movabs $0x1111111111111102, %rcx\n"
    "	movabs $0x1111111111111103, %rdx\n"
    "	movabs $0x1111111111111104, %rsi\n"
    "	movabs $0x1111111111111105, %rdi\n"
    "	movabs $0x3333333333333306, %rbp\n"
    "	movabs $0x1111111111111108, %r8\n"
    "	movabs $0x1111111111111109, %r9\n"
    "	movabs $0x111111111111110a, %r10\n"
    "	movabs $0x111111111111110b, %r11\n"
    "	xor %r12d, %r12d\n"
    "	movabs $0x333333333333330d, %r13\n"
    "	movabs $0x333333333333330e, %r14\n"
    "	movabs $0x333333333333330f, %r15\n"
    "	stc; std\n"				/* CF=1, DF=1 in RFLAGS */
    "	mov %rax, probe_before+0(%rip);  mov %rcx, probe_before+8(%rip)\n"
    "	mov %rdx, probe_before+16(%rip); mov %rbx, probe_before+24(%rip)\n"
    "	mov %rsp, probe_before+32(%rip); mov %rbp, probe_before+40(%rip)\n"
    "	mov %rsi, probe_before+48(%rip); mov %rdi, probe_before+56(%rip)\n"
    "	mov %r8, probe_before+64(%rip);  mov %r9, probe_before+72(%rip)\n"
    "	mov %r10, probe_before+80(%rip); mov %r11, probe_before+88(%rip)\n"
    "	mov %r12, probe_before+96(%rip); mov %r13, probe_before+104(%rip)\n"
    "	mov %r14, probe_before+112(%rip); mov %r15, probe_before+120(%rip)\n"
    "	pushfq; popq probe_before+128(%rip)\n"
    "	senduipi %r12\n"
    "probe_spin:\n"
    "	pause\n"
    "	cmpq $0, gcc_hits(%rip)\n"		/* CMP/DEC change flags ... */
    "	jne 2f\n"
    "	decq probe_budget(%rip)\n"
    "	jnz probe_spin\n"
    "2:	pushfq; popq probe_after+128(%rip)\n"	/* ... so compare them as left by CMP */
    "	mov %rax, probe_after+0(%rip);  mov %rcx, probe_after+8(%rip)\n"
    "	mov %rdx, probe_after+16(%rip); mov %rbx, probe_after+24(%rip)\n"
    "	mov %rsp, probe_after+32(%rip); mov %rbp, probe_after+40(%rip)\n"
    "	mov %rsi, probe_after+48(%rip); mov %rdi, probe_after+56(%rip)\n"
    "	mov %r8, probe_after+64(%rip);  mov %r9, probe_after+72(%rip)\n"
    "	mov %r10, probe_after+80(%rip); mov %r11, probe_after+88(%rip)\n"
    "	mov %r12, probe_after+96(%rip); mov %r13, probe_after+104(%rip)\n"
    "	mov %r14, probe_after+112(%rip); mov %r15, probe_after+120(%rip)\n"
    "	cld\n"
    "	clui\n"
    "	xor %eax, %eax\n"
    "	cmpq $0, gcc_hits(%rip)\n"
    "	setne %al\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n");

long gcc_probe(void *arg);

static const char *const reg_names[NREGS] = {
	"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

int main(void)
{
	int has;
	long ret = 0;
	int vec, bad = 0;

	has = uintr_expected();
	if (has < 0)
		return tap_done();
	if (!has) {
		skip("CPU without UINTR", "GCC -muintr user-interrupt handler");
		return tap_done();
	}

	if (!apic_mode_init())
		return tap_done();
	upid.status = UPID_NV(UINV) | upid_ndst(apic_id());
	uitt[0].lo = UITTE(UV);
	uitt[0].upid = (uintptr_t)&upid;
	write_cr4(read_cr4() | X86_CR4_UINTR);
	wrmsr(MSR_IA32_UINTR_MISC, UINTR_MISC(UINV, 0));
	wrmsr(MSR_IA32_UINTR_PD, (uintptr_t)&upid);
	wrmsr(MSR_IA32_UINTR_HANDLER, (uintptr_t)gcc_handler);
	wrmsr(MSR_IA32_UINTR_STACKADJUST, 128);
	wrmsr(MSR_IA32_UINTR_TT, (uintptr_t)uitt | 1);

	vec = run_in_user(gcc_probe, NULL, user_stack + sizeof(user_stack), &ret, NULL);
	ok(vec == -1 && ret == 1 && gcc_hits == 1,
	   "ring-3 self SENDUIPI runs the GCC interrupt handler once and it returns with UIRET "
	   "(ran %llu times, vector %d, result %ld)", gcc_hits, vec, ret);
	ok(gcc_vector == UV, "the GCC handler's vector argument is UV %d, got %llu", UV, gcc_vector);
	ok(gcc_rip >= (uintptr_t)gcc_probe && gcc_rip <= (uintptr_t)probe_spin + 32 &&
	   gcc_rsp == probe_before[4],
	   "the GCC handler's frame holds the interrupted RIP (%#llx, in gcc_probe %p..%p) and RSP "
	   "(%#llx, expected %#llx)", gcc_rip, (void *)gcc_probe, (void *)(probe_spin + 32),
	   gcc_rsp, probe_before[4]);
	for (int i = 0; i < NREGS; i++) {
		if (probe_before[i] != probe_after[i]) {
			bad++;
			diag("%s before %#llx after %#llx", reg_names[i], probe_before[i], probe_after[i]);
		}
	}
	ok(bad == 0, "all 16 general registers including RSP are preserved across the GCC handler "
	   "and UIRET, %d differ", bad);
	ok((gcc_rflags & 0x400) && (probe_after[NREGS] & 0x400),
	   "RFLAGS: the frame has DF=1 as set before SENDUIPI (%#llx) and UIRET restores DF=1 "
	   "(after %#llx)", gcc_rflags, probe_after[NREGS]);
	write_cr4(read_cr4() & ~X86_CR4_UINTR);
	return tap_done();
}
