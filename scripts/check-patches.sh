#!/bin/bash
# Static checks of the two series: every QEMU patch passes QEMU's
# scripts/checkpatch.pl, and each series applies with 'git am' to its
# pristine base (tree.sh make does exactly that), and each patch is
# signed off by its author.  Building every patch on
# its own is 'make check-series' (slower, not part of make check).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/#   /'; }

for p in qemu libvirt; do
    if out=$("$top/scripts/tree.sh" make $p "$tmp/$p" 2>&1); then
        ok "$p-patches apply with git am to the pristine base"
    else
        bad "$p-patches apply with git am to the pristine base" "$out"
    fi
done

# The author of each patch (the in-body From: if there is one, else the
# mail's) signs it off: a commit made under another git identity would be
# posted in someone else's name, without their Signed-off-by.
author_signs_off() {
    local file=$1 info author
    info=$(git mailinfo "$tmp/msg" /dev/null < "$file") || return 1
    author="$(sed -n 's/^Author: //p' <<< "$info") <$(sed -n 's/^Email: //p' <<< "$info")>"
    grep -qFx "Signed-off-by: $author" "$tmp/msg" ||
        { echo "author $author has no Signed-off-by"; return 1; }
}
for p in qemu libvirt; do
    while read -r f; do
        case $f in ''|'#'*) continue ;; esac
        if out=$(author_signs_off "$top/$p-patches/$f" 2>&1); then
            ok "author signs off: $f"
        else
            bad "author signs off: $f" "$out"
        fi
    done < "$top/$p-patches/series"
done

while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    if out=$("$tmp/qemu/scripts/checkpatch.pl" --root="$tmp/qemu" --patch "$top/qemu-patches/$p" 2>&1); then
        ok "checkpatch.pl: $p"
    else
        bad "checkpatch.pl: $p" "$out"
    fi
done < "$top/qemu-patches/series"

echo "patches: $pass passed, $fail failed"
[ $fail -eq 0 ]
