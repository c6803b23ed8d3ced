#!/bin/bash
# End to end: the SapphireRapids-UINTR CPU model through private libvirtds
# (the series' cpu_map), the patched QEMU, UINTR guest tests and uintrctl:
#
#   - domcapabilities lists the model as usable under TCG
#   - <model fallback='forbid'>SapphireRapids-UINTR</model> with
#     check='full' and no <feature/> defines and starts, QEMU gets exactly
#     -cpu SapphireRapids-UINTR, the live XML keeps the model, uintrctl sees
#     uintr on every vCPU, and the uintr_deliver (1 vCPU) and uintr_pingpong
#     (2 vCPUs) guest tests pass on it
#   - control: the same model with <feature policy='disable' name='uintr'/>
#     gives vCPUs without uintr: uintrctl --expect on fails, and the
#     uintr_deliver guest told uintr=1 reports "not ok" (told uintr=0 it
#     passes)
#   - the uintr_migrate guest (2 vCPUs, user interrupts in flight) is
#     live-migrated $MIGRATIONS times between two daemons, there and back;
#     after each migration the destination keeps the model in its XML,
#     every vCPU has xsaves and uintr, and HMP shows the guest's UINTR
#     state; the guest passes at the end
#   - flexible UIRET: the model leaves uiret-uif (CPUID.(7,1):EDX[17]) off
#     (QEMU's vCPUs, and the uintr_deliver guest sees the bit clear);
#     <feature policy='require' name='uiret-uif'/> on top of it starts
#     with -cpu SapphireRapids-UINTR,uiret-uif=on, every vCPU has it, and a
#     live migration keeps it: the domain migrated before its guest runs
#     has the feature on the destination's command line, vCPUs and live
#     XML, and uintr_deliver told uiret_uif=1 then passes there (it sees
#     the bit set and UIRET taking UIF from the popped RFLAGS); a running
#     uintr_migrate guest with the feature goes there and back
#
#   QEMU, UINTRCTL, GUEST_BUILD (tests/guest images), CPU_MAP (make cpu-map)
#   MIGRATIONS   live migrations (default 4, at least 2: there and back)
#   MIG_SECONDS  how long the migrated guest runs its traffic (default 15 s
#                per migration: on 2 loaded cores a migration and the checks
#                after it take 6-10 s, and every migration must find the
#                guest still running)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/libvirtd.sh"
. "$here/../lib/domain.sh"
. "$here/../lib/uintrctl.sh"

: "${QEMU:?}" "${UINTRCTL:?}" "${GUEST_BUILD:?}" "${CPU_MAP:?}"
MIGRATIONS=${MIGRATIONS:-4}
[ "$MIGRATIONS" -ge 2 ] || MIGRATIONS=2
MIG_SECONDS=${MIG_SECONDS:-$((15 * MIGRATIONS))}
model=SapphireRapids-UINTR
dir=$(mktemp -d /tmp/uintr-e2e-model.XXXXXX)
chmod 755 "$dir"
chown nobody "$dir"     # the daemons' QEMUs write the serial logs here

# Two daemons, A and B; use SIDE points lv/libvirtd_stop at one of them.
# shellcheck disable=SC2034  # read through ${!name} in use()
A_PID='' A_URI='' B_PID='' B_URI=''
use() {
    local p=${1}_PID u=${1}_URI
    LIBVIRTD_PID=${!p} LIBVIRTD_URI=${!u}
}
start_daemon() {    # start_daemon SIDE UUID
    local rc=0
    # shellcheck disable=SC2034  # libvirtd_start sets it, also on failure
    LIBVIRTD_PID=''
    libvirtd_start "$dir/$1" "$2" "$CPU_MAP" || rc=1
    eval "${1}_PID=\$LIBVIRTD_PID ${1}_URI=\$LIBVIRTD_URI"
    return $rc
}
cleanup() {
    use A; libvirtd_stop
    use B; libvirtd_stop
    rm -rf "$dir"
}
trap cleanup EXIT

# model_xml NAME IMAGE CMDLINE VCPUS FEATURES_XML: domain_xml's domain
# (tests/lib/domain.sh) with the named model and nothing else in <cpu>.
model_xml() {
    domain_xml "$1" "$dir/$2" "$3" "$4" "$5" "$dir/$1.serial" "$model"
}

# live_cpu_is POLICY: the live XML (stdin) has the custom model, forbid,
# check='full', and no <feature/> but, with POLICY=disable, uintr disabled,
# with POLICY=uiret-uif, uiret-uif required.
live_cpu_is() {
    python3 -c '
import sys, xml.etree.ElementTree as ET
want, model = sys.argv[1:]
cpu = ET.parse(sys.stdin).getroot().find("cpu")
m = cpu.find("model")
got = (cpu.get("mode"), cpu.get("match"), cpu.get("check"), m.text, m.get("fallback"),
       sorted((f.get("policy"), f.get("name")) for f in cpu.findall("feature")))
feats = {"disable": [("disable", "uintr")], "uiret-uif": [("require", "uiret-uif")]}
exp = ("custom", "exact", "full", model, "forbid", feats.get(want, []))
assert got == exp, "live <cpu>: %s, want %s" % (got, exp)
' "$1" "$model"
}

