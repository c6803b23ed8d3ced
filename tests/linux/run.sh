#!/bin/bash
# Boot Debian 12's Linux kernel on the SapphireRapids-UINTR CPU model under
# TCG and check that the kernel treats it as real hardware:
#
#   - no kernel page-table isolation (Meltdown "Not affected"), because the
#     model offers IA32_ARCH_CAPABILITIES with RDCL_NO (read back through the
#     guest's msr driver);
#   - the FPU state uses XSAVES in the 'compacted' format, so every context
#     switch goes through the TCG XSAVES/XRSTORS emulation;
#   - GenuineIntel family 6 model 143 with xsaves, xsavec, avx2,
#     arch_capabilities in /proc/cpuinfo, and CPUID.(7,0):EDX[5] (UINTR);
#   - 4 processes that keep YMM/x87/MXCSR state live across context switches
#     (fpustress.c) get right results on 2 vCPUs, with -accel tcg,thread=single
#     and tcg,thread=multi, and with xsaves=off (XSAVEC + compacted XRSTOR);
#     the checker itself catches a simulated loss of the upper YMM halves;
#   - x2APIC mode on every vCPU: IA32_APIC_BASE EN+EXTD and the x2APIC ID
#     MSR 802H read back through the msr driver, the kernel's "x2apic
#     enabled" / "Switched APIC routing to ... x2apic" lines, the x2apic flag.
#     Every boot is -machine q35 with -device intel-iommu,intremap=on,eim=on:
#     Linux 6.1 runs x2APIC only with interrupt remapping in EIM mode when it
#     sees no hypervisor it knows (docs/linux-guest.md);
#   - tracepoint toggling: on 4 vCPUs with tcg,thread=multi, /init writes
#     1 and 0 in turn to events/sched/sched_switch/enable 300 times (kernel
#     text patching, IPIs to every CPU) while fpustress keeps every vCPU
#     busy; all 300 must complete within 120 s of host time (QEMU 7.2 reportedly
#     hung after ~150), the tracepoint must have fired and the load must pass.
#
# Two control boots of the same kernel must come out the other way, which
# shows the checks can fail:
#   - qemu64,uintr=on,vendor=GenuineIntel: PTI on, FXSAVE, no xsaves/
#     arch_capabilities (vendor=GenuineIntel because the kernel never applies
#     PTI to an AMD CPU, and qemu64 is AuthenticAMD by default);
#   - SapphireRapids-UINTR,arch-capabilities=off,xsaves=off,xsavec=off,
#     x2apic=off: the same family 6 model 143 CPU, but PTI on, the 'standard'
#     XSAVE format and xAPIC mode, so those outcomes are due to exactly these
#     features (both controls must be in xAPIC mode on every vCPU).
#
#   run.sh [BUILD_DIR]      default $LINUX_BUILD or /var/cache/uintr/linux/build
#
# Environment:
#   QEMU                patched qemu-system-x86_64
#                       (default /var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64)
#   LINUX_CACHE         where tests/linux/deps.sh put and extracted the kernel
#                       .deb (default /var/cache/uintr/linux)
#   BUSYBOX             a static busybox (default /bin/busybox, busybox-static)
#   LINUX_STRESS_SECS   how long fpustress runs in each stress boot (default 20)
#   LINUX_BOOT_TIMEOUT  host-side limit per QEMU run, seconds (default 600)
#   LINUX_TOGGLES       tracepoint toggles in the toggle boot (default 300)
#   LINUX_TOGGLE_BOUND  host seconds the toggles may take (default 120); that
#                       boot's QEMU is killed after this + 120 s
#
# Runs one QEMU at a time.  Prints TAP lines and one closing
# "linux-guest: N passed, M failed" line; exit status 0 only when nothing
# failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"

build=${1:-${LINUX_BUILD:-/var/cache/uintr/linux/build}}
cache=${LINUX_CACHE:-/var/cache/uintr/linux}
QEMU=${QEMU:-/var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64}
busybox=${BUSYBOX:-/bin/busybox}
stress_secs=${LINUX_STRESS_SECS:-20}
boot_timeout=${LINUX_BOOT_TIMEOUT:-600}
stress_nproc=4
toggles=${LINUX_TOGGLES:-300}
toggle_bound=${LINUX_TOGGLE_BOUND:-120}
t_start=$EPOCHREALTIME

