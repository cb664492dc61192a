#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sets everything up on a fresh Debian 12 machine and runs a container through
# berthd: installs the dependencies, builds, imports a small busybox image and
# runs it. Where PID 1 is systemd, Berth is installed on this machine; elsewhere
# (containers, CI) it runs in the same throw-away systemd sandbox as the
# integration tests and nothing outside /var/tmp is touched.
set -eu
cd "$(dirname "$0")/.."

bash tests/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
export BUILD_DIR=$PWD/build SBX_TEST_NAME=quickstart
. tests/integration/lib.sh

demo() {
        local tar=$1; shift
        "$@" berthctl version
        "$@" berthctl import --change 'CMD ["/bin/sh"]' "$tar" busybox-demo >/dev/null
        "$@" berthctl images
        "$@" berthctl run --rm --name demo busybox-demo sh -c \
                'echo "Hello from a Berth container: $(hostname), pid $$, $(id -un), in $(cat /proc/self/cgroup | tail -1)"'
}

if [ "$(readlink /proc/1/exe)" = /usr/lib/systemd/systemd ] && [ "${BERTH_SANDBOX:-0}" != 1 ]; then
        meson install -C build --quiet
        systemctl daemon-reload
        systemctl reload dbus.service
        SBX_TMP=$(mktemp -d /var/tmp/berth-quickstart.XXXXXX)
        trap 'rm -rf "$SBX_TMP"' EXIT
        make_rootfs_tar "$SBX_TMP/busybox.tar"
        demo "$SBX_TMP/busybox.tar" env
else
        sandbox_start
        echo "# systemd sandbox up (PID $SBX_PID on this host); berthd is D-Bus activated."
        make_rootfs_tar "$SBX_TMP/busybox.tar"
        demo "$SBX_TMP/busybox.tar" sbx
fi
