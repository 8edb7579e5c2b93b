# shellcheck shell=bash
# lib.sh — helpers shared by the netlint capture scripts in tools/lab/.
#
# Source it from a capture script:   . "$(dirname "$0")/lib.sh"
#
# Conventions every capture script follows:
#   - all state lives in namespaces named "$LAB_PREFIX-<role>" (default prefix "netlint-<lab>"),
#     in a run dir "$LAB_RUNDIR" (/tmp/netlint-lab.<lab>.<prefix>) and in processes recorded in
#     "$LAB_RUNDIR/pids"; lab_teardown removes all of it, also what a killed run left behind;
#   - nothing is created in the root network namespace (no veth end, no address, no rule);
#   - OUT_DIR ($1) receives the dump: top-level files = the host namespace, one sub-folder per
#     other namespace, capture metadata in OUT_DIR/.capture/ (ignored by the linter).
#
# Functions (see each one's comment):
#   lab_init NAME OUT_DIR         root check, lock, stale-run cleanup, EXIT trap, OUT_DIR prep
#   lab_require CMD...            fail with a hint to run install-deps.sh when a tool is missing
#   ns_add NS... / ns_exec NS CMD create namespaces / run CMD in NS ("pid:PID" = nsenter -t PID)
#   ns_sysctl NS KEY=VALUE...     set sysctls inside NS
#   veth NS_A IF_A NS_B IF_B [MTU_A] [MTU_B]   a veth pair across two namespaces, both ends up
#   bridge_add NS BR CIDR... / bridge_up NS BR MTU   a bridge; its MTU pinned after ports joined
#   addrs NS DEV CIDR...          add addresses
#   start_bg TAG NS CMD...        start a service in NS, record its PID
#   http_server TAG NS BIND PORT  python3 -m http.server as a service
#   wait_listen NS PROTO PORT     wait until something listens on PORT (tcp|udp)
#   wait_carrier NS DEV           wait until DEV has carrier (a bridge: a port is forwarding)
#   wait_dad NS...                wait until no IPv6 address is tentative any more
#   probe_http / probe_ping       behaviour probes, one result line each on stdout
#   dump_ns NS OUTDIR [text|json|both]   the per-namespace dump (file names: see below)
#   write_versions FILE [CMD...]  tool versions into .capture/versions.txt
#   write_topology SCRIPT FILE    the script's header comment into .capture/topology.txt
#   ipt / ip6t ARG...             iptables / ip6tables ($IPT / $IP6T) inside namespace $IPT_NS
#   iptables_backend              nft or legacy: the backend plain `iptables` (dockerd's) uses
#   tap_holder TAG NS DEV:tap|DEV:tun...   hold tun/tap devices open as QEMU / a VPN client would
#
# Docker — a real dockerd confined to one namespace (section "Docker" below):
#   docker_require / docker_start [DOCKERD_ARG...] / docker_image / docker_wait_containers PORT
#   dk DOCKER_ARG...  the docker client of this lab's dockerd;  docker_dump OUT BACKEND;
#   docker_versions;  docker_down (teardown hook)
# libvirt — its network driver's host side, replayed, and virsh's test driver (section "libvirt"):
#   libvirt_bridge / libvirt_tap / libvirt_private_chains / libvirt_nat_rules /
#   libvirt_route_rules / virsh_dump NODE_XML OUT / virsh_versions NODE_XML
#
# Knobs read by dump_ns (set them as `VAR=value dump_ns ...` for one call):
#   DUMP_SS        plain (ss -lntuH, default) | procs (ss -lntupH) | both | none
#   DUMP_IPTABLES  none (default) | nft | legacy   -> iptables-save.txt + ip6tables-save.txt
#   LAB_VERBOSE=1  echo every command that changes the lab (x ...)

LAB_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
[ -x "$PY" ] || PY=python3
LAB_NAMESPACES=()       # every namespace this lab owns (filled by lab_init's caller)
LAB_TEARDOWN_HOOKS=()   # extra functions lab_teardown runs first (e.g. stop dockerd)

