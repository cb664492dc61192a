#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Latency of running /bin/true in a fresh container, every command run inside
# the systemd sandbox by hyperfine (no shell, one warm-up, BENCH_RUNS runs):
#   berthctl run --rm IMAGE /bin/true                 (n/a until `berthctl run` exists)
#   podman run --rm --network none --runtime runc IMAGE /bin/true
#   docker run --rm --network none IMAGE /bin/true     (Debian's docker.io, its dockerd
#                                                       started with systemctl in the sandbox)
#   runc run                                           (a busybox bundle from `runc spec`)
#   systemd-run --scope /bin/true                      (what a scope costs)
#   unshare -fpmuin true                               (the floor: fresh namespaces, no image)
# then /bin/true exec'd into a running container of each engine:
#   berthctl exec, podman exec, docker exec, runc exec
#   nsenter -a -t PID /bin/true                        (the floor: join the namespaces)
# IMAGE is bench/minbase:latest (bookworm minbase), loaded untimed beforehand.
#
# Usage: sudo bench/run-latency.sh
# Environment: BENCH_RUNS (default 20), BUILD_DIR (default ./build), BENCH_DISK
# (own: the stores on a fresh ext4 of the benchmark's own, the default; host).
BENCH_RUNS=${BENCH_RUNS:-20}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

FLOOR="unshare -fpmuin true"

# A busybox bundle for runc, config from `runc spec`, not a terminal.
runc_bundle() {
        local b=$BENCH_TMP/disk/runc-bundle
        make_rootfs "$b/rootfs" && (cd "$b" && runc spec) || return 1
        python3 - "$b/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=1)
EOF
        # The same rootfs, running sleep, for runc exec.
        mkdir -p "$b-sleep" && python3 - "$b/config.json" "$b-sleep/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sleep", "100000"]
c["root"]["path"] = "/run/bench-disk/runc-bundle/rootfs"
json.dump(c, open(sys.argv[2], "w"), indent=1)
EOF
}

berth_run_available() {
        if [ "$BERTH_BUILT" != 1 ]; then
                echo "n/a ($BERTH_BUILD_ERROR)"; return 1
        fi
        if ! sbx_ctl run --help >/dev/null 2>&1; then
                echo "n/a (berthctl run not implemented yet)"; return 1
        fi
        if ! { sbx_ctl load -i /run/bench-disk/archive.tar; sbx_ctl image inspect "$BENCH_IMAGE"; } >/dev/null 2>&1; then
                echo "n/a (berthctl load failed)"; return 1
        fi
}

bench_begin "$@"
bench_build || note "Berth: $BERTH_BUILD_ERROR"
bench_sandbox_start || die "the sandbox did not start"
bench_stage_archive "" || die "no archive"

printf 'run-latency: /bin/true in a fresh container, %s runs each after one warm-up, %s\n' \
        "$BENCH_RUNS" "$(date -u +%FT%TZ)"
printf 'host: %s, %s CPUs, kernel %s; image %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        "$(nproc)" "$(uname -r)" "$BENCH_IMAGE"
printf 'disk: %s\n' "$BENCH_DISK_DESC"
bench_load; echo

# The exec figures go to a table of their own.
EXEC_RESULTS=$BENCH_TMP/exec-results
: >"$EXEC_RESULTS"
# exec_bench NAME CMD: a row of the exec table.
exec_bench() { BENCH_RESULTS=$EXEC_RESULTS bench_hyperfine "$@"; }
exec_na() { BENCH_RESULTS=$EXEC_RESULTS bench_na "$@"; }
# exec_floor PID: joining the namespaces of PID, the least an exec does.
exec_floor() { exec_bench "nsenter -a -t PID /bin/true (floor)" "nsenter -a -t $1 /bin/true"; }

bench_hyperfine "unshare -fpmuin true (floor)" "$FLOOR"

