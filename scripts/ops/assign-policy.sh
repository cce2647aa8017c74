#!/bin/sh
# scripts/ops/assign-policy.sh: give a user or a service account a policy.
. "$(dirname "$0")/lib.sh"

usage() {
    cat <<END
usage: $OPS_NAME ACCESS_KEY POLICY

On alias \$BASALT_ALIAS (now: $ALIAS): for a user, attaches POLICY (created or updated on the
server from the template $POLICY_DIR/POLICY.json or a JSON file when there is one; else a policy
already on the server, such as readonly); for a service account, makes POLICY its own policy
(it replaces the previous one; the account keeps at most its user's rights).
END
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
[ $# -eq 2 ] || usage_error "expected ACCESS_KEY POLICY"
key=$1
policy=$2
find_cli
check_alias
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
is_svc=$(b admin svcacct info "$ALIAS" "$key" --json 2>/dev/null | json_field service_account) ||
    is_svc=""
if [ "$is_svc" = True ]; then
    policy_doc "$policy" "$tmp" ||
        die "no policy '$policy': not a template in $POLICY_DIR, a file, or a policy on $ALIAS"
    b admin svcacct edit "$ALIAS" "$key" --policy "$tmp" >/dev/null ||
        die "cannot set the policy of service account $key"
    echo "service account $key: policy $policy set"
elif b admin user info "$ALIAS" "$key" >/dev/null 2>&1; then
    f=$(policy_file "$policy")
    pname=$policy
    if [ -n "$f" ]; then
        pname=$(basename "$f" .json)
        if b admin policy info "$ALIAS" "$pname" --json 2>/dev/null | json_field canned |
            grep -qx True; then
            : # a canned policy of the same name (readonly): the server's is the one
        else
            echo "policy $pname: $(ensure_policy "$pname" "$f")"
        fi
    fi
    b admin policy attach "$ALIAS" "$pname" --user "$key" >/dev/null ||
        die "cannot attach policy $pname to user $key"
    echo "user $key: policy $pname attached"
else
    die "no user or service account '$key' on $ALIAS (basalt admin user list $ALIAS)"
fi
