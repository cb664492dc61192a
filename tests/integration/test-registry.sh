#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Registries through berthd, against real ones started in the sandbox on
# 127.0.0.1: Debian's docker-registry plain (insecure) on :5000, with TLS and
# htpasswd on :5443, with token auth on :5010 (token server :5001), as a
# pull-through mirror on :5020; a fault-injecting proxy on :5002 and a
# hostile registry on :5003. skopeo is the oracle: it puts the images in and
# reads back what Berth pushed.
. "$(dirname "$0")/lib.sh"

sandbox_start
T=$SBX_TMP
H=$(cd "$(dirname "$0")" && pwd)
. "$H/registry-lib.sh"
reg_init
{ reg_start_plain && reg_start_tls && reg_start_mtls && reg_start_token && reg_start_mirror && reg_start_fault &&
  reg_start_hostile; } || exit 1
R=$REG
PW=$REG_PW
printf '\n[Aliases]\nbbalias=127.0.0.1:5000/test/multi\n' | sbx tee -a /etc/berth/registries.d/test.conf >/dev/null

img_field() {
        nsenter -a -t "$SBX_PID" berthctl image inspect "$1" |
                python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d, list) else d; print(d['$2'])"
}
count_log() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# --- the images, put in with skopeo -----------------------------------------
make_rootfs_tar "$T/base.tar"
/usr/bin/python3 "$H/registry-images.py" "$T/base.tar" "$T/img" || exit 1
SK="skopeo --insecure-policy"
for i in multi zstd index; do
        check "skopeo copies the $i image into the plain registry" \
                sbx $SK copy -q --dest-tls-verify=false --all oci:"$T/img/$i:1" docker://127.0.0.1:5000/test/$i:1
