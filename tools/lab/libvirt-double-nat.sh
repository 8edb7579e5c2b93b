#!/usr/bin/env bash
# libvirt-double-nat.sh OUT_DIR — a KVM host behind a home router (double NAT) running a libvirt
# NAT network, dumped for netlint (examples/libvirt-double-nat).
#
# Namespaces (prefix $LAB_PREFIX, default netlint-lv): host (the dump's top level), router (the
# home router, not dumped). The VMs are not namespaces: what the host shows of them is the
# libvirt configuration (virsh output, top level) and their tap device.
#
#   router eth0 192.168.1.1/24 ==veth== eth0 192.168.1.50/24 (private: behind NAT)   host
#                                       default via 192.168.1.1
#   host virbr0 bridge 192.168.122.1/24 fd00:122::1/64, MTU 1500 (libvirt says 9000: defect)
#          port vnet0: tap (what libvirtd creates for running vm1), MAC fe:54:00:6b:3c:01,
#                      held open by a small python process as QEMU would hold it
#   host virbr1 bridge 192.168.100.1/24 (network 'routed'; no port)
#   host tun0 10.8.0.2/24 + route 10.8.0.0/16 dev tun0 (a VPN client's tun, held open likewise)
#   host iptables: the rules libvirt's network driver installs for 'default' (NAT) and 'routed'
#          (LIBVIRT_INP/OUT/FWI/FWO/FWX, nat and mangle LIBVIRT_PRT, MASQUERADE --to-ports
#          1024-65535), replayed command by command; plus an admin's port forward
#          DNAT tcp 2222 -> 192.168.122.10:22 and its FORWARD accept.
#   libvirt: tools/lab/libvirt-node.xml (hand-written, see its header) read by the test driver:
#          networks default (nat, mtu 9000, IPv6), routed (route, virbr1), isolated (virbr2,
#          10.8.5.0/24 inside the VPN's 10.8.0.0/16: defect); domains vm1, vm2.
#
# Dump: top level = host (JSON forms, iptables-save, ip6tables-save; no ss: no process listens),
#       virsh-dumpxml-<domain>.xml, virsh-net-dumpxml-<network>.xml.
#       .capture/ = versions, probes, topology, virsh list/net-list, the node XML.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: libvirt-double-nat.sh OUT_DIR}
LAB_PREFIX=${LAB_PREFIX:-netlint-lv}
H=$(lab_ns host) R=$(lab_ns router)
LAB_NAMESPACES=("$H" "$R")
NODE_XML="$LAB_LIB_DIR/libvirt-node.xml"
IPT=iptables-nft IP6T=ip6tables-nft IPT_NS=$H

lab_require ip "$IPT" "$IP6T" nft virsh ping "$PY"
[ -f "$NODE_XML" ] || die "missing $NODE_XML"
lab_init libvirt-double-nat "$OUT"

log "building lab"
ns_add "${LAB_NAMESPACES[@]}"
ns_sysctl "$H" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# ---------- uplink behind the home router ----------
veth "$H" eth0 "$R" eth0
addrs "$H" eth0 192.168.1.50/24
addrs "$R" eth0 192.168.1.1/24
x ip -n "$H" route add default via 192.168.1.1 dev eth0

# ---------- libvirt bridges and vm1's tap, as libvirtd's network driver sets them up ----------
libvirt_bridge "$H" virbr0 52:54:00:0a:7a:01 192.168.122.1/24 fd00:122::1/64   # <mac> of 'default'
libvirt_tap "$H" vnet0 52:54:00:6b:3c:01 virbr0       # vm1's tap: fe:54:00:6b:3c:01
bridge_up "$H" virbr0 1500
libvirt_bridge "$H" virbr1 52:54:00:0a:7a:02 192.168.100.1/24                  # <mac> of 'routed'
x ip -n "$H" link set virbr1 up

# ---------- the VPN client's tun ----------
x ip -n "$H" tuntap add dev tun0 mode tun
addrs "$H" tun0 10.8.0.2/24
x ip -n "$H" link set tun0 up
x ip -n "$H" route add 10.8.0.0/16 dev tun0

# A process holding both devices open, as QEMU (vnet0) and the VPN client (tun0) would: without
# it the kernel reports NO-CARRIER on them (and on virbr0) and marks their routes linkdown.
tap_holder tuntap-holder "$H" vnet0:tap tun0:tun

# ---------- iptables: what libvirt's network driver runs (see lib.sh, section libvirt) ----------
libvirt_private_chains ipt
libvirt_private_chains ip6t
# network 'default': nat, IPv4 192.168.122.0/24 with DHCP, IPv6 fd00:122::/64 (routed, not NATed)
libvirt_nat_rules virbr0 192.168.122.0/24 fd00:122::/64
# network 'routed': route, IPv4 192.168.100.0/24 with DHCP
libvirt_route_rules virbr1 192.168.100.0/24
# (network 'isolated' is defined but not started on this host: its bridge virbr2 does not exist)

# the admin's port forward to vm1's ssh, as in the libvirt wiki's "forwarding incoming
# connections" hook: DNAT plus a FORWARD accept inserted ahead of libvirt's REJECTs
ipt --table nat --insert PREROUTING --protocol tcp --destination-port 2222 \
  --jump DNAT --to-destination 192.168.122.10:22
ipt --table filter --insert FORWARD --out-interface virbr0 --protocol tcp \
  --destination 192.168.122.10 --destination-port 22 --jump ACCEPT
wait_carrier "$H" virbr0         # STP: vnet0 forwards after listening + learning (about 4 s)
wait_dad "$H"

# ---------- probes ----------
log "probing"
{
  echo "# behaviour probes of libvirt-double-nat; ping rc 0=ok 1=no reply"
  probe_ping "router -> host eth0, 1500-byte packet" "$R" 1472 192.168.1.50
  probe_ping "host -> router, 1500-byte packet" "$H" 1472 192.168.1.1
  probe_ping "host -> virbr0 address" "$H" 56 192.168.122.1
} > "$OUT/.capture/probe-results.txt"
cat "$OUT/.capture/probe-results.txt" >&2

# ---------- dump ----------
log "dumping"
DUMP_SS=none DUMP_IPTABLES=nft dump_ns "$H" "$OUT" json
virsh_dump "$NODE_XML" "$OUT"
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset
write_versions "$OUT/.capture/versions.txt" "echo iptables backend used: $IPT"
virsh_versions "$NODE_XML" >> "$OUT/.capture/versions.txt"
write_topology "$0" "$OUT/.capture/topology.txt"
log "dumped to $OUT"