elapsed() {
    local now=$EPOCHREALTIME
    awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

finish() {
    echo "# total run time: $(elapsed "$t_start")s"
    t_done linux-guest
    exit
}

# ---------------------------------------------------------------- inputs

inputs_ok=1
if [ ! -x "$QEMU" ]; then
    t_fail "input: QEMU binary" "no executable QEMU at $QEMU (set QEMU=...)"
    inputs_ok=0
elif ! "$QEMU" -cpu help 2>/dev/null | grep -q 'SapphireRapids-UINTR'; then
    t_fail "input: QEMU binary" "$QEMU has no SapphireRapids-UINTR CPU model"
    inputs_ok=0
else
    t_ok "input: $QEMU ($("$QEMU" --version | head -n1)) has SapphireRapids-UINTR"
    echo "# qemu sha256: $(sha256sum "$QEMU" | awk '{print $1}'), built $(date -u -r "$QEMU" '+%Y-%m-%d %H:%M UTC')"
fi

kernel= kpkg= msrko=
deb=$(ls "$cache"/linux-image-[0-9]*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n1)
if [ -n "$deb" ]; then
    kernel=$(ls "${deb%.deb}"/boot/vmlinuz-* 2>/dev/null | head -n1)
    msrko=$(ls "${deb%.deb}"/lib/modules/*/kernel/arch/x86/kernel/msr.ko 2>/dev/null | head -n1)
    kpkg="$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
fi
if [ -z "$kernel" ] || [ ! -r "$kernel" ]; then
    t_fail "input: Debian kernel" \
        "no kernel: no extracted linux-image-*-amd64 .deb under $cache (run tests/linux/deps.sh)"
    inputs_ok=0
else
    t_ok "input: kernel $(basename "$kernel") from $kpkg"
    echo "# kernel: $kernel"
    echo "# kernel package: $kpkg ($(basename "$deb"))"
    echo "# kernel sha256: $(sha256sum "$kernel" | awk '{print $1}')"
    if [ -z "$msrko" ]; then
        t_fail "input: msr.ko of that kernel" "no msr.ko under ${deb%.deb}/lib/modules"
        inputs_ok=0
    fi
fi

if [ ! -x "$busybox" ]; then
    t_fail "input: busybox-static" "no $busybox (apt-get install busybox-static, or tests/linux/deps.sh)"
    inputs_ok=0
elif ldd "$busybox" 2>/dev/null | grep -q '=>'; then
    t_fail "input: busybox-static" "$busybox is dynamically linked; the initramfs needs busybox-static"
    inputs_ok=0
fi
for tool in cpio gzip gcc timeout; do
    if ! command -v $tool >/dev/null; then
        t_fail "input: $tool" "$tool not installed (tests/linux/deps.sh)"
        inputs_ok=0
    fi
done
[ "$inputs_ok" = 1 ] || finish

# ---------------------------------------------------------------- build

mkdir -p "$build" || { t_fail "build dir $build" "cannot create it"; finish; }
build=$(cd "$build" && pwd)

if out=$(gcc -static -O2 -mavx2 -Wall -o "$build/fpustress" "$here/fpustress.c" 2>&1 &&
         gcc -static -O2 -Wall -o "$build/cpuidinfo" "$here/fpustress.c" 2>&1); then
    t_ok "build: fpustress (gcc -static -O2 -mavx2) and cpuidinfo (same source, no AVX)"
else
    t_fail "build: fpustress" "$out"
    finish
fi

stage=$build/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$busybox" "$stage/bin/busybox"
cp "$build/fpustress" "$build/cpuidinfo" "$stage/bin/"
cp "$msrko" "$stage/lib/modules/msr.ko"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init" "$stage/bin/"*
# A console node lets the kernel give /init its stdin/stdout; without root
# /init still mounts devtmpfs and reopens /dev/console itself.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
if out=$( (cd "$stage" && find . | LC_ALL=C sort |
           cpio -o -H newc --owner=0:0 --quiet | gzip -9 > "$build/initramfs.cpio.gz") 2>&1) &&
   [ -s "$build/initramfs.cpio.gz" ]; then
    t_ok "build: initramfs ($(stat -c %s "$build/initramfs.cpio.gz") bytes: busybox, fpustress, cpuidinfo, msr.ko)"
else
    t_fail "build: initramfs" "$out"
    finish
fi

# ---------------------------------------------------------------- boot

# boot NAME CPU ACCEL SMP LIMIT APPEND: run the guest for at most LIMIT
# seconds, serial log in $build/NAME.log; sets boot_rc (QEMU or timeout
# status), boot_secs (wall time of the run), begin_secs (wall time until
# /init printed @@begin), and $build/NAME.at_KEY holds the wall time at which
# the first "@@KEY=" line came (KEY: toggle_start, toggle_done).
#
# q35 with an intel-iommu doing interrupt remapping with EIM: without it
# Linux 6.1 keeps (or puts) the APIC in xAPIC mode (docs/linux-guest.md).
boot() {
    local name=$1 cpu=$2 accel=$3 smp=$4 limit=$5 append=$6
    local log=$build/$name.log t0=$EPOCHREALTIME
    local cmd=("$QEMU" -nodefaults -machine q35 -accel "$accel" -cpu "$cpu"
               -device intel-iommu,intremap=on,eim=on
               -smp "$smp" -m 512 -display none -serial stdio -no-reboot
               -kernel "$kernel" -initrd "$build/initramfs.cpio.gz"
               -append "console=ttyS0 panic=-1 $append")
    local a q=
    for a in "${cmd[@]}"; do
        case "$a" in
        *[!A-Za-z0-9_./,=:+-]*) q="$q '$a'" ;;
        *) q="$q $a" ;;
        esac
    done
    echo "${q# }" > "$build/$name.cmd"
    : > "$log"
    rm -f "$build/$name.begin" "$build/$name".at_*
    timeout -k 10 "$limit" "${cmd[@]}" </dev/null 2>"$build/$name.stderr" |
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >> "$log"
        if [ "$line" = "@@begin" ] && [ ! -e "$build/$name.begin" ]; then
            elapsed "$t0" > "$build/$name.begin"
        fi
        case "$line" in
        @@toggle_start=* | @@toggle_done=*)
            local key=${line#@@}
            key=${key%%=*}
            [ -e "$build/$name.at_$key" ] || elapsed "$t0" > "$build/$name.at_$key"
            ;;
        esac
    done
    boot_rc=${PIPESTATUS[0]}
    boot_secs=$(elapsed "$t0")
    begin_secs=$(cat "$build/$name.begin" 2>/dev/null || echo "-")
}

# kv KEY: value of the first "@@KEY=value" line of the current log
kv() {
    grep -a -m1 "^@@$1=" "$log" | sed "s/^@@$1=//"
}

# cpuinfo FIELD: a field of the first processor in /proc/cpuinfo
cpuinfo() {
    grep -a -m1 "^@@cpuinfo $1[[:space:]]*:" "$log" | sed 's/^[^:]*: *//'
}

has_flag() {
    case " $(cpuinfo flags) " in *" $1 "*) return 0 ;; esac
    return 1
}

