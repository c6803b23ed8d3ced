#!/usr/bin/env python3
"""Watch a guest's 32-bit round counter (in guest physical memory, read
with HMP xp over QMP) and require it to move in every window.

    progress.py SOCKET ADDRESS SECONDS WINDOW_MS

A one-second before/after sample misses a vCPU that stops for a while and
then goes on; this looks at every WINDOW_MS.  Prints one line,
"FIRST -> LAST, N windows, M without progress[: at T s, ...]", and exits 0
when every window moved, 1 when one did not, 2 on a QMP problem.
"""
import importlib.util
import os
import re
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "migrate_loop", os.path.join(here, "..", "migration", "migrate-loop.py"))
migrate_loop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(migrate_loop)


def rounds(q, addr):
    reply = q.cmd("human-monitor-command", **{"command-line": "xp /1wu " + addr})
    m = re.search(r":\s*(\d+)\s*$", reply.strip())
    if not m:
        raise ValueError(f"unexpected xp reply {reply!r}")
    return int(m.group(1))


def main():
    path, addr = sys.argv[1], sys.argv[2]
    seconds, window = float(sys.argv[3]), float(sys.argv[4]) / 1000
    try:
        q = migrate_loop.QMP(path, timeout=30)
        first = prev = rounds(q, addr)
        start = time.monotonic()
        stuck = []
        n = 0
        while n * window < seconds:
            time.sleep(window)
            n += 1
            cur = rounds(q, addr)
            if cur == prev:
                stuck.append(f"{time.monotonic() - start:.2f} s")
            prev = cur
        q.close()
    except (OSError, EOFError, RuntimeError, ValueError) as e:
        print(f"progress: {e}")
        return 2
    line = f"{first} -> {prev}, {n} windows, {len(stuck)} without progress"
    if stuck:
        line += ": at " + ", ".join(stuck[:5]) + (" ..." if len(stuck) > 5 else "")
    print(line)
    return 1 if stuck else 0


if __name__ == "__main__":
    sys.exit(main())
