/*
 * fpustress: FPU/SSE/AVX2 state survival test for a Linux guest.
 *
 * Build: gcc -static -O2 -mavx2 -o fpustress fpustress.c
 *        gcc -static -O2 -o cpuidinfo fpustress.c     (-i only; no AVX
 *        instruction anywhere, so it also runs on CPUs without AVX)
 *
 *   fpustress -i                 print CPUID facts as "@@key=value" lines
 *   fpustress -m                 print IA32_ARCH_CAPABILITIES, IA32_XSS,
 *                                IA32_APIC_BASE and the x2APIC ID MSR (802H,
 *                                readable only in x2APIC mode) of every CPU,
 *                                read through /dev/cpu/N/msr
 *   fpustress [-n N] [-t SECS] [-s STOPFILE] [-c]
 *
 * The stress mode forks N children (default 4) that run for SECS seconds
 * (default 10).  Each child repeats two kinds of rounds, with values that
 * differ per child and per round, so that state leaking between processes
 * or lost across a context switch shows up as a wrong result:
 *
 *  - a register round: all 16 YMM registers, the 8 x87 stack registers, the
 *    x87 control word and MXCSR are loaded with known values, then a long
 *    asm loop adds ymm15 to ymm0..ymm14 and every 1024 iterations either
 *    calls sched_yield() or moves itself to the other of two CPUs with
 *    sched_setaffinity(), so the registers are live across many context
 *    switches and migrations (saved on one CPU, restored on another).  Afterwards every lane, every x87
 *    register, FCW and MXCSR are compared with what they must be.
 *  - a vector round: AVX2 integer (vpmulld, vpaddd, cross-lane vpermd) and
 *    AVX double arithmetic on arrays, compiled from intrinsics, compared
 *    with a scalar computation.
 *
 * -s STOPFILE also ends the run early, after the round in which STOPFILE
 * appears (background load for a phase of unknown length).
 *
 * -c is the self-test: child 0 executes one VZEROUPPER in the middle of its
 * register loop, i.e. loses the upper YMM halves exactly as a broken XSAVES/
 * XRSTORS of the AVX component would.  The run must then FAIL; that proves
 * the checks can fail.
 *
 * Each child also reports its voluntary/involuntary context switches, its
 * migrations between CPUs and the set of CPUs it started rounds on, to show
 * that the state did move around.
 *
 * Output, all on stdout: "FPUSTRESS ..." detail lines and a final line
 *   @@fpustress=PASS nproc=N secs=S
 * or
 *   @@fpustress=FAIL ...
 * or, when the CPU/OS lacks AVX2, @@fpustress=NOAVX2 (exit status 2).
 * Exit status: 0 pass, 1 fail, 2 no AVX2.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#define REG_ITERS   (1L << 16)      /* asm loop iterations per register round */
#define VEC_N       2048            /* elements per vector round */
#define MAX_REPORTS 8

#ifdef __AVX2__
typedef struct {
    uint64_t q[4];
} __attribute__((aligned(32))) v256;

static int reports;
static const char *stopfile;

