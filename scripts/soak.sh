#!/bin/bash
# Soaks (make soak; not part of make check): long runs of the UINTR
# emulation under load, every interrupt counted.
#
#   scripts/soak.sh [alltoall] [fuzz] [migrate]      (default: all three)
#
#   alltoall  tests/guest/tests/uintr_alltoall.c: 4 vCPUs under
#             -accel tcg,thread=multi send SOAK_COUNT (10^6) user
#             interrupts all-to-all in ring 3; every (sender, receiver,
#             vector) must have sent == received, no duplicate; then the
#             same with thread=single (SOAK_SINGLE_COUNT, 10^6), and in
#             x2APIC mode with thread=multi (SOAK_X2_COUNT, 10^6)
#   fuzz      tests/guest/tests/uintr_fuzz.c: FUZZ_ITERATIONS (2x10^5)
#             random SENDUIPI / notification / delivery / WRMSR operations
#             checked against a model of the architecture, with seed
#             FUZZ_SEED (default: drawn here from /dev/urandom and printed;
#             replay with FUZZ_SEED=S) in xAPIC mode under thread=multi
#             with 2 vCPUs, then FUZZ_SEED+1 in x2APIC mode on an LA57 CPU
#             under thread=single; at least 10^5 SENDUIPIs in all
#   migrate   tests/migration/migrate-loop.py: SOAK_MIGRATIONS (100) live
#             migrations between QEMU processes of the uintr_migrate guest
#             (2 vCPUs ping-ponging user interrupts, thread=multi,
#             SapphireRapids-UINTR, x2APIC, XSAVES), 0 lost; the guest runs
#             SOAK_MIGRATE_SECONDS (1.5 s per migration: 100 took ~80 s on
#             a loaded 2-core host)
#
# Every QEMU run must end through isa-debug-exit with success (exit status
# 1), before its host timeout, with a TAP plan, as many results as planned,
# no "not ok" and no "Bail out!".  Logs and a summary (soak.log) go to
# $SOAK_OUT (default build/soak).  Ends with "soak: N passed, M failed";
# exit status 0 only if nothing failed.
#
# Environment: QEMU, GUEST_BUILD (default build/guest, built here with
# make -C tests/guest), SOAK_COUNT, SOAK_SINGLE_COUNT, SOAK_X2_COUNT,
# FUZZ_ITERATIONS, FUZZ_SEED, SOAK_MIGRATIONS, SOAK_MIGRATE_SECONDS, SOAK_OUT.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
QEMU=${QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu/prefix/bin/qemu-system-x86_64}
GUEST_BUILD=${GUEST_BUILD:-$top/build/guest}
OUT=${SOAK_OUT:-$top/build/soak}
SOAK_COUNT=${SOAK_COUNT:-1000000}
SOAK_SINGLE_COUNT=${SOAK_SINGLE_COUNT:-1000000}
SOAK_X2_COUNT=${SOAK_X2_COUNT:-1000000}
FUZZ_ITERATIONS=${FUZZ_ITERATIONS:-200000}
SOAK_MIGRATIONS=${SOAK_MIGRATIONS:-100}
if [ -z "${FUZZ_SEED:-}" ]; then
	FUZZ_SEED=$(( $(od -An -N4 -tu4 /dev/urandom) + 1 ))
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(alltoall fuzz migrate)

mkdir -p "$OUT"
summary=$OUT/soak.log
: > "$summary"
passed=0 failed=0 n=0

say() {
	echo "$*" | tee -a "$summary"
}

check() {	# check STATUS MESSAGE
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		say "ok $n - $2"
		passed=$((passed + 1))
	else
		say "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

child=
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

run() {	# in the background, so that a signal is handled at once
	"$@" &
	child=$!
	wait "$child"
	local rc=$?
	child=
	return $rc
}

# tap_ok LOG: plan present, results == plan, no "not ok", no Bail out.
tap_ok() {
	local log=$1 plan oks nots
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | tail -1)
	oks=$(grep -c '^ok ' "$log")
	nots=$(grep -c '^not ok ' "$log")
	tap_desc="plan ${plan:-none}, $oks ok, $nots not ok$(grep -q '^Bail out!' "$log" && echo ', Bail out!')"
	[ -n "$plan" ] && [ "$plan" -gt 0 ] && [ "$nots" = 0 ] && [ "$oks" = "$plan" ] &&
		! grep -q '^Bail out!' "$log"
}

