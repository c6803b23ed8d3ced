#!/bin/bash
# Two libvirt "hosts" on one machine (issue 10, items 2-4): network
# namespaces A (10.77.0.1) and B (10.77.0.2) joined by a veth pair, each
# with a private libvirtd (tests/lib/libvirtd.sh: session mode, uid nobody,
# tini, its own host UUID, the CPU map bind-mounted) started inside it, so
# that its QEMUs listen and connect on the veth addresses.  virsh and
# uintrctl reach the daemons through their unix sockets; the migration data
# goes over TCP between the namespaces (--migrateuri tcp://ADDR).
#
#   1. the uintr_migrate guest (2 vCPUs, x2APIC, xsaves=1, on
#      SapphireRapids-UINTR: user interrupts in flight between the vCPUs)
#      live-migrated $MIGRATIONS times A <-> B; per hop: the bytes received
#      on the destination's veth cover the migration's data, the downtime
#      (domjobinfo --completed on the source) goes to the log, and
#      `uintrctl check` on the destination passes; then --p2p (both URI
#      forms, see below) and --persistent --undefinesource; the guest's TAP
#      is clean at the end (nothing lost or duplicated)
#   2. on a second guest, with the link throttled (tc tbf on the source's
#      veth): a migration cancelled half-way with domjobabort; refusals, each
#      with libvirt's error printed and the guest still running on the
#      source: (a) a destination QEMU without uintr ($STOCK_QEMU through
#      migrate --xml), (a2) a destination QEMU that has uintr but turns it
#      off (a wrapper adds uintr=off to -cpu: libvirt's Prepare phase
#      refuses, naming uintr), (b) a destination daemon whose CPU map lacks the
#      model, (c) the destination QEMU killed (SIGKILL) mid-migration; the
#      guest then completes with a clean TAP
#   3. save + restore (on the other host), managedsave + start, and an
#      internal snapshot (qcow2 disk) of the running guest: reverted to
#      with snapshot-revert --paused (the guest's round-trip counter, read
#      from its memory, is back at the snapshot's value, and counts on from
#      there after resume), then with a plain snapshot-revert, and in a
#      second guest loaded with QEMU's loadvm; a clean TAP each time
#      (nothing lost or duplicated, the guest never restarted)
#
# --p2p: the source daemon opens the destination URI itself.  libvirt's
# client refuses qemu:///session?socket=PATH for p2p before any daemon is
# asked ("Attempt to migrate guest to the same host": virDomainMigrate-
# CheckNotLocal accepts a URI without a host only when its scheme names the
# unix transport and it has socket=); qemu+unix:///session?socket=PATH is
# the form that works, and the test checks both.
#
# Environment: QEMU, STOCK_QEMU, UINTRCTL, GUEST_BUILD, CPU_MAP (defaults
# below), MIGRATIONS (default 20), MIG_SECONDS (the first guest's run,
# 5 s for each of its MIGRATIONS + 3 migrations, + 30: a hop and its
# checks take 3-5 s on 2 loaded cores).  Needs root, iproute2 (ip, tc),
# qemu-img and nm (binutils, for the guest's symbols).  Ends with
# "libvirt-hosts: N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/libvirtd.sh"
. "$top/tests/lib/domain.sh"
NETNS_LIBVIRTD_SH=$top/tests/lib/libvirtd.sh
. "$here/netns.sh"

cache=${UINTR_CACHE:-/var/cache/uintr}
QEMU=${QEMU:-$cache/qemu/prefix/bin/qemu-system-x86_64}
STOCK_QEMU=${STOCK_QEMU:-$cache/qemu-stock/prefix/bin/qemu-system-x86_64}
UINTRCTL=${UINTRCTL:-$top/build/uintrctl/uintrctl}
GUEST_BUILD=${GUEST_BUILD:-$top/build/guest}
CPU_MAP=${CPU_MAP:-$top/build/cpu_map}
MIGRATIONS=${MIGRATIONS:-20}
[ "$MIGRATIONS" -ge 2 ] || MIGRATIONS=2
MIG_SECONDS=${MIG_SECONDS:-$((5 * (MIGRATIONS + 3) + 30))}
model=SapphireRapids-UINTR
suite=libvirt-hosts
t_start=$(date +%s)

