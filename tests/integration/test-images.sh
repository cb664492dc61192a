#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The image store through berthd: import, list, inspect, tag, save, load,
# remove, prune; bad archives; objects and properties on the bus; policy.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
M=/org/berth/Berth1
I=org.berth.Berth1.Manager
make_rootfs_tar "$T/rootfs.tar.gz" gzip

ID=$(sbx_ctl image import --change 'CMD ["/bin/sh"]' --change 'ENV FOO=bar' "$T/rootfs.tar.gz" localhost/bb:1)
check_output "import prints the new image id" '^sha256:[0-9a-f]{64}$' echo "$ID"
HEX=${ID#sha256:}
check_output "images lists it with its tag" "^localhost/bb +1 +${HEX:0:12} " sbx_ctl images
check_output "images -q prints the short id" "^${HEX:0:12}\$" sbx_ctl images -q
check "images --json is valid JSON naming the tag" \
        bash -c "nsenter -a -t $SBX_PID berthctl --json images | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0][\"RepoTags\"]==[\"localhost/bb:1\"], d'"
check_output "the image is an object on the bus" "$M/image/$HEX" sbx busctl tree org.berth.Berth1
check_output "its Cmd property comes from --change" '^as 1 "/bin/sh"$' \
        sbx busctl get-property org.berth.Berth1 "$M/image/$HEX" org.berth.Berth1.Image Cmd
check_output "its Env has the ENV change" '"FOO=bar"' \
        sbx busctl get-property org.berth.Berth1 "$M/image/$HEX" org.berth.Berth1.Image Env
check_output "GetManagedObjects lists it" "image/$HEX" \
        sbx busctl call org.berth.Berth1 $M org.freedesktop.DBus.ObjectManager GetManagedObjects
check_output "inspect by short id shows the config" '"Cmd": *\[' bash -c "nsenter -a -t $SBX_PID berthctl image inspect ${HEX:0:8} | tr -d '\n'"
check_output "inspect of a missing image names it" 'No such image: nosuch:latest' sbx_ctl image inspect nosuch:latest
check_exit "... and exits 125" 125 sbx_ctl image inspect nosuch:latest

check "tag gives a second name" sbx_ctl tag localhost/bb:1 localhost/bb:latest
check_output "both names are listed" 'localhost/bb +latest' sbx_ctl images
check_output "RepoTags on the bus has both" '"localhost/bb:1".*"localhost/bb:latest"|"localhost/bb:latest".*"localhost/bb:1"' \
        sbx busctl get-property org.berth.Berth1 "$M/image/$HEX" org.berth.Berth1.Image RepoTags
check_output "rmi of one of two tags only untags" '^Untagged: ' sbx_ctl rmi localhost/bb:latest
check_output "... and the image stays" "${HEX:0:12}" sbx_ctl images -q

for fmt in docker-archive oci-archive; do
        check "save --format $fmt writes an archive" sbx_ctl image save --format $fmt -o "$T/saved-$fmt.tar" localhost/bb:1
        check_output "rmi deletes the image" "^Deleted: $ID" sbx_ctl rmi localhost/bb:1
        check_output "images is empty again" '^$' sbx_ctl images -q
        check_output "load of the $fmt brings it back with its tag" '^Loaded image: localhost/bb:1$' \
                sbx_ctl load -i "$T/saved-$fmt.tar"
        check_output "... with the same id" "^${HEX:0:12}\$" sbx_ctl images -q
done
check_exit "load exits 0 when it worked" 0 sbx_ctl load -i "$T/saved-docker-archive.tar"
check_output "loading from a pipe works" '^Loaded image: localhost/bb:1$' \
        sbx sh -c "cat $T/saved-docker-archive.tar | berthctl load"

# Bad input is refused with a clear message and leaves the store as it was.
# (What berthctl wrote inside the sandbox stays in its /var overlay.)
sbx sh -c "head -c 3000 $T/saved-docker-archive.tar >$T/truncated.tar"
check_exit "a truncated archive is refused (125)" 125 sbx_ctl load -i "$T/truncated.tar"
head -c 100000 /dev/urandom >"$T/garbage.tar"
check_output "garbage is refused with a message" '^Error: ' sbx_ctl load -i "$T/garbage.tar"
check_output "the store still has exactly the one image" "^${HEX:0:12}\$" sbx_ctl images -q
check_exit "rmi of a missing image exits 125" 125 sbx_ctl rmi nosuch

# Dangling images go with prune.
ID2=$(sbx_ctl import "$T/rootfs.tar.gz")
check_output "an untagged import is listed as <none>" '^<none> +<none>' sbx_ctl images
check_output "prune removes the dangling image" "deleted: $ID2" sbx_ctl image prune -f
check_output "... and keeps the tagged one" "^${HEX:0:12}\$" sbx_ctl images -q

# Other users may look, not change.
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
check_output "nobody may list images" 'localhost/bb' sbx $NOBODY berthctl images
check_exit "nobody may not load images (125)" 125 sbx $NOBODY berthctl load -i /dev/null
check_output "... and is told so" 'ermission denied|Access denied|Authentication is required' sbx $NOBODY berthctl load -i /dev/null

check "images survive a restart of berthd" sbx systemctl restart berthd.service
check_output "... still listed" "^${HEX:0:12}\$" sbx_ctl images -q

# An OCI image layout directory, written by skopeo (which rewrites the
# config for OCI, so the id changes; the name comes from the ref.name).
check "skopeo writes an OCI layout" sbx skopeo copy -q "docker-archive:$T/saved-docker-archive.tar" "oci:$T/layout:localhost/bb:oci"
check_output "load -i DIR loads an OCI layout" '^Loaded image: localhost/bb:oci$' sbx_ctl load -i "$T/layout"
check_output "... which keeps the image's Cmd" '"Cmd": \[ *"/bin/sh" *\]' \
        bash -c "nsenter -a -t $SBX_PID berthctl image inspect localhost/bb:oci | tr -d '\n'"
sbx_ctl rmi localhost/bb:oci >/dev/null

# Ctrl-C cancels a load; SIGKILL of berthd in the middle of one leaves nothing.
stalled_load() {   # writes the head of an archive, then stalls with the fifo open
        sbx sh -c "rm -f $T/fifo; mkfifo $T/fifo; (head -c 20000 $T/saved-docker-archive.tar; sleep 60) >$T/fifo &"
}
stalled_load
sbx sh -c "berthctl load -i $T/fifo >$T/cancel.out 2>&1; echo \$? >$T/cancel.rc" &
wait_for "the stalled load is a job on the bus" sbx sh -c "busctl tree org.berth.Berth1 | grep -q job/"
check "Ctrl-C reaches berthctl" sbx pkill -INT -x berthctl
wait_for "berthctl ends" test -s "$T/cancel.rc"
check_output "... with 130" '^130$' cat "$T/cancel.rc"
check_output "... saying it was cancelled" 'Cancelled' cat "$T/cancel.out"
check_output "no job is left" '^$' sbx sh -c "busctl tree org.berth.Berth1 | grep job/ || true"
sbx pkill -f "sleep 60"
check_output "the store is unchanged" "^${HEX:0:12}\$" sbx_ctl images -q

# On a terminal the same stalled load draws a progress bar.
stalled_load
sbx sh -c "script -qec 'berthctl load -i $T/fifo' /dev/null >$T/progress.out 2>&1" &
wait_for "a terminal shows a progress bar" grep -q 'load *\[' "$T/progress.out"
sbx pkill -f "sleep 60"
wait_for "... and the truncated archive is refused" grep -q 'Error: ' "$T/progress.out"

stalled_load
sbx sh -c "berthctl load -i $T/fifo >/dev/null 2>&1" &
wait_for "another stalled load stages in tmp/" sbx sh -c "ls -A /var/lib/berth/images/tmp | grep -q ."
check "berthd is killed in the middle of it" sbx systemctl kill -s KILL berthd.service
sbx pkill -f "sleep 60"
sleep 1
check_output "after the restart the store holds the same images" "^${HEX:0:12}\$" sbx_ctl images -q
check_output "... and the half-done load left nothing in tmp/" '^$' sbx ls -A /var/lib/berth/images/tmp
