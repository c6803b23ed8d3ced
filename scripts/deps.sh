#!/bin/bash
# Install, with apt-get, every Debian package the project needs to build and
# test.  Idempotent: when everything is present it does nothing but look.
set -euo pipefail

pkgs=(
    # toolchain and QEMU build
    build-essential git ccache pkg-config python3 python3-venv meson ninja-build bzip2
    flex bison libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev
    # firmware the TCG-only QEMU finds through its firmware path
    seabios qemu-system-data ipxe-qemu
    # bare-metal guest tests (ELF64 -> elf32-i386 with binutils)
    binutils
    # uintrctl
    libvirt-dev libjson-c-dev libxml2-dev
    # libvirt build and tests
    libxml2-utils xsltproc libgnutls28-dev libtirpc-dev libyajl-dev
    libdevmapper-dev libnl-3-dev libnl-route-3-dev libpciaccess-dev
    libudev-dev python3-docutils
    # the private libvirt daemon used by demo and e2e tests
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients tini
    # an unpatched QEMU (Debian's) for the "QEMU without the feature" tests
    qemu-system-x86
    # qemu-img: the qcow2 disk of the savevm/loadvm migration test
    qemu-utils
    util-linux dpkg-dev xz-utils
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing+=("$p")
done

# apt-get source needs deb-src entries; add our own file when none exists.
if ! grep -rqs '^\(Types: *deb-src\|deb-src \)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > /etc/apt/sources.list.d/uintr-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_update=1
fi

if [ ${#missing[@]} -gt 0 ] || [ -n "${need_update:-}" ]; then
    echo "deps: installing ${missing[*]:-(source lists only)}"
    apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

# The Linux guest test (tests/linux): busybox, cpio and Debian's kernel.
"$(dirname "$0")/../tests/linux/deps.sh"
