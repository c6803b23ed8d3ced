#!/bin/bash
# The main job: a UINTR guest under a private libvirtd, checked by uintrctl.
#
# 1. start a private session-mode libvirtd whose cpu_map has the series;
# 2. define and start (paused) a 2-vCPU domain on the SapphireRapids-UINTR
#    CPU model (fallback forbidden, check full);
# 3. uintrctl cpuid: each vCPU has uintr, as the model says;
# 4. resume: the guest, on both vCPUs in ring 3, sends user interrupts back
#    and forth with SENDUIPI and reports what arrived (TAP);
# 5. a second domain whose two vCPUs ping-pong user interrupts without end,
#    set up as an OS would (UPIDs, UITTs, XSAVE with IA32_XSS[14]):
#    uintrctl check evaluates every rule on the live guest and must pass,
#    uintrctl show prints the state;
# 6. tear everything down.  Exit status 0 only if every step worked.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/lib/libvirtd.sh"
. "$top/tests/lib/domain.sh"
: "${QEMU:?}" "${UINTRCTL:?}" "${GUEST_BUILD:?}" "${CPU_MAP:?}"

dir=$(mktemp -d /tmp/uintr-demo.XXXXXX)
chmod 755 "$dir"
chown nobody "$dir"
trap 'libvirtd_stop; rm -rf "$dir"' EXIT
step() { printf '\n== %s\n' "$*"; }
die() { echo "demo: FAILED: $*" >&2; exit 1; }

step "private libvirtd (libvirt $(libvirtd --version | awk '{print $NF}'), cpu_map from libvirt-patches) in $dir"
libvirtd_start "$dir/daemon" 5e1d0000-0000-4000-8000-0000000000de "$CPU_MAP" || die "libvirtd did not start"
echo "URI: $LIBVIRTD_URI"

cp "$GUEST_BUILD/uintr_pingpong.flat" "$dir/"
domain_xml uintr-demo "$dir/uintr_pingpong.flat" "uintr=1 rounds=20000" 2 \
    "" "$dir/serial.log" SapphireRapids-UINTR > "$dir/uintr-demo.xml"
step "virsh define: the domain's <cpu>"
sed -n '/<cpu /,/<\/cpu>/p' "$dir/uintr-demo.xml"
lv define "$dir/uintr-demo.xml" || die "virsh define"

step "virsh start --paused uintr-demo"
lv start --paused uintr-demo || die "virsh start"
grep -o -- "-cpu [^ ]*" "$dir/daemon/cache/libvirt/qemu/log/uintr-demo.log" | tail -1

step "uintrctl cpuid uintr-demo"
"$UINTRCTL" -c "$LIBVIRTD_URI" cpuid uintr-demo || die "uintrctl cpuid exited $?"

step "virsh resume: 20000 user-interrupt round trips between the two vCPUs"
lv resume uintr-demo > /dev/null || die "virsh resume"
wait_shutoff uintr-demo 120 || die "the guest did not finish within 120 s"
cat "$dir/serial.log"
guest_passed "$dir/serial.log" > /dev/null || die "the guest reported a failure"

cp "$GUEST_BUILD/uintr_inspect.flat" "$dir/"
domain_xml uintr-live "$dir/uintr_inspect.flat" "state=traffic" 2 \
    "" "$dir/live.log" SapphireRapids-UINTR > "$dir/uintr-live.xml"
step "virsh create uintr-live: both vCPUs exchange user interrupts without end"
lv create "$dir/uintr-live.xml" > /dev/null || die "virsh create"
for i in $(seq 300); do
    grep -q "inspect: ready" "$dir/live.log" 2>/dev/null && break
    sleep 0.1
done
grep "inspect: ready" "$dir/live.log" || die "the guest did not get ready"

step "uintrctl check uintr-live"
"$UINTRCTL" -c "$LIBVIRTD_URI" check uintr-live || die "uintrctl check exited $?"

step "uintrctl show uintr-live"
"$UINTRCTL" -c "$LIBVIRTD_URI" show uintr-live || die "uintrctl show exited $?"
lv destroy uintr-live > /dev/null

step "tear down"
lv undefine uintr-demo
libvirtd_stop
echo
echo "demo: OK"