log() { printf '[%s] %s\n' "${LAB_NAME:-lab}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
x() { [ "${LAB_VERBOSE:-0}" = 1 ] && printf '+ %s\n' "$*" >&2; "$@"; }

lab_require() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (run tools/lab/install-deps.sh)"
}

# lab_init NAME OUT_DIR — call after LAB_NAMESPACES is set (names via lab_ns ROLE).
lab_init() {
  LAB_NAME=$1 LAB_OUT=$2
  [ "$(id -u)" = 0 ] || die "must run as root"
  LAB_RUNDIR="${TMPDIR:-/tmp}/netlint-lab.$LAB_NAME.$LAB_PREFIX"
  # One run of a lab at a time on this machine, from any clone: a second one would share
  # dockerd's fixed directories, and with the same prefix the namespaces too. The lock is a
  # file of the machine's (not of the clone, not under TMPDIR). Background processes must
  # not inherit fd 9 (start_bg closes it), or a run killed with SIGKILL would leave the lock
  # held by its services.
  local lock_dir=/run/lock
  [ -d "$lock_dir" ] && [ -w "$lock_dir" ] || lock_dir=/tmp
  exec 9>"$lock_dir/netlint-lab.$LAB_NAME.lock"
  flock -n 9 || die "another run of the $LAB_NAME lab is in progress on this machine"
  lab_teardown quiet        # a previous run killed with SIGKILL may have left things behind
  trap 'lab_teardown' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$LAB_RUNDIR"
  : > "$LAB_RUNDIR/pids"
  lab_prepare_out "$LAB_OUT"
}

# The namespace name for a role of this lab, e.g. lab_ns host -> netlint-nl-host.
lab_ns() { printf '%s-%s' "$LAB_PREFIX" "$1"; }

# OUT_DIR must be absent, empty, or a previous dump (it has .capture/): then it is emptied.
lab_prepare_out() {
  local out=$1
  if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
    [ -d "$out/.capture" ] || die "$out is not empty and is not a previous dump; refusing to clear it"
    find "$out" -mindepth 1 -delete
  fi
  mkdir -p "$out/.capture"
}

# Runs in a subshell: `set +e` must not leak into the caller, and a failing step of the
# cleanup must not stop the remaining steps.
lab_teardown() (
  local rc=$? quiet=${1:-} h ns pid
  set +e
  for h in "${LAB_TEARDOWN_HOOKS[@]}"; do "$h"; done
  if [ -f "${LAB_RUNDIR:-/nonexistent}/pids" ]; then
    while read -r pid; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done < "$LAB_RUNDIR/pids"
  fi
  for ns in "${LAB_NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] || continue
    # anything still running inside one of OUR namespaces was started by this lab
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  sleep 0.2
  for ns in "${LAB_NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null || log "could not delete netns $ns"
  done
  [ -n "${LAB_RUNDIR:-}" ] && rm -rf "$LAB_RUNDIR"
  [ "$quiet" = quiet ] || log "torn down"
  exit $rc
)

ns_add() {
  local ns
  for ns in "$@"; do
    x ip netns add "$ns"
    x ip -n "$ns" link set lo up
  done
}

# ns_sysctl NS KEY=VALUE... — like sysctl -w inside NS, without needing procps
ns_sysctl() {
  local ns=$1 kv; shift
  for kv in "$@"; do
    x ip netns exec "$ns" sh -c "echo '${kv#*=}' > /proc/sys/$(printf '%s' "${kv%%=*}" | tr . /)"
  done
}

# ns_exec NS CMD... — NS is a netns name, or pid:PID for the network namespace of a process
# (Docker containers). nsenter keeps the root mount namespace, so host binaries are used.
ns_exec() {
  local ns=$1; shift
  case $ns in
    pid:*) nsenter -t "${ns#pid:}" -n "$@" ;;
    *) ip netns exec "$ns" "$@" ;;
  esac
}

# veth NS_A IF_A NS_B IF_B [MTU_A] [MTU_B] — a veth pair with one end in each namespace, both up.
veth() {
  local na=$1 ia=$2 nb=$3 ib=$4 ma=${5:-1500} mb=${6:-${5:-1500}}
  x ip -n "$na" link add "$ia" mtu "$ma" type veth peer name "$ib" mtu "$mb" netns "$nb"
  x ip -n "$na" link set "$ia" up
  x ip -n "$nb" link set "$ib" up
}

