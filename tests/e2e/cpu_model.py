#!/usr/bin/env python3
"""Compare a libvirt cpu_map CPU model with the QEMU CPU model of that name.

    cpu_model.py COMMAND --qemu QEMU --cpu-map DIR [--model NAME] [--model-file FILE]

QEMU is asked over QMP (-machine none, or a -S q35 machine for 'instance');
libvirt's side is read from the cpu_map XML files (x86_features.xml,
x86_vendors.xml and the model file) with xml.etree.  libvirt's feature
names are turned into QEMU's through the cpu_map itself: the name, the name
with '_' as '-', and its <alias source='qemu'/> names.

Commands (each prints what it found; exit 0 when it holds, 1 when not,
2 on a usage or QMP error):
  qemu-defs     query-cpu-definitions has MODEL as an alias of MODEL-v1,
                both usable under TCG (no unavailable-features)
  signature     QEMU's vendor/family/model equal libvirt's <vendor> and
                <signature>, and stepping/level/xlevel are the documented ones
  lv-in-qemu    every feature libvirt's model lists is on in QEMU's model
  qemu-in-lv    every feature QEMU's model has on is listed by libvirt's
                model (features libvirt's map does not name are reported)
  instance      a QEMU vCPU of the model, under TCG, has every feature of
                the static expansion on and nothing filtered
"""
import argparse
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

# What QEMU's SapphireRapids-UINTR is documented to be, beyond the
# signature and features libvirt's model also says.
EXPECTED = {"stepping": 8, "level": 0xD, "xlevel": 0x80000008}


