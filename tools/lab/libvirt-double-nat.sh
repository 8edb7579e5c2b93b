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
VIRSH_URI="test://$NODE_XML"        # test:///ABS/PATH: the path is absolute
IPT=iptables-nft IP6T=ip6tables-nft

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

# ---------- libvirt bridges, as libvirtd's network driver sets them up ----------
bridge_add "$H" virbr0 192.168.122.1/24 fd00:122::1/64
x ip -n "$H" link set virbr0 address 52:54:00:0a:7a:01        # <mac> of network 'default'
x ip -n "$H" link set virbr0 type bridge stp_state 1 forward_delay 0
# vm1's tap: libvirt names it vnetN and gives it the guest MAC with a first byte of 0xfe
x ip -n "$H" tuntap add dev vnet0 mode tap vnet_hdr
x ip -n "$H" link set vnet0 address fe:54:00:6b:3c:01 mtu 1500 master virbr0 up
bridge_up "$H" virbr0 1500
bridge_add "$H" virbr1 192.168.100.1/24
x ip -n "$H" link set virbr1 address 52:54:00:0a:7a:02
x ip -n "$H" link set virbr1 type bridge stp_state 1 forward_delay 0
x ip -n "$H" link set virbr1 up

# ---------- the VPN client's tun ----------
x ip -n "$H" tuntap add dev tun0 mode tun
addrs "$H" tun0 10.8.0.2/24
x ip -n "$H" link set tun0 up
x ip -n "$H" route add 10.8.0.0/16 dev tun0

# A process holding both devices open, as QEMU (vnet0) and the VPN client (tun0) would: without
# it the kernel reports NO-CARRIER on them (and on virbr0) and marks their routes linkdown.
start_bg tuntap-holder "$H" "$PY" -c '
import fcntl, os, signal, struct
TUNSETIFF, IFF_TUN, IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x400454ca, 0x1, 0x2, 0x1000, 0x4000
fds = []
for name, flags in ((b"vnet0", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), (b"tun0", IFF_TUN | IFF_NO_PI)):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name, flags))
    fds.append(fd)
print("holding vnet0 and tun0", flush=True)
signal.pause()
'
for ((i = 0; i < 50; i++)); do
  grep -q holding "$LAB_RUNDIR/tuntap-holder.log" 2>/dev/null && break; sleep 0.1
done
grep -q holding "$LAB_RUNDIR/tuntap-holder.log" || die "tun/tap holder failed: $(cat "$LAB_RUNDIR/tuntap-holder.log")"

# ---------- iptables: what libvirt's network driver runs ----------
# WRITTEN FROM LIBVIRT'S DOCUMENTATION AND SOURCE (no libvirtd runs here): the chain layout is
# the one described at https://libvirt.org/firewall.html ("The default networking setup");
# the exact commands and their order follow libvirt's iptables backend
# (src/network/network_iptables.c: iptablesSetupPrivateChains, iptablesAddFirewallRules).
# libvirt --inserts every rule, so the later a rule is added the higher it sits in its chain.
ipt() { x ip netns exec "$H" "$IPT" -w "$@"; }
ip6t() { x ip netns exec "$H" "$IP6T" -w "$@"; }

libvirt_private_chains() { # ipt|ip6t
  local t=$1
  $t --table filter --new-chain LIBVIRT_INP
  $t --table filter --insert INPUT --jump LIBVIRT_INP
  $t --table filter --new-chain LIBVIRT_OUT
  $t --table filter --insert OUTPUT --jump LIBVIRT_OUT
  $t --table filter --new-chain LIBVIRT_FWO
  $t --table filter --insert FORWARD --jump LIBVIRT_FWO
  $t --table filter --new-chain LIBVIRT_FWI
  $t --table filter --insert FORWARD --jump LIBVIRT_FWI
  $t --table filter --new-chain LIBVIRT_FWX
  $t --table filter --insert FORWARD --jump LIBVIRT_FWX
  $t --table nat --new-chain LIBVIRT_PRT
  $t --table nat --insert POSTROUTING --jump LIBVIRT_PRT
  $t --table mangle --new-chain LIBVIRT_PRT
  $t --table mangle --insert POSTROUTING --jump LIBVIRT_PRT
}
svc_in() { $1 --table filter --insert LIBVIRT_INP --in-interface "$2" --protocol "$3" \
             --destination-port "$4" --jump ACCEPT; }
svc_out() { $1 --table filter --insert LIBVIRT_OUT --out-interface "$2" --protocol "$3" \
              --destination-port "$4" --jump ACCEPT; }
