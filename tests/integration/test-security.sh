#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Security defaults of containers, compared with Docker's: capabilities,
# no_new_privs, seccomp, masked and read-only paths, leaked fds and daemon
# paths, mounts, /dev, namespaces, users, and what is left behind.
# Each check looks at the container from inside, with busybox only.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import "$T/rootfs.tar" bb >/dev/null || { fail "import the busybox image"; exit 1; }

# run ARGS...: an attached, removed container of the busybox image.
run() { sbx_ctl run --rm "$@"; }
# inside ARGS... 'SCRIPT': the same, running SCRIPT with sh -c.
inside() { local s=${*: -1}; run "${@:1:$#-1}" bb sh -c "$s"; }
# status_of FIELD ARGS...: the "FIELD:" line of /proc/self/status in a container.
status_of() { local f=$1; shift; inside "$@" "grep '^$f:' /proc/self/status"; }

# --- Capabilities -----------------------------------------------------------
# Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
# SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
DOCKER_CAPS=00000000a80425fb
# --privileged gives all berthd holds: the sandbox's bounding set may lack some.
BERTHD=$(sbx systemctl show -P MainPID berthd.service)
ALL_CAPS=$(sbx grep '^CapBnd:' /proc/$BERTHD/status | sed 's/^CapBnd:[[:space:]]*//')
check_output "berthd holds at least Docker's set" '^ok$' \
        bash -c "[ \$(( 0x$ALL_CAPS & 0x$DOCKER_CAPS )) = \$(( 0x$DOCKER_CAPS )) ] && echo ok"
NET_ADMIN_CAPS=$(printf '%016x' $(( 0xa80425fb | (1 << 12) )))
for f in CapEff CapPrm CapBnd; do
        check_output "$f is Docker's default set" "^$f:[[:space:]]+$DOCKER_CAPS\$" status_of $f
        check_output "$f is empty with --cap-drop ALL" "^$f:[[:space:]]+0{16}\$" status_of $f --cap-drop ALL
        check_output "$f gains bit 12 with --cap-add NET_ADMIN" "^$f:[[:space:]]+$NET_ADMIN_CAPS\$" \
                status_of $f --cap-add NET_ADMIN
        check_output "$f is the full set with --privileged" "^$f:[[:space:]]+$ALL_CAPS\$" status_of $f --privileged
done
check_output "CapInh is empty (CVE-2022-24769)" '^CapInh:[[:space:]]+0{16}$' status_of CapInh
check_output "CapAmb is empty" '^CapAmb:[[:space:]]+0{16}$' status_of CapAmb
check_output "--cap-drop removes one capability" '^CapEff:[[:space:]]+00000000a80425fa$' \
        status_of CapEff --cap-drop CHOWN
check_output "--cap-drop ALL --cap-add keeps only the added one" '^CapEff:[[:space:]]+0000000000000400$' \
        status_of CapEff --cap-drop ALL --cap-add NET_BIND_SERVICE
check_output "a non-root user has no effective capabilities" '^CapEff:[[:space:]]+0{16}$' status_of CapEff -u 1000
check_output "... nor permitted ones" '^CapPrm:[[:space:]]+0{16}$' status_of CapPrm -u 1000
check_output "... but the bounding set stays Docker's" "^CapBnd:[[:space:]]+$DOCKER_CAPS\$" status_of CapBnd -u 1000
check_output "chown works as root by default" '^ok$' inside 'touch /tmp/f && chown 1000 /tmp/f && echo ok'
check_output "chown is refused with --cap-drop CHOWN" 'Operation not permitted' \
        inside --cap-drop CHOWN 'touch /tmp/f && chown 1000 /tmp/f && echo ok'
check_exit "an unknown capability is refused (125)" 125 run --cap-add NOSUCH bb true

# --- no_new_privs -----------------------------------------------------------
check_output "NoNewPrivs is 0 by default (as in Docker)" '^NoNewPrivs:[[:space:]]+0$' status_of NoNewPrivs
check_output "NoNewPrivs is 1 with no-new-privileges" '^NoNewPrivs:[[:space:]]+1$' \
        status_of NoNewPrivs --security-opt no-new-privileges
check_output "... also for a non-root user" '^NoNewPrivs:[[:space:]]+1$' \
        status_of NoNewPrivs --security-opt no-new-privileges -u 1000

