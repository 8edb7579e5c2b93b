#!/usr/bin/env bash
# install-deps.sh — install the Debian packages the capture scripts in tools/lab/ use, only if
# some are missing. Idempotent; runs as root with no stdin (CI=true, DEBIAN_FRONTEND unset).
#
# Usage: tools/lab/install-deps.sh           install what is missing
#        tools/lab/install-deps.sh --check   only report; exit 1 when something is missing
#
# Packages: iptables nftables curl iputils-ping docker.io busybox-static libvirt-clients
#           iproute2 python3
# docker.io's maintainer scripts would start dockerd in the root network namespace: when the
# machine has no /usr/sbin/policy-rc.d, one that forbids starting services (exit 101) is put
# in place for the duration of the install (the capture scripts start dockerd themselves,
# confined to a namespace).
set -euo pipefail

PACKAGES=(iptables nftables curl iputils-ping docker.io busybox-static libvirt-clients iproute2 python3)
POLICY=/usr/sbin/policy-rc.d

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present: ${PACKAGES[*]}"
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"
[ "${1:-}" = --check ] && exit 1

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: must run as root" >&2; exit 1; }
  SUDO=(sudo -n)
fi

placed_policy=0
cleanup() { [ "$placed_policy" = 1 ] && "${SUDO[@]}" rm -f "$POLICY"; return 0; }
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# placed by netlint tools/lab/install-deps.sh during apt-get install\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  placed_policy=1
fi

APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
"${APT[@]}" update -q < /dev/null
"${APT[@]}" install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" < /dev/null
echo "install-deps: installed: ${missing[*]}"
