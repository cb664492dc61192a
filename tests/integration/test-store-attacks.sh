#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attacks on the store and on container removal, written as an attacker
# would: a container that makes 50,000 nested directories and is then
# removed (the recursive delete overflowed its stack or ran out of fds, and
# the container stayed "removing"), a removal that fails and must stay
# possible, and a tarball whose sparse member declares 1 TiB. The engine
# must answer GetInfo within a second throughout, and nothing may be left.
# (A container's directory is renamed into $TRASH in berthd's event loop and
# removed from there by a thread.)
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
C=/var/lib/berth/containers
TRASH=/var/lib/berth/trash
S=/var/lib/berth/images
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import "$T/rootfs.tar" bb >/dev/null || { fail "import the busybox image"; exit 1; }

getinfo() { sbx timeout 1 busctl call org.berth.Berth1 $M org.berth.Berth1.Manager GetInfo >/dev/null; }
# state_of NAME: NAME's state, nothing when there is no such container (a
# failed ps says so instead: "gone" must not mean "ps failed").
state_of() {
        local out
        out=$(sbx_ctl ps -a --format '{{.Names}} {{.State}}' 2>&1) || { echo "ps failed: $out"; return 1; }
        awk -v n="$1" '$1 == n { print $2 }' <<<"$out"
}
id_of() { sbx_ctl ps -a --no-trunc --format '{{.Names}} {{.ID}}' | awk -v n="$1" '$1 == n { print $2 }'; }
# answers_during PID: GetInfo every 0.1 s while PID runs; prints how many
# calls were made and how many did not answer within a second.
answers_during() {
        local pid=$1 n=0 slow=0
        while kill -0 "$pid" 2>/dev/null; do
                getinfo || slow=$((slow + 1))
                n=$((n + 1))
                sleep 0.1
        done
        echo "$n $slow"
}

# --- 50,000 nested directories ---------------------------------------------
# Chains of 1,000 directories ("d/d/.../d", within PATH_MAX) made by one
# mkdir -p each, nested by renaming: no path is ever longer than 2 KB, and
# no cd is needed (busybox's cd gives up at PATH_MAX).
DEEP='p=$(i=0; while [ $i -lt 1000 ]; do printf d/; i=$((i+1)); done)
mkdir -p /deep/a && cd /deep || exit 1
k=0
while [ $k -lt 50 ]; do
        mkdir -p x/$p && /bin/busybox mv a x/${p}a && /bin/busybox mv x a || exit 1
        k=$((k+1))