# --- Seccomp ----------------------------------------------------------------
# try 'CMD': "ok" if CMD succeeds, else "failed: " and its stderr, on one line.
try() { printf 'if e=$( { %s; } 2>&1 >/dev/null); then echo ok; else echo "failed:" $e; fi' "$1"; }
# berthd.service itself runs under systemd's filters (SystemCallArchitectures=,
# LockPersonality=, ...), which every container inherits: what counts is
# whether Berth adds one of its own.
BASE=$(sbx grep '^Seccomp_filters:' /proc/$BERTHD/status | sed 's/.*:[[:space:]]*//')
OWN="^Seccomp_filters:[[:space:]]+$((BASE + 1))\$"
NONE="^Seccomp_filters:[[:space:]]+$BASE\$"
check_output "berthd carries no seccomp filter a container would inherit" '^0$' echo "$BASE"
check_output "a seccomp filter is in force by default" '^Seccomp:[[:space:]]+2$' status_of Seccomp
check_output "Berth adds its filter by default" "$OWN" status_of Seccomp_filters
check_output "... also with --cap-add SYS_ADMIN" "$OWN" status_of Seccomp_filters --cap-add SYS_ADMIN
check_output "... and with no-new-privileges" "$OWN" status_of Seccomp_filters --security-opt no-new-privileges
check_output "... and for a non-root user" "$OWN" status_of Seccomp_filters -u 1000
check_output "... but none with seccomp=unconfined" "$NONE" \
        status_of Seccomp_filters --security-opt seccomp=unconfined
check_output "... nor with --privileged" "$NONE" status_of Seccomp_filters --privileged
check_output "unshare -m fails by default" '^failed: .*Operation not permitted' inside "$(try 'unshare -m true')"
check_output "mount fails by default" '^failed: .*(Operation not permitted|permission denied)' inside "$(try 'mount -t tmpfs x /tmp')"
# Berth is stricter than Docker here: Docker's profile allows mount, unshare,
# setns and the like once CAP_SYS_ADMIN is added; Berth's never does.
check_output "unshare -m fails even with SYS_ADMIN (stricter than Docker)" '^failed: .*Operation not permitted' \
        inside --cap-add SYS_ADMIN "$(try 'unshare -m true')"
check_output "mount fails even with SYS_ADMIN (stricter than Docker)" '^failed: .*(Operation not permitted|permission denied)' \
        inside --cap-add SYS_ADMIN "$(try 'mount -t tmpfs x /tmp')"
check_output "unshare -m works unconfined with SYS_ADMIN" '^ok$' \
        inside --security-opt seccomp=unconfined --cap-add SYS_ADMIN "$(try 'unshare -m true')"
check_output "mount works unconfined with SYS_ADMIN" '^ok$' \
        inside --security-opt seccomp=unconfined --cap-add SYS_ADMIN "$(try 'mount -t tmpfs x /tmp')"
check_output "mount still needs SYS_ADMIN when unconfined" '^failed: .*(Operation not permitted|permission denied)' \
        inside --security-opt seccomp=unconfined "$(try 'mount -t tmpfs x /tmp')"
check_output "unshare of a user namespace fails by default" '^failed: .*Operation not permitted' \
        inside "$(try 'unshare -U true')"

cat >"$T/deny-mkdir.json" <<'EOF'
{
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
                { "names": [ "mkdir", "mkdirat" ], "action": "SCMP_ACT_ERRNO" }
        ]
}
EOF
check_output "a custom profile denies mkdir" '^failed: .*Operation not permitted' \
        inside --security-opt seccomp="$T/deny-mkdir.json" "$(try 'mkdir /tmp/x')"
check_output "... and allows the rest" '^ok$' \
        inside --security-opt seccomp="$T/deny-mkdir.json" "$(try 'touch /tmp/x')"
check_output "... and is installed" "$OWN" \
        status_of Seccomp_filters --security-opt seccomp="$T/deny-mkdir.json"
printf '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ' >"$T/broken.json"
check_exit "a malformed profile is refused (125)" 125 run --security-opt seccomp="$T/broken.json" bb true
check_output "... with a message naming the profile" '^Error: .*(seccomp|profile)' \
        run --security-opt seccomp="$T/broken.json" bb true
check_exit "a missing profile is refused (125)" 125 run --security-opt seccomp="$T/nosuch.json" bb true
check_output "... with a message naming the profile" "^Error: .*(seccomp|profile|nosuch.json)" \
        run --security-opt seccomp="$T/nosuch.json" bb true
check_exit "a relative profile path is refused (125)" 125 run --security-opt seccomp=rel.json bb true

