#!/bin/bash
# Install what tests/linux/run.sh needs: busybox-static and cpio for the
# initramfs, gcc for the static FPU stress program, and Debian 12's
# linux-image-amd64 kernel, downloaded (not installed) into a cache
# directory outside the git tree.
#
# Idempotent: when everything is present it only looks.
#
#   LINUX_CACHE   where the kernel .deb and its extracted tree go
#                 (default /var/cache/uintr/linux)
set -euo pipefail

cache=${LINUX_CACHE:-/var/cache/uintr/linux}

pkgs=(busybox-static cpio gcc libc6-dev gzip coreutils)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing+=("$p")
done

updated=
apt_update() {
    if [ -z "$updated" ]; then
        apt-get update -qq
        updated=1
    fi
}

if [ ${#missing[@]} -gt 0 ]; then
    echo "linux deps: installing ${missing[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# The kernel: whatever image package Debian's linux-image-amd64 metapackage
# currently depends on (e.g. linux-image-6.1.0-56-amd64).  Downloaded only
# when the cache holds no linux-image-*-amd64 .deb yet, so a run keeps using
# the kernel it was validated with until the cache is cleared.
mkdir -p "$cache"
shopt -s nullglob
debs=("$cache"/linux-image-[0-9]*-amd64_*_amd64.deb)
if [ ${#debs[@]} -eq 0 ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
    if [ -z "$pkg" ]; then
        apt_update
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
              sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
    fi
    if [ -z "$pkg" ]; then
        echo "linux deps: cannot resolve linux-image-amd64 to a kernel package" >&2
        exit 1
    fi
    echo "linux deps: downloading $pkg into $cache"
    # apt-get download writes into the current directory; as root it drops
    # privileges to _apt, which must be able to write there.
    (cd "$cache" && chmod 755 . && apt-get download "$pkg" 2>&1 |
        grep -v '^W: Download is performed unsandboxed' || true)
    debs=("$cache"/linux-image-[0-9]*-amd64_*_amd64.deb)
    if [ ${#debs[@]} -eq 0 ]; then
        echo "linux deps: download of $pkg failed" >&2
        exit 1
    fi
fi

# Extract /boot/vmlinuz-* (the whole package tree, it is small enough) next
# to the .deb, once.
deb=$(printf '%s\n' "${debs[@]}" | sort -V | tail -n1)
tree="${deb%.deb}"
if ! compgen -G "$tree/boot/vmlinuz-*" >/dev/null; then
    echo "linux deps: extracting $(basename "$deb")"
    rm -rf "$tree.tmp"
    mkdir -p "$tree.tmp"
    dpkg-deb -x "$deb" "$tree.tmp"
    rm -rf "$tree"
    mv "$tree.tmp" "$tree"
fi
