#!/bin/bash
# make bench: user-interrupt benchmarks and the cost of the series for a
# guest that does not use user interrupts.
#
# 1. tests/guest/tests/uintr_bench.c on 3 vCPUs, once per TCG threading
#    mode and APIC mode.  One QEMU run measures, repeat after repeat, the
#    shared-memory spin round trip (the floor), the kernel fixed-IPI round
#    trip, the user-interrupt round trip, the self-SENDUIPI latency and
#    2 -> 1 fan-in, so the ratios between them hold on a noisy host.
#    Right after each, the same QEMU without the series runs the guest's
#    spin and kernel-IPI phases (uintr=0): the floor and the kernel IPI
#    that QEMU gives, against which the series' own figures can be read
#    (across two runs, so with the host's noise between them).
# 2. A Debian Linux guest (qemu64, 1 vCPU, so one TCG thread and little
#    noise from the host's scheduler) that boots, runs a fixed CPU
#    workload (tests/bench/linux-init) and powers off, under this series'
#    QEMU and the same QEMU without the series, alternating (patched,
#    stock, patched, ...): the QEMU process's wall and CPU time and the
#    workload's own time, as ratios pair by pair.
# 3. The same guest, smaller, under -icount and valgrind: the host
#    instructions of each build for exactly the same guest execution.
#
# Results: build/bench/ or $BENCH_OUT (logs, table.md, bench.png); the
# table is printed.
# Exits non-zero when a run fails or a figure is missing.
#
# Environment:
#   QEMU, STOCK_QEMU, GUEST_BUILD   as in the top-level Makefile
#   BENCH_ROUNDS    round trips per repeat and benchmark (default 5000)
#   BENCH_REPEATS   repeats per QEMU run (default 11)
#   BENCH_PAIRS     patched/stock pairs of Linux runs (default 7; 0: skip
#                   them and the counted runs)
#   BENCH_COUNT     1 (default): also count the host instructions of one
#                   patched and one stock run under -icount with valgrind
#                   (step 3; several minutes); 0: skip
#   BENCH_OUT       where the results go (default build/bench; emptied first)
#   LINUX_CACHE     where tests/linux/deps.sh put the kernel
#                   (default /var/cache/uintr/linux)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${QEMU:?}" "${STOCK_QEMU:?}" "${GUEST_BUILD:?}"
out=${BENCH_OUT:-$top/build/bench}
rounds=${BENCH_ROUNDS:-5000}
repeats=${BENCH_REPEATS:-11}
pairs=${BENCH_PAIRS:-7}
count=${BENCH_COUNT:-1}
cache=${LINUX_CACHE:-/var/cache/uintr/linux}
rm -rf "$out"
mkdir -p "$out"
fail=0

