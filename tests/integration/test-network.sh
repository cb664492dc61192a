#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Networks (issue 12) under the real systemd, inside the sandbox's own network
# namespace: the default bridge, user networks and their names, isolation,
# --internal, masquerade to a "remote host", published ports from outside,
# from the host and hairpin, direct access dropped, the firewall's table
# restored after a flush, bad input, and berthd restarts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/network-lib.sh"

sandbox_start
T=$SBX_TMP
make_rootfs_tar "$T/rootfs.tar"
sbx_ctl import --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" bb >/dev/null
remote_start

# An HTTP GET from inside a container, "get HOST PORT TIMEOUT": busybox's nc
# (its wget crashes in these static images); a name is looked up with
# nslookup at 127.0.0.11, the embedded resolver. Prints the page or "failed".
GET='h=$1; case $h in *[g-zG-Z]*) h=$(busybox nslookup "$h" 127.0.0.11 | busybox awk "/^Address: /{a=\$2} END{print a}");; esac
out=$(printf "GET / HTTP/1.0\r\n\r\n" | busybox nc -w "$3" "$h" "$2" 2>/dev/null | tail -n 1); echo "${out:-failed}"'
# cget NETWORK HOST PORT [TIMEOUT]: get from a new container on NETWORK.
cget() { sbx_ctl run --rm --network "$1" bb sh -c "$GET" get "$2" "$3" "${4:-5}"; }
rget() { sh -c "nsenter -a -t $SBX_PID ip netns exec $REMOTE curl -s -m ${2:-5} $1 || echo failed"; }

check_output "the sandbox has no route beyond its test addresses" '^unreachable$' \
        sbx sh -c 'curl -s -m 2 http://192.0.2.1/ >/dev/null 2>&1; [ $? = 7 ] && echo unreachable'

# Bridged frames pass the forward hook where br_netfilter is loaded (its
# setting is per network namespace): the rules must allow them too.
sbx sh -c 'sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 2>/dev/null' || true

# The default bridge.
check_output "a container gets an address of 10.88.0.0/16 on eth0" 'inet 10\.88\.' \
        sbx_ctl run --rm bb busybox ip -4 addr show eth0
check_output "... and an IPv6 ULA" 'inet6 fd' sbx_ctl run --rm bb busybox ip -6 addr show eth0
check_output "... and a default route via the bridge" 'default via 10\.88\.0\.1' sbx_ctl run --rm bb busybox ip route
check_output "resolv.conf points at the embedded resolver" '^nameserver 127\.0\.0\.11$' \
        sbx_ctl run --rm bb cat /etc/resolv.conf
check_output "a container reaches the remote host (masquerade)" '^remote-page$' cget bridge $REMOTE4 80
check_output "... which sees the host's address as the source" "^$HOST4 " tail -n 1 "$T/remote-http.log"
check_output "... over IPv6 too" '^remote-page$' cget bridge $REMOTE6 80
check_output "names are forwarded to the host's resolver" "Address.*$REMOTE4" \
        sbx_ctl run --rm bb busybox nslookup remote.test 127.0.0.11
