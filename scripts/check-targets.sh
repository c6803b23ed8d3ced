#!/bin/bash
# check-targets.sh: build the whole QEMU series for the other targets it
# touches, which make check does not build: qemu-system-i386 (32-bit: no
# user interrupts, no SapphireRapids-UINTR) and qemu-x86_64 (linux-user:
# XSAVEC/XSAVES/XRSTOR in user mode), then run a static program that does
# an XSAVEC/compacted XRSTOR round trip under qemu-x86_64 and check that
# qemu-system-i386 does not offer the model.
#
# Cached in $UINTR_CACHE/qemu-targets.  Prints "targets: N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${UINTR_CACHE:-/var/cache/uintr}
dir=$cache/qemu-targets
src=$dir/src
build=$dir/build
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/#   /'; }
finish() { echo "targets: $pass passed, $fail failed"; [ $fail -eq 0 ]; exit; }

mkdir -p "$dir"
exec 9> "$dir/lock"
flock 9
"$top/scripts/tree.sh" sync qemu "$src" > /dev/null || { bad "series applies"; finish; }
. "$top/scripts/qemu-config.sh"
qemu_build_tools
qemu_edk2_standins "$src"
if [ ! -f "$build/build.ninja" ]; then
    mkdir -p "$build"
    (cd "$build" && "$src/configure" \
        --target-list=i386-softmmu,x86_64-linux-user \
        --without-default-features --enable-tcg --disable-kvm --disable-xen \
        --disable-docs --disable-install-blobs --disable-tools \
        --disable-guest-agent --enable-linux-user > configure.log 2>&1) ||
        { bad "configure i386-softmmu,x86_64-linux-user" "$(tail -20 "$build/configure.log")"; rm -rf "$build"; finish; }
fi
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
if out=$(nice ninja -C "$build" qemu-system-i386 qemu-x86_64 2>&1); then
    ok "the series builds qemu-system-i386 and qemu-x86_64 (linux-user)"
else
    bad "the series builds qemu-system-i386 and qemu-x86_64 (linux-user)" \
        "$(echo "$out" | grep -A8 -m3 'error' || echo "$out" | tail -20)"
    finish
fi

prog=$dir/xsavec-roundtrip
cat > "$prog.c" <<'C'
#include <stdint.h>
#include <stdio.h>
static uint8_t area[4096] __attribute__((aligned(64)));
int main(void)
{
    uint32_t set = 0x3f80, other = 0x1f80, got;

    __asm__ volatile("ldmxcsr %0" : : "m"(set));
    __asm__ volatile("xsavec %0" : "=m"(area) : "a"(7), "d"(0));
    __asm__ volatile("ldmxcsr %0" : : "m"(other));
    __asm__ volatile("xrstor %0" : : "m"(area), "a"(7), "d"(0));
    __asm__ volatile("stmxcsr %0" : "=m"(got));
    printf("XCOMP_BV %#llx MXCSR %#x\n",
           (unsigned long long)*(uint64_t *)(area + 520), got);
    return !(got == set && *(uint64_t *)(area + 520) == (1ULL << 63 | 7));
}
C
if ! gcc -static -O1 -o "$prog" "$prog.c" 2>/dev/null; then
    bad "compile the XSAVEC test program"
elif out=$("$build/qemu-x86_64" -cpu SapphireRapids-UINTR "$prog" 2>&1); then
    ok "qemu-x86_64: XSAVEC + compacted XRSTOR round trip in user mode ($out)"
else
    bad "qemu-x86_64: XSAVEC + compacted XRSTOR round trip in user mode" "$out"
fi
if "$build/qemu-system-i386" -cpu help | grep -q SapphireRapids-UINTR; then
    bad "qemu-system-i386 does not offer SapphireRapids-UINTR (64-bit only)"
else
    ok "qemu-system-i386 does not offer SapphireRapids-UINTR (64-bit only)"
fi
finish