host_facts() {
    echo "host: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)"
    echo "kernel: $(uname -r)"
    echo "qemu: $QEMU ($("$QEMU" --version | head -n1)), sha256 $(sha256sum "$QEMU" | cut -c1-16)"
    echo "stock qemu: $STOCK_QEMU, sha256 $(sha256sum "$STOCK_QEMU" | cut -c1-16)"
    echo "qemu tree: $(git -C "$top/work/qemu" describe --always --tags 2>/dev/null || echo "not a git tree")"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
host_facts | tee "$out/host.txt"

image=$GUEST_BUILD/uintr_bench.flat
[ -r "$image" ] || { echo "bench: no $image (make guest)" >&2; exit 1; }
# bench_run WHAT QEMU THREAD APIC CPU APPEND LOG: one run of the benchmark guest
bench_run() {
    local what=$1 q=$2 thread=$3 apic=$4 cpu=$5 append=$6 log=$7 start rc
    echo "== $what: thread=$thread, $apic, $rounds rounds x $repeats repeats"
    start=$(date +%s.%N)
    timeout -k 5 900 "$q" -machine q35 -accel "tcg,thread=$thread" -cpu "$cpu" \
        -smp 3 -m 128 -nodefaults -no-reboot -display none -serial stdio \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image" \
        -append "$append rounds=$rounds repeats=$repeats" \
        < /dev/null > "$log" 2>&1
    rc=$?
    echo "# wall $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s, exit $rc" >> "$log"
    grep '^# bench \|^not ok' "$log"
    # isa-debug-exit: the harness exits with (0 << 1) | 1 when every test passed
    if [ "$rc" -ne 1 ] || grep -q '^not ok' "$log"; then
        echo "bench: the $what run (thread=$thread $apic) failed (exit $rc); see $log" >&2
        fail=1
    fi
}
for thread in single multi; do
    for apic in xapic x2; do
        cpu=qemu64
        [ "$apic" = x2 ] && cpu=$cpu,x2apic=on
        bench_run "user interrupts" "$QEMU" "$thread" "$apic" "$cpu,uintr=on" "uintr=1 apic=$apic" \
            "$out/uintr-$thread-$apic.log"
        bench_run "stock QEMU, spin and kernel IPI" "$STOCK_QEMU" "$thread" "$apic" "$cpu" \
            "uintr=0 apic=$apic" "$out/stock-$thread-$apic.log"
    done
done

if [ "$pairs" -gt 0 ]; then
    deb=$(ls "$cache"/linux-image-[0-9]*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n1)
    kernel=$(ls "${deb%.deb}"/boot/vmlinuz-* 2>/dev/null | head -n1)
    if [ -z "$kernel" ]; then
        echo "bench: no Debian kernel under $cache (run tests/linux/deps.sh)" >&2
        exit 1
    fi
    stage=$out/initramfs
    mkdir -p "$stage/bin" "$stage/dev" "$stage/proc"
    cp /bin/busybox "$stage/bin/busybox"
    install -m 755 "$top/tests/bench/linux-init" "$stage/init"
    (cd "$stage" && find . | cpio -o -H newc --owner=0:0 --quiet | gzip -1) > "$out/initramfs.gz"
    # The guest of steps 2 and 3; its /init prints @@KEY=VALUE lines.
    linux_guest=(-machine q35 -accel tcg -cpu qemu64 -smp 1 -m 512 -nodefaults -no-reboot
                 -display none -serial stdio -kernel "$kernel" -initrd "$out/initramfs.gz")
    linux_append="console=ttyS0 panic=-1 quiet"
    guest_value() { # KEY LOG
        sed -n "s/^@@$1=\([0-9a-f.-]*\).*/\1/p" "$2" | tr -d '\r'
    }
    echo "== Linux guest without user interrupts: $pairs pairs, kernel $(basename "$kernel")"
    : > "$out/linux.tsv"
    TIMEFORMAT='times %R %U %S'
    for i in $(seq "$pairs"); do
        for which in patched stock; do
            q=$QEMU
            [ "$which" = stock ] && q=$STOCK_QEMU
            log=$out/linux-$i-$which.log
            # bash's time: wall, user and system seconds of the QEMU process
            { time timeout -k 5 600 "$q" "${linux_guest[@]}" \
                -append "$linux_append" < /dev/null > "$log" 2>&1; } 2> "$log.time"
            rc=$?
            read -r wall cpu < <(awk '/^times /{ print $2, $3 + $4 }' "$log.time")
            work=$(guest_value work "$log")
            sum=$(guest_value sum "$log")
            if [ "$rc" -ne 0 ] || [ -z "$work" ] || [ -z "$sum" ] || [ -z "$cpu" ]; then
                echo "bench: Linux run $i ($which) failed: exit $rc; see $log" >&2
                fail=1
                continue
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$which" "$wall" "$work" "$sum" "$cpu" >> "$out/linux.tsv"
            printf '  pair %s %-7s wall %6.2f s, QEMU CPU %6.2f s, workload %s s\n' "$i" "$which" "$wall" "$cpu" "$work"
        done
    done
fi

# 3. The same guest with an eighth of the workload, once per build, under
#    -icount shift=0,sleep=off: guest time is the instruction count, so the
#    guest does the same work whatever the host's speed, and callgrind
#    counts the host instructions of the whole QEMU process.  The two run
#    side by side (one core each); a count does not depend on the load.
if [ "$pairs" -gt 0 ] && [ "$count" = 1 ]; then
    command -v valgrind > /dev/null || { echo "bench: valgrind is missing (scripts/deps.sh test)" >&2; exit 1; }
    echo "== host instructions under -icount (callgrind), patched and stock side by side"
    : > "$out/count.tsv"
    for which in patched stock; do
        q=$QEMU
        [ "$which" = stock ] && q=$STOCK_QEMU
        timeout -k 5 3600 valgrind --tool=callgrind --log-file="$out/count-$which.vg" \
            --callgrind-out-file="$out/count-$which.callgrind" \
            "$q" "${linux_guest[@]}" -icount shift=0,sleep=off,align=off \
            -append "$linux_append bench.small" < /dev/null > "$out/count-$which.log" 2>&1 &
    done
    wait
    for which in patched stock; do
        log=$out/count-$which.log
        instr=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/count-$which.vg")
        boot=$(guest_value boot "$log")
        work=$(guest_value work "$log")
        sum=$(guest_value sum "$log")
        if [ -z "$instr" ] || [ -z "$work" ] || [ -z "$sum" ]; then
            echo "bench: the counted $which run failed; see $log and $out/count-$which.vg" >&2
            fail=1
            continue
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$which" "$instr" "$boot" "$work" "$sum" >> "$out/count.tsv"
        printf '  %-7s %s host instructions (guest boot %s s, workload %s s)\n' "$which" "$instr" "$boot" "$work"
    done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/host.txt"
echo
/usr/bin/python3 "$top/tests/bench/summarise.py" "$out" || fail=1
if [ -s "$out/plot.gp" ]; then
    gnuplot "$out/plot.gp" && echo "plot: $out/bench.png" || fail=1
fi
exit $fail