# --- Seccomp: socket families through socketcall, ptrace in the container ----
# sec-probe (tests/sec-probe.c) makes the calls busybox cannot, in an image of
# its own.
PROBE=$BUILD_DIR/tests/sec-probe
d=$(mktemp -d "$T/probe.XXXXXX")
make_rootfs "$d"
cp "$PROBE" "$d/bin/sec-probe"
tar -C "$d" --numeric-owner -cf "$T/probe.tar" . && rm -rf "$d"
check "import the sec-probe image" sbx_ctl import "$T/probe.tar" probe
check_output "socket(AF_VSOCK) is refused by default (it reaches the host)" '^failed: Operation not permitted$' \
        run probe sec-probe socket vsock
if [ "$(sbx "$PROBE" socket vsock)" = ok ]; then
        check_output "... which the host has: unconfined, it works" '^ok$' \
                run --security-opt seccomp=unconfined probe sec-probe socket vsock
else
        log "this host has no AF_VSOCK: the refusal is checked, not what it prevents"
fi
check_output "socket(AF_INET) works" '^ok$' run probe sec-probe socket inet
check_output "socket(AF_UNIX) works" '^ok$' run probe sec-probe socket unix
# Any x86-64 process can enter the i386 ABI (int $0x80), whose socketcall(2)
# takes its arguments from memory, out of seccomp's reach.
case "$(run probe sec-probe socketcall-i386 vsock)" in
"no ia32 entry")
        log "this kernel has no ia32 entry: the i386 calls are checked on the filter below" ;;
*)
        check_output "i386 socketcall(SYS_SOCKET, AF_VSOCK) is refused" '^failed: Function not implemented$' \
                run probe sec-probe socketcall-i386 vsock
        check_output "... as is every socketcall(SYS_SOCKET), AF_INET too" '^failed: Function not implemented$' \
                run probe sec-probe socketcall-i386 inet
        check_output "i386 socket(AF_VSOCK) is refused" '^failed: Operation not permitted$' \
                run probe sec-probe socket-i386 vsock
        check_output "i386 socket(AF_INET) works" '^ok$' run probe sec-probe socket-i386 inet ;;
esac
# What the filter in force answers, whatever this machine can call: read
# from a running container (PTRACE_SECCOMP_GET_FILTER) and simulated.
check "run -d starts a container" sbx_ctl run -d --name sockc probe sleep 1000
PID=$(sbx_ctl inspect sockc | grep -o '"Pid": *[0-9]*' | grep -o '[0-9]*$')
FILTER=$(sbx "$PROBE" filter "$PID")
for expect in 'x86_64 socket\(AF_VSOCK\): errno 1' 'x86_64 socket\(AF_INET\): allow' \
              'x32 socket\(AF_VSOCK\): errno 1' 'i386 socket\(AF_VSOCK\): errno 1' \
              'i386 socket\(AF_INET\): allow' 'i386 socketcall\(SYS_SOCKET\): errno 38' \
              'i386 socketcall\(SYS_CONNECT\): allow'; do
        check_output "its filter answers ${expect//\\/}" "^$expect\$" echo "$FILTER"
done
check "rm -f removes it" sbx_ctl rm -f sockc
# As in Docker: ptrace within the container, under the kernel's own checks
# (Yama's scope on hosts that have it).
SCOPE=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)
if [ "$SCOPE" -le 1 ]; then
        check_output "a process can trace its children (PTRACE_TRACEME, PTRACE_ATTACH, process_vm_readv)" '^ok$' \
                run probe sec-probe trace-child
        check_output "... also as a non-root user" '^ok$' run -u 1000 probe sec-probe trace-child
        check_output "... also with --cap-drop ALL and no-new-privileges" '^ok$' \
                run --cap-drop ALL --security-opt no-new-privileges probe sec-probe trace-child
else
        log "Yama's ptrace_scope is $SCOPE here: no attaching without CAP_SYS_PTRACE"
fi
check "run -d starts a container" sbx_ctl run -d --name tracec probe sleep 1000
if [ "$SCOPE" = 0 ]; then
        check_output "root in it can attach to its pid 1" '^ok$' sbx_ctl exec tracec sec-probe attach 1
fi
check_output "a non-root user cannot attach to root's pid 1" '^failed: Operation not permitted$' \
        sbx_ctl exec -u 1000 tracec sec-probe attach 1
check "rm -f removes it" sbx_ctl rm -f tracec

