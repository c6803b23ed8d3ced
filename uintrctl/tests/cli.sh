#!/bin/bash
# cli.sh - command-line behaviour of uintrctl without QEMU or libvirtd:
# usage errors, --help/man page agreement, exit codes for unreachable
# sockets and daemons, and libvirt's in-process test driver (test:///)
# for unknown, stopped and non-QEMU domains.
#
#   UINTRCTL=path/to/uintrctl tests/cli.sh
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
UINTRCTL=${UINTRCTL:-$HERE/../build/uintrctl}
NODE="test://$HERE/data/libvirt-test-node.xml"
TMP=$(mktemp -d /tmp/uintrctl-cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0

# run NAME WANT_RC [STDERR_REGEX] -- ARGS...
run() {
    local name=$1 want=$2 regex=$3
    shift 4
    "$UINTRCTL" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    local why=""
    [ "$rc" = "$want" ] || why="exit $rc, want $want"
    if [ -z "$why" ] && [ -n "$regex" ] && ! grep -Eq -- "$regex" "$TMP/err"; then
        why="stderr does not match /$regex/"
    fi
    if [ -z "$why" ] && [ "$want" != 0 ] && [ "$want" != 1 ]; then
        # an error: exactly one line on stderr, starting with uintrctl:
        if [ "$(wc -l <"$TMP/err")" != 1 ] || ! grep -q '^uintrctl: ' "$TMP/err"; then
            why="stderr is not one 'uintrctl: ' line"
        fi
    fi
    if [ -z "$why" ] && grep -q 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' "$TMP/err"; then
        why="sanitizer report"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1)); echo "ok   $name"
    else
        fail=$((fail + 1)); echo "FAIL $name: $why"
        sed 's/^/     | /' "$TMP/err" | head -20
    fi
}

check() { # NAME CONDITION...
    local name=$1; shift
    if "$@"; then pass=$((pass + 1)); echo "ok   $name"
    else fail=$((fail + 1)); echo "FAIL $name"; fi
}

# --- help, version, man page ---
run help 0 "" -- --help
lists_exit_codes() { # FILE PREFIX_REGEX
    local c
    for c in 0 1 2 3 4 5 6 7 8; do grep -Eq "$2$c( |\$)" "$1" || return 1; done
}
check help-lists-exit-codes lists_exit_codes "$TMP/out" '^  '

check help-lists-cpuid grep -q '^  uintrctl --qmp SOCKET cpuid$' "$TMP/out"
cp "$TMP/out" "$TMP/help"
# every long option of --help is in the man page and the other way round
grep -Eo -- '--[a-z][a-z-]+' "$TMP/help" | sort -u >"$TMP/help-opts"
sed 's/\\-/-/g' "$HERE/../uintrctl.1" | grep -Eo -- '--[a-z][a-z-]+' | sort -u >"$TMP/man-opts"
check man-page-options-match-help diff -u "$TMP/help-opts" "$TMP/man-opts"
check man-page-lists-exit-codes lists_exit_codes "$HERE/../uintrctl.1" '^\.IP ' 
run help-command 0 "" -- help
run version 0 "" -- --version
check version-text grep -Eq '^uintrctl [0-9]+\.[0-9]+' "$TMP/out"

# --- usage errors: exit 2 ---
run no-command 2 "no command given" --
run unknown-command 2 "unknown command 'frobnicate'" -- frobnicate
run no-prefix-guessing 2 "unknown command 'cpu'" -- cpu x
run unknown-option 2 "unknown option '--bogus'" -- --bogus cpuid x
run unknown-short-option 2 "unknown option '-Z'" -- -Z cpuid x
run missing-argument 2 "needs an argument" -- cpuid -c
run bad-timeout-zero 2 "invalid --timeout" -- --timeout 0 --qmp "$TMP/x" cpuid
run bad-timeout-text 2 "invalid --timeout" -- --timeout soon --qmp "$TMP/x" cpuid
run bad-timeout-negative 2 "invalid --timeout" -- -t -1 --qmp "$TMP/x" cpuid
run bad-expect 2 "invalid --expect 'yes'" -- --expect yes --qmp "$TMP/x" cpuid
run connect-and-qmp 2 "exclude each other" -- -c test:///default --qmp "$TMP/x" cpuid
run cpuid-needs-domain 2 "needs a DOMAIN" -- cpuid
run cpuid-one-domain 2 "exactly one DOMAIN" -- -c test:///default cpuid a b
run qmp-no-domain 2 "takes no DOMAIN with --qmp" -- --qmp "$TMP/x" cpuid dom
run qmp-inactive 2 "--inactive needs libvirt" -- --qmp "$TMP/x" --inactive cpuid
run qmp-path-too-long 2 "too long" -- --qmp "/tmp/$(printf 'x%.0s' $(seq 120))" cpuid
check usage-error-stdout-empty test ! -s "$TMP/out"

# --- cannot reach: exit 4 ---
run qmp-missing-socket 4 "No such file or directory" -- --qmp "$TMP/missing.sock" cpuid
: >"$TMP/regular-file"
run qmp-not-a-socket 4 "cannot connect to QMP socket" -- --qmp "$TMP/regular-file" cpuid
run libvirt-missing-socket 4 "cannot connect to libvirt" -- \
    -c "qemu:///session?socket=$TMP/sock/libvirt-sock" cpuid u1
run libvirt-no-driver 4 "cannot connect to libvirt" -- -c "nosuchdriver:///x" cpuid u1

# --- libvirt test driver (in process, no daemon) ---
run unknown-domain 3 "cannot find domain 'nosuch'" -- -c test:///default cpuid nosuch
run options-after-command 3 "cannot find domain" -- cpuid nosuch -c test:///default
run unknown-domain-json 3 "" -- --json -c test:///default cpuid nosuch
check json-error-on-stdout grep -q '^{"error":{"code":3,"name":"no-domain","message":' "$TMP/out"
run domain-not-running 7 "'off1' is not running" -- -c "$NODE" cpuid off1
run domain-not-running-inactive-xml 7 "is not running" -- -c "$NODE" --inactive cpuid off1
run not-a-qemu-domain 8 "only the QEMU driver can" -- -c "$NODE" cpuid on1

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
