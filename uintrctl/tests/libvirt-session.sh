#!/bin/bash
# libvirt-session.sh - uintrctl through a private, unprivileged libvirtd
#
# Starts a session-mode libvirtd as uid nobody in a temporary directory
# (no system daemon, nothing under /etc touched; see the lab notes,
# section 1.3 A), defines small q35/TCG domains, starts them paused and
# runs "uintrctl -c 'qemu:///session?socket=...' cpuid".  This checks the
# libvirt path end to end: virDomainQemuMonitorCommand, QMP error replies
# that libvirt returns with success, the domain XML's uintr policy (with
# a scratch cpu_map that knows uintr, bind-mounted in the daemon's
# private mount namespace), and the exit codes 0, 1, 3, 6 and 7.
#
#   QEMU=...        patched qemu-system-x86_64 (uintr checks; SKIP if missing)
#   STOCK_QEMU=...  QEMU without the UINTR series (exit 6; SKIP if missing)
#   UINTRCTL=...    binary under test
# Needs root (to become nobody), libvirtd, tini, setpriv and unshare.
# Last line: "libvirt-session: N passed, M failed, K skipped".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
UINTRCTL=${UINTRCTL:-$HERE/../build/uintrctl}
QEMU=${QEMU:-/var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64}
STOCK_QEMU=${STOCK_QEMU:-/usr/bin/qemu-system-x86_64}
pass=0 fail=0 skip=0
DIR=$(mktemp -d /tmp/uintrctl-libvirt.XXXXXX)
URI="qemu:///session?socket=$DIR/sock/libvirt-sock"
DPID=

ok()      { pass=$((pass + 1)); echo "ok   $1"; }
bad()     { fail=$((fail + 1)); echo "FAIL $1: $2"; }
skipped() { skip=$((skip + 1)); echo "SKIP $1: $2"; }
finish()  { echo "libvirt-session: $pass passed, $fail failed, $skip skipped"; [ "$fail" = 0 ]; exit; }

virsh_() { virsh -q -c "$URI" "$@"; }