# The kernel's first reports of a hang or a bug, where the serial tail
# shows only the end of the last backtrace.
first_complaints() {
    grep -a -m 2 -A 4 -E 'soft lockup|rcu: INFO|self-detected stall|blocked for more than|BUG:|WARNING:|Oops|Kernel panic' "$log" ||
        echo "(none)"
}

reproduce() {
    echo "reproduce with: $(cat "$build/$name.cmd")"
    echo "full serial log: $log"
}

# check NAME COND DETAILS: ok/not ok of a condition already evaluated
# (COND is "0" for true, anything else false)
check() {
    if [ "$2" = 0 ]; then t_ok "$name: $1"; else t_fail "$name: $1" "$3"; fi
}

# run_case NAME CPU ACCEL SECS SELFTEST [SMP [TOGGLES [LIMIT]]]
# Boot NAME on CPU with ACCEL and check what every boot must show; sets
# $name, $log and $smp for the per-case checks that follow.
run_case() {
    name=$1
    local cpu=$2 accel=$3 secs=$4 selftest=$5
    smp=${6:-2}
    local toggles=${7:-0} limit=${8:-$boot_timeout}
    log=$build/$name.log
    echo "# ---- $name: -cpu $cpu -accel $accel -smp $smp"
    boot "$name" "$cpu" "$accel" "$smp" "$limit" \
        "uintrtest.secs=$secs uintrtest.nproc=$stress_nproc uintrtest.selftest=$selftest uintrtest.toggles=$toggles"
    if [ "$boot_rc" = 124 ] || [ "$boot_rc" = 137 ]; then
        t_fail "$name: boot finished within ${limit}s" \
            "timed out
first complaints of the kernel (with the next four lines):
$(first_complaints)
$(reproduce)
last serial lines:
$(tail -n 25 "$log")"
    elif [ "$boot_rc" != 0 ] || ! grep -aq '^@@end$' "$log"; then
        t_fail "$name: guest ran /init to the end and powered off" \
            "QEMU exit status $boot_rc
$(reproduce)
QEMU stderr: $(tail -n 5 "$build/$name.stderr")
last serial lines:
$(tail -n 25 "$log")"
    else
        t_ok "$name: guest booted, ran /init and powered off (QEMU ran ${boot_secs}s, /init started after ${begin_secs}s)"
    fi
    local bad
    bad=$(grep -a -n -E 'Kernel panic|Oops|BUG:|WARNING:|general protection|invalid opcode|Call Trace|segfault|traps:|unhandled|RIP: |unchecked MSR' "$log" | head -n 40)
    check "no panic, oops, BUG, WARNING, trap or unchecked MSR access in the kernel log" \
        "$([ -z "$bad" ]; echo $?)" "$bad
$(reproduce)"

    if ! grep -aq '^@@begin$' "$log"; then
        t_fail "$name: /init reported what the checks need" \
            "the guest never reached /init; the other checks of this boot are not run"
        return 1
    fi
    check "$smp CPUs online" "$([ "$(kv ncpus)" = "$smp" ] && [ "$(kv online)" = "0-$((smp - 1))" ]; echo $?)" \
        "processors in /proc/cpuinfo: '$(kv ncpus)', online: '$(kv online)'"

    echo "# $name: $(kv uname)"
    grep -a '^@@dmesg ' "$log" | sed "s/^@@dmesg /# $name: dmesg: /"
    grep -aq '^@@dmesg .*page tables isolation' "$log" ||
        echo "# $name: dmesg: (no 'page tables isolation' line)"
    echo "# $name: cpuinfo: vendor_id=$(cpuinfo vendor_id) family=$(cpuinfo 'cpu family') model=$(cpuinfo model) stepping=$(cpuinfo stepping) model name=$(cpuinfo 'model name')"
    echo "# $name: cpuinfo flags: $(cpuinfo flags)"
    echo "# $name: cpuinfo bugs: $(cpuinfo bugs)"
    echo "# $name: vulnerabilities/meltdown: $(kv vuln_meltdown)"
    echo "# $name: guest CPUID: vendor=$(kv cpuid_vendor) uintr=$(kv cpuid_uintr) arch_capabilities=$(kv cpuid_arch_capabilities) xsavec=$(kv cpuid_xsavec) xsaves=$(kv cpuid_xsaves) XCR0=$(kv xcr0) XSS-supported=$(kv cpuid_xss_supported)"
    echo "# $name: guest MSRs (cpu0): IA32_ARCH_CAPABILITIES=$(kv msr_arch_capabilities_cpu0) IA32_XSS=$(kv msr_xss_cpu0)"
    local c
    for ((c = 0; c < smp; c++)); do
        echo "# $name: guest MSRs (cpu$c): IA32_APIC_BASE=$(kv msr_apic_base_cpu$c) x2APIC ID (802H)=$(kv msr_x2apic_id_cpu$c)"
    done
    grep -a '^@@msr_insmod=\|^@@msr_cpu' "$log" | sed "s/^/# $name: /"
}

