#!/bin/bash
# Build libvirt 11.3.0 with the series (QEMU driver, monolithic libvirtd,
# tests on), install it into a prefix in the cache, and run the libvirt
# tests the series touches, plus its syntax-check rules.
#
#   build-libvirt.sh [TEST...]        build, install, run the tests
#                                     (default: the CPU-map and QEMU ones)
#   build-libvirt.sh --install-only   build and install, run no test
#   build-libvirt.sh --prepare        only the single-threaded first steps:
#                                     the tree and the meson build directory
#                                     (make runs them next to QEMU's)
#   build-libvirt.sh --each-patch [TEST...]
#                                     build every prefix of the series and run
#                                     the tests and syntax-check on each (in a
#                                     tree and build directory of their own,
#                                     $UINTR_CACHE/libvirt-series, incrementally);
#                                     one "ok/not ok - libvirt: SUBJECT" line
#                                     per patch; installs nothing
#
# The installed prefix, $UINTR_CACHE/libvirt/prefix (bin/virsh,
# sbin/libvirtd, lib/.../libvirt.so with an RPATH to its own lib, and
# share/libvirt/cpu_map with the series' CPU map), is what the private
# daemons of tests/lib/libvirtd.sh run.
#
# Like build-qemu.sh it keeps tree, build and prefix in the cache, keyed by
# the tarball, the series and the options, so an unchanged series costs
# only the test run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${UINTR_CACHE:-/var/cache/uintr}
dir=$cache/libvirt
src=$dir/src
build=$src/build
prefix=$dir/prefix
jobs=${JOBS:-$(nproc)}
run_tests=1
prepare_only=0
each_patch=0
case ${1:-} in
--install-only) run_tests=0; shift ;;
--prepare) prepare_only=1; run_tests=0; shift ;;
--each-patch) each_patch=1; shift ;;
esac
tests=("$@")
[ ${#tests[@]} -gt 0 ] ||
    tests=(cputest qemuxmlconftest domaincapstest qemucapabilitiestest)

options=(
    --prefix="$prefix"
    -Dno_git=true -Ddocs=disabled -Dtests=enabled -Dexpensive_tests=disabled
    -Ddriver_qemu=enabled -Ddriver_remote=enabled -Ddriver_libvirtd=enabled
    -Ddriver_test=enabled -Ddriver_network=enabled
    -Ddriver_ch=disabled -Ddriver_esx=disabled -Ddriver_hyperv=disabled
    -Ddriver_libxl=disabled -Ddriver_lxc=disabled -Ddriver_openvz=disabled
    -Ddriver_vbox=disabled -Ddriver_vmware=disabled -Ddriver_vz=disabled
    -Ddriver_bhyve=disabled -Ddriver_interface=disabled -Ddriver_secrets=enabled
    -Dstorage_disk=disabled -Dstorage_iscsi=disabled -Dstorage_lvm=disabled
    -Dstorage_mpath=disabled -Dstorage_rbd=disabled -Dstorage_scsi=disabled
    -Dstorage_gluster=disabled -Dstorage_zfs=disabled -Dstorage_vstorage=disabled
    -Dstorage_iscsi_direct=disabled -Dselinux=disabled -Dapparmor=disabled
    -Dwireshark_dissector=disabled -Dnls=disabled -Dbash_completion=disabled
    -Dinit_script=none
    # No -g unless UINTR_DEBUG_INFO=1, as for QEMU (qemu-config.sh).  -O1:
    # libvirt is the control plane of the demo and the tests, where -O2
    # buys nothing measurable, and -O1 compiles in about three quarters of
    # the time (50 of its compile units, alternating runs: 0.73-0.83x).
    # Not -O0 (0.55x): the warnings that need the optimiser's data flow
    # (-Wmaybe-uninitialized and the like) would go quiet.  QEMU stays at -O2.
    -Ddebug="$([ "${UINTR_DEBUG_INFO:-0}" = 1 ] && echo true || echo false)"
    -Doptimization=1
)

export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}

# setup SRC BUILD LOGDIR: (re)configure BUILD for SRC when the options changed
setup() {
    local s=$1 b=$2 logdir=$3
    if [ ! -f "$b/build.ninja" ] || [ "$(cat "$logdir/.options" 2>/dev/null)" != "${options[*]}" ]; then
        rm -rf "$b"
        meson setup "$b" "$s" "${options[@]}" > "$logdir/setup.log" 2>&1 || {
            tail -30 "$logdir/setup.log" >&2
            echo "libvirt: meson setup failed, see $logdir/setup.log" >&2
            return 1
        }
        echo "${options[*]}" > "$logdir/.options"
    fi
}

# installed_targets BUILD: the outputs of the targets that meson installs,
# relative to BUILD (what the daemons need; not libvirt's test programs).
installed_targets() {
    meson introspect --targets "$1" | python3 -c '
import json, os, sys
build = sys.argv[1]
for t in json.load(sys.stdin):
    if t.get("installed"):
        for f in t["filename"]:
            print(os.path.relpath(f, build))' "$1"
}

# compile BUILD LOGDIR [TARGET...]: everything, or the TARGETs
compile() {
    local b=$1 logdir=$2
    shift 2
    nice ninja -C "$b" -j "$jobs" "$@" > "$logdir/build.log" 2>&1 || {
        grep -B2 -A12 -m3 'error' "$logdir/build.log" >&2 || tail -40 "$logdir/build.log" >&2
        echo "libvirt: build failed, see $logdir/build.log" >&2
        return 1
    }
}

# run_suites BUILD LOGDIR: the tests and syntax-check; sets passed and
# failed from meson's summary ("Ok: N", "Fail: M", ...)
count() { sed -n "s/^$1: *\([0-9]*\) *$/\1/p" "$2" | tail -1; }
run_suites() {
    local b=$1 logdir=$2 suite log rc ok fail to
    passed=0 failed=0
    for suite in tests syntax-check; do
        log=$logdir/$suite.log
        if [ $suite = tests ]; then
            echo "libvirt: running ${tests[*]}"
            (cd "$b" && nice meson test --no-rebuild --print-errorlogs "${tests[@]}") > "$log" 2>&1 && rc=0 || rc=$?
        else
            echo "libvirt: running syntax-check"
            (cd "$b" && nice meson test --no-rebuild --print-errorlogs --suite syntax-check) > "$log" 2>&1 && rc=0 || rc=$?
        fi
        grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed 's/^/libvirt: /' || true
        ok=$(count Ok "$log") fail=$(count Fail "$log") to=$(count Timeout "$log")
        passed=$((passed + ${ok:-0}))
        failed=$((failed + ${fail:-0} + ${to:-0}))
        if [ "$rc" -ne 0 ] && [ $((${fail:-0} + ${to:-0})) -eq 0 ]; then
            echo "libvirt: meson test ($suite) failed, see $log"
            failed=$((failed + 1))
        fi
    done
}

# Every prefix of the series: check out each patch in turn in a tree of its
# own and build it incrementally (ninja rebuilds what the patch touched).
if [ $each_patch = 1 ]; then
    sdir=$cache/libvirt-series
    mkdir -p "$sdir"
    exec 9> "$sdir/lock"
    flock 9
    "$top/scripts/tree.sh" sync libvirt "$sdir/src" > /dev/null
    setup "$sdir/src" "$sdir/build" "$sdir" || exit 1
    bad=0 n=0
    rm -rf "$sdir/log"
    for c in $(git -C "$sdir/src" rev-list --reverse base..HEAD); do
        n=$((n + 1))
        logdir=$sdir/log/$(printf %04d $n)
        mkdir -p "$logdir"
        subject=$(git -C "$sdir/src" log -1 --format=%s "$c")
        git -C "$sdir/src" checkout -q "$c"
        echo "libvirt: at $subject"
        if compile "$sdir/build" "$logdir" && run_suites "$sdir/build" "$logdir" && [ $failed -eq 0 ]; then
            echo "ok - libvirt: $subject ($passed passed)"
        else
            echo "not ok - libvirt: $subject (${passed:-0} passed, ${failed:-build} failed, logs in $logdir)"
            bad=$((bad + 1))
        fi
        passed='' failed=''
    done
    git -C "$sdir/src" checkout -q master
    [ $bad -eq 0 ]
    exit
fi

mkdir -p "$dir"
# uid nobody (the private daemons) must reach the prefix.
chmod a+rx "$cache" "$dir"
exec 9> "$dir/lock"
flock 9

tarball=$("$top/scripts/tree.sh" tarball libvirt)
# The tree is made anew when the base changes, or the way tree.sh lays it
# out (bump the format then; 3: subprojects/keycodemapdb as a gitlink).
tree_key="$tarball format=3"
key=$(printf '%s\n' "$tree_key" "$("$top/scripts/tree.sh" key libvirt)" "${options[@]}" |
    sha256sum | cut -d' ' -f1)

if [ "$(cat "$dir/.key" 2>/dev/null)" != "$key" ]; then
    # A --prepare run leaves the tree and build directory of this key.
    if [ "$(cat "$dir/.prepared" 2>/dev/null)" != "$key" ]; then
        rm -f "$dir/.prepared"
        if [ "$(cat "$dir/.tree" 2>/dev/null)" != "$tree_key" ]; then
            rm -rf "$src"
        fi
        if [ -d "$src/.git" ]; then
            "$top/scripts/tree.sh" sync libvirt "$src"
        else
            "$top/scripts/tree.sh" make libvirt "$src"
            echo "$tree_key" > "$dir/.tree"
        fi
        setup "$src" "$build" "$dir" || exit 1
        echo "$key" > "$dir/.prepared"
    fi
    if [ $prepare_only = 1 ]; then
        echo "libvirt: configured in $build"
        exit 0
    fi
    echo "libvirt: building in $build"
    # What gets installed; the test programs (about a fifth of the build
    # time) are built below, when the tests are to run.
    targets=$(installed_targets "$build") && [ -n "$targets" ] || {
        echo "libvirt: meson introspect found no installed targets in $build" >&2
        exit 1
    }
    # shellcheck disable=SC2086 # one target per word
    compile "$build" "$dir" $targets || exit 1
    echo "$key" > "$dir/.key"
fi

[ $prepare_only = 0 ] || exit 0

# Install into a staging directory and swap it in, so that the prefix is
# always a complete install of one key.  meson's install step would rebuild
# nothing here (--no-rebuild) and writes nothing outside DESTDIR.
if [ "$(cat "$prefix/.key" 2>/dev/null)" != "$key" ] || [ ! -x "$prefix/sbin/libvirtd" ]; then
    stage=$dir/stage
    rm -rf "$stage"
    echo "libvirt: installing into $prefix"
    DESTDIR=$stage meson install -C "$build" --no-rebuild > "$dir/install.log" 2>&1 || {
        tail -30 "$dir/install.log" >&2
        echo "libvirt: meson install failed, see $dir/install.log" >&2
        exit 1
    }
    [ -x "$stage$prefix/sbin/libvirtd" ] || {
        echo "libvirt: the install has no sbin/libvirtd, see $dir/install.log" >&2
        exit 1
    }
    echo "$key" > "$stage$prefix/.key"
    chmod -R a+rX "$stage$prefix"
    rm -rf "$prefix"
    mv "$stage$prefix" "$prefix"
    rm -rf "$stage"
fi
echo "libvirt: $("$prefix/sbin/libvirtd" --version) in $prefix"
[ $run_tests = 1 ] || exit 0

# The test programs (nothing to do when an earlier run built them).
compile "$build" "$dir" || exit 1
run_suites "$build" "$dir"
echo "libvirt: $passed passed, $failed failed"
[ $failed -eq 0 ]
