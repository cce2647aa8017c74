#!/bin/sh
# scripts/ops/init-buckets.sh: the default buckets and their policies (docs/ops-scripts.md).
. "$(dirname "$0")/lib.sh"

usage() {
    cat <<END
usage: $OPS_NAME [--help]

Creates the default buckets on alias \$BASALT_ALIAS (now: $ALIAS), all private (no bucket
policy: only signed requests with the right IAM policy get in):
  backups     database and file backups (written by the backup-service policy)
  logs        shipped logs (written by the logs-writer policy)
  app-files   the application's files (no template: give it readonly or your own)
and installs the IAM policies backup-service and logs-writer from $POLICY_DIR.
Idempotent: what exists is left as it is; a run that changes nothing says so.
The client is \$BASALT_CLI, else basalt on PATH, else the build's.
END
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") ;;
*) usage_error "unexpected argument '$1'" ;;
esac
find_cli
check_alias
changed=0
for bkt in backups logs app-files; do
    if b stat "$ALIAS/$bkt" >/dev/null 2>&1; then
        echo "bucket $ALIAS/$bkt: exists, left as it is"
    else
        b mb "$ALIAS/$bkt" >/dev/null || die "cannot create bucket $ALIAS/$bkt"
        echo "bucket $ALIAS/$bkt: created (private)"
        changed=$((changed + 1))
    fi
done
for pol in backup-service logs-writer; do
    [ -f "$POLICY_DIR/$pol.json" ] || die "no policy template $POLICY_DIR/$pol.json"
    what=$(ensure_policy "$pol" "$POLICY_DIR/$pol.json")
    echo "policy $pol: $what"
    [ "$what" = unchanged ] || changed=$((changed + 1))
done
if [ "$changed" -eq 0 ]; then
    echo "nothing to change: the buckets and policies were already in place"
else
    echo "$changed change(s) made"
fi
