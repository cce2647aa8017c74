# scripts/ops/lib.sh: what the operator scripts share (sourced, not run).
#
# - the alias: $BASALT_ALIAS, default `local` (define it with `basalt alias set` or
#   BASALT_ALIAS_<NAME>=http://KEY:SECRET@HOST:PORT);
# - the client: $BASALT_CLI, else `basalt` on PATH, else the build's (build/basalt next to
#   these scripts);
# - die MSG: "SCRIPT: MSG" on stderr, exit 1; usage errors exit 2.
# JSON answers of `basalt --json` are read with python3 (json_field).

set -eu

OPS_NAME=$(basename "$0")
OPS_DIR=$(cd "$(dirname "$0")" && pwd)
OPS_ROOT=$(cd "$OPS_DIR/../.." && pwd)
ALIAS=${BASALT_ALIAS:-local}
POLICY_DIR=${BASALT_POLICY_DIR:-$OPS_ROOT/deploy/policies}

die() {
    echo "$OPS_NAME: $*" >&2
    exit 1
}

usage_error() {
    echo "$OPS_NAME: $*" >&2
    echo "run '$OPS_NAME --help' for the usage" >&2
    exit 2
}

find_cli() {
    if [ -n "${BASALT_CLI:-}" ]; then
        [ -x "$BASALT_CLI" ] || die "BASALT_CLI=$BASALT_CLI is not an executable file"
        CLI=$BASALT_CLI
    elif command -v basalt >/dev/null 2>&1; then
        CLI=$(command -v basalt)
    elif [ -x "$OPS_ROOT/build/basalt" ]; then
        CLI=$OPS_ROOT/build/basalt
    else
        die "no basalt client: put it on PATH, set BASALT_CLI, or build it with 'make'"
    fi
}

# b ARGS...: runs the client; its own error line says what went wrong.
b() {
    "$CLI" "$@"
}

# json_field FIELD: the FIELD of each JSON line on stdin, one per line.
json_field() {
    python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        v = json.loads(line).get(sys.argv[1], "")
        print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

# check_alias: fails early, with the client's words, when the alias is unknown or unreachable.
check_alias() {
    out=$("$CLI" ls "$ALIAS" 2>&1 >/dev/null) || die "alias '$ALIAS' does not work: ${out#basalt: ls: }"
}

# policy_file NAME_OR_PATH: the template file for a policy name, or the path itself; "" if none.
policy_file() {
    case "$1" in
    */* | *.json) [ -f "$1" ] && echo "$1" || echo "" ;;
    *) [ -f "$POLICY_DIR/$1.json" ] && echo "$POLICY_DIR/$1.json" || echo "" ;;
    esac
}

# same_json A B: true when the two JSON documents are equal (keys in any order).
same_json() {
    python3 -c '
import json, sys
a, b = (json.loads(x) if x.strip() else None for x in sys.argv[1:3])
sys.exit(0 if a == b and a is not None else 1)
' "$1" "$2"
}

# policy_doc NAME_OR_PATH OUT: writes the policy document to OUT, from a template or file, else
# from the server's policy of that name; false when there is none.
policy_doc() {
    f=$(policy_file "$1")
    if [ -n "$f" ]; then
        cp "$f" "$2"
        return 0
    fi
    "$CLI" admin policy info "$ALIAS" "$1" --json 2>/dev/null | json_field policy >"$2" &&
        [ -s "$2" ]
}

# ensure_policy NAME FILE: creates or updates the server's policy NAME from FILE; prints what it
# did ("created", "updated", "unchanged").
ensure_policy() {
    cur=$("$CLI" admin policy info "$ALIAS" "$1" --json 2>/dev/null | json_field policy) || cur=""
    if [ -n "$cur" ] && same_json "$cur" "$(cat "$2")"; then
        echo unchanged
        return 0
    fi
    "$CLI" admin policy create "$ALIAS" "$1" "$2" >/dev/null || die "cannot create policy $1"
    [ -n "$cur" ] && echo updated || echo created
}
