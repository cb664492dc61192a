#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Containers through berthd under the real systemd: run, exit codes, names,
# scopes and limits, stop/kill/wait/restart/rm, pause, update, exec, attached
# I/O and terminals, the journal, and surviving restarts and crashes of berthd.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" bb >/dev/null

prop() {   # prop CONTAINER PROPERTY: a Container property as busctl prints it
        local path
        path=$(sbx busctl call org.berth.Berth1 $M org.berth.Berth1.Manager GetContainer s "$1" | cut -d'"' -f2)
        sbx busctl get-property org.berth.Berth1 "$path" org.berth.Berth1.Container "$2"
}
unit_prop() { sbx systemctl show -p "$2" --value "berth-$1.scope"; }
n_containers() { sbx busctl call org.berth.Berth1 $M org.berth.Berth1.Manager ListContainers b true | cut -d' ' -f2; }

# Attached runs and Docker's exit codes.
check_output "run prints the command's output" '^hello$' sbx_ctl run --rm bb echo hello
check_exit "run exits with the command's status" 42 sbx_ctl run --rm bb sh -c 'exit 42'
check_exit "a missing command exits 127" 127 sbx_ctl run --rm bb /nonexistent
check_output "... saying what was not found" 'nonexistent: No such file' sbx_ctl run --rm bb /nonexistent
check_exit "a command that cannot run exits 126" 126 sbx_ctl run --rm bb /etc/passwd
check_exit "a missing image exits 125" 125 sbx_ctl run --rm nosuchimage true
check_output "stdout and stderr stay apart" '^out$' bash -c "nsenter -a -t $SBX_PID berthctl run --rm bb sh -c 'echo out; echo err >&2' 2>/dev/null"
check_output "-i passes stdin" '^piped$' sbx sh -c 'echo piped | berthctl run --rm -i bb cat'
check_output "without -i stdin is empty" '^0$' sbx sh -c 'echo piped | berthctl run --rm bb sh -c "cat | wc -c"'
check_output "the image's Cmd runs when none is given" '^from-cmd$' sbx sh -c 'echo "echo from-cmd" | berthctl run --rm -i bb'
check_output "--entrypoint and -e and -w and -u apply" '^1000 /tmp V$' \
        sbx_ctl run --rm -e X=V -w /tmp -u user --entrypoint /bin/sh bb -c 'echo $(id -u) $(pwd) $X'
check_output "-t gives a terminal from the container's devpts" '^/dev/pts/0' \
        sbx script -qec "berthctl run --rm -t bb tty" /dev/null
check_output "--rm leaves no container behind" '^0$' n_containers

# Detached containers: names, ids, scopes, the bus.
ID=$(sbx_ctl run -d --name web bb sh -c 'echo started; trap "echo got-usr1" USR1; while true; do sleep 0.2; done')
check_output "run -d prints the 64-hex id" '^[0-9a-f]{64}$' echo "$ID"
check_output "its scope is active in berth.slice" '^active$' sbx systemctl is-active berth-web.scope
check_output "... in berth.slice" '^berth.slice$' unit_prop web Slice
check_output "State is running on the bus" '^s "running"$' prop web State
check_output "Pid is the leader's" '^u [1-9]' prop web Pid
check_output "the object is listed by the ObjectManager" "container/$ID" \
        sbx busctl call org.berth.Berth1 $M org.freedesktop.DBus.ObjectManager GetManagedObjects
check_exit "a second container named web is refused (125)" 125 sbx_ctl run -d --name web bb true
check_output "... saying the name is in use" 'already in use' sbx_ctl create --name web bb true
check_exit "an invalid name is refused" 125 sbx_ctl create --name '-bad' bb true
# berth-NAME.scope must fit systemd's 255 characters: 243 is the longest name.
NAME243=$(printf 'n%.0s' $(seq 243))
check_output "a name of 244 characters is refused, naming the limit" 'at most 243' \
        sbx_ctl create --name "${NAME243}n" bb true
check_output "a name of 243 characters runs" '^long$' sbx_ctl run --rm --name "$NAME243" bb echo long
wait_for "its output reaches the journal under the scope" \
        sbx sh -c "journalctl -u berth-web.scope -o cat | grep -q '^started$'"
check_output "... tagged with the container's name" '"SYSLOG_IDENTIFIER" *: *"web"' \
        sbx journalctl -u berth-web.scope -o json MESSAGE=started