# Debian's python3 when there is one: a pyenv shim first in PATH costs
# a second per call, and uintrctl_check runs one per hop.
[ -x /usr/bin/python3 ] && python3() { /usr/bin/python3 "$@"; }

. "$top/tests/lib/uintrctl.sh"

# The patched QEMU's prefix has no qemu-img (a system-only build): Debian's.
QEMU_IMG=${QEMU_IMG:-$(command -v "$(dirname "$QEMU")/qemu-img" qemu-img | head -1)}

missing=
[ "$(id -u)" = 0 ] || missing+=" root"
for tool in ip tc python3 tini; do
    command -v "$tool" > /dev/null || missing+=" $tool"
done
[ -n "$QEMU_IMG" ] || missing+=" qemu-img (qemu-utils)"
[ -x "$QEMU" ] || missing+=" $QEMU"
[ -x "$STOCK_QEMU" ] || missing+=" $STOCK_QEMU (make qemu-stock)"
[ -x "$UINTRCTL" ] || missing+=" $UINTRCTL"
[ -r "$GUEST_BUILD/uintr_migrate.flat" ] || missing+=" $GUEST_BUILD/uintr_migrate.flat"
[ -r "$GUEST_BUILD/uintr_migrate.elf" ] || missing+=" $GUEST_BUILD/uintr_migrate.elf"
command -v nm > /dev/null || missing+=" nm (binutils)"
[ -r "$CPU_MAP/index.xml" ] || missing+=" $CPU_MAP/index.xml"
if [ -n "$missing" ]; then
    t_fail "prerequisites" "missing:$missing"
    t_done "$suite"
    exit 1
fi

dir=$(mktemp -d /tmp/uintr-hosts.XXXXXX)
chmod 755 "$dir"
chown nobody "$dir"     # the daemons' QEMUs write serial logs and saves here
cp "$GUEST_BUILD/uintr_migrate.flat" "$dir/"

# Hosts: A in namespace A, B in namespace B; C (B's address, a CPU map
# without the model) only for refusal (b).
declare -A NS=([A]=uintr-a$$ [B]=uintr-b$$ [C]=uintr-b$$)
declare -A ADDR=([A]=10.77.0.1 [B]=10.77.0.2 [C]=10.77.0.2)
declare -A PID=() URI=()
use() {
    LIBVIRTD_PID=${PID[$1]:-} LIBVIRTD_URI=${URI[$1]:-}
}
stop_host() {
    use "$1"
    libvirtd_stop
    PID[$1]=
}
cleanup() {
    local h
    for h in A B C; do stop_host "$h"; done
    netns_del "${NS[A]}" "${NS[B]}"
    rm -rf "$dir" "$dir".*
}
trap cleanup EXIT
trap 'exit 1' INT TERM

start_host() {    # start_host HOST UUID CPU_MAP
    local rc=0
    ns_libvirtd_start "${NS[$1]}" "$dir/$1" "$2" "$3" || rc=1
    PID[$1]=$LIBVIRTD_PID URI[$1]=$LIBVIRTD_URI
    return $rc
}

# guest_xml NAME SECONDS: the uintr_migrate domain on the model.
guest_xml() {
    domain_xml "$1" "$dir/uintr_migrate.flat" "seconds=$2 hold=3 apic=x2 xsaves=1" 2 "" \
        "$dir/$1.serial" "$model" > "$dir/$1.xml"
}