general_rules() { # ipt|ip6t BRIDGE — DHCP/DNS to dnsmasq, reject by default, guest<->guest
  local t=$1 br=$2
  if [ "$t" = ipt ]; then
    svc_in $t "$br" tcp 67; svc_in $t "$br" udp 67; svc_out $t "$br" tcp 68; svc_out $t "$br" udp 68
  fi
  [ "$t" = ipt ] || reject_and_cross $t "$br"
  svc_in $t "$br" tcp 53; svc_in $t "$br" udp 53; svc_out $t "$br" tcp 53; svc_out $t "$br" udp 53
  if [ "$t" = ip6t ]; then svc_in $t "$br" udp 547; svc_out $t "$br" udp 546; fi
  [ "$t" = ipt ] && reject_and_cross $t "$br"
  return 0
}
reject_and_cross() {
  $1 --table filter --insert LIBVIRT_FWO --in-interface "$2" --jump REJECT
  $1 --table filter --insert LIBVIRT_FWI --out-interface "$2" --jump REJECT
  $1 --table filter --insert LIBVIRT_FWX --in-interface "$2" --out-interface "$2" --jump ACCEPT
}
allow_out() { $1 --table filter --insert LIBVIRT_FWO --source "$3" --in-interface "$2" --jump ACCEPT; }
allow_in() { $1 --table filter --insert LIBVIRT_FWI --destination "$3" --out-interface "$2" --jump ACCEPT; }
masquerade_rules() { # BRIDGE NET4 — forward mode nat, <nat><port start='1024' end='65535'/>
  local br=$1 net=$2
  allow_out ipt "$br" "$net"
  ipt --table filter --insert LIBVIRT_FWI --destination "$net" --out-interface "$br" \
    --match conntrack --ctstate ESTABLISHED,RELATED --jump ACCEPT
  ipt --table nat --insert LIBVIRT_PRT --source "$net" '!' --destination "$net" --jump MASQUERADE
  ipt --table nat --insert LIBVIRT_PRT --source "$net" -p udp '!' --destination "$net" \
    --jump MASQUERADE --to-ports 1024-65535
  ipt --table nat --insert LIBVIRT_PRT --source "$net" -p tcp '!' --destination "$net" \
    --jump MASQUERADE --to-ports 1024-65535
  ipt --table nat --insert LIBVIRT_PRT --source "$net" --destination 255.255.255.255/32 --jump RETURN
  ipt --table nat --insert LIBVIRT_PRT --source "$net" --destination 224.0.0.0/24 --jump RETURN
}
checksum_rule() { ipt --table mangle --insert LIBVIRT_PRT --out-interface "$1" --protocol udp \
                    --destination-port 68 --jump CHECKSUM --checksum-fill; }

libvirt_private_chains ipt
libvirt_private_chains ip6t
# network 'default': nat, IPv4 192.168.122.0/24 with DHCP, IPv6 fd00:122::/64 (routed, not NATed)
general_rules ipt virbr0
general_rules ip6t virbr0
masquerade_rules virbr0 192.168.122.0/24
allow_out ip6t virbr0 fd00:122::/64
allow_in ip6t virbr0 fd00:122::/64
checksum_rule virbr0
# network 'routed': route, IPv4 192.168.100.0/24 with DHCP
general_rules ipt virbr1
allow_out ipt virbr1 192.168.100.0/24
allow_in ipt virbr1 192.168.100.0/24
checksum_rule virbr1
# (network 'isolated' is defined but not started on this host: its bridge virbr2 does not exist)

# the admin's port forward to vm1's ssh, as in the libvirt wiki's "forwarding incoming
# connections" hook: DNAT plus a FORWARD accept inserted ahead of libvirt's REJECTs
ipt --table nat --insert PREROUTING --protocol tcp --destination-port 2222 \
  --jump DNAT --to-destination 192.168.122.10:22
ipt --table filter --insert FORWARD --out-interface virbr0 --protocol tcp \
  --destination 192.168.122.10 --destination-port 22 --jump ACCEPT
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
vsh() { virsh -q -c "$VIRSH_URI" "$@"; }
mapfile -t DOMAINS < <(vsh list --all --name | sed '/^$/d' | sort)
mapfile -t NETWORKS < <(vsh net-list --all --name | sed '/^$/d' | sort)
for d in "${DOMAINS[@]}"; do vsh dumpxml "$d" > "$OUT/virsh-dumpxml-$d.xml"; done
for n in "${NETWORKS[@]}"; do vsh net-dumpxml "$n" > "$OUT/virsh-net-dumpxml-$n.xml"; done
{ echo "\$ virsh -c $VIRSH_URI list --all"; virsh -c "$VIRSH_URI" list --all
  echo "\$ virsh -c $VIRSH_URI net-list --all"; virsh -c "$VIRSH_URI" net-list --all
} > "$OUT/.capture/virsh-lists.txt"
cp "$NODE_XML" "$OUT/.capture/libvirt-node.xml"
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset
write_versions "$OUT/.capture/versions.txt" "echo iptables backend used: $IPT" \
  "echo virsh \$(virsh --version), connection: $VIRSH_URI" "virsh -c '$VIRSH_URI' version"
write_topology "$0" "$OUT/.capture/topology.txt"
log "dumped to $OUT"
