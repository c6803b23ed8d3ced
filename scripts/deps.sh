#!/bin/bash
# Install, with apt-get, the Debian packages the project needs.  Idempotent:
# when everything is present it does nothing but look.
#
#   deps.sh build   what `make` and `make demo` need: the QEMU and libvirt
#                   builds, uintrctl, the guest images, the private daemons
#   deps.sh test    that, and what only the tests, fuzzing and benchmarks
#                   use (clang, qemu-img, gnuplot, valgrind, the Linux guest's kernel)
#
# The demo does not wait for the second set.
set -euo pipefail

set_name=${1:-test}
case $set_name in
build | test) ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

pkgs=(
    # toolchain and QEMU build
    build-essential git ccache pkg-config python3 python3-venv meson ninja-build bzip2
    flex bison libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev
    # firmware the TCG-only QEMU finds through its firmware path
    seabios qemu-system-data ipxe-qemu
    # bare-metal guest tests (ELF64 -> elf32-i386 with binutils)
    binutils
    # uintrctl (a libvirt client: Debian's libvirt 9.0 client library talks
    # to the series' 11.3 daemons)
    libvirt-dev libjson-c-dev libyajl-dev libxml2-dev
    # libvirt build and tests
    libxml2-utils xsltproc libgnutls28-dev libtirpc-dev libyajl-dev
    libdevmapper-dev libnl-3-dev libnl-route-3-dev libpciaccess-dev
    libudev-dev python3-docutils
    # the private libvirt daemons (built from the series) run under tini;
    # the two-host migration suite joins two network namespaces (ip, tc)
    tini iproute2 procps
    util-linux dpkg-dev xz-utils
)
if [ "$set_name" = test ]; then
    pkgs+=(
        # uintrctl's libFuzzer targets (make fuzz)
        clang
        # qemu-img: the qcow2 disk of the savevm/loadvm migration test
        qemu-utils
        # make bench: the plot of docs/performance.md, and the host
        # instructions of the counted runs
        gnuplot-nox valgrind
        # the test daemons' slow-exit report: where libvirtd's threads wait
        gdb
    )
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing+=("$p")
done

# Our own apt sources file: Debian 13's source packages (QEMU 10.0.13 and
# libvirt 11.3.0, fetched by scripts/tree.sh with apt-get source) and
# bookworm-backports, from which qemu_build_tools (scripts/qemu-config.sh)
# downloads meson and pycotap for QEMU's build.  Backports have pin priority 100 and deb-src
# entries install nothing, so no installed package moves to another suite.
sources=/etc/apt/sources.list.d/uintr.sources
want_sources='Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
if [ "$(cat "$sources" 2>/dev/null)" != "$want_sources" ]; then
    printf '%s\n' "$want_sources" > "$sources"
    rm -f /etc/apt/sources.list.d/uintr-deb-src.sources   # the 7.2-era file
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
if [ "$set_name" = test ]; then
    "$(dirname "$0")/../tests/linux/deps.sh"
fi
