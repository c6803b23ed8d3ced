#!/bin/bash
# qmp-real.sh - uintrctl --qmp against real QEMU processes
#
#   QEMU=...        the patched qemu-system-x86_64 (knows -cpu ...,uintr=on)
#                   default /var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64
#   STOCK_QEMU=...  a QEMU without the UINTR series, for exit code 6
#                   default /usr/bin/qemu-system-x86_64 (Debian's
#                   qemu-system-x86); when missing those checks print
#                   SKIP and are counted as skipped, not passed
#   UINTRCTL=...    the binary under test (default ../build/uintrctl)
#
# Every QEMU runs as -S -machine q35 -accel tcg -display none with a
# private QMP socket in a temporary directory and is killed on exit.
# Last line: "qmp-real: N passed, M failed, K skipped".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
UINTRCTL=${UINTRCTL:-$HERE/../build/uintrctl}
QEMU=${QEMU:-/var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64}
STOCK_QEMU=${STOCK_QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu-stock/prefix/bin/qemu-system-x86_64}
TMP=$(mktemp -d /tmp/uintrctl-qmp-real.XXXXXX)
PIDS=()
pass=0 fail=0 skip=0

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1: $2"; }
skipped() { skip=$((skip + 1)); echo "SKIP $1: $2"; }

# start_qemu NAME BINARY CPU SMP -> sets SOCK and QPID
start_qemu() {
    local name=$1 bin=$2 cpu=$3 smp=$4
    SOCK=$TMP/$name.sock
    nice "$bin" -qmp "unix:$SOCK,server=on,wait=off" -display none -S \
        -machine q35 -accel tcg -smp "$smp" -cpu "$cpu" -nodefaults \
        >"$TMP/$name.log" 2>&1 &
    QPID=$!
    PIDS+=("$QPID")
    local i
    for i in $(seq 200); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$QPID" 2>/dev/null || break
        sleep 0.05
    done
    echo "     | QEMU '$name' did not come up: $(tail -3 "$TMP/$name.log")"
    return 1
}

stop_qemu() {
    kill -KILL "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
}

# expect_rc NAME WANT ARGS... : run uintrctl, compare the exit code;
# stdout in $TMP/out, stderr in $TMP/err
expect_rc() {
    local name=$1 want=$2
    shift 2
    "$UINTRCTL" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" = "$want" ]; then ok "$name"; return 0; fi
    bad "$name" "exit $rc, want $want"
    sed 's/^/     | /' "$TMP/err" | head -10
    return 1
}

# expect_out NAME REGEX [COUNT]: $TMP/out has COUNT (default >=1) matching lines
expect_out() {
    local name=$1 regex=$2 count=${3:-}
    local n
    n=$(grep -Ec -- "$regex" "$TMP/out")
    if { [ -z "$count" ] && [ "$n" -ge 1 ]; } || [ "$n" = "$count" ]; then
        ok "$name"
    else
        bad "$name" "stdout has $n lines matching /$regex/, want ${count:->=1}"
        sed 's/^/     > /' "$TMP/out" | head -10
    fi
}

echo "# uintrctl: $UINTRCTL"
echo "# QEMU:     $QEMU"
echo "# STOCK:    $STOCK_QEMU"

if [ ! -x "$UINTRCTL" ]; then
    bad uintrctl-present "no executable $UINTRCTL (run make)"
    echo "qmp-real: $pass passed, $fail failed, $skip skipped"
    exit 1
fi

# --- the patched QEMU ---
if [ ! -x "$QEMU" ]; then
    bad patched-qemu-present "no executable QEMU=$QEMU (build it, or set QEMU)"
elif ! "$QEMU" -cpu help 2>/dev/null | grep -qw uintr; then
    bad patched-qemu-knows-uintr "$QEMU -cpu help does not list 'uintr'"
