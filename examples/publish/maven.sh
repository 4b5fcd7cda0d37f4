#!/usr/bin/env bash
# Deploy an artifact into the Maven repository on a repofs mount with
# maven-deploy-plugin's deploy-file (a file:// URL: plain file writes, no
# HTTP server needed). Maven writes the jar, the pom and checksums, and
# rewrites maven-metadata.xml in place; repofs commits each file on close,
# so web hosts (examples/nginx/maven.conf) never see a half-written one.
#
#   MNT=/mnt/repo maven.sh FILE GROUP:ARTIFACT:VERSION [CLASSIFIER]
#   maven.sh target/lib-1.2.jar com.example:lib:1.2
#   maven.sh target/lib-1.3-SNAPSHOT.jar com.example:lib:1.3-SNAPSHOT
#   maven.sh target/lib-1.2-sources.jar com.example:lib:1.2 sources
#
# Use POM=path/to/pom.xml to deploy the project's own pom instead of a
# generated one.
set -euo pipefail

MNT="${MNT:-/mnt/repo}"
PLUGIN="${PLUGIN:-org.apache.maven.plugins:maven-deploy-plugin:3.0.0}"

(($# >= 2)) || { echo "usage: $0 FILE GROUP:ARTIFACT:VERSION [CLASSIFIER]" >&2; exit 2; }
file="$1"
IFS=: read -r group artifact version <<<"$2"
classifier="${3:-}"
[[ -n "$group" && -n "$artifact" && -n "$version" ]] ||
  { echo "coordinates must be GROUP:ARTIFACT:VERSION" >&2; exit 2; }
mountpoint -q "$MNT" || { echo "$MNT is not mounted (mount $MNT)" >&2; exit 1; }

args=(-B -q "$PLUGIN:deploy-file"
      -Durl="file://$MNT/maven"
      -Dfile="$file" -DgroupId="$group" -DartifactId="$artifact" -Dversion="$version"
      -Dpackaging="${file##*.}")
if [[ -n "$classifier" ]]; then
  # An attached artifact (sources, javadoc, ...): the pom is the main one's.
  args+=(-Dclassifier="$classifier" -DgeneratePom=false)
elif [[ -n "${POM:-}" ]]; then
  args+=(-DpomFile="$POM")
else
  args+=(-DgeneratePom=true)
fi
mvn "${args[@]}"
echo "deployed $group:$artifact:$version${classifier:+:$classifier} to $MNT/maven"
