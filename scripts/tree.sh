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
# pinned by SHA-256, from Debian 13's source package (scripts/deps.sh adds
# the deb-src entry); QEMU_TARBALL / LIBVIRT_TARBALL name a tarball of your
# own (a qemu-10.0.13 / libvirt-11.3.0 release tarball) to use instead.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${UINTR_CACHE:-/var/cache/uintr}

case ${2:-} in
qemu)
    srcpkg=qemu/trixie
    orig=qemu_10.0.13+ds.orig.tar.xz
    sha=6a0888e806c2ffc0c5f0733e974f9aea55491950d3c47c98669c8b236dde59ae
    user=${QEMU_TARBALL:-}
    ;;
libvirt)
    srcpkg=libvirt/trixie
    # keycodemapdb (subprojects/keycodemapdb since libvirt made it a meson
    # subproject; src/keycodemapdb in 9.0) is a git submodule upstream;
    # libvirt's syntax-check rules skip it only when it is not tracked as files.
    submodules=(subprojects/keycodemapdb)
    orig=libvirt_11.3.0.orig.tar.xz
    sha=6bcb0c42c4580436fea262ced56f68a6afe20f7390b1bea2116718cc034a0283
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
    # One download per project at a time: clones share the cache, and
    # the CPU map and the libvirt build both want the libvirt tarball.
    exec 8> "$dir/.lock-$project"
    flock 8
    if [ ! -e "$dir/$orig" ]; then
        # apt-get may fail on a file we do not need (an upstream signature
        # that the archive no longer has): what counts is the orig tarball
        # and its checksum.
        (cd "$dir" && apt-get source --download-only -qq "$srcpkg" > "$dir/apt-source-$project.log" 2>&1) || true
        [ -e "$dir/$orig" ] ||
            die "apt-get source $srcpkg did not bring $orig (is the trixie deb-src entry configured? run scripts/deps.sh; see $dir/apt-source-$project.log)"
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

# The identity that signs the exported patches: AUTHOR="Name <email>", else
# the git identity configured for the tree, else the project's placeholder.
# Whoever posts the series must sign it off as themselves.
placeholder='UINTR project <uintr@localhost>'
export_identity() {
    local dir=$1 name email
    if [ -n "${AUTHOR:-}" ]; then
        echo "$AUTHOR"
        return
    fi
    name=$(git -C "$dir" config user.name || true)
    email=$(git -C "$dir" config user.email || true)
    if [ -n "$name" ] && [ -n "$email" ]; then
        echo "$name <$email>"
    else
        echo "$placeholder"
    fi
}

export_tree() {
    local dir=$1 ident name email tmp cover
    [ -d "$dir/.git" ] || die "$dir is not a tree made by '$0 make'"
    git -C "$dir" diff --quiet HEAD || die "$dir has uncommitted changes"
    ident=$(export_identity "$dir")
    [[ $ident =~ ^[^\<\>]+\ \<[^\<\>@]+@[^\<\>]+\>$ ]] ||
        die "AUTHOR must read 'Name <email>', not '$ident'"
    name=${ident% <*}
    email=${ident##*<}
    email=${email%>}
    # Author and Signed-off-by become $ident, in a scratch clone, so that
    # the tree itself stays as it is.  Every commit, also for the
    # placeholder: a commit made under whatever git identity the machine
    # had would otherwise go out in that name, without its sign-off.
    tmp=$(mktemp -d)
    git clone -q "$dir" "$tmp/t"
    git -C "$tmp/t" fetch -q origin 'refs/tags/base:refs/tags/base'
    local amend="git commit -q --amend --no-edit --author='$ident' --trailer 'Signed-off-by: $ident'"
    if [ "$ident" != "$placeholder" ]; then
        amend+=" && git log -1 --format=%B | grep -vFx 'Signed-off-by: $placeholder'"
        amend+=" | git commit -q --amend --cleanup=verbatim -F -"
    fi
    # rebase prints a line per --exec even with -q: show them on failure only
    git -C "$tmp/t" -c user.name="$name" -c user.email="$email" \
        rebase -q --committer-date-is-author-date base --exec "$amend" \
        > "$tmp/rebase.log" 2>&1 || { cat "$tmp/rebase.log" >&2; die "re-signing the commits failed"; }
    rm -f "$patches"/*.patch
    mkdir -p "$patches"
    cover=()
    if [ -f "$patches/cover-letter.txt" ]; then
        # The cover letter's text: subject on the first line, then the body.
        git -C "$tmp/t" config branch.master.description "$(cat "$patches/cover-letter.txt")"
        cover=(--cover-letter --cover-from-description=subject)
    fi
    git -C "$tmp/t" -c user.name="$name" -c user.email="$email" \
        format-patch -q --no-signature --zero-commit --from="$ident" \
        ${cover[@]+"${cover[@]}"} -o "$patches" base..HEAD
    rm -rf "$tmp"
    # The series is what git am applies: the cover letter is not in it.
    (cd "$patches" && ls -1 ./*.patch 2>/dev/null | sed 's|^\./||' |
        grep -v '^0000-cover-letter.patch$') > "$patches/series"
    echo "exported $(wc -l < "$patches/series") patch(es) to $patches as $ident"
}

case $1 in
tarball) tarball ;;
make) make_tree "${3:?DIR}" ;;
sync) sync_tree "${3:?DIR}" ;;
export) export_tree "${3:?DIR}" ;;
key) series_key ;;
*) die "unknown command $1" ;;
esac
