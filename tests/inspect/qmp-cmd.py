#!/usr/bin/env python3
"""Run one QMP command on a QEMU QMP socket and print its return value as
JSON (the test scripts' QMP client; tests/migration/migrate-loop.py's QMP
class does the talking).

    qmp-cmd.py SOCKET COMMAND [ARGUMENTS-AS-JSON-OBJECT]

Exit status 0 on a "return", 1 on an "error" reply or a connection problem
(the reason on stderr).
"""
import importlib.util
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "migrate_loop", os.path.join(here, "..", "migration", "migrate-loop.py"))
migrate_loop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(migrate_loop)


def main():
    path, name = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    try:
        q = migrate_loop.QMP(path, timeout=30)
        print(json.dumps(q.cmd(name, **args)))
        q.close()
    except (OSError, EOFError, RuntimeError, ValueError) as e:
        print(f"qmp-cmd: {name}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