done
MULTI_DIGEST=$(sbx $SK inspect --tls-verify=false docker://127.0.0.1:5000/test/multi:1 --format '{{.Digest}}')
MULTI_CONFIG=$(sbx $SK inspect --tls-verify=false --raw docker://127.0.0.1:5000/test/multi:1 |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')

# The store's records, layers, blobs and staging directories (tmp/).
store_listing() { sbx bash -c 'cd /var/lib/berth/images && find images layers blobs tmp -mindepth 1 -maxdepth 2 | sort'; }

# --- plain HTTP, insecure by registries.d ---------------------------------------
check_output "pull of a four-layer image says where it stands" "Status: Downloaded newer image" \
        sbx_ctl pull 127.0.0.1:5000/test/multi:1
check_output "the image id is the config digest skopeo sees" "^$MULTI_CONFIG\$" \
        img_field 127.0.0.1:5000/test/multi:1 Id
check_output "its repo digest is the manifest digest skopeo sees" "127.0.0.1:5000/test/multi@$MULTI_DIGEST" \
        sbx busctl get-property org.berth.Berth1 "/org/berth/Berth1/image/${MULTI_CONFIG#sha256:}" \
        org.berth.Berth1.Image RepoDigests
check_output "the 4 MiB layer is in the root file system, byte for byte" "^$(cat "$T/img/big.sha256")\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5000/test/multi:1 busybox sha256sum /data/big.bin | cut -d' ' -f1"
check_output "the whiteout hid /etc/motd and the hardlink links" "^gone 2\$" \
        sbx_ctl run --rm 127.0.0.1:5000/test/multi:1 sh -c 'test -e /etc/motd || printf gone; stat -c " %h" /data/big-link.bin'
BEFORE_GETS=$(count_log "$R/plain/log" 'GET /v2/test/multi/')
check_output "a second pull finds it up to date" "Status: Image is up to date" sbx_ctl pull 127.0.0.1:5000/test/multi:1
check_output "... and costs one request, the manifest's" "^1\$" \
        bash -c "echo \$((\$(grep -c 'GET /v2/test/multi/' $R/plain/log) - $BEFORE_GETS))"
check_output "pull -q prints the reference alone" '^127.0.0.1:5000/test/zstd:1$' sbx_ctl pull -q 127.0.0.1:5000/test/zstd:1
check_output "a layer of two zstd frames unpacks whole" "^11000\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5000/test/zstd:1 cat /data/zstd.txt | wc -c"
check_output "pull --json prints the id and the repo digest" '"RepoDigest": "127.0.0.1:5000/test/index@sha256:' \
        sbx_ctl --json pull 127.0.0.1:5000/test/index:1
check_output "from an index the host's platform is picked" '^amd64$' \
        sbx_ctl run --rm 127.0.0.1:5000/test/index:1 cat /arch.txt
check "pull --platform linux/arm64 picks the other manifest" sbx_ctl pull -q --platform linux/arm64 127.0.0.1:5000/test/index:1
check_output "... whose image is arm64" '^arm64$' img_field 127.0.0.1:5000/test/index:1 Architecture
check_output "a platform the index lacks is refused, naming what it offers" 'linux/amd64' \
        sbx_ctl pull --platform linux/s390x 127.0.0.1:5000/test/index:1
check_output "a short-name alias of registries.d resolves" '127.0.0.1:5000/test/multi' sbx_ctl pull -q bbalias

# --- push, and skopeo reads it back -----------------------------------------------
check_output "push prints the digest the registry returned" '^digest: sha256:[0-9a-f]{64}$' \
        sbx_ctl push 127.0.0.1:5000/test/multi:1 127.0.0.1:5000/copy/multi:2
check_output "skopeo sees the same manifest digest it had pushed itself" "^$MULTI_DIGEST\$" \
        sbx $SK inspect --tls-verify=false docker://127.0.0.1:5000/copy/multi:2 --format '{{.Digest}}'
check "skopeo copies the pushed image back out" \
        sbx $SK copy -q --src-tls-verify=false docker://127.0.0.1:5000/copy/multi:2 oci:"$T/back:2"
check_output "... with the config digest of the original" "$MULTI_CONFIG" \
        bash -c "$SK inspect --raw oci:$T/back:2"
check_output "the blobs came by cross-repository mount, not upload" 'mount=sha256' cat "$R/plain/log"
BEFORE_PUTS=$(count_log "$R/plain/log" 'PUT /v2/copy/multi/blobs')
check "pushing it again works" sbx_ctl push -q 127.0.0.1:5000/test/multi:1 127.0.0.1:5000/copy/multi:2
check_output "... and uploads no blob" "^$BEFORE_PUTS\$" bash -c "grep -c 'PUT /v2/copy/multi/blobs' $R/plain/log || true"
check_output "push of an image that is not there names it" 'No such image' sbx_ctl push 127.0.0.1:5000/nosuch:1
check_exit "... and exits 125" 125 sbx_ctl push 127.0.0.1:5000/nosuch:1

# --- run and create pull what is missing --------------------------------------------
sbx_ctl rmi -f 127.0.0.1:5000/test/zstd:1 >/dev/null
check_output "run --pull never does not pull" 'No such image' sbx_ctl run --rm --pull never 127.0.0.1:5000/test/zstd:1 true
check_output "run pulls a missing image, as docker does" "Unable to find image '127.0.0.1:5000/test/zstd:1' locally" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5000/test/zstd:1 true 2>&1"
BEFORE_GETS=$(count_log "$R/plain/log" 'GET /v2/test/zstd/manifests')
check "run --pull always asks the registry again" sbx_ctl run --rm --pull always 127.0.0.1:5000/test/zstd:1 true
check_output "... one more manifest request" "^$((BEFORE_GETS + 1))\$" \
        bash -c "grep -c 'GET /v2/test/zstd/manifests' $R/plain/log"
check_output "a bad --pull value is refused" 'Invalid value' sbx_ctl create --pull sometimes 127.0.0.1:5000/test/zstd:1

# --- TLS with the CA of certs.d, and htpasswd ------------------------------------------
sbx $SK copy -q --dest-creds "alice:$PW" --dest-cert-dir "$R/certs-skopeo" --dest-tls-verify=false \
        oci:"$T/img/zstd:1" docker://127.0.0.1:5443/private/zstd:1 2>/dev/null
check_output "a pull without credentials is refused, naming the registry" '127.0.0.1:5443/private/zstd.*(401|auth)' \
        sbx_ctl pull 127.0.0.1:5443/private/zstd:1
check_exit "... exit 125" 125 sbx_ctl pull 127.0.0.1:5443/private/zstd:1
AUTH=$T/auth.json
check_output "login with a wrong password is refused" '127.0.0.1:5443' \
        bash -c "echo wrong-password | nsenter -a -t $SBX_PID berthctl login -u alice --password-stdin --authfile $AUTH 127.0.0.1:5443 2>&1"
check "... and stores nothing" test ! -e "$AUTH"
check_output "login checks the password with the registry" 'Login Succeeded' \
        bash -c "echo '$PW' | nsenter -a -t $SBX_PID berthctl login -u alice --password-stdin --authfile $AUTH 127.0.0.1:5443"
check_output "... and keeps it in auth.json, 0600" '^600$' stat -c %a "$AUTH"
check "pull with the stored credentials verifies TLS with the CA of certs.d" \
        sbx_ctl pull -q --authfile "$AUTH" 127.0.0.1:5443/private/zstd:1
check_output "REGISTRY_AUTH_FILE is read too" '127.0.0.1:5443/private/zstd:1' \
        sbx env REGISTRY_AUTH_FILE="$AUTH" berthctl pull -q 127.0.0.1:5443/private/zstd:1
check "push over TLS with them" sbx_ctl push -q --authfile "$AUTH" 127.0.0.1:5443/private/zstd:1 127.0.0.1:5443/private/pushed:1
check_output "skopeo reads what was pushed" 'sha256:' \
        sbx $SK inspect --creds "alice:$PW" --tls-verify=false docker://127.0.0.1:5443/private/pushed:1 --format '{{.Digest}}'
# A credential helper, as docker's credHelpers names one.
mkdir -p "$T/helper/.docker" "$T/bin"
printf '{"credHelpers": {"127.0.0.1:5443": "bertht"}}\n' >"$T/helper/.docker/config.json"
cat >"$T/bin/docker-credential-bertht" <<EOF
#!/bin/sh
read server
echo "\$server" >>$T/helper.log
printf '{"ServerURL": "%s", "Username": "alice", "Secret": "%s"}' "\$server" '$PW'
EOF
chmod +x "$T/bin/docker-credential-bertht"
check "a docker-credential helper of ~/.docker/config.json gives the credentials" \
        sbx env HOME="$T/helper" PATH="$T/bin:$PATH" XDG_RUNTIME_DIR="$T/helper" berthctl pull -q 127.0.0.1:5443/private/zstd:1
check_output "... asked for that registry" '^127.0.0.1:5443$' cat "$T/helper.log"
sbx mv /etc/berth/certs.d/127.0.0.1:5443/ca.crt "$T/ca.moved"
check_output "without the CA the TLS failure is named" '127.0.0.1:5443.*(certificate|TLS|SSL)' \
        sbx_ctl pull --authfile "$AUTH" 127.0.0.1:5443/private/zstd:1
check "--tls-verify=false is for when one asks" sbx_ctl pull -q --tls-verify=false --authfile "$AUTH" 127.0.0.1:5443/private/zstd:1
sbx mv "$T/ca.moved" /etc/berth/certs.d/127.0.0.1:5443/ca.crt
sbx $SK copy -q --dest-cert-dir /etc/berth/certs.d/127.0.0.1:5444 oci:"$T/img/zstd:1" \
        docker://127.0.0.1:5444/mtls/zstd:1 2>/dev/null
check "a registry that wants a client certificate gets certs.d's client.cert" \
        sbx_ctl pull -q 127.0.0.1:5444/mtls/zstd:1
sbx mv /etc/berth/certs.d/127.0.0.1:5444/client.cert "$T/client.moved"
check_output "... and without it the failure names the registry" '127.0.0.1:5444/mtls/zstd' \
        sbx_ctl pull 127.0.0.1:5444/mtls/zstd:1
sbx mv "$T/client.moved" /etc/berth/certs.d/127.0.0.1:5444/client.cert
check_output "logout forgets them" 'Removed login credentials for 127.0.0.1:5443' \
        sbx_ctl logout --authfile "$AUTH" 127.0.0.1:5443
check_output "... so the next pull is refused" '401|auth' sbx_ctl pull --authfile "$AUTH" 127.0.0.1:5443/private/zstd:1
check "login --system keeps them for berthd" \
        bash -c "echo '$PW' | nsenter -a -t $SBX_PID berthctl login -u alice --password-stdin --system --authfile $AUTH 127.0.0.1:5443"
check_output "... in /etc/berth/auth.json, root's only" '^600 root$' sbx stat -c '%a %U' /etc/berth/auth.json
check "... which pulls use when the caller has none" sbx_ctl pull -q --authfile "$T/none.json" 127.0.0.1:5443/private/zstd:1

# --- bearer tokens ------------------------------------------------------------------
AUTH2=$T/auth-token.json
printf '{"auths": {"127.0.0.1:5010": {"auth": "%s"}}}\n' "$(printf 'alice:%s' "$PW" | base64 -w0)" >"$AUTH2"
printf '{"auths": {"127.0.0.1:5010": {"auth": "%s"}}}\n' "$(printf 'bob:%s' "$PW" | base64 -w0)" >"$T/auth-bob.json"
check "push with a bearer token for pull,push" \
        sbx_ctl push -q --authfile "$AUTH2" 127.0.0.1:5000/test/multi:1 127.0.0.1:5010/team/multi:1
check_output "the token was asked for that repository's scope" 'repository:team/multi:pull,push' cat "$R/token.log"
check "pull with a token of bob, who may pull" sbx_ctl pull -q --authfile "$T/auth-bob.json" 127.0.0.1:5010/team/multi:1
check_output "a push of bob's is refused with a sentence naming the repository" '127.0.0.1:5010/team/other' \
        sbx_ctl push --authfile "$T/auth-bob.json" 127.0.0.1:5000/test/multi:1 127.0.0.1:5010/team/other:1
check_output "anonymous pulls get no token for a private repository" '401|auth|denied' \
        sbx_ctl pull --authfile "$T/none.json" 127.0.0.1:5010/team/multi:1
TOKENS=$(grep -c '"path": "/token"' "$R/token.log")
check "a second pull with the same scope works" sbx_ctl pull -q --authfile "$AUTH2" 127.0.0.1:5010/team/multi:1
# Without the source's pull scope in its token, a token registry quietly
# starts an upload instead of the mount.
check "a push to another repository of the token registry" \
        sbx_ctl push -q --authfile "$AUTH2" 127.0.0.1:5010/team/multi:1 127.0.0.1:5010/team/copy:1
check_output "... asks one token for both repositories" 'scope.*repository:team/copy:pull,push.*repository:team/multi:pull' \
        cat "$R/token.log"
check_output "... and mounts its blobs rather than uploading them" \
        'POST /v2/team/copy/blobs/uploads/\?[^ ]*mount=sha256[^ ]* HTTP/1.1" 201' cat "$R/token/log"

# --- a pull-through mirror, and the fallback when it is gone -------------------------
sbx tee /etc/berth/registries.d/mirror.conf >/dev/null <<'EOF'
[Registry]
Name=127.0.0.1:5000
Mirror=127.0.0.1:5020
Insecure=yes
EOF
sbx_ctl rmi -f 127.0.0.1:5000/test/zstd:1 >/dev/null
check "a pull goes through the mirror" sbx_ctl pull -q 127.0.0.1:5000/test/zstd:1
check_output "... which served the manifest" 'GET /v2/test/zstd/manifests/1' cat "$R/mirror/log"
sbx systemctl stop reg-mirror.service
sbx_ctl rmi -f 127.0.0.1:5000/test/zstd:1 >/dev/null
check "with the mirror down the registry itself serves" sbx_ctl pull -q 127.0.0.1:5000/test/zstd:1
sbx rm /etc/berth/registries.d/mirror.conf

# --- faults: a dropped connection, 429, 503 ----------------------------------------------
BIG=$(sbx $SK inspect --tls-verify=false --raw docker://127.0.0.1:5000/test/multi:1 |
        python3 -c 'import json,sys; l=max(json.load(sys.stdin)["layers"], key=lambda l: l["size"]); print(l["digest"], l["size"])')
BIG_DIGEST=${BIG% *}
BIG_SIZE=${BIG#* }
sbx_ctl rmi -f 127.0.0.1:5000/test/multi:1 127.0.0.1:5010/team/multi:1 bbalias >/dev/null 2>&1
sbx_ctl image prune -a -f >/dev/null 2>&1
reg_fault drop $((BIG_SIZE / 2))
check "a pull survives a connection dropped halfway through the big layer" sbx_ctl pull -q 127.0.0.1:5002/test/multi:1
check_output "... resuming with Range" "\"range\": \"bytes=$((BIG_SIZE / 2))-" grep "$BIG_DIGEST" "$R/fault/log"
check_output "... so the layer's bytes crossed the wire once" "^$BIG_SIZE\$" \
        reg_fault_bytes "$BIG_DIGEST"
check_output "... and the file is whole" "^$(cat "$T/img/big.sha256")\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5002/test/multi:1 busybox sha256sum /data/big.bin | cut -d' ' -f1"
sbx_ctl rmi -f 127.0.0.1:5002/test/multi:1 >/dev/null
reg_fault 429 1
START=$(date +%s%N)
check "a 429 with Retry-After is waited out" sbx_ctl pull -q 127.0.0.1:5002/test/zstd:1
check "... for the second it asked" test $(( ($(date +%s%N) - START) / 1000000 )) -ge 900
sbx_ctl rmi -f 127.0.0.1:5002/test/zstd:1 >/dev/null
reg_fault 503 2
check "two 503s are retried" sbx_ctl pull -q 127.0.0.1:5002/test/zstd:1
sbx_ctl rmi -f 127.0.0.1:5002/test/zstd:1 >/dev/null
reg_fault 503 1000
BEFORE=$(store_listing)
check_output "a registry that keeps failing is given up on, with a sentence" '127.0.0.1:5002/test/zstd.*503' \
        sbx_ctl pull 127.0.0.1:5002/test/zstd:1
check_output "... leaving the store as it was" '^same$' bash -c '[ "$1" = "$2" ] && echo same' _ "$BEFORE" "$(store_listing)"
reg_fault none

# --- a hostile registry -------------------------------------------------------------------
BEFORE=$(store_listing)
for c in "digest:digest|mismatch" "diffid:diff_id|mismatch" "bigmanifest:limit|large" "malformed:JSON|malformed" \
         "schema1:schema 1|schema1" "mediatype:media type" "redirect:redirect" "denied:401|auth" \
         "gone:not found|404"; do
        repo=${c%%:*}
        check_output "a registry answering '$repo' gets one sentence naming registry and repository" \
                "127.0.0.1:5003/bad/$repo.*($(echo "${c#*:}"))" sbx_ctl pull 127.0.0.1:5003/bad/$repo:1
done
check_exit "... each exits 125" 125 sbx_ctl pull 127.0.0.1:5003/bad/digest:1
check_output "... and the store is as it was" '^same$' bash -c '[ "$1" = "$2" ] && echo same' _ "$BEFORE" "$(store_listing)"
sbx bash -c "berthctl pull 127.0.0.1:5003/bad/slow:1 >$T/slow.out 2>&1 & echo \$! >$T/slow.pid"
sleep 1
check_output "berthd answers within a second while a registry stalls" '^ok$' \
        bash -c "timeout 1 nsenter -a -t $SBX_PID busctl call org.berth.Berth1 /org/berth/Berth1 org.berth.Berth1.Manager GetInfo >/dev/null && echo ok"
sbx bash -c "kill -INT \$(cat $T/slow.pid)"
wait_for "Ctrl-C cancels the pull" bash -c "grep -q Cancel $T/slow.out"
check_output "... and no job is left" '^$' bash -c "nsenter -a -t $SBX_PID busctl tree org.berth.Berth1 | grep job/ || true"
check_output "... nor anything in the store" '^same$' bash -c '[ "$1" = "$2" ] && echo same' _ "$BEFORE" "$(store_listing)"

# --- credentials never leak ------------------------------------------------------------------
check_output "the password is in no log line of the journal" '^0$' \
        bash -c "nsenter -a -t $SBX_PID journalctl --no-pager | grep -c -- '$PW' || true"
check_output "... nor in the token server's log" '^0$' bash -c "grep -c -- '$PW' $R/token.log || true"

# --- partial blobs across pulls ----------------------------------------------------------
# A pull cancelled halfway through the big layer keeps its bytes; the next one
# asks the registry for the rest only. BIG_DIGEST/BIG_SIZE: the faults section.
PARTIAL=/var/lib/berth/images/partial/${BIG_DIGEST#sha256:}
partial_size() { sbx stat -c %s "$PARTIAL" 2>/dev/null || echo 0; }
partial_cancelled_pull() {
        local i
        reg_fault slow 0.03
        sbx bash -c "berthctl pull 127.0.0.1:5002/test/multi:1 >$T/partial.out 2>&1 & echo \$! >$T/partial.pid"
        for i in $(seq 300); do [ "$(partial_size)" -ge $((BIG_SIZE / 3)) ] && break; sleep 0.1; done
        sbx bash -c "kill -INT \$(cat $T/partial.pid)"
        for i in $(seq 300); do grep -q Cancel "$T/partial.out" && break; sleep 0.1; done
        for i in $(seq 100); do
                nsenter -a -t "$SBX_PID" busctl tree org.berth.Berth1 | grep -q job/ || break
                sleep 0.1
        done
}
sbx_ctl rmi -f 127.0.0.1:5002/test/multi:1 127.0.0.1:5000/test/multi:1 >/dev/null 2>&1
partial_cancelled_pull
check_output "a pull cancelled in the big layer is cancelled" 'Cancel' cat "$T/partial.out"
check_output "... and leaves no image" 'No such image' sbx_ctl image inspect 127.0.0.1:5002/test/multi:1
KEPT=$(partial_size)
check "... but the layer's bytes so far, in a partial blob" test "$KEPT" -ge $((BIG_SIZE / 3)) -a "$KEPT" -lt "$BIG_SIZE"
check_output "... root's only" '^600 root,700 root$' \
        bash -c "nsenter -a -t $SBX_PID stat -c '%a %U' $PARTIAL $(dirname "$PARTIAL") | paste -sd,"
reg_fault none
check "the next pull completes" sbx_ctl pull -q 127.0.0.1:5002/test/multi:1
check_output "... asking the registry for the rest with Range" "\"range\": \"bytes=$KEPT-\"" \
        grep "$BIG_DIGEST" "$R/fault/log"
check_output "... which sent only the rest: the layer crossed the wire about once" "^$((BIG_SIZE - KEPT))\$" \
        reg_fault_bytes "$BIG_DIGEST"
check_output "... and the image is whole" "^$(cat "$T/img/big.sha256")\$" \
        bash -c "nsenter -a -t $SBX_PID berthctl run --rm 127.0.0.1:5002/test/multi:1 busybox sha256sum /data/big.bin | cut -d' ' -f1"
check "... the partial blob gone" test "$(partial_size)" = 0
sbx_ctl rmi -f 127.0.0.1:5002/test/multi:1 >/dev/null
partial_cancelled_pull
reg_fault none
check "image prune removes partial blobs" sbx_ctl image prune -f
check "... this one too" test "$(partial_size)" = 0