if why=$(berth_run_available); then
        bench_hyperfine "berthctl run --rm" "berthctl run --rm --network none $BENCH_IMAGE /bin/true"
        if sbx_ctl run -d --name bench-exec --network none "$BENCH_IMAGE" sleep 100000 >/dev/null; then
                exec_floor "$(sbx pgrep -n -x sleep)"
                exec_bench "berthctl exec" "berthctl exec bench-exec /bin/true"
                sbx_ctl rm -f bench-exec >/dev/null
        else
                exec_na "berthctl exec" "n/a (the container did not start)"
        fi
else
        bench_na "berthctl run --rm" "$why"
        exec_na "berthctl exec" "$why"
fi

P="podman --root /run/bench-disk/podman/root --runroot /run/bench-disk/podman/run"
P+=" --tmpdir /run/bench-disk/podman/tmp --network-config-dir /run/bench-disk/podman/net"
P+=" --storage-driver overlay --events-backend none"
if bench_podman podman load -q -i /run/bench-disk/archive.tar >/dev/null 2>&1; then
        bench_hyperfine "podman run --rm (runc)" "$P run --rm --network none --runtime runc $BENCH_IMAGE /bin/true"
        if sbx $P run -d --name bench-exec --network none --runtime runc "$BENCH_IMAGE" sleep 100000 >/dev/null; then
                exec_bench "podman exec (runc)" "$P exec bench-exec /bin/true"
                sbx $P rm -f -t 0 bench-exec >/dev/null
        else
                exec_na "podman exec (runc)" "n/a (the container did not start)"
        fi
else
        exec_na "podman exec (runc)" "n/a (podman load failed)"
        bench_na "podman run --rm (runc)" "n/a (podman load failed)"
fi

if why=$(bench_docker_start); then
        bench_hyperfine "docker run --rm ($(sbx "${BENCH_DOCKER[@]}" version -f '{{.Server.Version}}' 2>/dev/null))" \
                "${BENCH_DOCKER[*]} run --rm --network none $BENCH_IMAGE /bin/true"
        if sbx "${BENCH_DOCKER[@]}" run -d --name bench-exec --network none "$BENCH_IMAGE" sleep 100000 >/dev/null; then
                exec_bench "docker exec" "${BENCH_DOCKER[*]} exec bench-exec /bin/true"
                sbx "${BENCH_DOCKER[@]}" rm -f bench-exec >/dev/null
        else
                exec_na "docker exec" "n/a (the container did not start)"
        fi
        sbx systemctl stop bench-dockerd.service
else
        bench_na "docker run --rm" "$why"
        exec_na "docker exec" "$why"
fi

if runc_bundle >/dev/null 2>&1; then
        bench_hyperfine "runc run (busybox bundle)" \
                "runc --root /run/bench-runc run --bundle /run/bench-disk/runc-bundle bench"
        # Its stderr to a file: the detached container keeps whatever it gets.
        if sbx runc --root /run/bench-runc run -d --bundle /run/bench-disk/runc-bundle-sleep bench-exec \
                        </dev/null >/dev/null 2>"$BENCH_TMP/disk/runc-run.err"; then
                exec_bench "runc exec" "runc --root /run/bench-runc exec bench-exec /bin/true"
                sbx runc --root /run/bench-runc delete -f bench-exec >/dev/null 2>&1
        else
                exec_na "runc exec" "n/a (runc run -d failed: $(tail -1 "$BENCH_TMP/disk/runc-run.err" | cut -c1-80))"
        fi
else
        bench_na "runc run (busybox bundle)" "n/a (could not write the bundle)"
fi

bench_hyperfine "systemd-run --scope /bin/true" "systemd-run --quiet --scope /bin/true"

bench_table "unshare -fpmuin true (floor)"
echo
echo "exec: /bin/true into a running container"
BENCH_RESULTS=$EXEC_RESULTS bench_table "nsenter -a -t PID /bin/true (floor)"
bench_load
