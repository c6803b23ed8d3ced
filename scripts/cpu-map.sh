#!/bin/bash
# cpu-map.sh OUT: OUT := libvirt 11.3.0's src/cpu_map with libvirt-patches
# applied (the same files scripts/build-libvirt.sh installs into the
# prefix's share/libvirt/cpu_map), the data a private daemon gets
# bind-mounted as its cpu_map (tests/lib/libvirtd.sh) and that
# tests/e2e/model-consistency.sh compares with QEMU.  Needs no libvirt build.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
tarball=$("$top/scripts/tree.sh" tarball libvirt)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tar -xf "$tarball" -C "$tmp" --strip-components=1 --wildcards '*/src/cpu_map/*'
while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    (cd "$tmp" && git apply --include='src/cpu_map/*' "$top/libvirt-patches/$p")
done < "$top/libvirt-patches/series"
rm -rf "$out"
mkdir -p "$out"
# What libvirt installs: the files of cpumap_data in src/cpu_map/meson.build
# (not libcpuinfo_aliases.xml, which only the sync scripts read).
files=$(sed -n "/^cpumap_data = \[/,/^]/s/^  '\(.*\.xml\)',\$/\1/p" "$tmp/src/cpu_map/meson.build")
[ -n "$files" ] || { echo "cpu-map.sh: no cpumap_data in src/cpu_map/meson.build" >&2; exit 1; }
for f in $files; do
    cp "$tmp/src/cpu_map/$f" "$out/"
done
chmod -R a+rX "$out"