# bridge_add NS BR ADDR... — a bridge with addresses (CIDR), left down until bridge_up.
bridge_add() {
  local ns=$1 br=$2; shift 2
  x ip -n "$ns" link add "$br" type bridge
  local a; for a in "$@"; do x ip -n "$ns" addr add "$a" dev "$br"; done
}

# bridge_up NS BR MTU — pin the MTU AFTER the ports joined (a bridge otherwise follows its
# smallest port; setting the MTU it already has does not mark it user-set), then bring it up.
bridge_up() {
  x ip -n "$1" link set "$2" mtu "$3"
  x ip -n "$1" link set "$2" up
}

addrs() { # addrs NS DEV CIDR...
  local ns=$1 dev=$2 a; shift 2
  for a in "$@"; do x ip -n "$ns" addr add "$a" dev "$dev"; done
}

start_bg() { # start_bg TAG NS CMD...  (fd 9, the run lock, is not passed on)
  local tag=$1 ns=$2; shift 2
  ns_exec "$ns" "$@" > "$LAB_RUNDIR/$tag.log" 2>&1 9<&- &
  echo $! >> "$LAB_RUNDIR/pids"
}

# a python3 http.server serving $LAB_RUNDIR/www:  http_server TAG NS BIND PORT
http_server() {
  mkdir -p "$LAB_RUNDIR/www"
  [ -f "$LAB_RUNDIR/www/index.html" ] || echo "hello from netlint $LAB_NAME" > "$LAB_RUNDIR/www/index.html"
  start_bg "$1" "$2" "$PY" -m http.server --bind "$3" --directory "$LAB_RUNDIR/www" "$4"
}

wait_listen() { # wait_listen NS tcp|udp PORT [TIMEOUT_S]
  local ns=$1 proto=$2 port=$3 t=${4:-10} i flag=-lntH
  [ "$proto" = udp ] && flag=-lnuH
  for ((i = 0; i < t * 10; i++)); do
    ns_exec "$ns" ss "$flag" "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  die "nothing listens on $proto/$port in $ns after ${t}s"
}

# wait_carrier NS DEV [TIMEOUT_S] — wait until DEV has carrier (operstate UP). A bridge with STP
# on gets it once one of its ports reaches the forwarding state; the kernel raises a forward
# delay of 0 to its 2 s minimum under STP, so that takes listening + learning, about 4 s.
wait_carrier() {
  local ns=$1 dev=$2 t=${3:-15} i
  for ((i = 0; i < t * 10; i++)); do
    ip -n "$ns" -o link show dev "$dev" | grep -q ' state UP ' && return 0
    sleep 0.1
  done
  die "$dev in $ns has no carrier after ${t}s: $(ip -n "$ns" -o link show dev "$dev")"
}

wait_dad() { # wait_dad NS... — IPv6 addresses are usable only after duplicate address detection
  local ns i
  for ns in "$@"; do
    for ((i = 0; i < 50; i++)); do
      [ -z "$(ip -n "$ns" -6 addr show tentative)" ] && break
      sleep 0.1
    done
  done
}

# probe_http LABEL NS URL — one line: the HTTP code curl saw and curl's exit code
probe_http() {
  local code rc=0
  code=$(ns_exec "$2" curl -s -g -m 2 -o /dev/null -w '%{http_code}' "$3") || rc=$?
  printf '%-44s curl -m 2 %s (from %s) -> http_code=%s rc=%s\n' "$1:" "$3" "$2" "$code" "$rc"
}

# probe_ping LABEL NS PAYLOAD DST — ping with DF set (-M do): PAYLOAD+28 is the IPv4 packet size
probe_ping() {
  local rc=0 out
  out=$(ns_exec "$2" ping -c 1 -W 1 -M do -s "$3" "$4" 2>&1) || rc=$?
  printf '%-44s ping -M do -s %s %s (from %s) -> rc=%s %s\n' "$1:" "$3" "$4" "$2" "$rc" \
    "$(printf '%s' "$out" | grep -Eo 'message too long.*|[0-9]+% packet loss' | head -1)"
}

