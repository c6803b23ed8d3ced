# The QEMU build's configuration (sourced by build-qemu.sh and
# check-series.sh).  qemu_configure SRC BUILD PREFIX configures BUILD.

# The firmware the binary looks for without -L: SeaBIOS, QEMU's own option
# ROMs (multiboot, linuxboot, kvmvapic) and the iPXE NIC ROMs, as Debian's
# seabios, qemu-system-data and ipxe-qemu packages install them.
qemu_firmware=/usr/share/seabios:/usr/share/qemu:/usr/lib/ipxe/qemu
qemu_options=(
    --firmwarepath="$qemu_firmware"
    --meson=/usr/bin/meson
    --target-list=x86_64-softmmu
    --without-default-features --enable-tcg --disable-kvm --disable-xen
    --disable-docs --disable-install-blobs --disable-user --disable-tools
    --disable-guest-agent
)

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
