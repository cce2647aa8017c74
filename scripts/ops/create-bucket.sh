#!/bin/sh
# scripts/ops/create-bucket.sh: one private bucket (docs/ops-scripts.md).
. "$(dirname "$0")/lib.sh"

usage() {
    cat <<END
usage: $OPS_NAME NAME [--retention DAYS]

Creates the private bucket NAME on alias \$BASALT_ALIAS (now: $ALIAS); an existing bucket is
left as it is (exit 0). --retention DAYS (a default object-lock retention) is refused: Basalt
has no object lock yet.
END
}

name=""
retention=""
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) usage; exit 0 ;;
    --retention)
        [ $# -ge 2 ] || usage_error "--retention needs a number of days"
        retention=$2
        shift
        ;;
    --retention=*) retention=${1#--retention=} ;;
    -*) usage_error "unknown flag '$1'" ;;
    *)
        [ -z "$name" ] || usage_error "one bucket name only"
        name=$1
        ;;
    esac
    shift
done
[ -n "$name" ] || usage_error "expected a bucket NAME"
if [ -n "$retention" ]; then
    case "$retention" in
    *[!0-9]* | "") usage_error "--retention: '$retention' is not a number of days" ;;
    esac
    die "--retention needs object lock, which Basalt does not have yet: create the bucket without it"
fi
find_cli
if b stat "$ALIAS/$name" >/dev/null 2>&1; then
    echo "bucket $ALIAS/$name: exists, left as it is"
    exit 0
fi
b mb "$ALIAS/$name" >/dev/null || die "cannot create bucket $ALIAS/$name"
echo "bucket $ALIAS/$name: created (private)"