check_output "--network none has only lo" '^lo$' sbx_ctl run --rm --network none bb ls /sys/class/net
wait_output "nothing is left on the bridge after --rm" '^0$' sbx sh -c 'ip -o link show master berth0 | wc -l'
# A process that joined a container's network namespace keeps it, and the
# kernel would keep the veth with it: berthd removes the host end anyway.
sbx_ctl run -d --name holder bb sleep 1000 >/dev/null
HOLDER_PID=$(sbx_ctl inspect holder | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Pid"])')
sbx systemd-run --unit=netns-holder nsenter --net=/proc/$HOLDER_PID/ns/net sleep 600 >/dev/null 2>&1
sbx_ctl rm -f holder >/dev/null
check "... a process still holds the container's network namespace" \
        sbx sh -c 'test "$(readlink /proc/$(systemctl show -P MainPID netns-holder)/ns/net)" != "$(readlink /proc/1/ns/net)"'
wait_output "... and its veth is gone all the same, within seconds" '^0$' \
        sbx sh -c 'ip -o link show master berth0 | wc -l'
sbx systemctl stop netns-holder
# The bridge is set up once; if somebody deletes it, the next start makes it again.
sbx ip link del berth0
check_output "a deleted bridge is made again at the next start" '^ok$' \
        sbx_ctl run --rm bb sh -c 'busybox ip -4 addr show eth0 | grep -q "inet 10\.88\." && echo ok'

# CVE-2020-13401: router advertisements on the bridge (any container with
# CAP_NET_RAW can send them; here the host does) route nobody's IPv6.
sbx_ctl run -d --name victim bb sleep 1000 >/dev/null
check_output "a container takes no router advertisements" '^0$' \
        sbx_ctl exec victim cat /proc/sys/net/ipv6/conf/eth0/accept_ra
check_output "... and its link-local address is usable at once (no DAD)" '^fe80[0-9a-f]{28} [0-9a-f]{2} 40 20 80 ' \
        sbx_ctl exec victim cat /proc/net/if_inet6
check "a forged router advertisement goes out on the bridge" sbx python3 -c 'import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
idx = socket.if_nametoindex("berth0")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
prefix = struct.pack("!BBBBIII", 3, 4, 64, 0xc0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, "2001:db8:bad::")
for i in range(10):
        s.sendto(ra + prefix, ("ff02::1", 0, 0, idx)); time.sleep(0.3)'
# No address in the forged prefix, no route through a link-local router.
check_output "... a forged one adds neither a route nor an address" '^clean$' \
        sh -c "nsenter -a -t $SBX_PID berthctl exec victim cat /proc/net/if_inet6 /proc/net/ipv6_route |
               grep -Eq '^20010db80bad| fe80[0-9a-f]{28} ' || echo clean"
sbx_ctl rm -f victim >/dev/null

# User networks: names and aliases, isolation, connect and disconnect.
check_output "network create prints the id" '^[0-9a-f]{64}$' sbx_ctl network create n1
check "a second network" sbx_ctl network create n2
check_output "network ls lists them" 'n1 +bridge +10\.89\.0\.0/24' sbx_ctl network ls
sbx_ctl run -d --name web --network n1 --network-alias www bb sh -c \
        'mkdir /w; echo web-page >/w/index.html; exec busybox httpd -f -p 80 -h /w' >/dev/null
check_output "a container reaches another by name" '^web-page$' cget n1 web 80
check_output "... and by --network-alias" '^web-page$' cget n1 www 80
WEB_IP=$(sbx_ctl inspect web | grep -o '"10\.89\.0\.[0-9]*' | head -1 | tr -d '"')
check_output "web has an address of n1" '^10\.89\.0\.' echo "$WEB_IP"
# n1 has no IPv6: neither has eth0 (as in Docker), so the bridge floods no
# MLD report of it; no host end of a veth has an IPv6 address.
check_output "... and no IPv6 on eth0, n1 having none" '^1 0$' \
        sbx_ctl exec web sh -c 'echo $(cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6) $(grep -c eth0 /proc/net/if_inet6)'
check_output "... while on the default bridge eth0 has IPv6" '^0$' \
        sbx_ctl run --rm bb cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6
check_output "the host ends of the veths have no IPv6 address" '^0$' \
        sbx sh -c "ip -6 -o addr | grep -c ': vb'"
check_output "inspect shows it under NetworkSettings.Networks.n1 with the alias" "^$WEB_IP \\['www'\\]\$" \
        sh -c "nsenter -a -t $SBX_PID berthctl inspect web | python3 -c 'import json, sys; e = json.load(sys.stdin)[0][\"NetworkSettings\"][\"Networks\"][\"n1\"]; print(e[\"IPAddress\"], e[\"Aliases\"])'"
check_output "another network cannot reach it by address" '^failed$' cget n2 "$WEB_IP" 80 2
check_output "... nor by name" '^noname$' \
        sbx_ctl run --rm --network n2 bb sh -c "busybox nslookup web 127.0.0.11 >/dev/null 2>&1 || echo noname"
check_output "the default bridge has no names of containers" '^noname$' \
        sbx_ctl run --rm bb sh -c "busybox nslookup web 127.0.0.11 >/dev/null 2>&1 || echo noname"
sbx_ctl run -d --name probe --network n2 bb sleep 1000 >/dev/null
check "network connect of a running container" sbx_ctl network connect n1 probe
check_output "... reaches web at once" '^web-page$' sbx_ctl exec probe sh -c "$GET" get web 80 5
check "network disconnect" sbx_ctl network disconnect n1 probe
check_output "... and web's name is gone for it" '^noname$' \
        sbx_ctl exec probe sh -c "busybox nslookup web 127.0.0.11 >/dev/null 2>&1 || echo noname"
# A disconnect of a network other than the last renames no link: the next
# connect takes the freed eth1, and eth2 keeps its network.
sbx_ctl network create --subnet 10.89.40.0/24 n4 >/dev/null
sbx_ctl network connect n1 probe
sbx_ctl network connect n4 probe
sbx_ctl network disconnect n1 probe
check_output "after disconnecting eth1, eth2 keeps its address" '^eth2 10\.89\.40\.' \
        sbx_ctl exec probe sh -c 'busybox ip -4 -o addr | busybox awk "/eth[1-9]/{print \$2, \$4}"'
check "a connect then" sbx_ctl network connect n1 probe
check_output "... takes eth1, and eth2 still has n4's address" '^eth1 10\.89\.0\.[0-9]+/24 eth2 10\.89\.40\.' \
        sbx_ctl exec probe sh -c 'echo $(busybox ip -4 -o addr | busybox awk "/eth[1-9]/{print \$2, \$4}" | sort)'
check_output "... and reaches web on n1" '^web-page$' sbx_ctl exec probe sh -c "$GET" get web 80 5
sbx_ctl network disconnect n1 probe
sbx_ctl network disconnect n4 probe
sbx_ctl network rm n4 >/dev/null
check_output "rm of a network in use is refused" 'has containers' sbx_ctl network rm n1

# --internal.
check "an internal network" sbx_ctl network create --internal int1
check_output "an internal network has no route out" '^failed$' cget int1 $REMOTE4 80 2

# Published ports.
sbx_ctl run -d --name pub -p 8080:80 -p 127.0.0.1:8081:80 -p 0.0.0.0:8083:80 -p '[::]:8084:80' bb sh -c \
        'mkdir /w; echo pub-page >/w/index.html; exec busybox httpd -f -p 80 -h /w' >/dev/null
check_output "port shows the bindings" '80/tcp -> 0\.0\.0\.0:8080' sbx_ctl port pub
check_output "ps shows them in PORTS" '0\.0\.0\.0:8080->80/tcp, \[::\]:8080->80/tcp, 127\.0\.0\.1:8081->80/tcp, 0\.0\.0\.0:8083->80/tcp, \[::\]:8084->80/tcp +pub$' \
        sbx_ctl ps
check_output "inspect has Docker's NetworkSettings.Ports" '^8080 127\.0\.0\.1 8081$' \
        sh -c "nsenter -a -t $SBX_PID berthctl inspect pub | python3 -c 'import json, sys; p = json.load(sys.stdin)[0][\"NetworkSettings\"][\"Ports\"][\"80/tcp\"]; print(p[0][\"HostPort\"], p[2][\"HostIp\"], p[2][\"HostPort\"])'"
check_output "... and the address on the default bridge" '^10\.88\.[0-9.]+ 16 10\.88\.0\.1$' \
        sh -c "nsenter -a -t $SBX_PID berthctl inspect pub | python3 -c 'import json, sys; s = json.load(sys.stdin)[0][\"NetworkSettings\"]; print(s[\"IPAddress\"], s[\"IPPrefixLen\"], s[\"Networks\"][\"bridge\"][\"Gateway\"])'"
check_output "a remote host reaches a published port" '^pub-page$' rget http://$HOST4:8080/
check_output "... over IPv6" '^pub-page$' rget "http://[$HOST6]:8080/"
check_output "a port published on 0.0.0.0 answers IPv4" '^pub-page$' rget http://$HOST4:8083/
check_output "... and not IPv6, as in Docker" '^failed$' rget "http://[$HOST6]:8083/" 2
check_output "a port published on [::] answers IPv6" '^pub-page$' rget "http://[$HOST6]:8084/"
check_output "... and not IPv4" '^failed$' rget http://$HOST4:8084/ 2
check_output "the host reaches it on its own address" '^pub-page$' sbx curl -s -m 5 http://$HOST4:8080/
check_output "... and on 127.0.0.1" '^pub-page$' sbx curl -s -m 5 http://127.0.0.1:8080/
check_output "a 127.0.0.1 mapping answers the host" '^pub-page$' sbx curl -s -m 5 http://127.0.0.1:8081/
check_output "... and not a remote host" '^failed$' rget http://$HOST4:8081/ 2
check_output "... nor a container through the gateway" '^failed$' cget bridge 10.88.0.1 8081 2
check_output "hairpin: a container reaches a published port through the host" '^pub-page$' cget bridge $HOST4 8080
PUB_IP=$(sbx_ctl inspect pub | grep -o '"10\.88\.[0-9]*\.[0-9]*' | head -1 | tr -d '"')
remote ip route add 10.88.0.0/16 via $HOST4
check_output "direct access to a container's address from outside is dropped" '^failed$' rget http://$PUB_IP/ 2

# Beside a firewall whose forward policy is drop (iptables-nft's own chains, as
# Docker's or ufw's "-P FORWARD DROP" makes them), made while berthd runs.
for fam in ip ip6; do
        sbx nft add table $fam filter
        sbx nft "add chain $fam filter FORWARD { type filter hook forward priority filter; policy drop; }"
        sbx nft add rule $fam filter FORWARD counter comment '"theirs"'
done
wait_for "berthd opens iptables' FORWARD chains to its bridges" \
        sbx sh -c 'nft list chain ip filter FORWARD | grep -q "berth\*" && nft list chain ip6 filter FORWARD | grep -q "berth\*"'
check_output "beside FORWARD drop a container reaches the remote host" '^remote-page$' cget bridge $REMOTE4 80
check_output "... over IPv6" '^remote-page$' cget bridge $REMOTE6 80
check_output "... a remote host reaches a published port" '^pub-page$' rget http://$HOST4:8080/
check_output "... containers on one network reach each other" '^web-page$' cget n1 "$WEB_IP" 80
check_output "... direct access is still dropped" '^failed$' rget http://$PUB_IP/ 2
check_output "... and their own rules are kept" 'theirs' sbx nft list chain ip filter FORWARD
sbx systemctl restart berthd
check_output "a restart does not add our rules twice" '^2$' \
        sbx sh -c 'nft list chain ip filter FORWARD | grep -c "berth\*"'

sbx nft flush ruleset
wait_for "after nft flush ruleset the published port answers again" \
        sh -c "nsenter -a -t $SBX_PID ip netns exec $REMOTE curl -s -m 1 http://$HOST4:8080/ | grep -q pub-page"
check_output "... and the direct access is dropped again" '^failed$' rget http://$PUB_IP/ 2

# A taken host port, bad input: one sentence, nothing left.
sbx systemd-run --unit=squatter python3 -c 'import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 8082)); s.listen(); time.sleep(600)' >/dev/null 2>&1
wait_for "a program holds port 8082" sbx sh -c 'ss -ltn | grep -q ":8082 "'
LINKS=$(sbx sh -c 'ip -o link | wc -l')
check_output "a taken host port is a clear error" 'Port 8082/tcp .*already in use' \
        sbx_ctl run --rm -p 8082:80 bb true
wait_output "... and leaves no veth" "^$LINKS\$" sbx sh -c 'ip -o link | wc -l'
check_output "an overlapping subnet is refused" 'overlaps network' sbx_ctl network create --subnet 10.89.0.0/16 n3
check_output "an invalid CIDR is refused" 'Invalid --subnet' sbx_ctl network create --subnet 10.89.300.0/24 n3
check_output "--ip outside the subnet is refused" 'outside the subnet' sbx_ctl run --rm --network n1 --ip 10.1.2.3 bb true
check_output "--ip taken is refused" 'already in use by container' sbx_ctl run --rm --network n1 --ip "$WEB_IP" bb true
check_output "an unknown network is refused" 'No such network: nosuch' sbx_ctl run --rm --network nosuch bb true
check_output "an invalid -p is refused before the call" 'invalid argument "80:80:80:80"' \
        sbx_ctl run --rm -p 80:80:80:80 bb true
check_output "--ip with a free address works" '10\.89\.0\.200' \
        sbx_ctl run --rm --network n1 --ip 10.89.0.200 bb busybox ip -4 addr show eth0

# berthd restarts with running containers.
sbx systemctl restart berthd
check_output "after a restart the published port still answers" '^pub-page$' rget http://$HOST4:8080/
check_output "... the port is still held" 'in use' \
        sbx python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::", 8080))'
check_output "... and names still resolve" '^web-page$' cget n1 web 80
sbx systemctl kill -s KILL berthd
sbx systemctl start berthd
check_output "after a crash the published port still answers" '^pub-page$' rget http://$HOST4:8080/
check_output "... and a new container gets an address other than web's" '^other$' \
        sh -c "nsenter -a -t $SBX_PID berthctl run --rm --network n1 bb busybox ip -4 addr show eth0 | grep -q 'inet $WEB_IP/' || echo other"

# A crash in the middle of a start's network set-up: afterwards every veth,
# lease and port rule belongs to a container that is there (the delays
# spread the kill over spawn, set-up and release).
for d in 0.02 0.05 0.1 0.15 0.25; do
        i=${d#0.}
        sbx sh -c "berthctl run -d --name crash$i -p 90$i:80 bb sleep 1000 >/dev/null 2>&1 &
                   sleep $d; systemctl kill -s KILL berthd"
        sbx systemctl start berthd
done
sbx sh -c 'for i in $(seq 50); do berthctl ps >/dev/null 2>&1 && break; sleep 0.1; done'
crash_state() {
        local running veths
        running=$(sbx sh -c 'berthctl ps -q | wc -l')
        veths=$(sbx sh -c "ip -o link | grep -c ': vb'")
        echo "running=$running veths=$veths"
}
wait_output "after crashes mid-setup: one veth per running container, none stale" '^running=([0-9]+) veths=\1$' crash_state
leases_match() {
        local holders ids
        # A lease file holds its container's id, without a newline.
        holders=$(sbx sh -c 'for f in /var/lib/berth/networks/*.leases/*; do [ -f "$f" ] && { cat "$f"; echo; }; done | sort -u')
        ids=$(sbx sh -c 'berthctl ps -aq --no-trunc | sort')
        [ "$holders" = "$ids" ] && echo match || printf 'holders:\n%s\ncontainers:\n%s\n' "$holders" "$ids"
}
check_output "... the leases are those of the containers there" '^match$' leases_match
stale_ports() {
        local d
        for d in 02 05 1 15 25; do
                sbx sh -c "berthctl ps | grep -q ' crash$d\$'" && continue
                sbx nft list table inet berth | grep -q " 90$d " && echo "a stale rule for port 90$d"
        done
        echo checked
}
check_output "... and no port rule of a container that is not running" '^checked$' stale_ports
sbx_ctl rm -f crash02 crash05 crash1 crash15 crash25 >/dev/null 2>&1

# Removal frees the leases; network rm and prune.
sbx_ctl rm -f web probe pub >/dev/null
check_output "rm frees the containers' leases" '^0$' sbx sh -c 'find /var/lib/berth/networks -path "*.leases/*" -type f | wc -l'
check "network rm of an unused network" sbx_ctl network rm n2
check_output "network prune removes the rest" 'n1' sbx_ctl network prune -f
check_output "... but not bridge" '^bridge$' sbx sh -c 'berthctl network ls | tail -n +2 | awk "{print \$2}"'