# --- Masked and read-only paths ---------------------------------------------
# empty PATH: prints "empty" if PATH reads as nothing (or not at all).
empty() { printf 'if [ -z "$(cat %s 2>/dev/null)" ]; then echo empty; else echo "has content"; fi' "$1"; }
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        check_output "$p is empty" '^empty$' inside "$(empty $p)"
done
check_output "/proc/keys is masked by a mount" ' /proc/keys ' inside 'cat /proc/self/mountinfo'
check_output "/proc/timer_list is masked by a mount" ' /proc/timer_list ' inside 'cat /proc/self/mountinfo'
check_output "/sys/firmware is empty" '^$' inside 'ls -A /sys/firmware'
check_output "/sys/firmware is masked by a mount" ' /sys/firmware ' inside 'cat /proc/self/mountinfo'
check_output "writing /proc/sys/kernel/hostname fails" '^failed: .*Read-only' \
        inside "$(try 'echo x >/proc/sys/kernel/hostname')"
check_output "... also with SYS_ADMIN" '^failed: .*Read-only' \
        inside --cap-add SYS_ADMIN "$(try 'echo x >/proc/sys/kernel/hostname')"
# Opening for writing is enough: nothing is ever written to the trigger.
if [ -e /proc/sysrq-trigger ]; then
        check_output "/proc/sysrq-trigger cannot be opened for writing" '^failed: .*Read-only' \
                inside "$(try ': >/proc/sysrq-trigger')"
else
        log "this kernel has no /proc/sysrq-trigger"
fi
for p in /proc/sys /proc/irq /proc/bus /proc/fs; do
        [ -e $p ] || continue
        check_output "$p is mounted read-only" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ $p ro," inside 'cat /proc/self/mountinfo'
done
check_output "/sys is read-only" '^failed: .*Read-only' inside "$(try ': >/sys/kernel/uevent_helper')"
for net in none host; do
        check_output "no debugfs, tracefs or securityfs of the host with --network $net" '^none$' \
                inside --network $net 'grep -Eq " - (debugfs|tracefs|securityfs|bpf|fusectl) " /proc/self/mountinfo && echo found || echo none'
        check_output "... /sys/kernel/debug is empty" '^$' inside --network $net 'ls -A /sys/kernel/debug 2>/dev/null'
        check_output "... /sys is read-only" '^failed: .*Read-only' inside --network $net "$(try ': >/sys/kernel/uevent_helper')"
        check_output "... /sys/firmware is masked" '^$' inside --network $net 'ls -A /sys/firmware'
done
check_output "/sys/fs/cgroup is read-only" '^failed: .*Read-only' inside "$(try 'mkdir /sys/fs/cgroup/x')"
check_output "--privileged lifts the masks" 'has content' inside --privileged "$(empty /proc/timer_list)"
check_output "... no mount over /proc/kcore" '^none$' \
        inside --privileged 'grep -q " /proc/kcore " /proc/self/mountinfo && echo masked || echo none'
check_output "... /sys/firmware shows the host's" '.' inside --privileged 'ls -A /sys/firmware'
check_output "... and /proc/sys is writable" '^ok$' \
        inside --privileged "$(try 'cat /proc/sys/kernel/hostname >/proc/sys/kernel/hostname')"

# --- No leaked fds, no path to berthd ---------------------------------------
fds() { tr '\n' ' ' | sed 's/ $//'; }
check_output "an attached run has only fds 0 1 2 (and ls's own)" '^0 1 2 3 ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb ls /proc/self/fd | tr '\n' ' '"
check_output "... also attached with -i" '^0 1 2 3 ?$' \
        bash -c "echo | nsenter -a -t $SBX_PID berthctl run --rm -i bb ls /proc/self/fd | tr '\n' ' '"
check_output "... and pid 1 has only 0 1 2" '^0 1 2 ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb sh -c 'ls /proc/1/fd; ls -l /proc/1/fd >&2' | tr '\n' ' '"
check "run -d starts a container" sbx_ctl run -d --name fdc -w /home/user bb sleep 1000
check_output "its pid 1 has only fds 0 1 2" '^0 1 2 ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl exec fdc ls /proc/1/fd | tr '\n' ' '"
check_output "an exec'd process has only 0 1 2 (and ls's own)" '^0 1 2 3 ?$' \
        bash -c "nsenter -a -t $SBX_PID berthctl exec fdc ls /proc/self/fd | tr '\n' ' '"
check_output "the cwd of pid 1 is the working dir" '^/home/user$' sbx_ctl exec fdc readlink /proc/1/cwd
check_output "the cwd of an exec'd process too" '^/home/user$' sbx_ctl exec fdc sh -c 'readlink /proc/self/cwd'
check_output "pid 1's exe is the command in the rootfs" '^/bin/busybox$' sbx_ctl exec fdc readlink /proc/1/exe
check_output "no process of the container maps or runs berthd" '^clean$' sbx_ctl exec fdc sh -c \
        'for p in /proc/[0-9]*; do readlink $p/exe; cat $p/maps; done 2>/dev/null | grep -q berthd && echo LEAK || echo clean'
