#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Loading one docker-archive (Debian bookworm minbase, 4 layers, ~120 MB):
#   berthctl load    berthd from this build, in the systemd sandbox
#   podman load      podman in the same sandbox, overlay driver, temporary root
#   floor            sha256sum of each layer blob + tar -x of it into a fresh folder
#   floor + sync -f  the same, then syncfs: what a store that is crash-safe must pay
# with plain layers (and with gzip-compressed ones too with --gzip). Every store and
# the floor write to the same disk: a fresh ext4 of the benchmark's own (BENCH_DISK).
# The rows are interleaved, one run of each per round. Between runs each store is wiped (berthd: stopped, its root emptied, started
# again, all untimed). The page cache stays warm: the archive is read from
# memory, as after a download.
#
# Usage: sudo bench/image-load.sh [--gzip]   (--gzip: also the gzip variant)
# Environment: BENCH_RUNS (default 5), BUILD_DIR (default ./build), BENCH_DISK
# (own: a fresh ext4 of the benchmark's own, the default; host: the host's disk).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

VARIANTS=("")
[ "${1:-}" = --gzip ] && VARIANTS=("" gzip)

bench_begin "$@"
DISK=$BENCH_TMP/disk
RUN=0

berth_reset() {
        sbx systemctl stop berthd.service
        rm -rf --one-file-system "${DISK:?}"/berth/*
        sbx systemctl start berthd.service && sbx_ctl info
}
berth_load() { sbx_ctl load -i /run/bench-disk/archive.tar; }

podman_reset() {
        rm -rf --one-file-system "$DISK/podman-$RUN"
        RUN=$((RUN + 1))
}
podman_load() { bench_podman "podman-$RUN" load -q -i /run/bench-disk/archive.tar; }

floor_reset() {
        rm -rf "$DISK/floor"
        mkdir -p "$DISK/floor"
}
# The floor works on the layer blobs, extracted from the archive beforehand.
floor_load() {
        local b d
        for b in "$DISK"/blobs/*/layer.tar; do
                d=${b%/layer.tar}; d=$DISK/floor/${d##*/}
                sha256sum "$b" >/dev/null || return 1
                mkdir "$d" && tar -C "$d" --numeric-owner -xf "$b" || return 1
        done
}

# The same made durable, as a crash-safe store must be: then syncfs.
floor_load_sync() { floor_load && sync -f "$DISK/floor"; }

berth_available() {
        if [ "$BERTH_BUILT" != 1 ]; then
                echo "n/a ($BERTH_BUILD_ERROR)"; return 1
        fi
        if ! sbx_ctl load --help >/dev/null 2>&1; then
                echo "n/a (berthctl load not implemented)"; return 1
        fi
}

bench_build || note "Berth: $BERTH_BUILD_ERROR"
bench_sandbox_start || die "the sandbox did not start"

printf 'image-load: %s, %s runs each after one warm-up, warm page cache, %s\n' \
        "$BENCH_IMAGE" "$BENCH_RUNS" "$(date -u +%FT%TZ)"
printf 'host: %s, %s CPUs, kernel %s; podman %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        "$(nproc)" "$(uname -r)" "$(podman --version | awk '{print $3}')"
printf 'disk: %s\n' "$BENCH_DISK_DESC"
bench_load; echo

for v in "${VARIANTS[@]}"; do
        archive=$(bench_archive "$v") || die "no archive"
        rm -f "$DISK/archive.tar"
        ln "$archive" "$DISK/archive.tar" 2>/dev/null || cp "$archive" "$DISK/archive.tar"
        rm -rf "$DISK/blobs"; mkdir -p "$DISK/blobs"
        tar -C "$DISK/blobs" -xf "$archive" --wildcards '*/layer.tar'
        cat "$archive" >/dev/null

        # shellcheck disable=SC2031 # set by bench_setup in this shell
        BENCH_RESULTS=$BENCH_TMP/results-${v:-plain}
        : >"$BENCH_RESULTS"
        rows=("floor (sha256sum + tar -x):floor_reset:floor_load"
              "floor + sync -f (durable):floor_reset:floor_load_sync")
        why=$(berth_available) && rows+=("berthctl load:berth_reset:berth_load")
        rows+=("podman load:podman_reset:podman_load")
        bench_rounds "${rows[@]}"
        [ -n "$why" ] && bench_na "berthctl load" "$why"
        if [ -z "$why" ] && [ -n "$(bench_median "berthctl load")" ]; then
                want=$(cat "$archive.id")
                got=$(sbx_ctl images -q --no-trunc 2>/dev/null | head -1)
                [ "${got#sha256:}" = "${want#sha256:}" ] ||
                        note "berthctl images shows '$got', expected $want"
        fi

        printf '%s layers (%s MB archive):\n' "${v:-uncompressed}" "$(($(stat -c %s "$archive") / 1000000))"
        bench_table "floor (sha256sum + tar -x)"
        bench_target "Berth within 1.3x of the floor" "berthctl load" "floor (sha256sum + tar -x)" 1.3
        bench_target "Berth at least 1.5x faster than podman" "berthctl load" "podman load" 0.6667
        echo
done
bench_load