check "kill -s USR1 reaches the container" sbx_ctl kill -s USR1 "${ID:0:12}"
wait_for "... which handles it" sbx sh -c "journalctl -u berth-web.scope -o cat | grep -q got-usr1"
check_output "the hostname defaults to the short id" "^${ID:0:12}\$" sbx_ctl exec web hostname
check_output "/etc/hosts names it" "${ID:0:12}" sbx_ctl exec web cat /etc/hosts

# exec.
check_exit "exec returns the command's status" 5 sbx_ctl exec web sh -c 'exit 5'
check_output "exec runs in the container's pid namespace" '^1 ' sbx_ctl exec web sh -c 'ps -o pid,comm | sed -n 2p | sed "s/^ *//"'
check_output "exec -u -w -e apply" '^user /tmp 1$' sbx_ctl exec -u user -w /tmp -e X=1 web sh -c 'echo $(id -un) $(pwd) $X'
check_output "exec'd processes join the scope" 'sleep 5' \
        sbx sh -c "berthctl exec -d web sleep 5 >/dev/null 2>&1 & sleep 0.5; systemctl status berth-web.scope --no-pager"

# pause, update, limits.
check "pause freezes it" sbx_ctl pause web
check_output "State is paused" '^s "paused"$' prop web State
check_exit "exec into a paused container is refused" 125 sbx_ctl exec web true
check "unpause thaws it" sbx_ctl unpause web
check_output "State is running again" '^s "running"$' prop web State
check "run with limits" sbx_ctl run -d --name lim -m 64m --pids-limit 20 --cpus 0.5 --cpu-shares 512 bb sleep 300
check_output "--memory is MemoryMax" '^67108864$' unit_prop lim MemoryMax
check_output "--pids-limit is TasksMax" '^20$' unit_prop lim TasksMax
check_output "--cpus is CPUQuotaPerSecUSec" '^500ms$' unit_prop lim CPUQuotaPerSecUSec
check_output "--cpu-shares is CPUWeight" '^20$' unit_prop lim CPUWeight
check_output "the pids limit holds inside" 'fork|Resource|can.t' \
        sbx_ctl exec lim sh -c 'for i in $(seq 40); do sleep 5 & done 2>&1; wait'
check "run with the limits systemd leaves to Berth on cgroup v1" \
        sbx_ctl run -d --name v1lim -m 64m --memory-reservation 32m --memory-swap 96m --cpuset-cpus 0 bb sleep 300
check_output "--cpuset-cpus confines the container" 'Cpus_allowed_list:[[:space:]]+0$' \
        sbx_ctl exec v1lim grep Cpus_allowed_list /proc/1/status
check_output "... and what exec runs in it" 'Cpus_allowed_list:[[:space:]]+0$' \
        sbx_ctl exec v1lim grep Cpus_allowed_list /proc/self/status
if sbx test -d /sys/fs/cgroup/memory; then
        CG=/sys/fs/cgroup/memory/berth.slice/berth-v1lim.scope
        check_output "--memory-reservation is the v1 soft limit" '^33554432$' sbx cat $CG/memory.soft_limit_in_bytes
        if sbx test -e $CG/memory.memsw.limit_in_bytes; then
                check_output "--memory-swap is the v1 memory+swap limit" '^100663296$' sbx cat $CG/memory.memsw.limit_in_bytes
        fi
else
        check_output "--memory-reservation is MemoryLow" '^33554432$' unit_prop v1lim MemoryLow
fi
# On cgroup v1 Berth makes the cpuset cgroups itself and must remove them; on
# v2 the cpuset is systemd's, in the scope's own cgroup.
if sbx test -d /sys/fs/cgroup/cpuset; then CPUSET_CG=/sys/fs/cgroup/cpuset/berth.slice
else CPUSET_CG=/sys/fs/cgroup/berth.slice; fi
check "... in a cpuset cgroup of its own" sbx test -d "$CPUSET_CG/berth-v1lim.scope"
check "rm -f of it" sbx_ctl rm -f v1lim
wait_for "... leaves no cpuset cgroup behind" sbx sh -c "! test -e '$CPUSET_CG/berth-v1lim.scope'"
sbx_ctl run -d --name late bb sh -c 'sleep 300 & sleep 301 & wait' >/dev/null
sleep 0.5
check "update --cpuset-cpus of a container that has forked" sbx_ctl update --cpuset-cpus 0 late
check_output "... confines every process of it" '^3 0$' \
        sbx sh -c 'for p in $(cat /sys/fs/cgroup/systemd/berth.slice/berth-late.scope/cgroup.procs 2>/dev/null ||
                              cat /sys/fs/cgroup/berth.slice/berth-late.scope/cgroup.procs); do
                           grep Cpus_allowed_list: /proc/$p/status; done | awk "{ n++; if (\$2 != \"0\") bad++ } END { print n, bad + 0 }"'