# apic_mode: the APIC mode of each of the $smp CPUs, from the MSRs /init
# read through /dev/cpu/N/msr.  Sets n_x2 (CPUs with IA32_APIC_BASE EN and
# EXTD set, bits 11 and 10, and the x2APIC ID MSR 802H readable), n_xapic
# (EN set, EXTD clear, 802H unreadable: it #GPs outside x2APIC mode),
# x2_ids (the x2APIC IDs read) and apic_detail.
apic_mode() {
    local c base id
    n_x2=0 n_xapic=0 x2_ids= apic_detail=
    for ((c = 0; c < smp; c++)); do
        base=$(kv msr_apic_base_cpu$c) id=$(kv msr_x2apic_id_cpu$c)
        apic_detail="$apic_detail
cpu$c: IA32_APIC_BASE=${base:-(not read)} x2APIC ID MSR 802H=${id:-(not read)}"
        case "$base" in 0x*) ;; *) continue ;; esac
        if (( (base & 0xc00) == 0xc00 )) && [[ $id == 0x* ]]; then
            n_x2=$((n_x2 + 1))
            x2_ids="$x2_ids $id"
        elif (( (base & 0xc00) == 0x800 )) && [[ $id == unreadable* ]]; then
            n_xapic=$((n_xapic + 1))
        fi
    done
}

