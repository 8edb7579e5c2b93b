#!/usr/bin/env bash
# docker-lab.sh OUT_DIR — a REAL dockerd (Debian docker.io) confined to a network namespace of
# its own, three containers from a busybox image built locally with `docker import` (no registry),
# probed with curl, then dumped for netlint (examples/docker-lab).
#
# Namespaces (prefix $LAB_PREFIX, default netlint-dk): host (dockerd's; the dump's top level),
# lan (a LAN client, not dumped); c1 c2 c3 are Docker's own container namespaces.
#
#   lan  eth0 10.201.0.2/24 fd00:201::2/64 ==veth== lan0 10.201.0.1/24 fd00:201::1/64   host
#                                                   default via 10.201.0.2 / fd00:201::2
#   host docker0 (default bridge) 172.17.0.0/16 + fd00:172:17::/64 (dockerd --ipv6 --ip6tables)
#          c1  -p 8080:80, httpd bound to 127.0.0.1:80 inside (defect: the published port can
#              never answer), -e DB_PASSWORD=hunter2-secret -e APP_MODE=prod (secret in env)
#   host br-<id> user network labnet: --subnet 172.30.5.0/24 + fd00:172:30:5::/64,
#                --opt com.docker.network.driver.mtu=1450
#          c2  httpd 0.0.0.0:80, -p 8081:80 -p 127.0.0.1:9090:90/udp
#   host br-<id> user network isonet: --internal --subnet 172.30.6.0/24
#          c3  httpd 0.0.0.0:80, -p 8083:80 (published on an internal network: never reachable)
#
# dockerd is started with `nsenter --net=/run/netns/<host>` (under `ip netns exec` it fails:
# "Devices cgroup isn't mounted"), with its data root, exec root, socket, client config and
# cgroup parent all private to this lab. The client is /usr/bin/docker (the engine's own).
#
# Dump: top level = dockerd's namespace (JSON forms, ss -lntuH, iptables-save and ip6tables-save
#       of the backend dockerd used, docker-inspect.json = all containers, docker-network-inspect
#       .json = all networks); c1/ c2/ c3/ = each container's namespace via nsenter -t PID -n
#       (JSON forms, ss -lntuH, and iptables-save where Docker put rules: the NAT for its
#       embedded DNS 127.0.0.11 on user networks). .capture/ = versions, probes, topology,
#       docker ps, dockerd log, nft ruleset.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: docker-lab.sh OUT_DIR}
LAB_PREFIX=${LAB_PREFIX:-netlint-dk}
H=$(lab_ns host) LAN=$(lab_ns lan)
LAB_NAMESPACES=("$H" "$LAN")
DOCKER_NS=$H
DOCKER_CONTAINERS=(c1 c2 c3)
DOCKER_NETWORKS=(labnet isonet)

lab_require ip ss nft curl
docker_require
LAB_TEARDOWN_HOOKS=(docker_down)
lab_init docker-lab "$OUT"

log "building lab"
ns_add "${LAB_NAMESPACES[@]}"
veth "$H" lan0 "$LAN" eth0
addrs "$H" lan0 10.201.0.1/24 fd00:201::1/64
addrs "$LAN" eth0 10.201.0.2/24 fd00:201::2/64
x ip -n "$H" route add default via 10.201.0.2 dev lan0
x ip -n "$H" -6 route add default via fd00:201::2 dev lan0

# ---------- dockerd, and an image: busybox-static + a page, imported (no registry) ----------
docker_start --ipv6 --fixed-cidr-v6 fd00:172:17::/64 --experimental --ip6tables
docker_image

# ---------- networks and containers ----------
x dk network create --opt com.docker.network.driver.mtu=1450 --subnet 172.30.5.0/24 \
  --ipv6 --subnet fd00:172:30:5::/64 labnet >/dev/null
x dk network create --internal --subnet 172.30.6.0/24 isonet >/dev/null
x dk run -d --name c1 -p 8080:80 -e DB_PASSWORD=hunter2-secret -e APP_MODE=prod \
  "$DOCKER_IMAGE" httpd -f -p 127.0.0.1:80 -h /www >/dev/null
x dk run -d --name c2 --network labnet -p 8081:80 -p 127.0.0.1:9090:90/udp \
  "$DOCKER_IMAGE" httpd -f -p 0.0.0.0:80 -h /www >/dev/null
x dk run -d --name c3 --network isonet -p 8083:80 \
  "$DOCKER_IMAGE" httpd -f -p 0.0.0.0:80 -h /www >/dev/null
docker_wait_containers 80
wait_dad "$H" "$LAN"

# ---------- probes ----------
log "probing"
{
  echo "# behaviour probes of docker-lab; rc: curl 0=ok 7=refused 28=timeout 52=empty reply 56=reset"
  probe_http "lan -> host:8080 (c1, httpd on 127.0.0.1)" "$LAN" http://10.201.0.1:8080/
  probe_http "lan -> host:8081 (c2 on labnet)" "$LAN" http://10.201.0.1:8081/
  probe_http "lan -> host:8083 (c3 on internal isonet)" "$LAN" http://10.201.0.1:8083/
  probe_http "host -> 127.0.0.1:8080 (docker-proxy, c1)" "$H" http://127.0.0.1:8080/
  probe_http "host -> 127.0.0.1:8081 (docker-proxy, c2)" "$H" http://127.0.0.1:8081/
  probe_http "c1 -> 127.0.0.1:80 (inside c1)" "pid:${DOCKER_PID[c1]}" http://127.0.0.1:80/
  probe_ping "host -> c2, 1500-byte packet" "$H" 1472 172.30.5.2
  probe_ping "host -> c2, 1450-byte packet" "$H" 1422 172.30.5.2
} > "$OUT/.capture/probe-results.txt"
cat "$OUT/.capture/probe-results.txt" >&2

# ---------- dump ----------
log "dumping"
BACKEND=$(iptables_backend)
DUMP_IPTABLES=$BACKEND dump_ns "$H" "$OUT" json
docker_dump "$OUT" "$BACKEND"
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset
write_versions "$OUT/.capture/versions.txt"
docker_versions >> "$OUT/.capture/versions.txt"
write_topology "$0" "$OUT/.capture/topology.txt"
log "dumped to $OUT"
