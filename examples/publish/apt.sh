#!/usr/bin/env bash
# Publish .deb packages into the apt repository on a repofs mount.
#
#   MNT=/mnt/repo STATE=/var/lib/repofs-publish/reprepro apt.sh PKG.deb...
#
# reprepro keeps conf/ and its database (db/, Berkeley DB: small random
# writes with fdatasync) in STATE on local disk; --outdir puts only dists/
# and pool/ on the mount. Set STATE up once from examples/reprepro/.
# Signing uses the key named by SignWith in STATE/conf/distributions, from a
# local GNUPGHOME (not on the mount).
# Web hosts serve $MNT/debian with examples/nginx/apt.conf.
set -euo pipefail

MNT="${MNT:-/mnt/repo}"
STATE="${STATE:-/var/lib/repofs-publish/reprepro}"
CODENAME="${CODENAME:-bookworm}"

(($#)) || { echo "usage: $0 PACKAGE.deb..." >&2; exit 2; }
mountpoint -q "$MNT" || { echo "$MNT is not mounted (mount $MNT)" >&2; exit 1; }
[[ -f "$STATE/conf/distributions" ]] ||
  { echo "no $STATE/conf/distributions: copy examples/reprepro/conf there" >&2; exit 1; }

for deb in "$@"; do
  # A newer version replaces the older one; unreferenced pool files are
  # deleted and empty pool directories removed.
  reprepro -b "$STATE" --outdir "$MNT/debian" includedeb "$CODENAME" "$deb"
done
# Other operations, same pattern:
#   reprepro -b "$STATE" --outdir "$MNT/debian" remove "$CODENAME" PACKAGE
#   reprepro -b "$STATE" --outdir "$MNT/debian" export      # rewrite dists/
#   reprepro -b "$STATE" --outdir "$MNT/debian" list "$CODENAME"
