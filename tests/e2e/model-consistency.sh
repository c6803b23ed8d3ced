#!/bin/bash
# The SapphireRapids-UINTR CPU model in libvirt's cpu_map (the series'
# CPU_MAP) and in QEMU agree: vendor and signature, every feature libvirt's
# model lists is on in QEMU's model and every feature QEMU's model has on
# is listed by libvirt's, with libvirt's names translated through the
# cpu_map.  QEMU is asked with QMP query-cpu-definitions and
# query-cpu-model-expansion (tests/e2e/cpu_model.py); no libvirtd needed.
#
#   QEMU, CPU_MAP (make cpu-map)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../lib/tap.sh"

: "${QEMU:?}" "${CPU_MAP:?}"
model=SapphireRapids-UINTR
file=x86_$model.xml
check=$here/cpu_model.py
dir=$(mktemp -d /tmp/uintr-model-consistency.XXXXXX)
trap 'rm -rf "$dir"' EXIT

t_check "QEMU: $model is an alias of $model-v1, usable under TCG" \
    "$check" qemu-defs --qemu "$QEMU" --model "$model"
t_check "QEMU: a TCG vCPU of $model has every feature of the model on, none filtered" \
    "$check" instance --qemu "$QEMU" --model "$model"
# stderr of a TCG QEMU on -cpu $1, run to the QMP quit.
qemu_stderr() {
    echo '{"execute":"qmp_capabilities"}{"execute":"quit"}' |
        timeout 30 "$QEMU" -machine q35 -accel tcg -cpu "$1" -S -display none \
            -nodefaults -qmp stdio 2>&1 >/dev/null
}
out=$(qemu_stderr "$model")
if [ -z "$out" ]; then
    t_ok "QEMU starts $model under TCG without a single warning"
else
    t_fail "QEMU starts $model under TCG without a single warning" "$out"
fi
out=$(qemu_stderr "$model,avx512f=on")
if grep -q "TCG doesn't support requested feature" <<< "$out"; then
    t_ok "control: $model,avx512f=on does warn (the warning check can fail)"
else
    t_fail "control: $model,avx512f=on does warn (the warning check can fail)" "$out"
fi
t_check "libvirt's cpu_map has $file and index.xml includes it" python3 - "$CPU_MAP" "$file" <<'EOF'
import os, sys, xml.etree.ElementTree as ET
d, f = sys.argv[1:]
inc = [i.get("filename") for i in ET.parse(os.path.join(d, "index.xml")).getroot()
       .findall("arch[@name='x86']//include")]
assert os.path.exists(os.path.join(d, f)), "no " + f
assert f in inc, "index.xml does not include " + f
EOF
t_check "cpu-models/$file is the series' copy" cmp "$top/cpu-models/$file" "$CPU_MAP/$file"
t_check "vendor and family/model agree; stepping, level, xlevel as documented" \
    "$check" signature --qemu "$QEMU" --cpu-map "$CPU_MAP" --model "$model"
t_check "every feature of libvirt's $model is on in QEMU's" \
    "$check" lv-in-qemu --qemu "$QEMU" --cpu-map "$CPU_MAP" --model "$model"
t_check "every feature on in QEMU's $model is in libvirt's" \
    "$check" qemu-in-lv --qemu "$QEMU" --cpu-map "$CPU_MAP" --model "$model"

# Control: the comparison fails on a libvirt model that differs from
# QEMU's, one feature in each direction, and names both.
python3 - "$CPU_MAP/$file" "$dir/$file" <<'EOF'
import sys, xml.etree.ElementTree as ET
src, dst = sys.argv[1:]
tree = ET.parse(src)
m = tree.getroot().find("model")
m.remove(m.find("feature[@name='uintr']"))
ET.SubElement(m, "feature", name="avx512f")
tree.write(dst)
EOF
out=$("$check" lv-in-qemu --qemu "$QEMU" --cpu-map "$CPU_MAP" --model "$model" \
    --model-file "$dir/$file" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 1 ] && grep -q "off in QEMU's .*avx512f" <<< "$out"; then
    t_ok "control: a libvirt model with avx512f added fails lv-in-qemu, naming avx512f"
else
    t_fail "control: a libvirt model with avx512f added fails lv-in-qemu, naming avx512f" "rc=$rc $out"
fi
out=$("$check" qemu-in-lv --qemu "$QEMU" --cpu-map "$CPU_MAP" --model "$model" \
    --model-file "$dir/$file" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 1 ] && grep -q "not in libvirt's .*uintr" <<< "$out"; then
    t_ok "control: a libvirt model without uintr fails qemu-in-lv, naming uintr"
else
    t_fail "control: a libvirt model without uintr fails qemu-in-lv, naming uintr" "rc=$rc $out"
fi

t_done model-consistency
