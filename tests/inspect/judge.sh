# Judging `uintrctl check --json` output in the inspect suites (sourced,
# bash, after tests/lib/tap.sh).
#
#   judge LABEL JSON RC EXPECTED_RC [--skip-any] [RULE:RESULT:CPU...]
#
# One TAP line from expect.py's verdict on the document JSON that
# uintrctl wrote with exit status RC; on failure, expect.py's reasons and
# uintrctl's stderr (JSON with .json replaced by .err, if there).

judge_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

judge() {
    local label=$1 json=$2 rc=$3 want=$4 why
    shift 4
    if why=$("$judge_dir/expect.py" "$json" "$rc" "$want" "$@"); then
        t_ok "$label: uintrctl check exits $want${*:+, }$*"
    else
        t_fail "$label: uintrctl check exits $want${*:+, }$*" \
            "$why"$'\n'"$(cat "${json%.json}.err" 2>/dev/null)"
    fi
}