static void mismatch(int id, uint64_t round, const char *what, int idx,
                     int lane, uint64_t want, uint64_t got)
{
    if (reports++ < MAX_REPORTS) {
        printf("FPUSTRESS MISMATCH child=%d pid=%d round=%" PRIu64
               " %s[%d] lane=%d want=0x%016" PRIx64 " got=0x%016" PRIx64 "\n",
               id, (int)getpid(), round, what, idx, lane, want, got);
        fflush(stdout);
    }
}

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One register round; returns the number of mismatches. */
static int reg_round(int id, uint64_t round, int corrupt,
                     const uint64_t masks[2])
{
    v256 in[16], out[16];
    double x87in[8], x87out[8];
    uint64_t seed = ((uint64_t)id << 40) ^ (round << 8);
    unsigned rc = (id + round) & 3;
    uint32_t mxcsr_set = 0x1f80 | (rc << 13), mxcsr_got = 0;
    uint16_t fcw_set = 0x037f & ~0x0c00, fcw_got = 0;
    long iters = REG_ITERS;
    long corrupt_at = corrupt ? REG_ITERS / 2 : -1;
    int bad = 0;

    fcw_set |= (uint16_t)(((id + round + 1) & 3) << 10);
    /* precision control: 64-bit mantissa or 53-bit, per child */
    if (id & 1)
        fcw_set = (fcw_set & ~0x0300) | 0x0200;

    for (int k = 0; k < 16; k++)
        for (int j = 0; j < 4; j++)
            in[k].q[j] = mix(seed + k * 4 + j);
    for (int j = 0; j < 4; j++)
        in[15].q[j] |= 1;
    for (int k = 0; k < 8; k++)
        x87in[k] = (double)(int64_t)(mix(seed + 100 + k) >> 12) / 8.0;
    memset(out, 0, sizeof(out));

    __asm__ volatile(
        "ldmxcsr %[mxcsr_set]\n\t"
        "fldcw %[fcw_set]\n\t"
        "fldl 0(%[x87in])\n\t"
        "fldl 8(%[x87in])\n\t"
        "fldl 16(%[x87in])\n\t"
        "fldl 24(%[x87in])\n\t"
        "fldl 32(%[x87in])\n\t"
        "fldl 40(%[x87in])\n\t"
        "fldl 48(%[x87in])\n\t"
        "fldl 56(%[x87in])\n\t"
        "vmovdqa 0*32(%[in]), %%ymm0\n\t"
        "vmovdqa 1*32(%[in]), %%ymm1\n\t"
        "vmovdqa 2*32(%[in]), %%ymm2\n\t"
        "vmovdqa 3*32(%[in]), %%ymm3\n\t"
        "vmovdqa 4*32(%[in]), %%ymm4\n\t"
        "vmovdqa 5*32(%[in]), %%ymm5\n\t"
        "vmovdqa 6*32(%[in]), %%ymm6\n\t"
        "vmovdqa 7*32(%[in]), %%ymm7\n\t"
        "vmovdqa 8*32(%[in]), %%ymm8\n\t"
        "vmovdqa 9*32(%[in]), %%ymm9\n\t"
        "vmovdqa 10*32(%[in]), %%ymm10\n\t"
        "vmovdqa 11*32(%[in]), %%ymm11\n\t"
        "vmovdqa 12*32(%[in]), %%ymm12\n\t"
        "vmovdqa 13*32(%[in]), %%ymm13\n\t"
        "vmovdqa 14*32(%[in]), %%ymm14\n\t"
        "vmovdqa 15*32(%[in]), %%ymm15\n\t"
        "mov %[iters], %%r8\n\t"
        "mov %[corrupt_at], %%r9\n\t"
        "1:\n\t"
        "vpaddq %%ymm15, %%ymm0, %%ymm0\n\t"
        "vpaddq %%ymm15, %%ymm1, %%ymm1\n\t"
        "vpaddq %%ymm15, %%ymm2, %%ymm2\n\t"
        "vpaddq %%ymm15, %%ymm3, %%ymm3\n\t"
        "vpaddq %%ymm15, %%ymm4, %%ymm4\n\t"
        "vpaddq %%ymm15, %%ymm5, %%ymm5\n\t"
        "vpaddq %%ymm15, %%ymm6, %%ymm6\n\t"
        "vpaddq %%ymm15, %%ymm7, %%ymm7\n\t"
        "vpaddq %%ymm15, %%ymm8, %%ymm8\n\t"
        "vpaddq %%ymm15, %%ymm9, %%ymm9\n\t"
        "vpaddq %%ymm15, %%ymm10, %%ymm10\n\t"
        "vpaddq %%ymm15, %%ymm11, %%ymm11\n\t"
        "vpaddq %%ymm15, %%ymm12, %%ymm12\n\t"
        "vpaddq %%ymm15, %%ymm13, %%ymm13\n\t"
        "vpaddq %%ymm15, %%ymm14, %%ymm14\n\t"
        "test $0x3ff, %%r8d\n\t"      /* every 1024 iterations: */
        "jnz 2f\n\t"
        "test $0x400, %%r8d\n\t"
        "jz 3f\n\t"
        "mov $24, %%eax\n\t"          /* sched_yield() */
        "syscall\n\t"
        "jmp 4f\n\t"
        "3:\n\t"                       /* or move to the other CPU: */
        "mov %%r8, %%rax\n\t"         /* sched_setaffinity(0, 8, */
        "shr $11, %%rax\n\t"          /*   &masks[(r8 >> 11) & 1]) */
        "and $1, %%eax\n\t"
        "lea (%[masks],%%rax,8), %%rdx\n\t"
        "xor %%edi, %%edi\n\t"
        "mov $8, %%esi\n\t"
        "mov $203, %%eax\n\t"
        "syscall\n\t"
        "4:\n\t"
        "cmp %%r8, %%r9\n\t"
        "jne 2f\n\t"
        "vzeroupper\n\t"                /* self-test only: lose upper halves */
        "2:\n\t"
        "dec %%r8\n\t"
        "jnz 1b\n\t"
        "vmovdqa %%ymm0, 0*32(%[out])\n\t"
        "vmovdqa %%ymm1, 1*32(%[out])\n\t"
        "vmovdqa %%ymm2, 2*32(%[out])\n\t"
        "vmovdqa %%ymm3, 3*32(%[out])\n\t"
        "vmovdqa %%ymm4, 4*32(%[out])\n\t"
        "vmovdqa %%ymm5, 5*32(%[out])\n\t"
        "vmovdqa %%ymm6, 6*32(%[out])\n\t"
        "vmovdqa %%ymm7, 7*32(%[out])\n\t"
        "vmovdqa %%ymm8, 8*32(%[out])\n\t"
        "vmovdqa %%ymm9, 9*32(%[out])\n\t"
        "vmovdqa %%ymm10, 10*32(%[out])\n\t"
        "vmovdqa %%ymm11, 11*32(%[out])\n\t"
        "vmovdqa %%ymm12, 12*32(%[out])\n\t"
        "vmovdqa %%ymm13, 13*32(%[out])\n\t"
        "vmovdqa %%ymm14, 14*32(%[out])\n\t"
        "vmovdqa %%ymm15, 15*32(%[out])\n\t"
        "fstpl 0(%[x87out])\n\t"
        "fstpl 8(%[x87out])\n\t"
        "fstpl 16(%[x87out])\n\t"
        "fstpl 24(%[x87out])\n\t"
        "fstpl 32(%[x87out])\n\t"
        "fstpl 40(%[x87out])\n\t"
        "fstpl 48(%[x87out])\n\t"
        "fstpl 56(%[x87out])\n\t"
        "stmxcsr %[mxcsr_got]\n\t"
        "fnstcw %[fcw_got]\n\t"
        "vzeroupper\n\t"
        : [mxcsr_got] "=m"(mxcsr_got), [fcw_got] "=m"(fcw_got)
        : [mxcsr_set] "m"(mxcsr_set), [fcw_set] "m"(fcw_set),
          [in] "r"(in), [out] "r"(out), [x87in] "r"(x87in),
          [x87out] "r"(x87out), [iters] "m"(iters),
          [corrupt_at] "m"(corrupt_at), [masks] "r"(masks)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "r8", "r9", "memory", "cc",
          "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
          "xmm15");

    /* Back to the ABI defaults before any C floating point. */
    {
        uint32_t m = 0x1f80;
        uint16_t c = 0x037f;
        __asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(m), "m"(c));
    }

    for (int k = 0; k < 15; k++)
        for (int j = 0; j < 4; j++) {
            uint64_t want = in[k].q[j] + (uint64_t)REG_ITERS * in[15].q[j];
            if (out[k].q[j] != want) {
                mismatch(id, round, "ymm", k, j, want, out[k].q[j]);
                bad++;
            }
        }
    for (int j = 0; j < 4; j++)
        if (out[15].q[j] != in[15].q[j]) {
            mismatch(id, round, "ymm", 15, j, in[15].q[j], out[15].q[j]);
            bad++;
        }
    for (int k = 0; k < 8; k++) {
        uint64_t want, got;
        /* fstp pops st(0) first, i.e. the value loaded last */
        memcpy(&want, &x87in[7 - k], 8);
        memcpy(&got, &x87out[k], 8);
        if (want != got) {
            mismatch(id, round, "st", k, 0, want, got);
            bad++;
        }
    }
    if (mxcsr_got != mxcsr_set) {
        mismatch(id, round, "mxcsr", 0, 0, mxcsr_set, mxcsr_got);
        bad++;
    }
    if (fcw_got != fcw_set) {
        mismatch(id, round, "fcw", 0, 0, fcw_set, fcw_got);
        bad++;
    }
    return bad;
}

