#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Many containers running `sleep infinity`, per engine, in the systemd sandbox:
# the time to start them one after the other, the engine daemon's RSS growth
# per container, the helper processes each container costs (every new
# process in the sandbox that is not a payload `sleep`: conmon, shims, ...)
# and their RSS, and the latency of listing them (`ps`, hyperfine).
#   berthctl run -d            BENCH_CONTAINERS (default 1000)  (n/a until `berthctl run` exists)
#   podman run -d (runc)       BENCH_PEER_CONTAINERS (default 50)
#   docker run -d              BENCH_PEER_CONTAINERS (default 50)
# Targets (issue): berthd RSS growth <= 64 KiB per container, `berthctl ps`
# <= 20 ms with 1,000 containers, 0 helper processes per container.
#
# Usage: sudo bench/many-containers.sh
# Environment: BENCH_CONTAINERS, BENCH_PEER_CONTAINERS, BENCH_RUNS (ps runs, default 20),
# BENCH_DISK (own: the stores on a fresh ext4 of the benchmark's own, the default; host).
BENCH_RUNS=${BENCH_RUNS:-20}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_CONTAINERS:-1000}
N_PEERS=${BENCH_PEER_CONTAINERS:-50}
P=(podman --root /run/bench-disk/podman/root --runroot /run/bench-disk/podman/run
   --tmpdir /run/bench-disk/podman/tmp --network-config-dir /run/bench-disk/podman/net
   --storage-driver overlay --events-backend none)
SUMMARY=

# Processes of the sandbox, "pid rss-KiB comm" per line.
snapshot() { sbx ps -e -o pid=,rss=,comm= >"$1"; }

# helpers BEFORE AFTER N: prints "processes-per-container rss-KiB-per-container"
# for the processes that appeared, not counting the payloads (sleep).
helpers() {
        awk -v n="$3" 'NR == FNR { old[$1] = 1; next }
                !($1 in old) && $3 != "sleep" && $3 != "ps" { c++; rss += $2 }
                END { printf "%.2f %.0f\n", c / n, rss / n }' "$1" "$2"
}

# rss PID...: the summed VmRSS in KiB of processes of the sandbox.
rss() {
        local p sum=0 v
        for p in "$@"; do
                # shellcheck disable=SC2016 # awk's $2
                v=$(sbx awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}

# measure ENGINE N DAEMON_PIDS_FN PS_NAME PS_CMD RUN_CMD...: starts N containers with
# RUN_CMD (its word @NAME@ becomes bench-I), then records one summary line
# and the ps latency.
measure() {
        local engine=$1 n=$2 pids_fn=$3 ps_name=$4 ps_cmd=$5 i t0 t1 r0=- r1 out h; shift 5
        local cmd=("$@")
        snapshot "$BENCH_TMP/before"
        # shellcheck disable=SC2046 # one argument per pid
        [ "$pids_fn" != - ] && r0=$(rss $($pids_fn))
        t0=$(now_ns)
        for ((i = 0; i < n; i++)); do
                if ! out=$(sbx "${cmd[@]/#@NAME@/bench-$i}" 2>&1 >/dev/null); then
                        bench_na "$ps_name ($n containers)" "failed at container $i: $(tail -1 <<<"$out" | cut -c1-80)"
                        SUMMARY+="$engine|failed at container $i: $(tail -1 <<<"$out" | cut -c1-60)"$'\n'
                        return 1
                fi
        done
        t1=$(now_ns)
        snapshot "$BENCH_TMP/after"
        h=$(helpers "$BENCH_TMP/before" "$BENCH_TMP/after" "$n")
        if [ "$pids_fn" != - ]; then
                # shellcheck disable=SC2046 # one argument per pid
                r1=$(rss $($pids_fn))
                r0=$(((r1 - r0) / n))
        fi
        SUMMARY+="$engine|$n|$(awk -v t=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.1f ms", t / n / 1e6 }')|$r0|${h% *}|${h#* }"$'\n'
        bench_hyperfine "$ps_name ($n containers)" "$ps_cmd"
}