check_output "... and nothing in /proc links to it" '^clean$' sbx_ctl exec fdc sh -c \
        'for l in /proc/[0-9]*/exe /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/fd/*; do readlink $l; done 2>/dev/null |
         grep -Eq "berthd|/var/lib/berth" && echo LEAK || echo clean'
check_output "pid 1's root is the container's" '^/$' sbx_ctl exec fdc readlink /proc/1/root
check_output "the cwd of an attached run's pid 1 is /" '^/$' inside 'readlink /proc/1/cwd'
check_output "... or the -w dir" '^/tmp$' inside -w /tmp 'readlink /proc/1/cwd'
# An exec'd process gets the container's confinement, not the daemon's.
check_output "an exec'd process has Docker's capabilities" "^CapBnd:[[:space:]]+$DOCKER_CAPS\$" \
        sbx_ctl exec fdc grep '^CapBnd:' /proc/self/status
check_output "... and Berth's seccomp filter" "$OWN" sbx_ctl exec fdc grep '^Seccomp_filters:' /proc/self/status
check_output "... and cannot mount" '^failed: .*(Operation not permitted|permission denied)' \
        sbx_ctl exec fdc sh -c "$(try 'mount -t tmpfs x /tmp')"
check_output "exec -u 1000 has no effective capabilities" '^CapEff:[[:space:]]+0{16}$' \
        sbx_ctl exec -u 1000 fdc grep '^CapEff:' /proc/self/status
check "rm -f removes it" sbx_ctl rm -f fdc
check "run -d with no-new-privileges and --cap-drop ALL" \
        sbx_ctl run -d --name nnpc --security-opt no-new-privileges --cap-drop ALL bb sleep 1000
check_output "... exec'd processes have no_new_privs" '^NoNewPrivs:[[:space:]]+1$' \
        sbx_ctl exec nnpc grep '^NoNewPrivs:' /proc/self/status
check_output "... and no capabilities" '^CapBnd:[[:space:]]+0{16}$' sbx_ctl exec nnpc grep '^CapBnd:' /proc/self/status
check "rm -f removes it" sbx_ctl rm -f nnpc

# --- Mounts: --read-only, volumes, tmpfs, /dev ------------------------------
check_output "--read-only: writing / fails" '^failed: .*Read-only' inside --read-only "$(try 'touch /x')"
check_output "--read-only: writing a --tmpfs mount works" '^ok$' inside --read-only --tmpfs /tmp "$(try 'touch /tmp/x')"
check_output "without --read-only, / is writable" '^ok$' inside "$(try 'touch /x')"
sbx mkdir -p "$T/vol"
sbx sh -c "echo from-host >$T/vol/f"
check_output "a bind is writable without :ro" '^ok$' inside -v "$T/vol:/data" "$(try 'echo from-ctr >/data/g')"
check_output "... and the write reaches the host dir" '^from-ctr$' sbx cat "$T/vol/g"
check_output "a :ro bind is read-only" '^failed: .*Read-only' inside -v "$T/vol:/data:ro" "$(try 'touch /data/h')"
check_output "... but readable" '^from-host$' inside -v "$T/vol:/data:ro" 'cat /data/f'
check_output "--mount type=bind,readonly is read-only" '^failed: .*Read-only' \
        inside --mount "type=bind,source=$T/vol,target=/data,readonly" "$(try 'touch /data/h')"
check_output "--tmpfs size= allows writes within the size" '^ok$' \
        inside --tmpfs /t:size=1m "$(try 'busybox dd if=/dev/zero of=/t/f bs=1024 count=512')"
check_output "--tmpfs size= is enforced" '^failed: .*No space left' \
        inside --tmpfs /t:size=1m "$(try 'busybox dd if=/dev/zero of=/t/f bs=1024 count=2048')"
check_output "--tmpfs is noexec and nosuid like Docker's" 'nosuid.*noexec|noexec.*nosuid' \
        inside --tmpfs /t 'grep " /t " /proc/self/mountinfo'
DEV='fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero'
check_output "/dev has only the standard entries" "^$DEV\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb ls /dev | tr '\n' ' ' | sed 's/ \$//'"
check_output "/dev/null is the real device" '^1,3$' inside 'stat -c %t,%T /dev/null'
check_output "/dev/pts is a new devpts instance with ptmxmode 0666" ' /dev/pts .* devpts .*ptmxmode=0?666' \
        inside 'cat /proc/self/mountinfo'
