#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# More of issue 11 (registries), beside test-registry (so both run at once):
# the root file system of pulled images against podman's pull of the same
# images; a token-auth registry as a mirror; Job.Cancel straight over D-Bus;
# berthd.conf's StalledTransferTimeoutSec= against a registry that trickles.
# Registries of registry-lib.sh in the sandbox: plain :5000, token :5010
# (token server :5001), the fault proxy :5002 in front of :5000.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
H=$(cd "$(dirname "$0")" && pwd)
. "$H/registry-lib.sh"
reg_init
{ reg_start_plain && reg_start_token && reg_start_fault; } || exit 1
R=$REG
PW=$REG_PW
M=/org/berth/Berth1
I=org.berth.Berth1.Manager
SK="skopeo --insecure-policy"
PY=/usr/bin/python3

img_field() {
        nsenter -a -t "$SBX_PID" berthctl image inspect "$1" |
                python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d, list) else d; print(d['$2'])"
}
answers_quickly() { sbx busctl --timeout=1 call org.berth.Berth1 $M $I GetInfo >/dev/null; }
# Everything of the store below its root, staging directories (tmp/) included.
store_state() { sbx bash -c 'cd /var/lib/berth/images && find images layers blobs tmp -mindepth 1 -maxdepth 2 | sort'; }
store_is() { [ "$1" = "$(store_state)" ]; }
# in_time SECONDS CMD...: CMD ends within SECONDS; its output and status in
# $T/in_time.out and $T/in_time.rc.
in_time() {
        local limit=$1 t0 t1; shift
        t0=$(date +%s%N)
        "$@" >"$T/in_time.out" 2>&1
        echo $? >"$T/in_time.rc"
        t1=$(date +%s%N)
        [ $(((t1 - t0) / 1000000)) -lt $((limit * 1000)) ] ||
                { echo "took $(((t1 - t0) / 1000000)) ms: $(cat "$T/in_time.out")"; return 1; }
}
# --- the images, put in with skopeo -----------------------------------------
make_rootfs_tar "$T/base.tar"
$PY "$H/registry-images.py" "$T/base.tar" "$T/img" || exit 1
for i in multi zstd index attrs; do
        check "skopeo copies the $i image into the plain registry" \
                sbx $SK copy -q --dest-tls-verify=false --all oci:"$T/img/$i:1" docker://127.0.0.1:5000/test/$i:1
done

# --- root file system parity with podman's pull of the same image --------------
# podman (vfs driver, storage in $T) pulls from the same registry; Berth's
# view is the read-only overlay of the image's layer directories, as a
# container's root is made of them. rootfs-compare.py compares every path:
# type, owner, mode, size, sha256, link target, device, xattrs, mtime and
# the hardlink groups (notes, not differences, for directory mtimes podman
# sets at its pull).
PODMAN=(podman --root "$T/pm/root" --runroot "$T/pm/run" --storage-driver vfs --cgroup-manager cgroupfs
        --events-backend none)
