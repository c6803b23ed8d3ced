#!/usr/bin/env python3
# fake-qmp.py - a scripted QEMU QMP monitor for tests/cli.sh: serves one
# connection on a unix socket, then exits.
#
#   fake-qmp.py SOCKET KEY=FILE...
#
# KEY is a command ("query-uintr") or "qom-get:PROPERTY"; FILE a reply
# from tests/data (its "id" is set to the command's).  A command without
# a KEY gets CommandNotFound, as from a QEMU that lacks it.
import json, os, socket, sys

path, replies = sys.argv[1], {}
for arg in sys.argv[2:]:
    key, _, file = arg.partition("=")
    replies[key] = json.load(open(file))
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path + ".tmp")
srv.listen(1)
os.rename(path + ".tmp", path)       # appears only once it listens
srv.settimeout(20)
conn, _ = srv.accept()
conn.settimeout(20)
f = conn.makefile("rwb")
f.write(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
f.flush()
for line in f:
    cmd = json.loads(line)
    name = cmd["execute"]
    if name == "qom-get":
        name = "qom-get:" + cmd["arguments"]["property"]
    if name == "qmp_capabilities":
        reply = {"return": {}}
    elif name in replies:
        reply = dict(replies[name])
    else:
        reply = {"error": {"class": "CommandNotFound",
                           "desc": "The command %s has not been found" % name}}
    if "id" in cmd:
        reply["id"] = cmd["id"]
    f.write(json.dumps(reply).encode() + b"\r\n")
    f.flush()
