# uintrctl helpers for the libvirt suites (sourced, bash; needs UINTRCTL
# and LIBVIRTD_URI, see tests/lib/libvirtd.sh).
#
#   uintrctl_check DOMAIN    uintrctl check passes on a running domain

# uintrctl_check DOMAIN: uintrctl check exits 0, no rule FAILs, and the
# UPID/UITT rules were evaluated (query-uintr answered); the WARNs (the
# guest holds a request with UIF=0 for a while, and posts into a UPID with
# SN set on purpose) go to the log.
uintrctl_check() {
    local out rc
    out=$("$UINTRCTL" -c "$LIBVIRTD_URI" --json check "$1")
    rc=$?
    python3 -c '
import json, sys
doc = json.loads(sys.argv[2])
assert int(sys.argv[1]) == 0, "exit %s: %s" % (sys.argv[1], doc.get("result"))
assert doc["query-uintr"] and doc["summary"]["fail"] == 0, doc["summary"]
rules = {c["rule"] for c in doc["checks"] if c["result"] != "SKIP"}
assert {"UINTR-007", "UINTR-008", "UINTR-009", "UINTR-017"} <= rules, rules
for c in doc["checks"]:
    if c["result"] == "WARN":
        print("# WARN", c["rule"], "cpu", c["cpu"], c["detail"])
' "$rc" "$out"
}
