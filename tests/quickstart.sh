#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sets everything up on a fresh Debian 12 machine and shows Berth working:
# installs the dependencies, builds, then drives berthd over the system bus.
# Where PID 1 is systemd, Berth is installed on this machine; elsewhere
# (containers, CI) it runs in the same throw-away systemd sandbox as the
# integration tests and nothing outside /var/tmp is touched.
set -eu
cd "$(dirname "$0")/.."

bash tests/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

demo() {
        "$@" berthctl version
        "$@" berthctl info
}

if [ "$(readlink /proc/1/exe)" = /usr/lib/systemd/systemd ] && [ "${BERTH_SANDBOX:-0}" != 1 ]; then
        meson install -C build --quiet
        systemctl daemon-reload
        systemctl reload dbus.service
        demo env
else
        export BUILD_DIR=$PWD/build SBX_TEST_NAME=quickstart
        . tests/integration/lib.sh
        sandbox_start
        echo "# systemd sandbox up (PID $SBX_PID on this host); berthd is D-Bus activated."
        demo sbx
fi
