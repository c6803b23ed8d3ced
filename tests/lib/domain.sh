# Domain XML for the guest test kernels (sourced, bash).
#
#   domain_xml NAME KERNEL CMDLINE VCPUS CPU_FEATURES_XML SERIAL_FILE [MODEL]
#
# A q35 TCG domain that boots a tests/guest image with -kernel.  The CPU is
# MODEL (default qemu64) with fallback='forbid' and check='full': under TCG
# libvirt's default (check='none') would silently drop a required feature
# QEMU filters.  qemu64 needs hypervisor and lahf_lm spelled out for
# check='full' to pass; SapphireRapids-UINTR needs nothing.  The guest ends
# through isa-debug-exit, which libvirt has no element for.

domain_xml() {
    local model=${7:-qemu64} extra=
    if [ "$model" = qemu64 ]; then
        extra="<feature policy='require' name='hypervisor'/>
    <feature policy='require' name='lahf_lm'/>"
    fi
    # (empty feature lines dropped)
    sed '/^[[:space:]]*$/d' <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>$4</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$2</kernel>
    <cmdline>$3</cmdline>
  </os>
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>$model</model>
    $extra
    $5
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$QEMU</emulator>
    <serial type='file'>
      <source path='$6' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=0x04'/>
  </qemu:commandline>
</domain>
XML
}

# wait_shutoff NAME SECONDS: wait until the domain is no longer running.
wait_shutoff() {
    local i
    for i in $(seq $(($2 * 10))); do
        case $(lv domstate "$1" 2>/dev/null) in
        "shut off"*|"") return 0 ;;
        esac
        sleep 0.1
    done
    return 1
}

# guest_passed SERIAL_FILE: the guest printed its TAP plan, at least one
# "ok" and no "not ok" or "Bail out!".
guest_passed() {
    local f=$1 plan
    plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$f" | tail -1)
    [ -n "$plan" ] || { echo "no TAP plan in $f"; cat "$f"; return 1; }
    if grep -q '^not ok\|^Bail out!' "$f"; then
        grep '^not ok\|^Bail out!\|^#' "$f"
        return 1
    fi
    [ "$(grep -c '^ok ' "$f")" -eq "$plan" ] || {
        echo "planned $plan, passed $(grep -c '^ok ' "$f")"
        return 1
    }
}
