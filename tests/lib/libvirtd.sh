# Private libvirt daemons for the demo and the tests (sourced, bash).
#
# A daemon is the libvirtd 11.3.0 built from libvirt-patches and installed
# by scripts/build-libvirt.sh into LIBVIRT_PREFIX (default
# $UINTR_CACHE/libvirt/prefix), the monolithic daemon, in session mode,
# run as uid nobody in a directory of its own: its own sockets, config,
# logs and caches, its own host UUID (so that two of them can migrate to
# each other), no cgroups and no security driver.  It never touches
# /etc/libvirt, /usr or the system's daemons.  It runs in a private mount
# namespace in which CPU_MAP (the cpu_map directory of the libvirt series,
# make cpu-map) is bind-mounted over the prefix's share/libvirt/cpu_map:
# the prefix already has the series' CPU map, the bind mount makes the
# daemon use exactly the data the caller names.  tini reaps QEMU's
# processes at once (PID 1 here reaps orphans every ~2 s, which libvirt
# would wait for at every QEMU exit).
#
#   libvirtd_start DIR UUID CPU_MAP    start; sets LIBVIRTD_URI, LIBVIRTD_PID
#   libvirtd_stop                      destroy its domains, stop it
#   lv ARGS...                         the prefix's virsh against it
#
# Sourcing this file puts the prefix's bin and sbin first in PATH, so that
# virsh and libvirtd in the caller are the same 11.3 as the daemon's.

LIBVIRT_PREFIX=${LIBVIRT_PREFIX:-${UINTR_CACHE:-/var/cache/uintr}/libvirt/prefix}
case ":$PATH:" in
*":$LIBVIRT_PREFIX/bin:"*) ;;
*) PATH=$LIBVIRT_PREFIX/bin:$LIBVIRT_PREFIX/sbin:$PATH ;;
esac

libvirtd_start() {
    local dir=$1 uuid=$2 cpumap=$3 i tool
    local libvirtd=$LIBVIRT_PREFIX/sbin/libvirtd
    [ -x "$libvirtd" ] && [ -x "$LIBVIRT_PREFIX/bin/virsh" ] || {
        echo "libvirtd_start: no libvirt in $LIBVIRT_PREFIX (scripts/build-libvirt.sh --install-only)" >&2
        return 1
    }
    for tool in tini setpriv unshare; do
        command -v "$tool" >/dev/null || {
            echo "libvirtd_start: $tool is missing (run scripts/deps.sh)" >&2
            return 1
        }
    done
    [ -r "$cpumap/index.xml" ] || {
        echo "libvirtd_start: no cpu_map at $cpumap (make cpu-map)" >&2
        return 1
    }
    mkdir -p "$dir"/{sock,home,config/libvirt,cache,run,data}
    cat > "$dir/libvirtd.conf" <<CONF
unix_sock_dir = "$dir/sock"
unix_sock_rw_perms = "0777"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_filters = ""
log_outputs = "3:file:$dir/libvirtd.log"
host_uuid = "$uuid"
CONF
    # With the file handler QEMU's stdio goes to a plain log, no virtlogd.
    printf '# private daemon\nstdio_handler = "file"\n' > "$dir/config/libvirt/qemu.conf"
    chown -R nobody:nogroup "$dir"
    chmod 755 "$dir"
    setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$dir/libvirtd.conf" || {
        echo "libvirtd_start: uid nobody cannot reach $dir (make its parents world-searchable)" >&2
        return 1
    }
    setpriv --reuid=65534 --regid=65534 --clear-groups "$libvirtd" --version > /dev/null || {
        echo "libvirtd_start: uid nobody cannot run $libvirtd (make $LIBVIRT_PREFIX and its parents world-readable)" >&2
        return 1
    }
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$dir/home" \
        XDG_CONFIG_HOME="$dir/config" XDG_CACHE_HOME="$dir/cache" \
        XDG_RUNTIME_DIR="$dir/run" XDG_DATA_HOME="$dir/data" \
        unshare -m --propagation private sh -c "
            mount --bind '$cpumap' '$LIBVIRT_PREFIX/share/libvirt/cpu_map' &&
            exec tini -s -- setpriv --reuid=65534 --regid=65534 --clear-groups \
                '$libvirtd' --config '$dir/libvirtd.conf'" \
        > "$dir/libvirtd.out" 2>&1 &
    LIBVIRTD_PID=$!
    LIBVIRTD_URI="qemu:///session?socket=$dir/sock/libvirt-sock"
    for i in $(seq 100); do
        [ -S "$dir/sock/libvirt-sock" ] && lv list > /dev/null 2>&1 && return 0
        kill -0 "$LIBVIRTD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "libvirtd_start: the daemon in $dir did not come up:" >&2
    # -n: with two files, "tail -5" is refused ("option used in invalid context").
    tail -n 5 "$dir/libvirtd.out" "$dir/libvirtd.log" >&2 2>/dev/null
    return 1
}

lv() {
    "$LIBVIRT_PREFIX/bin/virsh" -q -c "$LIBVIRTD_URI" "$@"
}

libvirtd_stop() {
    [ -n "${LIBVIRTD_PID:-}" ] || return 0
    local d
    for d in $(lv list --name 2>/dev/null); do
        lv destroy "$d" > /dev/null 2>&1
    done
    local start=$SECONDS i
    # The daemon's directory is the socket's, two levels up; callers that
    # switch between daemons (use A/B) carry only the PID and the URI.
    local dir=${LIBVIRTD_URI#*socket=}
    dir=${dir%/sock/libvirt-sock}
    rm -f "$dir/libvirtd-exit-threads.txt"
    kill "$LIBVIRTD_PID" 2>/dev/null
    # libvirtd waits up to 30 s for its drivers to shut down.  When it is
    # still there after 5 s, record where each of its threads waits, so
    # that the cause can be found (gdb comes with deps.sh test).
    for ((i = 0; i < 50; i++)); do
        kill -0 "$LIBVIRTD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$LIBVIRTD_PID" 2>/dev/null; then
        # LIBVIRTD_PID is tini's; the daemon is its child.
        local daemon
        daemon=$(pgrep -P "$LIBVIRTD_PID" | head -n 1)
        if command -v gdb > /dev/null; then
            timeout 60 gdb -p "${daemon:-$LIBVIRTD_PID}" -batch -ex 'thread apply all bt 15' \
                > "$dir/libvirtd-exit-threads.txt" 2>&1
        else
            echo "gdb not installed: no thread backtraces" > "$dir/libvirtd-exit-threads.txt"
        fi
    fi
    wait "$LIBVIRTD_PID" 2>/dev/null
    if [ $((SECONDS - start)) -ge 5 ]; then
        echo "libvirtd_stop: libvirtd took $((SECONDS - start)) s to exit; its log ends:" >&2
        tail -n 20 "$dir/libvirtd.log" "$dir/libvirtd.out" >&2 2>/dev/null
        echo "libvirtd_stop: its threads 5 s after SIGTERM (thread name, then frames):" >&2
        grep -E '^Thread |^#[0-9]+ ' "$dir/libvirtd-exit-threads.txt" 2>/dev/null |
            sed -E 's/^Thread ([0-9]+) .*"([^"]*)"\):$/Thread \1 \2/; t
                    s/^#([0-9]+) +0x[0-9a-f]+ in /#\1 /; s/ \(.*//' >&2
    fi
    LIBVIRTD_PID=
}
