#!/usr/bin/python3
"""Migrate a running guest to a different QEMU binary; check the outcome.

    migrate-refuse.py --qemu SRC-QEMU --dest-qemu DST-QEMU --dir DIR
                      --expect fail|succeed [--after S]
                      --dest-args 'ARG ...' -- SRC-ARGS...

Starts the source with SRC-ARGS, lets the guest run --after seconds, starts
the destination with --dest-args (split on blanks) and -incoming defer,
enables the 'return-path' capability on both (without it the source cannot
learn that the destination rejected the stream and stays paused as if the
migration had completed), and migrates over a unix socket.

--expect fail: the migration must end 'failed', the destination must exit
non-zero, the source must report query-status 'running' afterwards, and the
guest must then finish on the source with success (QEMU exit status 1).
--expect succeed: the migration must complete and the destination must be
'running' (the guest is then killed: used as a control that the two binaries
and argument sets can migrate at all).

Prints 'outcome: ...' lines and exits 0 only if everything matched.
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import time

_spec = importlib.util.spec_from_file_location(
    'migrate_loop', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'migrate-loop.py'))
_ml = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ml)
QMP = _ml.QMP


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--dest-qemu', required=True)
    ap.add_argument('--dest-args', required=True)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--after', type=float, default=1.0)
    ap.add_argument('--expect', choices=('fail', 'succeed'), required=True)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('args', nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    args = opts.args[1:] if opts.args[:1] == ['--'] else opts.args
    tag = opts.expect
    _ml.exit_on_sigterm()
    outcomes = _ml.Outcomes()
    check, procs = outcomes.check, outcomes.procs

    with outcomes:
        sqmp = os.path.join(opts.dir, f'{tag}-src.sock')
        src = subprocess.Popen([opts.qemu] + args + ['-qmp', f'unix:{sqmp},server=on,wait=off'],
                               stdin=subprocess.DEVNULL)
        procs.append(src)
        _ml.record_pid(opts.dir, src)
        sq = QMP(sqmp)
        time.sleep(opts.after)
        check(sq.cmd('query-status')['status'] == 'running' and src.poll() is None,
              f'source running after {opts.after} s')

        dqmp = os.path.join(opts.dir, f'{tag}-dst.sock')
        derr = open(os.path.join(opts.dir, f'{tag}-dst.stderr'), 'w+')
        dst = subprocess.Popen([opts.dest_qemu] + opts.dest_args.split() +
                               ['-qmp', f'unix:{dqmp},server=on,wait=off', '-incoming', 'defer'],
                               stdin=subprocess.DEVNULL, stderr=derr)
        procs.append(dst)
        _ml.record_pid(opts.dir, dst)
        dq = QMP(dqmp)
        caps = [{'capability': 'return-path', 'state': True}]
        dq.cmd('migrate-set-capabilities', capabilities=caps)
        sq.cmd('migrate-set-capabilities', capabilities=caps)
        sq.cmd('migrate-set-parameters', **{'max-bandwidth': 8 << 30})
        mig = os.path.join(opts.dir, f'{tag}-mig.sock')
        dq.cmd('migrate-incoming', uri=f'unix:{mig}')
        t0 = time.monotonic()
        sq.cmd('migrate', uri=f'unix:{mig}')
        deadline = t0 + 30
        while True:
            info = sq.cmd('query-migrate')
            status = info.get('status')
            if status in ('completed', 'failed', 'cancelled') or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        ms = 1000 * (time.monotonic() - t0)
        print(f'outcome: migration status {status} after {ms:.0f} ms'
              f'{": " + info["error-desc"] if "error-desc" in info else ""}', flush=True)

        if opts.expect == 'fail':
            check(status == 'failed', f'migration failed (status {status})')
            try:
                drc = dst.wait(10)
            except subprocess.TimeoutExpired:
                drc = None
            derr.seek(0)
            for line in derr.read().splitlines()[-4:]:
                print(f'outcome: destination said: {line}')
            check(drc not in (None, 0), f'destination exited with an error (status {drc})')
            # The source resumes the guest after the failure.
            st = None
            for _ in range(200):
                st = sq.cmd('query-status')['status']
                if st == 'running':
                    break
                time.sleep(0.01)
            check(st == 'running', f'source query-status after the failure is running (got {st})')
            sq.close()
            rc = None
            if st == 'running':
                try:
                    rc = src.wait(opts.timeout)
                except subprocess.TimeoutExpired:
                    pass
            check(rc == 1, f'guest finished on the source with success (QEMU exit status {rc}, want 1)')
        else:
            check(status == 'completed', f'migration completed (status {status})')
            st = None
            for _ in range(500):
                if dst.poll() is not None:
                    break
                st = dq.cmd('query-status')['status']
                if st == 'running':
                    break
                time.sleep(0.01)
            check(st == 'running', f'destination running after the migration (got {st})')
    return 0 if outcomes.good else 1


if __name__ == '__main__':
    sys.exit(main())
