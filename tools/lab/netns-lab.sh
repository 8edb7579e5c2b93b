#!/usr/bin/env bash
# netns-lab.sh OUT_DIR — the classic container host, built from network namespaces, veths,
# bridges and a vxlan overlay, probed with curl/ping, then dumped for netlint (examples/netns-lab).
#
# Namespaces (prefix $LAB_PREFIX, default netlint-nl): host, c1..c4 (the dump) and lan (not dumped).
# Every address is inside these namespaces; no veth end is in the root namespace.
#
#   lan  eth0 10.89.0.2/24 fd00:89::2/64 ==veth== uplink0 10.89.0.1/24 fd00:89::1/64   host
#        vxlan42 10.90.0.1/24 (id 42)                 default via 10.89.0.2 / fd00:89::2
#   host lab0 bridge 10.88.0.1/24 fd00:88::1/64, MTU 1500 (pinned after the ports joined)
#          veth-c1 1500 == eth0 10.88.0.11/24 fd00:88::11/64 MTU 1500   c1  http on 127.0.0.1:80 (defect)
#          veth-c2 1500 == eth0 10.88.0.12/24 fd00:88::12/64 MTU 1450   c2  http on 0.0.0.0:80 (veth MTU mismatch)
#          veth-c3 1500 == eth0 10.88.0.13/24 fd00:88::13/64 MTU 1500   c3  default via 10.77.0.1 onlink
#                                                                           (gateway off its segment: defect)
#          veth-c5a 1500 == eth0 10.88.0.15/24                            c5  http on 0.0.0.0:80, published
#   host lab1 bridge 10.91.0.1/24, MTU 1500
#          veth-c5b 1500 == eth1 10.91.0.15/24                            c5  default via 10.91.0.1 dev eth1
#                                                 (replies to the forward on eth0 leave by eth1: defect)
#   host ovl0 bridge (no address), MTU 1500 pinned after the ports joined; ports:
#          vxlan42 (id 42, dstport 4789, dev uplink0, local 10.89.0.1, remote 10.89.0.2, MTU 1450)
#          veth-c4 1500 == eth0 10.90.0.14/24 fd00:90::14/64 MTU 1500   c4  (exceeds the vxlan path)
#   host iptables (nft backend unless LAB_IPTABLES=legacy):
#          nat PREROUTING DNAT tcp 8080 -> 10.88.0.11:80, 8081 -> 10.88.0.12:80,
#                         8082 -> 10.88.0.12:81 (nothing listens on 81: defect), with comments,
#                         8083 -> 10.88.0.15:80 (c5, whose replies leave by lab1)
#          nat POSTROUTING MASQUERADE -s 10.88.0.0/24 ! -o lab0
#          filter FORWARD policy DROP + explicit accepts
#          ip6tables nat PREROUTING DNAT tcp 8080 -> [fd00:88::11]:80; FORWARD policy DROP + accepts
#   host service: http on 0.0.0.0:9100
#   host sysctl: rp_filter=1 (strict reverse-path filtering, as RHEL and others default to)
#
# Dump: host = top-level files (JSON forms, ss -lntupH, iptables-save, ip6tables-save);
#       c1/ = TEXT forms of ip + ss -lntupH; c2/ c3/ c4/ = JSON forms + ss -lntupH.
#       .capture/ = versions.txt probe-results.txt topology.txt nft-ruleset.txt
# Env:  LAB_PREFIX, LAB_IPTABLES=nft|legacy, LAB_VERBOSE=1,
#       NETLINT_FIXTURES_OUT=DIR  also write parser fixtures (both forms of every tool) for the
#                                 host and c1, and iptables-save from BOTH backends, into DIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: netns-lab.sh OUT_DIR}
LAB_PREFIX=${LAB_PREFIX:-netlint-nl}
case ${LAB_IPTABLES:-nft} in
  nft|legacy) BACKEND=${LAB_IPTABLES:-nft} ;;
  *) echo "LAB_IPTABLES must be nft or legacy" >&2; exit 2 ;;
esac
IPT="iptables-$BACKEND" IP6T="ip6tables-$BACKEND"
H=$(lab_ns host) LAN=$(lab_ns lan)
C1=$(lab_ns c1) C2=$(lab_ns c2) C3=$(lab_ns c3) C4=$(lab_ns c4) C5=$(lab_ns c5)
LAB_NAMESPACES=("$H" "$C1" "$C2" "$C3" "$C4" "$C5" "$LAN")

lab_require ip ss "$IPT" "$IP6T" nft curl ping "$PY"
lab_init netns-lab "$OUT"
log "building lab (iptables backend: $BACKEND)"

ns_add "${LAB_NAMESPACES[@]}"
ns_sysctl "$H" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=1

# ---------- uplink to the LAN namespace ----------
veth "$H" uplink0 "$LAN" eth0
addrs "$H" uplink0 10.89.0.1/24 fd00:89::1/64
addrs "$LAN" eth0 10.89.0.2/24 fd00:89::2/64

# ---------- lab0 bridge and containers c1..c3 ----------
bridge_add "$H" lab0 10.88.0.1/24 fd00:88::1/64

