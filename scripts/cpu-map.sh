#!/bin/bash
# cpu-map.sh OUT: OUT := libvirt 9.0.0's src/cpu_map with libvirt-patches
# applied, the data a private daemon gets bind-mounted as its cpu_map.
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
cp "$tmp"/src/cpu_map/*.xml "$out/"
chmod -R a+rX "$out"
