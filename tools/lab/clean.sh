#!/usr/bin/env bash
# clean.sh OUT_DIR — a healthy container and VM host that netlint must pass without a finding,
# built from network namespaces, a REAL dockerd and virsh's test driver, dumped for netlint
# (examples/clean). It holds every input kind netlint reads, so that every rule runs on it.
#
# Namespaces (prefix $LAB_PREFIX, default netlint-cl): host (the dump's top level; dockerd runs
# in it), web (a container made by hand, sub-folder web/), upstream (the provider's router, not
# dumped); app is Docker's own container namespace (sub-folder app/).
#
#   upstream eth0 198.51.100.1/24 2001:db8:100::1/64 ==veth== eth0 198.51.100.10/24   host
#                                                           2001:db8:100::10/64 (public,
#                                                           documentation ranges)
#                                                  default via 198.51.100.1 / 2001:db8:100::1
#   host br0 bridge 10.50.0.1/24 fd00:50::1/64, MTU 1500
#          veth-web 1500 == eth0 10.50.0.2/24 fd00:50::2/64 MTU 1500   web  http on 0.0.0.0:80
#   host docker0 (dockerd's default bridge, default settings) 172.17.0.1/16, MTU 1500
#          veth<id> 1500 == eth0 172.17.0.2/16 MTU 1500   app  (image netlint/busybox:lab,
#                                  imported locally) httpd on 0.0.0.0:80, published -p 8090:80
#   host virbr0 bridge 192.168.122.1/24, MTU 1500 (libvirt network 'default', forward mode nat)
#          port vnet0: tap of running vm1 (guest MAC 52:54:00:c1:ea:10 -> fe:54:00:c1:ea:10),
#                      MTU 1500, held open by a small python process as QEMU would hold it
#   host iptables: DNAT tcp 8080 -> 10.50.0.2:80, MASQUERADE 10.50.0.0/24 ! -o br0,
#          FORWARD policy DROP + established + the published port + outbound from br0;
#          ip6tables: MASQUERADE fd00:50::/64 ! -o br0, FORWARD policy DROP + the same accepts;
#          plus libvirt's rules for the NAT network 'default' (LIBVIRT_* chains, replayed: see
#          lib.sh) and dockerd's own (DOCKER* chains, DNAT 8090 -> 172.17.0.2:80, MASQUERADE).
#   host services: a metrics endpoint on 127.0.0.1:9100 (loopback only, not published);
#          docker-proxy on *:8090.
#   libvirt: tools/lab/libvirt-node-clean.xml (hand-written, see its header) read by the test
#          driver: network default (nat, virbr0, no <mtu>, 192.168.122.0/24, DHCP host vm1 ->
#          .10); domain vm1 (running) with one virtio interface on it, <mtu size='1500'/>.
#   All MTUs are 1500; every published port has a listener on the address it is sent to; every
#   gateway is on its segment; no two networks overlap; no routed or isolated network.
#
# Dump: host = top-level files (JSON forms, ss -lntuH, iptables-save, ip6tables-save,
#       docker-inspect.json, docker-network-inspect.json (bridge, host, none),
#       virsh-dumpxml-vm1.xml, virsh-net-dumpxml-default.xml);
#       web/ = TEXT forms of ip + ss -lntuH; app/ = JSON forms of ip + ss -lntuH.
#       .capture/ = versions, probes, topology, nft ruleset, docker ps, dockerd log, virsh
#       lists, the node XML.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: clean.sh OUT_DIR}
LAB_PREFIX=${LAB_PREFIX:-netlint-cl}
H=$(lab_ns host) WEB=$(lab_ns web) UP=$(lab_ns upstream)
LAB_NAMESPACES=("$H" "$WEB" "$UP")
NODE_XML="$LAB_LIB_DIR/libvirt-node-clean.xml"
DOCKER_NS=$H DOCKER_CONTAINERS=(app) DOCKER_NETWORKS=()