static int32_t xi[VEC_N] __attribute__((aligned(32)));
static int32_t yv[VEC_N] __attribute__((aligned(32)));
static double xd[VEC_N] __attribute__((aligned(32)));
static double zv[VEC_N] __attribute__((aligned(32)));

/* Vector path: AVX2 intrinsics. */
static void vec_compute(int32_t a, int32_t b, double c, double e,
                        const int32_t perm[8])
{
    __m256i va = _mm256_set1_epi32(a), vb = _mm256_set1_epi32(b);
    __m256i vp = _mm256_loadu_si256((const __m256i *)perm);
    __m256d vc = _mm256_set1_pd(c), ve = _mm256_set1_pd(e);

    for (int i = 0; i < VEC_N; i += 8) {
        __m256i x = _mm256_load_si256((const __m256i *)&xi[i]);
        __m256i y = _mm256_add_epi32(_mm256_mullo_epi32(x, va), vb);
        y = _mm256_permutevar8x32_epi32(y, vp);
        y = _mm256_xor_si256(y, _mm256_srli_epi32(x, 3));
        _mm256_store_si256((__m256i *)&yv[i], y);
    }
    for (int i = 0; i < VEC_N; i += 4) {
        __m256d d = _mm256_load_pd(&xd[i]);
        __m256d z = _mm256_add_pd(_mm256_mul_pd(d, vc), ve);
        _mm256_store_pd(&zv[i], z);
    }
}

