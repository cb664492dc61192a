#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What any local user can do to berthd through the bus, tried as an attacker
# would: read the containers' secrets (GetEnvironment), make berthd keep waiters of
# callers that are gone, keep queries to systemd in flight, and crash it with
# GetContainerProcesses while the container's processes come and go.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
I=org.berth.Berth1.Manager
C=org.berth.Berth1.Container
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import --change 'ENV PUBLIC=yes' "$T/rootfs.tar" bb >/dev/null || { fail "import the busybox image"; exit 1; }
# The sandbox's /tmp, where nobody may run it.
sbx install -m 0755 "$BUILD_DIR/tests/bus-flood" /tmp/bus-flood

berthd_pid() { sbx systemctl show -P MainPID berthd.service; }
berthd_rss() { sbx awk '/^VmRSS:/ { print $2 }' "/proc/$(berthd_pid)/status"; }
# answers_quickly: GetInfo within one second.
answers_quickly() { sbx busctl --timeout=1 call org.berth.Berth1 $M $I GetInfo >/dev/null; }
# lacks WORD WANT CMD...: CMD succeeds, prints WANT (so it saw the thing) and not WORD.
lacks() {
        local word=$1 want=$2 out; shift 2
        out=$("$@" 2>&1) || { echo "failed: $out"; return 1; }
        grep -q -- "$want" <<<"$out" || { echo "no $want in: $out"; return 1; }
        ! grep -q -- "$word" <<<"$out" || { echo "$word in: $out"; return 1; }
}

# --- Secrets ----------------------------------------------------------------
# A listener of nobody's from before the container exists: InterfacesAdded and
# PropertiesChanged are broadcast. (nobody may not eavesdrop or BecomeMonitor;
# a match on the sender's signals is what it can have.)
sbx $NOBODY gdbus monitor --system --dest org.berth.Berth1 >"$T/monitor.nobody" 2>&1 &
MONITOR=$!
wait_for "nobody's signal listener is ready" grep -q 'is owned by' "$T/monitor.nobody"
ID=$(sbx_ctl run -d --name sec -e SECRET=hunter2 bb sleep 1000)
CP="$M/container/$ID"
check_output "a container with a secret runs" '^[0-9a-f]{64}$' echo "$ID"
check "pause and unpause send PropertiesChanged" sbx_ctl pause sec
check "..." sbx_ctl unpause sec
sleep 0.5
kill "$MONITOR" 2>/dev/null; wait "$MONITOR" 2>/dev/null
check "nobody's listener saw the container added, not its Env" lacks hunter2 InterfacesAdded cat "$T/monitor.nobody"
check "... and saw it change" grep -q 'PropertiesChanged' "$T/monitor.nobody"

check_output "Env is no property any more" 'or property Env|Unknown property' \
        sbx busctl get-property org.berth.Berth1 "$CP" $C Env
check_output "nobody may not read a container's environment" 'org.freedesktop.DBus.Error.(AccessDenied|InteractiveAuthorizationRequired)' \
        sbx $NOBODY gdbus call --system --dest org.berth.Berth1 --object-path "$CP" --method $C.GetEnvironment
check_output "... nor by name" 'org.freedesktop.DBus.Error.(AccessDenied|InteractiveAuthorizationRequired)' \
        sbx $NOBODY gdbus call --system --dest org.berth.Berth1 --object-path $M --method $I.GetContainerEnvironment sec
check "... nor find it in GetAll" lacks hunter2 '"Name"' \
        sbx $NOBODY busctl call org.berth.Berth1 "$CP" org.freedesktop.DBus.Properties GetAll s $C
check "... nor in GetManagedObjects" lacks hunter2 "$ID" \
        sbx $NOBODY busctl call org.berth.Berth1 $M org.freedesktop.DBus.ObjectManager GetManagedObjects
check "... nor in busctl introspect" lacks hunter2 '.Name' sbx $NOBODY busctl introspect org.berth.Berth1 "$CP"
check "... nor in ListContainers" lacks hunter2 "$ID" sbx $NOBODY busctl call org.berth.Berth1 $M $I ListContainers b true
check "... nor in berthctl inspect" lacks hunter2 '"Name"' sbx $NOBODY berthctl inspect sec
check_output "root reads it" 'SECRET=hunter2' sbx busctl call org.berth.Berth1 "$CP" $C GetEnvironment
check_output "... and berthctl inspect shows it" '"SECRET=hunter2"' sbx_ctl inspect sec
IMAGE=$(sbx busctl call org.berth.Berth1 $M $I GetImage s bb | sed 's/^o "\(.*\)"$/\1/')
check_output "an image's Env stays public, as the image is" '"PUBLIC=yes"' \
        sbx $NOBODY busctl get-property org.berth.Berth1 "$IMAGE" org.berth.Berth1.Image Env
