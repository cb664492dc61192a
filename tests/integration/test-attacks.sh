#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 9, attacks 1 to 3, written as an attacker would try them:
#  1. a host write or a host binary reached from an image or a running
#     container through berthd's fds (/proc/self/fd/N as the working
#     directory or in the path of the entrypoint, CVE-2024-21626; the
#     daemon's own binary as /proc/self/exe, CVE-2019-5736);
#  2. a frozen engine: passwd or group files that block or never end, and an
#     exec whose process the container stops before it is set up;
#  3. berthd's fds, capabilities and binary seen through the exec helper by a
#     container with CAP_SYS_PTRACE.
# Each asserts that nothing appeared outside the container, that GetInfo
# answers within a second during the attack and afterwards, that a berthd
# killed in the middle comes back on the bus, and that no scope, mount or
# process is left.
#
# What "the host" is here: the sandbox's / is this machine's, with /usr, /etc
# and /var as overlays, and /root or /home are the real ones. So the target of
# every attack is the test's own folder $T/attack, which the sandbox shares
# (at the same path) and no container has: a successful attack writes there
# and nowhere else, and the test sees it without entering the sandbox.
. "$(dirname "$0")/lib.sh"

SBX_CMD_TIMEOUT=30
sandbox_start
T=$SBX_TMP

SETUP_TIMEOUT=3        # [Containers] SetupTimeoutSec= given to berthd
BOUND=6                # seconds an attack on the setup may take to fail
ATTACK_TIMEOUT=7       # seconds after which an attack is given up on
HOSTDIR=$T/attack
MARK=berth-attack-host-marker
UP=$(printf '../%.0s' $(seq 12))        # from any of berthd's folders up to /
REL=$UP${HOSTDIR#/}                     # the host folder through it
CWD_RE='([Cc]hdir|[Ww]orking dir|[Ww]orkdir|cwd)'

# HOSTMARK is what an attack could read; hostbin what it could run: a script
# whose interpreter, /bin/echo of the container, prints a marker.
mkdir -p "$HOSTDIR" "$T/flags"
echo "$MARK" >"$HOSTDIR/HOSTMARK"
printf '#!/bin/echo HOST-BINARY-RAN\n' >"$HOSTDIR/hostbin"
chmod 755 "$HOSTDIR/hostbin"
# The controls: from one of berthd's folders, the path reaches the marker, and
# the script runs where it is (no noexec mount to make the checks vacuous).
check_output "the host folder is reached through ../ from berthd's folders" "^$MARK\$" sbx sh -c "cd /var/lib/berth && cat $REL/HOSTMARK"
check_output "... and its script runs" '^HOST-BINARY-RAN ' sbx "$HOSTDIR/hostbin"

# check_ok DESC CMD...: check, which also returns CMD's status.
check_ok() {
        local desc=$1 out; shift
        if out=$("$@" 2>&1); then pass "$desc"; return 0; fi
        fail "$desc"; printf '%s\n' "$out" | sed 's/^/#   /' >&2; return 1
}
# wait_until SECONDS DESC CMD...: CMD succeeds within SECONDS of wall time.
wait_until() {
        local end=$((SECONDS + $1)) desc=$2; shift 2
        while :; do
                "$@" >/dev/null 2>&1 && { pass "$desc"; return 0; }
                [ $SECONDS -lt $end ] || break
                sleep 0.1
        done
        fail "$desc"; return 1
}
getinfo() { sbx timeout -k 1 1 busctl call org.berth.Berth1 /org/berth/Berth1 org.berth.Berth1.Manager GetInfo; }
berthd_pid() { sbx systemctl show -P MainPID berthd.service; }

# --- The setup time limit ------------------------------------------------------
sbx sh -c "mkdir -p /etc/berth && printf '[Containers]\nSetupTimeoutSec=$SETUP_TIMEOUT\n' >/etc/berth/berthd.conf"
# systemctl waits for berthd's READY=1 (Type=notify) or its failure.
if check_ok "berthd starts with [Containers] SetupTimeoutSec=$SETUP_TIMEOUT" sbx systemctl start berthd.service; then
        wait_until 10 "... and answers" getinfo
else
        log "berthd refuses the setting: the attacks below run without a time limit"
        sbx rm -f /etc/berth/berthd.conf
        sbx systemctl reset-failed berthd.service
        check_ok "berthd starts without it" sbx systemctl start berthd.service || exit 1
fi

# --- Images --------------------------------------------------------------------
# image NAME TWEAK [IMPORT-ARGS...]: the busybox rootfs, changed by the
# function TWEAK (given its folder; "" for none), imported as NAME.
image() {
        local name=$1 tweak=$2 d r; shift 2
        d=$(mktemp -d "$T/rootfs.XXXXXX")
        make_rootfs "$d"
        [ -z "$tweak" ] || "$tweak" "$d"
        tar -C "$d" --numeric-owner -S -cf "$d.tar" .
        sbx_ctl image import "$@" "$d.tar" "$name" >/dev/null; r=$?
        rm -rf "$d" "$d.tar"
        return $r
}
check_ok "import the busybox image" image bb "" || exit 1

# What berthd holds: any of it seen in a container is a leak. /dev/null aside.
# anon_inode:[...] names a kind, not an object, so those are left out.
berthd_fds() {
        sbx sh -c 'ls -l /proc/$(systemctl show -P MainPID berthd.service)/fd' | sed -n 's/.* -> //p' |
                grep -vx -e /dev/null -e 'anon_inode:.*'
}
BERTHD_EXE=$(sbx readlink /proc/"$(berthd_pid)"/exe)
check_output "berthd runs from /usr" '^/usr/' echo "$BERTHD_EXE"

# --- What is left behind -------------------------------------------------------
# Prints whatever is left: berth-*.scope units but KEEP's, container mounts
# in the sandbox or in berthd's mount namespace, processes in berth.slice
# but KEEP's, more than MAX processes in KEEP's scope, copies of berthd.
cat >"$T/leftovers.sh" <<'EOF'
keep=$1 max=${2:-1000000}
systemctl list-units --all --plain --no-legend 'berth-*.scope' | awk -v k="berth-$keep.scope" '$1 != k { print "unit " $0 }'
main=$(systemctl show -P MainPID berthd.service)
for f in /proc/1/mountinfo /proc/$main/mountinfo; do
        [ "$f" != /proc/0/mountinfo ] && [ -r "$f" ] && grep ' /var/lib/berth/containers/' "$f" | sed "s|^|mount in $f: |"
done
n=0
for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        cg=$(cat "$p/cgroup" 2>/dev/null) || continue
        comm=$(cat "$p/comm" 2>/dev/null)
        case "$cg" in
        *"/berth.slice/berth-$keep.scope"*) [ -n "$keep" ] && { n=$((n + 1)); continue; } ;;
        esac
        case "$cg" in
        *"/berth.slice/"*) echo "process $pid ($comm) in ${cg##*:}"; continue ;;
        esac
        [ "$comm" = berthd ] && [ "$pid" != "$main" ] && echo "process $pid: a copy of berthd"