/* One vector round against a plain scalar reference. */
static int vec_round(int id, uint64_t round)
{
    uint64_t seed = ((uint64_t)id << 40) ^ (round << 8) ^ 0x5555;
    int32_t a = (int32_t)mix(seed) | 1, b = (int32_t)mix(seed + 1);
    /* small integers: every product and sum is exact in double */
    double c = (double)(int)(mix(seed + 2) % 2001) - 1000.0;
    double e = (double)(int)(mix(seed + 3) % 2001) - 1000.0;
    int32_t perm[8];
    int bad = 0;

    for (int j = 0; j < 8; j++)
        perm[j] = (int32_t)((mix(seed + 4 + j) >> 7) & 7);
    for (int i = 0; i < VEC_N; i++) {
        uint64_t r = mix(seed + 16 + i);
        xi[i] = (int32_t)r;
        xd[i] = (double)(int32_t)(r >> 40);
    }
    vec_compute(a, b, c, e, perm);

    for (int i = 0; i < VEC_N; i++) {
        int base = i & ~7;
        uint32_t s = (uint32_t)xi[base + perm[i & 7]] * (uint32_t)a + (uint32_t)b;
        s ^= (uint32_t)xi[i] >> 3;
        if ((uint32_t)yv[i] != s) {
            mismatch(id, round, "vpermd", i, i & 7, s, (uint32_t)yv[i]);
            bad++;
        }
        volatile double d = xd[i];
        double want = d * c + e;
        if (zv[i] != want) {
            uint64_t w, g;
            memcpy(&w, &want, 8);
            memcpy(&g, &zv[i], 8);
            mismatch(id, round, "vmulpd", i, i & 3, w, g);
            bad++;
        }
    }
    return bad;
}

