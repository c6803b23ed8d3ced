#!/bin/bash
# Every patch of the QEMU series builds on its own and is checkpatch-clean:
# check out the tree at each patch in turn and build qemu-system-x86_64
# (incrementally, in a build directory of its own in the cache).  Then every
# patch of the libvirt series builds and passes libvirt's affected tests and
# syntax-check (scripts/build-libvirt.sh --each-patch, incrementally too).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${UINTR_CACHE:-/var/cache/uintr}
dir=$cache/qemu-series
src=$dir/src
build=$dir/build
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/#   /'; }

mkdir -p "$dir"
exec 9> "$dir/lock"
flock 9
"$top/scripts/tree.sh" sync qemu "$src" > /dev/null || exit 1
. "$top/scripts/qemu-config.sh"
qemu_build_tools
[ -f "$build/build.ninja" ] || qemu_configure "$src" "$build" "$dir/prefix" || exit 1
qemu_edk2_standins "$src"
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
for c in $(git -C "$src" rev-list --reverse base..HEAD); do
    subject=$(git -C "$src" log -1 --format=%s "$c")
    git -C "$src" checkout -q "$c"
    if out=$(nice ninja -C "$build" qemu-system-x86_64 2>&1); then
        ok "builds: $subject"
    else
        bad "builds: $subject" "$(echo "$out" | grep -m5 -A5 error)"
    fi
    if out=$(cd "$src" && ./scripts/checkpatch.pl --branch "$c^..$c" 2>&1); then
        ok "checkpatch: $subject"
    else
        bad "checkpatch: $subject" "$out"
    fi
done
git -C "$src" checkout -q master
flock -u 9

# The libvirt series: one "ok/not ok - libvirt: SUBJECT" line per patch.
log=$cache/libvirt-series/check.log
mkdir -p "$cache/libvirt-series"
"$top/scripts/build-libvirt.sh" --each-patch > "$log" 2>&1
grep -E '^(not )?ok - libvirt: ' "$log"
lv_ok=$(grep -c '^ok - libvirt: ' "$log")
lv_bad=$(grep -c '^not ok - libvirt: ' "$log")
lv_all=$(grep -cv '^\(#.*\)\?$' "$top/libvirt-patches/series")
pass=$((pass + lv_ok))
fail=$((fail + lv_bad))
[ $((lv_ok + lv_bad)) -eq "$lv_all" ] ||
    bad "libvirt series: $((lv_ok + lv_bad)) of $lv_all patches checked" "$(tail -20 "$log")"
echo "series: $pass passed, $fail failed"
[ $fail -eq 0 ]