check "... which has a cpuset cgroup of its own now" sbx test -d "$CPUSET_CG/berth-late.scope"
check "rm -f of it" sbx_ctl rm -f late
wait_for "... leaves no cpuset cgroup behind" sbx sh -c "! test -e '$CPUSET_CG/berth-late.scope'"
check "update changes the limits of a running container" sbx_ctl update --memory 128m --pids-limit 30 lim
check_output "... MemoryMax follows" '^134217728$' unit_prop lim MemoryMax
check_output "... and the Limits property" '"TasksMax" t 30' prop lim Limits
check_exit "a bad limit is refused" 125 sbx_ctl run -d -m lots bb true
check_output "an OOM kill is reported" '^b true$' bash -c \
        "nsenter -a -t $SBX_PID berthctl run --name oom -m 16m bb sh -c 'a=\$(dd if=/dev/zero bs=1M count=64 2>/dev/null | tr \"\\000\" x); echo \${#a}' >/dev/null 2>&1; nsenter -a -t $SBX_PID busctl get-property org.berth.Berth1 \$(nsenter -a -t $SBX_PID busctl call org.berth.Berth1 $M org.berth.Berth1.Manager GetContainer s oom | cut -d'\"' -f2) org.berth.Berth1.Container OOMKilled"

# Stop, wait, restart, rm.
check "stop -t 1 stops it" sbx_ctl stop -t 1 lim
check_output "State is exited" '^s "exited"$' prop lim State
check_output "a sleep that ignores SIGTERM was killed (137)" '^i 137$' prop lim ExitCode
check_output "its scope is gone" 'inactive|unknown' sbx systemctl is-active berth-lim.scope
check_output "wait prints the exit code" '^137$' sbx_ctl wait lim
check "start starts it again" sbx_ctl start lim
check_output "... running" '^s "running"$' prop lim State
check "restart works" sbx_ctl restart -t 0 lim
check_output "... running again" '^s "running"$' prop lim State
# systemd keeps a scope loaded a moment after its processes are gone and
# refuses a new one of the name meanwhile: a start right after an exit, or a
# run right after rm -f of a namesake, waits for it instead of failing.
again() {
        local i
        for i in 1 2 3 4 5; do
                sbx_ctl run -d --name again bb sleep 300 >/dev/null || return 1
                sbx_ctl rm -f again >/dev/null || return 1
        done
        sbx_ctl run --name again2 bb true || return 1
        for i in 1 2 3 4 5; do sbx_ctl start -a again2 || return 1; done
        sbx_ctl rm again2 >/dev/null
}
check "run right after rm -f of a namesake, and start right after an exit, five times" again
sbx_ctl run -d --rm --name rmr bb sleep 300 >/dev/null
check "restart of a --rm container" timeout 30 nsenter -a -t "$SBX_PID" berthctl restart -t 0 rmr
check_output "... keeps it, running" '^s "running"$' prop rmr State
check_output "... on an upper layer that is never synced" 'volatile' \
        sbx_ctl exec rmr sh -c 'grep " / / " /proc/self/mountinfo'
check "... and a stop still removes it" sbx_ctl stop -t 0 rmr
wait_for "... then it is gone" sh -c "nsenter -a -t $SBX_PID berthctl inspect rmr 2>&1 | grep -q 'No such container'"
check_output "a container without --rm is synced as usual" '^synced$' \
        sbx_ctl exec lim sh -c 'l=$(grep " / / " /proc/self/mountinfo) && case "$l" in *volatile*) echo volatile ;; *) echo synced ;; esac'
