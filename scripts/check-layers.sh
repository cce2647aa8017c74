#!/usr/bin/env bash
# Checks that every #include "<layer>/..." in src/ respects the layering of shared/DESIGN.md
# (STYLE 2.1): a layer includes only itself and the layers listed for it below.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [util]="util"
  [obs]="util obs"
  [erasure]="util obs erasure"
  [http]="util obs http"
  [cluster]="util obs http cluster"
  [storage]="util obs cluster storage"
  [object]="util obs erasure storage cluster object"
  [iam]="util obs object iam"
  [auth]="util obs iam auth"
  [s3]="util obs http auth iam object s3"
  [client]="util obs auth client"
  [server]="util obs http cluster storage erasure object iam auth s3 server"
  [cli]="util obs client server cluster auth cli"
)

bad=0
for f in src/*/*.c src/*/*.h; do
  [ -e "$f" ] || continue
  layer=$(basename "$(dirname "$f")")
  ok=" ${allowed[$layer]:-} "
  if [ "$ok" = "  " ]; then
    echo "check-layers: $f: unknown layer '$layer' (add it to scripts/check-layers.sh)"; bad=1; continue
  fi
  while IFS= read -r inc; do
    dep=${inc%%/*}
    case "$ok" in *" $dep "*) ;; *)
      echo "check-layers: $f includes \"$inc\": $layer may not include $dep"; bad=1;;
    esac
  done < <(grep -oE '^#include "[a-z0-9_]+/[^"]+"' "$f" | sed -E 's/#include "([^"]+)"/\1/')
done
# The floor of object/ (src/object/internal.h): placement, quorum, the heal queue, bucket metadata
# and the view of a version. The operations (put, get, delete, list, heal, ...) use it; it never
# calls them back, so a floor file may call only object__ functions that floor files define.
floor="src/object/placement.c src/object/quorum.c src/object/healq.c src/object/bucketmeta.c src/object/objinfo.c"
floor_defs=$(grep -hoE '^object__[a-z0-9_]+\(' $floor | sort -u)
for f in $floor; do
  for call in $(grep -oE '\bobject__[a-z0-9_]+\(' "$f" | sort -u); do
    if ! grep -qxF "$call" <<<"$floor_defs"; then
      echo "check-layers: $f calls ${call%(}, which is not in the floor of object/ ($floor)"; bad=1
    fi
  done
done
[ $bad -eq 0 ] && echo "check-layers: ok"
exit $bad
