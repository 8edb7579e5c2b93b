#!/usr/bin/env bash
# clean.sh OUT_DIR — a healthy container host that netlint must pass without a finding,
# built from network namespaces and dumped for netlint (examples/clean).
#
# Namespaces (prefix $LAB_PREFIX, default netlint-cl): host (the dump's top level), web (a
# container, sub-folder web/), upstream (the provider's router, not dumped).
#
#   upstream eth0 198.51.100.1/24 2001:db8:100::1/64 ==veth== eth0 198.51.100.10/24   host
#                                                           2001:db8:100::10/64 (public,
#                                                           documentation ranges)
#                                                  default via 198.51.100.1 / 2001:db8:100::1
#   host br0 bridge 10.50.0.1/24 fd00:50::1/64, MTU 1500
#          veth-web 1500 == eth0 10.50.0.2/24 fd00:50::2/64 MTU 1500   web  http on 0.0.0.0:80
#   host iptables: DNAT tcp 8080 -> 10.50.0.2:80, MASQUERADE 10.50.0.0/24 ! -o br0,
#          FORWARD policy DROP + established + the published port + outbound from br0;
#          ip6tables: MASQUERADE fd00:50::/64 ! -o br0, FORWARD policy DROP + the same accepts
#   host service: a metrics endpoint on 127.0.0.1:9100 (loopback only, not published)
#   All MTUs are 1500; every published port has a listener on the address it is sent to.
#
# Dump: host = top-level files (JSON forms, ss -lntuH, iptables-save, ip6tables-save);
#       web/ = TEXT forms of ip + ss -lntuH. .capture/ = versions, probes, topology.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: clean.sh OUT_DIR}
LAB_PREFIX=${LAB_PREFIX:-netlint-cl}
H=$(lab_ns host) WEB=$(lab_ns web) UP=$(lab_ns upstream)
LAB_NAMESPACES=("$H" "$WEB" "$UP")
IPT=iptables-nft IP6T=ip6tables-nft

lab_require ip ss "$IPT" "$IP6T" nft curl ping "$PY"
lab_init clean "$OUT"

log "building lab"
ns_add "${LAB_NAMESPACES[@]}"
ns_sysctl "$H" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

veth "$H" eth0 "$UP" eth0
addrs "$H" eth0 198.51.100.10/24 2001:db8:100::10/64
addrs "$UP" eth0 198.51.100.1/24 2001:db8:100::1/64
x ip -n "$H" route add default via 198.51.100.1 dev eth0
x ip -n "$H" -6 route add default via 2001:db8:100::1 dev eth0

bridge_add "$H" br0 10.50.0.1/24 fd00:50::1/64
veth "$H" veth-web "$WEB" eth0 1500 1500
x ip -n "$H" link set veth-web master br0
bridge_up "$H" br0 1500
addrs "$WEB" eth0 10.50.0.2/24 fd00:50::2/64
x ip -n "$WEB" route add default via 10.50.0.1 dev eth0
x ip -n "$WEB" -6 route add default via fd00:50::1 dev eth0

ipt() { x ip netns exec "$H" "$IPT" "$@"; }
ip6t() { x ip netns exec "$H" "$IP6T" "$@"; }
ipt -t nat -A PREROUTING -p tcp --dport 8080 -m comment --comment "publish web http" \
  -j DNAT --to-destination 10.50.0.2:80
ipt -t nat -A POSTROUTING -s 10.50.0.0/24 ! -o br0 -j MASQUERADE
ipt -P FORWARD DROP
ipt -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -A FORWARD -i eth0 -o br0 -d 10.50.0.2/32 -p tcp --dport 80 -j ACCEPT
ipt -A FORWARD -i br0 ! -o br0 -j ACCEPT
ipt -A FORWARD -i br0 -o br0 -j ACCEPT
ip6t -t nat -A POSTROUTING -s fd00:50::/64 ! -o br0 -j MASQUERADE
ip6t -P FORWARD DROP
ip6t -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6t -A FORWARD -i br0 ! -o br0 -j ACCEPT
ip6t -A FORWARD -i br0 -o br0 -j ACCEPT

http_server web-http "$WEB" 0.0.0.0 80
http_server host-metrics "$H" 127.0.0.1 9100
wait_listen "$WEB" tcp 80
wait_listen "$H" tcp 9100
wait_dad "${LAB_NAMESPACES[@]}"

log "probing"
{
  echo "# behaviour probes of clean; rc: curl 0=ok 7=refused 28=timeout; ping 0=ok 1=no reply"
  probe_http "upstream -> host:8080 DNAT web:80" "$UP" http://198.51.100.10:8080/
  probe_http "host -> 127.0.0.1:9100 host metrics" "$H" http://127.0.0.1:9100/
  probe_ping "host -> web, 1500-byte packet" "$H" 1472 10.50.0.2
  probe_ping "web -> upstream (MASQUERADE), 1500-byte" "$WEB" 1472 198.51.100.1
  probe_ping "web -> upstream over IPv6 (NAT66)" "$WEB" 56 2001:db8:100::1
} > "$OUT/.capture/probe-results.txt"
cat "$OUT/.capture/probe-results.txt" >&2

log "dumping"
DUMP_IPTABLES=nft dump_ns "$H" "$OUT" json
dump_ns "$WEB" "$OUT/web" text
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset
write_versions "$OUT/.capture/versions.txt" "echo iptables backend used: $IPT"
write_topology "$0" "$OUT/.capture/topology.txt"
log "dumped to $OUT"
