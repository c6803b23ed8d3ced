#!/bin/bash
# End to end: <feature policy='require' name='uintr'/> through a private
# libvirtd, the patched QEMU and a guest that reads CPUID.(7,0):EDX[5], and
# uintrctl reading the vCPUs back through libvirt.
#
#   QEMU, UINTRCTL, GUEST_BUILD (tests/guest images), CPU_MAP (make cpu-map)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/libvirtd.sh"
. "$here/../lib/domain.sh"

: "${QEMU:?}" "${UINTRCTL:?}" "${GUEST_BUILD:?}" "${CPU_MAP:?}"
dir=$(mktemp -d /tmp/uintr-e2e.XXXXXX)
chmod 755 "$dir"
chown nobody "$dir"     # the daemon's QEMU writes the serial logs here
trap 'libvirtd_stop; rm -rf "$dir"' EXIT

if ! libvirtd_start "$dir/d" 5e1d0000-0000-4000-8000-000000000001 "$CPU_MAP"; then
    t_fail "private libvirtd starts"
    t_done e2e-cpuid
    exit
fi
t_ok "private libvirtd starts"
cp "$GUEST_BUILD/cpuid_uintr.flat" "$dir/cpuid_uintr.flat"
uintr="<feature policy='require' name='uintr'/>"

# run NAME VCPUS FEATURES CMDLINE WANT(on|off): define, start paused, check
# the live XML and uintrctl, let the guest run, check what it saw.
run() {
    local name=$1 vcpus=$2 features=$3 cmdline=$4 want=$5
    local serial=$dir/$name.serial
    domain_xml "$name" "$dir/cpuid_uintr.flat" "$cmdline" "$vcpus" "$features" "$serial" \
        > "$dir/$name.xml"
    t_check "$name: virsh define" lv define "$dir/$name.xml"
    if ! out=$(lv start --paused "$name" 2>&1); then
        t_fail "$name: virsh start" "$out"
        return
    fi
    t_ok "$name: virsh start"
    if [ "$want" = on ]; then
        t_check "$name: live XML keeps uintr required (not dropped to disable)" \
            grep -q "<feature policy='require' name='uintr'/>" <(lv dumpxml "$name")
    else
        t_check "$name: live XML does not enable uintr" \
            bash -c "! grep -q \"policy='require' name='uintr'\" <(virsh -q -c '$LIBVIRTD_URI' dumpxml $name)"
    fi
    t_check "$name: uintrctl cpuid --expect $want agrees with the XML" \
        "$UINTRCTL" -c "$LIBVIRTD_URI" --expect "$want" cpuid "$name"
    t_check "$name: uintrctl sees $vcpus vCPU(s) with uintr $want" bash -c \
        "'$UINTRCTL' -c '$LIBVIRTD_URI' --json cpuid '$name' |
         python3 -c 'import json,sys; d=json.load(sys.stdin); v=d[\"vcpus\"];
assert len(v)==$vcpus, v
assert all(c[\"uintr\"] == (\"$want\"==\"on\") for c in v), v'"
    # "info registers" shows the user-interrupt state exactly when the
    # vCPU has UINTR (reset state: all zero, UIF=0).
    if [ "$want" = on ]; then
        t_check "$name: HMP info registers shows the reset UINTR state" \
            grep -q "UINTR RR=0000000000000000 " <(lv qemu-monitor-command "$name" --hmp 'info registers')
        t_check "$name: HMP info registers shows UIF=0 after reset" \
            grep -q "TT=0000000000000000 UIF=0" <(lv qemu-monitor-command "$name" --hmp 'info registers')
    else
        t_check "$name: HMP info registers shows no UINTR state" \
            bash -c "! virsh -q -c '$LIBVIRTD_URI' qemu-monitor-command $name --hmp 'info registers' | grep -q UINTR"
    fi
    lv resume "$name" > /dev/null
    if wait_shutoff "$name" 30; then
        t_ok "$name: guest ran to completion"
    else
        t_fail "$name: guest ran to completion" "still $(lv domstate "$name") after 30 s"
        lv destroy "$name" > /dev/null 2>&1
    fi
}

run uintr-on 2 "$uintr" expect=1 on
t_check "uintr-on: guest sees CPUID.(7,0):EDX[5] set" guest_passed "$dir/uintr-on.serial"
run uintr-off 1 "" expect=0 off
t_check "uintr-off: guest sees CPUID.(7,0):EDX[5] clear" guest_passed "$dir/uintr-off.serial"

# The guest's assertion can fail: the same image told to expect the bit
# clear must report "not ok" on a domain that has it.
run control 1 "$uintr" expect=0 on
t_check "control: guest expecting no uintr on a uintr domain reports not ok" \
    grep -qi '^not ok .*uintr' "$dir/control.serial"

t_done e2e-cpuid