container() { # container NS HOSTVETH BRIDGE CIDR4 CIDR6 CONTAINER_MTU — eth0 in NS on BRIDGE
  local ns=$1 hv=$2 br=$3 a4=$4 a6=$5 mtu=$6
  veth "$H" "$hv" "$ns" eth0 1500 "$mtu"
  x ip -n "$H" link set "$hv" master "$br"
  addrs "$ns" eth0 "$a4" "$a6"
}
container "$C1" veth-c1 lab0 10.88.0.11/24 fd00:88::11/64 1500
container "$C2" veth-c2 lab0 10.88.0.12/24 fd00:88::12/64 1450   # host side stays 1500
container "$C3" veth-c3 lab0 10.88.0.13/24 fd00:88::13/64 1500
bridge_up "$H" lab0 1500
for ns in "$C1" "$C2" "$C3"; do
  x ip -n "$ns" -6 route add default via fd00:88::1 dev eth0
done
x ip -n "$C1" route add default via 10.88.0.1 dev eth0
x ip -n "$C2" route add default via 10.88.0.1 dev eth0
x ip -n "$C3" route add default via 10.77.0.1 dev eth0 onlink   # defect: not on 10.88.0.0/24

# ---------- c5: on lab0 and lab1, default route via lab1 ----------
bridge_add "$H" lab1 10.91.0.1/24
veth "$H" veth-c5a "$C5" eth0 1500 1500
x ip -n "$H" link set veth-c5a master lab0
addrs "$C5" eth0 10.88.0.15/24
veth "$H" veth-c5b "$C5" eth1 1500 1500
x ip -n "$H" link set veth-c5b master lab1
addrs "$C5" eth1 10.91.0.15/24
bridge_up "$H" lab1 1500
x ip -n "$C5" route add default via 10.91.0.1 dev eth1   # defect: the forward arrives on eth0

# ---------- vxlan overlay: ovl0 bridge + vxlan42 + c4 ----------
x ip -n "$H" link add vxlan42 type vxlan id 42 dstport 4789 dev uplink0 local 10.89.0.1 remote 10.89.0.2
x ip -n "$LAN" link add vxlan42 type vxlan id 42 dstport 4789 dev eth0 local 10.89.0.2 remote 10.89.0.1
addrs "$LAN" vxlan42 10.90.0.1/24 fd00:90::1/64
x ip -n "$LAN" link set vxlan42 up
x ip -n "$H" link add ovl0 type bridge
container "$C4" veth-c4 ovl0 10.90.0.14/24 fd00:90::14/64 1500
x ip -n "$H" link set vxlan42 master ovl0
x ip -n "$H" link set vxlan42 up
bridge_up "$H" ovl0 1500          # ports: vxlan42 1450, veth-c4 1500 -> bridge stays 1500
x ip -n "$C4" route add default via 10.90.0.1 dev eth0

# ---------- host routes ----------
x ip -n "$H" route add default via 10.89.0.2 dev uplink0
x ip -n "$H" -6 route add default via fd00:89::2 dev uplink0

# ---------- host firewall ----------
IPT_NS=$H     # ipt / ip6t (lib.sh) run $IPT / $IP6T in the host namespace
ipt -t nat -A PREROUTING -p tcp --dport 8080 -m comment --comment "publish c1 http" \
  -j DNAT --to-destination 10.88.0.11:80
ipt -t nat -A PREROUTING -p tcp --dport 8081 -m comment --comment "publish c2 http" \
  -j DNAT --to-destination 10.88.0.12:80
ipt -t nat -A PREROUTING -p tcp --dport 8082 -m comment --comment "publish c2 admin" \
  -j DNAT --to-destination 10.88.0.12:81
ipt -t nat -A PREROUTING -p tcp --dport 8083 -m comment --comment "publish c5 http" \
  -j DNAT --to-destination 10.88.0.15:80
ipt -t nat -A POSTROUTING -s 10.88.0.0/24 ! -o lab0 -j MASQUERADE
ipt -P FORWARD DROP
ipt -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -A FORWARD -i uplink0 -o lab0 -d 10.88.0.11/32 -p tcp --dport 80 -j ACCEPT
ipt -A FORWARD -i uplink0 -o lab0 -d 10.88.0.12/32 -p tcp --dport 80 -j ACCEPT
ipt -A FORWARD -i uplink0 -o lab0 -d 10.88.0.12/32 -p tcp --dport 81 -j ACCEPT
ipt -A FORWARD -i uplink0 -o lab0 -d 10.88.0.15/32 -p tcp --dport 80 -j ACCEPT
ipt -A FORWARD -i lab0 ! -o lab0 -j ACCEPT
ipt -A FORWARD -i lab0 -o lab0 -j ACCEPT
ipt -A FORWARD -i lab1 ! -o lab1 -j ACCEPT
ipt -A FORWARD -i ovl0 -o ovl0 -j ACCEPT      # bridged overlay traffic (br_netfilter is on)
ip6t -t nat -A PREROUTING -p tcp --dport 8080 -m comment --comment "publish c1 http (IPv6)" \
  -j DNAT --to-destination '[fd00:88::11]:80'