# _dump NS FILE CMD... — stdout to FILE; stderr kept next to it as a dot-file (ignored by the
# linter) and echoed; a failing command fails the capture.
_dump() {
  local ns=$1 file=$2 err; shift 2
  err="$(dirname "$file")/.$(basename "$file").stderr"
  ns_exec "$ns" "$@" > "$file" 2> "$err" || die "'$*' failed in $ns: $(cat "$err")"
  if [ -s "$err" ]; then log "note: '$*' in $ns wrote to stderr: $(head -c 300 "$err")"; else rm -f "$err"; fi
  [ -s "$file" ] || [ "${DUMP_EMPTY_OK:-0}" = 1 ] ||
    log "note: '$*' in $ns printed nothing ($(basename "$file") is empty)"
}

# dump_ns NS OUTDIR [text|json|both] — the network state of one namespace, one file per tool.
#   json: ip-j-d-link.json ip-j-addr.json ip-j-route.json ip-j-6-route.json
#   text: ip-d-link.txt    ip-addr.txt    ip-route.txt    ip-6-route.txt
#   ss (DUMP_SS): ss-lntuH.txt and/or ss-lntupH.txt
#   iptables (DUMP_IPTABLES=nft|legacy): iptables-save.txt ip6tables-save.txt
dump_ns() {
  local ns=$1 d=$2 mode=${3:-json}
  case $mode in text|json|both) ;; *) die "dump_ns: mode must be text, json or both" ;; esac
  mkdir -p "$d"
  if [ "$mode" != text ]; then
    _dump "$ns" "$d/ip-j-d-link.json" ip -j -d link show
    _dump "$ns" "$d/ip-j-addr.json"   ip -j addr show
    _dump "$ns" "$d/ip-j-route.json"  ip -j route show table all
    _dump "$ns" "$d/ip-j-6-route.json" ip -j -6 route show table all
  fi
  if [ "$mode" != json ]; then
    _dump "$ns" "$d/ip-d-link.txt"    ip -d link show
    _dump "$ns" "$d/ip-addr.txt"      ip addr show
    _dump "$ns" "$d/ip-route.txt"     ip route show table all
    _dump "$ns" "$d/ip-6-route.txt"   ip -6 route show table all
  fi
  case ${DUMP_SS:-plain} in
    plain) _dump "$ns" "$d/ss-lntuH.txt" ss -lntuH ;;
    procs) _dump "$ns" "$d/ss-lntupH.txt" ss -lntupH ;;
    both)  _dump "$ns" "$d/ss-lntuH.txt" ss -lntuH; _dump "$ns" "$d/ss-lntupH.txt" ss -lntupH ;;
    none)  ;;
    *) die "DUMP_SS must be plain, procs, both or none" ;;
  esac
  case ${DUMP_IPTABLES:-none} in
    nft|legacy)
      # *-save prints nothing when the namespace has no table at all: then no file is kept
      # (an empty file would tell the linter nothing, and it classifies files by content)
      local f
      for f in iptables ip6tables; do
        DUMP_EMPTY_OK=1 _dump "$ns" "$d/$f-save.txt" "$f-$DUMP_IPTABLES-save"
        [ -s "$d/$f-save.txt" ] || rm -f "$d/$f-save.txt"
      done ;;
    none) ;;
    *) die "DUMP_IPTABLES must be none, nft or legacy" ;;
  esac
}

# write_versions FILE [CMD...] — versions of the tools that produced the dump; each extra
# argument is one shell command whose output is appended.
write_versions() {
  local f=$1 c; shift
  {
    echo "captured-by: tools/lab/$(basename "$0")"
    echo "kernel: $(uname -r)"
    [ -r /etc/os-release ] && echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
    ip -V; ss -V
    iptables-nft --version; iptables-legacy --version; nft --version
    curl --version | head -1; ping -V 2>&1 | head -1
    "$PY" --version
    for c in "$@"; do bash -c "$c" 2>&1; done
  } > "$f" 2>&1
}

# write_topology SCRIPT FILE — the leading comment block of SCRIPT (what it builds).
write_topology() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$1" > "$2"
}