done
[ "$n" -le "$max" ] || echo "$n processes in berth-$keep.scope (expected at most $max)"
EOF
leftovers() { sbx sh "$T/leftovers.sh" "$@" 2>&1; }
nothing_left() { local out; out=$(leftovers "$@"); [ -z "$out" ] || { echo "$out"; return 1; }; }
# check_clean DESC [KEEP [MAX]]: nothing is left within 5 s (at once when
# the engine does not answer: it cleans nothing up then).
check_clean() {
        local desc=$1 i tries=25; shift
        getinfo >/dev/null 2>&1 || tries=1
        for i in $(seq $tries); do nothing_left "$@" >/dev/null && { pass "$desc"; return 0; }; sleep 0.2; done
        fail "$desc"; nothing_left "$@" | sed 's/^/#   /' >&2; return 1
}

# When an attack froze the engine (as it does before the fix), it is reset
# by hand so that the next one is judged on its own. Not a check: the checks
# before it have recorded what went wrong.
engine_reset() {
        getinfo >/dev/null 2>&1 && nothing_left "$@" >/dev/null && return 0
        log "resetting the engine by hand: killing berthd, its leftovers and every berth-*.scope"
        sbx systemctl kill --kill-whom=all -s KILL berthd.service 2>/dev/null
        sbx systemctl kill -s KILL 'berth-*.scope' 2>/dev/null
        sleep 0.5
        sbx systemctl reset-failed 2>/dev/null
        sbx systemctl start berthd.service 2>/dev/null
        for i in $(seq 50); do getinfo >/dev/null 2>&1 && return 0; sleep 0.1; done
        log "berthd does not come back"
}

