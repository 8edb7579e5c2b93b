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
IMAGE=netlint/busybox:lab
CONTAINERS=(c1 c2 c3)
NETWORKS=(labnet isonet)
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=docker

CGROUP_PARENT=netlint-docker-lab
FIXED_DIRS=(/run/docker /run/containerd /opt/containerd)
lab_require ip ss nsenter iptables nft curl dockerd containerd busybox "$DOCKER"

# the docker client, pointed at this lab's dockerd (socket and client config in the run dir)
dk() {
  DOCKER_HOST="unix://$LAB_RUNDIR/docker.sock" DOCKER_CONFIG="$LAB_RUNDIR/client" \
    timeout 60 "$DOCKER" "$@"
}

docker_down() { # teardown hook; lab_init runs it too, for a dockerd a killed run left behind
  local pid="" i m c
  [ -f "$LAB_RUNDIR/dockerd.pid" ] && pid=$(cat "$LAB_RUNDIR/dockerd.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(ip netns identify "$pid")" = "$H" ]; then
    dk rm -f "${CONTAINERS[@]}" >/dev/null 2>&1
    dk network rm "${NETWORKS[@]}" >/dev/null 2>&1
    dk image rm -f "$IMAGE" >/dev/null 2>&1
    kill "$pid"        # dockerd stops its containerd, shims and docker-proxy processes
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  fi
  # overlay/shm mounts left under the data or exec root (deepest first)
  for m in $(findmnt -rn -o TARGET | grep "^$LAB_RUNDIR/" | sort -r); do umount -l "$m"; done
  if [ -f "$LAB_RUNDIR/created-dirs" ]; then
    while read -r m; do [ -d "$m" ] && find "$m" -depth -type d -empty -delete; done \
      < "$LAB_RUNDIR/created-dirs"
  fi
  # the per-lab cgroup parent, once its containers are gone (cgroup v1 or v2 layouts)
  for c in /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/"$CGROUP_PARENT"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}
LAB_TEARDOWN_HOOKS=(docker_down)
lab_init docker-lab "$OUT"
DOCKER_HOST="unix://$LAB_RUNDIR/docker.sock"

log "building lab"
ns_add "${LAB_NAMESPACES[@]}"
veth "$H" lan0 "$LAN" eth0
addrs "$H" lan0 10.201.0.1/24 fd00:201::1/64
addrs "$LAN" eth0 10.201.0.2/24 fd00:201::2/64
x ip -n "$H" route add default via 10.201.0.2 dev lan0
x ip -n "$H" -6 route add default via fd00:201::2 dev lan0

# ---------- dockerd ----------
mkdir -p "$LAB_RUNDIR/client"
# our own daemon.json (not /etc/docker/daemon.json); the trust key goes to the run dir, not
# to /etc/docker/key.json
printf '{ "deprecated-key-path": "%s/key.json" }\n' "$LAB_RUNDIR" > "$LAB_RUNDIR/daemon.json"
# Directories dockerd/containerd create at fixed places whatever the flags: remember those that
# did not exist before, docker_down removes them again once they are empty.
for p in "${FIXED_DIRS[@]}"; do [ -e "$p" ] || echo "$p" >> "$LAB_RUNDIR/created-dirs"; done
log "starting dockerd"
nsenter --net="/run/netns/$H" dockerd \
  --config-file "$LAB_RUNDIR/daemon.json" \
  --data-root "$LAB_RUNDIR/data" --exec-root "$LAB_RUNDIR/exec" \
  --pidfile "$LAB_RUNDIR/dockerd.pid" -H "$DOCKER_HOST" \
  --cgroup-parent "$CGROUP_PARENT" \
  --ipv6 --fixed-cidr-v6 fd00:172:17::/64 --experimental --ip6tables \
  > "$LAB_RUNDIR/dockerd.log" 2>&1 9<&- &
echo $! >> "$LAB_RUNDIR/pids"
for ((i = 0; i < 120; i++)); do dk version >/dev/null 2>&1 && break; sleep 0.25; done
dk version >/dev/null 2>&1 || { tail -30 "$LAB_RUNDIR/dockerd.log" >&2; die "dockerd did not start"; }