# ipt / ip6t ARG... — iptables / ip6tables of the backend the script chose ($IPT / $IP6T, e.g.
# iptables-nft) inside namespace $IPT_NS. -w waits for the xtables lock, which a dockerd of the
# same run may hold (the lock file is shared by all namespaces).
ipt() { x ip netns exec "$IPT_NS" "$IPT" -w "$@"; }
ip6t() { x ip netns exec "$IPT_NS" "$IP6T" -w "$@"; }

# iptables_backend — nft or legacy: what plain `iptables` is (dockerd runs plain `iptables`).
iptables_backend() {
  case $(iptables --version) in *nf_tables*) echo nft ;; *) echo legacy ;; esac
}

# tap_holder TAG NS DEV:tap|DEV:tun... — one background process holding existing tun/tap devices
# open, as QEMU holds a guest's tap (with vnet_hdr) and a VPN client its tun: without a reader
# the kernel reports NO-CARRIER on the device (and on a bridge whose only port it is) and marks
# its routes linkdown.
tap_holder() {
  local tag=$1 ns=$2 i; shift 2
  start_bg "$tag" "$ns" "$PY" -c '
import fcntl, os, signal, struct, sys
TUNSETIFF, IFF_TUN, IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x400454ca, 0x1, 0x2, 0x1000, 0x4000
FLAGS = {"tap": IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, "tun": IFF_TUN | IFF_NO_PI}
fds = []
for spec in sys.argv[1:]:
    name, kind = spec.split(":")
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), FLAGS[kind]))
    fds.append(fd)
print("holding", " ".join(sys.argv[1:]), flush=True)
signal.pause()
' "$@"
  for ((i = 0; i < 50; i++)); do
    grep -q holding "$LAB_RUNDIR/$tag.log" 2>/dev/null && return 0
    sleep 0.1
  done
  die "tun/tap holder failed: $(cat "$LAB_RUNDIR/$tag.log")"
}

# ---------------------------------------------------------------------------------------------
# Docker: a REAL dockerd (Debian docker.io) confined to one namespace of the lab.
#
# The script sets, before lab_init:
#   DOCKER_NS           the namespace dockerd runs in (its containers get namespaces of their own)
#   DOCKER_CONTAINERS   the containers it runs (names; dumped to OUT/<name>/ by docker_dump)
#   DOCKER_NETWORKS     the user networks it creates (may be empty)
#   LAB_TEARDOWN_HOOKS+=(docker_down)
# dockerd is started with `nsenter --net=/run/netns/NS` (under `ip netns exec` it fails: "Devices
# cgroup isn't mounted"), with its data root, exec root, socket, client config and cgroup parent
# (netlint-$LAB_NAME) private to the lab. The client is /usr/bin/docker (the engine's own).
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=docker
DOCKER_IMAGE=netlint/busybox:lab
DOCKER_CONTAINERS=() DOCKER_NETWORKS=()
# directories dockerd/containerd create at fixed places whatever the flags
DOCKER_FIXED_DIRS=(/run/docker /run/containerd /opt/containerd)
declare -A DOCKER_PID=()     # container name -> PID of its init (docker_wait_containers)

docker_require() { lab_require nsenter iptables dockerd containerd busybox "$DOCKER"; }

# dk DOCKER_ARG... — the docker client, pointed at this lab's dockerd
dk() {
  DOCKER_HOST="unix://$LAB_RUNDIR/docker.sock" DOCKER_CONFIG="$LAB_RUNDIR/client" \
    timeout 60 "$DOCKER" "$@"
}

