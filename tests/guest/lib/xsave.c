/* XSAVE feature set helpers (see xsave.h). */
#include "desc.h"
#include "processor.h"
#include "xsave.h"

struct xcomp xsave_component(int i)
{
	struct cpuid r = cpuid_count(0xd, i);

	return (struct xcomp) {
		.size = r.a,
		.offset = r.b,
		.supervisor = r.c & 1,
		.align64 = r.c & 2,
	};
}

uint64_t xsave_xcr0_supported(void)
{
	struct cpuid r = cpuid_count(0xd, 0);

	return r.a | (uint64_t)r.d << 32;
}

uint64_t xsave_xss_supported(void)
{
	struct cpuid r = cpuid_count(0xd, 1);

	return r.c | (uint64_t)r.d << 32;
}

uint32_t xsave_compacted_offset(uint64_t xcomp_bv, int i)
{
	uint32_t off = XS_EXT;
	struct xcomp c;

	for (int j = 2; j < i; j++) {
		if (!(xcomp_bv & XMASK(j)))
			continue;
		c = xsave_component(j);
		if (c.align64)
			off = (off + 63) & ~63u;
		off += c.size;
	}
	if (xsave_component(i).align64)
		off = (off + 63) & ~63u;
	return off;
}

uint32_t xsave_compacted_size(uint64_t mask)
{
	uint32_t end = XS_EXT;

	for (int i = 2; i < 63; i++)
		if (mask & XMASK(i))
			end = xsave_compacted_offset(mask, i) + xsave_component(i).size;
	return end;
}

uint32_t xsave_standard_size(uint64_t mask)
{
	uint32_t end = XS_EXT;

	for (int i = 2; i < 63; i++) {
		struct xcomp c;

		if (!(mask & XMASK(i)))
			continue;
		c = xsave_component(i);
		if (c.offset + c.size > end)
			end = c.offset + c.size;
	}
	return end;
}

int xsave_set_cr4(bool osxsave)
{
	uint64_t cr0, cr4;

	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 | X86_CR0_MP | X86_CR0_NE) & ~(X86_CR0_EM | X86_CR0_TS);
	asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	cr4 = osxsave ? cr4 | X86_CR4_OSXSAVE : cr4 & ~X86_CR4_OSXSAVE;
	return asm_safe("mov %0, %%cr4", "r"(cr4));
}

int xsetbv_safe(uint32_t index, uint64_t value)
{
	return asm_safe("xsetbv", "c"(index), "a"((uint32_t)value),
			"d"((uint32_t)(value >> 32)));
}

int xgetbv_safe(uint32_t index, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	asm volatile(ASM_TRY("1f") "xgetbv\n1:"
		     : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
	*value = lo | (uint64_t)hi << 32;
	return last_fault()->vector;
}

#define XOP(insn, area, mask)						\
	asm_safe(insn " (%0)", "r"(area), "a"((uint32_t)(mask)),	\
		 "d"((uint32_t)((mask) >> 32)))

int xsave_safe(void *area, uint64_t mask)	{ return XOP("xsave64", area, mask); }
int xsavec_safe(void *area, uint64_t mask)	{ return XOP("xsavec64", area, mask); }
int xsaves_safe(void *area, uint64_t mask)	{ return XOP("xsaves64", area, mask); }
int xrstor_safe(const void *area, uint64_t mask) { return XOP("xrstor64", area, mask); }
int xrstors_safe(const void *area, uint64_t mask) { return XOP("xrstors64", area, mask); }

int fxsave_safe(void *area)
{
	return asm_safe("fxsave64 (%0)", "r"(area));
}

void vregs_load(const struct vregs *v, bool avx)
{
	/* 256-bit images: low half XMMi, high half YMMi_H. */
	static uint8_t img[16][32] __attribute__((aligned(32)));

	if (!avx) {
		asm volatile("movdqu 0*16(%0), %%xmm0\n\t"
			     "movdqu 1*16(%0), %%xmm1\n\t"
			     "movdqu 2*16(%0), %%xmm2\n\t"
			     "movdqu 3*16(%0), %%xmm3\n\t"
			     "movdqu 4*16(%0), %%xmm4\n\t"
			     "movdqu 5*16(%0), %%xmm5\n\t"
			     "movdqu 6*16(%0), %%xmm6\n\t"
			     "movdqu 7*16(%0), %%xmm7\n\t"
			     "movdqu 8*16(%0), %%xmm8\n\t"
			     "movdqu 9*16(%0), %%xmm9\n\t"
			     "movdqu 10*16(%0), %%xmm10\n\t"
			     "movdqu 11*16(%0), %%xmm11\n\t"
			     "movdqu 12*16(%0), %%xmm12\n\t"
			     "movdqu 13*16(%0), %%xmm13\n\t"
			     "movdqu 14*16(%0), %%xmm14\n\t"
			     "movdqu 15*16(%0), %%xmm15"
			     : : "r"(v->xmm) : "memory");
		return;
	}
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++) {
			img[i][j] = v->xmm[i][j];
			img[i][16 + j] = v->ymmh[i][j];
		}
	asm volatile("vmovdqu 0*32(%0), %%ymm0\n\t"
		     "vmovdqu 1*32(%0), %%ymm1\n\t"
		     "vmovdqu 2*32(%0), %%ymm2\n\t"
		     "vmovdqu 3*32(%0), %%ymm3\n\t"
		     "vmovdqu 4*32(%0), %%ymm4\n\t"
		     "vmovdqu 5*32(%0), %%ymm5\n\t"
		     "vmovdqu 6*32(%0), %%ymm6\n\t"
		     "vmovdqu 7*32(%0), %%ymm7\n\t"
		     "vmovdqu 8*32(%0), %%ymm8\n\t"
		     "vmovdqu 9*32(%0), %%ymm9\n\t"
		     "vmovdqu 10*32(%0), %%ymm10\n\t"
		     "vmovdqu 11*32(%0), %%ymm11\n\t"
		     "vmovdqu 12*32(%0), %%ymm12\n\t"
		     "vmovdqu 13*32(%0), %%ymm13\n\t"
		     "vmovdqu 14*32(%0), %%ymm14\n\t"
		     "vmovdqu 15*32(%0), %%ymm15"
		     : : "r"(img) : "memory");
}