# dmesg lines of the kernel switching to x2APIC mode (Linux 6.1
# arch/x86/kernel/apic/apic.c and x2apic_{cluster,phys}.c)
x2apic_dmesg_re='^@@dmesg (x2apic enabled|x2apic: enabled by BIOS|Switched APIC routing to .*x2apic)'

apic_lines() {
    grep -a -E '^@@dmesg .*(x2apic|APIC routing|IRQ remapping|DMAR-IR)' "$log" | sed 's/^@@dmesg /dmesg: /'
}

# Checks that the kernel runs every CPU in x2APIC mode.
x2apic_checks() {
    apic_mode
    check "x2APIC mode on all $smp CPUs: IA32_APIC_BASE (MSR 1BH) EN+EXTD set and x2APIC ID MSR 802H readable (IDs:$x2_ids)" \
        "$([ "$n_x2" = "$smp" ]; echo $?)" \
        "$n_x2 of $smp CPUs in x2APIC mode:$apic_detail
$(apic_lines)"
    local en route
    en=$(grep -a -m1 -E '^@@dmesg (x2apic enabled|x2apic: enabled by BIOS)' "$log" | sed 's/^@@dmesg //')
    route=$(grep -a -m1 -E '^@@dmesg Switched APIC routing to .*x2apic' "$log" | sed 's/^@@dmesg //')
    check "kernel switched to x2APIC: dmesg '${en:-x2apic enabled}' and '${route:-Switched APIC routing to ... x2apic}', x2apic in CPUID.1:ECX[21] and /proc/cpuinfo" \
        "$([ -n "$en" ] && [ -n "$route" ] && [ "$(kv cpuid_x2apic)" = 1 ] && has_flag x2apic; echo $?)" \
        "CPUID.1:ECX[21]='$(kv cpuid_x2apic)'; /proc/cpuinfo x2apic flag: $(has_flag x2apic && echo yes || echo no)
$(apic_lines)"
}

# Control: every CPU in xAPIC mode and no dmesg line of x2APIC mode.
control_xapic_check() {
    apic_mode
    check "(control) xAPIC mode on all $smp CPUs: IA32_APIC_BASE EXTD clear, MSR 802H unreadable, no x2apic switch in dmesg" \
        "$([ "$n_xapic" = "$smp" ] && ! grep -aqE "$x2apic_dmesg_re" "$log"; echo $?)" \
        "$n_xapic of $smp CPUs in xAPIC mode:$apic_detail
$(apic_lines)"
}

