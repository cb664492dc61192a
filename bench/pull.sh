#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pull (issue 11, Speed): the benchmarks' Debian minbase image (4 gzip
# layers) pushed to a loopback TLS registry (tests/integration/registry-lib.sh,
# inside the sandbox), pulled by Berth, podman and skopeo (into dir:), against
# the floor: curl of each blob + sha256sum + tar -xz into a fresh folder, in
# sequence. Then a repeated pull of a present image and a resume after a
# drop at 50% of the largest layer (bytes the fault proxy sent).
BENCH_DEPS=(docker-registry skopeo podman curl apache2-utils openssl python3-jwt python3-cryptography)
BENCH_RUNS=${BENCH_RUNS:-5}
. "$(dirname "$0")/lib.sh"
. "$SOURCE_DIR/tests/integration/registry-lib.sh"

bench_begin "$@"
bench_build || note "Berth: $BERTH_BUILD_ERROR"
bench_sandbox_start || die "the sandbox did not start"
bench_stage_archive gzip || die "no archive"
reg_init
{ reg_start_plain && reg_start_tls && reg_start_fault; } || die "the registries did not start"
sbx systemctl restart berthd.service
REF=127.0.0.1:5443/bench/minbase:latest
# skopeo, podman and curl trust the test CA as berthd does (certs.d).
sbx mkdir -p /etc/containers/certs.d/127.0.0.1:5443
sbx cp "$REG/ca.crt" /etc/containers/certs.d/127.0.0.1:5443/ca.crt
CA=$REG/ca.crt
sbx skopeo copy -q --dest-creds alice:$REG_PW docker-archive:/run/bench-disk/archive.tar docker://$REF ||
        die "skopeo could not push the image"
sbx skopeo copy -q --dest-tls-verify=false docker-archive:/run/bench-disk/archive.tar \
        docker://127.0.0.1:5000/bench/minbase:latest || die "skopeo could not push to :5000"
AUTH=/run/bench-disk/auth.json
printf '{"auths":{"127.0.0.1:5443":{"auth":"%s"}}}\n' "$(printf alice:$REG_PW | base64)" >"$BENCH_TMP/disk/auth.json"
MANIFEST=$(sbx skopeo inspect --creds alice:$REG_PW --raw docker://$REF)
mapfile -t BLOBS < <(python3 -c 'import json,sys; [print(l["digest"]) for l in json.loads(sys.argv[1])["layers"]]' "$MANIFEST")
TOTAL=$(python3 -c 'import json,sys; print(sum(l["size"] for l in json.loads(sys.argv[1])["layers"]))' "$MANIFEST")

printf 'pull: %s (%s layers, %s bytes compressed) from a loopback TLS registry, %s runs each after one warm-up, %s\n' \
        "$REF" "${#BLOBS[@]}" "$TOTAL" "$BENCH_RUNS" "$(date -u +%FT%TZ)"
printf 'host: %s, %s CPUs, kernel %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(nproc)" "$(uname -r)"
printf 'disk: %s\n' "$BENCH_DISK_DESC"
bench_load; echo

D=/run/bench-disk
floor_setup() { sbx rm -rf $D/floor; }
floor_run() {
        sbx sh -ec "mkdir -p $D/floor/root
                for b in ${BLOBS[*]}; do
                        curl -sf --cacert $CA -u alice:$REG_PW -o $D/floor/blob https://127.0.0.1:5443/v2/bench/minbase/blobs/\$b
                        echo \"\${b#sha256:}  $D/floor/blob\" | sha256sum -c --quiet
                        tar -C $D/floor/root -xzf $D/floor/blob
                done"
}
berth_setup() { sbx_ctl rmi -f $REF; sbx_ctl image prune -f; }
berth_run() { sbx env REGISTRY_AUTH_FILE=$AUTH berthctl pull -q $REF; }
P="podman --root $D/podman/root --runroot $D/podman/run --tmpdir $D/podman/tmp --storage-driver overlay --events-backend none"
podman_setup() { sbx $P rmi -af; }
podman_run() { sbx $P pull -q --tls-verify=false --creds alice:$REG_PW $REF; }
skopeo_setup() { sbx rm -rf $D/skopeo; }
skopeo_run() { sbx skopeo copy -q --src-creds alice:$REG_PW docker://$REF dir:$D/skopeo; }

rows=("curl + sha256sum + tar -xz per blob (floor):floor_setup:floor_run"
      "podman pull:podman_setup:podman_run" "skopeo copy to dir:skopeo_setup:skopeo_run")
if [ "$BERTH_BUILT" = 1 ] && berth_setup >/dev/null 2>&1 && berth_run >/dev/null 2>&1; then
        rows+=("berthctl pull:berth_setup:berth_run")
else
        bench_na "berthctl pull" "n/a (berthctl pull failed: $(berth_run 2>&1 | tail -1 | cut -c1-80))"
fi
bench_rounds "${rows[@]}"
# A present image: one manifest request, timed with hyperfine inside the
# sandbox (nsenter's own 10 to 30 ms would swamp the figure), beside curl's
# one authenticated GET of the same manifest.
printf 'user = "alice:%s"\n' "$REG_PW" >"$BENCH_TMP/disk/curlrc"
if berth_run >/dev/null 2>&1; then
        BENCH_RUNS=$((BENCH_RUNS * 4)) bench_hyperfine "berthctl pull (image present)" \
                "env REGISTRY_AUTH_FILE=$AUTH berthctl pull -q $REF"
        BENCH_RUNS=$((BENCH_RUNS * 4)) bench_hyperfine "curl of its manifest (one request)" \
                "curl -sf -K $D/curlrc --cacert $CA -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' https://127.0.0.1:5443/v2/bench/minbase/manifests/latest"
fi
bench_table "curl + sha256sum + tar -xz per blob (floor)"

# Resume: the fault proxy cuts the largest layer at 50%, once.
echo
BIG=$(python3 -c 'import json,sys; l=max(json.loads(sys.argv[1])["layers"], key=lambda l: l["size"]); print(l["digest"], l["size"])' \
        "$(sbx skopeo inspect --tls-verify=false --raw docker://127.0.0.1:5000/bench/minbase:latest)")
reg_fault drop $((${BIG#* } / 2))
# None of its layers may be in the store already.
sbx_ctl rmi -f $REF >/dev/null 2>&1
sbx_ctl rmi -f 127.0.0.1:5002/bench/minbase:latest >/dev/null 2>&1; sbx_ctl image prune -f >/dev/null 2>&1
if sbx_ctl pull -q 127.0.0.1:5002/bench/minbase:latest >/dev/null 2>&1; then r=ok; else r=failed; fi
printf 'resume after a drop at 50%% of %s (%s bytes): pull %s, %s bytes sent in all (%s requests)\n' \
        "${BIG% *}" "${BIG#* }" "$r" "$(reg_fault_bytes "${BIG% *}")" "$(grep -c "blobs/${BIG% *}" "$REG/fault/log")"
bench_load