# ---------- image: busybox-static + a page, imported (no registry) ----------
mkdir -p "$LAB_RUNDIR/rootfs/bin" "$LAB_RUNDIR/rootfs/www"
cp "$(command -v busybox)" "$LAB_RUNDIR/rootfs/bin/busybox"
for a in sh httpd ip sleep cat ls nc; do ln -sf busybox "$LAB_RUNDIR/rootfs/bin/$a"; done
echo "hello from netlint docker-lab" > "$LAB_RUNDIR/rootfs/www/index.html"
tar -C "$LAB_RUNDIR/rootfs" -c . | dk import -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null

# ---------- networks and containers ----------
x dk network create --opt com.docker.network.driver.mtu=1450 --subnet 172.30.5.0/24 \
  --ipv6 --subnet fd00:172:30:5::/64 labnet >/dev/null
x dk network create --internal --subnet 172.30.6.0/24 isonet >/dev/null
x dk run -d --name c1 -p 8080:80 -e DB_PASSWORD=hunter2-secret -e APP_MODE=prod \
  "$IMAGE" httpd -f -p 127.0.0.1:80 -h /www >/dev/null
x dk run -d --name c2 --network labnet -p 8081:80 -p 127.0.0.1:9090:90/udp \
  "$IMAGE" httpd -f -p 0.0.0.0:80 -h /www >/dev/null
x dk run -d --name c3 --network isonet -p 8083:80 \
  "$IMAGE" httpd -f -p 0.0.0.0:80 -h /www >/dev/null
declare -A CPID
for c in "${CONTAINERS[@]}"; do
  CPID[$c]=$(dk inspect -f '{{.State.Pid}}' "$c")
  echo "${CPID[$c]}" >> "$LAB_RUNDIR/pids"      # so that a hard-killed run can still be cleaned
  wait_listen "pid:${CPID[$c]}" tcp 80
done
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
  probe_http "c1 -> 127.0.0.1:80 (inside c1)" "pid:${CPID[c1]}" http://127.0.0.1:80/
  probe_ping "host -> c2, 1500-byte packet" "$H" 1472 172.30.5.2
  probe_ping "host -> c2, 1450-byte packet" "$H" 1422 172.30.5.2
} > "$OUT/.capture/probe-results.txt"
cat "$OUT/.capture/probe-results.txt" >&2

# ---------- dump ----------
log "dumping"
case $(iptables --version) in *nf_tables*) BACKEND=nft ;; *) BACKEND=legacy ;; esac
DUMP_IPTABLES=$BACKEND dump_ns "$H" "$OUT" json
mapfile -t ALL_CONTAINERS < <(dk ps -a --format '{{.Names}}' | sort)
mapfile -t ALL_NETWORKS < <(dk network ls --format '{{.Name}}' | sort)
dk inspect "${ALL_CONTAINERS[@]}" > "$OUT/docker-inspect.json"
dk network inspect "${ALL_NETWORKS[@]}" > "$OUT/docker-network-inspect.json"
# inside containers on user networks Docker adds NAT rules for its embedded DNS (127.0.0.11)
for c in "${CONTAINERS[@]}"; do DUMP_IPTABLES=$BACKEND dump_ns "pid:${CPID[$c]}" "$OUT/$c" json; done
dk ps -a --no-trunc > "$OUT/.capture/docker-ps.txt"
_dump "$H" "$OUT/.capture/nft-ruleset.txt" nft list ruleset
write_versions "$OUT/.capture/versions.txt" \
  "echo 'iptables used by dockerd: $(readlink -f "$(command -v iptables)") ($BACKEND)'" \
  "DOCKER_HOST=$DOCKER_HOST DOCKER_CONFIG=$LAB_RUNDIR/client $DOCKER version" "containerd --version"
cp "$LAB_RUNDIR/dockerd.log" "$OUT/.capture/dockerd.log"
write_topology "$0" "$OUT/.capture/topology.txt"
log "dumped to $OUT"