check_output "/dev/pts/ptmx is 0666" '^666$' inside 'stat -c %a /dev/pts/ptmx'
check_output "/dev/pts has no host terminals" '^ptmx$' inside 'ls /dev/pts'
# With -t the client needs a terminal: script(1) gives it one.
tty_run() { sbx script -qec "/usr/bin/berthctl run --rm -t bb sh -c '$1'" /dev/null | tr -d '\r'; }
tty_dev() { tty_run 'ls -1 /dev' | tr '\n' ' ' | sed 's/ $//'; }
check_output "with -t, /dev has console too" "^console $DEV\$" tty_dev
check_output "... the pty of the container's devpts" '^/dev/pts/0$' tty_run 'readlink /proc/self/fd/0'
check_output "... which /dev/console is (136:0)" '^88,0 /dev/pts/0$' tty_run 'echo $(stat -c %t,%T /dev/console) $(busybox tty)'
# The default capabilities include MKNOD: as in Docker, nodes may be created
# but only the standard pseudo devices opened (the scope's device policy).
DISK=$(sed -n '3{s/^ *\([0-9]*\) *\([0-9]*\) .*/\1 \2/;p}' /proc/partitions)
if [ -n "$DISK" ]; then
        check_output "a node of the host's disk ($DISK) can be created" '^ok$' \
                inside "$(try "busybox mknod /tmp/disk b $DISK")"
        check_output "... but not opened" '^failed: .*Operation not permitted' \
                inside "$(try "busybox mknod /tmp/disk b $DISK && busybox head -c 1 /tmp/disk")"
        check_output "... not even with --cap-add ALL" '^failed: .*Operation not permitted' \
                inside --cap-add ALL "$(try "busybox mknod /tmp/disk b $DISK && busybox head -c 1 /tmp/disk")"
fi
# Where the machine itself already refuses (as this VM does for its disk),
# the checks above pass regardless: the policy itself is checked here.
check "run -d starts a container" sbx_ctl run -d --name devc bb sleep 1000
check "a privileged one too" sbx_ctl run -d --name privc --privileged bb sleep 1000
check_output "its scope has DevicePolicy=strict" '^strict$' sbx systemctl show -P DevicePolicy berth-devc.scope
check_output "... allowing /dev/null" '/dev/null rwm' sbx systemctl show -P DeviceAllow berth-devc.scope
check_output "--privileged lifts the device policy" '^auto$' sbx systemctl show -P DevicePolicy berth-privc.scope
if sbx test -d /sys/fs/cgroup/devices; then
        check_output "the devices cgroup no longer allows everything" '^restricted$' sbx_ctl exec devc sh -c \
                'grep -q "^a " /sys/fs/cgroup/devices/devices.list && echo "allows all" || echo restricted'
        check_output "... but c 1:3 rwm and b *:* m" '^both$' sbx_ctl exec devc sh -c \
                'grep -q "^c 1:3 rwm" /sys/fs/cgroup/devices/devices.list && grep -q "^b \*:\* m" /sys/fs/cgroup/devices/devices.list && echo both'
fi
check "rm -f removes them" sbx_ctl rm -f devc privc
check_output "/dev/kmsg cannot be made and read" '^failed: .*Operation not permitted' \
        inside "$(try 'busybox mknod /tmp/kmsg c 1 11 && busybox head -c 1 /tmp/kmsg')"
check_output "a copy of /dev/null works" '^ok$' inside "$(try 'busybox mknod /tmp/null c 1 3 && echo x >/tmp/null')"
check_output "/dev/pts nodes can be opened" '^ok$' inside "$(try ': </dev/ptmx')"

# --- Namespaces -------------------------------------------------------------
ID=$(sbx_ctl run -d --name nsc --network none bb sleep 1000)
check_output "run -d prints the container id" '^[0-9a-f]{64}$' echo "$ID"
check_output "the hostname is the short id" "^${ID:0:12}\$" sbx_ctl exec nsc hostname
check_output "--hostname sets it" '^box1$' inside --hostname box1 hostname
for ns in mnt pid ipc uts net cgroup; do
        host=$(sbx readlink /proc/1/ns/$ns)
        check_output "the $ns namespace is not the host's" "^$ns:\[[0-9]+\]\$" \
                bash -c "r=\$(nsenter -a -t $SBX_PID berthctl exec nsc readlink /proc/self/ns/$ns); [ \"\$r\" != '$host' ] && echo \$r"
done
check_output "exec joins pid 1's namespaces" '^same$' sbx_ctl exec nsc sh -c \
        'for n in mnt pid ipc uts net cgroup; do [ "$(readlink /proc/1/ns/$n)" = "$(readlink /proc/self/ns/$n)" ] || exit 1; done; echo same'