check_exit "rm of a running container is refused" 125 sbx_ctl rm lim
check_output "... saying so" 'running' sbx_ctl rm lim
check "rm -f removes it" sbx_ctl rm -f lim
check_exit "... it is gone" 125 sbx_ctl wait lim
check_output "... and so is its scope" 'inactive|unknown' sbx systemctl is-active berth-lim.scope
sbx_ctl create --name waiter bb sh -c 'sleep 1; exit 9' >/dev/null
sbx_ctl start waiter >/dev/null
check_output "wait blocks until the exit" '^9$' sbx_ctl wait waiter

# berthd is not the containers' parent in any way that matters.
sbx_ctl run -d --name survivor bb sleep 300 >/dev/null
PID=$(prop survivor Pid | cut -d' ' -f2)
check "berthd restarts" sbx systemctl restart berthd.service
check_output "the container kept running" '^active$' sbx systemctl is-active berth-survivor.scope
check_output "... and is re-adopted with the same pid" "^u $PID\$" prop survivor Pid
check "berthd stops" sbx systemctl stop berthd.service
check_output "containers keep running without berthd" '^active$' sbx systemctl is-active berth-survivor.scope
check_output "a call starts berthd again, which still knows it" '^s "running"$' prop survivor State
sbx_ctl run -d --name crash bb sh -c 'sleep 2; exit 7' >/dev/null
check "berthd is killed with SIGKILL" sbx systemctl kill -s KILL berthd.service
sleep 3
check_output "after the crash the real exit code is known" '^7$' sbx_ctl wait crash
check "stop works on a re-adopted container" sbx_ctl stop -t 1 survivor
check_output "... which exited" '^s "exited"$' prop survivor State

# Exec records: an exit code waits for WaitExec, but not beyond the container.
sbx_ctl run -d --name execs bb sleep 300 >/dev/null
EXEC="sbx busctl call org.berth.Berth1 $M org.berth.Berth1.Manager"
X1=$($EXEC ExecContainer sasa{sv} execs 3 sh -- -c "exit 6" 0 | cut -d' ' -f2)
X2=$($EXEC ExecContainer sasa{sv} execs 3 sh -- -c "exit 8" 0 | cut -d' ' -f2)
sleep 0.5
check_output "WaitExec gives the exit code of an exec that ended before" '^i 6$' $EXEC WaitExec u "$X1"
check "rm -f of its container" sbx_ctl rm -f execs
check_output "... drops the exit codes nobody asked for" 'No such exec' $EXEC WaitExec u "$X2"

# RunContainer: create and start in one call. A --rm container that ends at
# once still gives its exit code: RunExited reaches the caller before the
# removal, which a WaitContainer sent after the reply could come too late for.
RUN="sbx busctl call org.berth.Berth1 $M org.berth.Berth1.Manager RunContainer a{sv}a{sv}"
check_output "RunContainer replies with the new id, its object and the result" \
        '^soa\{sv\} "[0-9a-f]{64}" "/org/berth/Berth1/container/[0-9a-f]{64}" 0$' \
        $RUN 3 Image s bb Name s viarun Cmd as 3 sh -- -c "exit 4" 0
check_output "... and the container ran its command" '^4$' sbx_ctl wait viarun
check_exit "RunContainer of a missing image fails" 1 $RUN 2 Image s nosuch Name s ghost 0
check_exit "... and leaves no container behind" 125 sbx_ctl inspect ghost
BEFORE=$(sbx_ctl ps -a -q | wc -l)
check "twenty attached --rm runs that end at once all give their exit code" \
        sbx sh -c 'for i in $(seq 20); do berthctl run --rm bb sh -c "exit 7"; [ $? = 7 ] || exit 1; done'
check_output "... and are all gone" "^$BEFORE\$" sbx sh -c 'berthctl ps -a -q | wc -l'

# Holds on images are not fsync'd: berthd takes them again whenever it
# starts, so one lost with a power loss comes back before anyone can rm.
CID=$(prop viarun Id | cut -d'"' -f2)
sbx sh -c "rm /var/lib/berth/images/holds/*/$CID"
check "berthd restarts" sbx systemctl restart berthd.service
check "the container's hold on its image is back" sbx sh -c "test -f /var/lib/berth/images/holds/*/$CID"
check_output "... so the image cannot be removed" 'container|in use|held' sbx_ctl rmi bb

# Only root may change anything.
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
check_exit "nobody may not run containers (125)" 125 sbx $NOBODY berthctl run --rm bb true
check_output "nobody may wait for one" '^9$' sbx $NOBODY berthctl wait waiter