# started NAME [SECONDS]: the guest printed its parameters (its traffic
# runs) within SECONDS (default 30).
started() {
    local i
    for i in $(seq $((${2:-30} * 10))); do
        grep -q '^# seconds=' "$dir/$1.serial" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# finished HOST NAME TIMEOUT WHAT: the guest ends by itself on HOST and
# its TAP is clean.
finished() {
    use "$1"
    if wait_shutoff "$2" "$3"; then
        t_check "$2: uintr_migrate passes after $4 (clean TAP: nothing lost or duplicated)" \
            guest_passed "$dir/$2.serial"
        grep '^# ran' "$dir/$2.serial" | sed 's/^# /#   guest: /'
    else
        t_fail "$2: guest ends by itself on $1 after $4" "still $(lv domstate "$2" 2>&1) after $3 s"
        lv destroy "$2" > /dev/null 2>&1
    fi
}

# running_on HOST NAME: the domain runs there.
running_on() {
    local state
    use "$1"
    state=$(lv domstate "$2" 2>&1)
    [ "$state" = running ] || { echo "domstate on $1: $state"; return 1; }
}

secs_since() {
    awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# hop NAME SRC DST DESTURI WHAT [VIRSH ARGS...]: live migration over the
# veth; checks that it completed, that the destination's veth received at
# least the migration's data, uintrctl check on the destination.
hop() {
    local name=$1 src=$2 dst=$3 desturi=$4 what=$5 t0 out rx0 rx info down data
    shift 5
    if ! out=$(running_on "$src" "$name"); then
        t_fail "$what: $name runs on $src before it" "$out"
        return 1
    fi
    rx0=$(ns_veth_bytes "${NS[$dst]}" rx)
    t0=$(date +%s.%N)
    use "$src"
    if ! out=$(lv migrate --live "$@" "$name" "$desturi" --migrateuri "tcp://${ADDR[$dst]}" 2>&1); then
        t_fail "$what: virsh migrate --live $* $src -> $dst" "$out"
        return 1
    fi
    rx=$(( $(ns_veth_bytes "${NS[$dst]}" rx) - rx0 ))
    # With --undefinesource the source has nothing left to ask: the
    # destination has the same statistics (the migration cookie).
    info=$(lv domjobinfo --completed "$name" 2>&1) || { use "$dst"; info=$(lv domjobinfo --completed "$name" 2>&1); }
    down=$(sed -n 's/^Total downtime: *\([0-9]*\) *ms.*/\1/p' <<< "$info")
    data=$(sed -n 's/^Data processed: *\([0-9.]*\) *\([KMG]iB\).*/\1 \2/p' <<< "$info")
    t_ok "$what: virsh migrate --live $* $src -> $dst over tcp://${ADDR[$dst]} ($(secs_since "$t0") s, downtime ${down:-?} ms)"
    echo "# $what: $src -> $dst downtime ${down:-?} ms, data ${data:-?}, $dst's veth received $rx bytes"
    t_check "$what: the migration data went over the veth ($dst received $rx bytes >= ${data:-?})" \
        awk -v rx="$rx" -v data="$data" 'BEGIN {
            split(data, d, " "); m["KiB"] = 1024; m["MiB"] = 1048576; m["GiB"] = 1073741824
            exit !(d[2] in m && rx >= d[1] * m[d[2]]) }'
    use "$dst"
    t_check "$what: uintrctl check on $dst: exit 0, no rule FAILs" uintrctl_check "$name"
}

# dest_qemu HOST NAME: the PID of NAME's QEMU in HOST's namespace.
dest_qemu() {
    local p
    for p in $(ip netns pids "${NS[$1]}"); do
        tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "-name guest=$2," && echo "$p"
    done
    return 0
}

# mid_migration HOST NAME: wait (up to 30 s) until HOST's outgoing job for
# NAME has sent more than 100 KiB and has data left.
mid_migration() {
    local i info sent
    use "$1"
    for i in $(seq 300); do
        info=$(lv domjobinfo "$2" 2>/dev/null)
        sent=$(sed -n 's/^Data processed: *\([0-9]*\).*KiB.*/\1/p' <<< "$info")
        [ -n "$sent" ] && [ "$sent" -gt 100 ] && { grep 'Time elapsed:\|Data' <<< "$info" | sed 's/^/#   /'; return 0; }
        sleep 0.1
    done
    return 1
}

# throttle HOST on|off: a slow link out of HOST (1 Mbit/s), so that a
# migration takes long enough to be cut half-way (the guest's RAM is ~1 MB
# of data).
throttle() {
    if [ "$2" = on ]; then
        ip netns exec "${NS[$1]}" tc qdisc add dev veth0 root tbf rate 1mbit burst 32kbit latency 400ms
    else
        ip netns exec "${NS[$1]}" tc qdisc del dev veth0 root 2> /dev/null
    fi
}

# refused NAME WHAT RC OUT: a migration that must fail did so with an
# error, printed; the guest still runs on A.
refused() {
    local name=$1 what=$2 rc=$3 out=$4
    if [ "$rc" -ne 0 ] && grep -q '^error:' <<< "$out"; then
        t_ok "$what: virsh migrate fails with an error"
        sed 's/^/#   libvirt: /' <<< "$out"
    else
        t_fail "$what: virsh migrate fails with an error" "exit $rc: $out"
    fi
    t_check "$what: $name still runs on A" running_on A "$name"
}

# ---------------------------------------------------------------------------
if ! netns_pair "${NS[A]}" "${NS[B]}" "${ADDR[A]}" "${ADDR[B]}"; then
    t_fail "namespaces ${NS[A]} (${ADDR[A]}) and ${NS[B]} (${ADDR[B]}) joined by a veth pair"
    t_done "$suite"
    exit 1
fi
t_check "namespace ${NS[A]} routes ${ADDR[B]} through its veth" \
    grep -q "^${ADDR[B]} dev veth0 " <(ip -n "${NS[A]}" route get "${ADDR[B]}")
for h in A B; do
    if ! start_host "$h" "5e1d0000-0000-4000-8000-0000000100${h}0" "$CPU_MAP"; then
        t_fail "libvirtd $h starts in namespace ${NS[$h]}"
        t_done "$suite"
        exit 1
    fi
    t_ok "libvirtd $h starts in namespace ${NS[$h]} (${ADDR[$h]})"
done
# The daemons and their QEMU capability probes run in the namespaces.
t_check "libvirtd A runs in namespace ${NS[A]}" \
    bash -c "ip netns pids '${NS[A]}' | xargs -r ps -o comm= -p | grep -qx libvirtd"

# 1. Hops back and forth, p2p, persistent + undefinesource.
echo "# 1. $MIGRATIONS live migrations A <-> B of a guest with user interrupts in flight (seconds=$MIG_SECONDS)"
guest_xml mig "$MIG_SECONDS"
use A
t_check "mig: defined on A" lv define "$dir/mig.xml"
if out=$(lv start mig 2>&1) && started mig; then
    t_ok "mig: starts on A, its user-interrupt traffic runs"
    src=A dst=B done=0
    for i in $(seq "$MIGRATIONS"); do
        # --persistent: the source keeps a definition, so its
        # domjobinfo --completed has the job's statistics.
        hop mig "$src" "$dst" "${URI[$dst]}" "hop $i" --persistent || break
        done=$i
        tmp=$src src=$dst dst=$tmp
    done
    echo "# $done hops done $(( $(date +%s) - t_start )) s into the run"

    # p2p: the plain session URI is refused by the client, the +unix one works.
    use "$src"
    out=$(lv migrate --live --p2p mig "${URI[$dst]}" --migrateuri "tcp://${ADDR[$dst]}" 2>&1)
    if [[ $out == *"Attempt to migrate guest to the same host"* ]]; then
        t_ok "p2p: $src -> $dst to qemu:///session?socket=... is refused by the client"
        echo "#   libvirt: $out"
    else
        t_fail "p2p: $src -> $dst to qemu:///session?socket=... is refused by the client" "$out"
    fi
    t_check "p2p: mig still runs on $src" running_on "$src" mig
    hop mig "$src" "$dst" "${URI[$dst]/qemu:/qemu+unix:}" "p2p 1" --p2p --persistent &&
        hop mig "$dst" "$src" "${URI[$src]/qemu:/qemu+unix:}" "p2p 2" --p2p --persistent
    # Now on $src again (two p2p hops).
    use "$src"
    t_check "undefinesource: mig is persistent on $src before" \
        grep -q '^Persistent: *yes' <(lv dominfo mig)
    if hop mig "$src" "$dst" "${URI[$dst]}" "undefinesource" --persistent --undefinesource; then
        use "$dst"
        t_check "undefinesource: mig is persistent on $dst" grep -q '^Persistent: *yes' <(lv dominfo mig)
        use "$src"
        t_check "undefinesource: mig is gone from $src (list --all)" \
            bash -c "! '$LIBVIRT_PREFIX/bin/virsh' -q -c '$LIBVIRTD_URI' list --all --name | grep -qx mig"
        src=$dst
    fi
    finished "$src" mig $((MIG_SECONDS + 120)) "$done hops, 2 p2p hops and --undefinesource"
else
    t_fail "mig: starts on A, its user-interrupt traffic runs" "$out"
fi
for h in A B; do use "$h"; lv undefine mig > /dev/null 2>&1; done

# 2. Abort and refusals, the guest on A.
echo "# 2. a migration cancelled half-way, and three refusals"
guest_xml abort 45
use A
if out=$(lv create "$dir/abort.xml" 2>&1) && started abort; then
    t_ok "abort: starts on A, its user-interrupt traffic runs"

    t_check "abort: link A -> B throttled to 1 Mbit/s (tc tbf)" throttle A on
    lv migrate --live abort "${URI[B]}" --migrateuri "tcp://${ADDR[B]}" > "$dir/abort.out" 2>&1 &
    mig_pid=$!
    if mid_migration A abort; then
        t_check "abort: virsh domjobabort on A, half-way" lv domjobabort abort
    else
        t_fail "abort: the migration got half-way (1 Mbit/s link)" "$(lv domjobinfo abort 2>&1)"
    fi
    wait "$mig_pid"
    rc=$?
    out=$(cat "$dir/abort.out")
    status=$(lv qemu-monitor-command abort '{"execute":"query-migrate"}' 2>&1)
    echo "#   libvirt: $out"
    echo "#   source QEMU: $status"
    # QEMU 10.0's migration_cancel() shuts the return-path socket down
    # before it moves the state to "cancelling"; if the migration thread
    # sees that I/O error first, the job ends "failed" with "Channel error:
    # Input/output error" instead of "cancelled" (seen once in CI).
    # Either way it was our domjobabort that ended it: the job was half-way
    # a moment ago (mid_migration) and the link is only slow, not broken.
    if [ "$rc" -ne 0 ] && { [[ $out == *"canceled by client"* ]] || [[ $status == *'"status":"cancelled"'* ]]; }; then
        t_ok "abort: the migration was cancelled (virsh migrate exit $rc)"
    elif [ "$rc" -ne 0 ] && [[ $status == *'"status":"failed"'* ]] &&
         [[ $status == *'Channel error: Input/output error'* ]]; then
        t_ok "abort: the migration was cancelled (virsh migrate exit $rc; QEMU reports the cancel's socket shutdown as failed)"
    else
        t_fail "abort: the migration was cancelled" "exit $rc"
    fi
    t_check "abort: the guest runs on A" running_on A abort
    use B
    t_check "abort: no abort domain on B" bash -c "! '$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[B]}' list --all --name | grep -qx abort"
    throttle A off

    # (a) The destination's domain runs the QEMU without the series.
    use A
    lv dumpxml --migratable abort | sed "s|<emulator>.*</emulator>|<emulator>$STOCK_QEMU</emulator>|" \
        > "$dir/stock.xml"
    out=$(lv migrate --live abort "${URI[B]}" --migrateuri "tcp://${ADDR[B]}" --xml "$dir/stock.xml" 2>&1)
    refused abort "(a) to B with <emulator>$STOCK_QEMU</emulator> (no uintr)" $? "$out"

    # (a2) The destination's QEMU knows uintr but does not give it to the
    # guest, as on a host without the feature: a wrapper adds uintr=off to
    # -cpu.  A second guest, defined with check='none' (with check='full'
    # stock libvirt refuses too, and check cannot change in a migration):
    # libvirt's Prepare phase on B must refuse, naming uintr (the series'
    # enforce check), before A pauses the guest.
    cat > "$dir/qemu-no-uintr" <<WRAP
#!/bin/bash
args=() prev=
for a in "\$@"; do
    orig=\$a
    [ "\$prev" = -cpu ] && a="\$a,uintr=off"
    args+=("\$a")
    prev=\$orig
done
exec $QEMU "\${args[@]}"
WRAP
    chmod 755 "$dir/qemu-no-uintr"
    guest_xml nocheck 30
    sed -i "s|check='full'|check='none'|" "$dir/nocheck.xml"
    use A
    if grep -q "check='none'" "$dir/nocheck.xml" && out=$(lv create "$dir/nocheck.xml" 2>&1) &&
       started nocheck; then
        t_ok "(a2) nocheck (check='none') starts on A, its user-interrupt traffic runs"
        lv dumpxml --migratable nocheck |
            sed "s|<emulator>.*</emulator>|<emulator>$dir/qemu-no-uintr</emulator>|" > "$dir/nouintr.xml"
        out=$(lv migrate --live nocheck "${URI[B]}" --migrateuri "tcp://${ADDR[B]}" \
              --xml "$dir/nouintr.xml" 2>&1)
        refused nocheck "(a2) to B whose QEMU turns uintr off (-cpu ...,uintr=off), check='none'" $? "$out"
        if grep -q 'missing features: uintr' <<< "$out"; then
            t_ok "(a2) the refusal names the missing uintr"
        else
            t_fail "(a2) the refusal names the missing uintr" "$out"
        fi
        use A
        lv destroy nocheck > /dev/null 2>&1
    else
        t_fail "(a2) nocheck (check='none') starts on A, its user-interrupt traffic runs" "$out"
    fi

    # (b) A destination daemon whose CPU map lacks the model.
    cp -r "$CPU_MAP" "$dir/cpu_map-nomodel"
    rm -f "$dir/cpu_map-nomodel/x86_$model"*.xml
    sed -i "/x86_$model/d" "$dir/cpu_map-nomodel/index.xml"
    if start_host C 5e1d0000-0000-4000-8000-0000000100c0 "$dir/cpu_map-nomodel"; then
        use C
        t_check "(b) libvirtd C (namespace B, CPU map without $model) does not list the model" \
            bash -c "! '$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[C]}' cpu-models x86_64 | grep -qx '$model'"
        use A
        out=$(lv migrate --live abort "${URI[C]}" --migrateuri "tcp://${ADDR[C]}" 2>&1)
        refused abort "(b) to C, whose CPU map lacks $model" $? "$out"
        stop_host C
    else
        t_fail "(b) libvirtd C starts with a CPU map without $model"
    fi

    # (c) The destination QEMU killed while the data flows.
    t_check "(c) link A -> B throttled to 1 Mbit/s (tc tbf)" throttle A on
    use A
    lv migrate --live abort "${URI[B]}" --migrateuri "tcp://${ADDR[B]}" > "$dir/kill.out" 2>&1 &
    mig_pid=$!
    qpid=
    mid_migration A abort && qpid=$(dest_qemu B abort)
    if [ -n "$qpid" ]; then
        kill -9 "$qpid"
        echo "#   killed B's QEMU for abort, PID $qpid"
    else
        t_fail "(c) B's QEMU for abort found mid-migration" "$(lv domjobinfo abort 2>&1)"
        lv domjobabort abort
    fi
    wait "$mig_pid"
    refused abort "(c) to B, B's QEMU killed mid-migration" $? "$(cat "$dir/kill.out")"
    throttle A off
    finished A abort 120 "an aborted migration and three refused ones"
else
    t_fail "abort: starts on A, its user-interrupt traffic runs" "$out"
fi

# 3. save/restore, managedsave/start, internal snapshots.
echo "# 3. save and restore, managedsave and start, snapshots"
guest_xml save 10
use A
if out=$(lv create "$dir/save.xml" 2>&1) && started save; then
    sleep 1
    t_check "save: virsh save on A" lv save save "$dir/save.img"
    t_check "save: not running on A any more" bash -c "! '$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[A]}' list --name | grep -qx save"
    sleep 1
    use B
    t_check "save: virsh restore on B" lv restore "$dir/save.img"
    finished B save 90 "virsh save on A and restore on B"
else
    t_fail "save: starts on A" "$out"
fi

guest_xml msave 10
use A
out=
if lv define "$dir/msave.xml" > /dev/null && out=$(lv start msave 2>&1) && started msave; then
    sleep 1
    t_check "msave: virsh managedsave" lv managedsave msave
    t_check "msave: shut off (saved), dominfo shows the managed save" \
        bash -c "'$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[A]}' domstate --reason msave | grep -qx 'shut off (saved)' &&
                 '$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[A]}' dominfo msave | grep -q '^Managed save: *yes'"
    sleep 1
    t_check "msave: virsh start restores it" lv start msave
    finished A msave 90 "managedsave and start"
else
    t_fail "msave: defined and started on A" "${out:-define failed}"
fi
lv undefine --managed-save msave > /dev/null 2>&1

# snapshot NAME [SECONDS]: a persistent guest with a qcow2 disk, started on A.
snapshot_guest() {
    local err=$dir/$1.snapshot-guest.err
    guest_xml "$1" "${2:-10}"
    {
        "$QEMU_IMG" create -q -f qcow2 "$dir/$1.qcow2" 16M && chown nobody "$dir/$1.qcow2"
    } > "$err" 2>&1 || return 1
    sed -i "s|<devices>|<devices>\n    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$dir/$1.qcow2'/><target dev='sda' bus='sata'/></disk>|" \
        "$dir/$1.xml"
    use A
    lv define "$dir/$1.xml" > /dev/null 2> "$err" && lv start "$1" > /dev/null 2> "$err" || return 1
    # The blank disk is on AHCI.  With Debian 12's SeaBIOS 1.16.2 the
    # guest booted only after SeaBIOS's 32 s AHCI timeout (QEMU 10.0
    # reports the failed IDENTIFY PACKET DEVICE with TFES alone); the
    # build's SeaBIOS 1.16.3 boots it at once (scripts/qemu-config.sh).
    # The usual 30 s bound therefore also catches that stall coming back.
    started "$1" || {
        {
            echo "$1 printed no '# seconds=' line in 30 s (a 32 s SeaBIOS AHCI timeout?); domstate: $(lv domstate --reason "$1" 2>&1)"
            echo "its serial log:"
            tail -n 5 "$dir/$1.serial" 2>&1
            echo "its QEMU log on A:"
            tail -n 8 "$dir/A/cache/libvirt/qemu/log/$1.log" 2>&1
        } > "$err"
        return 1
    }
}
# snapshot_guest_error NAME: why snapshot_guest NAME failed.
snapshot_guest_error() {
    cat "$dir/$1.snapshot-guest.err" 2>/dev/null
}
# internal_snapshot NAME SNAP: snapshot-create-as, the snapshot is internal
# and has the running state.
internal_snapshot() {
    t_check "$1: virsh snapshot-create-as $1 $2 (running, qcow2 disk)" lv snapshot-create-as "$1" "$2"
    t_check "$1: $2 is internal, with memory (state running)" bash -c "
        '$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[A]}' snapshot-info '$1' '$2' | grep -q '^Location: *internal' &&
        '$LIBVIRT_PREFIX/bin/virsh' -q -c '${URI[A]}' snapshot-info '$1' '$2' | grep -q '^State: *running'"
}

# rounds NAME: the guest's count of CPU 0's ring-3 pings so far (sent0 in
# uintr_migrate.c), read from guest memory with HMP xp at the address the
# ELF gives (the harness maps memory 1:1).
sent0_addr=0x$(nm "$GUEST_BUILD/uintr_migrate.elf" | awk '$3 == "sent0" { print $1 }')
rounds() {
    local v
    # (HMP ends its lines with \r\n)
    v=$(lv qemu-monitor-command "$1" --hmp "xp /1xw $sent0_addr" | awk '{ print $2 }' | tr -d '\r')
    [[ $v =~ ^0x[0-9a-f]+$ ]] && echo $((v))
}
# state_is NAME STATE: virsh domstate --reason says STATE.
state_is() {
    local got
    got=$(lv domstate --reason "$1" 2>&1)
    [ "$got" = "$2" ] || { echo "domstate --reason: $got"; return 1; }
}

# snapshot-revert of the running guest: libvirt starts a new QEMU and loads
# the snapshot into it with snapshot-load (libvirt-patches 0009: without
# '-incoming defer', which made QEMU 10.0 keep the disks inactive).  The
# guest's ping-pong starts after hold=3 s, so the snapshot is taken 5 s in.
if snapshot_guest snap 25; then
    sleep 5
    before=$(rounds snap)
    internal_snapshot snap s1
    sleep 1
    after=$(rounds snap)
    t_check "snap: the ping-pong runs on after the snapshot (${before:-?} -> ${after:-?} round trips)" \
        test "${after:-0}" -gt "${before:-0}"
    if out=$(lv snapshot-revert snap s1 --paused 2>&1); then
        t_ok "snap: virsh snapshot-revert --paused snap s1 (a new QEMU loads s1)"
        at=$(rounds snap)
        t_check "snap: paused (from snapshot)" state_is snap "paused (from snapshot)"
        t_check "snap: the guest is back at the snapshot: ${at:-?} round trips, >= ${before:-?} (before it) and < ${after:-?} (after it)" \
            test -n "$at" -a "${at:-0}" -ge "${before:-0}" -a "${at:-0}" -lt "${after:-0}"
        lv resume snap > /dev/null
        sleep 1
        on=$(rounds snap)
        t_check "snap: resumed, its counters continue from the snapshot (${at:-?} -> ${on:-?} round trips)" \
            test -n "$at" -a "${on:-0}" -gt "${at:-0}"
        if out=$(lv snapshot-revert snap s1 2>&1); then
            t_ok "snap: virsh snapshot-revert snap s1 (running)"
            t_check "snap: running (from snapshot)" state_is snap "running (from snapshot)"
            t_check "snap: uintrctl check after the revert: exit 0, no rule FAILs" uintrctl_check snap
            finished A snap 90 "snapshot-create-as and two snapshot-reverts"
            t_check "snap: the guest never restarted (one '# seconds=' line in its serial log)" \
                test "$(grep -c '^# seconds=' "$dir/snap.serial")" = 1
        else
            t_fail "snap: virsh snapshot-revert snap s1 (running)" "$out"
            lv destroy snap > /dev/null 2>&1
        fi
    else
        t_fail "snap: virsh snapshot-revert --paused snap s1 (a new QEMU loads s1)" "$out"
        lv destroy snap > /dev/null 2>&1
    fi
else
    t_fail "snap: qcow2 disk, defined and started on A" "$(snapshot_guest_error snap)"
fi
lv undefine --snapshots-metadata snap > /dev/null 2>&1

# QEMU's own loadvm of the snapshot libvirt made.
if snapshot_guest snapvm; then
    sleep 1
    internal_snapshot snapvm s1
    out=$(lv qemu-monitor-command snapvm --hmp 'loadvm s1' 2>&1)
    if [ -z "$out" ] && running_on A snapvm > /dev/null; then
        t_ok "snapvm: HMP loadvm s1 (through libvirt) of libvirt's snapshot, the guest runs"
        finished A snapvm 90 "snapshot-create-as and loadvm"
    else
        t_fail "snapvm: HMP loadvm s1 (through libvirt) of libvirt's snapshot" "$out"
        lv destroy snapvm > /dev/null 2>&1
    fi
else
    t_fail "snapvm: qcow2 disk, defined and started on A" "$(snapshot_guest_error snapvm)"
fi
lv undefine --snapshots-metadata snapvm > /dev/null 2>&1

echo "# $suite: $(( $(date +%s) - t_start )) s"
t_done "$suite"
