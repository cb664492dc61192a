#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Root filesystem parity with podman: images built by real tools (umoci,
# podman import/build), converted by skopeo to docker-archive and
# oci-archive (gzip and zstd layers), are loaded into podman and into a Berth
# store; podman's mounted image and the overlay of Berth's layer directories
# must be the same tree (rootfs-compare.py lists what is compared).
# Everything runs in a private mount namespace, so no mount outlives the test.
# Does not skip: podman, skopeo and umoci come from tests/deps.sh.
# Usage: rootfs-parity.sh PATH/TO/store-tool
# (BERTH_PARITY_KEEP=1 keeps the temporary directory for a look afterwards.)
#
# Deliberate differences that the images below avoid:
#  - Berth refuses a layer entry whose parent path is a symlink (layer.h);
#    podman resolves it chroot-style. No real layer (a diff of a directory
#    tree) has one.
#  - A hardlink in a later layer to a file of a lower layer copies that file
#    up into the new layer, as overlayfs does: if the lower file had other
#    links in its own layer, those stay a separate inode in Berth's view
#    while podman's vfs copy keeps one inode (not exercised: the image
#    links to a lower file with a single link).
#
# Times: umoci and GNU tar write whole seconds (umoci's whiteouts carry
# mtime 0), skopeo and podman's save copy the layers unchanged, podman's vfs
# driver and Berth's unpacking keep every listed entry's mtime, symlinks'
# too. What neither can keep: a directory a layer writes into without
# listing it ("etc/hello" without "etc/") gets the load time in podman
# (rootfs-compare.py reports it as not comparable), and the lower layer's
# time in Berth; the root, when the top layer does not list "./", has the
# load time in both.
set -eu -o pipefail

die() { echo "FAIL: $*" >&2; exit 1; }

tool=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
for c in podman skopeo umoci python3 unshare setcap mknod; do
        command -v "$c" >/dev/null || die "$c is missing (tests/deps.sh installs it)"
done
[ "$(id -u)" = 0 ] || die "needs root (device nodes, ownership, trusted.* xattrs, mounts)"

# Re-run inside a private mount namespace: podman's image mounts and ours
# disappear with it, whatever happens.
if [ -z "${BERTH_PARITY_NS:-}" ]; then
        exec env BERTH_PARITY_NS=1 unshare --mount --propagation private "$0" "$@"
fi

T=$(mktemp -d /var/tmp/berth-parity-XXXXXX)
cleanup() {
        local m
        # Unmount what is mounted below $T (the namespace would drop it anyway,
        # but rm -rf must not walk into a mount), deepest first.
        for m in $(awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r); do
                umount -l "$m" || :
        done
        rm -rf "$T"
}
[ -n "${BERTH_PARITY_KEEP:-}" ] || trap cleanup EXIT

# ---- 1. An image built with umoci, one round per layer --------------------
L=$T/layout
umoci init --layout "$L"
umoci new --image "$L:t"
round=0
unpack() { round=$((round + 1)); B=$T/bundle$round; umoci unpack --image "$L:t" "$B" >/dev/null; R=$B/rootfs; }
repack() { umoci repack --image "$L:t" "$B" >/dev/null; }

# Layer 1: the base.
unpack
mkdir -p "$R"/etc "$R"/a/b/c "$R"/tobe "$R"/opq/sub "$R"/links "$R"/hl "$R"/lower "$R"/dev \
        "$R"/own "$R"/mode "$R"/times "$R"/x "$R"/bin