# remove NAME: rm -f, done within 10 s. When it is not (berthd waits for
# something that never comes), the container's scope and berthd are killed
# by hand and it is asked again, so that the next checks start clean.
remove() {
        local old
        SBX_CMD_TIMEOUT=10 sbx_ctl rm -f "$1" >/dev/null 2>&1 && return 0
        echo "rm -f $1 did not complete within 10 s"
        old=$(berthd_pid)
        sbx systemctl kill -s KILL "berth-$1.scope" 2>/dev/null
        sbx systemctl kill -s KILL berthd.service 2>/dev/null
        for i in $(seq 100); do back_on_bus "$old" && break; sleep 0.1; done
        SBX_CMD_TIMEOUT=10 sbx_ctl rm -f "$1" >/dev/null 2>&1 || engine_reset
        return 1
}

# back_on_bus OLD: berthd runs with a new pid, owns org.berth.Berth1 and answers.
back_on_bus() {
        local now owner
        now=$(berthd_pid)
        owner=$(sbx busctl status --no-pager org.berth.Berth1 2>/dev/null | sed -n 's/^PID=//p')
        [ -n "$now" ] && [ "$now" != 0 ] && [ "$now" != "$1" ] && [ "$owner" = "$now" ] && getinfo >/dev/null
}

# attack_start ARGS...: berthctl ARGS in the sandbox, in the background, for at
# most ATTACK_TIMEOUT s; attack_wait then sets ATTACK_RC, ATTACK_OUT, ATTACK_MS.
attack_start() {
        rm -f "$T"/attack.*
        (
                start=$(date +%s%N)
                timeout -k 1 "$ATTACK_TIMEOUT" nsenter -a -t "$SBX_PID" /usr/bin/berthctl "$@" \
                        </dev/null >"$T/attack.out" 2>&1
                echo $? >"$T/attack.rc"
                echo $(( ($(date +%s%N) - start) / 1000000 )) >"$T/attack.ms"
        ) &
        ATTACK_JOB=$!
}
attack_wait() {
        wait "$ATTACK_JOB"
        ATTACK_RC=$(cat "$T/attack.rc"); ATTACK_OUT=$(cat "$T/attack.out"); ATTACK_MS=$(cat "$T/attack.ms")
}
attack_within_bound() {
        [ "$ATTACK_MS" -le $((BOUND * 1000)) ] || { echo "took $ATTACK_MS ms (exit $ATTACK_RC): $ATTACK_OUT"; return 1; }
}

# kill_mid_attack DESC KEEP ARGS...: berthd is killed one second into the
# attack; it must come back on the bus and leave nothing behind.
kill_mid_attack() {
        local desc=$1 keep=$2 old; shift 2
        old=$(berthd_pid)
        attack_start "$@"
        sleep 1
        check "$desc: GetInfo answers within 1 s during the attack" getinfo
        sbx systemctl kill -s KILL berthd.service
        wait_until 10 "$desc: berthd killed mid-attack is back on the bus" back_on_bus "$old"
        attack_wait
        check_clean "$desc: ... and nothing is left behind" "$keep"
}

# ==============================================================================
# 1. Host write from an image (CVE-2024-21626 class)
# ==============================================================================
# The command of each attack: where it runs, then a write, a read and a
# listing of the host folder through ../ from the working directory.
CMD1="echo cwd=\$(pwd); echo x >$REL/PWNED; cat $REL/HOSTMARK; ls $REL; true"

# contained RC OUTPUT: the start failed clearly (125, naming the working
# directory) or ran with its working directory inside the container, and
# read nothing of the host.
contained() {
        local rc=$1 out=$2
        if grep -qx -e "$MARK" -e HOSTMARK -e hostbin <<<"$out"; then
                echo "read the host's $HOSTDIR (exit $rc):"; echo "$out"; return 1
        fi
        [ "$rc" = 125 ] && grep -Eq "^Error: .*$CWD_RE" <<<"$out" && return 0
        [ "$rc" = 0 ] && grep -Eq '^cwd=/' <<<"$out" && ! grep -q unreachable <<<"$out" && return 0
        echo "exit $rc:"; echo "$out"; return 1
}
ctl_contained() { local out rc; out=$(sbx_ctl "$@" </dev/null 2>&1); rc=$?; contained "$rc" "$out"; }
no_host_file() {
        if [ -e "$HOSTDIR/PWNED" ]; then
                rm -f "$HOSTDIR/PWNED"
                echo "$HOSTDIR/PWNED was created outside the container"; return 1
        fi
}
# attack1 DESC ARGS...: two checks for one attack.
attack1() {
        local desc=$1; shift
        check "$desc: fails clearly or stays in the container" ctl_contained "$@"
        check "$desc: no file appeared outside the container" no_host_file
}