done
touch /built
exec sleep 100000'
check "a container makes 50,000 nested directories" sbx_ctl run -d --name deep bb sh -c "$DEEP"
DEEP_ID=$(id_of deep)
wait_built() { for i in $(seq 1200); do sbx test -e "$C/$DEEP_ID/upper/built" && return 0; sleep 0.1; done; return 1; }
check "... in its upper layer, within two minutes" wait_built
# Counted by fd, one level at a time: no path is short enough.
check_output "... 50,051 levels deep" '^50051$' sbx python3 -c "
import os
fd, n = os.open('$C/$DEEP_ID/upper/deep', os.O_RDONLY), 0
while (e := os.listdir(fd)):
    sub = os.open(e[0], os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd, n = sub, n + 1
print(n)"
check "GetInfo answers before the removal" getinfo
start=$(date +%s%N)
sbx_ctl rm -f deep >"$T/rm.out" 2>&1 &
RM=$!
read -r calls slow < <(answers_during $RM)
wait $RM
rc=$?
log "rm -f of the deep container took $(( ($(date +%s%N) - start) / 1000000 )) ms, $calls GetInfo calls"
check_output "rm -f removes it" '^0$' echo "$rc"
check_output "... GetInfo answered within 1 s all along ($calls calls)" '^0$' echo "$slow"
check "... and afterwards" getinfo
check_output "... nothing is left in $C" '^$' sbx ls -A "$C"
check_output "... it is gone from ps" '^$' state_of deep
# The trash exists from the first removal on: a missing one is no empty one.
trash_empty() { local out; out=$(nsenter -a -t "$SBX_PID" ls -A "$TRASH") && [ -z "$out" ]; }
wait_trash() { for i in $(seq 1200); do trash_empty && return 0; sleep 0.1; done; return 1; }
# The tree goes in the background: GetInfo every 0.1 s meanwhile.
calls=0 slow=0
for i in $(seq 1200); do
        trash_empty && break
        getinfo || slow=$((slow + 1))
        calls=$((calls + 1))
        sleep 0.1
done
check "... and its tree is removed from the trash, within two minutes" trash_empty
check_output "... GetInfo answered within 1 s meanwhile ($calls calls)" '^0$' echo "$slow"

# --- A removal that fails ---------------------------------------------------
# The directory cannot be renamed away (it is a mount point): the removal
# fails, the container stays "removing" with its state, also across a
# restart of berthd, and rm -f removes it once it can.
sbx_ctl run --name stuck bb sh -c 'mkdir -p /a/b && echo x >/a/b/keep' >/dev/null
STUCK_ID=$(id_of stuck)
check "bind-mount its directory on itself" sbx mount --bind "$C/$STUCK_ID" "$C/$STUCK_ID"
check_exit "rm -f fails" 125 sbx_ctl rm -f stuck
check_output "... saying so" "Cannot remove the container's directory" sbx_ctl rm -f stuck
check_output "... it stays, removing" '^removing$' state_of stuck
check "... with its state" sbx test -e "$C/$STUCK_ID/state.json"
check "GetInfo answers" getinfo
check "berthd restarts" sbx systemctl restart berthd.service
check_output "... the container is still there, removing" '^removing$' state_of stuck
check "unmount" sbx umount "$C/$STUCK_ID"
check "rm -f removes it now" sbx_ctl rm -f stuck
check_output "... nothing is left in $C" '^$' sbx ls -A "$C"
check "... nor in the trash, soon" wait_trash

# A file the removal cannot delete (immutable): rm -f succeeds (the
# directory is in the trash), what cannot go stays there, and goes at the
# next start of berthd once it can.
sbx_ctl run --name imm bb sh -c 'mkdir -p /a/b && echo x >/a/b/keep' >/dev/null
IMM_ID=$(id_of imm)
check "chattr +i a file of its upper layer" sbx chattr +i "$C/$IMM_ID/upper/a/b/keep"
check "rm -f removes it" sbx_ctl rm -f imm
check_output "... it is gone from ps" '^$' state_of imm
check_output "... nothing is left in $C" '^$' sbx ls -A "$C"
sleep 1
check_output "... the immutable file stays in the trash" 'keep' sbx sh -c "find $TRASH -name keep"
check "chattr -i" sbx sh -c "chattr -i \$(find $TRASH -name keep)"
check "berthd restarts" sbx systemctl restart berthd.service
check "... and empties the trash" wait_trash

# --- A sparse member declaring 1 TiB ----------------------------------------
# A few KB of tarball; before the fix, berthd made a 1 TiB file of it (that
# an overlayfs copy-up or a save would then write out).
mkdir -p "$T/sparse"
truncate -s 1T "$T/sparse/big"
tar -C "$T/sparse" --sparse --numeric-owner -cf "$T/sparse.tar" big
rm -rf "$T/sparse"
check_output "the tarball is a few KB" '^[0-9]{1,5}$' stat -c %s "$T/sparse.tar"
USED=$(sbx du -sk /var/lib/berth | cut -f1)
check_exit "import of it fails" 125 sbx_ctl import "$T/sparse.tar" sparse
check_output "... naming the sparse file and the limit" "sparse file.*limit" sbx_ctl import "$T/sparse.tar" sparse
check "GetInfo answers" getinfo
check_exit "... no image was made" 125 sbx_ctl inspect sparse
check_output "... no staging directory is left" '^$' sbx ls -A "$S/tmp"
check_output "... the store did not grow by more than 1 MB" '^ok$' \
        sh -c "[ \$(nsenter -a -t $SBX_PID du -sk /var/lib/berth | cut -f1) -lt $((USED + 1024)) ] && echo ok"
