# shellcheck shell=bash disable=SC2016,SC2034
# Two "hosts" on one machine for the libvirt tests (sourced, bash, after
# tests/lib/libvirtd.sh): network namespaces joined by a veth pair, and
# private libvirtds (tests/lib/libvirtd.sh) started inside a namespace.
#
#   netns_pair NS_A NS_B ADDR_A ADDR_B   two namespaces, lo up, a veth
#                                         pair (v-NS in each), ADDR/24 on it
#   netns_del NS...                       kill what still runs in them, delete
#   ns_libvirtd_start NS DIR UUID CPU_MAP libvirtd_start inside NS; sets
#                                         LIBVIRTD_URI, LIBVIRTD_PID
#   ns_veth_bytes NS rx|tx                the byte counter of NS's veth
#
# The daemon's unix socket is on the file system, so virsh and uintrctl in
# the caller's namespace reach it; the daemon and its QEMUs live in NS, so
# QEMU's migration listens and connects on the veth addresses.

netns_pair() {
    local a=$1 b=$2
    ip netns add "$a" && ip netns add "$b" &&
    ip -n "$a" link set lo up && ip -n "$b" link set lo up &&
    ip -n "$a" link add veth0 type veth peer name veth0 netns "$b" &&
    ip -n "$a" addr add "$3/24" dev veth0 && ip -n "$b" addr add "$4/24" dev veth0 &&
    ip -n "$a" link set veth0 up && ip -n "$b" link set veth0 up
}

netns_del() {
    local ns pid
    for ns in "$@"; do
        ip netns list | grep -qw "^$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null
        done
        ip netns del "$ns"
    done
}

ns_veth_bytes() {
    ip netns exec "$1" cat "/sys/class/net/veth0/statistics/${2}_bytes"
}

# libvirtd_start runs in a bash inside NS that waits for the daemon and, on
# SIGTERM (libvirtd_stop), stops it: LIBVIRTD_PID is that bash.
ns_libvirtd_start() {
    local ns=$1 dir=$2 i
    rm -f "$dir.up"
    ip netns exec "$ns" bash -c '
        . "$1"
        trap "kill \$LIBVIRTD_PID 2>/dev/null; wait \$LIBVIRTD_PID; exit 0" TERM
        libvirtd_start "$2" "$3" "$4" || exit 1
        : > "$2.up"
        wait "$LIBVIRTD_PID"' ns-libvirtd "$NETNS_LIBVIRTD_SH" "$dir" "$3" "$4" &
    LIBVIRTD_PID=$!
    LIBVIRTD_URI="qemu:///session?socket=$dir/sock/libvirt-sock"
    for i in $(seq 200); do
        [ -e "$dir.up" ] && return 0
        kill -0 "$LIBVIRTD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "ns_libvirtd_start: no daemon in $ns from $dir" >&2
    return 1
}