fpu_line() {
    grep -a -m1 '^@@dmesg .*x86/fpu: \(Enabled xstate features\|x87 FPU will use\)' "$log" |
        sed 's/^@@dmesg //'
}

# Checks of a boot of the model (possibly with some features off).
model_checks() {
    local selftest=$1 want_xsaves=$2
    local v f m missing= flags=" xsavec avx2 arch_capabilities"
    v=$(cpuinfo vendor_id) f=$(cpuinfo 'cpu family') m=$(cpuinfo model)
    check "/proc/cpuinfo: GenuineIntel family 6 model 143" \
        "$([ "$v" = GenuineIntel ] && [ "$f" = 6 ] && [ "$m" = 143 ]; echo $?)" \
        "vendor_id='$v' cpu family='$f' model='$m'"
    [ "$want_xsaves" = 1 ] && flags=" xsaves$flags"
    for flag in $flags; do has_flag $flag || missing="$missing $flag"; done
    check "/proc/cpuinfo flags include$flags" "$([ -z "$missing" ]; echo $?)" \
        "missing:$missing
flags: $(cpuinfo flags)"
    if [ "$want_xsaves" = 0 ]; then
        check "/proc/cpuinfo flags lack xsaves (xsaves=off)" "$(has_flag xsaves; [ $? != 0 ]; echo $?)" \
            "flags: $(cpuinfo flags)"
    fi
    if has_flag uintr; then
        echo "# $name: /proc/cpuinfo names the uintr flag"
    else
        echo "# $name: /proc/cpuinfo has no 'uintr' flag: this kernel has no name for it; the CPUID bit is checked instead"
    fi
    check "CPUID.(7,0):EDX[5] UINTR = 1 in guest user space" \
        "$([ "$(kv cpuid_uintr)" = 1 ]; echo $?)" "guest read '$(kv cpuid_uintr)'"

    local ac ac_ok=1
    ac=$(kv msr_arch_capabilities_cpu0)
    case "$ac" in 0x*) (( ac & 1 )) && ac_ok=0 ;; esac
    check "IA32_ARCH_CAPABILITIES (MSR 0x10a) read via /dev/cpu/0/msr has RDCL_NO (bit 0): $ac" \
        "$ac_ok" "read '${ac:-(nothing)}' $(grep -a '^@@msr_insmod=\|^@@msr_cpu' "$log")"

    local melt pti
    melt=$(kv vuln_meltdown)
    pti=$(grep -a -m1 '^@@dmesg .*page tables isolation' "$log" | sed 's/^@@dmesg //')
    check "Meltdown 'Not affected', kernel page-table isolation off" \
        "$([ "$melt" = "Not affected" ] && [ -z "$pti" ] && ! has_flag pti &&
           ! grep -aq '^@@cpuinfo bugs.*cpu_meltdown' "$log"; echo $?)" \
        "meltdown='$melt'; dmesg: '${pti:-(none)}'; bugs: $(cpuinfo bugs)"

    local fpu what=XSAVES
    fpu=$(fpu_line)
    [ "$want_xsaves" = 0 ] && what=XSAVEC
    check "FPU state in the 'compacted' format ($what)" \
        "$(case "$fpu" in *"using 'compacted' format"*) echo 0 ;; *) echo 1 ;; esac)" \
        "x86/fpu: '${fpu:-(no line)}'"

    local res
    res=$(kv fpustress)
    check "fpustress: $stress_nproc processes x ${stress_secs}s with live YMM/x87/MXCSR state: ${res:-(no result)}" \
        "$(case "$res" in PASS*) echo 0 ;; *) echo 1 ;; esac)" \
        "exit status $(kv fpustress_rc)
