#!/usr/bin/env bash
# Ceph's s3-tests against a Basalt server, compared with the project's list of tests
# expected to pass (issue 15).
#
#   tests/s3-tests/run.sh [BASALT_BIN]
#
# Starts BASALT_BIN (default build/basalt) on four drive folders under a temporary directory
# and a free port in 9280-9299, reads the owner id it reports, runs test_s3.py and
# test_headers.py through ../shared/s3-tests/run.sh and compares the outcome with
# tests/s3-tests/expected-pass.txt (compare.py): a listed test that does not pass fails this
# script; a passing test that is not listed is reported so the list can grow.
#
# Knobs: S3T_JOBS (pytest-xdist workers, default 4), S3T_SHARED (default ../shared/s3-tests
# beside the project), S3T_KEEP=1 keeps the server's folder and log, S3T_OUT (results folder).
#
# The server runs with --object-ownership ObjectWriter (ACLs enabled on new buckets, what the
# suite, written for legacy clients, expects). The suite's "main" identity is root; its "alt"
# identity is a real IAM user (s3talt) made through the admin API, with a policy that lets it
# list buckets (every test's setup and teardown lists them as alt) and create its own: what it
# may do on main's buckets comes only from ACL grants, and on its own buckets from owning them
# (its ACL's FULL_CONTROL), as on RGW where each user is its own owner.
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${1:-${BASALT_BIN:-$repo/build/basalt}}"
shared="${S3T_SHARED:-$repo/../shared/s3-tests}"
py=/usr/bin/python3

if [ ! -x "$shared/run.sh" ]; then
    echo "s3-tests: NOT run: no suite at $shared (the project expects ../shared/s3-tests beside it)" >&2
    # CI always has ../shared: its absence there is a failure, not a skip.
    if [ "${CI:-}" = true ]; then exit 1; fi
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "s3-tests: no server binary at $bin (make build/basalt)" >&2
    exit 1
fi

port=
for p in $(seq 9280 9299); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "s3-tests: no free port in 9280-9299" >&2; exit 1; }

work=$(mktemp -d /tmp/basalt-s3tests.XXXXXX)
out="${S3T_OUT:-$work/results}"
user=s3tmain
secret=s3tmain-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    fi
    if [ "${S3T_KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "s3-tests: kept $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work"/d1 "$work"/d2 "$work"/d3 "$work"/d4
BASALT_ROOT_USER=$user BASALT_ROOT_PASSWORD=$secret \
    setsid "$bin" server --address "127.0.0.1:$port" --object-ownership ObjectWriter "$work"/d1 "$work"/d2 "$work"/d3 "$work"/d4 \
    >"$work/server.log" 2>&1 </dev/null &
pid=$!
up=0
for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    if curl -fs -o /dev/null "http://127.0.0.1:$port/basalt/health/live"; then up=1; break; fi
    sleep 0.1
done
if [ $up != 1 ]; then
    echo "s3-tests: the server did not start; its log:" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
fi

# The owner id and display name the server reports for the user: ACL and owner tests compare
# with them.
owner=$("$py" - "$port" "$user" "$secret" <<'PY'
import sys, boto3
from botocore.config import Config
c = boto3.client("s3", endpoint_url="http://127.0.0.1:%s" % sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                 config=Config(retries={"max_attempts": 1}))
o = c.list_buckets()["Owner"]
print(o["ID"], o.get("DisplayName", ""))
PY
) || { echo "s3-tests: ListBuckets as $user failed" >&2; exit 1; }
read -r owner_id owner_name <<<"$owner"

# The alt user, its policy, and its canonical id and display name (ListBuckets' Owner).
alt_user=s3talt
alt_secret=s3talt-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
alt=$("$py" - "$port" "$user" "$secret" "$alt_user" "$alt_secret" <<'PY'
import json, sys, boto3, requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
port, user, secret, alt, alt_secret = sys.argv[1:]
base = "http://127.0.0.1:%s/basalt/admin/v1/" % port
def admin(method, path, body):
    data = json.dumps(body).encode()
    r = AWSRequest(method=method, url=base + path, data=data)
    S3SigV4Auth(Credentials(user, secret), "s3", "us-east-1").add_auth(r)
    resp = requests.request(method, base + path, data=data, headers=dict(r.headers), timeout=30)
    if resp.status_code != 200:
        sys.exit("admin %s %s: %s %s" % (method, path, resp.status_code, resp.text))
admin("PUT", "users/" + alt, {"secret_key": alt_secret})
admin("PUT", "policies/s3talt", {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:CreateBucket"], "Resource": "*"}]})
admin("POST", "policies/s3talt/attach", {"user": alt})
c = boto3.client("s3", endpoint_url="http://127.0.0.1:%s" % port, region_name="us-east-1",
                 aws_access_key_id=alt, aws_secret_access_key=alt_secret,
                 config=Config(retries={"max_attempts": 1}))
o = c.list_buckets()["Owner"]
print(o["ID"], o.get("DisplayName", ""))
PY
) || { echo "s3-tests: creating the alt user failed" >&2; exit 1; }
read -r alt_id alt_name <<<"$alt"

echo "s3-tests: server 127.0.0.1:$port (owner $owner_id, alt $alt_id), results in $out"
S3T_MAIN_USER_ID=$owner_id S3T_ALT_USER_ID=$alt_id \
S3T_MAIN_DISPLAY_NAME=$owner_name S3T_ALT_DISPLAY_NAME=$alt_name S3T_ALT_EMAIL=$alt_user \
S3T_MAX_ATTEMPTS=1 S3T_EXIT_ZERO=1 S3T_JOBS="${S3T_JOBS:-4}" S3T_TIMEOUT="${S3T_TIMEOUT:-120}" \
S3T_REASONS=0 S3T_OUT="$out" S3T_MODULES="test_s3.py test_headers.py" \
    "$shared/run.sh" 127.0.0.1 "$port" "$user" "$secret" "$alt_user" "$alt_secret"
rc=$?
if [ $rc != 0 ]; then
    echo "s3-tests: the suite's runner failed (exit $rc); server log tail:" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
fi
if ! kill -0 "$pid" 2>/dev/null; then
    echo "s3-tests: the server died during the suite; its log:" >&2
    tail -n 60 "$work/server.log" >&2
    exit 1
fi
if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$work/server.log"; then
    echo "s3-tests: sanitizer report in the server's log:" >&2
    grep -E -A20 'ERROR: AddressSanitizer|runtime error:' "$work/server.log" | head -n 60 >&2
    exit 1
fi
"$py" "$here/compare.py" "$out/results.json" "$here/expected-pass.txt"