/* "voluntary_ctxt_switches" and "nonvoluntary_ctxt_switches" of this task */
static void ctxt_switches(long *vol, long *invol)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");

    *vol = *invol = -1;
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "voluntary_ctxt_switches: %ld", vol);
        sscanf(line, "nonvoluntary_ctxt_switches: %ld", invol);
    }
    fclose(f);
}

/* se.nr_migrations of this task from /proc/self/sched (CONFIG_SCHED_DEBUG) */
static long migrations(void)
{
    char line[256];
    long n = -1;
    FILE *f = fopen("/proc/self/sched", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "se.nr_migrations : %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static int child(int id, double secs, int corrupt)
{
    double end = now() + secs;
    uint64_t round = 0, cpus = 0, masks[2] = { 0, 0 }, allowed = 0;
    long vol, invol;
    int bad = 0;
    cpu_set_t set;

    /*
     * The register loop alternates sched_yield() with moves between two
     * allowed CPUs, so the live registers are saved on one CPU and restored
     * on the other.  Odd children start on the second CPU.
     */
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int c = 0; c < 64; c++)
            if (CPU_ISSET(c, &set))
                allowed |= 1ULL << c;
    for (int c = 0, k = 0; c < 64 && k < 2; c++)
        if (allowed & (1ULL << c))
            masks[k++] = 1ULL << c;
    if (!masks[1])
        masks[1] = masks[0];
    if (id & 1) {
        uint64_t t = masks[0];
        masks[0] = masks[1];
        masks[1] = t;
    }

    do {
        int cpu = sched_getcpu();
        if (cpu >= 0 && cpu < 64)
            cpus |= 1ULL << cpu;
        bad += reg_round(id, round, corrupt && id == 0, masks);
        bad += vec_round(id, round);
        round++;
    } while (!bad && now() < end && !(stopfile && access(stopfile, F_OK) == 0));

    ctxt_switches(&vol, &invol);
    printf("FPUSTRESS child=%d pid=%d rounds=%" PRIu64 " ctxsw=%ld+%ld"
           " migrations=%ld cpus=0x%" PRIx64 " %s\n", id, (int)getpid(),
           round, vol, invol, migrations(), cpus, bad ? "FAIL" : "ok");
    fflush(stdout);
    return bad ? 1 : 0;
}
static int have_avx2(void)
{
    unsigned a, b, c, d;
    uint32_t xcr0_lo, xcr0_hi;

    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28)))     /* OSXSAVE, AVX */
        return 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 6) != 6)                         /* SSE and AVX state */
        return 0;
    if (__get_cpuid_max(0, 0) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return !!(b & (1u << 5));                       /* AVX2 */
}
#endif /* __AVX2__ */

static int cpuid_info(void)
{
    unsigned a, b, c, d, max;
    char vendor[13];

    __cpuid(0, max, b, c, d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    printf("@@cpuid_vendor=%s\n", vendor);

    __cpuid(1, a, b, c, d);
    unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (fam == 0xf)
        fam += (a >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf)
        model |= ((a >> 16) & 0xf) << 4;
    printf("@@cpuid_family=%u\n@@cpuid_model=%u\n@@cpuid_stepping=%u\n",
           fam, model, a & 0xf);
    printf("@@cpuid_xsave=%u\n@@cpuid_osxsave=%u\n@@cpuid_avx=%u\n",
           (c >> 26) & 1, (c >> 27) & 1, (c >> 28) & 1);
    printf("@@cpuid_x2apic=%u\n", (c >> 21) & 1);
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        printf("@@cpuid_avx2=%u\n@@cpuid_uintr=%u\n"
               "@@cpuid_arch_capabilities=%u\n",
               (b >> 5) & 1, (d >> 5) & 1, (d >> 29) & 1);
    }
    if (max >= 0xd) {
        __cpuid_count(0xd, 1, a, b, c, d);
        printf("@@cpuid_xsaveopt=%u\n@@cpuid_xsavec=%u\n@@cpuid_xsaves=%u\n"
               "@@cpuid_xss_supported=0x%x%08x\n",
               a & 1, (a >> 1) & 1, (a >> 3) & 1, d, c);
    }
    __cpuid(1, a, b, c, d);
    if (c & (1u << 27)) {                           /* OSXSAVE */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        printf("@@xcr0=0x%x%08x\n", hi, lo);
    }
    return 0;
}

