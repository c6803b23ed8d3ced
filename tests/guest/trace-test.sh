#!/bin/bash
# Check QEMU's UINTR trace points on a real guest: boot the ring-3
# SENDUIPI ping-pong image (uintr_pingpong.flat, 2 CPUs) with
#   -trace enable=uintr_senduipi -trace enable=uintr_deliver -D FILE
# and check that FILE has exactly the senduipi and deliver lines the
# guest's traffic implies, with plausible fields; then boot it again
# without -trace and check that no uintr_ line appears anywhere.
#
#   trace-test.sh [--qemu PATH] [--build DIR] [--out DIR] [--rounds N]
#
# --qemu and --build default as in run-tests ($QEMU, else the patched
# build; tests/guest/build).  --out (default: a temporary directory) keeps
# the serial logs and trace files.  Prints TAP-style ok/not ok lines and
# ends with one line "trace: N passed, M failed"; exit status 0 only if
# nothing failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
qemu=${QEMU:-/var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64}
build=$here/build
out=
rounds=200

usage() {
	sed -n '2,15s/^# \{0,1\}//p' "$0"
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	--qemu) qemu=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "trace-test: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
done

passed=0 failed=0 n=0
check() {	# check COND-STATUS DESCRIPTION [DETAIL...]
	local st=$1 desc=$2
	shift 2
	n=$((n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $n - $desc"
		passed=$((passed + 1))
	else
		echo "not ok $n - $desc"
		local d
		for d in "$@"; do
			echo "#   $d"
		done
		failed=$((failed + 1))
	fi
}

finish() {
	echo "trace: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

image=$build/uintr_pingpong.flat
if [ ! -x "$qemu" ]; then
	check 1 "QEMU binary exists" "not found or not executable: $qemu (use --qemu or QEMU=)"
	finish
fi
if [ ! -r "$image" ]; then
	check 1 "guest image exists" "missing $image (run make -C $here O=$build)"
	finish
fi
case $rounds in
''|*[!0-9]*|0) echo "trace-test: --rounds must be a positive number" >&2; exit 2 ;;
esac

if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/trace-test.XXXXXX") || exit 2
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out" || exit 2

# The command line run-tests builds for [uintr_pingpong], at smp=2.
base=("$qemu" -machine q35 -accel tcg -cpu qemu64,uintr=on -smp 2 -m 128
      -nodefaults -no-reboot -display none -serial stdio
      -device isa-debug-exit,iobase=0xf4,iosize=0x04
      -kernel "$image" -append "uintr=1 rounds=$rounds")

# run NAME EXTRA-ARGS...: serial log in $out/NAME.log, stderr in
# $out/NAME.err; sets rc.
run() {
	local name=$1
	shift
	echo "# ${base[*]} $*" > "$out/$name.log"
	timeout -k 5 60 "${base[@]}" "$@" < /dev/null >> "$out/$name.log" 2> "$out/$name.err"
	rc=$?
}

# guest_ok LOG: the guest passed (TAP plan, no not ok, isa-debug-exit 0).
guest_ok() {
	local log=$1 plan results
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | tail -n1)
	results=$(grep -cE '^ok [0-9]+' "$log")
	[ "$rc" -eq 1 ] && [ -n "$plan" ] && [ "$plan" -gt 0 ] && [ "$results" -eq "$plan" ] &&
		! grep -qE '^(not ok|Bail out!)' "$log"
}

# ---- traced run
trace=$out/trace.txt
rm -f "$trace"
run traced -trace enable=uintr_senduipi -trace enable=uintr_deliver -D "$trace"
guest_ok "$out/traced.log"
st=$?
check "$st" "traced run: the ping-pong guest passes ($rounds round trips, QEMU exit status $rc)" \
	"serial log: $out/traced.log" "$(grep -E '^(not ok|Bail)' "$out/traced.log" | head -n3)" \
	"$(head -c 400 "$out/traced.err")"

[ -s "$trace" ]
st=$?
check "$st" "traced run: -D $trace received trace output" "stderr: $(head -c 400 "$out/traced.err")"

# Lines look like [PID@SEC.USEC:]uintr_senduipi cpu C index I uv V upid 0xADDR notify N
hex='0x[0-9a-f]+'
sre="^([0-9]+@[0-9.]+:)?uintr_senduipi cpu ([0-9]+) index ([0-9]+) uv ([0-9]+) upid $hex notify ([01])\$"
dre="^([0-9]+@[0-9.]+:)?uintr_deliver cpu ([0-9]+) vector ([0-9]+) handler $hex rsp $hex\$"
touch "$trace"
s_all=$(grep -c 'uintr_senduipi' "$trace")
d_all=$(grep -c 'uintr_deliver' "$trace")
s_good=$(grep -cE "$sre" "$trace")
d_good=$(grep -cE "$dre" "$trace")

[ "$s_all" -gt 0 ] && [ "$s_good" -eq "$s_all" ]
st=$?
check "$st" "uintr_senduipi lines present and well formed: $s_good of $s_all" \
	"first: $(grep -m1 uintr_senduipi "$trace")"
[ "$d_all" -gt 0 ] && [ "$d_good" -eq "$d_all" ]
st=$?
check "$st" "uintr_deliver lines present and well formed: $d_good of $d_all" \
	"first: $(grep -m1 uintr_deliver "$trace")"

# The guest: CPU 0 sends UITT index 0 = UV 1 (ping) to CPU 1, CPU 1 sends
# index 0 = UV 2 (pong) back; one SENDUIPI and one delivery per message.
field() {	# field RE GROUP...: print the groups of matching lines
	sed -nE "s/$1/$2/p" "$trace"
}
s0=$(field "$sre" '\2 \3 \4' | grep -c '^0 0 1$')
s1=$(field "$sre" '\2 \3 \4' | grep -c '^1 0 2$')
d0=$(field "$dre" '\2 \3' | grep -c '^0 2$')
d1=$(field "$dre" '\2 \3' | grep -c '^1 1$')
sn=$(field "$sre" '\5' | grep -c '^1$')
[ "$s0" -eq "$rounds" ] && [ "$s1" -eq "$rounds" ] && [ "$s_all" -eq $((2 * rounds)) ]
st=$?
check "$st" "uintr_senduipi: $rounds from cpu 0 (index 0, uv 1) and $rounds from cpu 1 (index 0, uv 2), no others" \
	"cpu 0 uv 1: $s0, cpu 1 uv 2: $s1, all: $s_all" \
	"$(field "$sre" '\2 \3 \4' | sort | uniq -c | head -n5 | tr '\n' ';')"
[ "$d0" -eq "$rounds" ] && [ "$d1" -eq "$rounds" ] && [ "$d_all" -eq $((2 * rounds)) ]
st=$?
check "$st" "uintr_deliver: $rounds on cpu 0 with vector 2 and $rounds on cpu 1 with vector 1, no others" \
	"cpu 0 vector 2: $d0, cpu 1 vector 1: $d1, all: $d_all" \
	"$(field "$dre" '\2 \3' | sort | uniq -c | head -n5 | tr '\n' ';')"
# Strict ping-pong: each SENDUIPI finds ON clear and notifies.
[ "$sn" -eq "$s_all" ]
st=$?
check "$st" "uintr_senduipi: every SENDUIPI of the strict ping-pong notifies (notify 1): $sn of $s_all"

others=$(grep -E 'uintr_' "$trace" | grep -cvE 'uintr_(senduipi|deliver) ')
[ "$others" -eq 0 ]
st=$?
check "$st" "only the enabled events are traced: $others other uintr_ line(s)" \
	"$(grep -E 'uintr_' "$trace" | grep -vE 'uintr_(senduipi|deliver) ' | head -n3)"

# ---- control run: no -trace
ctl=$out/control-log.txt
rm -f "$ctl"
run control -D "$ctl"
guest_ok "$out/control.log"
st=$?
check "$st" "control run without -trace: the guest passes (QEMU exit status $rc)" \
	"serial log: $out/control.log"
touch "$ctl"
c=$(cat "$ctl" "$out/control.err" "$out/control.log" | grep -c 'uintr_\(senduipi\|deliver\|notification\|recognize\|uiret\) ')
[ "$c" -eq 0 ]
st=$?
check "$st" "control run without -trace: no uintr_ trace line in the -D file, stderr or serial log ($c)"

finish
