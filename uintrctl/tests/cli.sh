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
    for c in 0 1 2 3 4 5 6 7 8 9; do grep -Eq "$2$c( |\$)" "$1" || return 1; done
}
check help-lists-exit-codes lists_exit_codes "$TMP/out" '^  '

check help-lists-cpuid grep -q '^  uintrctl --qmp SOCKET cpuid$' "$TMP/out"
check help-lists-check grep -q '^  uintrctl --qmp SOCKET \[--interval MS\] check$' "$TMP/out"
check help-lists-show grep -q '^  uintrctl --qmp SOCKET show$' "$TMP/out"
check help-mentions-taint grep -q "'custom-monitor' taint" "$TMP/out"
check man-page-mentions-taint grep -q 'custom\\-monitor' "$HERE/../uintrctl.1"
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
run check-needs-domain 2 "'check' needs a DOMAIN" -- check
run show-one-domain 2 "'show' takes exactly one DOMAIN" -- -c test:///default show a b
run check-qmp-no-domain 2 "'check' takes no DOMAIN with --qmp" -- --qmp "$TMP/x" check dom
run show-inactive 2 "--inactive does not apply" -- -c test:///default --inactive show dom
run bad-interval-text 2 "invalid --interval 'soon'" -- --interval soon --qmp "$TMP/x" check
run bad-interval-big 2 "invalid --interval" -- -n 60001 --qmp "$TMP/x" check
run bad-interval-negative 2 "invalid --interval" -- -n -1 --qmp "$TMP/x" check
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
run check-not-running 7 "'off1' is not running" -- -c "$NODE" check off1
run show-not-running 7 "'off1' is not running" -- -c "$NODE" show off1
run check-unknown-domain 3 "cannot find domain" -- -c test:///default check nosuch
run check-not-qemu 8 "only the QEMU driver can" -- -c "$NODE" check on1
run show-not-qemu 8 "only the QEMU driver can" -- -c "$NODE" show on1
run check-missing-socket 4 "No such file" -- --qmp "$TMP/missing.sock" check

# --- check and show against a scripted QMP monitor (tests/fake-qmp.py) ---
D=$HERE/data
# fake NAME KEY=FILE...: start a fake QEMU on $TMP/NAME.sock
fake() {
    local sock=$TMP/$1.sock; shift
    python3 "$HERE/fake-qmp.py" "$sock" "$@" 2>"$TMP/fake.err" &
    for _ in $(seq 100); do [ -S "$sock" ] && return; sleep 0.05; done
    echo "fake-qmp did not start: $(cat "$TMP/fake.err")"
}
printf '{"return": true}\n' >"$TMP/qom-get-true.json"
UINTR=("query-cpus-fast=$D/query-cpus-fast-2.json"
       "qom-get:uintr=$TMP/qom-get-true.json"
       "qom-get:feature-words=$D/feature-words-uintr-xsaves.json")

fake ok "${UINTR[@]}" "query-uintr=$D/query-uintr-xapic.json"
run check-healthy 0 "" -- --qmp "$TMP/ok.sock" --expect on --interval 10 check
check check-healthy-every-rule grep -q '^UINTR-0[0-9][0-9]  PASS' "$TMP/out"
check check-healthy-summary grep -q '^check: 35 results: 31 passed, 0 failed' "$TMP/out"
wait

python3 - "$D/query-uintr-xapic.json" >"$TMP/bad-nv.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
u = r["return"][1]["upid"]
u["status"] = (0xed << 16) | (0x100 << 32); u["nv"] = 0xed
print(json.dumps(r))
PY
fake bad "${UINTR[@]}" "query-uintr=$TMP/bad-nv.json"
run check-wrong-nv 1 "check: 35 results: .* 1 failed" -- --qmp "$TMP/bad.sock" -n 0 check
check check-wrong-nv-line grep -q '^UINTR-008  FAIL  vCPU 1: UPID.NV equals UINV: UPID.NV 0xed, UINV 0xec  (' "$TMP/out"
wait

