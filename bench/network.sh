#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Networking, in the systemd sandbox's own network namespace:
# 1. start latency of /bin/true (hyperfine, BENCH_RUNS runs after one warm-up):
#      berthctl run --rm --network none IMAGE /bin/true      (the row to compare with)
#      berthctl run --rm IMAGE /bin/true                     (the default bridge)
#      podman run --rm --runtime runc IMAGE /bin/true        (its default network)
#      docker run --rm IMAGE /bin/true                       (its bridge, a dockerd of its own)
# 2. TCP throughput (iperf3, BENCH_IPERF_SECONDS each, BENCH_IPERF_ROUNDS rounds,
#    interleaved) to a server in a Berth container's network namespace:
#      through a published port from 127.0.0.1 (DNAT, masquerade), and
#      to the container's address directly (the floor).
# 3. BENCH_NET_COUNTS containers (default "10 100 1000") on one user network (a /20):
#    the mean time of the last ten `berthctl run -d` before each count, and
#    the mean time of a name lookup at the embedded resolver at that count.
# Targets (issue 12): the bridge adds at most 3 ms to a start; published-port
# throughput within 10% of direct; start and lookup time flat from 10 to 1,000.
#
# Usage: sudo bench/network.sh
# Environment: BENCH_RUNS (default 15), BENCH_NET_COUNTS, BENCH_IPERF_SECONDS
# (default 5), BENCH_IPERF_ROUNDS (default 5), BUILD_DIR, BENCH_DISK.
BENCH_RUNS=${BENCH_RUNS:-15}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

BENCH_DEPS+=(iperf3 iptables)
COUNTS=${BENCH_NET_COUNTS:-10 100 1000}
IPERF_SECONDS=${BENCH_IPERF_SECONDS:-5}
IPERF_ROUNDS=${BENCH_IPERF_ROUNDS:-5}
NONE="berthctl run --rm --network none"
P="podman --root /run/bench-disk/podman/root --runroot /run/bench-disk/podman/run"
P+=" --tmpdir /run/bench-disk/podman/tmp --network-config-dir /run/bench-disk/podman/net"
P+=" --storage-driver overlay --events-backend none"

# A dockerd with its default bridge and its iptables rules (in the
# sandbox's network namespace only), beside the benchmarks' plain one.
docker_net_unit() {
        sed -e 's/--bridge none --iptables=false --ip6tables=false //' \
            -e 's/Description=dockerd/Description=dockerd with its bridge,/' \
            "$1/systemd/system/bench-dockerd.service" >"$1/systemd/system/bench-dockerd-net.service"
}
sandbox_configure() { docker_net_unit "$1"; }

docker_net_start() {
        local i
        bench_docker_fetch || { echo "n/a (could not fetch Debian's docker.io)"; return 1; }
        if ! sbx systemctl start bench-dockerd-net.service >/dev/null 2>&1; then
                echo "n/a (dockerd did not start: $(sbx journalctl -u bench-dockerd-net -n 1 -o cat --no-pager | cut -c1-80))"
                return 1
        fi
        for i in $(seq 100); do sbx "${BENCH_DOCKER[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
        sbx "${BENCH_DOCKER[@]}" load -i /run/bench-disk/archive.tar >/dev/null 2>&1 || { echo "n/a (docker load failed)"; return 1; }
}

start_latency() {
        bench_hyperfine "berthctl run --rm --network none" "$NONE $BENCH_IMAGE /bin/true"
        bench_hyperfine "berthctl run --rm (bridge)" "berthctl run --rm $BENCH_IMAGE /bin/true"
        if bench_podman podman load -q -i /run/bench-disk/archive.tar >/dev/null 2>&1; then
                bench_hyperfine "podman run --rm (runc, its network)" "$P run --rm --runtime runc $BENCH_IMAGE /bin/true"
        else
                bench_na "podman run --rm (runc, its network)" "n/a (podman load failed)"
        fi
        if why=$(docker_net_start); then
                bench_hyperfine "docker run --rm (its bridge)" "${BENCH_DOCKER[*]} run --rm $BENCH_IMAGE /bin/true"
                sbx systemctl stop bench-dockerd-net.service
        else
                bench_na "docker run --rm (its bridge)" "$why"
        fi
        echo "start: /bin/true in a fresh container, $BENCH_RUNS runs each"
        bench_table "berthctl run --rm --network none" "ratio to --network none"
        awk -v a="$(bench_median "berthctl run --rm (bridge)")" -v b="$(bench_median "berthctl run --rm --network none")" \
                'BEGIN { if (a == "" || b == "") { print "target: the bridge adds at most 3 ms to a start  n/a"; exit }
                         d = (a - b) / 1000
                         printf "target: the bridge adds at most 3 ms to a start  %s (%+.1f ms)\n", d <= 3 ? "MET" : "NOT MET", d }'
}

