# The QEMU build's configuration (sourced by build-qemu.sh and
# check-series.sh).  qemu_configure SRC BUILD PREFIX configures BUILD.

qemu_tools=${UINTR_CACHE:-/var/cache/uintr}/tools

# The firmware the binary looks for without -L: SeaBIOS, QEMU's own option
# ROMs (multiboot, linuxboot, kvmvapic) and the iPXE NIC ROMs, as Debian's
# seabios, qemu-system-data and ipxe-qemu packages install them.  SeaBIOS
# comes first from bookworm-backports' 1.16.3 (Debian 13's), unpacked into
# the cache by qemu_build_tools: QEMU 10.0's AHCI reports a failed command
# with TFES alone, and Debian 12's SeaBIOS 1.16.2 waits for a D2H FIS
# interrupt after the IDENTIFY PACKET DEVICE it sends to every disk, so
# each SATA disk cost 32 s at boot (1.16.3 handles TFES).
qemu_seabios=$qemu_tools/firmware/usr/share/seabios
qemu_firmware=$qemu_seabios:/usr/share/seabios:/usr/share/qemu:/usr/lib/ipxe/qemu
qemu_options=(
    --firmwarepath="$qemu_firmware"
    --target-list=x86_64-softmmu
    --without-default-features --enable-tcg --disable-kvm --disable-xen
    --disable-docs --disable-install-blobs --disable-user --disable-tools
    --disable-guest-agent
)

# Debug information is a fifth of a cold build's compile time (60 of QEMU's
# compile units, three alternating runs: 18 % less CPU time without -g) and
# nobody who runs the demo needs it; backtraces keep the function names.
# UINTR_DEBUG_INFO=1 builds with it (one rebuild: the options are part of
# the cache key).
if [ "${UINTR_DEBUG_INFO:-0}" = 1 ]; then
    qemu_options+=(--enable-debug-info)
else
    qemu_options+=(--disable-debug-info)
fi

# Debian's dfsg tarball drops the prebuilt EDK2 images, but meson checks that
# their .bz2 sources exist whenever bzip2 is installed (at configure time and
# whenever it regenerates).  x86 TCG needs none of them, so valid empty
# stand-ins do; an upstream tarball brings the real files.
qemu_edk2_standins() {
    local src=$1 f
    for f in $(sed -n "s/^ *'\(edk2-[^']*\.fd\)',\$/\1/p" "$src/pc-bios/meson.build"); do
        [ -e "$src/pc-bios/$f.bz2" ] || bzip2 -c < /dev/null > "$src/pc-bios/$f.bz2"
    done
}

# QEMU 10.0 needs meson >= 1.5 and pycotap >= 1.1; Debian 12 has meson
# 1.0.1 and no pycotap.  bookworm-backports has both (pure Python): their
# .debs, pinned by SHA-256, are unpacked into the cache and put on PATH and
# PYTHONPATH for QEMU's build only, so the machine's own meson stays.  The
# SeaBIOS .deb (above) is unpacked the same way, into its own directory.
qemu_tool_debs=(
    "meson/bookworm-backports meson_1.7.0-1~bpo12+1_all.deb 4b86d2f2cb4431d03826fa4b2c3a89508edeb8140509e7e4b285285ec3175bbe"
    "python3-pycotap/bookworm-backports python3-pycotap_1.3.1-2~bpo12+1_all.deb 3774be6e79318192059aa72e7b7a701e8b99bba2147befcc715650a0da65ca96"
)
qemu_firmware_deb="seabios/bookworm-backports seabios_1.16.3-2~bpo12+1_all.deb 48390d0a534c66d11789e39518aa219773a9d3677b29fe1af8799dfb563ec713"

# qemu_unpack_deb "PKG/SUITE DEB SHA256" ROOT: download DEB once, check it
# against its pinned SHA-256 and unpack it into ROOT.
qemu_unpack_deb() {
    local pkg deb sha root=$2
    read -r pkg deb sha <<< "$1"
    if [ ! -e "$qemu_tools/debs/$deb" ]; then
        (cd "$qemu_tools/debs" && apt-get download -qq "$pkg" > /dev/null 2>&1) || {
            echo "qemu: apt-get download $pkg failed (run scripts/deps.sh: it adds bookworm-backports)" >&2
            return 1
        }
    fi
    echo "$sha  $qemu_tools/debs/$deb" | sha256sum --quiet -c - || {
        echo "qemu: $deb does not match the pinned SHA-256 $sha" >&2
        return 1
    }
    if [ "$(cat "$root/.${pkg%%/*}" 2>/dev/null)" != "$sha" ]; then
        mkdir -p "$root"
        dpkg-deb -x "$qemu_tools/debs/$deb" "$root"
        echo "$sha" > "$root/.${pkg%%/*}"
    fi
}

qemu_build_tools() {
    local entry
    mkdir -p "$qemu_tools/debs"
    for entry in "${qemu_tool_debs[@]}"; do
        qemu_unpack_deb "$entry" "$qemu_tools/root" || return 1
    done
    qemu_unpack_deb "$qemu_firmware_deb" "$qemu_tools/firmware" || return 1
    export PATH=$qemu_tools/root/usr/bin:$PATH
    export PYTHONPATH=$qemu_tools/root/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}
}

qemu_configure() {
    local src=$1 build=$2 prefix=$3
    qemu_edk2_standins "$src"
    rm -rf "$build"
    mkdir -p "$build"
    (cd "$build" && "$src/configure" --prefix="$prefix" "${qemu_options[@]}" \
        > configure.log 2>&1) || {
        tail -30 "$build/configure.log" >&2
        echo "qemu: configure failed, see $build/configure.log" >&2
        return 1
    }
}
