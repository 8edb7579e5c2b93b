# shellcheck shell=bash
# lib.sh — helpers shared by the netlint capture scripts in tools/lab/.
#
# Source it from a capture script:   . "$(dirname "$0")/lib.sh"
#
# Conventions every capture script follows:
#   - all state lives in namespaces named "$LAB_PREFIX-<role>" (default prefix "netlint-<lab>"),
#     in a run dir "$LAB_RUNDIR" (/tmp/netlint-lab.<lab>) and in processes recorded in
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
#   wait_dad NS...                wait until no IPv6 address is tentative any more
#   probe_http / probe_ping       behaviour probes, one result line each on stdout
#   dump_ns NS OUTDIR [text|json|both]   the per-namespace dump (file names: see below)
#   write_versions FILE [CMD...]  tool versions into .capture/versions.txt
#   write_topology SCRIPT FILE    the script's header comment into .capture/topology.txt
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
  LAB_RUNDIR="${TMPDIR:-/tmp}/netlint-lab.$LAB_NAME"
  # one run of a given script at a time: lock the script file itself (no lock file left over).
  # Background processes must not inherit fd 9 (start_bg closes it), or a run killed with
  # SIGKILL would leave the lock held by its services.
  exec 9<"$0"
  flock -n 9 || die "another run of $0 is in progress"
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