cleanup() {
    if [ -n "$DPID" ]; then
        local d
        for d in $(virsh_ list --name 2>/dev/null); do virsh_ destroy "$d" >/dev/null 2>&1; done
        kill "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

expect_rc() { # NAME WANT ARGS...
    local name=$1 want=$2
    shift 2
    "$UINTRCTL" "$@" >"$DIR/out" 2>"$DIR/err"
    local rc=$?
    if [ "$rc" = "$want" ]; then ok "$name"; return 0; fi
    bad "$name" "exit $rc, want $want"
    sed 's/^/     | /' "$DIR/err" "$DIR/out" | head -10
    return 1
}

expect_grep() { # NAME FILE REGEX
    if grep -Eq -- "$3" "$DIR/$2"; then ok "$1"
    else bad "$1" "$2 does not match /$3/"; sed 's/^/     > /' "$DIR/$2" | head -5; fi
}

for tool in libvirtd virsh tini setpriv; do
    if ! command -v $tool >/dev/null; then
        skipped libvirt-session "no $tool (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients tini)"
        finish
    fi
done
if [ "$(id -u)" != 0 ]; then
    skipped libvirt-session "needs root to run libvirtd as nobody"
    finish
fi

# --- the private daemon ---
mkdir -p "$DIR/sock" "$DIR/home" "$DIR/config/libvirt" "$DIR/cache" "$DIR/run" "$DIR/data"
cat >"$DIR/libvirtd.conf" <<CONF
unix_sock_dir = "$DIR/sock"
unix_sock_rw_perms = "0777"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$DIR/libvirtd.log"
host_uuid = "11111111-2222-3333-4444-0000000000c1"
CONF
printf '# uintrctl test\nstdio_handler = "file"\n' >"$DIR/config/libvirt/qemu.conf"
chmod 755 "$DIR"
# libvirt 9.0's cpu_map does not know uintr (the libvirt series adds
# it); give this daemon a scratch copy that does, bind-mounted in a
# private mount namespace: nothing installed is changed
CPUMAP=/usr/share/libvirt/cpu_map
MAPDIR=$CPUMAP
LAUNCH=""
if ! grep -q "name='uintr'" "$CPUMAP/x86_features.xml" && command -v unshare >/dev/null; then
    cp -r "$CPUMAP" "$DIR/cpu_map"
    sed -i "/<feature name='avx512-vp2intersect'>/i\\
  <feature name='uintr'>\\
    <cpuid eax_in='0x07' ecx_in='0x00' edx='0x00000020'/>\\
  </feature>" "$DIR/cpu_map/x86_features.xml"
    LAUNCH="mount --bind $DIR/cpu_map $CPUMAP &&"
    MAPDIR=$DIR/cpu_map
fi
grep -q "name='uintr'" "$MAPDIR/x86_features.xml" && HAVE_CPUMAP=1 || HAVE_CPUMAP=0
chown -R nobody:nogroup "$DIR"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$DIR/home" \
    XDG_CONFIG_HOME="$DIR/config" XDG_CACHE_HOME="$DIR/cache" \
    XDG_RUNTIME_DIR="$DIR/run" XDG_DATA_HOME="$DIR/data" \
    unshare -m --propagation private sh -c "$LAUNCH exec tini -s -- \
        setpriv --reuid=65534 --regid=65534 --clear-groups \
        libvirtd --config '$DIR/libvirtd.conf'" >"$DIR/libvirtd.out" 2>&1 &
DPID=$!
for i in $(seq 100); do
    [ -S "$DIR/sock/libvirt-sock" ] && virsh_ list >/dev/null 2>&1 && break
    sleep 0.1
done
if ! virsh_ list >/dev/null 2>&1; then
    bad libvirtd-start "private libvirtd did not come up"; tail -5 "$DIR/libvirtd.log"
    finish
fi
ok libvirtd-start

# define_domain NAME EMULATOR VCPUS CPU_XML EXTRA_QEMU_ARGS_XML
define_domain() {
    cat >"$DIR/$1.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>$3</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  $4
  <devices>
    <emulator>$2</emulator>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-L'/><qemu:arg value='/usr/share/seabios'/>
    <qemu:arg value='-L'/><qemu:arg value='/usr/share/qemu'/>
    $5
  </qemu:commandline>
</domain>
XML
    virsh_ define "$DIR/$1.xml" >/dev/null
}

CPU_PLAIN="<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>"
UINTR_ON="<qemu:arg value='-global'/><qemu:arg value='qemu64-x86_64-cpu.uintr=on'/>"

expect_rc unknown-domain-exit-3 3 -c "$URI" cpuid no-such-domain
expect_grep unknown-domain-message err "^uintrctl: error: cannot find domain 'no-such-domain'"

# --- stock QEMU: no uintr property -> 6; defined but stopped -> 7 ---
if [ -x "$STOCK_QEMU" ] && ! "$STOCK_QEMU" -cpu help 2>/dev/null | grep -qw uintr; then
    if define_domain stock "$STOCK_QEMU" 2 "$CPU_PLAIN" ""; then
        expect_rc stopped-domain-exit-7 7 -c "$URI" cpuid stock
        if virsh_ start --paused stock >/dev/null; then
            expect_rc stock-qemu-exit-6 6 -c "$URI" cpuid stock
            expect_grep stock-qemu-message err "Property 'qemu64-x86_64-cpu.uintr' not found"
            expect_rc stock-qemu-json-exit-6 6 -c "$URI" --json cpuid stock
            expect_grep stock-qemu-json out '^\{"error":\{"code":6,'
            virsh_ destroy stock >/dev/null
        else
            bad stock-start "virsh start stock failed"
        fi
    else
        bad stock-define "virsh define failed"
    fi
else
    skipped stock-qemu "no stock QEMU at STOCK_QEMU=$STOCK_QEMU"
fi

# --- patched QEMU ---
if [ -x "$QEMU" ] && "$QEMU" -cpu help 2>/dev/null | grep -qw uintr; then
    # libvirt 9.0's cpu_map has no uintr, so the XML cannot name it; the
    # property is turned on behind libvirt's back with -global.  (When
    # the daemon's cpu_map knows uintr, libvirt writes what QEMU enabled
    # into the live XML, so the live policy may read "require".)
    if define_domain pon "$QEMU" 2 "$CPU_PLAIN" "$UINTR_ON" &&
       virsh_ start --paused pon >/dev/null; then
        expect_rc patched-on-exit-0 0 -c "$URI" cpuid pon
        expect_grep patched-on-header out "^domain pon \(qemu:///session\?socket=$DIR/sock/libvirt-sock\): cpu mode=custom model=qemu64 check=[a-z]+, uintr policy=(none \(not requested\)|require)$"
        # the persistent config still has what was defined (libvirt may
        # rewrite check= in the live XML after start)
        expect_rc patched-on-inactive 0 -c "$URI" --inactive cpuid pon
        expect_grep patched-on-inactive-header out "check=none, uintr policy=none"
        expect_grep patched-on-enabled out '^1 +/machine/[^ ]+ +enabled +1$'
        expect_rc patched-on-expect-off-exit-1 1 -c "$URI" --expect off cpuid pon
        expect_rc patched-on-json 0 -c "$URI" --json --expect on cpuid pon
        expect_grep patched-on-json-doc out '"source":\{"type":"libvirt","uri":"qemu:///session\?socket=[^"]+","domain":"pon","xml":"live"\}'
        virsh_ destroy pon >/dev/null
    else
        bad patched-on-start "could not define/start domain pon"
    fi
    if define_domain poff "$QEMU" 1 "$CPU_PLAIN" "" &&
       virsh_ start --paused poff >/dev/null; then
        expect_rc patched-off-exit-0 0 -c "$URI" cpuid poff
        expect_grep patched-off-disabled out '^0 +/machine/[^ ]+ +disabled +0$'
        expect_rc patched-off-expect-on-exit-1 1 -c "$URI" --expect on cpuid poff
        virsh_ destroy poff >/dev/null
    else
        bad patched-off-start "could not define/start domain poff"
    fi
    if [ "$HAVE_CPUMAP" = 1 ]; then
        # the XML asks; libvirt passes -cpu qemu64,uintr=on / uintr=off
        cpu_with() {
            echo "<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model><feature policy='$1' name='uintr'/></cpu>"
        }
        if define_domain preq "$QEMU" 2 "$(cpu_with require)" "" &&
           virsh_ start --paused preq >/dev/null; then
            expect_rc xml-require-exit-0 0 -c "$URI" cpuid preq
            expect_grep xml-require-header out "cpu mode=custom model=qemu64 check=full, uintr policy=require$"
            expect_grep xml-require-enabled out '^1 +/machine/[^ ]+ +enabled +1$'
            # change the persistent config only: it now forbids uintr,
            # which the running vCPUs still have
            virsh_ dumpxml --inactive preq |
                sed "s/policy='require' name='uintr'/policy='forbid' name='uintr'/" >"$DIR/preq2.xml"
            virsh_ define "$DIR/preq2.xml" >/dev/null || bad xml-redefine "virsh define failed"
            expect_rc xml-live-still-ok 0 -c "$URI" cpuid preq
            expect_rc xml-inactive-forbid-mismatch-exit-1 1 -c "$URI" --inactive cpuid preq
            expect_grep xml-mismatch-message err "^uintrctl: mismatch: the domain XML \\(policy='forbid'\\) asks for uintr off but vCPU 0 has it enabled$"
            expect_rc xml-inactive-json 1 -c "$URI" --inactive --json cpuid preq
            expect_grep xml-inactive-json-doc out '"uintr":\{"policy":"forbid","policy-defaulted":false,"requested":"off","expect":"none","expected":"off"\}'
            virsh_ destroy preq >/dev/null
        else
            bad xml-require-start "could not define/start domain preq"
        fi
        if define_domain pdis "$QEMU" 1 "$(cpu_with disable)" "" &&
           virsh_ start --paused pdis >/dev/null; then
            expect_rc xml-disable-exit-0 0 -c "$URI" cpuid pdis
            expect_grep xml-disable-disabled out '^0 +/machine/[^ ]+ +disabled +0$'
            expect_rc xml-disable-expect-on-exit-1 1 -c "$URI" --expect on cpuid pdis
            virsh_ destroy pdis >/dev/null
        else
            bad xml-disable-start "could not define/start domain pdis"
        fi
    else
        skipped xml-policy "no cpu_map with uintr and no unshare to provide one"
    fi
else
    skipped patched-qemu "no patched QEMU at QEMU=$QEMU"
fi

finish
