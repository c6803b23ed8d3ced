#!/bin/bash
# run.sh - run each libFuzzer target for FUZZ_RUNS executions from its
# seed corpus (fuzz/corpus/T, read only; new inputs go to
# $O/fuzz/work/T), print "fuzz T: N executions, C crashes", and fail on
# any crash.  Crash inputs land in $O/fuzz/artifacts/; after fixing the
# bug, copy them to fuzz/crashers/T/ so that make check replays them.
#
#   FUZZ_RUNS=1000000 O=build fuzz/run.sh qmp-reply query-uintr ...
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${O:?}" "${FUZZ_RUNS:=1000000}"
failed=0
for t in "$@"; do
    work=$O/fuzz/work/$t art=$O/fuzz/artifacts/$t
    mkdir -p "$work" "$art"
    log=$O/fuzz/$t.log
    # -max_len: the seeds are up to ~2 KB; leave room to grow them
    "$O/fuzz/fuzz-$t" -runs="$FUZZ_RUNS" -max_len=16384 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/" "$work" "$HERE/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=$(find "$art" -type f | wc -l)
    echo "fuzz $t: ${execs:-0} executions, $crashes crashes (exit $rc, log $log)"
    if [ "$rc" != 0 ] || [ "$crashes" != 0 ] || [ "${execs:-0}" -lt "$FUZZ_RUNS" ]; then
        failed=1
        grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5
    fi
done
[ "$failed" = 0 ]
