#!/usr/bin/env bash
# The boot-storm benchmark in one command (root: it creates network namespaces).
# Installs what it needs (Debian packages of ci/apt/bootstorm.txt, bench/requirements.txt into .venv),
# then runs python -m bench.bootstorm with the given arguments (default: 10,000 nodes, all at once).
#   sudo bench/bootstorm/run.sh [--nodes 10000] [--arrival ramp --ramp-seconds 20] [--workers 2] [--profile]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (network namespaces)" >&2
  exit 1
fi
missing=()
for list in ci/apt/bootstorm.txt ci/apt/netboot.txt ci/apt/bss.txt; do
  while read -r pkg _; do
    case "$pkg" in ''|'#'*) continue ;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < "$list"
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
export PYCHAMI_EXTRAS=test
source scripts/env.sh
python -m pip install -q -r bench/requirements.txt
exec python -m bench.bootstorm "$@"
