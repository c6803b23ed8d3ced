#!/bin/bash
# User-interrupt state across migration: runs the uintr_migrate guest image
# (tests/guest/tests/uintr_migrate.c) while QEMU migrates it.
#
#   tests/migration/uintr-migrate.sh
#
# Builds nothing.  Environment:
#   QEMU          patched QEMU (default /var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64)
#   STOCK_QEMU    a QEMU without UINTR (default: the unpatched build, make qemu-stock)
#   GUEST_BUILD   directory with uintr_migrate.flat (default build/guest)
#   MIGRATIONS    live migrations per TCG mode (default 20, at least 20 required)
#   OUT           where logs go (default: a new directory under /tmp, kept)
#
# Checks, per TCG mode (thread=single and thread=multi):
#   - migrate-loop.py succeeded: every migration completed and the guest
#     ended through isa-debug-exit with success, on the last destination
#   - the guest's TAP has its plan, as many results as planned, no "not ok"
#     and no "Bail out!"
#   - at least $MIGRATIONS (>= 20) live migrations completed
# Save/restore (migrate to "exec:cat > FILE", restore with -incoming
# "exec:cat FILE", several times mid-run), thread=multi: the same three.
# savevm/loadvm, thread=multi, one QEMU with a qcow2 disk (qemu-img) on
# -drive if=none: $SAVEVM_TIMES times HMP 'savevm snapN' (via QMP
# human-monitor-command), run on $SAVEVM_INTERVAL s, 'loadvm snapN'; the
# first snapshots fall in the hold= time (UIRR pending, UIF=0), the later
# ones in the ping-pong.  loadvm takes RAM and CPUs back together, so the
# sent/received counts stay consistent.  The TCG TSC never goes backwards
# (cpu_ticks_prev in softmmu/cpu-timers.c), so after loadvm the guest sees
# its TSC jump ahead by the run-on time: $SAVEVM_INTERVAL s stays well
# under its 2 s reply timeout, and its seconds= check still holds.  The
# same three, plus
#   - 'info snapshots' and, after QEMU exits, 'qemu-img snapshot -l' list
#     snap1..snapN
#   - negative: 'loadvm' of a missing snapshot gets an error reply (the
#     reply check can fail), and the guest runs on after 'cont'
# CPU: live-single runs -cpu qemu64,uintr=on; live-multi, file-multi and
# savevm-multi run -cpu SapphireRapids-UINTR with xsaves=1 (file-multi with
# uiret-uif=on, flexible UIRET, too), so IA32_XSS and
# the XSAVES/XRSTORS round trip of component 14 are checked after them too.
# Refusal: a guest with UINTR state migrated to $STOCK_QEMU (-cpu qemu64)
#   - the migration fails, the destination exits with an error, the source
#     is 'running' again, and the guest then finishes with success on it
#   - its TAP (source only) is clean
#   - control: the same image, before it touches UINTR state (idle=), does
#     migrate to $STOCK_QEMU, so the refusal is about the UINTR state
# Corrupted stream: a state saved with "exec:cat > FILE" (thread=single),
# with a reserved bit set in an IA32_UINTR_PD of its cpu/uintr subsection
#   - fails to load: QEMU exits 1 with an error that names the check
#   - control: the unchanged state loads and the guest finishes there
#   - the guest's TAP (the run before the save, then the restored one) is
#     clean
#
# Prints "ok N - ..."/"not ok N - ..." and ends with
# "migration: N passed, M failed"; exits non-zero if anything failed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
QEMU=${QEMU:-/var/cache/uintr/qemu/prefix/bin/qemu-system-x86_64}
STOCK_QEMU=${STOCK_QEMU:-${UINTR_CACHE:-/var/cache/uintr}/qemu-stock/prefix/bin/qemu-system-x86_64}
GUEST_BUILD=${GUEST_BUILD:-$here/../../build/guest}
MIGRATIONS=${MIGRATIONS:-20}
IMAGE=$GUEST_BUILD/uintr_migrate.flat
OUT=${OUT:-$(mktemp -d /tmp/uintr-migrate.XXXXXX)}
mkdir -p "$OUT"

