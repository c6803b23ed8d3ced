#!/bin/bash
# libvirt-session.sh - uintrctl through a private, unprivileged libvirtd
#
# Starts the project's private session libvirtd (tests/lib/libvirtd.sh: uid
# nobody, a temporary directory, the series' cpu_map bind-mounted in its own
# mount namespace, nothing under /etc or /usr touched), defines small q35/TCG
# domains, starts them paused and runs "uintrctl -c URI cpuid".  This checks
# the libvirt path end to end: virDomainQemuMonitorCommand, QMP error replies
# that libvirt returns with success, the domain XML's uintr policy (which
# the cpu_map of the libvirt series knows), without one what the CPU model
# includes (SapphireRapids-UINTR: on, qemu64: off, an unknown model:
# nothing; virConnectBaselineCPU), and the exit codes 0, 1, 3, 6 and 7.
#
#   CPU_MAP=...     cpu_map with the libvirt series (make cpu-map; required)
#   QEMU=...        patched qemu-system-x86_64 (required)
#   STOCK_QEMU=...  QEMU without the UINTR series (make qemu-stock)
#                   (required: exit 6)
#   UINTRCTL=...    binary under test
# Needs root (to run the daemon as nobody; SKIP otherwise), libvirtd, tini,
# setpriv and unshare (scripts/deps.sh).
# Last line: "libvirt-session: N passed, M failed, K skipped".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../tests/lib/libvirtd.sh"
UINTRCTL=${UINTRCTL:-$HERE/../build/uintrctl}
QEMU=${QEMU:-/var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64}
STOCK_QEMU=${STOCK_QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu-stock/prefix/bin/qemu-system-x86_64}
CPU_MAP=${CPU_MAP:-}
pass=0 fail=0 skip=0
DIR=

ok()      { pass=$((pass + 1)); echo "ok   $1"; }
bad()     { fail=$((fail + 1)); echo "FAIL $1: $2"; }
skipped() { skip=$((skip + 1)); echo "SKIP $1: $2"; }
finish()  { echo "libvirt-session: $pass passed, $fail failed, $skip skipped"; [ "$fail" = 0 ]; exit; }

