#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# berthd's event loop never waits: GetInfo answers within 100 ms, measured
# every 20 ms over one bus connection (loop-probe.py), while
#   - an image of 200,000 files is removed (the store renames its layer into
#     the trash under the lock and deletes it after, in the job's thread):
#     GetImage, which resolves a name in the store under its lock in the
#     loop (as a start does), answers within 100 ms too;
#   - systemd (the sandbox's PID 1) is stopped while containers start, are
#     updated and listed: every call to systemd is asynchronous;
#   - a container's setup is held up (its child SIGSTOPped after the release):
#     the loop follows the child on its channel.
# Each piece of work completes afterwards and nothing is left behind.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
HERE=$SOURCE_DIR/tests/integration
C=/var/lib/berth/containers
S=/var/lib/berth/images
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import "$T/rootfs.tar" bb >/dev/null || { fail "import the busybox image"; exit 1; }

state_of() { sbx_ctl ps -a --format '{{.Names}} {{.State}}' 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
count() { sbx sh -c "ls -A $1 | wc -l"; }

# probe_start NAME / probe_stop NAME: GetInfo in a loop in between; then
# checks that it was called at least MIN times and never took 100 ms.
PROBE=
probe_start() {
        rm -f "$T/stop.$1" "$T/probe.$1"
        sbx /usr/bin/python3 "$HERE/loop-probe.py" "$T/stop.$1" "$T/probe.$1" ${2:-} &
        PROBE=$!
        sleep 0.3
}
probe_stop() {
        local name=$1 min=$2 calls slow worst
        touch "$T/stop.$name"
        wait "$PROBE"
        read -r calls slow worst <"$T/probe.$name" 2>/dev/null || { fail "$name: the probe reported nothing"; return; }
        log "$name: $calls calls, the slowest $worst ms"
        check_output "$name: berthd was called at least $min times ($calls)" '^ok$' \
                sh -c "[ $calls -ge $min ] && echo ok"
        check_output "$name: berthd answered each time within 100 ms (slowest: $worst ms)" '^0$' echo "$slow"
}

# --- Removing a large image --------------------------------------------------
d=$(mktemp -d "$T/big.XXXXXX")
make_rootfs "$d"
python3 - "$d" <<'EOF'
import os, sys
root = os.path.join(sys.argv[1], "many")
for i in range(200):
    sub = os.path.join(root, "d%03d" % i)
    os.makedirs(sub)
    for j in range(1000):
        open(os.path.join(sub, "f%04d" % j), "w").close()
EOF
tar -C "$d" --numeric-owner -cf "$T/big.tar" .
rm -rf "$d"
LAYERS=$(count $S/layers)
BLOBS=$(count $S/blobs/sha256)
check "import an image of 200,000 files" sbx_ctl import "$T/big.tar" big
rm -f "$T/big.tar"
check_output "... it has a layer of its own" "^$((LAYERS + 1))\$" count $S/layers
probe_start rmi bb
start=$(date +%s%N)
check "rmi removes it" sbx_ctl rmi big
ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "rmi of the large image took $ms ms"
probe_stop rmi 10
check_exit "... it is gone" 125 sbx_ctl inspect big
check_output "... and its layer" "^$LAYERS\$" count $S/layers
check_output "... and its blobs" "^$BLOBS\$" count $S/blobs/sha256
check_output "... nothing is left in the store's trash" '^0$' count $S/trash
check_output "... nor in its tmp" '^0$' count $S/tmp

# --- systemd stopped, a setup held up -----------------------------------------
MAIN=$(sbx systemctl show -P MainPID berthd.service)
children() { sbx sh -c "cat /proc/$MAIN/task/*/children" | tr ' ' '\n' | sed '/^$/d' | sort -n; }
BEFORE=$(children)
probe_start systemd
kill -STOP "$SBX_PID"
sbx_ctl run -d --name slow bb sleep 100000 >"$T/run.out" 2>&1 &
RUN=$!
child=
for i in $(seq 100); do
        child=$(comm -13 <(echo "$BEFORE") <(children) | head -1)
        [ -n "$child" ] && break
        sleep 0.05
done
check_output "while systemd is stopped, the container's process is made" '^[0-9]+$' echo "$child"
sleep 1
check "... the start waits for systemd" kill -0 "$RUN"
# Held before it is released: released, it does not get on with its setup.
[ -n "$child" ] && sbx kill -STOP "$child"
kill -CONT "$SBX_PID"
sleep 2
check "a start whose setup is held up waits" kill -0 "$RUN"
check_output "... its container is not running yet" '^created$' state_of slow
[ -n "$child" ] && sbx kill -CONT "$child"
wait "$RUN"
check_output "once the setup goes on, the start succeeds" '^0$' echo $?
probe_stop systemd 100
check_output "... the container runs" '^running$' state_of slow

# Limits, processes and statistics come from systemd: asked while it is
# stopped, they are answered once it goes on, and GetInfo meanwhile.
probe_start calls
kill -STOP "$SBX_PID"
sbx_ctl update --memory 64m slow >"$T/update.out" 2>&1 &
UPDATE=$!
sbx_ctl top slow >"$T/top.out" 2>&1 &
TOP=$!
sbx_ctl stats --no-stream slow >"$T/stats.out" 2>&1 &
STATS=$!
sleep 2
check "while systemd is stopped, update waits" kill -0 "$UPDATE"
check "... top waits" kill -0 "$TOP"
kill -CONT "$SBX_PID"
wait "$UPDATE"; check_output "... update succeeds once systemd goes on" '^0$' echo $?
wait "$TOP"; check_output "... top too" '^0$' echo $?
wait "$STATS"; check_output "... stats too" '^0$' echo $?
check_output "... top lists the command" 'sleep 100000' cat "$T/top.out"
probe_stop calls 50
check_output "the new limit is in force" '^67108864$' sbx systemctl show -P MemoryMax berth-slow.scope

# --- Nothing is left -----------------------------------------------------------
check "rm -f removes the container" sbx_ctl rm -f slow
check_output "... it is gone" '^$' state_of slow
gone() { [ -z "$(sbx systemctl list-units --all --no-legend 'berth-*.scope')" ]; }
wait_for "... and its scope" gone
check_output "nothing is left in $C" '^0$' count $C
wait_for "... nor in the containers' trash" sh -c "[ \$(nsenter -a -t $SBX_PID sh -c 'ls -A /var/lib/berth/trash 2>/dev/null | wc -l') = 0 ]"
check_output "berthd has no child left" '^$' children
check_output "... and still the same main process" "^$MAIN\$" sbx systemctl show -P MainPID berthd.service
