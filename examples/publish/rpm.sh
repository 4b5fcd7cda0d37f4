#!/usr/bin/env bash
# Publish .rpm packages into a dnf/yum repository on a repofs mount and
# regenerate its metadata (repodata/) with createrepo_c.
#
#   MNT=/mnt/repo REPO=rpm/el9/x86_64 rpm.sh PKG.rpm...
#
# Sign packages before publishing (rpmsign --addsign, with a GNUPGHOME on
# local disk). createrepo_c writes the new metadata into a temporary
# directory and renames it to repodata/ at the end; --local-sqlite builds
# the sqlite databases on local disk instead of on the mount.
# Web hosts serve $MNT/rpm with examples/nginx/rpm.conf.
set -euo pipefail

MNT="${MNT:-/mnt/repo}"
REPO="$MNT/${REPO:-rpm}"

(($#)) || { echo "usage: $0 PACKAGE.rpm..." >&2; exit 2; }
mountpoint -q "$MNT" || { echo "$MNT is not mounted (mount $MNT)" >&2; exit 1; }

mkdir -p "$REPO/Packages"
for rpm in "$@"; do
  cp "$rpm" "$REPO/Packages/$(basename "$rpm")"
done
# --update reuses the metadata of unchanged packages (same size and mtime),
# so republishing a large repository reads only the new packages.
createrepo_c --update --local-sqlite "$REPO"
