#!/bin/bash
# `uintrctl check` through libvirt on live guests under a private libvirtd
# (tests/lib/libvirtd.sh): the uintr_inspect guest in a healthy state with
# user interrupts in flight and in broken states, each judged like
# tests/inspect/check-live.sh does over a QMP socket.  uintrctl reads
# through virDomainQemuMonitorCommand, which libvirt records as a
# 'custom-monitor' taint: the test checks that the taint is all that
# changes (live XML identical, domain still running, the guest's round
# counter still moving).
#
#   tests/inspect/check-libvirt.sh
#
# Environment: QEMU, UINTRCTL, GUEST_BUILD, CPU_MAP (make cpu-map).
# Ends with "inspect-libvirt: N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/libvirtd.sh"
. "$top/tests/lib/domain.sh"
. "$here/judge.sh"
QEMU=${QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu/prefix/bin/qemu-system-x86_64}
UINTRCTL=${UINTRCTL:-$top/build/uintrctl/uintrctl}
GUEST_BUILD=${GUEST_BUILD:-$top/build/guest}
CPU_MAP=${CPU_MAP:-$top/build/cpu_map}

missing=
[ -x "$QEMU" ] || missing+=" $QEMU"
[ -x "$UINTRCTL" ] || missing+=" $UINTRCTL"
[ -r "$GUEST_BUILD/uintr_inspect.flat" ] || missing+=" $GUEST_BUILD/uintr_inspect.flat"
[ -r "$CPU_MAP/index.xml" ] || missing+=" $CPU_MAP/index.xml"
if [ -n "$missing" ]; then
    t_fail "prerequisites" "missing:$missing (make all)"
    t_done inspect-libvirt
    exit 1
fi

dir=$(mktemp -d /tmp/inspect-libvirt.XXXXXX)
chmod 755 "$dir"
chown nobody "$dir"
trap 'libvirtd_stop; rm -rf "$dir"' EXIT
cp "$GUEST_BUILD/uintr_inspect.flat" "$dir/"

if ! libvirtd_start "$dir/daemon" 5e1d0000-0000-4000-8000-0000000000c1 "$CPU_MAP"; then
    t_fail "private libvirtd starts"
    t_done inspect-libvirt
    exit 1
fi
t_ok "private libvirtd starts"

# ready NAME: the guest printed its ready line within 60 s.
ready() {
    local i
    for i in $(seq 600); do
        grep -q "inspect: ready" "$dir/$1.serial" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no ready line; console:"
    tail -5 "$dir/$1.serial" 2>/dev/null
    return 1
}

# rounds NAME ADDR: the guest's round counter, through libvirt's HMP.
rounds() {
    lv qemu-monitor-command "$1" --hmp "xp /1wu $2" | sed -n 's/.*: *\([0-9]*\).*/\1/p'
}

# inspect STATE APIC EXPECTED_RC [RULE:RESULT:CPU...]
inspect() {
    local state=$1 apic=$2 want=$3 name why before after info addr a b
    shift 3
    name=$state-$apic
    domain_xml "$name" "$dir/uintr_inspect.flat" "state=$state apic=$apic" 2 \
        "" "$dir/$name.serial" SapphireRapids-UINTR > "$dir/$name.xml"
    if ! why=$(lv create "$dir/$name.xml" 2>&1) || ! why=$(ready "$name"); then
        t_fail "$name: domain created and guest ready" "$why"
        lv destroy "$name" > /dev/null 2>&1
        return
    fi
    before=$(lv dumpxml "$name")
    info=$(lv dominfo "$name")
    case $info in
    *"custom monitor control commands"*) t_fail "$name: no custom-monitor taint before uintrctl" "$info" ;;
    esac
    "$UINTRCTL" -c "$LIBVIRTD_URI" --json check "$name" > "$dir/$name.json" 2> "$dir/$name.err"
    judge "$name (libvirt)" "$dir/$name.json" $? "$want" "$@"
    after=$(lv dumpxml "$name")
    info=$(lv dominfo "$name")
    if [ "$before" = "$after" ] && [ "$(lv domstate "$name")" = running ] &&
       [[ $info == *"custom monitor control commands"* ]]; then
        t_ok "$name: after uintrctl the domain runs, its live XML is unchanged, dominfo shows the custom-monitor taint"
    else
        t_fail "$name: after uintrctl the domain runs, its live XML is unchanged, dominfo shows the custom-monitor taint" \
            "$(diff <(echo "$before") <(echo "$after") | head -10)"$'\n'"$info"
    fi
    if [ "$state" = traffic ]; then
        addr=$(sed -n 's/.*rounds@\(0x[0-9a-f]*\).*/\1/p' "$dir/$name.serial")
        a=$(rounds "$name" "$addr")
        sleep 1
        b=$(rounds "$name" "$addr")
        if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; then
            t_ok "$name: the guest's user-interrupt round trips go on after uintrctl ($a -> $b)"
        else
            t_fail "$name: the guest's user-interrupt round trips go on after uintrctl" "'$a' -> '$b'"
        fi
    fi
    lv destroy "$name" > /dev/null 2>&1
}

inspect traffic xapic 0
inspect traffic x2 0
inspect wrong-ndst xapic 1 UINTR-009:FAIL:1
inspect wrong-ndst x2 1 UINTR-009:FAIL:1
inspect sn-pending x2 0 UINTR-011:WARN:1
inspect upid-unmapped xapic 1 UINTR-007:FAIL:1
inspect xss-clear x2 0 UINTR-014:WARN:1

t_done inspect-libvirt
