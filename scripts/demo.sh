#!/bin/bash
# The main job: a UINTR guest under a private libvirtd, checked by uintrctl.
#
# 1. start a private session-mode libvirtd whose cpu_map has the series;
# 2. define and start (paused) a 2-vCPU domain that requires uintr;
# 3. uintrctl cpuid: each vCPU has uintr, as the domain XML asked;
# 4. resume: the guest reads CPUID.(7,0):EDX[5] itself and reports (TAP);
# 5. tear everything down.  Exit status 0 only if every step worked.
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

cp "$GUEST_BUILD/cpuid_uintr.flat" "$dir/"
domain_xml uintr-demo "$dir/cpuid_uintr.flat" expect=1 2 \
    "<feature policy='require' name='uintr'/>" "$dir/serial.log" > "$dir/uintr-demo.xml"
step "virsh define: the domain's <cpu>"
sed -n '/<cpu /,/<\/cpu>/p' "$dir/uintr-demo.xml"
lv define "$dir/uintr-demo.xml" || die "virsh define"

step "virsh start --paused uintr-demo"
lv start --paused uintr-demo || die "virsh start"
grep -o -- "-cpu [^ ]*" "$dir/daemon/cache/libvirt/qemu/log/uintr-demo.log" | tail -1

step "uintrctl cpuid uintr-demo"
"$UINTRCTL" -c "$LIBVIRTD_URI" cpuid uintr-demo || die "uintrctl cpuid exited $?"

step "virsh resume: the guest checks CPUID.(EAX=7,ECX=0):EDX[5] itself"
lv resume uintr-demo > /dev/null || die "virsh resume"
wait_shutoff uintr-demo 30 || die "the guest did not finish within 30 s"
cat "$dir/serial.log"
guest_passed "$dir/serial.log" > /dev/null || die "the guest reported a failure"

step "tear down"
lv undefine uintr-demo
libvirtd_stop
echo
echo "demo: OK"