# iperf3_gbits ADDR PORT: one client run from the sandbox's host side.
iperf3_gbits() {
        sbx iperf3 -c "$1" -p "$2" -t "$IPERF_SECONDS" -J 2>/dev/null |
                python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

throughput() {
        local pid ip i pub="" direct="" g
        if ! sbx_ctl run -d --name bench-iperf -p 5201:5201 "$BENCH_IMAGE" sleep infinity >/dev/null; then
                echo "throughput: n/a (the container did not start)"; return
        fi
        read -r pid ip < <(sbx_ctl inspect bench-iperf | python3 -c 'import json, sys
c = json.load(sys.stdin)[0]
print(c["Pid"], c["NetworkSettings"]["IPAddress"])')
        # The server runs in the container's network namespace: the image has no iperf3.
        sbx nsenter -n -t "$pid" iperf3 -s -D -p 5201 || { echo "throughput: n/a (iperf3 -s failed)"; return; }
        sleep 0.5
        for ((i = 0; i < IPERF_ROUNDS; i++)); do
                g=$(iperf3_gbits 127.0.0.1 5201) && pub+=" $g"
                g=$(iperf3_gbits "$ip" 5201) && direct+=" $g"
        done
        sbx_ctl rm -f bench-iperf >/dev/null
        sbx pkill -x iperf3
        printf '\nthroughput: iperf3 TCP, %s s x %s rounds, Gbit/s (median)\n' "$IPERF_SECONDS" "$IPERF_ROUNDS"
        python3 - "$pub" "$direct" <<'EOF'
import statistics, sys
pub, direct = ([float(x) for x in a.split()] for a in sys.argv[1:3])
if not pub or not direct:
    print("n/a (an iperf3 run failed)"); sys.exit()
p, d = statistics.median(pub), statistics.median(direct)
print("%-45s | %8.2f | runs %s" % ("published port, from 127.0.0.1", p, " ".join(map(str, pub))))
print("%-45s | %8.2f | runs %s" % ("the container's address directly (floor)", d, " ".join(map(str, direct))))
print("target: published port within 10%% of direct         %s (%.1f%%)" % ("MET" if p >= 0.9 * d else "NOT MET", 100 * p / d))
EOF
}

# dns_us PID NAME: the mean microseconds of 200 lookups of NAME at
# 127.0.0.11, asked from PID's network namespace.
dns_us() {
        sbx nsenter -n -t "$1" python3 - "$2" <<'EOF'
import socket, struct, sys, time
name = sys.argv[1]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("127.0.0.11", 53))
n, t0 = 200, time.perf_counter()
for _ in range(n):
    s.send(q)
    r = s.recv(512)
    if struct.unpack(">H", r[6:8])[0] < 1:
        sys.exit("no answer for " + name)
print(int((time.perf_counter() - t0) / n * 1e6))
EOF
}

many() {
        local max=0 c i t0 t1 starts=() probe line rows=""
        for c in $COUNTS; do [ "$c" -gt "$max" ] && max=$c; done
        sbx_ctl network create --subnet 10.95.0.0/20 benchnet >/dev/null || { echo "many: n/a (network create failed)"; return; }
        for ((i = 1; i <= max; i++)); do
                t0=$(now_ns)
                if ! sbx_ctl run -d --network benchnet --name "n$i" "$BENCH_IMAGE" sleep infinity >/dev/null; then
                        rows+="failed at container $i"$'\n'; break
                fi
                t1=$(now_ns)
                starts[i]=$(((t1 - t0) / 1000))
                for c in $COUNTS; do
                        [ "$i" = "$c" ] || continue
                        [ -n "${probe:-}" ] || probe=$(sbx_ctl inspect n1 |
                                python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Pid"])')
                        line=$(printf '%s\n' "${starts[@]:$((i > 10 ? i - 10 : 1)):10}" |
                                awk '{ s += $1; n++ } END { printf "%.1f", s / n / 1000 }')
                        rows+="$c|$line|$(dns_us "$probe" "n$i" || echo failed)"$'\n'
                done
        done
        printf '\nmany: containers on one user network (berthctl run -d ... sleep infinity)\n'
        printf '%10s | %28s | %s\n' containers "start, mean of the last ten" "name lookup at 127.0.0.11, mean of 200"
        printf '%s' "$rows" | awk -F'|' '{ printf "%10s | %25s ms | %s us\n", $1, $2, $3 }'
        sbx sh -c 'berthctl ps -aq | xargs -r berthctl rm -f' >/dev/null 2>&1
        sbx_ctl network rm benchnet >/dev/null 2>&1
}

bench_begin "$@"
bench_build || die "Berth: $BERTH_BUILD_ERROR"
bench_sandbox_start || die "the sandbox did not start"
bench_stage_archive "" || die "no archive"
printf 'network: %s\n' "$(date -u +%FT%TZ)"
printf 'host: %s, %s CPUs, kernel %s; image %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        "$(nproc)" "$(uname -r)" "$BENCH_IMAGE"
printf 'disk: %s\n' "$BENCH_DISK_DESC"
bench_load; echo
sbx_ctl load -i /run/bench-disk/archive.tar >/dev/null || die "berthctl load failed"

start_latency
throughput
many
bench_load
