#!/bin/bash
# Source trees for the QEMU and libvirt series.
#
#   tree.sh tarball PROJECT        print the path of the verified base tarball
#   tree.sh make PROJECT DIR       DIR := git tree of the base + one commit per patch
#   tree.sh sync PROJECT DIR       bring an existing tree (made by 'make') to the series
#   tree.sh export PROJECT DIR     write DIR's commits since 'base' back as patches
#   tree.sh key PROJECT            print a hash of the base tarball and the series
#
# PROJECT is qemu or libvirt.  The base is Debian's upstream orig tarball,
# pinned by SHA-256; QEMU_TARBALL / LIBVIRT_TARBALL name a tarball of your own
# (a qemu-7.2.0 / libvirt-9.0.0 release tarball) to use instead.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${UINTR_CACHE:-/var/cache/uintr}

case ${2:-} in
qemu)
    srcpkg=qemu
    orig=qemu_7.2+dfsg.orig.tar.xz
    sha=91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f
    user=${QEMU_TARBALL:-}
    ;;
libvirt)
    srcpkg=libvirt
    # Upstream's git has src/keycodemapdb as a submodule; libvirt's
    # syntax-check rules skip it only when it is not tracked as files.
    submodules=(src/keycodemapdb)
    orig=libvirt_9.0.0.orig.tar.xz
    sha=deca5cff1b7baac297bca9663907c61f71a47183371dc7ac019c107806d5435a
    user=${LIBVIRT_TARBALL:-}
    ;;
*)
    echo "usage: $0 tarball|make|sync|export|key qemu|libvirt [DIR]" >&2
    exit 2
    ;;
esac
project=$2
submodules=(${submodules[@]+"${submodules[@]}"})
patches=$top/$project-patches

die() { echo "tree.sh: $*" >&2; exit 1; }

tarball() {
    if [ -n "$user" ]; then
        [ -r "$user" ] || die "$user (from ${project^^}_TARBALL) is not readable"
        echo "$user"
        return
    fi
    local dir=$cache/src
    mkdir -p "$dir"
    if [ ! -e "$dir/$orig" ]; then
        (cd "$dir" && apt-get source --download-only -qq "$srcpkg" >/dev/null 2>&1) ||
            die "apt-get source $srcpkg failed (is a deb-src entry configured? run scripts/deps.sh)"
        [ -e "$dir/$orig" ] || die "apt-get source $srcpkg did not bring $orig"
    fi
    echo "$sha  $dir/$orig" | sha256sum --quiet -c - >&2 ||
        die "$dir/$orig does not match the pinned SHA-256 $sha"
    echo "$dir/$orig"
}

series_key() {
    local tb p
    tb=$(tarball)
    {
        sha256sum "$tb" | cut -d' ' -f1
        cat "$patches/series"
        while read -r p; do
            case $p in ''|'#'*) ;; *) cat "$patches/$p" ;; esac
        done < "$patches/series"
    } | sha256sum | cut -d' ' -f1
}

git_base() {
    # A fixed identity and date make the base commit, and so every exported
    # patch's parent, the same on every machine.
    GIT_AUTHOR_NAME=base GIT_AUTHOR_EMAIL=base@localhost \
    GIT_COMMITTER_NAME=base GIT_COMMITTER_EMAIL=base@localhost \
    GIT_AUTHOR_DATE='2000-01-01T00:00:00Z' GIT_COMMITTER_DATE='2000-01-01T00:00:00Z' \
        git -C "$1" "${@:2}"
}

apply_series() {
    local dir=$1
    [ -f "$patches/series" ] || return 0
    local p list=()
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        list+=("$patches/$p")
    done < "$patches/series"
    [ ${#list[@]} -eq 0 ] && return 0
    git -C "$dir" -c user.name=uintr -c user.email=uintr@localhost \
        am -q --committer-date-is-author-date "${list[@]}" ||
        die "git am of $project-patches failed in $dir ('git -C $dir am --abort' to clean up)"
}

make_tree() {
    local dir=$1 tb
    [ -e "$dir" ] && die "$dir exists; remove it first or use 'sync'"
    tb=$(tarball)
    mkdir -p "$dir"
    tar -xf "$tb" -C "$dir" --strip-components=1 --no-same-owner
    git -C "$dir" init -q -b master
    git -C "$dir" config core.autocrlf false
    local sub excludes=()
    for sub in ${submodules[@]+"${submodules[@]}"}; do
        git -C "$dir/$sub" init -q -b master
        git -C "$dir/$sub" add -Af .
        git_base "$dir/$sub" commit -q -m "$project base: $sub"
        git -C "$dir" update-index --add --cacheinfo \
            "160000,$(git -C "$dir/$sub" rev-parse HEAD),$sub"
        excludes+=(":!$sub")
    done
    git -C "$dir" add -Af -- . ${excludes[@]+"${excludes[@]}"}
    git_base "$dir" commit -q -m "$project base: $(basename "$tb")"
    git -C "$dir" tag base
    apply_series "$dir"
}

sync_tree() {
    local dir=$1
    [ -d "$dir/.git" ] || { make_tree "$dir"; return; }
    git -C "$dir" am --abort >/dev/null 2>&1 || true
    git -C "$dir" reset -q --hard base
    git -C "$dir" clean -qfdx -e /build/
    apply_series "$dir"
}

export_tree() {
    local dir=$1
    [ -d "$dir/.git" ] || die "$dir is not a tree made by '$0 make'"
    git -C "$dir" diff --quiet HEAD || die "$dir has uncommitted changes"
    rm -f "$patches"/*.patch
    mkdir -p "$patches"
    git -C "$dir" format-patch -q --no-signature --zero-commit \
        -o "$patches" base..HEAD
    (cd "$patches" && ls -1 ./*.patch 2>/dev/null | sed 's|^\./||') > "$patches/series"
    echo "exported $(wc -l < "$patches/series") patch(es) to $patches"
}

case $1 in
tarball) tarball ;;
make) make_tree "${3:?DIR}" ;;
sync) sync_tree "${3:?DIR}" ;;
export) export_tree "${3:?DIR}" ;;
key) series_key ;;
*) die "unknown command $1" ;;
esac
