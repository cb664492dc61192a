# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck disable=SC2034 # variables are for the scripts that source this
# Shared helpers of the benchmarks: a cached Debian bookworm minbase image as
# a docker-archive, a throw-away systemd sandbox with this build installed
# (tests/integration/lib.sh), timing and the result table.
#
# Host-side effects: the cache /var/tmp/berth-bench-cache (kept between runs,
# delete it at will) and one temporary folder /var/tmp/berth-bench.XXXXXX plus
# the sandbox's cgroups, all removed on exit, whether the run failed or not.

set -u

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$BENCH_DIR/.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
BENCH_CACHE=${BENCH_CACHE:-/var/tmp/berth-bench-cache}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_IMAGE=bench/minbase:latest
BENCH_TMP=
BENCH_CLEANUPS=()
BENCH_RESULTS=
BERTH_BUILT=0
BERTH_BUILD_ERROR=
SBX_PID=
SBX_TMP=
SBX_CGROUPS=()

# The harness provides the sandbox pieces (sandbox_launch, sbx, ...).
# shellcheck source=../tests/integration/lib.sh
. "$SOURCE_DIR/tests/integration/lib.sh"

note() { printf '# %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

# bench_on_exit CMD: run CMD (a string for eval) on exit, last registered first.
bench_on_exit() { BENCH_CLEANUPS+=("$1"); }

bench_cleanup() {
        local rc=$? i m
        trap - EXIT INT TERM
        for ((i = ${#BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do
                eval "${BENCH_CLEANUPS[$i]}" >/dev/null 2>&1 || true
        done
        bench_sandbox_stop
        if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
                # Whatever a peer left mounted below our folder in the host's namespace.
                while read -r m; do
                        umount -l "$m" 2>/dev/null
                done < <(findmnt -rn -o TARGET | grep -F "$BENCH_TMP/" | sort -r)
                rm -rf --one-file-system "$BENCH_TMP"
        fi
        exit "$rc"
}

bench_setup() {
        [ "$(id -u)" = 0 ] || { note "benchmarks need root"; exit 77; }
        mkdir -p "$BENCH_CACHE"
        BENCH_TMP=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
        BENCH_RESULTS=$BENCH_TMP/results
        : >"$BENCH_RESULTS"
        trap bench_cleanup EXIT
        trap 'exit 130' INT TERM
        mkdir -p "$BENCH_TMP/disk"
}

# Runs the calling script again in a mount namespace of its own, so that
# bench_own_disk's mount is never seen by (nor left behind on) the host.
bench_private_mounts() {
        [ -n "${BENCH_UNSHARED:-}" ] && return 0
        BENCH_UNSHARED=1 exec unshare --mount --propagation private "$0" "$@"
}

# What every benchmark does first: its own mount namespace, its temporary
# folder, and there the disk the stores and floors write to.
# What the benchmarks run, from Debian; installed when missing (docker.io
# is fetched into the sandbox only, see bench_docker_fetch).
BENCH_DEPS=(hyperfine debootstrap runc podman skopeo systemd-container util-linux procps python3 e2fsprogs)

bench_install_deps() {
        local p missing=()
        for p in "${BENCH_DEPS[@]}"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        [ ${#missing[@]} = 0 ] && return 0
        note "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

bench_begin() {
        bench_install_deps || die "cannot install ${BENCH_DEPS[*]}"
        bench_private_mounts "$@"
        bench_setup
        bench_own_disk
}

# BENCH_DISK=own (the default): $BENCH_TMP/disk is
# a fresh ext4 with Debian's mkfs defaults (so with a journal), in a sparse
# file beside it, mounted in this script's own mount namespace. The host's
# root file system may be unusual (this VM's has no journal and discards on
# delete: there every file created soon after the previous run's wipe costs
# a scan of the recently deleted inodes, for every engine and the floor
# alike). BENCH_DISK=host keeps the folder on the host's file system.
bench_own_disk() {
        [ "${BENCH_DISK:-own}" = host ] && { BENCH_DISK_DESC="the host's $(findmnt -no FSTYPE -T "$BENCH_TMP")"; return 0; }
        [ -n "${BENCH_UNSHARED:-}" ] || die "bench_own_disk needs bench_private_mounts first"
        truncate -s "${BENCH_DISK_SIZE:-6G}" "$BENCH_TMP/disk.img" &&
                mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$BENCH_TMP/disk.img" &&
                mount -o loop "$BENCH_TMP/disk.img" "$BENCH_TMP/disk" || die "cannot make the benchmark's file system"
        BENCH_DISK_DESC="a fresh ext4 (journal, mkfs defaults) in a file on the host's disk"
}

# ---------------------------------------------------------------------------
# The image: Debian bookworm minbase in four layers, as a docker-archive.

# Prints the cached root file system, building it with debootstrap first.
bench_rootfs() {
        local dir=$BENCH_CACHE/rootfs tmp
        if [ ! -e "$dir/.complete" ]; then
                note "building the bookworm minbase root file system (debootstrap, once)"
                tmp=$BENCH_CACHE/rootfs.tmp
                rm -rf --one-file-system "$tmp" "$dir"
                debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian \
                        >"$BENCH_CACHE/debootstrap.log" 2>&1 ||
                        { tail -5 "$BENCH_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
                # As the official images do: no package caches, no device nodes.
                rm -rf "${tmp:?}"/var/cache/apt/archives/*.deb "${tmp:?}"/var/lib/apt/lists/* "${tmp:?}"/dev/*
                touch "$tmp/.complete"
                mv "$tmp" "$dir"
        fi
        echo "$dir"
}

# Prints the four cached layer tarballs, base first: everything else, /usr/lib,
# /usr/share, then the executables (/usr/bin, /usr/sbin).
bench_layers() {
        local root d=$BENCH_CACHE/layers
        root=$(bench_rootfs) || return 1
        if [ ! -e "$d/.complete" ]; then
                rm -rf "$d" "$d.tmp"; mkdir -p "$d.tmp"
                (
                        cd "$root" || exit 1
                        tar_layer() { tar -C "$root" --numeric-owner --sort=name --anchored "$@"; }
                        top=()
                        for f in * .[!.]*; do
                                [ -e "$f" ] || [ -L "$f" ] || continue
                                [ "$f" = .complete ] || top+=("$f")
                        done
                        tar_layer --exclude=usr/lib --exclude=usr/share --exclude=usr/bin --exclude=usr/sbin \
                                -cf "$d.tmp/1-base.tar" "${top[@]}" &&
                        tar_layer -cf "$d.tmp/2-usr-lib.tar" usr/lib &&
                        tar_layer -cf "$d.tmp/3-usr-share.tar" usr/share &&
                        tar_layer -cf "$d.tmp/4-usr-bin.tar" usr/bin usr/sbin
                ) || die "could not write the layers"
                touch "$d.tmp/.complete"
                mv "$d.tmp" "$d"
        fi
        printf '%s\n' "$d"/[1-4]-*.tar
}

# bench_archive [gzip]: prints the cached docker-archive of bench/minbase:latest.
bench_archive() {
        local comp=${1:-} out layers lock
        out=$BENCH_CACHE/minbase${comp:+-$comp}.docker-archive.tar
        # Two benchmarks started at once build the cache once.
        exec {lock}>"$BENCH_CACHE/.lock" && flock "$lock"
        if [ ! -e "$out" ]; then
                mapfile -t layers < <(bench_layers) || return 1
                [ "${#layers[@]}" = 4 ] || die "expected 4 layers"
                python3 "$BENCH_DIR/mkarchive.py" "$out" "$BENCH_IMAGE" ${comp:+--gzip} "${layers[@]}" \
                        >"$out.id" || die "could not write the docker-archive"
        fi
        exec {lock}>&-
        echo "$out"
}

# bench_stage_archive [gzip]: puts the archive at /run/bench-disk/archive.tar
# in the sandbox (a hard link where the disk is the host's, else a copy).
bench_stage_archive() {
        local a
        a=$(bench_archive "${1:-}") || return 1
        rm -f "$BENCH_TMP/disk/archive.tar"
        ln "$a" "$BENCH_TMP/disk/archive.tar" 2>/dev/null || cp "$a" "$BENCH_TMP/disk/archive.tar"
}

# ---------------------------------------------------------------------------
# The build and the sandbox.

# Builds Berth in BUILD_DIR; on failure BERTH_BUILD_ERROR says why.
bench_build() {
        local log=$BENCH_TMP/build.log
        if [ ! -f "$BUILD_DIR/build.ninja" ] && ! meson setup "$BUILD_DIR" "$SOURCE_DIR" >"$log" 2>&1; then
                BERTH_BUILD_ERROR="meson setup failed"; return 1
        fi
        if ! ninja -C "$BUILD_DIR" >"$log" 2>&1; then
                if grep -q 'undefined reference' "$log"; then
                        BERTH_BUILD_ERROR="build does not link yet: $(grep -o "undefined reference to \`[a-z_]*'" "$log" | head -1)"
                else
                        BERTH_BUILD_ERROR="build failed"
                fi
                return 1
        fi
        BERTH_BUILT=1
}

# The sandbox gets a folder on the host's disk, $BENCH_TMP/disk, at
# /run/bench-disk, and /var/lib/berth from it: the stores of every engine then
# live on the same file system as the floor's (not on tmpfs, nor on overlayfs).
bench_patch_init() {
        python3 - "$SBX_TMP/init.sh" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('mount -t tmpfs -o mode=755 tmpfs /run\n',
              'mount -t tmpfs -o mode=755 tmpfs /run\n'
              'mkdir -p /run/bench-disk\nmount --bind "$T/../disk" /run/bench-disk\n', 1)
s = s.replace('mount -t tmpfs -o mode=711 tmpfs /var/lib/berth\n',
              'mount --bind /run/bench-disk/berth /var/lib/berth\n', 1)
assert s.count('bench-disk') == 3, "the harness's init.sh changed"
open(p, 'w').write(s)
EOF
}

# The sandbox boots whatever the host enables; services and timers that would
# only add noise to the figures are masked there.
bench_quiet_units() {
        local u d=$1/systemd/system
        mkdir -p "$d"
        for u in postgresql.service postgresql@.service podman.service podman.socket \
                 podman-restart.service podman-auto-update.service podman-auto-update.timer \
                 apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
                 e2scrub_reap.service fstrim.timer man-db.timer systemd-timesyncd.service \
                 getty@tty1.service; do
                ln -sf /dev/null "$d/$u"
        done
}

bench_sandbox_start() {
        SBX_ID="$$-$RANDOM"
        SBX_TMP=$BENCH_TMP/sbx
        mkdir -p "$SBX_TMP" "$BENCH_TMP/disk/berth"
        chmod 711 "$BENCH_TMP/disk/berth"
        if [ "$BERTH_BUILT" = 1 ]; then
                sandbox_install_build || return 1
        else
                mkdir -p "$SBX_TMP"/{dest/usr,dest/etc,etc-extra,etc-up,etc-work,var-up,var-work}
        fi
        bench_quiet_units "$SBX_TMP/etc-extra"
        bench_docker_unit "$SBX_TMP/etc-extra"
        if declare -F sandbox_configure >/dev/null; then sandbox_configure "$SBX_TMP/etc-extra"; fi
        sandbox_write_init
        bench_patch_init || return 1
        sandbox_launch
        sandbox_find_pid1 || return 1
        sandbox_wait_running
}

bench_sandbox_stop() {
        local i
        if [ -n "$SBX_PID" ] && kill -0 "$SBX_PID" 2>/dev/null; then
                kill -s SIGRTMIN+4 "$SBX_PID" 2>/dev/null
                for i in $(seq 200); do kill -0 "$SBX_PID" 2>/dev/null || break; sleep 0.05; done
                kill -9 "$SBX_PID" 2>/dev/null
        fi
        SBX_PID=
        wait 2>/dev/null
        # Killed processes leave their cgroups a moment later: a few tries.
        for i in 1 2 3 4 5; do
                [ "${#SBX_CGROUPS[@]}" -gt 0 ] || break
                [ -d "${SBX_CGROUPS[0]}" ] || break
                find "${SBX_CGROUPS[@]}" -depth -type d -exec rmdir {} + 2>/dev/null
                sleep 0.2
        done
        [ "${#SBX_CGROUPS[@]}" -gt 0 ] && sandbox_remove_cgroups
        SBX_CGROUPS=()
}

BENCH_DOCKER_ROOT=$BENCH_CACHE/docker-root
BENCH_DOCKER=("$BENCH_DOCKER_ROOT/usr/bin/docker" -H unix:///run/bench-docker.sock)
# Debian's docker.io and containerd, unpacked into the cache (never installed
# on the host: their scripts would start dockerd there).
bench_docker_fetch() {
        local d
        [ -x "$BENCH_DOCKER_ROOT/usr/sbin/dockerd" ] && return 0
        d=$(mktemp -d "$BENCH_TMP/debs.XXXXXX")
        (cd "$d" && apt-get download docker.io containerd >/dev/null 2>&1) || return 1
        mkdir -p "$BENCH_DOCKER_ROOT.tmp"
        for f in "$d"/*.deb; do dpkg-deb -x "$f" "$BENCH_DOCKER_ROOT.tmp" || return 1; done
        mv "$BENCH_DOCKER_ROOT.tmp" "$BENCH_DOCKER_ROOT"
}

# The sandbox's dockerd, with its state on the bench disk and no networking
# set-up (no bridge, no iptables): containers run with --network none.
bench_docker_unit() {
        cat >"$1/systemd/system/bench-dockerd.service" <<EOF
[Unit]
Description=dockerd for the Berth benchmarks
[Service]
Environment=PATH=$BENCH_DOCKER_ROOT/usr/bin:$BENCH_DOCKER_ROOT/usr/sbin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=$BENCH_DOCKER_ROOT/usr/sbin/dockerd -H unix:///run/bench-docker.sock \\
        --data-root /run/bench-disk/docker --exec-root /run/bench-docker \\
        --pidfile /run/bench-docker.pid --bridge none --iptables=false --ip6tables=false \\
        --storage-driver overlay2
Type=notify
TimeoutStartSec=60
EOF
}

# bench_docker_start: starts the sandbox's dockerd and loads the archive into
# it; prints why not otherwise.
bench_docker_start() {
        local i
        bench_docker_fetch || { echo "n/a (could not fetch Debian's docker.io)"; return 1; }
        if ! sbx systemctl start bench-dockerd.service >/dev/null 2>&1; then
                echo "n/a (dockerd did not start: $(sbx journalctl -u bench-dockerd -n 1 -o cat --no-pager | cut -c1-80))"
                return 1
        fi
        for i in $(seq 100); do sbx "${BENCH_DOCKER[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
        if ! sbx "${BENCH_DOCKER[@]}" load -i /run/bench-disk/archive.tar >/dev/null 2>&1; then
                echo "n/a (docker load failed)"; return 1
        fi
}

# bench_podman NAME ARGS...: podman inside the sandbox (so that nothing it
# writes to /var/lib/containers or /run reaches the host), with its storage in
# $BENCH_TMP/disk/NAME.
bench_podman() {
        local d=/run/bench-disk/$1; shift
        mkdir -p "$BENCH_TMP/disk/${d##*/}"
        sbx podman --root "$d/root" --runroot "$d/run" --tmpdir "$d/tmp" \
                --network-config-dir "$d/net" --storage-driver overlay \
                --events-backend none "$@"
}

# ---------------------------------------------------------------------------
# Timing and the table.

# The machine is shared (other sandboxes, builds): say how busy it was.
bench_load() { printf 'load average (1, 5, 15 min): %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"; }

now_ns() { local t=${EPOCHREALTIME/./}; echo "$t"000; }

# bench_measure NAME SETUP CMD...: runs SETUP (a string for eval, untimed),
# then CMD, BENCH_RUNS times after one warm-up; records the times. A failing
# run makes the row "failed" with the command's last line of output.
bench_measure() {
        local name=$1 setup=$2 i t0 t1 times="" out rc; shift 2
        for ((i = 0; i <= BENCH_RUNS; i++)); do
                eval "$setup" >/dev/null 2>&1
                sync
                t0=$(now_ns)
                out=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
                if [ "$rc" != 0 ]; then
                        bench_na "$name" "failed (exit $rc): $(tail -1 <<<"$out" | cut -c1-80)"
                        return 1
                fi
                t1=$(now_ns)
                [ "$i" -gt 0 ] && times+=" $(((t1 - t0) / 1000))"
        done
        # shellcheck disable=SC2086 # one argument per time
        bench_record "$name" $times
}

# bench_rounds NAME:SETUP_FN:RUN_FN...: like bench_measure for several rows,
# but interleaved: each round runs every row once, so that whatever else the
# machine does at a moment weighs on all rows alike. The first round is the
# warm-up. A row that fails once is dropped, with its reason.
bench_rounds() {
        local -A times=() failed=()
        local spec name setup run i t0 t1 out rc
        for ((i = 0; i <= BENCH_RUNS; i++)); do
                for spec in "$@"; do
                        IFS=: read -r name setup run <<<"$spec"
                        [ -n "${failed[$name]:-}" ] && continue
                        "$setup" >/dev/null 2>&1
                        sync
                        t0=$(now_ns)
                        out=$("$run" 2>&1 >/dev/null) && rc=0 || rc=$?
                        if [ "$rc" != 0 ]; then
                                failed[$name]="failed (exit $rc): $(tail -1 <<<"$out" | cut -c1-80)"
                                continue
                        fi
                        t1=$(now_ns)
                        [ "$i" -gt 0 ] && times[$name]+=" $(((t1 - t0) / 1000))"
                done
        done
        for spec in "$@"; do
                name=${spec%%:*}
                if [ -n "${failed[$name]:-}" ]; then
                        bench_na "$name" "${failed[$name]}"
                else
                        # shellcheck disable=SC2086 # one argument per time
                        bench_record "$name" ${times[$name]}
                fi
        done
}

# bench_hyperfine NAME COMMAND: times COMMAND inside the sandbox with
# hyperfine (no shell, one warm-up run, BENCH_RUNS runs). One run beforehand
# gives the reason if it fails.
bench_hyperfine() {
        local name=$1 cmd=$2 out times
        if ! out=$(sbx bash -c "$cmd" 2>&1 >/dev/null); then
                bench_na "$name" "failed: $(tail -1 <<<"$out" | cut -c1-100)"
                return 1
        fi
        if ! out=$(sbx hyperfine -N --style none --warmup 1 --runs "$BENCH_RUNS" \
                        --export-json /run/bench-disk/hyperfine.json "$cmd" 2>&1); then
                bench_na "$name" "failed: $(tail -1 <<<"$out" | cut -c1-100)"
                return 1
        fi
        times=$(python3 -c 'import json, sys
print(" ".join(str(int(t * 1e6)) for t in json.load(open(sys.argv[1]))["results"][0]["times"]))' \
                "$BENCH_TMP/disk/hyperfine.json") || return 1
        # shellcheck disable=SC2086 # one argument per time
        bench_record "$name" $times
}

# bench_record NAME MICROSECONDS...: records times (kept sorted).
bench_record() {
        local name=$1; shift
        printf '%s\tok\t%s\n' "$name" "$(printf '%s\n' "$@" | sort -n | paste -sd ' ')" >>"$BENCH_RESULTS"
}

# bench_na NAME REASON: a row without figures.
bench_na() { printf '%s\tn/a\t%s\n' "$1" "$2" >>"$BENCH_RESULTS"; }

# bench_median NAME: prints the row's median in microseconds (empty if n/a).
bench_median() {
        awk -F'\t' -v n="$1" '$1 == n && $2 == "ok" {
                c = split($3, t, " ")
                print (c % 2) ? t[(c + 1) / 2] : int((t[c / 2] + t[c / 2 + 1]) / 2) }' "$BENCH_RESULTS"
}

# bench_min NAME: prints the row's minimum in microseconds (empty if n/a).
bench_min() { awk -F'\t' -v n="$1" '$1 == n && $2 == "ok" { split($3, t, " "); print t[1] }' "$BENCH_RESULTS"; }

# bench_table FLOOR_NAME [LABEL]: name | median | min | max | ratio to floor,
# the ratio of the medians and, in brackets, of the minimums (the best
# case, less disturbed by whatever else the machine runs).
bench_table() {
        awk -F'\t' -v floor="$(bench_median "$1")" -v floormin="$(bench_min "$1")" \
                -v label="${2:-ratio to floor} (of medians; of minimums)" '
        function fmt(us) { return us >= 1000000 ? sprintf("%.3f s", us / 1e6) : sprintf("%.1f ms", us / 1e3) }
        { if (length($1) > w) w = length($1); row[NR] = $0 }
        END {
                if (w < 4) w = 4
                printf "%-" w "s | %10s | %10s | %10s | %s\n", "name", "median", "min", "max", label
                line = ""; for (i = 0; i < w; i++) line = line "-"
                printf "%s-|-%10s-|-%10s-|-%10s-|-%s\n", line, "----------", "----------", "----------", "--------------"
                for (r = 1; r <= NR; r++) {
                        split(row[r], f, "\t")
                        if (f[2] != "ok") { printf "%-" w "s | %s\n", f[1], f[3]; continue }
                        c = split(f[3], t, " ")
                        med = (c % 2) ? t[(c + 1) / 2] : (t[c / 2] + t[c / 2 + 1]) / 2
                        ratio = floor > 0 ? sprintf("%.2fx (%.2fx)", med / floor, t[1] / floormin) : "-"
                        printf "%-" w "s | %10s | %10s | %10s | %s\n", f[1], fmt(med), fmt(t[1]), fmt(t[c]), ratio
                }
        }' "$BENCH_RESULTS"
}

# bench_target DESCRIPTION NUMERATOR_ROW DENOMINATOR_ROW MAX_RATIO: prints
# whether median(NUM)/median(DEN) <= MAX_RATIO.
bench_target() {
        local desc=$1 a b
        a=$(bench_median "$2"); b=$(bench_median "$3")
        if [ -z "$a" ] || [ -z "$b" ]; then
                printf 'target: %-50s n/a (no figures)\n' "$desc"; return
        fi
        awk -v a="$a" -v b="$b" -v m="$4" -v d="$desc" 'BEGIN {
                printf "target: %-50s %s (%.2fx, limit %.2fx)\n", d, (a / b <= m) ? "MET" : "NOT MET", a / b, m }'
}