# docker_down — teardown hook; lab_init runs it too, for a dockerd a killed run left behind.
docker_down() {
  local pid="" i m c
  [ -f "$LAB_RUNDIR/dockerd.pid" ] && pid=$(cat "$LAB_RUNDIR/dockerd.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(ip netns identify "$pid")" = "$DOCKER_NS" ]; then
    [ ${#DOCKER_CONTAINERS[@]} -eq 0 ] || dk rm -f "${DOCKER_CONTAINERS[@]}" >/dev/null 2>&1
    [ ${#DOCKER_NETWORKS[@]} -eq 0 ] || dk network rm "${DOCKER_NETWORKS[@]}" >/dev/null 2>&1
    dk image rm -f "$DOCKER_IMAGE" >/dev/null 2>&1
    kill "$pid"        # dockerd stops its containerd, shims and docker-proxy processes
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  fi
  # overlay/shm/netns mounts left under the data or exec root (deepest first)
  for m in $(findmnt -rn -o TARGET | grep "^$LAB_RUNDIR/" | sort -r); do umount -l "$m"; done
  if [ -f "$LAB_RUNDIR/created-dirs" ]; then
    while read -r m; do [ -d "$m" ] && find "$m" -depth -type d -empty -delete; done \
      < "$LAB_RUNDIR/created-dirs"
  fi
  # the per-lab cgroup parent, once its containers are gone (cgroup v1 or v2 layouts)
  for c in /sys/fs/cgroup/*/"netlint-$LAB_NAME" /sys/fs/cgroup/"netlint-$LAB_NAME"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}

# docker_start [DOCKERD_ARG...] — start dockerd in $DOCKER_NS and wait until it answers.
docker_start() {
  local p i
  mkdir -p "$LAB_RUNDIR/client"
  # our own daemon.json (not /etc/docker/daemon.json); the trust key goes to the run dir, not
  # to /etc/docker/key.json
  printf '{ "deprecated-key-path": "%s/key.json" }\n' "$LAB_RUNDIR" > "$LAB_RUNDIR/daemon.json"
  # remember the fixed directories that did not exist before: docker_down removes them again
  # once they are empty
  for p in "${DOCKER_FIXED_DIRS[@]}"; do [ -e "$p" ] || echo "$p" >> "$LAB_RUNDIR/created-dirs"; done
  DOCKER_HOST="unix://$LAB_RUNDIR/docker.sock"
  log "starting dockerd"
  nsenter --net="/run/netns/$DOCKER_NS" dockerd \
    --config-file "$LAB_RUNDIR/daemon.json" \
    --data-root "$LAB_RUNDIR/data" --exec-root "$LAB_RUNDIR/exec" \
    --pidfile "$LAB_RUNDIR/dockerd.pid" -H "$DOCKER_HOST" \
    --cgroup-parent "netlint-$LAB_NAME" "$@" \
    > "$LAB_RUNDIR/dockerd.log" 2>&1 9<&- &
  echo $! >> "$LAB_RUNDIR/pids"
  for ((i = 0; i < 120; i++)); do dk version >/dev/null 2>&1 && return 0; sleep 0.25; done
  tail -30 "$LAB_RUNDIR/dockerd.log" >&2
  die "dockerd did not start"
}

# docker_image — $DOCKER_IMAGE: busybox-static and a page in /www, imported (no registry).
docker_image() {
  local a r="$LAB_RUNDIR/rootfs"
  mkdir -p "$r/bin" "$r/www"
  cp "$(command -v busybox)" "$r/bin/busybox"
  for a in sh httpd ip sleep cat ls nc; do ln -sf busybox "$r/bin/$a"; done
  echo "hello from netlint $LAB_NAME" > "$r/www/index.html"
  tar -C "$r" -c . | dk import -c 'CMD ["/bin/sh"]' - "$DOCKER_IMAGE" >/dev/null
}

# docker_wait_containers PORT — record each container's PID (in DOCKER_PID and in the run's pid
# list, so that a hard-killed run can still be cleaned) and wait until it listens on tcp PORT.
docker_wait_containers() {
  local c
  for c in "${DOCKER_CONTAINERS[@]}"; do
    DOCKER_PID[$c]=$(dk inspect -f '{{.State.Pid}}' "$c")
    echo "${DOCKER_PID[$c]}" >> "$LAB_RUNDIR/pids"
    wait_listen "pid:${DOCKER_PID[$c]}" tcp "$1"
  done
}

# docker_dump OUT BACKEND — OUT/docker-inspect.json (all containers), OUT/docker-network-inspect
# .json (all networks), OUT/<container>/ = each container's namespace via nsenter -t PID -n (JSON
# forms, ss -lntuH, and iptables-save where Docker put rules: the NAT for its embedded DNS
# 127.0.0.11 on user networks), .capture/docker-ps.txt and .capture/dockerd.log.
docker_dump() {
  local out=$1 backend=$2 c all_c all_n
  mapfile -t all_c < <(dk ps -a --format '{{.Names}}' | sort)
  mapfile -t all_n < <(dk network ls --format '{{.Name}}' | sort)
  dk inspect "${all_c[@]}" > "$out/docker-inspect.json"
  dk network inspect "${all_n[@]}" > "$out/docker-network-inspect.json"
  for c in "${DOCKER_CONTAINERS[@]}"; do
    DUMP_IPTABLES=$backend dump_ns "pid:${DOCKER_PID[$c]}" "$out/$c" json
  done
  dk ps -a --no-trunc > "$out/.capture/docker-ps.txt"
  cp "$LAB_RUNDIR/dockerd.log" "$out/.capture/dockerd.log"
}

# docker_versions — lines for .capture/versions.txt (append them after write_versions)
docker_versions() {
  echo "iptables used by dockerd: $(readlink -f "$(command -v iptables)") ($(iptables_backend))"
  DOCKER_HOST=$DOCKER_HOST DOCKER_CONFIG=$LAB_RUNDIR/client "$DOCKER" version 2>&1
  containerd --version 2>&1
}

# ---------------------------------------------------------------------------------------------
# libvirt: what libvirtd's network driver sets up on the host, replayed without a daemon, and
# the configuration as virsh prints it from the test driver (virsh -c test:///ABS/node.xml).
#
# The iptables rules are WRITTEN FROM LIBVIRT'S DOCUMENTATION AND SOURCE (no libvirtd runs
# here): the chain layout is the one described at https://libvirt.org/firewall.html ("The
# default networking setup"); the exact commands and their order follow libvirt's iptables
# backend (src/network/network_iptables.c: iptablesSetupPrivateChains, iptablesAddFirewallRules).
# libvirt --inserts every rule, so the later a rule is added the higher it sits in its chain.
# They go through the script's ipt / ip6t (namespace $IPT_NS).

# libvirt_bridge NS BR MAC CIDR... — a network's bridge as the network driver creates it: the
# network's <mac>, STP on, forward delay 0 (<bridge stp='on' delay='0'/>). Left down: bring it
# up with bridge_up once its taps joined (or `ip link set BR up` when it has none).
libvirt_bridge() {
  local ns=$1 br=$2 mac=$3; shift 3
  bridge_add "$ns" "$br" "$@"
  x ip -n "$ns" link set "$br" address "$mac"
  x ip -n "$ns" link set "$br" type bridge stp_state 1 forward_delay 0
}

# libvirt_tap NS DEV GUEST_MAC BR — a running guest's tap as libvirt makes it: named vnetN, the
# guest's MAC with a first byte of 0xfe, MTU 1500, port of BR, up. Hold it open (tap_holder).
libvirt_tap() {
  local ns=$1 dev=$2 mac=$3 br=$4
  x ip -n "$ns" tuntap add dev "$dev" mode tap vnet_hdr
  x ip -n "$ns" link set "$dev" address "fe${mac:2}" mtu 1500 master "$br" up
}

# libvirt_private_chains ipt|ip6t — LIBVIRT_INP/OUT/FWO/FWI/FWX and nat/mangle LIBVIRT_PRT,
# created once for the first network started (for both IPv4 and IPv6).
libvirt_private_chains() {
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
_lv_svc_in() { $1 --table filter --insert LIBVIRT_INP --in-interface "$2" --protocol "$3" \
                 --destination-port "$4" --jump ACCEPT; }
_lv_svc_out() { $1 --table filter --insert LIBVIRT_OUT --out-interface "$2" --protocol "$3" \
                  --destination-port "$4" --jump ACCEPT; }
# _lv_general_rules ipt|ip6t BRIDGE — DHCP/DNS to dnsmasq, reject by default, guest<->guest.
# libvirt adds the IPv6 ones only when the network has an IPv6 address.
_lv_general_rules() {
  local t=$1 br=$2
  if [ "$t" = ipt ]; then
    _lv_svc_in $t "$br" tcp 67; _lv_svc_in $t "$br" udp 67
    _lv_svc_out $t "$br" tcp 68; _lv_svc_out $t "$br" udp 68
  fi
  [ "$t" = ipt ] || _lv_reject_and_cross $t "$br"
  _lv_svc_in $t "$br" tcp 53; _lv_svc_in $t "$br" udp 53
  _lv_svc_out $t "$br" tcp 53; _lv_svc_out $t "$br" udp 53
  if [ "$t" = ip6t ]; then _lv_svc_in $t "$br" udp 547; _lv_svc_out $t "$br" udp 546; fi
  [ "$t" = ipt ] && _lv_reject_and_cross $t "$br"
  return 0
}
_lv_reject_and_cross() {
  $1 --table filter --insert LIBVIRT_FWO --in-interface "$2" --jump REJECT
  $1 --table filter --insert LIBVIRT_FWI --out-interface "$2" --jump REJECT
  $1 --table filter --insert LIBVIRT_FWX --in-interface "$2" --out-interface "$2" --jump ACCEPT
}
_lv_allow_out() { $1 --table filter --insert LIBVIRT_FWO --source "$3" --in-interface "$2" --jump ACCEPT; }
_lv_allow_in() { $1 --table filter --insert LIBVIRT_FWI --destination "$3" --out-interface "$2" --jump ACCEPT; }
_lv_masquerade_rules() { # BRIDGE NET4 — forward mode nat, <nat><port start='1024' end='65535'/>
  local br=$1 net=$2
  _lv_allow_out ipt "$br" "$net"
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
_lv_checksum_rule() { ipt --table mangle --insert LIBVIRT_PRT --out-interface "$1" --protocol udp \
                        --destination-port 68 --jump CHECKSUM --checksum-fill; }

# libvirt_nat_rules BRIDGE NET4 [NET6] — starting a <forward mode='nat'> network: IPv4 NET4
# with DHCP, NATed; the optional IPv6 NET6 is routed, not NATed (libvirt's default).
libvirt_nat_rules() {
  local br=$1 net4=$2 net6=${3:-}
  _lv_general_rules ipt "$br"
  [ -z "$net6" ] || _lv_general_rules ip6t "$br"
  _lv_masquerade_rules "$br" "$net4"
  if [ -n "$net6" ]; then _lv_allow_out ip6t "$br" "$net6"; _lv_allow_in ip6t "$br" "$net6"; fi
  _lv_checksum_rule "$br"
}

# libvirt_route_rules BRIDGE NET4 — starting a <forward mode='route'> network (IPv4, DHCP)
libvirt_route_rules() {
  _lv_general_rules ipt "$1"
  _lv_allow_out ipt "$1" "$2"
  _lv_allow_in ipt "$1" "$2"
  _lv_checksum_rule "$1"
}

# virsh_dump NODE_XML OUT — from virsh's test driver loaded with NODE_XML: virsh dumpxml of every
# domain (OUT/virsh-dumpxml-<domain>.xml), virsh net-dumpxml of every network (OUT/virsh-net-
# dumpxml-<network>.xml); the lists and NODE_XML itself go to OUT/.capture/.
virsh_dump() {
  local uri="test://$1" out=$2 d n domains networks
  mapfile -t domains < <(virsh -q -c "$uri" list --all --name | sed '/^$/d' | sort)
  mapfile -t networks < <(virsh -q -c "$uri" net-list --all --name | sed '/^$/d' | sort)
  for d in "${domains[@]}"; do virsh -q -c "$uri" dumpxml "$d" > "$out/virsh-dumpxml-$d.xml"; done
  for n in "${networks[@]}"; do virsh -q -c "$uri" net-dumpxml "$n" > "$out/virsh-net-dumpxml-$n.xml"; done
  { echo "\$ virsh -c $uri list --all"; virsh -c "$uri" list --all
    echo "\$ virsh -c $uri net-list --all"; virsh -c "$uri" net-list --all
  } > "$out/.capture/virsh-lists.txt"
  cp "$1" "$out/.capture/$(basename "$1")"
}

# virsh_versions NODE_XML — lines for .capture/versions.txt (append them after write_versions)
virsh_versions() {
  echo "virsh $(virsh --version), connection: test://$1"
  virsh -c "test://$1" version 2>&1
}