# The image's WORKDIR through each fd number of the leader, its thread and pid 1.
for style in self thread-self 1; do
        for n in $(seq 3 15); do
                dir=/proc/$style/fd/$n
                if ! image "evil-${style}-$n" "" --change "WORKDIR $dir" \
                        --change "CMD [\"/bin/sh\",\"-c\",\"$CMD1\"]"; then
                        fail "import an image with WORKDIR $dir"; continue
                fi
                attack1 "run, WORKDIR $dir" run --rm "evil-${style}-$n"
        done
done
for n in $(seq 3 15); do
        attack1 "run -u user, WORKDIR /proc/self/fd/$n" run --rm -u user "evil-self-$n"
        attack1 "run -w /proc/self/fd/$n" run --rm -w /proc/self/fd/$n bb sh -c "$CMD1"
done

# The same through exec: a running container turns its working directory
# (and others) into symlinks to /proc/.../fd/N.
check "run -d a container with its working directory at /w" sbx_ctl run -d --name exw -w /w bb sh -c \
        'for n in $(seq 3 15); do ln -s /proc/self/fd/$n /wself$n; ln -s /proc/thread-self/fd/$n /wthread$n;
         ln -s /proc/1/fd/$n /wone$n; ln -s proc/self/fd/$n /wrel$n; done; exec sleep 1000'
for n in $(seq 3 15); do
        if check_ok "exec: the container replaces /w with a symlink to /proc/self/fd/$n" \
                sbx_ctl exec -w / exw sh -c "rm -rf /w && ln -s /proc/self/fd/$n /w"; then
                attack1 "exec with the container's /w -> /proc/self/fd/$n" exec exw sh -c "$CMD1"
        fi
        for w in /wself$n /wthread$n /wone$n /wrel$n /proc/self/fd/$n; do
                attack1 "exec -w $w" exec -w $w exw sh -c "$CMD1"
        done
done

check "exec: /w is a folder again" sbx_ctl exec -w / exw sh -c 'rm -f /w && mkdir /w'

# The fds a container's processes have from their first instruction on.
# fd_table ARGS...: "N TARGET" for each fd, from ls -l /proc/self/fd/ in a container.
fd_table() { sbx_ctl "$@" 2>/dev/null | sed -n 's/.* \([0-9]*\) -> \(.*\)$/\1 \2/p'; }
# only_stdio WANT ARGS...: the fd numbers match WANT and each target is a
# pipe, a socket that is not berthd's, /dev/null, a pty or ls's own folder
# (busybox's ls has closed it by the time it reads the links, in fact).
only_stdio() {
        local want=$1 table nums bad; shift
        table=$(fd_table "$@")
        nums=$(cut -d' ' -f1 <<<"$table" | tr '\n' ' ' | sed 's/ $//')
        bad=$(cut -d' ' -f2- <<<"$table" | grep -Evx 'pipe:\[[0-9]+\]|socket:\[[0-9]+\]|/dev/null|/dev/pts/[0-9]+|/proc/[0-9]+/fd')
        bad+=$(cut -d' ' -f2- <<<"$table" | grep -Fx -f <(berthd_fds))
        grep -Eqx "$want" <<<"$nums" && [ -z "$bad" ] && return 0
        echo "fds: $nums (want $want); not the container's: $bad"; echo "$table"; return 1
}
check "run: the command's fds are 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' run --rm bb ls -l /proc/self/fd/
check "run: pid 1's fds are 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' run --rm bb ls -l /proc/1/fd/
check "run -u user: 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' run --rm -u user bb ls -l /proc/self/fd/
check "run -w /tmp: 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' run --rm -w /tmp bb ls -l /proc/self/fd/
check "run --privileged: 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' run --rm --privileged bb ls -l /proc/self/fd/
check "run -d: the container's pid 1 has 0 1 2" only_stdio '0 1 2' exec exw ls -l /proc/1/fd/
check "exec: 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' exec exw ls -l /proc/self/fd/
check "exec -u user -w /tmp: 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' exec -u user -w /tmp exw ls -l /proc/self/fd/
check "run -d a container whose command is ls -l /proc/self/fd/" sbx_ctl run -d --name lsfd bb ls -l /proc/self/fd/
sleep 1
check "... its logs show 0 1 2 and ls's own" only_stdio '0 1 2( 3)?' logs lsfd
check "rm -f lsfd" remove lsfd

