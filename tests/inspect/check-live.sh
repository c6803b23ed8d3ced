#!/bin/bash
# `uintrctl check` against live guests under QEMU (QMP socket): each
# broken state of tests/guest/tests/uintr_inspect.c must make exactly the
# rule that covers it FAIL or WARN, on the vCPU it concerns, with the
# right exit status; a healthy guest passes every rule; a guest with user
# interrupts in flight passes before and after live migrations.
#
#   tests/inspect/check-live.sh
#
# Environment: QEMU (patched), STOCK_QEMU (the same QEMU without the
# series), UINTRCTL, GUEST_BUILD (with uintr_inspect.flat), OUT (logs; a
# new directory under /tmp by default, kept), HOPS (migrations, default 4).
# Ends with "inspect-live: N passed, M failed"; non-zero exit on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$here/judge.sh"
QEMU=${QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu/prefix/bin/qemu-system-x86_64}
STOCK_QEMU=${STOCK_QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu-stock/prefix/bin/qemu-system-x86_64}
UINTRCTL=${UINTRCTL:-$top/build/uintrctl/uintrctl}
GUEST_BUILD=${GUEST_BUILD:-$top/build/guest}
HOPS=${HOPS:-4}
image=$GUEST_BUILD/uintr_inspect.flat
out=${OUT:-$(mktemp -d /tmp/inspect-live.XXXXXX)}
mkdir -p "$out"
echo "# logs in $out"

missing=
for f in "$QEMU" "$STOCK_QEMU" "$UINTRCTL"; do
    [ -x "$f" ] || missing+=" $f"
done
[ -r "$image" ] || missing+=" $image"
if [ -n "$missing" ]; then
    t_fail "prerequisites" "missing:$missing (make all qemu-stock)"
    t_done inspect-live
    exit 1
fi

declare -A pid
cleanup() {
    local p
    for p in "${pid[@]}"; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
}
trap cleanup EXIT

# boot NAME BINARY CPU APPEND [QEMU ARGS...]: start a 2-vCPU guest with a
# QMP socket at $out/NAME.qmp and its serial console in $out/NAME.serial.
boot() {
    local name=$1 bin=$2 cpu=$3 append=$4
    shift 4
    rm -f "$out/$name.qmp" "$out/$name.serial"
    "$bin" -machine q35 -accel "${ACCEL:-tcg,thread=multi}" -cpu "$cpu" \
        -smp 2 -m 128 -nodefaults -no-reboot -display none \
        -serial "file:$out/$name.serial" \
        -qmp "unix:$out/$name.qmp,server=on,wait=off" \
        -kernel "$image" -append "$append" "$@" \
        < /dev/null > "$out/$name.qemu" 2>&1 &
    pid[$name]=$!
}

# wait_line NAME PATTERN SECONDS: the serial console shows PATTERN.
wait_line() {
    local i
    for i in $(seq $(($3 * 10))); do
        grep -q "$2" "$out/$1.serial" 2>/dev/null && return 0
        kill -0 "${pid[$1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "no '$2' on $1's console within $3 s; console:"
    tail -5 "$out/$1.serial" 2>/dev/null
    tail -5 "$out/$1.qemu" 2>/dev/null
    return 1
}

# stop NAME: QMP quit, SIGKILL if QEMU is still there 10 s later.
stop() {
    local i
    "$here/qmp-cmd.py" "$out/$1.qmp" quit > /dev/null 2>&1
    for i in $(seq 100); do
        kill -0 "${pid[$1]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "${pid[$1]}" 2>/dev/null
    wait "${pid[$1]}" 2>/dev/null
    unset "pid[$1]"
}

# check NAME TAG EXPECTED_RC [RULE:RESULT:CPU...]: uintrctl check --json on
# NAME's QMP socket, judged by expect.py; the text output goes to the log.
check() {
    local name=$1 tag=$2 want=$3
    shift 3
    "$UINTRCTL" --qmp "$out/$name.qmp" --expect on check > "$out/$tag.txt" 2>&1
    "$UINTRCTL" --qmp "$out/$name.qmp" --expect on --json check > "$out/$tag.json" 2> "$out/$tag.err"
    judge "$tag" "$out/$tag.json" $? "$want" "$@"
}

# The broken states and what each must produce (vCPU 1 owns the broken
# UPID; vCPU 0's UITT entry 0 targets it).
states=(
    "healthy"
    "wrong-nv 1 UINTR-008:FAIL:1 UINTR-018:FAIL:0"
    "wrong-ndst 1 UINTR-009:FAIL:1"
    "upid-reserved 1 UINTR-010:FAIL:1 UINTR-018:FAIL:0"
    "sn-pending 0 UINTR-011:WARN:1"
    "on-stale 0 UINTR-012:WARN:1"
    "uirr-held 0 UINTR-013:WARN:1"
    "upid-unmapped 1 UINTR-007:FAIL:1"
    "uitt-misaligned 1 UINTR-017:FAIL:0"
    "uitt-unmapped 1 UINTR-017:FAIL:0"
    "uitt-reserved 1 UINTR-016:FAIL:0"
    "uitt-uv 1 UINTR-016:FAIL:0"
    "xss-clear 0 UINTR-014:WARN:1"
)

