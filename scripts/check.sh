#!/bin/bash
# Run every test suite, one after the other, and add up their results.
#
# Each test runner ends its output with "NAME: N passed, M failed[, K
# skipped]"; a suite's count is the sum of its runners' lines.
# A suite that exits non-zero without reporting a failure, or that prints no
# such line, counts as one failure: nothing passes by saying nothing.
# Logs: build/check/<suite>.log.  The last line is "N passed, M failed".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
logs=$build/check
mkdir -p "$logs"
: "${QEMU:?}" "${UINTRCTL:?}" "${GUEST_BUILD:?}" "${CPU_MAP:?}"
export STOCK_QEMU=${STOCK_QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu-stock/prefix/bin/qemu-system-x86_64}

suites=(
    "patches      $top/scripts/check-patches.sh"
    "qemu-tests   $top/scripts/qemu-tests.sh"
    "guest        $top/tests/guest/run-tests --qemu $QEMU --build $GUEST_BUILD --out $logs/guest"
    "guest-trace  $top/tests/guest/trace-test.sh --qemu $QEMU --build $GUEST_BUILD --out $logs/guest-trace"
    "uintrctl     make --no-print-directory -C $top/uintrctl O=$build/uintrctl check"
    "uintrctl-qmp make --no-print-directory -C $top/uintrctl O=$build/uintrctl check-qemu"
    "uintrctl-libvirt make --no-print-directory -C $top/uintrctl O=$build/uintrctl check-libvirt"
    "inspect-live env OUT=$logs/inspect-live $top/tests/inspect/check-live.sh"
    "inspect-libvirt $top/tests/inspect/check-libvirt.sh"
    "e2e          $top/tests/e2e/cpuid-feature.sh"
    "model-consistency $top/tests/e2e/model-consistency.sh"
    "e2e-model    $top/tests/e2e/cpu-model.sh"
    "libvirt-hosts $top/tests/libvirt-hosts/migrate-netns.sh"
    "migration    env OUT=$logs/migration $top/tests/migration/uintr-migrate.sh"
    "linux        $top/tests/linux/run.sh $build/linux"
    "libvirt      $top/scripts/build-libvirt.sh"
)

total_pass=0 total_fail=0 total_skip=0
for entry in "${suites[@]}"; do
    read -r name cmd <<< "$entry"
    [ -n "${CHECK_ONLY:-}" ] && [[ " $CHECK_ONLY " != *" $name "* ]] && continue
    echo "=== $name"
    start=$(date +%s)
    $cmd 2>&1 | tee "$logs/$name.log"
    rc=${PIPESTATUS[0]}
    # A suite may run several runners, each with its summary line.
    lines=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$logs/$name.log")
    p=0 f=0 s=0
    while read -r line; do
        if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
            p=$((p + BASH_REMATCH[1])) f=$((f + BASH_REMATCH[2])) s=$((s + ${BASH_REMATCH[4]:-0}))
        fi
    done <<< "$lines"
    if [ -z "$lines" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
        echo "check: suite $name exited $rc without reporting its failures"
        f=$((f + 1))
    fi
    echo "=== $name: $p passed, $f failed, $s skipped ($(( $(date +%s) - start )) s)"
    total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
done

if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
