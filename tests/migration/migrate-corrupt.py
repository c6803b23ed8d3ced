#!/usr/bin/python3
"""Restore a saved guest whose UINTR MSRs were corrupted in the stream.

    migrate-corrupt.py --qemu QEMU --dir DIR [--after S] -- QEMU-ARGS...

Starts QEMU with QEMU-ARGS (a guest that sets up user-interrupt state),
lets it run --after seconds, reads every vCPU's IA32_UINTR_PD with QMP
query-uintr, saves the guest with 'migrate' to "exec:cat > DIR/state" and
quits.  Then, in a copy of the state, sets bit 3 (reserved: a UPID is
64-byte aligned) of the first IA32_UINTR_PD in a cpu/uintr subsection,
after checking that the eight bytes there are one of the PDs QMP
reported, so that the test fails if it does not find what it patches.

Checks:
  - restoring the corrupted copy fails: QEMU exits with status 1 within
    30 s (not killed by a signal: an unaligned UPID would otherwise reach
    an assertion at the next notification), and its stderr names the
    cpu/uintr reserved-bit check
  - control: restoring the unchanged state gives a running guest, which
    then finishes with success (QEMU exit status 1 from isa-debug-exit)

Prints 'outcome: ...' lines and exits 0 only if everything matched.
"""
import argparse
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import time

_spec = importlib.util.spec_from_file_location(
    'migrate_loop', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'migrate-loop.py'))
_ml = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ml)

SUBSECTION = b'cpu/uintr'
# After the name: version_id (be32), then rr, handler, stackadjust, misc
# (be64 each) come before pd (target/i386/machine.c, vmstate_uintr).
PD_OFFSET = len(SUBSECTION) + 4 + 4 * 8
PD_RESERVED_BIT = 1 << 3
REFUSAL = 'cpu/uintr: reserved bits set in IA32_UINTR_MISC'


def corrupt_pd(state, bad, pds):
    """Copy STATE to BAD with a reserved bit set in its first UINTR PD."""
    data = bytearray(open(state, 'rb').read())
    at = data.find(SUBSECTION)
    if at < 0:
        raise RuntimeError(f'no {SUBSECTION.decode()} subsection in the saved state')
    off = at + PD_OFFSET
    (pd,) = struct.unpack_from('>Q', data, off)
    if pd not in pds:
        raise RuntimeError(f'the bytes at the PD offset ({pd:#x}) are none of the PDs '
                           f'query-uintr reported ({", ".join(hex(p) for p in sorted(pds))})')
    struct.pack_into('>Q', data, off, pd | PD_RESERVED_BIT)
    with open(bad, 'wb') as f:
        f.write(data)
    return pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--after', type=float, default=1.0)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('args', nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    args = opts.args[1:] if opts.args[:1] == ['--'] else opts.args
    _ml.exit_on_sigterm()
    outcomes = _ml.Outcomes()
    check, procs = outcomes.check, outcomes.procs

    state = os.path.join(opts.dir, 'state')
    bad = os.path.join(opts.dir, 'state.bad')
    with outcomes:
        src, sq = _ml.start(opts.qemu, args, os.path.join(opts.dir, 'src.sock'))
        procs.append(src)
        time.sleep(opts.after)
        pds = {c['msrs']['pd'] for c in sq.cmd('query-uintr')}
        check(any(pds), f'the guest set up a UPID (IA32_UINTR_PD: '
              f'{", ".join(hex(p) for p in sorted(pds))})')
        sq.cmd('migrate', uri=f'exec:cat > {state}')
        _ml.wait_migrated(sq, src)
        sq.cmd('quit')
        sq.close()
        src.wait(10)
        pd = corrupt_pd(state, bad, pds)
        print(f'outcome: saved {os.path.getsize(state) >> 10} KiB; IA32_UINTR_PD '
              f'{pd:#x} -> {pd | PD_RESERVED_BIT:#x} in the copy', flush=True)

        errpath = os.path.join(opts.dir, 'bad.stderr')
        with open(errpath, 'w') as err:
            dst = subprocess.Popen([opts.qemu] + args + ['-incoming', f'exec:cat {bad}'],
                                   stdin=subprocess.DEVNULL, stderr=err)
        procs.append(dst)
        _ml.record_pid(opts.dir, dst)
        try:
            rc = dst.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        said = open(errpath).read()
        for line in said.splitlines()[-4:]:
            print(f'outcome: QEMU said: {line}')
        check(rc == 1, f'restoring the corrupted state fails with exit status 1 (got {rc})')
        check(REFUSAL in said, f'its error names the check ("{REFUSAL}")')

        shutil.copyfile(state, bad)
        ok, oq = _ml.start(opts.qemu, args, os.path.join(opts.dir, 'ok.sock'),
                           incoming=f'exec:cat {bad}')
        procs.append(ok)
        _ml.wait_running(oq, ok, 'QEMU restoring the unchanged state')
        oq.close()
        try:
            rc = ok.wait(opts.timeout)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 1, f'control: the unchanged state restores and the guest finishes with '
              f'success (QEMU exit status {rc}, want 1)')
    return 0 if outcomes.good else 1


if __name__ == '__main__':
    sys.exit(main())