$(grep -a '^FPUSTRESS' "$log" | head -n 30)
$(reproduce)"
    grep -a '^FPUSTRESS child=' "$log" | sed "s/^/# $name: /"
    local mig ctx
    mig=$(grep -a '^FPUSTRESS child=' "$log" | sed -n 's/.* migrations=\([0-9]*\) .*/\1/p' |
          awk '{ s += $1 } END { print s + 0 }')
    ctx=$(grep -a '^FPUSTRESS child=' "$log" | sed -n 's/.* ctxsw=\([0-9]*\)+\([0-9]*\) .*/\1 \2/p' |
          awk '{ s += $1 + $2 } END { print s + 0 }')
    check "fpustress state went through $ctx context switches and $mig migrations between the vCPUs" \
        "$([ "$mig" -gt 0 ] && [ "$ctx" -gt 0 ]; echo $?)" \
        "$(grep -a '^FPUSTRESS child=' "$log")"

    if [ "$selftest" = 1 ]; then
        res=$(kv selftest)
        check "fpustress self-test (one VZEROUPPER mid-run) is caught on the upper YMM lanes: ${res:-(no result)}" \
            "$(case "$res" in
               FAIL*) grep -aq '^selftest: FPUSTRESS MISMATCH .* ymm\[[0-9]*\] lane=[23] ' "$log"; echo $? ;;
               *) echo 1 ;;
               esac)" \
            "the run that loses the upper YMM halves reported '${res:-(none)}':
$(grep -a '^selftest:' "$log" | head -n 12)"
    fi
}

# toggle_checks WANT BOUND: the guest toggled the tracepoint WANT times and
# the host saw @@toggle_done at most BOUND seconds after @@toggle_start.
toggle_checks() {
    local want=$1 bound=$2 got t_start t_done host_secs= guest_secs
    got=$(kv toggles)
    guest_secs=$(kv toggle_secs)
    t_start=$(cat "$build/$name.at_toggle_start" 2>/dev/null)
    t_done=$(cat "$build/$name.at_toggle_done" 2>/dev/null)
    [ -n "$t_start" ] && [ -n "$t_done" ] &&
        host_secs=$(awk -v a="$t_start" -v b="$t_done" 'BEGIN { printf "%.1f", b - a }')
    grep -a '^@@toggle_\(load=\|progress=\)' "$log" | sed "s/^@@/# $name: /"
    echo "# $name: ${got:-no} toggles; elapsed ${host_secs:-?}s host wall time (@@toggle_start to @@toggle_done), ${guest_secs:-?}s guest uptime"
    check "tracepoint sched:sched_switch toggled $want times (1/0 written and read back) on $smp busy vCPUs within ${bound}s: ${got:-none} in ${host_secs:-?}s" \
        "$([ "$got" = "$want" ] && [ -n "$host_secs" ] &&
           awk -v t="$host_secs" -v b="$bound" 'BEGIN { exit !(t <= b) }'; echo $?)" \
        "toggles completed: '${got:-(no @@toggles line: the guest hung or died)}'; host seconds from @@toggle_start to @@toggle_done: '${host_secs:-(no such lines)}' (bound ${bound}s)
$(grep -a '^@@toggle' "$log")
$(reproduce)
last serial lines:
$(tail -n 15 "$log")"
    local events
    events=$(kv toggle_events)
    check "the tracepoint fired while enabled: ${events:-no} sched_switch events in the trace buffer" \
        "$([ "${events:-0}" -gt 0 ] 2>/dev/null; echo $?)" "toggle_events='${events}'"
    local rcs passes nload=$(( (smp + 1) / 2 ))
    rcs=$(grep -a '^@@toggle_load_rc=' "$log" | sed 's/^@@toggle_load_rc=//' | tr '\n' ' ')
    passes=$(grep -ac '^toggle_load: @@fpustress=PASS' "$log")
    grep -a '^toggle_load: FPUSTRESS child=' "$log" | sed "s/^toggle_load: /# $name: load: /"
    check "the load (fpustress, $nload x 2 processes) ran on every vCPU during the toggles and got right results" \
        "$([ "$passes" = "$nload" ] && [ "$rcs" = "$(printf '0 %.0s' $(seq "$nload"))" ] &&
           ! grep -aq '^toggle_load: FPUSTRESS child=.* rounds=0 ' "$log"; echo $?)" \
        "exit statuses: '$rcs'; PASS lines: $passes of $nload
$(grep -a '^toggle_load:' "$log" | head -n 30)"
}