void vregs_store(struct vregs *v, bool avx)
{
	static uint8_t img[16][32] __attribute__((aligned(32)));

	if (!avx) {
		asm volatile("movdqu %%xmm0, 0*16(%0)\n\t"
			     "movdqu %%xmm1, 1*16(%0)\n\t"
			     "movdqu %%xmm2, 2*16(%0)\n\t"
			     "movdqu %%xmm3, 3*16(%0)\n\t"
			     "movdqu %%xmm4, 4*16(%0)\n\t"
			     "movdqu %%xmm5, 5*16(%0)\n\t"
			     "movdqu %%xmm6, 6*16(%0)\n\t"
			     "movdqu %%xmm7, 7*16(%0)\n\t"
			     "movdqu %%xmm8, 8*16(%0)\n\t"
			     "movdqu %%xmm9, 9*16(%0)\n\t"
			     "movdqu %%xmm10, 10*16(%0)\n\t"
			     "movdqu %%xmm11, 11*16(%0)\n\t"
			     "movdqu %%xmm12, 12*16(%0)\n\t"
			     "movdqu %%xmm13, 13*16(%0)\n\t"
			     "movdqu %%xmm14, 14*16(%0)\n\t"
			     "movdqu %%xmm15, 15*16(%0)"
			     : : "r"(v->xmm) : "memory");
		for (int i = 0; i < 16; i++)
			for (int j = 0; j < 16; j++)
				v->ymmh[i][j] = 0;
		return;
	}
	asm volatile("vmovdqu %%ymm0, 0*32(%0)\n\t"
		     "vmovdqu %%ymm1, 1*32(%0)\n\t"
		     "vmovdqu %%ymm2, 2*32(%0)\n\t"
		     "vmovdqu %%ymm3, 3*32(%0)\n\t"
		     "vmovdqu %%ymm4, 4*32(%0)\n\t"
		     "vmovdqu %%ymm5, 5*32(%0)\n\t"
		     "vmovdqu %%ymm6, 6*32(%0)\n\t"
		     "vmovdqu %%ymm7, 7*32(%0)\n\t"
		     "vmovdqu %%ymm8, 8*32(%0)\n\t"
		     "vmovdqu %%ymm9, 9*32(%0)\n\t"
		     "vmovdqu %%ymm10, 10*32(%0)\n\t"
		     "vmovdqu %%ymm11, 11*32(%0)\n\t"
		     "vmovdqu %%ymm12, 12*32(%0)\n\t"
		     "vmovdqu %%ymm13, 13*32(%0)\n\t"
		     "vmovdqu %%ymm14, 14*32(%0)\n\t"
		     "vmovdqu %%ymm15, 15*32(%0)"
		     : : "r"(img) : "memory");
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++) {
			v->xmm[i][j] = img[i][j];
			v->ymmh[i][j] = img[i][16 + j];
		}
}

uint32_t mxcsr_read(void)
{
	uint32_t v;

	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

int mxcsr_write_safe(uint32_t v)
{
	return asm_safe("ldmxcsr %0", "m"(v));
}

uint32_t pkru_read(void)
{
	uint32_t a, d;

	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(a), "=d"(d) : "c"(0));
	return a;
}

void pkru_write(uint32_t v)
{
	asm volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

void x87_load_sample(uint16_t fcw)
{
	static const uint32_t zero;	/* 0.0f */

	asm volatile("fninit\n\t"
		     "fld1\n\t"
		     "fldl2t\n\t"
		     "fldl2e\n\t"
		     "fldpi\n\t"
		     "fldlg2\n\t"
		     "fld1\n\t"
		     "fdivs %1\n\t"		/* ST0 = 1/0 = +inf, FSW.ZE */
		     "fldln2\n\t"
		     "fldcw %0"
		     : : "m"(fcw), "m"(zero) : "memory");
}

uint16_t x87_fcw(void)
{
	uint16_t v;

	asm volatile("fnstcw %0" : "=m"(v));
	return v;
}

uint16_t x87_fsw(void)
{
	uint16_t v;

	asm volatile("fnstsw %0" : "=m"(v));
	return v;
}

void x87_init(void)
{
	asm volatile("fninit" : : : "memory");
}

void xs_fill(void *buf, unsigned len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (unsigned i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 24;
	}
}