echo hello > "$R"/etc/hello
: > "$R"/etc/empty
head -c 100000 /dev/urandom > "$R"/etc/random
echo deep > "$R"/a/b/c/deep.txt
echo gone > "$R"/tobe/removed
echo stays > "$R"/tobe/stays
echo old1 > "$R"/opq/old1
echo old3 > "$R"/opq/sub/old3
ln -s /etc/hello "$R"/links/abs
ln -s ../etc/hello "$R"/links/rel
ln -s /nonexistent/target "$R"/links/dangling
echo shared > "$R"/hl/one
ln "$R"/hl/one "$R"/hl/two
ln "$R"/hl/one "$R"/etc/three
echo target > "$R"/lower/target
echo single > "$R"/lower/single
mkdir -p "$R"/opq2/sub
echo o > "$R"/opq2/old
echo o > "$R"/opq2/sub/old
mknod "$R"/dev/cdev c 1 3
mknod "$R"/dev/bdev b 7 0
mknod "$R"/dev/fifo p
echo u > "$R"/own/u1000; chown 1000:1000 "$R"/own/u1000
echo g > "$R"/own/g50; chown 0:50 "$R"/own/g50
mkdir "$R"/own/d1000; chown 1000:1000 "$R"/own/d1000
cp /bin/true "$R"/mode/suid; chmod 4755 "$R"/mode/suid
mkdir "$R"/mode/sgid; chmod 2755 "$R"/mode/sgid
mkdir "$R"/mode/sticky; chmod 1777 "$R"/mode/sticky
echo ro > "$R"/mode/ro; chmod 0400 "$R"/mode/ro
echo x > "$R"/x/file
echo a > "$R"/x/attr
mkdir "$R"/x/dir
for f in "$R"/x/file "$R"/x/attr "$R"/x/dir; do
        python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.parity", b"value\0bin")' "$f"
done
cp /bin/true "$R"/bin/pinglike
setcap cap_net_raw+ep "$R"/bin/pinglike
ln "$R"/bin/pinglike "$R"/bin/pinglike2
echo old > "$R"/times/old
touch -h -d '2001-02-03 04:05:06 UTC' "$R"/times/old "$R"/links/abs
touch -d '1999-12-31 23:59:59 UTC' "$R"/times
repack

# Layer 2: whiteouts, a replaced directory, a hardlink into layer 1, changes.
unpack
rm "$R"/tobe/removed
rm -rf "$R"/opq
mkdir "$R"/opq
echo new > "$R"/opq/new
ln "$R"/lower/target "$R"/lower/link2
echo changed > "$R"/etc/hello
chmod 0640 "$R"/own/g50
chown 1000:50 "$R"/etc/empty
rm "$R"/links/rel
ln -s ../../etc/empty "$R"/links/rel
mkdir -p "$R"/new/deeper/still
echo n > "$R"/new/deeper/still/file
# Layer 3 writes below new/ without listing it: Berth must take this time
# from layer 2 (a layer unpacked in parallel without its lower layers did not).
touch -d '2005-06-07 08:09:10 UTC' "$R"/new
repack

# Layer 3: a whole tree removed, a file replaced by a directory. (Not a
# directory replaced by a file: umoci 0.4.7 then writes "d" as a file
# followed by "d/.wh.child", a layer podman refuses to apply.)
unpack
rm -rf "$R"/a/b
rm "$R"/x/file
mkdir "$R"/x/file
echo inside > "$R"/x/file/inside
rm -rf "$R"/new/deeper/still
repack

# Layer 4, made by GNU tar and added verbatim: what umoci never writes. umoci
# whites out a replaced directory entry by entry and, when a later layer adds a
# link to a file, stores that file again (its link count changed); layers
# diffed from overlayfs upper directories (docker, buildah) have an opaque
# marker and hardlinks to files of lower layers instead.
S=$T/layer4
mkdir -p "$S"/opq2 "$S"/lower "$S"/tobe
: > "$S"/opq2/.wh..wh..opq
echo fresh > "$S"/opq2/fresh
: > "$S"/tobe/.wh.stays
echo anything > "$S"/lower/single
ln "$S"/lower/single "$S"/lower/link3
tar -C "$S" -cf "$T/layer4.tar" ./opq2 ./tobe ./lower/single ./lower/link3
# Drops the link's target from the archive: "lower/link3" stays a hardlink
# entry naming "lower/single", which only layer 1 has.
tar --delete -f "$T/layer4.tar" ./lower/single
tar -tvf "$T/layer4.tar" | grep -q '^h.* \./lower/link3 link to \./lower/single$' ||
        die "GNU tar did not keep lower/link3 as a hardlink: $(tar -tvf "$T/layer4.tar")"
umoci raw add-layer --image "$L:t" "$T/layer4.tar"

umoci gc --layout "$L"
echo "umoci image: $(ls "$L"/blobs/sha256 | wc -l) blobs"

# ---- 2. Archives ------------------------------------------------------------
A=$T/archives
mkdir -p "$A"
skopeo copy --quiet "oci:$L:t" "docker-archive:$A/umoci-docker.tar:localhost/parity:docker"
skopeo copy --quiet "oci:$L:t" "oci-archive:$A/umoci-oci.tar:localhost/parity:oci"
skopeo copy --quiet --dest-compress-format zstd --dest-compress \
        "oci:$L:t" "oci-archive:$A/umoci-oci-zstd.tar:localhost/parity:zstd"