check "rm -f removes it" sbx_ctl rm -f nsc
check_output "ps shows only the command, as pid 1" '^PID USER( TIME)? COMMAND 1 root( [0-9:]+)? ps$' \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb ps | tr -s ' \n' ' ' | sed 's/^ //; s/ \$//'"
sbx ip link add berthtest0 type veth peer name berthtest1
check_output "--network none has only lo" '^lo$' \
        inside --network none 'sed -n "3,\$p" /proc/net/dev | sed "s/:.*//; s/ //g"'
check_output "--network host sees the host's interfaces" 'berthtest0' inside --network host 'cat /proc/net/dev'
HOST_IFS=$(sbx ip -o link | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | sort | tr '\n' ' ')
check_output "... exactly those" "^${HOST_IFS% }\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm --network host bb sh -c 'sed -n \"3,\\\$p\" /proc/net/dev | sed \"s/:.*//; s/ //g\"' | sort | tr '\n' ' ' | sed 's/ \$//'"
check_output "--network host shares the host's net namespace" '^same$' inside --network host \
        "[ \"\$(readlink /proc/self/ns/net)\" = '$(sbx readlink /proc/1/ns/net)' ] && echo same"
check_output "--network none does not" '^different$' inside --network none \
        "[ \"\$(readlink /proc/self/ns/net)\" != '$(sbx readlink /proc/1/ns/net)' ] && echo different"
check_output "... but not its uts namespace" '^different$' inside --network host \
        "[ \"\$(readlink /proc/self/ns/uts)\" != '$(sbx readlink /proc/1/ns/uts)' ] && echo different"
check_output "the cgroup namespace shows / paths" '^[1-9][0-9]* lines, 0 not at /$' \
        inside 'echo "$(grep -c "" /proc/self/cgroup) lines, $(grep -vc ":/\$" /proc/self/cgroup) not at /"'
check_output "... on every hierarchy line" ':/$' inside 'cat /proc/self/cgroup'

# --- Users --------------------------------------------------------------------
check_output "root by default" '^uid=0\(root\) gid=0\(root\)' inside id
check_output "-u user: uid 1000 with its groups" '^uid=1000\(user\) gid=1000\(user\) groups=(1000\(user\),50\(staff\)|50\(staff\),1000\(user\))$' \
        inside -u user id
check_output "-u user: HOME from passwd" '^/home/user$' inside -u user 'echo $HOME'
check_output "-u 1000:50" '^uid=1000\(user\) gid=50\(staff\)' inside -u 1000:50 id
check_output "-u user:staff" '^uid=1000\(user\) gid=50\(staff\)' inside -u user:staff id
check_output "-u 4242 (not in passwd) works, as in Docker" '^uid=4242 gid=0' inside -u 4242 id
# Docker's CLI exits 125 for this daemon error; so does Berth.
check_exit "an unknown user fails with 125" 125 run -u nosuch bb true
check_output "... with a clear error" '^Error: .*nosuch.*no matching entries' run -u nosuch bb true
check_exit "an unknown group fails with 125" 125 run -u user:nosuchgroup bb true

# --- Terminal controls in image metadata --------------------------------------
# An image's strings (Cmd, Entrypoint, labels, history) and what a container
# sets (its processes' command lines) reach berthctl's tables and sentences
# escaped ("\x1b]0;pwned\a", "\u009b"), and its JSON with every control as
# \u00NN: none of them may drive the admin's terminal.
E=$'\033]0;pwned\007'
CLEAR=$'\033[2J'
# shows_escaped DESCRIPTION CMD...: CMD's output shows the image's text
# ("pwn", ps cuts the rest) and holds no control character but tab and
# newline, neither as a byte nor as UTF-8 C1.
shows_escaped() {
        local desc=$1 out; shift
        out=$("$@" 2>&1)
        if ! grep -q pwn <<<"$out"; then
                fail "$desc"; log "the image's text is missing from:"; printf '%s\n' "$out" | sed 's/^/#   /' >&2
        elif LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' <<<"$out"; then
                fail "$desc"; log "control characters in:"; printf '%s' "$out" | od -c | head -20 | sed 's/^/#   /' >&2
        else
                pass "$desc"
        fi
}
python3 "$SOURCE_DIR/tests/integration/controls-archive.py" "$T/rootfs.tar" "$T/controls.tar" "controls:1"
check "load an image whose Cmd, label and history hold terminal controls" sbx_ctl load -i "$T/controls.tar"
check "import one with such a CMD, LABEL and ENTRYPOINT" sbx_ctl import "$T/rootfs.tar" controls2 \
        --change 'CMD ["sh","-c","echo \u001b]0;pwned\u0007 \u009b2J"]' --change "LABEL x=\"$E\"" \
        --change 'ENTRYPOINT ["/nonexistent\u001b]0;pwned\u0007"]'
