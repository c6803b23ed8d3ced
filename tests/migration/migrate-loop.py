#!/usr/bin/python3
"""Live-migrate a running guest back and forth between real QEMU processes.

    migrate-loop.py --qemu QEMU --times N --dir DIR -- QEMU-ARGS...

Starts QEMU with QEMU-ARGS (the guest), then N times: starts a destination
QEMU with the same arguments plus -incoming, migrates the guest to it with
QMP 'migrate' (live, over a unix socket) and quits the source.  The guest's
serial output must go to a chardev file with append=on so that every
QEMU adds to the same log.  Prints one line per migration, then waits for
the last QEMU to exit: the guest ends through isa-debug-exit, and the
script exits 0 only if it reported success (QEMU exit status 1).

Options:
  --mode unix    live migration over a unix socket (default)
  --mode file    savevm-like: 'migrate' to "exec:cat > DIR/stateN", quit the
                 source, then restore with -incoming "exec:cat DIR/stateN"
  --mode savevm  one QEMU throughout (QEMU-ARGS must attach a writable qcow2
                 drive): HMP 'savevm snapN' through QMP human-monitor-command,
                 let the guest run on for --interval, then 'loadvm snapN'
                 (back to the state just saved); each must return "".
                 Then 'info snapshots' must list snap1..snapN, and 'loadvm'
                 of a snapshot that does not exist must fail (non-empty
                 reply) and leave the guest to run on after 'cont'.
  --interval S   guest run time between migrations (default 0)
  --bandwidth B  max-bandwidth in bytes/s (default 8 GiB/s; QEMU's default
                 of 32 MiB/s makes each migration of 128 MiB take seconds)

The last line is "migrations: N completed"; a guest that ends (or a QEMU
that dies) before all migrations are done is a failure.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time


class QMP:
    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile('r')
        self.read()                                  # greeting
        self.cmd('qmp_capabilities')

    def read(self):
        line = self.file.readline()
        if not line:
            raise EOFError('QMP connection closed')
        return json.loads(line)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({'execute': name, 'arguments': args}).encode() + b'\n')
        while True:
            msg = self.read()
            if 'event' in msg:
                continue
            if 'error' in msg:
                raise RuntimeError(f'{name}: {msg["error"]}')
            return msg['return']

    def close(self):
        self.sock.close()


def start(qemu, args, qmp_path, incoming=None):
    cmd = [qemu] + args + ['-qmp', f'unix:{qmp_path},server=on,wait=off']
    if incoming:
        cmd += ['-incoming', incoming]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    record_pid(os.path.dirname(qmp_path), proc)
    return proc, QMP(qmp_path)


def record_pid(dirname, proc):
    """Append the PID to DIR/qemu.pids, for a caller's cleanup trap."""
    with open(os.path.join(dirname, 'qemu.pids'), 'a') as f:
        f.write(f'{proc.pid}\n')


def kill_all(procs):
    """Kill the QEMUs of PROCS that still run."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


class Outcomes:
    """Prints one 'outcome: ...' line per check; good while all held.

    Used as a context manager, it turns a failure to talk to or wait for a
    QEMU into a failed check and kills the QEMUs left in .procs."""

    FAILURES = (RuntimeError, OSError, EOFError, subprocess.TimeoutExpired)

    def __init__(self):
        self.good = True
        self.procs = []

    def check(self, cond, what):
        print(f'outcome: {"as expected" if cond else "WRONG"}: {what}', flush=True)
        self.good &= bool(cond)

    def __enter__(self):
        return self

    def __exit__(self, etype, e, tb):
        handled = etype is not None and issubclass(etype, self.FAILURES)
        if handled:
            self.check(False, f'exception: {e}')
        kill_all(self.procs)
        return handled


def exit_on_sigterm():
    """SIGTERM unwinds through 'finally', which kills the QEMUs."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def wait_running(q, proc, what):
    while q.cmd('query-status')['status'] != 'running':
        if proc.poll() is not None:
            raise RuntimeError(f'{what} exited with {proc.returncode}')
        time.sleep(0.005)


def wait_migrated(q, proc):
    """Poll query-migrate on the source until it completed; returns its info."""
    while True:
        info = q.cmd('query-migrate')
        status = info.get('status')
        if status == 'completed':
            return info
        if status in ('failed', 'cancelled'):
            raise RuntimeError(f'{status}: {info.get("error-desc", "")}')
        if proc.poll() is not None:
            raise RuntimeError(f'source exited with {proc.returncode} (guest ended?)')
        time.sleep(0.005)


def hmp(q, line):
    return q.cmd('human-monitor-command', **{'command-line': line})