# vcpus_have DOMAIN PROPERTY VALUE: qom-get PROPERTY on every vCPU.
vcpus_have() {
    local dom=$1 prop=$2 want=$3 paths p got n=0
    paths=$(lv qemu-monitor-command "$dom" '{"execute":"query-cpus-fast"}' |
        python3 -c 'import json,sys; print("\n".join(c["qom-path"] for c in json.load(sys.stdin)["return"]))') ||
        return 1
    for p in $paths; do
        got=$(lv qemu-monitor-command "$dom" \
            "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"$p\",\"property\":\"$prop\"}}") || return 1
        [[ $got == *"\"return\":$want"* ]] || { echo "$p: $prop: $got"; return 1; }
        n=$((n + 1))
    done
    echo "$n vCPU(s) with $prop=$want"
    [ "$n" -gt 0 ]
}

# uintrctl_vcpus DOMAIN N ON: uintrctl (exit 0) sees N vCPUs, uintr ON on each.
uintrctl_vcpus() {
    local out
    out=$("$UINTRCTL" -c "$LIBVIRTD_URI" --json cpuid "$1") || {
        echo "uintrctl exited $?: $out"
        return 1
    }
    python3 -c '
import json, sys
n, on = int(sys.argv[1]), sys.argv[2] == "on"
v = json.loads(sys.argv[3])["vcpus"]
assert len(v) == n and all(c["uintr"] == on for c in v), v
' "$2" "$3" "$out"
}

# qemu_cpu_arg SIDE NAME: QEMU's -cpu in NAME's last log entry on SIDE.
qemu_cpu_arg() {
    grep -o -- '-cpu [^ ]*' "$dir/$1/cache/libvirt/qemu/log/$2.log" | tail -1
}

# start_checked SIDE NAME VCPUS POLICY: define, start paused, check what
# libvirt and QEMU made of the model (POLICY: "", disable for uintr
# disabled, uiret-uif for uiret-uif required).
start_checked() {
    local side=$1 name=$2 vcpus=$3 policy=$4 out on=on what=
    [ "$policy" = disable ] && on=off what=", uintr disabled"
    [ "$policy" = uiret-uif ] && what=", uiret-uif required"
    use "$side"
    t_check "$name: virsh define" lv define "$dir/$name.xml"
    if ! out=$(lv start --paused "$name" 2>&1); then
        t_fail "$name: virsh start (check='full')" "$out"
        return 1
    fi
    t_ok "$name: virsh start (check='full')"
    if [ "$policy" = disable ]; then
        t_check "$name: QEMU runs with -cpu $model,uintr=off" \
            test "$(qemu_cpu_arg "$side" "$name")" = "-cpu $model,uintr=off"
    elif [ "$policy" = uiret-uif ]; then
        t_check "$name: QEMU runs with -cpu $model,uiret-uif=on" \
            test "$(qemu_cpu_arg "$side" "$name")" = "-cpu $model,uiret-uif=on"
    else
        t_check "$name: QEMU runs with exactly -cpu $model" \
            test "$(qemu_cpu_arg "$side" "$name")" = "-cpu $model"
    fi
    t_check "$name: live XML keeps the model, forbid, check='full'$what" \
        live_cpu_is "$policy" < <(lv dumpxml "$name")
    t_check "$name: uintrctl cpuid (exit 0): $vcpus vCPU(s), uintr $on on each" \
        uintrctl_vcpus "$name" "$vcpus" "$on"
    t_check "$name: every vCPU has xsaves" vcpus_have "$name" xsaves true
}

# run_guest SIDE NAME TIMEOUT: resume and wait for the guest to finish.
run_guest() {
    use "$1"
    lv resume "$2" > /dev/null
    if wait_shutoff "$2" "$3"; then
        t_ok "$2: guest ran to completion"
    else
        t_fail "$2: guest ran to completion" "still $(lv domstate "$2") after $3 s"
        lv destroy "$2" > /dev/null 2>&1
    fi
}

start=$(date +%s)
if ! start_daemon A 5e1d0000-0000-4000-8000-00000000000a; then
    t_fail "private libvirtd A starts"
    t_done e2e-model
    exit
fi
t_ok "private libvirtd A starts"
for f in uintr_deliver uintr_pingpong uintr_migrate; do
    cp "$GUEST_BUILD/$f.flat" "$dir/$f.flat"