for apic in xapic x2; do
    for entry in "${states[@]}"; do
        read -r state want expects <<< "$entry"
        name=$state-$apic
        boot "$name" "$QEMU" SapphireRapids-UINTR "state=$state apic=$apic"
        if why=$(wait_line "$name" "inspect: ready" 60); then
            # shellcheck disable=SC2086
            check "$name" "$name" "${want:-0}" $expects
        else
            t_fail "$name: guest ready" "$why"
        fi
        stop "$name"
    done
done

# thread=single: the healthy guest too
ACCEL=tcg,thread=single boot healthy-single "$QEMU" SapphireRapids-UINTR "state=healthy"
if why=$(wait_line healthy-single "inspect: ready" 60); then
    check healthy-single healthy-single 0
else
    t_fail "healthy-single: guest ready" "$why"
fi
stop healthy-single

# The CPUID bit dropped (what libvirt's check='none' allows): the patched
# QEMU with uintr off while --expect on asks for it: UINTR-001 FAILs, the
# state rules find nothing in use, exit 1.
boot dropped "$QEMU" qemu64 "state=healthy"
if why=$(wait_line dropped "Bail out" 60); then
    check dropped uintr-dropped 1 --skip-any UINTR-001:FAIL:-
else
    t_fail "uintr-dropped: guest up" "$why"
fi
stop dropped

# A QEMU without the series: exit 6 (no 'uintr' CPU property) with a JSON
# error that says so.
boot stock "$STOCK_QEMU" qemu64 "state=healthy"
if why=$(wait_line stock "Bail out" 60); then
    "$UINTRCTL" --qmp "$out/stock.qmp" --expect on --json check > "$out/stock.json" 2> "$out/stock.err"
    rc=$?
    if [ $rc -eq 6 ] && grep -q '"name":"no-feature".*uintr' "$out/stock.json"; then
        t_ok "stock QEMU: exit 6, JSON error no-feature naming uintr"
    else
        t_fail "stock QEMU: exit 6, JSON error no-feature naming uintr" \
            "exit $rc; $(cat "$out/stock.json" "$out/stock.err")"
    fi
else
    t_fail "stock QEMU: guest up" "$why"
fi
stop stock

# Live migration with user interrupts in flight: check on the source, then
# after each hop on the destination; the guest's round counter (read with
# QMP xp) keeps moving on every destination.
rounds() {
    "$here/qmp-cmd.py" "$out/$1.qmp" human-monitor-command \
        "{\"command-line\": \"xp /1wu $2\"}" | sed -n 's/.*: *\([0-9]*\).*"$/\1/p'
}
name=mig0
boot "$name" "$QEMU" SapphireRapids-UINTR "state=traffic apic=x2"
if why=$(wait_line "$name" "inspect: ready" 60); then
    addr=$(sed -n 's/.*rounds@\(0x[0-9a-f]*\).*/\1/p' "$out/$name.serial")
    check "$name" "migrate-source" 0
    # Every 250 ms window, not one before/after pair: a vCPU that stops
    # taking user interrupts until something else kicks it must show.
    if line=$("$here/progress.py" "$out/$name.qmp" "$addr" 3 250); then
        t_ok "migrate-source: the round counter moves in every 250 ms window for 3 s ($line)"
    else
        t_fail "migrate-source: the round counter moves in every 250 ms window for 3 s" "$line"
    fi
    for hop in $(seq 1 "$HOPS"); do
        dst=mig$hop
        boot "$dst" "$QEMU" SapphireRapids-UINTR "state=traffic apic=x2" \
            -incoming "unix:$out/$dst.mig"
        for i in $(seq 100); do [ -S "$out/$dst.qmp" ] && break; sleep 0.1; done
        before=$(rounds "$name" "$addr")
        "$here/qmp-cmd.py" "$out/$name.qmp" migrate "{\"uri\": \"unix:$out/$dst.mig\"}" > /dev/null
        status=
        for i in $(seq 600); do
            status=$("$here/qmp-cmd.py" "$out/$name.qmp" query-migrate |
                     python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))')
            case $status in completed|failed|cancelled) break ;; esac
            sleep 0.1
        done
        if [ "$status" != completed ]; then
            t_fail "hop $hop: migration completed" "status '$status'"
            break
        fi
        stop "$name"
        for i in $(seq 100); do
            "$here/qmp-cmd.py" "$out/$dst.qmp" query-status | grep -q '"status": "running"' && break
            sleep 0.1
        done
        check "$dst" "migrate-hop$hop" 0
        line=$("$here/progress.py" "$out/$dst.qmp" "$addr" 3 250)
        rc=$?
        first=${line%% *}
        if [ $rc = 0 ] && [ -n "$before" ] && [ "$first" -ge "$before" ]; then
            t_ok "hop $hop: user-interrupt round trips go on after the migration, in every 250 ms window for 3 s ($before before, $line)"
        else
            t_fail "hop $hop: user-interrupt round trips go on after the migration, in every 250 ms window for 3 s" \
                "rounds before '$before', after: $line"
        fi
        name=$dst
    done
else
    t_fail "migration source ready" "$why"
fi
stop "$name"

t_done inspect-live