# Guest run time: long enough for the migrations (~0.1-2 s each, plus
# the interval between them) to happen while the guest runs.
LIVE_SECONDS=${LIVE_SECONDS:-$((MIGRATIONS * 2))}
LIVE_INTERVAL=0.2
FILE_TIMES=4
FILE_SECONDS=12
FILE_INTERVAL=1.5
SAVEVM_TIMES=4
SAVEVM_SECONDS=8
SAVEVM_INTERVAL=0.5	# < the guest's REPLY_TIMEOUT_MS (2 s): see above
QEMU_IMG=${QEMU_IMG:-qemu-img}

passed=0
failed=0
n=0

child=
cleanup() {
	local f pid
	# The helper scripts kill their QEMUs on SIGTERM; then anything left.
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	for f in "$OUT"/*/qemu.pids; do
		[ -f "$f" ] || continue
		while read -r pid; do
			if [ -r "/proc/$pid/cmdline" ] &&
			   tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q qemu-system; then
				kill -9 "$pid" 2>/dev/null
			fi
		done < "$f"
	done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# run CMD...: in the background, so that a signal to this script is
# handled at once (bash runs traps only between foreground commands).
run() {
	"$@" &
	child=$!
	wait "$child"
	local rc=$?
	child=
	return $rc
}

check() {	# check COND-STATUS MESSAGE
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
		passed=$((passed + 1))
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# tap_clean LOG: plan present, results == plan, no "not ok", no Bail out.
tap_summary() {
	local log=$1 plan oks nots
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | tail -1)
	oks=$(grep -c '^ok ' "$log")
	nots=$(grep -c '^not ok ' "$log")
	echo "plan ${plan:-none}, $oks ok, $nots not ok$(grep -q '^Bail out!' "$log" && echo ', Bail out!')"
	[ -n "$plan" ] && [ "$plan" -gt 0 ] && [ "$nots" = 0 ] && [ "$oks" = "$plan" ] &&
		! grep -q '^Bail out!' "$log"
}

# shown OUT: the output of a helper script, indented under the last check.
shown() {
	sed 's/^/#   /' "$1"
}

# checked_helper OUT WHAT CMD...: run a helper script (run, so that a
# signal reaches it) with its output in OUT, show OUT and check its status.
checked_helper() {
	local out=$1 what=$2 rc
	shift 2
	run "$@" > "$out" 2>&1
	rc=$?
	shown "$out"
	check $rc "$what (status $rc)"
}

# guest_tap LOG WHAT: check that the guest's TAP in LOG is clean.
guest_tap() {
	local summary
	summary=$(tap_summary "$1")
	check $? "$2: $summary"
	grep '^not ok ' "$1" | sed 's/^/#   guest: /'
}

common_args() {	# common_args ACCEL LOG
	echo "-machine q35 -accel $1 -smp 2 -m 128 -display none -nodefaults -no-reboot" \
	     "-device isa-debug-exit,iobase=0xf4,iosize=0x04" \
	     "-chardev file,id=ser,path=$2,append=on -serial chardev:ser -kernel $IMAGE"
}

# timing_summary OUTPUT: per-migration times from migrate-loop.py.
timing_summary() {
	awk '
	/^migration [0-9]+: completed in/ {
		t = $5; d = $(NF - 1); k++; st += t; sd += d
		if (k == 1 || t < tmin) tmin = t; if (t > tmax) tmax = t
		if (d > dmax) dmax = d
	}
	/^save\/restore [0-9]+:/ {
		# save/restore I: saved K KiB in S ms, restored and running in R ms
		f++; ss += $7; sr += $13
	}
	/^savevm\/loadvm [0-9]+:/ {
		# savevm/loadvm I: savevm snapI in S ms, ran T ms, loadvm snapI and running in L ms
		v++; vs += $6; vl += $(NF - 1)
	}
	END {
		if (k) printf "# %d live migrations: %d-%d ms each (avg %d), downtime avg %.1f max %d ms\n",
			k, tmin, tmax, st / k, sd / k, dmax
		if (f) printf "# %d save/restores: save avg %d ms, restore avg %d ms\n", f, ss / f, sr / f
		if (v) printf "# %d savevm/loadvm: savevm avg %d ms, loadvm avg %d ms\n", v, vs / v, vl / v
	}' "$1"
}

# CPU and XAPPEND: the guest CPU and extra guest arguments of the next run_loop.
CPU=qemu64,uintr=on XAPPEND=
run_loop() {	# run_loop NAME ACCEL MODE TIMES INTERVAL SECONDS HOLD [EXTRA-QEMU-ARGS]
	local name=$1 accel=$2 mode=$3 times=$4 interval=$5 secs=$6 hold=$7 extra=${8:-}
	local dir=$OUT/$name log=$OUT/$name/serial.log rc ndone t0 t1 summary
	mkdir -p "$dir"
	: > "$log"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2046
	run nice python3 "$here/migrate-loop.py" --qemu "$QEMU" --times "$times" --dir "$dir" \
		--mode "$mode" --interval "$interval" --timeout $((secs + 30)) -- \
		$(common_args "$accel" "$log") -cpu "$CPU" $extra \
		-append "seconds=$secs hold=$hold$XAPPEND" > "$dir/loop.out" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	shown "$dir/loop.out"
	timing_summary "$dir/loop.out"
	grep '^# ' "$log" | sed 's/^# /#   guest: /'
	ndone=$(sed -n 's/^migrations: \([0-9]*\) completed$/\1/p' "$dir/loop.out")
	ndone=${ndone:-0}
	echo "# $name: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s wall time, log $log"
	check $rc "$name [$accel, $mode, -cpu $CPU]: migrate-loop.py succeeded and the guest exited with success (loop status $rc)"
	summary=$(tap_summary "$log")
	check $? "$name [$accel]: guest TAP clean: $summary"
	[ "$ndone" -ge "$times" ]
	check $? "$name [$accel]: $ndone of $times migrations ($mode) completed"
	grep '^not ok ' "$log" | sed 's/^/#   guest: /'
}

echo "# QEMU $QEMU (mtime $(stat -c %y "$QEMU" 2>/dev/null))"
echo "# stock QEMU $STOCK_QEMU, image $IMAGE, logs in $OUT"
if [ ! -x "$QEMU" ] || [ ! -f "$IMAGE" ]; then
	check 1 "QEMU ($QEMU) and the guest image ($IMAGE) exist"
	echo "migration: $passed passed, $failed failed"
	exit 1
fi
if [ "$MIGRATIONS" -lt 20 ]; then
	echo "# MIGRATIONS=$MIGRATIONS raised to 20"
	MIGRATIONS=20
fi

# 1. Live migrations, both TCG modes.
for mode in single multi; do
	if [ $mode = multi ]; then
		# SapphireRapids-UINTR has x2APIC: the thread=multi runs (and the
		# file and savevm runs after them) migrate a guest in x2APIC mode.
		CPU=SapphireRapids-UINTR XAPPEND=" xsaves=1 apic=x2"
	fi
	run_loop "live-$mode" "tcg,thread=$mode" unix "$MIGRATIONS" "$LIVE_INTERVAL" \
		"$LIVE_SECONDS" 5
done

# 2. Save to a file and restore from it, several times mid-run; the CPU
# also offers flexible UIRET (uiret-uif), which both sides must have.
CPU=SapphireRapids-UINTR,uiret-uif=on
run_loop "file-multi" "tcg,thread=multi" file "$FILE_TIMES" "$FILE_INTERVAL" "$FILE_SECONDS" 3
CPU=SapphireRapids-UINTR

# 3. savevm/loadvm to a qcow2 disk, several times mid-run.
dir=$OUT/savevm-multi
disk=$dir/disk.qcow2
mkdir -p "$dir"
if "$QEMU_IMG" create -q -f qcow2 "$disk" 64M; then
	run_loop "savevm-multi" "tcg,thread=multi" savevm "$SAVEVM_TIMES" "$SAVEVM_INTERVAL" \
		"$SAVEVM_SECONDS" 2 "-drive if=none,id=d0,file=$disk,format=qcow2"
	want=$(seq -f 'snap%g' 1 "$SAVEVM_TIMES" | tr '\n' ' ')
	have=$("$QEMU_IMG" snapshot -l "$disk" 2>&1 | awk '$1 ~ /^[0-9]+$/ { print $2 }' | tr '\n' ' ')
	grep -q "^info snapshots: lists ${want% }\$" "$dir/loop.out" && [ "$have" = "$want" ]
	check $? "savevm-multi: 'info snapshots' and 'qemu-img snapshot -l' list ${want% } (disk has: ${have% })"
	grep -q '^loadvm nosuchsnap: refused (.*), guest running again$' "$dir/loop.out"
	check $? "savevm-multi: loadvm of a missing snapshot is refused with an error reply and the guest runs on"
else
	check 1 "savevm-multi: $QEMU_IMG creates $disk (install qemu-utils)"
fi

# 4. Refusal: a guest with UINTR state cannot go to a QEMU without UINTR.
dir=$OUT/refuse
mkdir -p "$dir"
log=$dir/serial.log
: > "$log"
dlog=$dir/stock-serial.log
# The destination writes the serial log elsewhere: only the source's output
# counts.
# shellcheck disable=SC2046
checked_helper "$dir/refuse.out" \
	"refusal: migration of a guest with UINTR state to $STOCK_QEMU fails, the source keeps running and the guest finishes there" \
	nice python3 "$here/migrate-refuse.py" --qemu "$QEMU" --dest-qemu "$STOCK_QEMU" --dir "$dir" \
	--expect fail --after 2 \
	--dest-args "$(common_args tcg,thread=multi "$dlog") -cpu qemu64 -append seconds=5" -- \
	$(common_args tcg,thread=multi "$log") -cpu qemu64,uintr=on -append "seconds=5 hold=1"
guest_tap "$log" "refusal: source guest TAP clean after the failed migration"

dir=$OUT/control
mkdir -p "$dir"
# shellcheck disable=SC2046
checked_helper "$dir/control.out" \
	"control: the same guest before it touches UINTR state migrates to $STOCK_QEMU and runs there" \
	nice python3 "$here/migrate-refuse.py" --qemu "$QEMU" --dest-qemu "$STOCK_QEMU" --dir "$dir" \
	--expect succeed --after 0.5 \
	--dest-args "$(common_args tcg,thread=multi "$dir/serial.log") -cpu qemu64 -append seconds=5,idle=30" -- \
	$(common_args tcg,thread=multi "$dir/serial.log") -cpu qemu64,uintr=on \
	-append "seconds=5 idle=30"

# 5. A corrupted stream: reserved bits in an incoming IA32_UINTR_PD fail the
# load with an error instead of reaching notification processing.
dir=$OUT/corrupt
mkdir -p "$dir"
log=$dir/serial.log
: > "$log"
# shellcheck disable=SC2046
checked_helper "$dir/corrupt.out" \
	"corrupt: a saved state with a reserved IA32_UINTR_PD bit set fails to load with an error naming the check, the unchanged state loads and the guest finishes" \
	nice python3 "$here/migrate-corrupt.py" --qemu "$QEMU" --dir "$dir" --after 1 -- \
	$(common_args tcg,thread=single "$log") -cpu qemu64,uintr=on -append "seconds=4"
guest_tap "$log" "corrupt: guest TAP clean over the save and the restore of the unchanged state"

echo "migration: $passed passed, $failed failed"
[ "$failed" = 0 ]
