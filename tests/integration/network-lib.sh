# SPDX-License-Identifier: LGPL-2.1-or-later
# "Remote hosts" for the networking tests: a network namespace made inside
# the sandbox's own, joined by a veth, with documentation and benchmarking
# addresses only (198.18.0.0/15, 2001:db8::/32) and no route anywhere else;
# an upstream DNS server (dnsmasq) and HTTP servers there. Sourced after lib.sh
# and sandbox_start.

REMOTE=remote
REMOTE4=198.18.0.2
REMOTE6=2001:db8:1::2
HOST4=198.18.0.1
HOST6=2001:db8:1::1

remote() { sbx ip netns exec $REMOTE "$@"; }

remote_start() {
        local www=$SBX_TMP/www
        mkdir -p "$www"
        echo remote-page >"$www/index.html"
        sbx ip netns add $REMOTE
        sbx ip link add rh0 type veth peer name eth0 netns $REMOTE
        sbx ip addr add $HOST4/24 dev rh0
        sbx ip addr add $HOST6/64 dev rh0 nodad
        sbx ip link set rh0 up
        remote ip link set lo up
        remote ip addr add $REMOTE4/24 dev eth0
        remote ip addr add $REMOTE6/64 dev eth0 nodad
        remote ip link set eth0 up
        # The remote host answers the sandbox only: no route anywhere else.
        remote sh -c "cd '$www' && exec python3 -m http.server --bind $REMOTE4 80" \
                >"$SBX_TMP/remote-http.log" 2>&1 &
        remote sh -c "cd '$www' && exec python3 -m http.server --bind $REMOTE6 80" \
                >"$SBX_TMP/remote-http6.log" 2>&1 &
        remote dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address=$REMOTE4 \
                --except-interface=lo --address=/remote.test/$REMOTE4 --pid-file= \
                >"$SBX_TMP/dnsmasq.log" 2>&1 &
        # The sandbox's resolver is the remote one (bound over the file in
        # the sandbox's mount namespace only).
        echo "nameserver $REMOTE4" >"$SBX_TMP/resolv.conf"
        sbx mount --bind "$SBX_TMP/resolv.conf" /etc/resolv.conf
        for i in $(seq 100); do
                sbx curl -s -m 1 http://$REMOTE4/ >/dev/null 2>&1 && break
                sleep 0.1
        done
}