check "the container goes" sbx_ctl rm -f sec

# --- Waiters of callers that are gone -----------------------------------------
check "a container to wait for runs" sbx_ctl run -d --name waitme bb sleep 1000
check_output "one caller gets at most 64 pending waits" '^pending=64$' \
        sbx $NOBODY /tmp/bus-flood wait waitme 100
check_output "... the others are refused as Busy" '^org.berth.Berth1.Error.Busy=36$' \
        sbx $NOBODY /tmp/bus-flood wait waitme 100
# 1,000 waits with a reply expected (dbus-daemon lets 128 be pending) and
# 1,000 without (dbus-daemon does not count those), then the caller leaves.
flood_round() {
        sbx $NOBODY /tmp/bus-flood wait waitme 1000 >/dev/null &&
                sbx $NOBODY /tmp/bus-flood wait waitme 1000 noreply >/dev/null
}
PID0=$(berthd_pid)
# Rounds that failed flooded nothing: they are counted, and must be none.
ROUNDS_FAILED=0
for i in 1 2 3; do flood_round || ROUNDS_FAILED=$((ROUNDS_FAILED + 1)); done
RSS0=$(berthd_rss)
for i in $(seq 10); do flood_round || ROUNDS_FAILED=$((ROUNDS_FAILED + 1)); done
flood_round & FLOOD=$!
check "GetInfo answers within 1 s during the flood" answers_quickly
wait $FLOOD || ROUNDS_FAILED=$((ROUNDS_FAILED + 1))
for i in $(seq 10); do flood_round || ROUNDS_FAILED=$((ROUNDS_FAILED + 1)); done
RSS1=$(berthd_rss)
log "berthd VmRSS: $RSS0 kB after the first 3 rounds, $RSS1 kB after 21 more (2,000 waits each)"
check_output "all 24 flood rounds were sent" '^0$' echo "$ROUNDS_FAILED"
check_output "berthd's VmRSS was read before and after" '^[0-9]+ [0-9]+$' echo "$RSS0 $RSS1"
check "berthd's memory does not grow with the waits of callers that left" [ $((${RSS1:-0} - ${RSS0:-0})) -lt 2048 ]
check "GetInfo answers within 1 s after it" answers_quickly
sbx_ctl wait waitme >"$T/wait.out" 2>&1 & WAITER=$!
sleep 0.3
check "the container stops with its waiters' callers gone" sbx_ctl stop -t 1 waitme
wait $WAITER
check_output "... and a waiter still there gets the exit code" '^137$' cat "$T/wait.out"
check_output "berthd is still the same process" "^$PID0\$" berthd_pid

# --- GetContainerProcesses while processes come and go -----------------------------
check "a container that forks all the time runs" sbx_ctl run -d --name forky bb \
        sh -c 'for i in 1 2 3 4; do (while :; do ( : ); ( : ) & done) & done; sleep 1000'
sleep 0.5
PID0=$(berthd_pid)
sbx $NOBODY /tmp/bus-flood ps forky 5 4 >"$T/ps.out" 2>&1 & FLOOD=$!
sleep 1
check "GetInfo answers within 1 s during the ps flood" answers_quickly
wait $FLOOD
check_output "nobody's GetContainerProcesses calls were answered" '^ok=[1-9]' cat "$T/ps.out"
check_output "berthd survived them" "^$PID0\$" berthd_pid
check_output "... without a restart" '^0$' sbx systemctl show -P NRestarts berthd.service
check_output "one caller gets at most a few GetContainerProcesses in flight" '^org.berth.Berth1.Error.Busy=[1-9]' \
        sbx $NOBODY /tmp/bus-flood ps forky 1 32
check_output "top still lists the container's processes" 'sleep 1000' sbx_ctl top forky
check "the container goes" sbx_ctl rm -f forky
# A process names itself: a command line that is no UTF-8 (sd-bus refuses such strings).
check "a container with a command line that is no UTF-8 runs" sbx_ctl run -d --name badutf bb \
        sh -c 'exec sh -c "sleep 1000; true" "$(printf "\377\300")"'
sleep 0.3
check_output "top still lists its processes" 'sleep 1000; true \?\?' sbx_ctl top badutf
check "the container goes" sbx_ctl rm -f badutf
check "GetInfo answers within 1 s at the end" answers_quickly
check_output "berthd never restarted" '^0$' sbx systemctl show -P NRestarts berthd.service