/* -m: MSRs through the msr driver (insmod msr.ko first) */
static int msr_info(void)
{
    static const struct {
        const char *name;
        unsigned idx;
    } msrs[] = { { "arch_capabilities", 0x10a }, { "xss", 0xda0 },
                 { "apic_base", 0x1b }, { "x2apic_id", 0x802 } };
    char path[64];
    int ncpu = 0;

    for (int cpu = 0; cpu < 64; cpu++) {
        snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            if (errno != ENOENT)
                printf("@@msr_cpu%d=%s: %s\n", cpu, path, strerror(errno));
            continue;
        }
        ncpu++;
        for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
            uint64_t v;
            if (pread(fd, &v, 8, msrs[i].idx) == 8)
                printf("@@msr_%s_cpu%d=0x%" PRIx64 "\n", msrs[i].name, cpu, v);
            else
                printf("@@msr_%s_cpu%d=unreadable (%s)\n", msrs[i].name, cpu,
                       strerror(errno));
        }
        close(fd);
    }
    if (!ncpu)
        printf("@@msr_cpu0=no /dev/cpu/N/msr (msr driver not loaded?)\n");
    return 0;
}

int main(int argc, char **argv)
{
    int nproc = 4, corrupt = 0, opt;
    double secs = 10;

    while ((opt = getopt(argc, argv, "imn:t:s:c")) != -1) {
        switch (opt) {
        case 'i':
            return cpuid_info();
        case 'm':
            return msr_info();
        case 'n':
            nproc = atoi(optarg);
            break;
        case 't':
            secs = atof(optarg);
            break;
        case 's':
#ifdef __AVX2__
            stopfile = optarg;
#endif
            break;
        case 'c':
            corrupt = 1;
            break;
        default:
            fprintf(stderr, "usage: %s -i | -m | [-n N] [-t SECS] [-s STOPFILE] [-c]\n", argv[0]);
            return 2;
        }
    }
    if (nproc < 1 || nproc > 64) {
        fprintf(stderr, "fpustress: bad -n\n");
        return 2;
    }
#ifndef __AVX2__
    (void)corrupt;
    (void)secs;
    printf("@@fpustress=NOAVX2 (built without -mavx2)\n");
    return 2;
#else
    if (!have_avx2()) {
        printf("@@fpustress=NOAVX2\n");
        return 2;
    }

    printf("FPUSTRESS start nproc=%d secs=%g%s\n", nproc, secs,
           corrupt ? " selftest-corrupt" : "");
    fflush(stdout);

    double t0 = now();
    pid_t pids[64];
    for (int i = 0; i < nproc; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            printf("@@fpustress=FAIL fork\n");
            return 1;
        }
        if (pids[i] == 0)
            _exit(child(i, secs, corrupt));
    }

    int failed = 0;
    for (int i = 0; i < nproc; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) < 0) {
            perror("waitpid");
            failed++;
            continue;
        }
        if (WIFSIGNALED(st)) {
            printf("FPUSTRESS child=%d killed by signal %d (%s)\n", i,
                   WTERMSIG(st), strsignal(WTERMSIG(st)));
            failed++;
        } else if (WEXITSTATUS(st) != 0) {
            failed++;
        }
    }
    double el = now() - t0;
    if (failed)
        printf("@@fpustress=FAIL nproc=%d failed=%d secs=%.1f\n", nproc,
               failed, el);
    else
        printf("@@fpustress=PASS nproc=%d secs=%.1f\n", nproc, el);
    fflush(stdout);
    return failed ? 1 : 0;
#endif
}