fake old "${UINTR[@]}"
run check-no-query-uintr 9 "has no 'query-uintr' command" -- --qmp "$TMP/old.sock" --json check
check check-no-query-uintr-json python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["result"]["code"] == 9 and d["query-uintr"] is False
r = {c["rule"]: c["result"] for c in d["checks"] if c["cpu"] in (None, 0)}
assert r["UINTR-001"] == "SKIP" and r["UINTR-003"] == "PASS", r
assert all(r[k] == "SKIP" for k in r if k not in ("UINTR-001", "UINTR-003")), r
' "$TMP/out"
wait

fake show "query-uintr=$D/query-uintr-x2apic.json"
run show-text 0 "" -- --qmp "$TMP/show.sock" show
check show-text-tables grep -q '^1     1/x2apic  3' "$TMP/out"
wait
fake showj "query-uintr=$D/query-uintr-x2apic.json"
run show-json 0 "" -- --qmp "$TMP/showj.sock" --json show
check show-json-is-query-uintr python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); q = json.load(open(sys.argv[2]))
assert d["vcpus"] == q["return"] and d["source"]["type"] == "qmp"
' "$TMP/out" "$D/query-uintr-x2apic.json"
wait
fake showold
run show-no-query-uintr 9 "has no 'query-uintr' command" -- --qmp "$TMP/showold.sock" show
wait
python3 -c 'print("{\"return\": [{\"cpu-index\": -1}]}")' >"$TMP/garbage.json"
fake showbad "query-uintr=$TMP/garbage.json"
run show-garbage 5 "malformed reply to 'query-uintr'" -- --qmp "$TMP/showbad.sock" show
wait

# --- bash completion ---
COMP=$HERE/../completion/uintrctl.bash
complete_words() { # LINE: print the completions of the last word
    bash -c '
        complete() { :; }
        source "$1"
        read -ra COMP_WORDS <<<"$2"
        [ "${2: -1}" = " " ] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$2 COMP_POINT=${#2}
        _uintrctl
        printf "%s
" "${COMPREPLY[@]}"' _ "$COMP" "$1"
}
check completion-commands test "$(complete_words 'uintrctl ' | sort | tr '\n' ' ')" = "check cpuid help show "
check completion-options eval 'complete_words "uintrctl --int" | grep -qx -- --interval'
check completion-expect eval 'test "$(complete_words "uintrctl --expect " | tr "\n" " ")" = "on off "'
# Domain names come from virsh: the one libvirt's build installed in
# LIBVIRT_PREFIX (make check builds it) or, failing that, the system's.
# Without any virsh the test fails; it does not pass without looking.
LIBVIRT_PREFIX=${LIBVIRT_PREFIX:-${UINTR_CACHE:-/var/cache/uintr}/libvirt/prefix}
[ -x "$LIBVIRT_PREFIX/bin/virsh" ] && PATH=$LIBVIRT_PREFIX/bin:$PATH
if command -v virsh >/dev/null; then
    check completion-domains eval 'complete_words "uintrctl -c test:///default check " | grep -qx test'
else
    fail=$((fail + 1))
    echo "FAIL completion-domains: no virsh in $LIBVIRT_PREFIX/bin or PATH (make libvirt)"
fi

# --- make install ---
DEST=$TMP/dest
if make -s -C "$HERE/.." install PREFIX=/opt/u DESTDIR="$DEST" >"$TMP/install.log" 2>&1; then
    check install-binary test -x "$DEST/opt/u/bin/uintrctl"
    check install-man test -s "$DEST/opt/u/share/man/man1/uintrctl.1"
    check install-completion cmp -s "$COMP" "$DEST/opt/u/share/bash-completion/completions/uintrctl"
    check installed-binary-runs eval '"$DEST/opt/u/bin/uintrctl" --version | grep -q "^uintrctl "'
else
    fail=$((fail + 1)); echo "FAIL install"; sed 's/^/     | /' "$TMP/install.log" | tail -5
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