else
    ok patched-qemu-knows-uintr

    if start_qemu on "$QEMU" qemu64,uintr=on 2; then
        expect_rc uintr-on-exit-0 0 --qmp "$SOCK" cpuid
        expect_out uintr-on-header "^QMP socket $SOCK: uintr expect=none$" 1
        expect_out uintr-on-both-enabled '^[01] +/machine/[^ ]+ +enabled +1$' 2
        expect_rc uintr-on-expect-on 0 --qmp "$SOCK" --expect on cpuid
        expect_rc uintr-on-expect-off-mismatch 1 --qmp "$SOCK" --expect off cpuid
        if grep -q '^uintrctl: mismatch: --expect asks for uintr off but vCPU 0 has it enabled$' "$TMP/err"; then
            ok uintr-on-mismatch-message
        else
            bad uintr-on-mismatch-message "stderr lacks the mismatch line"
        fi
        expect_rc uintr-on-json 0 --qmp "$SOCK" --json cpuid
        expect_out uintr-on-json-vcpus '"vcpus":\[\{"cpu-index":0,"qom-path":"[^"]+","uintr":true,"cpuid-bit":true\},\{"cpu-index":1,"qom-path":"[^"]+","uintr":true,"cpuid-bit":true\}\]' 1
        expect_out uintr-on-json-result '"result":\{"ok":true,"code":0,"name":"ok"' 1
        # a second run on the same socket works (the first hung up cleanly)
        expect_rc uintr-on-again 0 --qmp "$SOCK" --expect on cpuid

        # QEMU frozen: connect succeeds, the greeting never comes
        kill -STOP "$QPID"
        start=$(date +%s%N)
        expect_rc frozen-qemu-times-out 4 --qmp "$SOCK" --timeout 0.5 cpuid
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        kill -CONT "$QPID"
        if grep -q 'timed out after 500 ms waiting for the QMP greeting' "$TMP/err" && [ "$ms" -lt 3000 ]; then
            ok "frozen-qemu-timeout-message (${ms} ms)"
        else
            bad frozen-qemu-timeout-message "took ${ms} ms"
        fi
        expect_rc after-thaw 0 --qmp "$SOCK" cpuid
        stop_qemu
        # the socket file stays behind: connection refused
        expect_rc stale-socket-exit-4 4 --qmp "$SOCK" cpuid
    else
        bad start-uintr-on "QEMU with -cpu qemu64,uintr=on did not start"
    fi

    if start_qemu off "$QEMU" qemu64 2; then
        expect_rc uintr-off-exit-0 0 --qmp "$SOCK" cpuid
        expect_out uintr-off-both-disabled '^[01] +/machine/[^ ]+ +disabled +0$' 2
        expect_rc uintr-off-expect-on-mismatch 1 --qmp "$SOCK" --expect on cpuid
        expect_rc uintr-off-expect-off 0 --qmp "$SOCK" --expect off cpuid
        stop_qemu
    else
        bad start-uintr-off "QEMU with -cpu qemu64 did not start"
    fi

    if start_qemu single "$QEMU" qemu64,uintr=on 1; then
        expect_rc one-vcpu 0 --qmp "$SOCK" --expect on --pretty cpuid
        expect_out one-vcpu-pretty '^ +"cpu-index": 0,$' 1
        stop_qemu
    else
        bad start-single "QEMU with -smp 1 did not start"
    fi
fi

expect_rc missing-socket-exit-4 4 --qmp "$TMP/does-not-exist.sock" cpuid

# --- a QEMU without the UINTR series: exit 6 ---
if [ ! -x "$STOCK_QEMU" ]; then
    skipped stock-qemu-exit-6 "no STOCK_QEMU=$STOCK_QEMU (make qemu-stock builds it)"
elif "$STOCK_QEMU" -cpu help 2>/dev/null | grep -qw uintr; then
    skipped stock-qemu-exit-6 "STOCK_QEMU=$STOCK_QEMU knows 'uintr'; it is not a stock QEMU"
elif start_qemu stock "$STOCK_QEMU" qemu64 2; then
    expect_rc stock-qemu-exit-6 6 --qmp "$SOCK" cpuid
    if grep -q "no 'uintr' CPU property (Property 'qemu64-x86_64-cpu.uintr' not found)" "$TMP/err"; then
        ok stock-qemu-message
    else
        bad stock-qemu-message "stderr does not name the missing property"
    fi
    expect_rc stock-qemu-json-exit-6 6 --qmp "$SOCK" --json cpuid
    expect_out stock-qemu-json-error '^\{"error":\{"code":6,"name":"no-feature",' 1
    stop_qemu
else
    bad start-stock "stock QEMU did not start"
fi

echo "qmp-real: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
