#!/usr/bin/env bash
# capture-all.sh [EXAMPLE...] — run the capture scripts and replace examples/<EXAMPLE>/ with
# fresh dumps, then refresh the parser fixtures in tests/fixtures/captured/.
#
#   EXAMPLE: netns-lab docker-lab libvirt-double-nat clean (default: all four)
#
# Each example is captured into a staging folder next to examples/ (same filesystem) and only
# swapped in when its script succeeded: a failed capture leaves the old example untouched.
# tests/fixtures/captured/netns-lab/ comes from the same netns-lab run (NETLINT_FIXTURES_OUT),
# tests/fixtures/captured/docker-lab/ is copied from the fresh docker-lab dump.
# Needs root and the packages of install-deps.sh (it does not install anything itself).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
EXAMPLES_DIR="$ROOT/examples"
FIXTURES_DIR="$ROOT/tests/fixtures/captured"
ALL=(netns-lab docker-lab libvirt-double-nat clean)
declare -A SCRIPT=([netns-lab]=netns-lab.sh [docker-lab]=docker-lab.sh
                   [libvirt-double-nat]=libvirt-double-nat.sh [clean]=clean.sh)

if [ $# -gt 0 ]; then SELECTED=("$@"); else SELECTED=("${ALL[@]}"); fi
for n in "${SELECTED[@]}"; do
  [ -n "${SCRIPT[$n]:-}" ] || { echo "unknown example: $n (known: ${ALL[*]})" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "capture-all.sh must run as root" >&2; exit 1; }

mkdir -p "$EXAMPLES_DIR" "$FIXTURES_DIR"
STAGE=$(mktemp -d "$ROOT/.capture-all.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# swap SRC DST — replace folder DST by SRC (two renames on one filesystem)
swap() {
  local src=$1 dst=$2 old="$STAGE/old.$RANDOM.$(basename "$2")"
  [ -e "$dst" ] && mv "$dst" "$old"
  mv "$src" "$dst"
  rm -rf "$old"
}

declare -A RESULT TIME
failed=0
for n in "${SELECTED[@]}"; do
  echo "=== $n: tools/lab/${SCRIPT[$n]}" >&2
  extra=()
  [ "$n" = netns-lab ] && extra=(NETLINT_FIXTURES_OUT="$STAGE/fixtures/netns-lab")
  start=$EPOCHREALTIME
  if env "${extra[@]}" "$HERE/${SCRIPT[$n]}" "$STAGE/$n"; then
    RESULT[$n]=ok
    swap "$STAGE/$n" "$EXAMPLES_DIR/$n"
  else
    RESULT[$n]="FAILED (rc=$?), examples/$n left as it was"
    failed=1
  fi
  TIME[$n]=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
done

# ---------- parser fixtures ----------
if [ "${RESULT[netns-lab]:-}" = ok ]; then
  swap "$STAGE/fixtures/netns-lab" "$FIXTURES_DIR/netns-lab"
fi
if [ "${RESULT[docker-lab]:-}" = ok ]; then
  d="$STAGE/fixtures/docker-lab"; mkdir -p "$d"
  for f in docker-inspect.json docker-network-inspect.json iptables-save.txt ip6tables-save.txt; do
    cp "$EXAMPLES_DIR/docker-lab/$f" "$d/$f"
  done
  cp "$EXAMPLES_DIR/docker-lab/.capture/versions.txt" "$d/versions.txt"
  swap "$d" "$FIXTURES_DIR/docker-lab"
fi
cat > "$FIXTURES_DIR/README.md" <<'EOF'
# Captured parser fixtures

Real tool output, written by `tools/lab/capture-all.sh` (do not edit by hand; re-run it as root).

- `netns-lab/host/` — the netns-lab host namespace, both forms of every tool:
  `ip-j-d-link.json` + `ip-d-link.txt`, `ip-j-addr.json` + `ip-addr.txt`,
  `ip-j-route.json` + `ip-route.txt` (`ip [-j] route show table all`: with `table all` and no
  `-4`, iproute2 lists IPv6 routes too), `ip-j-6-route.json` + `ip-6-route.txt`,
  `ss-lntuH.txt` + `ss-lntupH.txt`, `iptables-nft-save.txt`, `iptables-legacy-save.txt` (the
  same rules loaded into the legacy backend; note its different table order),
  `iptables-nft-save-with-legacy-warning.txt` (`iptables-nft-save 2>&1` while both backends hold
  tables: starts with a `# Warning: iptables-legacy tables present` line), `ip6tables-save.txt`.
- `netns-lab/c1/` — container c1 (http bound to 127.0.0.1:80): the ip and ss forms as above.
- `docker-lab/` — `docker inspect` of all containers, `docker network inspect` of all networks,
  and the `iptables-save` / `ip6tables-save` of dockerd's namespace (Debian docker.io 20.10).
- `*/versions.txt` — the versions of the tools that printed them.

Per-run values (MACs, PIDs, container and network ids, timestamps) change on every capture.
EOF

echo "=== summary" >&2
for n in "${SELECTED[@]}"; do printf '%-20s %-8s %ss\n' "$n" "${RESULT[$n]}" "${TIME[$n]}" >&2; done
left=$(ip netns list | awk '{print $1}' | grep '^netlint-' || true)
if [ -n "$left" ]; then echo "LEFT BEHIND: namespaces $left" >&2; failed=1; fi
exit $failed
