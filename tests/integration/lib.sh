# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration test harness: boots the real systemd as PID 1 of fresh
# namespaces with the real system bus, installs this build into that mount
# namespace only, and drives berthd through nsenter. Source this file, call
# sandbox_start, then use sbx/check/... The sandbox is torn down on exit,
# whether the test passed or not.
#
# Host-side effects are limited to one temporary folder under /var/tmp and one
# cgroup "sandbox-<id>" per hierarchy, both removed by sandbox_stop. Inside,
# /usr, /etc and /var are overlays, so what the sandbox writes there stays
# inside; only $SBX_TMP is shared by both sides.

set -u

BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SBX_TMP=
SBX_PID=
SBX_CGROUPS=()
SBX_HOME_CGROUPS=()
SBX_PASSED=0
SBX_FAILED=0
SBX_TEST_NAME=${SBX_TEST_NAME:-$(basename "$0" .sh)}

log() { printf '# %s\n' "$*" >&2; }

# The cgroups this process is in, one "hierarchy-dir path" per line. Read in
# one go: /proc/self/cgroup changes as soon as we move.
sandbox_cgroup_dirs() {
        local cg line id ctrl path
        cg=$(cat /proc/self/cgroup)
        while IFS= read -r line; do
                id=${line%%:*}; line=${line#*:}
                ctrl=${line%%:*}; path=${line#*:}
                if [ -z "$ctrl" ]; then
                        if [ -d /sys/fs/cgroup/unified ]; then echo "/sys/fs/cgroup/unified${path%/}"
                        else echo "/sys/fs/cgroup${path%/}"; fi
                else
                        echo "/sys/fs/cgroup/${ctrl#name=}${path%/}"
                fi
        done <<<"$cg"
}

# Runs as the sandbox's PID 1 before systemd: private mounts only.
sandbox_write_init() {
        cat >"$SBX_TMP/init.sh" <<'EOF'
#!/bin/bash
set -e
T=$1
mount -t proc proc /proc
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
ip link set lo up
# The build, installed with DESTDIR, appears at its real paths in here only.
mount -t overlay overlay -o "lowerdir=$T/dest/usr:/usr" /usr
mount -t overlay overlay -o "lowerdir=$T/etc-extra:$T/dest/etc:/etc,upperdir=$T/etc-up,workdir=$T/etc-work" /etc
# /var is an overlay so nothing the sandbox writes reaches the host's /var;
# the test's own folder is bound back over it so both sides share it.
mkdir -p /run/.sbx-tmp
mount --bind "$T" /run/.sbx-tmp
mount -t overlay overlay -o "lowerdir=/var,upperdir=$T/var-up,workdir=$T/var-work" /var
mount --bind /run/.sbx-tmp "$T"
umount /run/.sbx-tmp
rmdir /run/.sbx-tmp
mkdir -p /var/lib/berth
mount -t tmpfs -o mode=711 tmpfs /var/lib/berth
# Each hierarchy again, now rooted at the sandbox's own cgroup.
cg=$(cat /proc/self/cgroup)
umount -R /sys/fs/cgroup 2>/dev/null || umount -l /sys/fs/cgroup
if grep -q '^0::' <<<"$cg" && [ "$(wc -l <<<"$cg")" = 1 ]; then
        mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
        mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
        while IFS=: read -r id ctrl path; do
                if [ -z "$ctrl" ]; then
                        mkdir -p /sys/fs/cgroup/unified
                        mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
                elif [ "${ctrl#name=}" != "$ctrl" ]; then
                        mkdir -p "/sys/fs/cgroup/${ctrl#name=}"
                        mount -t cgroup -o "none,$ctrl" cgroup "/sys/fs/cgroup/${ctrl#name=}"
                else
                        mkdir -p "/sys/fs/cgroup/$ctrl"
                        mount -t cgroup -o "$ctrl" cgroup "/sys/fs/cgroup/$ctrl"
                fi
        done <<<"$cg"
fi
exec /lib/systemd/systemd --system --log-target=journal
EOF
        chmod +x "$SBX_TMP/init.sh"
}

sandbox_install_build() {
        mkdir -p "$SBX_TMP"/{dest,etc-extra/berth,etc-up,etc-work,var-up,var-work}
        DESTDIR="$SBX_TMP/dest" meson install -C "$BUILD_DIR" --no-rebuild --quiet >/dev/null ||
                { log "meson install failed"; return 1; }
        # Units install below /usr; configuration the test adds goes to etc-extra.
        mkdir -p "$SBX_TMP/dest/etc" "$SBX_TMP/etc-extra/systemd/system"
        # Debian's docker-registry package enables a registry on every address:
        # tests start their own, on 127.0.0.1, with their own configuration.
        ln -sf /dev/null "$SBX_TMP/etc-extra/systemd/system/docker-registry.service"
}

# Moves a fresh child shell into new cgroups, then unshares; prints its pid.
sandbox_launch() {
        local dirs d
        dirs=$(sandbox_cgroup_dirs)
        mapfile -t SBX_HOME_CGROUPS <<<"$dirs"
        mapfile -t SBX_CGROUPS < <(sed "s|\$|/sandbox-$SBX_ID|" <<<"$dirs")
        (
                for d in "${SBX_CGROUPS[@]}"; do
                        mkdir -p "$d"
                        if [ -f "$d/cpuset.cpus" ]; then
                                cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"
                                cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"
                        fi
                        echo $BASHPID >"$d/cgroup.procs"
                done
                exec setsid unshare --cgroup --pid --fork --mount --net --uts --ipc \
                        --propagation private "$SBX_TMP/init.sh" "$SBX_TMP" \
                        </dev/null >"$SBX_TMP/console.log" 2>&1
        ) &
        SBX_LAUNCHER=$!
}

# The launcher (unshare, waiting for the sandbox's PID 1) is outside the
# sandbox's pid namespace: left in the sandbox's root cgroup, it shows there
# as pid 0, which systemd fails to move (EIO) each time it enables a v1
# controller for a unit, and then tries again at the next unit. Its cgroup
# namespace is made, so it goes back where it came from.
sandbox_release_launcher() {
        local d
        for d in "${SBX_HOME_CGROUPS[@]}"; do
                echo "$SBX_LAUNCHER" >"$d/cgroup.procs" 2>/dev/null || log "launcher stays in the sandbox's cgroup in $d"
        done
}

sandbox_find_pid1() {
        local i c
        for i in $(seq 200); do
                c=$(cat /proc/$SBX_LAUNCHER/task/*/children 2>/dev/null | awk '{print $1}')
                if [ -n "$c" ] && [ "$(readlink /proc/$c/exe 2>/dev/null)" = /usr/lib/systemd/systemd ]; then
                        SBX_PID=$c
                        sandbox_release_launcher
                        return 0
                fi
                sleep 0.05
        done
        log "systemd did not start in the sandbox:"; cat "$SBX_TMP/console.log" >&2
        return 1
}

sandbox_wait_running() {
        local i state
        for i in $(seq 300); do
                state=$(sbx systemctl is-system-running 2>/dev/null)
                case "$state" in
                running|degraded) return 0 ;;
                esac
                sleep 0.05
        done
        log "sandbox systemd did not come up (state: $state)"
        sbx systemctl --failed --no-pager >&2 || true
        return 1
}

sandbox_start() {
        [ "$(id -u)" = 0 ] || { log "integration tests need root"; exit 77; }
        SBX_ID="$$-$RANDOM"
        SBX_TMP=$(mktemp -d /var/tmp/berth-it.XXXXXX)
        trap sandbox_stop EXIT
        trap 'exit 130' INT TERM
        sandbox_install_build || exit 1
        if declare -F sandbox_configure >/dev/null; then sandbox_configure "$SBX_TMP/etc-extra"; fi
        sandbox_write_init
        sandbox_launch
        sandbox_find_pid1 || exit 1
        sandbox_start_watchdog
        sandbox_wait_running || exit 1
}

# Tears the sandbox down should this shell die without running its EXIT
# trap (SIGKILL from a test runner's timeout): nothing may outlive a test.
sandbox_start_watchdog() {
        local parent=$$
        (
                trap '' INT TERM HUP
                exec </dev/null >/dev/null 2>&1
                while kill -0 "$parent" 2>/dev/null; do sleep 1; done
                [ -d "$SBX_TMP" ] || exit 0
                kill -9 "$SBX_PID" 2>/dev/null
                sleep 1
                sandbox_remove_cgroups
                rm -rf --one-file-system "$SBX_TMP"
        ) &
        disown
}

sandbox_remove_cgroups() {
        local d
        set +e
        for d in "${SBX_CGROUPS[@]}"; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        for d in "${SBX_CGROUPS[@]}"; do
                [ -d "$d" ] && log "could not remove cgroup $d"
        done
        return 0
}

sandbox_stop() {
        local rc=$? i
        trap - EXIT
        set +e   # a caller's errexit must not cut the teardown short
        if [ -n "$SBX_PID" ] && kill -0 "$SBX_PID" 2>/dev/null; then
                if [ "$rc" != 0 ] || [ "$SBX_FAILED" != 0 ]; then
                        log "journal of the sandbox (last 60 lines):"
                        sbx journalctl --no-pager -n 60 >&2 2>/dev/null || true
                fi
                kill -s SIGRTMIN+4 "$SBX_PID" 2>/dev/null
                for i in $(seq 200); do kill -0 "$SBX_PID" 2>/dev/null || break; sleep 0.05; done
                kill -9 "$SBX_PID" 2>/dev/null
        fi
        wait "$SBX_LAUNCHER" 2>/dev/null
        sandbox_remove_cgroups
        if [ -n "$SBX_TMP" ] && [ -d "$SBX_TMP" ]; then
                # Mounts made inside died with the sandbox's mount namespace.
                rm -rf --one-file-system "$SBX_TMP"
        fi
        summary
        [ "$SBX_FAILED" = 0 ] && [ "$rc" = 0 ] && exit 0
        exit 1
}

# Runs a command inside the sandbox (all its namespaces), never for longer
# than SBX_CMD_TIMEOUT seconds: a hung command fails its check instead of
# hanging the suite.
sbx() {
        timeout -k 5 "${SBX_CMD_TIMEOUT:-120}" nsenter -a -t "$SBX_PID" "$@"
}

sbx_ctl() {
        sbx /usr/bin/berthctl "$@"
}

pass() { SBX_PASSED=$((SBX_PASSED + 1)); printf 'ok %d - %s\n' $((SBX_PASSED + SBX_FAILED)) "$1"; }
fail() { SBX_FAILED=$((SBX_FAILED + 1)); printf 'not ok %d - %s\n' $((SBX_PASSED + SBX_FAILED)) "$1"; }

# check DESCRIPTION CMD...: passes when CMD exits 0.
check() {
        local desc=$1 out; shift
        if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc"; printf '%s\n' "$out" | sed 's/^/#   /' >&2; fi
}

# check_output DESCRIPTION REGEX CMD...: passes when CMD's output matches REGEX.
check_output() {
        local desc=$1 re=$2 out; shift 2
        out=$("$@" 2>&1)
        if grep -Eq -- "$re" <<<"$out"; then pass "$desc"
        else fail "$desc"; log "expected /$re/ in:"; printf '%s\n' "$out" | sed 's/^/#   /' >&2; fi
}

# check_exit DESCRIPTION CODE CMD...: passes when CMD exits with CODE.
check_exit() {
        local desc=$1 want=$2 got out; shift 2
        out=$("$@" 2>&1); got=$?
        if [ "$got" = "$want" ]; then pass "$desc"
        else fail "$desc"; log "exit $got, expected $want:"; printf '%s\n' "$out" | sed 's/^/#   /' >&2; fi
}

# wait_output DESCRIPTION REGEX CMD...: check_output, retried for up to 10 s
# (for what the kernel finishes asynchronously, like a namespace's clean-up).
wait_output() {
        local desc=$1 re=$2 out i; shift 2
        for i in $(seq 200); do
                out=$("$@" 2>&1)
                grep -Eq -- "$re" <<<"$out" && { pass "$desc"; return 0; }
                sleep 0.05
        done
        fail "$desc"; log "expected /$re/ in:"; printf '%s\n' "$out" | sed 's/^/#   /' >&2
        return 1
}

# wait_for DESCRIPTION CMD...: retries CMD for up to 10 s.
wait_for() {
        local desc=$1 i; shift
        for i in $(seq 200); do "$@" >/dev/null 2>&1 && { pass "$desc"; return 0; }; sleep 0.05; done
        fail "$desc"; return 1
}

summary() {
        # A test that checked nothing has not passed.
        [ $((SBX_PASSED + SBX_FAILED)) = 0 ] && fail "$SBX_TEST_NAME made no check"
        printf '1..%d\n' $((SBX_PASSED + SBX_FAILED))
        printf '# %s: %d passed, %d failed\n' "$SBX_TEST_NAME" "$SBX_PASSED" "$SBX_FAILED"
}

# make_rootfs DIR: a tiny root file system with a static busybox.
make_rootfs() {
        local d=$1 a
        mkdir -p "$d"/{bin,etc,tmp,root,home/user,proc,sys,dev,var/empty}
        cp /bin/busybox "$d/bin/busybox"
        for a in sh ls cat echo id true false sleep env pwd hostname mount umount ps grep \
                 wc head tail stat touch mkdir rm kill test printf unshare readlink sed \
                 dd tr trap seq tty stty cut; do
                ln -sf busybox "$d/bin/$a"
        done
        printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$d/etc/passwd"
        printf 'root:x:0:\nuser:x:1000:\nstaff:x:50:user\nnogroup:x:65534:\n' >"$d/etc/group"
        echo "berth test image" >"$d/etc/motd"
        chmod 1777 "$d/tmp"
        chown 1000:1000 "$d/home/user"
}

# make_rootfs_tar OUT [gzip|zstd]: the rootfs above as a tarball.
make_rootfs_tar() {
        local out=$1 comp=${2:-} d
        d=$(mktemp -d "$SBX_TMP/rootfs.XXXXXX")
        make_rootfs "$d"
        case "$comp" in
        gzip) tar -C "$d" --numeric-owner -czf "$out" . ;;
        zstd) tar -C "$d" --numeric-owner --zstd -cf "$out" . ;;
        *) tar -C "$d" --numeric-owner -cf "$out" . ;;
        esac
        rm -rf "$d"
}