# The entrypoint through /proc/.../fd/N/.. to the host's hostbin.
not_host_bin() {
        local out rc
        out=$(sbx_ctl "$@" </dev/null 2>&1); rc=$?
        [ "$rc" != 0 ] && ! grep -q HOST-BINARY-RAN <<<"$out" && return 0
        echo "exit $rc (the file is not in the container: success means the host's ran):"; echo "$out"; return 1
}
for style in self thread-self 1; do
        for n in $(seq 3 15); do
                ep=/proc/$style/fd/$n/$REL/hostbin
                check "run --entrypoint /proc/$style/fd/$n/..$HOSTDIR/hostbin runs nothing of the host" \
                        not_host_bin run --rm --entrypoint "$ep" bb
                [ $style = 1 ] && continue   # in exec, pid 1 is the container's own
                check "exec of /proc/$style/fd/$n/..$HOSTDIR/hostbin runs nothing of the host" \
                        not_host_bin exec exw "$ep"
        done
done
for n in $(seq 3 15); do
        ep=/proc/self/fd/$n/$REL/hostbin
        if image "evil-ep-$n" "" --change "ENTRYPOINT [\"$ep\"]"; then
                check "an image's ENTRYPOINT /proc/self/fd/$n/..$HOSTDIR/hostbin runs nothing of the host" \
                        not_host_bin run --rm "evil-ep-$n"
        else
                fail "import an image with ENTRYPOINT $ep"
        fi
done

# CVE-2019-5736: /proc/self/exe as the command. berthd is dynamically linked,
# so the image carries the loader and libraries it needs: without them its
# execve would fail for the want of a loader, which proves nothing.
glibc_tweak() {
        local lib
        for lib in $(sbx sh -c "ldd $BERTHD_EXE /usr/bin/berthctl" | awk '/=>/ { print $3 } /^[[:space:]]+\// { print $1 }' | sort -u); do
                sbx cp -L --parents "$lib" "$1"
        done
}
# The control: a dynamically linked program of the host, berthctl, copied
# into the image runs there; else the checks below could not fail.
glibc_tweak_control() { glibc_tweak "$1" && mkdir -p "$1/control" && sbx cp /usr/bin/berthctl "$1/control/"; }
check "import an image with the libraries berthd needs" image glibc glibc_tweak_control
check_output "... in which a program linked like berthd runs" '^berthctl [0-9]' \
        sbx_ctl run --rm --entrypoint /control/berthctl glibc --version
check "run -d a container of it" sbx_ctl run -d --name gx glibc sleep 1000
not_berthd() {
        local out
        out=$(sbx_ctl "$@" </dev/null 2>&1)
        ! grep -Eq 'berth(d|ctl)? [0-9]' <<<"$out" || { echo "berthd ran in the container:"; echo "$out"; return 1; }
}
for e in /proc/self/exe /proc/thread-self/exe /proc/1/exe; do
        check "run --entrypoint $e --version does not run berthd" not_berthd run --rm --entrypoint $e glibc --version
        check "exec of $e --version does not run berthd" not_berthd exec gx $e --version