done
use A

t_check "virsh cpu-models x86_64 lists $model" \
    grep -qx "$model" <(lv cpu-models x86_64)
t_check "domcapabilities (TCG, q35): $model is usable='yes'" python3 -c '
import sys, xml.etree.ElementTree as ET
caps = ET.parse(sys.stdin).getroot()
m = [m for m in caps.findall("./cpu/mode[@name=\"custom\"]/model") if m.text == sys.argv[1]]
assert m and m[0].get("usable") == "yes", [ET.tostring(x) for x in m]
' "$model" < <(lv domcapabilities --emulatorbin "$QEMU" --virttype qemu --arch x86_64 --machine q35)

# The model alone, check='full': the UINTR delivery tests on 1 vCPU, the
# ring-3 ping-pong on 2.
model_xml deliver uintr_deliver.flat uintr=1 1 "" > "$dir/deliver.xml"
if start_checked A deliver 1 ""; then
    t_check "deliver: the model leaves uiret-uif off on every vCPU" vcpus_have deliver uiret-uif false
    t_check "deliver: HMP info registers shows the reset UINTR state" \
        grep -q "UINTR RR=0000000000000000 " <(lv qemu-monitor-command deliver --hmp 'info registers')
    run_guest A deliver 60
    t_check "deliver: uintr_deliver passes on $model (it sees CPUID.(7,1):EDX[17] uiret-uif clear)" \
        guest_passed "$dir/deliver.serial"
fi
model_xml pingpong uintr_pingpong.flat "uintr=1 rounds=20000" 2 "" > "$dir/pingpong.xml"
if start_checked A pingpong 2 ""; then
    run_guest A pingpong 120
    t_check "pingpong: uintr_pingpong passes on $model (2 vCPUs)" guest_passed "$dir/pingpong.serial"
fi

# Control: the check can fail.  uintr disabled on top of the model.
no_uintr="<feature policy='disable' name='uintr'/>"
model_xml control uintr_deliver.flat uintr=1 1 "$no_uintr" > "$dir/control.xml"
if start_checked A control 1 disable; then
    t_check "control: uintrctl --expect on fails (exit 1) on it" bash -c \
        "'$UINTRCTL' -c '$LIBVIRTD_URI' --expect on cpuid control > /dev/null; [ \$? = 1 ]"
    run_guest A control 60
    t_check "control: uintr_deliver told uintr=1 reports not ok (it sees uintr=0)" \
        grep -q '^not ok .*CPUID.*UINTR = 1 .*got 0' "$dir/control.serial"
fi
model_xml control-off uintr_deliver.flat uintr=0 1 "$no_uintr" > "$dir/control-off.xml"
if out=$(lv create "$dir/control-off.xml" 2>&1); then
    wait_shutoff control-off 60 || lv destroy control-off > /dev/null 2>&1
    t_check "control-off: the same guest told uintr=0 passes" guest_passed "$dir/control-off.serial"
else
    t_fail "control-off: the same guest told uintr=0 passes" "$out"
fi

# Live migration there and back while user interrupts are in flight.
if ! start_daemon B 5e1d0000-0000-4000-8000-00000000000b; then
    t_fail "private libvirtd B starts"
    t_done e2e-model
    exit
fi
t_ok "private libvirtd B starts"
model_xml mig uintr_migrate.flat "seconds=$MIG_SECONDS hold=3" 2 "" > "$dir/mig.xml"
if start_checked A mig 2 ""; then
    use A
    lv resume mig > /dev/null
    mig_start=$(date +%s)
    for i in $(seq 50); do
        grep -q '^# seconds=' "$dir/mig.serial" 2>/dev/null && break
        sleep 0.1
    done
    src=A dst=B done=0
    for i in $(seq "$MIGRATIONS"); do
        use "$src"
        state=$(lv domstate mig 2>&1)
        if [ "$state" != running ]; then
            t_fail "migration $i: guest still running on $src before it" "$state"
            break
        fi
        dst_uri=${dst}_URI
        echo "# migration $i starts $(($(date +%s) - mig_start)) s into the guest's run"
        t0=$(date +%s.%N)
        if ! out=$(lv migrate --live mig "${!dst_uri}" 2>&1); then
            t_fail "migration $i: virsh migrate --live $src -> $dst" "$out"
            break
        fi
        t_ok "migration $i: virsh migrate --live $src -> $dst ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
        done=$i
        use "$dst"
        t_check "migration $i: $dst runs QEMU with -cpu $model" \
            test "$(qemu_cpu_arg "$dst" mig)" = "-cpu $model"
        t_check "migration $i: dumpxml on $dst keeps the model, forbid, check='full'" \
            live_cpu_is "" < <(lv dumpxml mig)
        t_check "migration $i: every vCPU on $dst has xsaves" vcpus_have mig xsaves true
        t_check "migration $i: uintrctl on $dst: 2 vCPUs, uintr on" uintrctl_vcpus mig 2 on
        t_check "migration $i: uintrctl check on $dst: every rule evaluated, none FAILs" uintrctl_check mig
        t_check "migration $i: HMP on $dst shows the guest's UINTR state (HANDLER set) on both vCPUs" \
            test "$(lv qemu-monitor-command mig --hmp 'info registers -a' |
                    grep -c 'UINTR RR=.* HANDLER=0*[1-9a-f]')" = 2
        tmp=$src src=$dst dst=$tmp
    done
    use "$src"
    if wait_shutoff mig $((MIG_SECONDS + 60)); then
        t_ok "mig: guest ran to completion on $src after $done migrations"
    else
        t_fail "mig: guest ran to completion on $src after $done migrations" "still $(lv domstate mig)"
        lv destroy mig > /dev/null 2>&1
    fi
    t_check "mig: uintr_migrate passes after $done live migrations" guest_passed "$dir/mig.serial"
    grep '^# ran' "$dir/mig.serial" | sed 's/^# /#   guest: /'
