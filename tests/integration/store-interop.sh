#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Interop of the image store with podman and skopeo: archives written by them
# load with the same image id and digests, and archives Berth saves load into
# podman with the same id. Skips (77) without podman, skopeo or root.
# Usage: store-interop.sh PATH/TO/store-tool
set -eu -o pipefail

tool=$1
command -v podman >/dev/null && command -v skopeo >/dev/null || { echo "podman/skopeo missing: skip"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root: skip"; exit 77; }

T=$(mktemp -d /var/tmp/berth-interop-XXXXXX)
trap 'rm -rf "$T"' EXIT
P=(podman --root "$T/podman" --runroot "$T/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend none)

mkdir -p "$T/rootfs/bin" "$T/rootfs/etc"
echo hello > "$T/rootfs/bin/hello"
echo base > "$T/rootfs/etc/base"
tar -C "$T/rootfs" -czf "$T/rootfs.tar.gz" .
"${P[@]}" import --change 'CMD ["/bin/hello"]' --change 'ENV A=1' "$T/rootfs.tar.gz" localhost/interop:1 >/dev/null
pid=$("${P[@]}" image inspect --format '{{.Id}}' localhost/interop:1)
[ -n "$pid" ] || { echo "FAIL: podman gave no image id"; exit 1; }
echo "podman image id: $pid"

check_id() {  # root name expected-id
        local got
        got=$("$tool" "$1" inspect "$2" | awk '$1 == "id" { print $2 }')
        [ "$got" = "sha256:$3" ] || [ "$got" = "$3" ] || { echo "FAIL: $2 has id $got, expected $3"; exit 1; }
}

for fmt in docker-archive oci-archive; do
        "${P[@]}" save --format "$fmt" -o "$T/podman-$fmt.tar" localhost/interop:1 >/dev/null 2>&1
        # Through a pipe: the loader sees a non-seekable stream.
        cat "$T/podman-$fmt.tar" | "$tool" "$T/store-$fmt" load
        check_id "$T/store-$fmt" localhost/interop:1 "$pid"
        echo "ok: podman save --format $fmt -> berth load keeps id"

        "$tool" "$T/store-$fmt" save "$fmt" localhost/interop:1 > "$T/berth-$fmt.tar"
        "${P[@]}" rmi -f localhost/interop:1 >/dev/null
        "${P[@]}" load -i "$T/berth-$fmt.tar" >/dev/null 2>&1
        got=$("${P[@]}" image inspect --format '{{.Id}}' localhost/interop:1)
        [ "$got" = "$pid" ] || { echo "FAIL: podman loaded berth's $fmt as $got, expected $pid"; exit 1; }
        echo "ok: berth save $fmt -> podman load keeps id"
done

# skopeo: an OCI layout directory and an oci-archive with a full reference name.
skopeo copy --quiet "oci-archive:$T/podman-oci-archive.tar" "oci:$T/layout:example.com/interop:2"
"$tool" "$T/store-layout" load-dir "$T/layout"
check_id "$T/store-layout" example.com/interop:2 "$pid"
echo "ok: skopeo OCI layout dir -> berth load-dir keeps id"

# skopeo inspects what berth saved: the manifest and layer digests match podman's.
skopeo inspect --raw "oci-archive:$T/berth-oci-archive.tar" > "$T/manifest.json"
layer=$("$tool" "$T/store-oci-archive" inspect localhost/interop:1 | awk '$1 == "layer" { print $2 }')
# (An empty digest would match any manifest.)
[ -n "$layer" ] || { echo "FAIL: store-tool inspect names no layer"; exit 1; }
grep -qF "$layer" "$T/manifest.json" || { echo "FAIL: skopeo sees a different layer digest"; exit 1; }
echo "ok: skopeo reads berth's oci-archive"
echo PASS