def savevm_loadvm(q, proc, i, interval, t0):
    """savevm snapI, run on for INTERVAL s, loadvm snapI: both must reply ""."""
    name = f'snap{i}'
    out = hmp(q, f'savevm {name}')
    if out != '':
        raise RuntimeError(f'savevm {name}: {out.strip()!r}')
    t1 = time.monotonic()
    wait_running(q, proc, 'QEMU after savevm')
    if interval:
        time.sleep(interval)
    if proc.poll() is not None:
        raise RuntimeError(f'QEMU exited with {proc.returncode} before loadvm (guest ended?)')
    t2 = time.monotonic()
    out = hmp(q, f'loadvm {name}')
    if out != '':
        raise RuntimeError(f'loadvm {name}: {out.strip()!r}')
    wait_running(q, proc, 'QEMU after loadvm')
    t3 = time.monotonic()
    print(f'savevm/loadvm {i}: savevm {name} in {1000 * (t1 - t0):.0f} ms, '
          f'ran {1000 * (t2 - t1):.0f} ms, loadvm {name} and running in '
          f'{1000 * (t3 - t2):.0f} ms', flush=True)


def check_snapshots(q, proc, times):
    """'info snapshots' lists snap1..snapTIMES; loadvm of a missing one fails."""
    out = hmp(q, 'info snapshots')
    names = set()
    for line in out.splitlines():
        f = line.split()
        # ID is '--' in the list of snapshots present on all disks
        if len(f) > 1 and (f[0].isdigit() or f[0] == '--'):
            names.add(f[1])
    want = [f'snap{i}' for i in range(1, times + 1)]
    missing = [w for w in want if w not in names]
    if missing:
        raise RuntimeError(f'info snapshots lacks {" ".join(missing)}: {out!r}')
    print(f'info snapshots: lists {" ".join(want)}', flush=True)
    # Negative: the reply check must see a failure.  A missing snapshot is
    # refused before anything is loaded, but HMP loadvm leaves the VM
    # stopped, so 'cont'.
    out = hmp(q, 'loadvm nosuchsnap')
    if out == '':
        raise RuntimeError('loadvm nosuchsnap: empty reply (success?)')
    if q.cmd('query-status')['status'] != 'running':
        q.cmd('cont')
    wait_running(q, proc, 'QEMU after the refused loadvm')
    print(f'loadvm nosuchsnap: refused ({out.strip()}), guest running again', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--times', type=int, default=20)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--mode', choices=('unix', 'file', 'savevm'), default='unix')
    ap.add_argument('--interval', type=float, default=0)
    ap.add_argument('--bandwidth', type=int, default=8 << 30)
    ap.add_argument('args', nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    args = opts.args[1:] if opts.args[:1] == ['--'] else opts.args
    exit_on_sigterm()

    procs = []
    done = 0
    rc = 1
    try:
        src, sq = start(opts.qemu, args, os.path.join(opts.dir, 'qmp0.sock'))
        procs.append(src)
        for i in range(1, opts.times + 1):
            if opts.interval:
                time.sleep(opts.interval)
            if src.poll() is not None:
                raise RuntimeError(f'source exited with {src.returncode} before migration (guest ended?)')
            sq.cmd('migrate-set-parameters', **{'max-bandwidth': opts.bandwidth})
            qmp = os.path.join(opts.dir, f'qmp{i}.sock')
            t0 = time.monotonic()
            if opts.mode == 'savevm':
                savevm_loadvm(sq, src, i, opts.interval, t0)
                done = i
                continue
            if opts.mode == 'unix':
                mig = os.path.join(opts.dir, f'mig{i}.sock')
                dst, dq = start(opts.qemu, args, qmp, incoming=f'unix:{mig}')
                procs.append(dst)
                t1 = time.monotonic()
                sq.cmd('migrate', uri=f'unix:{mig}')
                info = wait_migrated(sq, src)
                wait_running(dq, dst, 'destination')
                t2 = time.monotonic()
                sq.cmd('quit')
                sq.close()
                src.wait(10)
                print(f'migration {i}: completed in {1000 * (t2 - t1):.0f} ms '
                      f'(+{1000 * (t1 - t0):.0f} ms destination start), '
                      f'downtime {info.get("downtime", "?")} ms', flush=True)
            else:
                state = os.path.join(opts.dir, f'state{i}')
                sq.cmd('migrate', uri=f'exec:cat > {state}')
                info = wait_migrated(sq, src)
                t1 = time.monotonic()
                sq.cmd('quit')
                sq.close()
                src.wait(10)
                size = os.path.getsize(state)
                dst, dq = start(opts.qemu, args, qmp, incoming=f'exec:cat {state}')
                procs.append(dst)
                wait_running(dq, dst, 'restored QEMU')
                t2 = time.monotonic()
                os.unlink(state)
                print(f'save/restore {i}: saved {size >> 10} KiB in {1000 * (t1 - t0):.0f} ms, '
                      f'restored and running in {1000 * (t2 - t1):.0f} ms', flush=True)
            done = i
            src, sq = dst, dq
        if opts.mode == 'savevm':
            check_snapshots(sq, src, opts.times)
        sq.close()
        st = src.wait(opts.timeout)
        # isa-debug-exit: the guest wrote 0 (all passed) -> QEMU exits 1.
        print(f'guest ended, QEMU exit status {st}')
        rc = 0 if st == 1 else 1
    except subprocess.TimeoutExpired:
        print(f'guest did not finish within {opts.timeout} s')
    except (RuntimeError, OSError, EOFError) as e:
        print(f'migration {done + 1}: {e}')
    finally:
        kill_all(procs)
        print(f'migrations: {done} completed', flush=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