manifest=$(skopeo inspect --raw "oci-archive:$A/umoci-oci-zstd.tar")
grep -q 'tar+zstd' <<<"$manifest" || die "skopeo did not write zstd layers: $manifest"
manifest=$(skopeo inspect --raw "oci-archive:$A/umoci-oci.tar")
grep -q 'tar+gzip' <<<"$manifest" || die "expected gzip layers: $manifest"

# A podman-made image: import of a directory tar, then a COPY layer from
# podman build (COPY runs no container).
P0=(podman --root "$T/podman-build" --runroot "$T/run-build" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend none)
mkdir -p "$T/ctx/rootfs/etc" "$T/ctx/add/sub"
echo base > "$T/ctx/rootfs/etc/base"
ln -s base "$T/ctx/rootfs/etc/base-link"
echo added > "$T/ctx/add/sub/file"
chmod 0750 "$T/ctx/add/sub"
tar -C "$T/ctx/rootfs" -cf "$T/ctx/rootfs.tar" .
"${P0[@]}" import --quiet "$T/ctx/rootfs.tar" localhost/pbase:1 >/dev/null
printf 'FROM localhost/pbase:1\nCOPY --chown=1000:1000 add /added\nCOPY add/sub/file /etc/base\n' > "$T/ctx/Containerfile"
"${P0[@]}" build --quiet --pull=never --isolation chroot -t localhost/pbuilt:1 -f "$T/ctx/Containerfile" "$T/ctx" >/dev/null
"${P0[@]}" save --quiet --format docker-archive -o "$A/podman-docker.tar" localhost/pbuilt:1
"${P0[@]}" save --quiet --format oci-archive -o "$A/podman-oci.tar" localhost/pbuilt:1
n=$(skopeo inspect --format '{{len .Layers}}' "docker-archive:$A/podman-docker.tar")
[ "$n" -ge 2 ] || die "podman build made $n layers, expected 2 or more"

# ---- 3. Load each into podman and Berth, compare the trees ------------------
compare() {  # archive name
        # Short names: podman limits the runroot path to 50 characters.
        n_cmp=$((n_cmp + 1))
        local archive=$1 name=$2 w=$T/c$n_cmp
        local P=(podman --root "$w/podman" --runroot "$w/run" --storage-driver vfs
                 --cgroup-manager cgroupfs --events-backend none)
        local pm start lower=() merged=$w/merged

        start=$(date +%s)
        "${P[@]}" load -q -i "$archive" >/dev/null
        pm=$("${P[@]}" image mount "$name")
        "$tool" "$w/store" load < "$archive" >/dev/null
        mapfile -t lower < <("$tool" "$w/store" layers "$name")
        [ ${#lower[@]} -ge 1 ] || die "$name: Berth lists no layers"
        mkdir -p "$merged" "$w/empty"
        # overlayfs wants two lower layers when there is no upper one.
        [ ${#lower[@]} -ge 2 ] || lower+=("$w/empty")
        mount -t overlay overlay -o "ro,index=off,lowerdir=$(IFS=:; echo "${lower[*]}")" "$merged"
        echo "== $(basename "$archive"): ${#lower[@]} lowerdirs, podman at $pm"
        local ok=1
        python3 "$here/rootfs-compare.py" "$pm" "$merged" "$start" || ok=0
        if [ "$name" != localhost/pbuilt:1 ]; then
                python3 "$here/rootfs-expect.py" "$pm" || ok=0
                python3 "$here/rootfs-expect.py" "$merged" || ok=0
        fi
        [ $ok = 1 ] || die "$(basename "$archive"): the views differ or lack what the image was built with"
        umount "$merged"
        "${P[@]}" image unmount "$name" >/dev/null
}

n_cmp=0
compare "$A/umoci-docker.tar" localhost/parity:docker
compare "$A/umoci-oci.tar" localhost/parity:oci
compare "$A/umoci-oci-zstd.tar" localhost/parity:zstd
compare "$A/podman-docker.tar" localhost/pbuilt:1
compare "$A/podman-oci.tar" localhost/pbuilt:1
echo PASS