cleanup() {
    libvirtd_stop
    [ -z "$DIR" ] || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- what the test cannot do without: a failure, not a skip ---
if [ -z "$CPU_MAP" ]; then
    bad cpu-map "CPU_MAP is not set (make cpu-map; the top-level Makefile exports it)"
    finish
fi
if ! grep -q "<feature name='uintr'[ >]" "$CPU_MAP/x86_features.xml" 2>/dev/null; then
    bad cpu-map "CPU_MAP=$CPU_MAP has no x86_features.xml that knows uintr (make cpu-map)"
    finish
fi
CPU_MAP=$(cd "$CPU_MAP" && pwd)
if [ "$(id -u)" != 0 ]; then
    skipped libvirt-session "needs root to run libvirtd as nobody"
    finish
fi

DIR=$(mktemp -d /tmp/uintrctl-libvirt.XXXXXX)
chmod 755 "$DIR"        # uid nobody must reach $DIR/d
if ! libvirtd_start "$DIR/d" 11111111-2222-3333-4444-0000000000c1 "$CPU_MAP"; then
    bad libvirtd-start "private libvirtd did not come up"
    finish
fi
ok libvirtd-start
URI=$LIBVIRTD_URI
URI_RE=$(printf '%s' "$URI" | sed 's/[][\.*^$?+(){}|/]/\\&/g')

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

# expect_count NAME FILE REGEX N: exactly N lines of FILE match
expect_count() {
    local n
    n=$(grep -Ec -- "$3" "$DIR/$2")
    if [ "$n" = "$4" ]; then ok "$1"
    else bad "$1" "$n lines of $2 match /$3/, want $4"; sed 's/^/     > /' "$DIR/$2" | head -8; fi
}

# expect_cpu_arg NAME DOMAIN REGEX: the -cpu argument libvirt gave QEMU
# (last start, from the domain's log) is exactly REGEX
expect_cpu_arg() {
    local arg
    arg=$(grep -o -- '-cpu [^ ]*' "$DIR/d/cache/libvirt/qemu/log/$2.log" | tail -1)
    arg=${arg#-cpu }
    if [[ $arg =~ ^$3$ ]]; then ok "$1"
    else bad "$1" "QEMU got -cpu '$arg', want /^$3\$/"; fi
}

# define_domain NAME EMULATOR VCPUS CPU_XML EXTRA_QEMU_ARGS_XML
# (both QEMUs find their firmware themselves: no -L)
define_domain() {
    local extra=
    [ -z "$5" ] || extra="<qemu:commandline>$5</qemu:commandline>"
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
  $extra
</domain>
XML
    lv define "$DIR/$1.xml" >/dev/null
}

# cpu_with [POLICY]: a qemu64 <cpu>, with <feature policy=POLICY name='uintr'/>
cpu_with() {
    local feature=
    [ -z "${1:-}" ] || feature="<feature policy='$1' name='uintr'/>"
    echo "<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model>$feature</cpu>"
}
UINTR_GLOBAL="<qemu:arg value='-global'/><qemu:arg value='qemu64-x86_64-cpu.uintr=on'/>"

expect_rc unknown-domain-exit-3 3 -c "$URI" cpuid no-such-domain
expect_grep unknown-domain-message err "^uintrctl: error: cannot find domain 'no-such-domain'"

# --- stock QEMU: no uintr property -> 6; defined but stopped -> 7 ---
if [ ! -x "$STOCK_QEMU" ]; then
    bad stock-qemu "no stock QEMU at STOCK_QEMU=$STOCK_QEMU (make qemu-stock builds it)"
elif "$STOCK_QEMU" -cpu help 2>/dev/null | grep -qw uintr; then
    bad stock-qemu "STOCK_QEMU=$STOCK_QEMU knows uintr: not a QEMU without the series"
elif ! define_domain stock "$STOCK_QEMU" 2 "$(cpu_with)" ""; then
    bad stock-define "virsh define failed"
else
    expect_rc stopped-domain-exit-7 7 -c "$URI" cpuid stock
    expect_grep stopped-domain-message err "not running"
    if lv start --paused stock >/dev/null; then
        expect_rc stock-qemu-exit-6 6 -c "$URI" cpuid stock
        expect_grep stock-qemu-message err "Property 'qemu64-x86_64-cpu.uintr' not found"
        expect_rc stock-qemu-json-exit-6 6 -c "$URI" --json cpuid stock
        expect_grep stock-qemu-json out '^\{"error":\{"code":6,'
        lv destroy stock >/dev/null
    else
        bad stock-start "virsh start stock failed"
    fi
fi

# --- patched QEMU ---
if [ ! -x "$QEMU" ]; then
    bad patched-qemu "no patched QEMU at QEMU=$QEMU (make qemu)"
    finish
fi
if ! "$QEMU" -cpu help 2>/dev/null | grep -qw uintr; then
    bad patched-qemu "QEMU=$QEMU does not know uintr"
    finish
fi

# The XML asks: libvirt passes -cpu qemu64,uintr=on, and under TCG writes
# check='full' into the live XML.
if define_domain pon "$QEMU" 2 "$(cpu_with require)" "" &&
   lv start --paused pon >/dev/null; then
    expect_cpu_arg xml-require-cmdline pon 'qemu64(,[^ ]*)?,uintr=on'
    expect_rc xml-require-exit-0 0 -c "$URI" cpuid pon
    expect_grep xml-require-header out "^domain pon \($URI_RE\): cpu mode=custom model=qemu64 check=full, uintr policy=require$"
    expect_count xml-require-enabled out '^[01] +/machine/[^ ]+ +enabled +1$' 2
    expect_rc xml-require-inactive 0 -c "$URI" --inactive cpuid pon
    expect_grep xml-require-inactive-header out "check=none, uintr policy=require$"
    expect_rc xml-require-expect-off-exit-1 1 -c "$URI" --expect off cpuid pon
    expect_rc xml-require-json 0 -c "$URI" --json --expect on cpuid pon
    expect_grep xml-require-json-doc out '"source":\{"type":"libvirt","uri":"qemu:///session\?socket=[^"]+","domain":"pon","xml":"live"\}'
    # change the persistent config only: it now forbids uintr, which the
    # running vCPUs still have
    lv dumpxml --inactive pon |
        sed "s/policy='require' name='uintr'/policy='forbid' name='uintr'/" >"$DIR/pon2.xml"
    expect_grep xml-redefine-forbid pon2.xml "policy='forbid' name='uintr'"
    lv define "$DIR/pon2.xml" >/dev/null || bad xml-redefine "virsh define failed"
    expect_rc xml-live-still-ok 0 -c "$URI" cpuid pon
    expect_rc xml-inactive-forbid-mismatch-exit-1 1 -c "$URI" --inactive cpuid pon
    expect_grep xml-mismatch-message err "^uintrctl: mismatch: the domain XML \\(policy='forbid'\\) asks for uintr off but vCPU 0 has it enabled$"
    expect_rc xml-inactive-json 1 -c "$URI" --inactive --json cpuid pon
    expect_grep xml-inactive-json-doc out '"uintr":\{"policy":"forbid","policy-defaulted":false,"requested":"off","expect":"none","expected":"off","expected-from":"feature","model":null\}'
    lv destroy pon >/dev/null
else
    bad xml-require-start "could not define/start domain pon"
fi

# Behind libvirt's back: the XML says nothing, -global turns the property
# on.  Once QEMU runs, libvirt reads the vCPUs' features back into the live
# XML (check='full', uintr required), so the live view agrees with the
# vCPUs; the persistent config, which uintrctl reads with --inactive, still
# did not ask, and its model qemu64 does not include uintr (libvirt says
# so through virConnectBaselineCPU): uintrctl expects off, from the model,
# and reports the mismatch.
if define_domain pglobal "$QEMU" 2 "$(cpu_with)" "$UINTR_GLOBAL" &&
   lv start --paused pglobal >/dev/null; then
    expect_cpu_arg global-cmdline pglobal 'qemu64'
    expect_grep global-cmdline-global "d/cache/libvirt/qemu/log/pglobal.log" "-global qemu64-x86_64-cpu\.uintr=on"
    expect_rc global-exit-0 0 -c "$URI" cpuid pglobal
    expect_grep global-live-header out "^domain pglobal \($URI_RE\): cpu mode=custom model=qemu64 check=full, uintr policy=require$"
    expect_count global-enabled out '^[01] +/machine/[^ ]+ +enabled +1$' 2
    expect_rc global-inactive-model-exit-1 1 -c "$URI" --inactive cpuid pglobal
    expect_grep global-inactive-header out "^domain pglobal \($URI_RE\): cpu mode=custom model=qemu64 check=none, uintr policy=none, from CPU model qemu64 \(libvirt: does not include uintr\): expect off$"
    expect_count global-inactive-enabled out '^[01] +/machine/[^ ]+ +enabled +1$' 2
    expect_grep global-inactive-model-message err "^uintrctl: mismatch: the domain XML's CPU model 'qemu64' \(which does not include uintr; the XML has no <feature name='uintr'>\) asks for uintr off but vCPU 0 has it enabled$"
    expect_rc global-inactive-expect-off-exit-1 1 -c "$URI" --inactive --expect off cpuid pglobal
    expect_grep global-inactive-expect-off-message err "^uintrctl: mismatch: "
    expect_rc global-inactive-expect-on-exit-1 1 -c "$URI" --inactive --expect on cpuid pglobal
    expect_grep global-inactive-expect-on-message err "^uintrctl: mismatch: the domain XML's CPU model 'qemu64' "
    expect_rc global-inactive-json 1 -c "$URI" --inactive --json cpuid pglobal
    expect_grep global-inactive-json-doc out '"xml":"inactive"\}.*"uintr":\{"policy":null,"policy-defaulted":false,"requested":"absent","expect":"none","expected":"off","expected-from":"model","model":\{"name":"qemu64","includes":false,"error":null\}\}.*"result":\{"ok":false,"code":1,'
    lv destroy pglobal >/dev/null
else
    bad global-start "could not define/start domain pglobal"
fi

# Neither the XML nor the command line: off, which the model qemu64 says
# too.
if define_domain poff "$QEMU" 1 "$(cpu_with)" "" &&
   lv start --paused poff >/dev/null; then
    expect_rc patched-off-exit-0 0 -c "$URI" cpuid poff
    expect_grep patched-off-header out "check=full, uintr policy=none, from CPU model qemu64 \(libvirt: does not include uintr\): expect off$"
    expect_count patched-off-disabled out '^0 +/machine/[^ ]+ +disabled +0$' 1
    expect_rc patched-off-json 0 -c "$URI" --json cpuid poff
    expect_grep patched-off-json-doc out '"requested":"absent","expect":"none","expected":"off","expected-from":"model","model":\{"name":"qemu64","includes":false,"error":null\}\}'
    expect_rc patched-off-expect-on-exit-1 1 -c "$URI" --expect on cpuid poff
    lv destroy poff >/dev/null
else
    bad patched-off-start "could not define/start domain poff"
fi

# The XML disables it: libvirt passes uintr=off.
if define_domain pdis "$QEMU" 1 "$(cpu_with disable)" "" &&
   lv start --paused pdis >/dev/null; then
    expect_cpu_arg xml-disable-cmdline pdis 'qemu64(,[^ ]*)?,uintr=off'
    expect_rc xml-disable-exit-0 0 -c "$URI" cpuid pdis
    expect_grep xml-disable-header out "uintr policy=disable$"
    expect_count xml-disable-disabled out '^0 +/machine/[^ ]+ +disabled +0$' 1
    expect_rc xml-disable-expect-on-exit-1 1 -c "$URI" --expect on cpuid pdis
    lv destroy pdis >/dev/null
else
    bad xml-disable-start "could not define/start domain pdis"
fi

# --- the CPU model decides when the XML has no uintr <feature> ---
# SapphireRapids-UINTR (the series' cpu_map) includes uintr: libvirt passes
# -cpu SapphireRapids-UINTR alone, and uintrctl learns from libvirt
# (virConnectBaselineCPU) that the model means uintr on.
model_cpu() { # MODEL [POLICY]: <cpu> on MODEL, check='full', fallback forbidden
    local feature=
    [ -z "${2:-}" ] || feature="<feature policy='$2' name='uintr'/>"
    echo "<cpu mode='custom' match='exact' check='full'><model fallback='forbid'>$1</model>$feature</cpu>"
}
MODEL_ON_HEADER="uintr policy=none, from CPU model SapphireRapids-UINTR \(libvirt: includes uintr\): expect on$"
if define_domain pmodel "$QEMU" 2 "$(model_cpu SapphireRapids-UINTR)" "" &&
   lv start --paused pmodel >/dev/null; then
    expect_cpu_arg model-cmdline pmodel 'SapphireRapids-UINTR'
    expect_rc model-exit-0 0 -c "$URI" cpuid pmodel
    expect_grep model-header out "^domain pmodel \($URI_RE\): cpu mode=custom model=SapphireRapids-UINTR check=full, $MODEL_ON_HEADER"
    expect_count model-enabled out '^[01] +/machine/[^ ]+ +enabled +1$' 2
    expect_rc model-json 0 -c "$URI" --json cpuid pmodel
    expect_grep model-json-doc out '"uintr":\{"policy":null,"policy-defaulted":false,"requested":"absent","expect":"none","expected":"on","expected-from":"model","model":\{"name":"SapphireRapids-UINTR","includes":true,"error":null\}\}'
    expect_grep model-json-result out '"result":\{"ok":true,"code":0,"name":"ok","message":"uintr is enabled on all 2 vCPUs, as expected"\}'
    expect_rc model-inactive-exit-0 0 -c "$URI" --inactive cpuid pmodel
    expect_grep model-inactive-header out "$MODEL_ON_HEADER"
    # must fail: the operator expects off where the model means on
    expect_rc model-expect-off-exit-1 1 -c "$URI" --expect off cpuid pmodel
    expect_grep model-expect-off-message err "^uintrctl: mismatch: --expect asks for uintr off but vCPU 0 has it enabled$"
    expect_rc model-expect-off-json 1 -c "$URI" --json --expect off cpuid pmodel
    expect_grep model-expect-off-json-doc out '"expect":"off","expected":"off","expected-from":"expect","model":\{"name":"SapphireRapids-UINTR","includes":true,"error":null\}\}.*"result":\{"ok":false,"code":1,'
    # a persistent config whose model libvirt does not know: the model
    # cannot be expanded; uintrctl says so and expects nothing from it
    lv dumpxml --inactive pmodel |
        sed "s/>SapphireRapids-UINTR</>NoSuchModel</" >"$DIR/pmodel2.xml"
    if lv define "$DIR/pmodel2.xml" >/dev/null; then
        expect_rc model-unknown-exit-0 0 -c "$URI" --inactive cpuid pmodel
        expect_grep model-unknown-header out "model=NoSuchModel check=full, uintr policy=none \(not requested\); cannot tell whether CPU model NoSuchModel includes uintr \(virConnectBaselineCPU failed: .*NoSuchModel.*\): nothing expected$"
        expect_count model-unknown-enabled out '^[01] +/machine/[^ ]+ +enabled +1$' 2
        expect_rc model-unknown-json 0 -c "$URI" --inactive --json cpuid pmodel
        expect_grep model-unknown-json-doc out '"expected":"none","expected-from":"none","model":\{"name":"NoSuchModel","includes":null,"error":"virConnectBaselineCPU failed: [^"]*NoSuchModel[^"]*"\}\}'
        expect_rc model-unknown-expect-off-exit-1 1 -c "$URI" --inactive --expect off cpuid pmodel
    else
        bad model-unknown-define "virsh define with model NoSuchModel failed"
    fi
    lv destroy pmodel >/dev/null
else
    bad model-start "could not define/start domain pmodel"
fi

# An explicit policy wins over the model: disable on SapphireRapids-UINTR.
if define_domain pmodeldis "$QEMU" 1 "$(model_cpu SapphireRapids-UINTR disable)" "" &&
   lv start --paused pmodeldis >/dev/null; then
    expect_cpu_arg model-disable-cmdline pmodeldis 'SapphireRapids-UINTR,uintr=off'
    expect_rc model-disable-exit-0 0 -c "$URI" cpuid pmodeldis
    expect_grep model-disable-header out "model=SapphireRapids-UINTR check=full, uintr policy=disable$"
    expect_count model-disable-disabled out '^0 +/machine/[^ ]+ +disabled +0$' 1
    expect_rc model-disable-json 0 -c "$URI" --json cpuid pmodeldis
    expect_grep model-disable-json-doc out '"requested":"off","expect":"none","expected":"off","expected-from":"feature","model":null\}'
    expect_rc model-disable-expect-on-exit-1 1 -c "$URI" --expect on cpuid pmodeldis
    lv destroy pmodeldis >/dev/null
else
    bad model-disable-start "could not define/start domain pmodeldis"
fi

# Behind libvirt's back again: the model says on, -global turns uintr off.
# The series' libvirt marks uintr enforce='yes' in its CPU map, so even with
# check='none' the domain does not start without it, and says why (the
# mismatch uintrctl would report is covered over QMP and in the unit tests).
if define_domain pmodelglobal "$QEMU" 1 "$(model_cpu SapphireRapids-UINTR | sed "s/check='full'/check='none'/")" \
        "<qemu:arg value='-global'/><qemu:arg value='SapphireRapids-UINTR-x86_64-cpu.uintr=off'/>"; then
    if lv start --paused pmodelglobal > "$DIR/pmodelglobal.out" 2>&1; then
        bad model-global-refused "libvirt started pmodelglobal without uintr (check='none')"
        lv destroy pmodelglobal >/dev/null
    elif grep -q "missing features: uintr" "$DIR/pmodelglobal.out" &&
         [ "$(lv domstate pmodelglobal)" = "shut off" ]; then
        ok model-global-refused
    else
        bad model-global-refused "start failed without naming uintr: $(cat "$DIR/pmodelglobal.out")"
    fi
else
    bad model-global-define "could not define domain pmodelglobal"
fi

finish