check_output "a tag with controls is refused, and quoted escaped" 'Invalid reference "bad\\x1b\]0;pwned\\a"' \
        sbx_ctl import "$T/rootfs.tar" "bad$E"
check "create a container of it" sbx_ctl create --name ctlc controls:1
shows_escaped "run: the error quoting the Entrypoint" sbx_ctl run --name ctlc2 controls2
check "run -d one whose process has controls in its command line" \
        sbx_ctl run -d --name ctlc3 bb sh -c 'sleep 1000; :' "$E$CLEAR"
shows_escaped "ps -a" sbx_ctl ps -a
shows_escaped "ps -a --no-trunc" sbx_ctl ps -a --no-trunc
shows_escaped "ps -a --format with a table" sbx_ctl ps -a --format 'table {{.Names}}\t{{.Command}}'
shows_escaped "ps -a --format '{{json .}}'" sbx_ctl ps -a --format '{{json .}}'
shows_escaped "--json ps -a" sbx_ctl --json ps -a
shows_escaped "image history" sbx_ctl image history controls:1
shows_escaped "--json image history" sbx_ctl --json image history controls:1
shows_escaped "inspect of the image" sbx_ctl inspect controls:1
shows_escaped "inspect of a container" sbx_ctl inspect ctlc
shows_escaped "top" sbx_ctl top ctlc3
check_output "... which shows the command line escaped" 'sleep 1000; : \\x1b\]0;pwned\\a\\x1b\[2J' sbx_ctl top ctlc3
check_output "ps shows the Cmd escaped" '"sh -c echo \\x1b\]0;pwned\\a\\x1b\[2J\\u009b2J"' \
        sbx_ctl ps -a --no-trunc --format '{{.Command}}'
check_output "image history shows the comment escaped" 'pwned \\x1b\]0;pwned\\a\\x1b\[2J\\u009b2J$' \
        sbx_ctl image history controls:1
# The JSON holds the same strings: a JSON reader gets the controls back.
SAME_CMD='import json, sys
d = json.load(sys.stdin)[0]
c = d.get("Cmd") or d.get("Config", {}).get("Cmd")
print("same" if c == ["sh", "-c", "echo \x1b]0;pwned\x07\x1b[2J\u009b2J"] else repr(c))'
check_output "the JSON of inspect decodes to the image's Cmd" '^same$' \
        bash -c "nsenter -a -t $SBX_PID berthctl inspect controls:1 | python3 -c '$SAME_CMD'"
# A tag cannot hold controls; an archive that says otherwise is quoted escaped.
python3 "$SOURCE_DIR/tests/integration/controls-archive.py" "$T/rootfs.tar" "$T/controls-tag.tar" "bad$E:1"
shows_escaped "load of an archive tagged with controls" sbx_ctl load -i "$T/controls-tag.tar"
check_output "images holds no control character" '^clean$' bash -c \
        "out=\$(nsenter -a -t $SBX_PID berthctl images -a) && grep -q controls <<<\"\$out\" || { echo \"images failed: \$out\"; exit; }
         LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' <<<\"\$out\" && echo controls || echo clean"
check "rm -f removes them" sbx_ctl rm -f ctlc ctlc2 ctlc3
check "rmi removes the images" sbx_ctl image rm controls:1 controls2

# --- Nothing left behind ------------------------------------------------------
SHORT=$(run --name gone bb hostname)
check_output "run --rm ran" '^[0-9a-f]{12}$' echo "$SHORT"
check_output "its overlay is not in the host's mount table" '^clean$' \
        bash -c "nsenter -a -t $SBX_PID cat /proc/self/mountinfo | grep -q '$SHORT' && echo LEFT || echo clean"
check_output "no overlay of a container is mounted on the host" '^clean$' \
        bash -c "nsenter -a -t $SBX_PID cat /proc/self/mountinfo | grep -q '/var/lib/berth/containers' && echo LEFT || echo clean"
wait_for "no berth-*.scope unit remains" \
        bash -c "[ -z \"\$(nsenter -a -t $SBX_PID systemctl list-units --all --plain --no-legend 'berth-*.scope')\" ]"
check_output "the container is gone" 'No such container' sbx_ctl rm gone
check_output "its directory is gone" '^clean$' \
        bash -c "out=\$(nsenter -a -t $SBX_PID ls /var/lib/berth/containers) || exit; grep -q '$SHORT' <<<\"\$out\" && echo LEFT || echo clean"
