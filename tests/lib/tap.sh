# Minimal result bookkeeping for the shell test suites (sourced, bash).
#
#   t_ok NAME / t_fail NAME WHY / t_check NAME CMD... / t_done SUITE
#
# t_done prints "SUITE: N passed, M failed" and returns non-zero on failure.

t_pass=0
t_failed=0

t_ok() {
    t_pass=$((t_pass + 1))
    echo "ok $((t_pass + t_failed)) - $1"
}

t_fail() {
    t_failed=$((t_failed + 1))
    echo "not ok $((t_pass + t_failed)) - $1"
    [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}

t_check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        t_ok "$name"
    else
        t_fail "$name" "$(printf '%s\n' "\$ $*" "$out" | tail -15)"
    fi
}

t_done() {
    echo "$1: $t_pass passed, $t_failed failed"
    [ "$t_failed" -eq 0 ]
}
