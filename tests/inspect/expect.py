#!/usr/bin/env python3
"""Judge one `uintrctl check --json` document against what a broken state
should produce.

    expect.py JSON RC EXPECTED_RC [--skip-any] [RULE:RESULT:CPU ...]

Passes (exit 0) only if uintrctl exited EXPECTED_RC, the document parses,
has a "checks" list and a "result" whose "code" is RC, every
RULE:RESULT:CPU is in the list (CPU "-" for a domain-wide rule), and every
other entry is PASS, or SKIP where an expectation allows it: SKIP is
accepted only on a vCPU that has an expected FAIL/WARN (rules that depend
on the broken item cannot be evaluated), never on a healthy guest;
--skip-any accepts SKIP anywhere (a guest with no UINTR state at all).
Prints one line per problem.
"""
import json
import sys


def main():
    path, rc, want_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    wanted = set()
    specs = sys.argv[4:]
    skip_any = "--skip-any" in specs
    specs = [s for s in specs if s != "--skip-any"]
    for spec in specs:
        rule, result, cpu = spec.split(":")
        wanted.add((rule, result, None if cpu == "-" else int(cpu)))
    problems = []
    if rc != want_rc:
        problems.append(f"uintrctl exited {rc}, expected {want_rc}")
    try:
        with open(path) as f:
            doc = json.load(f)
        checks = doc["checks"]
        code = doc["result"]["code"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"no usable JSON document in {path}: {e!r}")
        return 1
    if code != rc:
        problems.append(f"result.code {code} but exit status {rc}")
    if not checks:
        problems.append("empty checks list")
    broken_cpus = {cpu for _, _, cpu in wanted}
    seen = set()
    for c in checks:
        key = (c.get("rule"), c.get("result"), c.get("cpu"))
        if key in wanted:
            seen.add(key)
            continue
        if c.get("result") == "PASS":
            continue
        if c.get("result") == "SKIP" and (skip_any or
                                          c.get("cpu") in broken_cpus):
            continue
        problems.append("unexpected %s %s on cpu %s: %s" %
                        (c.get("rule"), c.get("result"), c.get("cpu"),
                         c.get("detail")))
    for rule, result, cpu in sorted(wanted - seen, key=str):
        problems.append(f"missing {rule} {result} on cpu {cpu}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