berthd_pids() { sbx systemctl show -p MainPID --value berthd.service; }
docker_pids() { sbx pgrep -x 'dockerd|containerd'; }

bench_begin "$@"
bench_build || note "Berth: $BERTH_BUILD_ERROR"
bench_sandbox_start || die "the sandbox did not start"
bench_stage_archive "" || die "no archive"

printf 'many-containers: sleep infinity in each, %s ps runs after one warm-up, %s\n' \
        "$BENCH_RUNS" "$(date -u +%FT%TZ)"
printf 'host: %s, %s CPUs, kernel %s; image %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        "$(nproc)" "$(uname -r)" "$BENCH_IMAGE"
printf 'disk: %s\n' "$BENCH_DISK_DESC"
bench_load; echo

if [ "$BERTH_BUILT" != 1 ]; then
        why="n/a ($BERTH_BUILD_ERROR)"
elif ! sbx_ctl run --help >/dev/null 2>&1; then
        why="n/a (berthctl run not implemented yet)"
elif ! { sbx_ctl load -i /run/bench-disk/archive.tar; sbx_ctl image inspect "$BENCH_IMAGE"; } >/dev/null 2>&1; then
        why="n/a (berthctl load failed)"
else
        why=
fi
if [ -z "$why" ]; then
        # A fresh berthd: memory its allocator kept from the load would hide growth.
        sbx systemctl restart berthd.service && sbx_ctl info >/dev/null
        measure berth "$N" berthd_pids "berthctl ps" "berthctl ps" \
                berthctl run -d --network none --name @NAME@ "$BENCH_IMAGE" sleep infinity
else
        SUMMARY+="berth|$why"$'\n'
        bench_na "berthctl ps ($N containers)" "$why"
fi

if bench_podman podman load -q -i /run/bench-disk/archive.tar >/dev/null 2>&1; then
        measure podman "$N_PEERS" - "podman ps" "${P[*]} ps" \
                "${P[@]}" run -d --network none --runtime runc --name @NAME@ "$BENCH_IMAGE" sleep infinity
else
        SUMMARY+="podman|n/a (podman load failed)"$'\n'
fi

if why=$(bench_docker_start); then
        measure docker "$N_PEERS" docker_pids "docker ps" "${BENCH_DOCKER[*]} ps" \
                "${BENCH_DOCKER[@]}" run -d --network none --name @NAME@ "$BENCH_IMAGE" sleep infinity
else
        SUMMARY+="docker|$why"$'\n'
fi

printf '%-7s | %10s | %15s | %24s | %19s | %s\n' engine containers "start/container" \
        "daemon RSS growth/ctr" "helper procs/ctr" "helper RSS/ctr"
printf '%s\n' "--------|------------|-----------------|--------------------------|---------------------|---------------"
while IFS='|' read -r e n s r h hr; do
        [ -z "$e" ] && continue
        if [ -z "$s" ]; then printf '%-7s | %s\n' "$e" "$n"; continue; fi
        [ "$r" != - ] && r="$r KiB"
        printf '%-7s | %10s | %15s | %24s | %19s | %s KiB\n' "$e" "$n" "$s" "$r" "$h" "$hr"
done <<<"$SUMMARY"
echo
bench_table "berthctl ps ($N containers)" "ratio to berthctl ps"
echo
b=$(grep '^berth|' <<<"$SUMMARY")
IFS='|' read -r _ n _ r h _ <<<"$b"
if [ -n "${h:-}" ]; then
        ps_us=$(bench_median "berthctl ps ($N containers)")
        awk -v r="$r" -v h="$h" -v p="${ps_us:-0}" -v n="$n" 'BEGIN {
                printf "target: berthd RSS growth <= 64 KiB/container:   %s (%d KiB)\n", r <= 64 ? "MET" : "NOT MET", r
                printf "target: berthctl ps <= 20 ms (%d containers):   %s (%.1f ms)\n", n, (p > 0 && p <= 20000) ? "MET" : "NOT MET", p / 1000
                printf "target: 0 helper processes per container:      %s (%.2f)\n", h == 0 ? "MET" : "NOT MET", h }'
else
        echo "targets: n/a (no Berth figures)"
fi
bench_load