fi
# Flexible UIRET asked for on top of the model, and live migration.
uif="<feature policy='require' name='uiret-uif'/>"
model_xml uif uintr_deliver.flat "uintr=1 uiret_uif=1" 1 "$uif" > "$dir/uif.xml"
if start_checked A uif 1 uiret-uif; then
    t_check "uif: every vCPU has uiret-uif" vcpus_have uif uiret-uif true
    use A
    if out=$(lv migrate --live uif "$B_URI" 2>&1); then
        t_ok "uif: virsh migrate --live A -> B (paused, before the guest runs)"
        use B
        t_check "uif: B runs QEMU with -cpu $model,uiret-uif=on" \
            test "$(qemu_cpu_arg B uif)" = "-cpu $model,uiret-uif=on"
        t_check "uif: dumpxml on B keeps the model and uiret-uif required" \
            live_cpu_is uiret-uif < <(lv dumpxml uif)
        t_check "uif: every vCPU on B has uiret-uif" vcpus_have uif uiret-uif true
        run_guest B uif 60
        t_check "uif: uintr_deliver told uiret_uif=1 passes on B (CPUID.(7,1):EDX[17] set, UIRET takes UIF from the popped RFLAGS)" \
            guest_passed "$dir/uif.serial"
    else
        t_fail "uif: virsh migrate --live A -> B (paused, before the guest runs)" "$out"
        lv destroy uif > /dev/null 2>&1
    fi
fi
uif_seconds=50     # two hops and their checks take 10-20 s each on 2 loaded cores
model_xml mig-uif uintr_migrate.flat "seconds=$uif_seconds hold=3" 2 "$uif" > "$dir/mig-uif.xml"
if start_checked A mig-uif 2 uiret-uif; then
    use A
    lv resume mig-uif > /dev/null
    for i in $(seq 50); do
        grep -q '^# seconds=' "$dir/mig-uif.serial" 2>/dev/null && break
        sleep 0.1
    done
    src=A dst=B done=0
    for i in 1 2; do
        use "$src"
        dst_uri=${dst}_URI
        if ! out=$(lv migrate --live mig-uif "${!dst_uri}" 2>&1); then
            t_fail "mig-uif: virsh migrate --live $src -> $dst (user interrupts in flight)" "$out"
            break
        fi
        t_ok "mig-uif: virsh migrate --live $src -> $dst (user interrupts in flight)"
        done=$i
        use "$dst"
        t_check "mig-uif: $dst runs QEMU with -cpu $model,uiret-uif=on" \
            test "$(qemu_cpu_arg "$dst" mig-uif)" = "-cpu $model,uiret-uif=on"
        t_check "mig-uif: dumpxml on $dst keeps the model and uiret-uif required" \
            live_cpu_is uiret-uif < <(lv dumpxml mig-uif)
        t_check "mig-uif: every vCPU on $dst has uiret-uif" vcpus_have mig-uif uiret-uif true
        t_check "mig-uif: uintrctl check on $dst: every rule evaluated, none FAILs" uintrctl_check mig-uif
        tmp=$src src=$dst dst=$tmp
    done
    use "$src"
    if wait_shutoff mig-uif $((uif_seconds + 60)); then
        t_check "mig-uif: uintr_migrate passes after $done live migrations" guest_passed "$dir/mig-uif.serial"
    else
        t_fail "mig-uif: guest ran to completion on $src" "still $(lv domstate mig-uif)"
        lv destroy mig-uif > /dev/null 2>&1
    fi
fi
echo "# e2e-model: $(($(date +%s) - start)) s"
t_done e2e-model
