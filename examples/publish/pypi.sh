#!/usr/bin/env bash
# Publish Python wheels and sdists into a PEP 503 "simple" index on a repofs
# mount: each file goes to simple/<normalized-name>/, and nginx's autoindex
# (examples/nginx/pypi.conf) is the index page pip reads.
#
#   MNT=/mnt/repo pypi.sh dist/*.whl dist/*.tar.gz
#
# A file becomes visible to other hosts whole, when cp closes it (repofs
# uploads on close). Published files are never overwritten (as on PyPI).
set -euo pipefail

MNT="${MNT:-/mnt/repo}"
SIMPLE="$MNT/pypi/simple"

(($#)) || { echo "usage: $0 FILE.whl|FILE.tar.gz..." >&2; exit 2; }
mountpoint -q "$MNT" || { echo "$MNT is not mounted (mount $MNT)" >&2; exit 1; }

for file in "$@"; do
  base="$(basename "$file")"
  case "$base" in
    *.whl) name="${base%%-*}" ;;                   # name-ver(-build)-py-abi-plat.whl
    *.tar.gz) name="${base%.tar.gz}"; name="${name%-*}" ;;  # name-ver.tar.gz
    *.zip) name="${base%.zip}"; name="${name%-*}" ;;
    *) echo "skipping $file: not a wheel or sdist" >&2; continue ;;
  esac
  # PEP 503: lowercase, runs of "-", "_" and "." become one "-".
  project="$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]' | sed -E 's/[-_.]+/-/g')"
  dest="$SIMPLE/$project/$base"
  if [[ -e "$dest" ]]; then
    if cmp -s "$file" "$dest"; then echo "already published: $dest"; continue; fi
    echo "refusing to replace $dest with different content" >&2
    exit 1
  fi
  mkdir -p "$SIMPLE/$project"
  cp "$file" "$dest"
  echo "published $dest"
done