done
for n in $(seq 3 15); do
        ep=/proc/self/fd/$n/$UP${BERTHD_EXE#/}
        check "run --entrypoint /proc/self/fd/$n/..$BERTHD_EXE --version does not run berthd" \
                not_berthd run --rm --entrypoint "$ep" glibc --version
        check "exec of /proc/self/fd/$n/..$BERTHD_EXE --version does not run berthd" not_berthd exec gx "$ep" --version
done
check "rm -f gx" remove gx
check "rm -f exw" remove exw


# berthd killed while an evil container runs.
check "import an evil image that stays a while" image evil-slow "" --change "WORKDIR /proc/self/fd/5" \
        --change "CMD [\"/bin/sh\",\"-c\",\"$CMD1; sleep 2\"]"
kill_mid_attack "attack 1, run" "" run --rm evil-slow
check "attack 1, run: no file appeared outside the container" no_host_file
check "attack 1: GetInfo answers afterwards" getinfo
check_clean "attack 1: nothing is left behind"
check_output "attack 1: $HOSTDIR holds only what the test put there" '^HOSTMARK hostbin $' \
        bash -c "ls '$HOSTDIR' | tr '\n' ' '"
engine_reset

# ==============================================================================
# 3. The exec helper, seen by a container with CAP_SYS_PTRACE
# ==============================================================================
# The container's pid 1 stops each process that enters it from outside
# (parent pid 0 in here), records its binary, fds and capabilities, and lets
# it go. Paths that do not exist in the container are marked.
watch_tweak() {
        cat >"$1/watch.sh" <<'EOF'
#!/bin/sh
seen=" 1 "
: >/log
while :; do
        for d in /proc/[0-9]*; do
                p=${d#/proc/}
                case "$seen" in *" $p "*) continue ;; esac
                seen="$seen$p "
                pp=
                { while read -r k v; do [ "$k" = PPid: ] && { pp=$v; break; }; done <"$d/status"; } 2>/dev/null
                [ "$pp" = 0 ] || continue
                kill -STOP "$p" 2>/dev/null
                {
                        echo "pid $p"
                        echo "exe $(readlink "$d/exe")"
                        for f in "$d"/fd/*; do
                                t=$(readlink "$f") || continue
                                case "$t" in
                                /*) [ -e "$t" ] && echo "fd $t" || echo "fd $t (not in the container)" ;;
                                *) echo "fd $t" ;;
                                esac
                        done
                        grep '^CapEff:' "$d/status"
                        echo end
                } >>/log 2>&1
                kill -CONT "$p" 2>/dev/null
        done
done
EOF
        chmod 755 "$1/watch.sh"
}
check "import the watcher's image" image watch watch_tweak
check "run -d it with --cap-add SYS_PTRACE" sbx_ctl run -d --name ptr --cap-add SYS_PTRACE watch /watch.sh
sleep 0.5
OWN_CAPS=$(sbx_ctl exec ptr grep '^CapEff:' /proc/1/status | sed 's/^CapEff:[[:space:]]*//')
check_output "its capabilities are Docker's and SYS_PTRACE" '^00000000a80c25fb$' echo "$OWN_CAPS"
: >"$T/berthd-fds"
EXECS=0
exec_round() {
        sbx_ctl exec "$@" </dev/null >/dev/null 2>&1
        EXECS=$((EXECS + 1))
        berthd_fds >>"$T/berthd-fds"
}
for i in 1 2 3; do
        exec_round ptr sleep 0.2
        exec_round -u user ptr sleep 0.2
        exec_round -w /tmp ptr sleep 0.2
        exec_round -e X=1 ptr sh -c true
        exec_round -u 1000:50 ptr true
        exec_round ptr true
done
LOG=$(sbx_ctl exec ptr cat /log)
seen=$(grep -c '^pid ' <<<"$LOG")
check_output "the watcher saw most of the $EXECS exec'd processes" '^ok$' \
        bash -c "[ $seen -ge $((EXECS / 2)) ] && echo ok || echo 'saw $seen'"
check_output "no process it saw runs berthd" '^clean$' \
        bash -c 'grep -Fx "exe $2" <<<"$1" && echo LEAK || echo clean' _ "$LOG" "$BERTHD_EXE"
caps_within() {
        local v bad=
        for v in $(sed -n 's/^CapEff:[[:space:]]*//p' <<<"$LOG"); do
                [ $(( 0x$v & ~0x$OWN_CAPS )) = 0 ] || bad+=" $v"
        done
        [ -z "$bad" ] || { echo "CapEff beyond the container's $OWN_CAPS:$bad"; return 1; }
}
check "no process it saw has capabilities beyond the container's" caps_within
fd_targets() { sed -n 's/^fd //p' <<<"$LOG" | sed 's/ (not in the container)$//'; }
check_output "no process it saw holds one of berthd's fds" '^clean$' \
        bash -c 'grep -Fx -f <(sort -u "$2") <<<"$1" && echo LEAK || echo clean' _ "$(fd_targets)" "$T/berthd-fds"
check_output "... nor the store, berthd or its event loop" '^clean$' \
        bash -c 'grep -E "/var/lib/berth|berthd|anon_inode:\[(eventpoll|signalfd|timerfd|inotify|eventfd)\]" <<<"$1" && echo LEAK || echo clean' \
        _ "$(fd_targets)"
check_output "... nor a path outside the container" '^clean$' \
        bash -c 'grep "(not in the container)" <<<"$1" && echo LEAK || echo clean' _ "$LOG"
check_output "... only pipes, sockets, /dev/null, ptys, pidfds and the container's paths" '^clean$' \
        bash -c 'grep -Ev "^(pipe:\[[0-9]+\]|socket:\[[0-9]+\]|anon_inode:\[pidfd\]|/.*)$" <<<"$1" && echo LEAK || echo clean' \
        _ "$(fd_targets)"
kill_mid_attack "attack 3, exec" ptr exec ptr sleep 2
check "rm -f ptr" remove ptr
check "attack 3: GetInfo answers afterwards" getinfo
check_clean "attack 3: nothing is left behind"
engine_reset

# ==============================================================================
# 2. A frozen engine
# ==============================================================================
CLEAR_USER='^Error: .*(passwd|group|user|nobody|nosuch)'
CLEAR_SETUP='^Error: .*([Tt]ime|[Ss]etup)'

# frozen DESC EXPECT OKRE ERRRE KEEP MAX ARGS...: berthctl ARGS must end
# within BOUND s, with exit 125 and ERRRE in its output, or (EXPECT "either")
# with exit 0 and OKRE; GetInfo answers during it and afterwards; nothing but
# KEEP's scope (with at most MAX processes) is left.
frozen() {
        local desc=$1 expect=$2 okre=$3 errre=$4 keep=$5 max=$6; shift 6
        attack_start "$@"
        sleep 1
        check "$desc: GetInfo answers within 1 s during the attack" getinfo
        attack_wait
        check "$desc: ends within $BOUND s" attack_within_bound
        check "$desc: $( [ "$expect" = either ] && echo "works or fails" || echo fails) with a clear error" \
                outcome "$expect" "$okre" "$errre"
        check "$desc: GetInfo answers afterwards" getinfo
        check_clean "$desc: nothing is left behind" "$keep" "$max"
        engine_reset "$keep"
}
outcome() {
        local expect=$1 okre=$2 errre=$3
        { [ "$ATTACK_RC" = 125 ] && grep -Eq "$errre" <<<"$ATTACK_OUT"; } && return 0
        { [ "$expect" = either ] && [ "$ATTACK_RC" = 0 ] && grep -Eq "$okre" <<<"$ATTACK_OUT"; } && return 0
        echo "exit $ATTACK_RC after $ATTACK_MS ms:"; echo "$ATTACK_OUT"; return 1
}

# From images.
passwd_fifo() { rm "$1/etc/passwd"; mkfifo "$1/etc/passwd"; }
group_fifo() { rm "$1/etc/group"; mkfifo "$1/etc/group"; }
passwd_zero() { ln -sf /dev/zero "$1/etc/passwd"; }
group_zero() { ln -sf /dev/zero "$1/etc/group"; }
# Sparse in the archive and in the store: 4 GiB, not 10, in case an
# unpacker ever wrote it out in full (the store is a tmpfs).
passwd_huge() { truncate -s 4G "$1/etc/passwd"; }
group_huge() { truncate -s 4G "$1/etc/group"; }
for v in passwd_fifo group_fifo passwd_zero group_zero passwd_huge group_huge; do
        check "import an image with $v" image "$v" "$v"
done
NOBODY='^uid=65534'
frozen "run, /etc/passwd a FIFO" either '^uid=0' "$CLEAR_USER" "" 0 run --rm passwd_fifo id
frozen "run -u nobody, /etc/passwd a FIFO" fail '' "$CLEAR_USER" "" 0 run --rm -u nobody passwd_fifo id
frozen "run -u nobody, /etc/group a FIFO" fail '' "$CLEAR_USER" "" 0 run --rm -u nobody group_fifo id
frozen "run -u nobody, /etc/passwd -> /dev/zero" fail '' "$CLEAR_USER" "" 0 run --rm -u nobody passwd_zero id
frozen "run -u nobody, /etc/group -> /dev/zero" fail '' "$CLEAR_USER" "" 0 run --rm -u nobody group_zero id
frozen "run -u nobody, a 4 GiB sparse /etc/passwd" either "$NOBODY" "$CLEAR_USER" "" 0 run --rm -u nobody passwd_huge id
frozen "run -u nosuch, a 4 GiB sparse /etc/passwd" fail '' "$CLEAR_USER" "" 0 run --rm -u nosuch passwd_huge id
frozen "run -u nobody, a 4 GiB sparse /etc/group" either "$NOBODY" "$CLEAR_USER" "" 0 run --rm -u nobody group_huge id

# From running containers, which change their files once started. Each
# marks itself ready through a bind mount of $T/flags.
# victim NAME SCRIPT: run -d NAME, which runs SCRIPT, then sleeps.
victim() {
        local name=$1 script=$2
        rm -f "$T/flags/$name"
        sbx_ctl run -d --name "$name" -v "$T/flags:/flags" bb sh -c "$script && touch /flags/$name && exec sleep 1000" \
                >/dev/null &&
        for i in $(seq 100); do [ -e "$T/flags/$name" ] && return 0; sleep 0.1; done
        return 1
}
exec_frozen() {
        local desc=$1 name=$2 script=$3 expect=$4 okre=$5 errre=$6; shift 6
        if check_ok "$desc: the container is ready" victim "$name" "$script"; then
                frozen "$desc" "$expect" "$okre" "$errre" "$name" 1 exec "$@" "$name" id
        fi
        check "$desc: rm -f the container" remove "$name"
}
exec_frozen "exec -u nobody, /etc/passwd replaced by a FIFO" pwfifo \
        'rm /etc/passwd && busybox mkfifo /etc/passwd' fail '' "$CLEAR_USER" -u nobody
exec_frozen "exec -u nobody, /etc/group replaced by a FIFO" grfifo \
        'rm /etc/group && busybox mkfifo /etc/group' fail '' "$CLEAR_USER" -u nobody
exec_frozen "exec -u nobody, /etc/passwd -> /dev/zero" pwzero \
        'ln -sf /dev/zero /etc/passwd' fail '' "$CLEAR_USER" -u nobody
exec_frozen "exec -u nobody, a 10 GiB sparse /etc/passwd" pwhuge \
        'busybox truncate -s 10G /etc/passwd' either "$NOBODY" "$CLEAR_USER" -u nobody
exec_frozen "exec -u nosuch, a 10 GiB sparse /etc/passwd" pwhuge2 \
        'busybox truncate -s 10G /etc/passwd' fail '' "$CLEAR_USER" -u nosuch
exec_frozen "exec -u nobody, a 10 GiB sparse /etc/group" grhuge \
        'busybox truncate -s 10G /etc/group' either "$NOBODY" "$CLEAR_USER" -u nobody

# A container that stops every process entering it from outside before that
# runs a binary of the container (the exec's setup, that is), and keeps it
# stopped; the command itself, once exec'd, it lets go. Each process it keeps
# is noted in $T/flags/stopped-NAME.
stop_tweak() {
        cat >"$1/stop.sh" <<'EOF'
#!/bin/sh
touch "/flags/$1"
seen=" 1 "
while :; do
        for d in /proc/[0-9]*; do
                p=${d#/proc/}
                case "$seen" in *" $p "*) continue ;; esac
                seen="$seen$p "
                kill -STOP "$p" 2>/dev/null || continue
                if [ "$d/exe" -ef /bin/busybox ]; then kill -CONT "$p"; else echo "$p" >>"/flags/stopped-$1"; fi
        done
done
EOF
        chmod 755 "$1/stop.sh"
}
check "import the stopper's image" image stopper stop_tweak
stopper() {
        rm -f "$T/flags/$1" "$T/flags/stopped-$1"
        sbx_ctl run -d --name "$1" -v "$T/flags:/flags" stopper /stop.sh "$1" >/dev/null &&
        for i in $(seq 100); do [ -e "$T/flags/$1" ] && return 0; sleep 0.1; done
        return 1
}
# stop_frozen DESC NAME EXEC-ARGS...: exec into a new stopper NAME; the exec
# may work (if it got through before the stopper saw it) or fail clearly.
stop_frozen() {
        local desc=$1 name=$2; shift 2
        if check_ok "$desc: run -d the stopper" stopper "$name"; then
                frozen "$desc" either '^uid=' "$CLEAR_SETUP" "$name" 1 exec "$@" "$name" id
        fi
        check "$desc: rm -f the stopper" remove "$name"
        engine_reset
        [ -s "$T/flags/stopped-$name" ]
}
caught=0
stop_frozen "exec into a container that stops it" stopc1 && caught=$((caught + 1))
stop_frozen "exec -u user into a container that stops it" stopc2 -u user && caught=$((caught + 1))
check_output "the stopper caught an exec before its command ran" '^[1-9]' echo "$caught"

# berthd killed while an attack is pending.
kill_mid_attack "run -u nobody, /etc/passwd a FIFO" "" run --rm -u nobody passwd_fifo id
engine_reset
if check_ok "run -d a stopper" stopper stopk; then
        kill_mid_attack "exec into the stopper" stopk exec stopk id
        check_clean "... and the stopped exec is gone" stopk 1
fi
engine_reset stopk
check "rm -f the stopper" remove stopk

# ==============================================================================
check "GetInfo answers at the end" getinfo
check_clean "nothing is left at the end"
check_output "$HOSTDIR holds only what the test put there" '^HOSTMARK hostbin $' \
        bash -c "ls '$HOSTDIR' | tr '\n' ' '"
