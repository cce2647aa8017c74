#!/bin/sh
# scripts/ops/create-service-account.sh: a key pair for a service, narrowed by a policy.
. "$(dirname "$0")/lib.sh"

usage() {
    cat <<END
usage: $OPS_NAME NAME [POLICY] [--json]

Creates a service account named NAME under the user of alias \$BASALT_ALIAS (now: $ALIAS) and
prints its key pair once (the secret cannot be read again). POLICY narrows it: a template name
of $POLICY_DIR (backup-service, logs-writer, readonly, admin), a policy on the server
(readonly, readwrite, ...), or a JSON file. Without POLICY the account has all the rights of
the alias's user. --json: one JSON object (access_key, secret_key, parent).
END
}

name=""
policy=""
json=""
for a in "$@"; do
    case "$a" in
    -h | --help) usage; exit 0 ;;
    --json) json=--json ;;
    -*) usage_error "unknown flag '$a'" ;;
    *)
        if [ -z "$name" ]; then
            name=$a
        elif [ -z "$policy" ]; then
            policy=$a
        else
            usage_error "unexpected argument '$a'"
        fi
        ;;
    esac
done
[ -n "$name" ] || usage_error "expected a NAME"
find_cli
check_alias
parent=$(b alias list "$ALIAS" --json | json_field accessKey | head -n 1)
[ -n "$parent" ] || die "cannot tell the user of alias $ALIAS (basalt alias list $ALIAS)"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -n "$policy" ]; then
    policy_doc "$policy" "$tmp" ||
        die "no policy '$policy': not a template in $POLICY_DIR, a file, or a policy on $ALIAS"
    b admin svcacct add "$ALIAS" "$parent" --name "$name" --policy "$tmp" $json ||
        die "cannot create the service account $name"
else
    b admin svcacct add "$ALIAS" "$parent" --name "$name" $json ||
        die "cannot create the service account $name"
fi