ip6t -P FORWARD DROP
ip6t -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6t -A FORWARD -i uplink0 -o lab0 -d fd00:88::11/128 -p tcp --dport 80 -j ACCEPT
ip6t -A FORWARD -i lab0 -j ACCEPT
ip6t -A FORWARD -i ovl0 -o ovl0 -j ACCEPT

# ---------- services ----------
http_server c1-http "$C1" 127.0.0.1 80      # defect: published on host:8080, bound to loopback
http_server c2-http "$C2" 0.0.0.0 80        # published on host:8081 (8082 -> :81 has no listener)
http_server c3-http "$C3" 0.0.0.0 80
http_server c4-http "$C4" 0.0.0.0 80
http_server c5-http "$C5" 0.0.0.0 80        # published on host:8083; replies leave by eth1
http_server host-exporter "$H" 0.0.0.0 9100
for ns in "$C1" "$C2" "$C3" "$C4" "$C5"; do wait_listen "$ns" tcp 80; done
wait_listen "$H" tcp 9100
wait_dad "${LAB_NAMESPACES[@]}"

# ---------- probes (every target is inside this lab) ----------
log "probing"
{
  echo "# behaviour probes of netns-lab; rc: curl 0=ok 7=refused 28=timeout; ping 0=ok 1=no reply"
  probe_http "lan -> host:8080 DNAT c1 (127.0.0.1 bind)" "$LAN" http://10.89.0.1:8080/
  probe_http "lan -> host:8081 DNAT c2:80" "$LAN" http://10.89.0.1:8081/
  probe_http "lan -> host:8082 DNAT c2:81 (no listener)" "$LAN" http://10.89.0.1:8082/
  probe_http "lan -> host:8083 DNAT c5 (replies leave by eth1)" "$LAN" http://10.89.0.1:8083/
  probe_http "lan -> host:9100 host service" "$LAN" http://10.89.0.1:9100/
  probe_http "lan -> [host]:8080 ip6 DNAT c1" "$LAN" 'http://[fd00:89::1]:8080/'
  probe_http "c1 -> 127.0.0.1:80 (inside c1)" "$C1" http://127.0.0.1:80/
  probe_ping "host -> c1, 1500-byte packet" "$H" 1472 10.88.0.11
  probe_ping "host -> c2, 1500-byte packet" "$H" 1472 10.88.0.12
  probe_ping "host -> c2, 1450-byte packet" "$H" 1422 10.88.0.12
  probe_ping "c3 -> lan (gateway 10.77.0.1 off-link)" "$C3" 56 10.89.0.2
  probe_ping "c3 -> host lab0 (on-link)" "$C3" 56 10.88.0.1
  probe_ping "c4 -> lan over vxlan, 1500-byte packet" "$C4" 1472 10.90.0.1
  probe_ping "c4 -> lan over vxlan, 1450-byte packet" "$C4" 1422 10.90.0.1
} > "$OUT/.capture/probe-results.txt"
cat "$OUT/.capture/probe-results.txt" >&2

# ---------- dump ----------
log "dumping"
DUMP_SS=procs DUMP_IPTABLES=$BACKEND dump_ns "$H" "$OUT" json
DUMP_SS=procs dump_ns "$C1" "$OUT/c1" text
for c in c2 c3 c4 c5; do DUMP_SS=procs dump_ns "$(lab_ns $c)" "$OUT/$c" json; done
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset   # its stderr is kept beside it
write_versions "$OUT/.capture/versions.txt" "echo iptables backend used: $IPT"
write_topology "$0" "$OUT/.capture/topology.txt"

# ---------- parser fixtures (optional) ----------
if [ -n "${NETLINT_FIXTURES_OUT:-}" ]; then
  F=$NETLINT_FIXTURES_OUT
  [ "$BACKEND" = nft ] || die "NETLINT_FIXTURES_OUT needs LAB_IPTABLES=nft"
  log "writing parser fixtures to $F"
  mkdir -p "$F"
  DUMP_SS=both DUMP_IPTABLES=nft dump_ns "$H" "$F/host" both
  mv "$F/host/iptables-save.txt" "$F/host/iptables-nft-save.txt"
  DUMP_SS=both dump_ns "$C1" "$F/c1" both
  # The same rules loaded into the legacy backend as well (iptables-save's format is shared by
  # both backends). While both hold tables, iptables-nft-save warns on stderr: keep that
  # combined output as an operator would paste it (2>&1).
  ip netns exec "$H" iptables-nft-save | ip netns exec "$H" iptables-legacy-restore
  ip netns exec "$H" iptables-nft-save > "$F/host/iptables-nft-save-with-legacy-warning.txt" 2>&1
  # then drop the nft tables so that the legacy capture shows the legacy backend alone
  ip netns exec "$H" nft flush ruleset
  ip netns exec "$H" iptables-legacy-save > "$F/host/iptables-legacy-save.txt"
  cp "$OUT/.capture/versions.txt" "$F/versions.txt"
fi
log "dumped to $OUT"
