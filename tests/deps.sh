#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs every build and test dependency from Debian 12's archive.
# Idempotent and quiet: apt only runs when something is missing.
set -eu

DEPS=(
        # build
        meson ninja-build pkg-config gcc libc6-dev
        libsystemd-dev libnl-3-dev libnl-route-3-dev libarchive-dev libssl-dev
        libjansson-dev libcurl4-openssl-dev libnftables-dev libseccomp-dev libcap-dev check libsubunit-dev
        # the fuzzers: libFuzzer's runtime is only a Recommends of clang-14
        clang libclang-rt-14-dev
        # run and test: the real systemd and bus inside the sandbox
        systemd dbus polkitd util-linux iproute2 libglib2.0-bin python3
        python3-gi gir1.2-glib-2.0   # D-Bus calls that pass fds (tests/integration/stdio-dbus.py)
        busybox-static zstd gzip tar
        # peers the tests compare with
        podman skopeo umoci
        # registries the tests start: plain, TLS + htpasswd, token auth, a mirror
        # networking: remote hosts' upstream DNS, nft to look at (never to change) the ruleset
        dnsmasq-base nftables
        docker-registry apache2-utils openssl python3-jwt python3-cryptography curl
)

missing=()
for p in "${DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
