#!/bin/bash
# Build and install the patched, TCG-only qemu-system-x86_64.
#
#   build-qemu.sh           the series: $UINTR_CACHE/qemu/prefix
#   build-qemu.sh stock     the same base without the series, configured the
#                           same way: $UINTR_CACHE/qemu-stock/prefix (the
#                           "QEMU without UINTR" of the tests)
#   build-qemu.sh --prepare [stock]
#                           only the single-threaded first steps: the tree
#                           and the configured build directory (make runs
#                           them next to libvirt's, then the compile)
#
# The tree, the build directory and the install prefix live in the cache
# ($UINTR_CACHE, default /var/cache/uintr), outside any clone, so that
# clones and CI runs share one incremental build.  A key made of the base
# tarball, the series and the options decides whether anything is to do.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${UINTR_CACHE:-/var/cache/uintr}
prepare_only=0
if [ "${1:-}" = --prepare ]; then
    prepare_only=1
    shift
fi
variant=${1:-series}
case $variant in
series) dir=$cache/qemu ;;
stock) dir=$cache/qemu-stock ;;
*) echo "usage: $0 [--prepare] [stock]" >&2; exit 2 ;;
esac
src=$dir/src
build=$dir/build
prefix=$dir/prefix
jobs=${JOBS:-$(nproc)}

. "$top/scripts/qemu-config.sh"

mkdir -p "$dir"
exec 9> "$dir/lock"
flock 9
qemu_build_tools

tarball=$("$top/scripts/tree.sh" tarball qemu)
# The tree is made anew when the base changes.
tree_key=$tarball
if [ "$variant" = stock ]; then
    series_key=stock-$(sha256sum "$tarball" | cut -d' ' -f1)
else
    series_key=$("$top/scripts/tree.sh" key qemu)
fi
key=$(printf '%s\n' "$series_key" "$prefix" "${qemu_options[@]}" | sha256sum | cut -d' ' -f1)

if [ -x "$prefix/bin/qemu-system-x86_64" ] && [ "$(cat "$prefix/.key" 2>/dev/null)" = "$key" ]; then
    echo "qemu ($variant): up to date ($prefix/bin/qemu-system-x86_64)"
    exit 0
fi

# Re-apply the series only when it changed: files it does not touch keep
# their timestamps, so ninja rebuilds just what the change affects.
if [ "$(cat "$dir/.tree" 2>/dev/null)" != "$tree_key" ]; then
    rm -rf "$src" "$build" "$dir/.series"
fi
if [ "$(cat "$dir/.series" 2>/dev/null)" != "$series_key" ]; then
    if [ "$variant" = stock ]; then
        rm -rf "$src"
        mkdir -p "$src"
        tar -xf "$tarball" -C "$src" --strip-components=1 --no-same-owner
        echo "$tree_key" > "$dir/.tree"
    elif [ -d "$src/.git" ]; then
        "$top/scripts/tree.sh" sync qemu "$src"
    else
        "$top/scripts/tree.sh" make qemu "$src"
        echo "$tree_key" > "$dir/.tree"
    fi
    echo "$series_key" > "$dir/.series"
fi

if [ "$(cat "$build/.uintr-config" 2>/dev/null)" != "$prefix ${qemu_options[*]}" ]; then
    qemu_configure "$src" "$build" "$prefix"
    echo "$prefix ${qemu_options[*]}" > "$build/.uintr-config"
fi
if [ $prepare_only = 1 ]; then
    echo "qemu ($variant): configured in $build"
    exit 0
fi

qemu_edk2_standins "$src"
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
echo "qemu ($variant): building in $build"
# Only what gets installed: 'ninja install' would first build every
# default target, the whole qtest suite included.
nice ninja -C "$build" -j "$jobs" qemu-system-x86_64 trace/trace-events-all \
    > "$build/build.log" 2>&1 || {
    grep -B2 -A12 -m3 'error' "$build/build.log" >&2 || tail -40 "$build/build.log" >&2
    echo "qemu: build failed, see $build/build.log" >&2
    exit 1
}
"$build/pyvenv/bin/meson" install -C "$build" --no-rebuild > "$build/install.log" 2>&1 || {
    tail -20 "$build/install.log" >&2
    exit 1
}
echo "$key" > "$prefix/.key"
echo "qemu ($variant): installed $prefix/bin/qemu-system-x86_64"