# guest NAME TIMEOUT ACCEL CPU SMP APPEND IMAGE: one QEMU run, checked.
guest() {
	local name=$1 timeout=$2 accel=$3 cpu=$4 smp=$5 append=$6 image=$GUEST_BUILD/$7
	local log=$OUT/$name.log rc t0 t1 wall
	local cmd=("$QEMU" -machine q35 -accel "$accel" -cpu "$cpu" -smp "$smp" -m 128
		   -nodefaults -no-reboot -display none -serial stdio
		   -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$image" -append "$append")
	echo "# ${cmd[*]}" > "$log"
	t0=$(date +%s.%N)
	run timeout -k 5 "$timeout" nice "${cmd[@]}" < /dev/null >> "$log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	echo "# wall time ${wall} s, QEMU exit status $rc" >> "$log"
	grep '^# ' "$log" | grep -v '^# /' | sed 's/^/#   /' | tee -a "$summary"
	say "# $name: ${wall} s wall time, QEMU exit status $rc, log $log"
	[ "$rc" = 1 ]
	check $? "$name [$accel, -cpu $cpu, -smp $smp, $append]: QEMU exits through isa-debug-exit with success (status $rc; 124/137: host timeout ${timeout}s; other: crash or assertion)"
	tap_ok "$log"
	check $? "$name: the guest reached its final TAP line with every check passed: $tap_desc"
	grep -E '^(not ok|Bail out!)' "$log" | sed 's/^/#   guest: /' | tee -a "$summary"
}

say "# soak: QEMU $QEMU (mtime $(stat -c %y "$QEMU" 2>/dev/null)), images $GUEST_BUILD, logs $OUT"
say "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -x "$QEMU" ]; then
	check 1 "QEMU $QEMU exists (make qemu)"
	say "soak: $passed passed, $failed failed"
	exit 1
fi
if ! make --no-print-directory -s -C "$top/tests/guest" O="$GUEST_BUILD" >> "$summary" 2>&1; then
	check 1 "guest images build (make -C tests/guest O=$GUEST_BUILD)"
	say "soak: $passed passed, $failed failed"
	exit 1
fi
t_start=$(date +%s)

for part in "${parts[@]}"; do
	case $part in
	alltoall)
		say "# == alltoall: $SOAK_COUNT user interrupts, 4 vCPUs, thread=multi"
		guest alltoall-multi 3600 tcg,thread=multi qemu64,uintr=on 4 \
			"uintr=1 apic=xapic count=$SOAK_COUNT" uintr_alltoall.flat
		say "# == alltoall: $SOAK_SINGLE_COUNT user interrupts, 4 vCPUs, thread=single"
		guest alltoall-single 1800 tcg,thread=single qemu64,uintr=on 4 \
			"uintr=1 apic=xapic count=$SOAK_SINGLE_COUNT" uintr_alltoall.flat
		say "# == alltoall: $SOAK_X2_COUNT user interrupts, 4 vCPUs, thread=multi, x2APIC"
		guest alltoall-multi-x2 1800 tcg,thread=multi qemu64,uintr=on,x2apic=on 4 \
			"uintr=1 apic=x2 count=$SOAK_X2_COUNT" uintr_alltoall.flat
		;;
	fuzz)
		say "# == fuzz: seeds $FUZZ_SEED and $((FUZZ_SEED + 1)) (replay: FUZZ_SEED=$FUZZ_SEED $0 fuzz)"
		guest fuzz-multi-xapic 1200 tcg,thread=multi qemu64,uintr=on 2 \
			"uintr=1 apic=xapic iterations=$FUZZ_ITERATIONS seed=$FUZZ_SEED" uintr_fuzz.flat
		guest fuzz-single-x2-la57 1200 tcg,thread=single qemu64,uintr=on,x2apic=on,la57=on 2 \
			"uintr=1 apic=x2 iterations=$FUZZ_ITERATIONS seed=$((FUZZ_SEED + 1))" uintr_fuzz.flat
		sends=$(cat "$OUT"/fuzz-multi-xapic.log "$OUT"/fuzz-single-x2-la57.log |
			sed -n 's/^# seed [0-9]*: [0-9]* operations in [0-9]* ms: \([0-9]*\) SENDUIPI.*/\1/p' |
			awk '{ s += $1 } END { print s + 0 }')
		[ "$sends" -ge 100000 ]
		check $? "fuzz: $sends SENDUIPIs in all (want >= 100000)"
		;;
	migrate)
		name=migrate
		dir=$OUT/migrate
		rm -rf "$dir"
		mkdir -p "$dir"
		log=$OUT/migrate.log
		: > "$log"
		secs=${SOAK_MIGRATE_SECONDS:-$((SOAK_MIGRATIONS * 3 / 2))}
		say "# == migrate: $SOAK_MIGRATIONS live migrations of uintr_migrate (guest runs $secs s)"
		t0=$(date +%s.%N)
		run nice "$PY" "$top/tests/migration/migrate-loop.py" --qemu "$QEMU" \
			--times "$SOAK_MIGRATIONS" --dir "$dir" --mode unix --interval 0.2 \
			--timeout $((secs + 60)) -- \
			-machine q35 -accel tcg,thread=multi -smp 2 -m 128 -display none -nodefaults \
			-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-chardev "file,id=ser,path=$log,append=on" -serial chardev:ser \
			-kernel "$GUEST_BUILD/uintr_migrate.flat" -cpu SapphireRapids-UINTR \
			-append "seconds=$secs hold=5 xsaves=1 apic=x2" > "$dir/loop.out" 2>&1
		rc=$?
		t1=$(date +%s.%N)
		cp "$dir/loop.out" "$OUT/migrate-loop.out"
		awk '/^migration [0-9]+: completed in/ {
			t = $5; d = $(NF - 1); k++; st += t; sd += d
			if (k == 1 || t < tmin) tmin = t; if (t > tmax) tmax = t; if (d > dmax) dmax = d }
		     END { if (k) printf "#   %d live migrations: %d-%d ms each (avg %d), downtime avg %.1f max %d ms\n",
			k, tmin, tmax, st / k, sd / k, dmax }' "$dir/loop.out" | tee -a "$summary"
		tail -3 "$dir/loop.out" | sed 's/^/#   /' | tee -a "$summary"
		grep '^# ' "$log" | sed 's/^/#   guest: /' | tee -a "$summary"
		grep -E '^ok [0-9]+ - (CPU [01] -> CPU|ping-pong|suppressed)' "$log" | sed 's/^/#   guest: /' |
			tee -a "$summary"
		say "# migrate: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s wall time, log $log, $dir/loop.out"
		check $rc "migrate: migrate-loop.py succeeded and the guest exited with success on the last destination (status $rc)"
		ndone=$(sed -n 's/^migrations: \([0-9]*\) completed$/\1/p' "$dir/loop.out")
		[ "${ndone:-0}" -ge "$SOAK_MIGRATIONS" ]
		check $? "migrate: ${ndone:-0} of $SOAK_MIGRATIONS live migrations completed under UIPI load"
		tap_ok "$log"
		check $? "migrate: guest TAP clean (every UIPI delivered exactly once): $tap_desc"
		grep -E '^(not ok|Bail out!)' "$log" | sed 's/^/#   guest: /' | tee -a "$summary"
		;;
	*)
		check 1 "unknown soak '$part' (alltoall, fuzz, migrate)"
		;;
	esac
done

say "# soak: $(( $(date +%s) - t_start )) s in all"
say "soak: $passed passed, $failed failed"
[ "$failed" = 0 ]
