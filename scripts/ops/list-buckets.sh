#!/bin/sh
# scripts/ops/list-buckets.sh: buckets with their object count, size and creation date.
. "$(dirname "$0")/lib.sh"

usage() {
    cat <<END
usage: $OPS_NAME [--json]

Lists the buckets of alias \$BASALT_ALIAS (now: $ALIAS): name, objects, size (bytes and
1024-based units), creation date (UTC). --json: one object per line with name, objects, size,
created (ISO 8601). Counting walks every listing: slow on buckets of millions of objects.
END
}

json=0
for a in "$@"; do
    case "$a" in
    -h | --help) usage; exit 0 ;;
    --json) json=1 ;;
    *) usage_error "unexpected argument '$a'" ;;
    esac
done
find_cli
check_alias
listing=$(b ls "$ALIAS" --json) || die "cannot list the buckets of $ALIAS"
[ "$json" = 1 ] || printf '%-40s %10s %16s %10s  %s\n' NAME OBJECTS BYTES SIZE CREATED
echo "$listing" | python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        e = json.loads(line)
        print(e["key"].rstrip("/"), e.get("lastModified", ""))
' | while read -r name created; do
    du=$(b du "$ALIAS/$name" --json) || die "cannot sum bucket $name"
    objects=$(echo "$du" | json_field objects)
    size=$(echo "$du" | json_field size)
    if [ "$json" = 1 ]; then
        printf '{"name":"%s","objects":%s,"size":%s,"created":"%s"}\n' "$name" "$objects" \
            "$size" "$created"
    else
        human=$(python3 -c '
import sys
n = float(sys.argv[1]); u = 0
units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
while n >= 1024 and u < 5:
    n /= 1024; u += 1
print(f"{int(n)}B" if u == 0 else f"{n:.1f}{units[u]}")' "$size")
        printf '%-40s %10s %16s %10s  %s\n' "$name" "$objects" "$size" "$human" \
            "$(echo "$created" | sed 's/T/ /; s/Z$/ UTC/')"
    fi
done