class QMP:
    def __init__(self, qemu, args):
        self.p = subprocess.Popen(
            [qemu, "-accel", "tcg", "-nodefaults", "-display", "none",
             "-qmp", "stdio"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()                                  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("QEMU closed QMP (exit %s)" % self.p.wait())
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError("%s: %s" % (name, reply["error"]))
        return reply["return"]

    def close(self):
        try:
            self.cmd("quit")
        except (RuntimeError, BrokenPipeError, ValueError):
            pass
        self.p.wait(timeout=10)


def expand(qemu, model, kind):
    q = QMP(qemu, ["-machine", "none"])
    try:
        return q.cmd("query-cpu-model-expansion", type=kind,
                     model={"name": model})["model"]
    finally:
        q.close()


class CpuMap:
    """libvirt's x86 features, vendors and one model, from cpu_map XML."""

    def __init__(self, cpu_map, model, model_file=None):
        feats = ET.parse(os.path.join(cpu_map, "x86_features.xml")).getroot()
        self.features = {}                   # libvirt name -> QEMU candidates
        for f in feats.iter("feature"):
            name = f.get("name")
            cands = [name, name.replace("_", "-")]
            cands += [a.get("name") for a in f.findall("alias")
                      if a.get("source") == "qemu"]
            self.features[name] = cands
        vendors = ET.parse(os.path.join(cpu_map, "x86_vendors.xml")).getroot()
        self.vendors = {v.get("name"): v.get("string")
                        for v in vendors.iter("vendor")}
        path = model_file or os.path.join(cpu_map, "x86_%s.xml" % model)
        m = ET.parse(path).getroot().find("model[@name='%s']" % model)
        if m is None:
            raise RuntimeError("%s has no model %s" % (path, model))
        self.model_features = [f.get("name") for f in m.findall("feature")]
        v = m.find("vendor")
        self.vendor = v.get("name") if v is not None else None
        s = m.find("signature")
        self.signature = (int(s.get("family")), int(s.get("model"))) \
            if s is not None else None
        self.path = path

    def to_qemu(self, name, qemu_props):
        """The QEMU property name of libvirt feature NAME, or None."""
        for c in self.features.get(name, [name]):
            if c in qemu_props:
                return c
        return None

    def from_qemu(self, qname):
        """The libvirt names whose QEMU candidates include QNAME."""
        return [n for n, c in self.features.items() if qname in c]


def cmd_qemu_defs(a):
    q = QMP(a.qemu, ["-machine", "none"])
    try:
        defs = {d["name"]: d for d in q.cmd("query-cpu-definitions")}
    finally:
        q.close()
    ok = True
    alias, v1 = defs.get(a.model), defs.get(a.model + "-v1")
    if alias is None or v1 is None:
        print("missing from query-cpu-definitions: %s" %
              [n for n in (a.model, a.model + "-v1") if n not in defs])
        return 1
    print("%s: %s" % (a.model, json.dumps(alias, sort_keys=True)))
    if alias.get("alias-of") != a.model + "-v1":
        print("%s is not an alias of %s-v1" % (a.model, a.model))
        ok = False
    for d in (alias, v1):
        if d.get("unavailable-features"):
            print("%s unavailable under TCG: %s" %
                  (d["name"], d["unavailable-features"]))
            ok = False
    return 0 if ok else 1


def cmd_signature(a):
    lv = CpuMap(a.cpu_map, a.model, a.model_file)
    p = expand(a.qemu, a.model, "full")["props"]
    got = {k: p.get(k) for k in
           ("vendor", "family", "model", "stepping", "level", "xlevel")}
    print("QEMU: %s" % json.dumps(got, sort_keys=True))
    print("libvirt: vendor %s (%s), signature family/model %s" %
          (lv.vendor, lv.vendors.get(lv.vendor), lv.signature))
    bad = []
    if lv.vendors.get(lv.vendor) != got["vendor"]:
        bad.append("vendor")
    if lv.signature != (got["family"], got["model"]):
        bad.append("family/model")
    bad += [k for k, v in EXPECTED.items() if got[k] != v]
    if bad:
        print("differ: %s" % ", ".join(bad))
        return 1
    return 0


def cmd_lv_in_qemu(a):
    lv = CpuMap(a.cpu_map, a.model, a.model_file)
    full = expand(a.qemu, a.model, "full")["props"]
    unknown, off = [], []
    for f in lv.model_features:
        q = lv.to_qemu(f, full)
        if q is None:
            unknown.append(f)
        elif full[q] is not True:
            off.append("%s (QEMU %s)" % (f, q))
    print("libvirt's %s lists %d features" % (a.model, len(lv.model_features)))
    if unknown:
        print("QEMU has no property for: %s" % ", ".join(unknown))
    if off:
        print("off in QEMU's %s: %s" % (a.model, ", ".join(off)))
    return 1 if unknown or off else 0


def cmd_qemu_in_lv(a):
    lv = CpuMap(a.cpu_map, a.model, a.model_file)
    static = expand(a.qemu, a.model, "static")["props"]
    on = sorted(k for k, v in static.items() if v is True)
    listed = set(lv.model_features)
    missing, unnamed = [], []
    for q in on:
        names = lv.from_qemu(q)
        if not names:
            unnamed.append(q)
        elif not listed.intersection(names):
            missing.append("%s (libvirt %s)" % (q, "/".join(names)))
    print("QEMU's %s has %d features on" % (a.model, len(on)))
    if unnamed:
        print("not named by libvirt's cpu_map (not compared): %s" %
              ", ".join(unnamed))
    if missing:
        print("not in libvirt's %s: %s" % (a.model, ", ".join(missing)))
        return 1
    return 0


def cmd_instance(a):
    static = expand(a.qemu, a.model, "static")["props"]
    on = sorted(k for k, v in static.items() if v is True)
    q = QMP(a.qemu, ["-machine", "q35", "-S", "-cpu", a.model])
    try:
        cpus = q.cmd("query-cpus-fast")
        path = cpus[0]["qom-path"]
        filtered = q.cmd("qom-get", path=path, property="filtered-features")
        filtered = [w for w in filtered if w.get("features")]
        props = {f: q.cmd("qom-get", path=path, property=f) for f in on}
    finally:
        q.close()
    print("vCPU %s: %d features checked" % (path, len(on)))
    off = [f for f, v in props.items() if v is not True]
    if filtered:
        print("filtered under TCG: %s" % json.dumps(filtered))
    if off:
        print("off on the vCPU: %s" % ", ".join(off))
    return 1 if filtered or off else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["qemu-defs", "signature", "lv-in-qemu",
                                        "qemu-in-lv", "instance"])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--cpu-map", default=None)
    ap.add_argument("--model", default="SapphireRapids-UINTR")
    ap.add_argument("--model-file", default=None,
                    help="the libvirt model XML (default: CPU_MAP/x86_MODEL.xml)")
    a = ap.parse_args()
    if a.command in ("signature", "lv-in-qemu", "qemu-in-lv") and not a.cpu_map:
        ap.error("--cpu-map is needed for " + a.command)
    fn = {"qemu-defs": cmd_qemu_defs, "signature": cmd_signature,
          "lv-in-qemu": cmd_lv_in_qemu, "qemu-in-lv": cmd_qemu_in_lv,
          "instance": cmd_instance}[a.command]
    try:
        return fn(a)
    except (RuntimeError, OSError, ET.ParseError, ValueError) as e:
        print("error: %s" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