# Checks of a control boot: PTI on and no compacted format.
control_checks() {
    local fmt=$1 melt pti fpu
    melt=$(kv vuln_meltdown)
    pti=$(grep -a -m1 '^@@dmesg .*page tables isolation' "$log" | sed 's/^@@dmesg //')
    check "(control) Meltdown affected ('$melt'), kernel page-table isolation enabled" \
        "$([ -n "$melt" ] && [ "$melt" != "Not affected" ] &&
           [ "$pti" = "Kernel/User page tables isolation: enabled" ] && has_flag pti; echo $?)" \
        "meltdown='$melt'; dmesg: '${pti:-(none)}'; flags: $(cpuinfo flags)"
    fpu=$(fpu_line)
    check "(control) FPU state not in the 'compacted' format: ${fpu#x86/fpu: }" \
        "$(case "$fpu" in *"$fmt"*) echo 0 ;; *) echo 1 ;; esac)" \
        "expected '$fmt', got x86/fpu: '${fpu:-(no line)}'"
    check "(control) no xsaves / arch_capabilities flags" \
        "$(! has_flag xsaves && ! has_flag arch_capabilities; echo $?)" \
        "flags: $(cpuinfo flags)"
    check "(control) CPUID.(7,0):EDX[5] UINTR = 1 (uintr=on) in guest user space" \
        "$([ "$(kv cpuid_uintr)" = 1 ]; echo $?)" "guest read '$(kv cpuid_uintr)'"
}

if run_case sr-uintr-tcg-single SapphireRapids-UINTR tcg,thread=single "$stress_secs" 1; then
    model_checks 1 1
    x2apic_checks
fi
if run_case sr-uintr-tcg-multi SapphireRapids-UINTR tcg,thread=multi "$stress_secs" 0; then
    model_checks 0 1
    x2apic_checks
fi
if run_case sr-uintr-xsaves-off SapphireRapids-UINTR,xsaves=off tcg,thread=multi "$stress_secs" 0; then
    model_checks 0 0
    x2apic_checks
fi

# Tracepoint toggling: kernel text patching (text_poke_bp: INT3, then IPIs
# to sync every CPU) with 4 busy vCPUs in x2APIC mode.  The QEMU limit is
# the toggle bound plus 120 s for the boot, so a hang fails in minutes.
if run_case sr-uintr-trace-toggle SapphireRapids-UINTR tcg,thread=multi 0 0 4 "$toggles" \
       "$(( toggle_bound + 120 < boot_timeout ? toggle_bound + 120 : boot_timeout ))"; then
    x2apic_checks
    toggle_checks "$toggles" "$toggle_bound"
fi

if run_case control-qemu64 qemu64,uintr=on,vendor=GenuineIntel tcg,thread=multi 0 0; then
    control_checks "x87 FPU will use FXSAVE"
    control_xapic_check
    check "(control) /proc/cpuinfo model is not 143 ($(cpuinfo 'cpu family')/$(cpuinfo model))" \
        "$([ "$(cpuinfo model)" != 143 ]; echo $?)" "model $(cpuinfo model)"
fi

if run_case control-sr-features-off \
       SapphireRapids-UINTR,arch-capabilities=off,xsaves=off,xsavec=off,x2apic=off tcg,thread=multi 0 0; then
    control_checks "using 'standard' format"
    control_xapic_check
    check "(control) still GenuineIntel family 6 model 143: only the features differ" \
        "$([ "$(cpuinfo vendor_id)" = GenuineIntel ] && [ "$(cpuinfo 'cpu family')" = 6 ] &&
           [ "$(cpuinfo model)" = 143 ]; echo $?)" \
        "$(cpuinfo vendor_id) $(cpuinfo 'cpu family') $(cpuinfo model)"
    check "(control) IA32_ARCH_CAPABILITIES not readable with arch-capabilities=off" \
        "$(case "$(kv msr_arch_capabilities_cpu0)" in unreadable*) echo 0 ;; *) echo 1 ;; esac)" \
        "read '$(kv msr_arch_capabilities_cpu0)'"
fi

finish
