#!/bin/bash
# record-replies.sh - record raw QMP replies for tests/data
#
#   tests/record-replies.sh QEMU CPU SMP OUTDIR
#
# Starts QEMU (-S -machine q35 -accel tcg -smp SMP -cpu CPU) with a QMP
# socket and writes the replies, byte for byte as QEMU sent them, to
# OUTDIR: greeting.json, query-cpus-fast.json, qom-get-uintr.json and
# feature-words.json (vCPU 0).  Needs python3 (a developer tool, not
# used by the tests themselves).
set -eu
[ $# = 4 ] || { echo "usage: $0 QEMU CPU SMP OUTDIR" >&2; exit 2; }
qemu=$1 cpu=$2 smp=$3 out=$4
tmp=$(mktemp -d)
"$qemu" -qmp "unix:$tmp/q.sock,server=on,wait=off" -display none -S -machine q35 \
    -accel tcg -smp "$smp" -cpu "$cpu" -nodefaults &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -S "$tmp/q.sock" ] && break; sleep 0.05; done
mkdir -p "$out"
python3 - "$tmp/q.sock" "$out" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rwb', buffering=0)
def save(name, line):
    open(sys.argv[2] + '/' + name, 'wb').write(line.rstrip(b'\r\n') + b'\n')
def cmd(c, **args):
    msg = {'execute': c}
    if args:
        msg['arguments'] = args
    f.write(json.dumps(msg).encode() + b'\n')
    while True:
        line = f.readline()
        if b'"event"' not in line:
            return line
save('greeting.json', f.readline())
cmd('qmp_capabilities')
cpus = cmd('query-cpus-fast')
save('query-cpus-fast.json', cpus)
path = json.loads(cpus)['return'][0]['qom-path']
save('qom-get-uintr.json', cmd('qom-get', path=path, property='uintr'))
save('feature-words.json', cmd('qom-get', path=path, property='feature-words'))
PY
ls -l "$out"