# berth_view REF DIR: mounts Berth's view of the stored image REF at DIR.
berth_view() {
        local id lower
        id=$(img_field "$1" Id) || return 1
        lower=$(sbx $PY -c 'import json, sys
r = json.load(open("/var/lib/berth/images/images/%s.json" % sys.argv[1].split(":")[1]))
d = ["/var/lib/berth/images/layers/%s/diff" % l["chainId"].split(":")[1] for l in reversed(r["layers"])]
print(":".join(d + [sys.argv[2]] * (len(d) < 2)))' "$id" "$2.empty") || return 1
        mkdir -p "$2" "$2.empty"
        sbx mount -t overlay overlay -o "ro,index=off,lowerdir=$lower" "$2"
}
# parity_of NAME REF [PLATFORM]: pulls REF into podman and Berth, compares
# the two trees into $T/parity-NAME.out.
parity_of() {
        local name=$1 ref=$2 platform=${3:-} start pm
        local -a plat=()
        [ -n "$platform" ] && plat=(--platform "$platform")
        start=$(date +%s)
        sbx "${PODMAN[@]}" pull -q --tls-verify=false "${plat[@]}" "$ref" >/dev/null || return 1
        pm=$(sbx "${PODMAN[@]}" image mount "$ref") || return 1
        sbx_ctl pull -q "${plat[@]}" "$ref" >/dev/null || return 1
        berth_view "$ref" "$T/view-$name" || return 1
        sbx $PY "$H/rootfs-compare.py" "$pm" "$T/view-$name" "$start" >"$T/parity-$name.out" 2>&1
        echo "$pm" >"$T/parity-$name.podman"
        return 0
}
# parity_same NAME: no difference at all, and something compared.
parity_same() {
        local out=$T/parity-$1.out
        grep -Eq '^[0-9]{2,} paths, [0-9]+ hardlink groups compared' "$out" || { cat "$out"; return 1; }
        ! grep -q '^DIFF' "$out" || { cat "$out"; return 1; }
}
for c in multi:test/multi zstd:test/zstd index:test/index index-arm64:test/index:linux/arm64 attrs:test/attrs; do
        name=${c%%:*}; rest=${c#*:}; repo=${rest%%:*}; platform=
        [ "$rest" != "$repo" ] && platform=${rest#*:}
        check "$name: podman and Berth pull 127.0.0.1:5000/$repo:1${platform:+ for $platform}" \
                parity_of "$name" "127.0.0.1:5000/$repo:1" "$platform"
        check "$name: the two root file systems are the same, path by path" parity_same "$name"
done
check_output "... the hardlink of test/multi was compared" '[1-9][0-9]* hardlink groups? compared' cat "$T/parity-multi.out"
check_output "... the arm64 manifest of the index was the one compared" '^arm64$' sbx cat "$T/view-index-arm64/arch.txt"
check_output "... / keeps the mode its base layer gave it (0700), as in podman's view" '^700$' \
        sbx stat -c %a "$T/view-multi"
# The comparison cannot pass by both views lacking what the image has.
check_output "Berth's view of test/attrs has what its layers were built with" '^as built$' sbx $PY -c '
import os, stat, sys
r = sys.argv[1]
p = lambda rel: os.path.join(r, rel)
st = lambda rel: os.lstat(p(rel))
ok = [
    stat.S_IMODE(st("opt/suid").st_mode) == 0o4755,
    stat.S_IMODE(st("opt/sgid").st_mode) == 0o2775 and st("opt/sgid").st_gid == 50,
    stat.S_IMODE(st("opt/sticky").st_mode) == 0o1777,
    (st("opt").st_uid, st("opt").st_gid, stat.S_IMODE(st("opt").st_mode)) == (1000, 50, 0o750),
    (st("opt/ro").st_uid, stat.S_IMODE(st("opt/ro").st_mode)) == (1000, 0o400),
    st("opt/ro").st_ino == st("opt/ro-link").st_ino,
    st("lower/target").st_ino == st("lower/link").st_ino,
    os.readlink(p("opt/abs")) == "/etc/passwd" and int(st("opt/abs").st_mtime) == 981173106,
    stat.S_ISFIFO(st("opt/fifo").st_mode),
    stat.S_ISCHR(st("opt/null").st_mode) and st("opt/null").st_rdev == os.makedev(1, 3),
    os.getxattr(p("opt/attr"), "user.parity") == b"value-1",
    not os.path.lexists(p("opt/gone")),
    sorted(os.listdir(p("opq"))) == ["new"],
    stat.S_ISDIR(st("opt/becomes-dir").st_mode),
    stat.S_IMODE(st("etc/added").st_mode) == 0o600,
]
print("as built" if all(ok) else "not as built: %s" % ok)' "$T/view-attrs"
check_output "... and so has podman's" '^as built$' sbx $PY -c 'import os, sys
print("as built" if os.getxattr(os.path.join(sys.argv[1], "opt/attr"), "user.parity") == b"value-1" and
      sorted(os.listdir(os.path.join(sys.argv[1], "opq"))) == ["new"] else "not as built")' \
        "$(cat "$T/parity-attrs.podman")"
for v in "$T"/view-*; do
        [ -d "$v" ] && sbx mountpoint -q "$v" && sbx umount "$v"
done
sbx_ctl rmi -f 127.0.0.1:5000/test/multi:1 127.0.0.1:5000/test/zstd:1 127.0.0.1:5000/test/index:1 \
        127.0.0.1:5000/test/attrs:1 >/dev/null
sbx_ctl image prune -a -f >/dev/null
sbx "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1

# --- a mirror that wants bearer tokens -------------------------------------------
# The token registry :5010 as the mirror of :5000, which lacks these
# repositories: what is pulled came through the mirror.
sbx $SK copy -q --dest-creds "alice:$PW" --dest-tls-verify=false oci:"$T/img/multi:1" \
        docker://127.0.0.1:5010/public/multi:1 2>/dev/null
sbx $SK copy -q --dest-creds "alice:$PW" --dest-tls-verify=false oci:"$T/img/zstd:1" \
        docker://127.0.0.1:5010/team/zstd:1 2>/dev/null
sbx tee /etc/berth/registries.d/mirror.conf >/dev/null <<'EOF'
[Registry]
Name=127.0.0.1:5000
Mirror=127.0.0.1:5010
EOF
: >"$R/token.log"
: >"$R/token/log"
: >"$R/plain/log"
check_output "a pull by the name of :5000 goes through the token mirror, anonymously" '^127.0.0.1:5000/public/multi:1$' \
        sbx_ctl pull -q --authfile "$T/none.json" 127.0.0.1:5000/public/multi:1
check_output "... with an anonymous token for the repository's pull scope" \
        '"scope": \["repository:public/multi:pull"\]\}, "user": null, "authorized": true' cat "$R/token.log"
check_output "... the mirror served the config and the four layers" '^5$' \
        bash -c "grep 'GET /v2/public/multi/blobs/sha256:' '$R/token/log' | grep -c '\" 200 '"
check_output "... and :5000 was not asked" '^0$' bash -c "grep -c 'public/multi' '$R/plain/log' || true"
check_output "... the image is whole" "^$(cat "$T/img/big.sha256")\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5000/public/multi:1 busybox sha256sum /data/big.bin | cut -d' ' -f1"
: >"$R/token.log"
: >"$R/token/log"
check_output "a private repository of the mirror without its credentials: the mirror gives way to :5000" \
        '127.0.0.1:5000/team/zstd.*(not found|404)' sbx_ctl pull --authfile "$T/none.json" 127.0.0.1:5000/team/zstd:1
check_output "... after asking the mirror" 'GET /v2/team/zstd/manifests/1' cat "$R/token/log"
check "login --system gives berthd alice's credentials for the mirror" \
        bash -c "echo '$PW' | nsenter -a -t $SBX_PID berthctl login -u alice --password-stdin --system 127.0.0.1:5010"
: >"$R/token.log"
: >"$R/token/log"
check "... and the private repository comes through the mirror" \
        sbx_ctl pull -q --authfile "$T/none.json" 127.0.0.1:5000/team/zstd:1
check_output "... with alice's token" '"scope": \["repository:team/zstd:pull"\]\}, "user": "alice", "authorized": true' \
        cat "$R/token.log"
check_output "... its blobs from the mirror" 'GET /v2/team/zstd/blobs/sha256:[0-9a-f]{64} HTTP/1.1" 200' cat "$R/token/log"
check_output "the password is in no log of the mirror, the token server or the journal" '^0$' \
        bash -c "{ cat '$R/token/log' '$R/token.log'; nsenter -a -t $SBX_PID journalctl --no-pager; } | grep -c -- '$PW' || true"
sbx_ctl logout --system 127.0.0.1:5010 >/dev/null
sbx rm /etc/berth/registries.d/mirror.conf
sbx_ctl rmi -f 127.0.0.1:5000/public/multi:1 127.0.0.1:5000/team/zstd:1 >/dev/null
sbx_ctl image prune -a -f >/dev/null

# --- Job.Cancel over D-Bus -----------------------------------------------------------
reg_fault slow 0.5
BEFORE=$(store_state)
sbx sh -c "busctl monitor --json=short --match \"type='signal',sender='org.berth.Berth1',interface='$I',member='JobRemoved'\" \
        >$T/monitor.out 2>&1 & echo \$! >$T/monitor.pid"
wait_for "busctl monitor listens for JobRemoved" grep -q Monitoring "$T/monitor.out"
JOB=$(sbx busctl call org.berth.Berth1 $M $I PullImage 'sa{sv}' 127.0.0.1:5002/test/multi:1 0 | sed -n 's/^o "\(.*\)"$/\1/p')
check_output "PullImage through busctl answers with the job's path" '^/org/berth/Berth1/job/[0-9]+$' echo "$JOB"
JOB_ID=${JOB##*/}
downloading() {
        sbx busctl get-property org.berth.Berth1 "$JOB" org.berth.Berth1.Job Layers |
                grep -Eq '"downloading" [1-9][0-9]* '
}
wait_for "... the job downloads, slowly" downloading
check_output "... into a staging directory of the store" '^tmp/\.#op\.' bash -c "diff <(echo \"\$1\") <(echo \"\$2\") | sed -n 's/^> //p'" \
        _ "$BEFORE" "$(store_state)"
check "Job.Cancel answers within a second" in_time 1 sbx busctl call org.berth.Berth1 "$JOB" org.berth.Berth1.Job Cancel
wait_for "the Manager emits JobRemoved" grep -q '"member":"JobRemoved"' "$T/monitor.out"
job_removed() {
        $PY -c 'import json, sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        d = json.loads(l)["payload"]["data"]
        if d[0] == int(sys.argv[2]):
            print("%s|%s|%s|%s|%d" % (d[1], d[2], d[3], d[4], len(d[5])))' "$T/monitor.out" "$JOB_ID"
}
check_output "... for that job: canceled, Berth's Cancelled error, a sentence naming the pull, no ids" \
        "^$JOB\|canceled\|org\.berth\.Berth1\.Error\.Cancelled\|127\.0\.0\.1:5002/test/multi: cancel[a-z]*\.\|0\$" job_removed
check "... the job object is gone" bash -c "! nsenter -a -t $SBX_PID busctl tree org.berth.Berth1 | grep -q '$JOB\$'"
check_output "... no image appeared" 'No such image' sbx_ctl image inspect 127.0.0.1:5002/test/multi:1
wait_for "... and the staging directory went: the store is as it was" store_is "$BEFORE"
check "berthd answers within a second after the cancel" answers_quickly
sbx sh -c "kill \$(cat $T/monitor.pid)"
reg_fault none

# --- berthd killed in the middle of a pull ---------------------------------------------
# SIGKILL: no cleanup runs. After the restart the store holds no image and no
# staging directory, only the partial blob, which the next pull resumes.
PARTIALS=/var/lib/berth/images/partial
biggest_partial() { sbx sh -c "cd $PARTIALS 2>/dev/null && ls -S | head -n 1"; }
partial_bytes() { sbx stat -c %s "$PARTIALS/$1" 2>/dev/null || echo 0; }
partial_grows() { local p; p=$(biggest_partial); [ -n "$p" ] && [ "$(partial_bytes "$p")" -ge 1000000 ]; }
sbx_ctl rmi -f 127.0.0.1:5002/test/multi:1 >/dev/null 2>&1
BEFORE=$(store_state)
reg_fault slow 0.03
sbx bash -c "berthctl pull 127.0.0.1:5002/test/multi:1 >$T/killed.out 2>&1 & echo \$! >$T/killed.pid"
wait_for "a slow pull writes its big layer into a partial blob" partial_grows
check "berthd is killed with SIGKILL in the middle of it" sbx systemctl kill -s KILL berthd.service
wait_for "... berthctl notices and ends" bash -c "! nsenter -a -t $SBX_PID kill -0 \$(cat $T/killed.pid) 2>/dev/null"
check_output "... saying so in one sentence" '^Error: berthd stopped before the pull job ended; it did not complete\.$' \
        cat "$T/killed.out"
check "berthd starts again" sbx systemctl restart berthd.service
check "... and answers within a second" answers_quickly
check_output "... with no image of the killed pull" 'No such image' sbx_ctl image inspect 127.0.0.1:5002/test/multi:1
wait_for "... and no staging directory: the store is as it was" store_is "$BEFORE"
KILLED=$(biggest_partial)
KEPT=$(partial_bytes "$KILLED")
check "... but the partial blob with what had arrived" test "$KEPT" -ge 1000000
reg_fault none
check "the next pull completes" sbx_ctl pull -q 127.0.0.1:5002/test/multi:1
check_output "... asking for the rest of that blob only" "\"range\": \"bytes=$KEPT-\"" grep "$KILLED" "$R/fault/log"
check "... which the registry sent no more than once" test "$(reg_fault_bytes "sha256:$KILLED")" -lt "$(stat -c %s "$R/plain/data/docker/registry/v2/blobs/sha256/${KILLED:0:2}/$KILLED/data")"
check_output "... and the image is whole" "^$(cat "$T/img/big.sha256")\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5002/test/multi:1 busybox sha256sum /data/big.bin | cut -d' ' -f1"
sbx_ctl rmi -f 127.0.0.1:5002/test/multi:1 >/dev/null

# --- StalledTransferTimeoutSec= --------------------------------------------------------
for v in 0 3601 -1 ten; do
        printf '[Images]\nStalledTransferTimeoutSec=%s\n' "$v" >"$T/bad.conf"
        check_output "StalledTransferTimeoutSec=$v is refused, naming the file and line" 'bad.conf:2: invalid setting' \
                sbx timeout 5 /usr/libexec/berthd --config "$T/bad.conf"
done
sbx sh -c 'printf "[Images]\nStalledTransferTimeoutSec=3\n" >/etc/berth/berthd.conf'
check "berthd restarts with StalledTransferTimeoutSec=3" sbx systemctl restart berthd.service
# Blob bodies at 100 bytes/s after their headers: under 1 KiB/s from the start.
reg_fault trickle 100
BEFORE=$(store_state)
check "a pull from a registry that trickles fails within 10 s" in_time 10 sbx_ctl pull 127.0.0.1:5002/test/multi:1
check_output "... with one sentence naming registry, repository and the stall" \
        '^Error: 127\.0\.0\.1:5002/test/multi: the registry is too slow \(under 1 KiB/s for 3 s\)\.$' cat "$T/in_time.out"
check_output "... exit code 125" '^125$' cat "$T/in_time.rc"
wait_for "... after some bytes came: a stall, not silence" \
        bash -c "grep '/blobs/' '$R/fault/log' | grep -Eq '\"bytes\": [1-9]'"
wait_for "... the store is as it was" store_is "$BEFORE"
check "berthd answers within a second" answers_quickly
reg_fault none
check "without the trickle the same pull works" sbx_ctl pull -q 127.0.0.1:5002/test/multi:1
sbx rm /etc/berth/berthd.conf