lab_require ip ss nft curl ping virsh "$PY"
docker_require
# our rules go to the backend dockerd uses (plain `iptables`): one ruleset, no mixed backends
BACKEND=$(iptables_backend)
IPT=iptables-$BACKEND IP6T=ip6tables-$BACKEND IPT_NS=$H
lab_require "$IPT" "$IP6T"
[ -f "$NODE_XML" ] || die "missing $NODE_XML"
LAB_TEARDOWN_HOOKS=(docker_down)
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

# ---------- libvirt network 'default' and vm1's tap, as libvirtd's network driver sets them up ----
libvirt_bridge "$H" virbr0 52:54:00:c1:ea:01 192.168.122.1/24   # <mac> of network 'default'
libvirt_tap "$H" vnet0 52:54:00:c1:ea:10 virbr0                 # vm1's tap: fe:54:00:c1:ea:10
bridge_up "$H" virbr0 1500
tap_holder vnet0-holder "$H" vnet0:tap

# ---------- host firewall: the admin's rules for web ----------
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

# ---------- iptables: what libvirt's network driver runs (see lib.sh, section libvirt) ----------
libvirt_private_chains ipt
libvirt_private_chains ip6t
# network 'default': nat, IPv4 192.168.122.0/24 with DHCP, no IPv6 (so no ip6tables rules but
# the private chains)
libvirt_nat_rules virbr0 192.168.122.0/24

# ---------- dockerd (default settings), the image, container app ----------
docker_start
docker_image
x dk run -d --name app -p 8090:80 "$DOCKER_IMAGE" httpd -f -p 0.0.0.0:80 -h /www >/dev/null

# ---------- services ----------
http_server web-http "$WEB" 0.0.0.0 80
http_server host-metrics "$H" 127.0.0.1 9100
wait_listen "$WEB" tcp 80
wait_listen "$H" tcp 9100
docker_wait_containers 80
wait_listen "$H" tcp 8090        # docker-proxy
APP_IP=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' app)
APP="pid:${DOCKER_PID[app]}"
wait_carrier "$H" virbr0         # STP: vnet0 forwards after listening + learning (about 4 s)
wait_dad "${LAB_NAMESPACES[@]}"

log "probing"
{
  echo "# behaviour probes of clean; rc: curl 0=ok 7=refused 28=timeout; ping 0=ok 1=no reply"
  probe_http "upstream -> host:8080 DNAT web:80" "$UP" http://198.51.100.10:8080/
  probe_http "upstream -> host:8090 docker app:80" "$UP" http://198.51.100.10:8090/
  probe_http "host -> 127.0.0.1:8090 (docker-proxy, app)" "$H" http://127.0.0.1:8090/
  probe_http "host -> 127.0.0.1:9100 host metrics" "$H" http://127.0.0.1:9100/
  probe_ping "host -> web, 1500-byte packet" "$H" 1472 10.50.0.2
  probe_ping "web -> upstream (MASQUERADE), 1500-byte" "$WEB" 1472 198.51.100.1
  probe_ping "web -> upstream over IPv6 (NAT66)" "$WEB" 56 2001:db8:100::1
  probe_ping "host -> app, 1500-byte packet" "$H" 1472 "$APP_IP"
  probe_ping "app -> upstream (MASQUERADE), 1500-byte" "$APP" 1472 198.51.100.1
  probe_ping "host -> virbr0 address" "$H" 56 192.168.122.1
} > "$OUT/.capture/probe-results.txt"
cat "$OUT/.capture/probe-results.txt" >&2

log "dumping"
# iptables-save after dockerd and libvirt's rules are in place
DUMP_IPTABLES=$BACKEND dump_ns "$H" "$OUT" json
dump_ns "$WEB" "$OUT/web" text
docker_dump "$OUT" "$BACKEND"
virsh_dump "$NODE_XML" "$OUT"
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset
write_versions "$OUT/.capture/versions.txt" "echo iptables backend used: $IPT"
{ docker_versions; virsh_versions "$NODE_XML"; } >> "$OUT/.capture/versions.txt"
write_topology "$0" "$OUT/.capture/topology.txt"
log "dumped to $OUT"
