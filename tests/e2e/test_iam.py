"""IAM through the admin API and S3 (issue 12): users, service accounts, canned and custom
policies, bucket policies with anonymous access, and what each identity is refused.

Every identity is checked from both sides: what it may do succeeds, and the next thing it may
not do gets S3's AccessDenied (403), so a test fails if authorization is skipped or too strict.
"""
import json
import os
import uuid
from pathlib import Path

import botocore
import pytest
import requests

from helpers import Signed, err_code, http_status, make_client, xml_error

ADMIN = "/basalt/admin/v1"


class Admin:
    """The admin API (JSON over SigV4) as one identity."""

    def __init__(self, server, ak=None, sk=None):
        self.sig = Signed(server, ak, sk)

    def call(self, method, path, body=None, query=()):
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         json.dumps(body).encode())
        return self.sig.request(method, ADMIN + "/" + path, query=query, body=data)

    def ok(self, method, path, body=None, query=()):
        r = self.call(method, path, body, query)
        assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text[:400]}"
        return r.json()


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def denied(fn, *a, **kw):
    """Runs a boto3 call that must be refused with 403 AccessDenied."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*a, **kw)
    assert http_status(e.value) == 403, e.value.response
    assert err_code(e.value) == "AccessDenied", e.value.response


def refused_key(fn, *a, **kw):
    """A call with credentials that no longer exist: 403 InvalidAccessKeyId."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*a, **kw)
    assert http_status(e.value) == 403, e.value.response
    assert err_code(e.value) == "InvalidAccessKeyId", e.value.response


@pytest.fixture
def admin(server):
    return Admin(server)


@pytest.fixture
def secrets_seen():
    """Secrets created by a test: none may appear in a drive file or in the server's log."""
    return []


def make_user(admin, server, policies=(), name=None):
    name = name or uniq("user")
    out = admin.ok("PUT", f"users/{name}")
    assert out["access_key"] == name
    secret = out["secret_key"]
    assert len(secret) == 40
    for p in policies:
        admin.ok("POST", f"policies/{p}/attach", {"user": name})
    return name, secret, make_client(server.endpoint, name, secret)


def put_policy(admin, name, statements):
    admin.ok("PUT", f"policies/{name}", {"Version": "2012-10-17", "Statement": statements})


def test_backup_service_account_only_reaches_its_prefix(server, s3, admin, new_bucket):
    backups, other = new_bucket(), new_bucket()
    s3.put_object(Bucket=other, Key="secret.txt", Body=b"not yours")
    pol = uniq("backup-only")
    put_policy(admin, pol, [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": f"arn:aws:s3:::{backups}/backups/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{backups}",
         "Condition": {"StringLike": {"s3:prefix": "backups/*"}}},
    ])
    user, _, _ = make_user(admin, server, [pol])
    svc = admin.ok("POST", "service-accounts", {"parent": user, "name": "pg-backup"})
    c = make_client(server.endpoint, svc["access_key"], svc["secret_key"])

    c.put_object(Bucket=backups, Key="backups/base.tar", Body=b"wal")
    assert c.get_object(Bucket=backups, Key="backups/base.tar")["Body"].read() == b"wal"
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=backups, Prefix="backups/")["Contents"]]
    assert keys == ["backups/base.tar"]
    # everywhere else: AccessDenied
    denied(c.put_object, Bucket=backups, Key="elsewhere.txt", Body=b"x")
    denied(c.get_object, Bucket=other, Key="secret.txt")
    denied(c.put_object, Bucket=other, Key="x", Body=b"x")
    denied(c.list_objects_v2, Bucket=other)
    denied(c.list_objects_v2, Bucket=backups)  # no prefix: the condition does not hold
    denied(c.list_buckets)
    denied(c.delete_object, Bucket=backups, Key="backups/base.tar")
    # admin calls
    r = Admin(server, svc["access_key"], svc["secret_key"]).call("GET", "users")
    assert r.status_code == 403 and xml_error(r.text)["Code"] == "AccessDenied"
    r = Signed(server, svc["access_key"], svc["secret_key"]).request("GET", ADMIN + "/info")
    assert r.status_code == 403


def test_readonly_user_cannot_write_delete_or_tag(server, s3, admin, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    _, _, c = make_user(admin, server, ["readonly"])
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    assert c.head_object(Bucket=bucket, Key="k")["ContentLength"] == 4
    assert bucket in [b["Name"] for b in c.list_buckets()["Buckets"]]
    denied(c.put_object, Bucket=bucket, Key="k2", Body=b"x")
    denied(c.delete_object, Bucket=bucket, Key="k")
    denied(c.put_object_tagging, Bucket=bucket, Key="k",
           Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    denied(c.copy_object, Bucket=bucket, Key="k3", CopySource={"Bucket": bucket, "Key": "k"})
    denied(c.create_bucket, Bucket=uniq("ro-create"))
    # DeleteObjects: each key refused, nothing deleted
    out = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert [e["Code"] for e in out.get("Errors", [])] == ["AccessDenied"]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_readwrite_user_copy_needs_read_on_source(server, s3, admin, new_bucket):
    src, dst = new_bucket(), new_bucket()
    s3.put_object(Bucket=src, Key="k", Body=b"source")
    pol = uniq("dst-only")
    put_policy(admin, pol, [{"Effect": "Allow", "Action": "s3:*",
                             "Resource": [f"arn:aws:s3:::{dst}", f"arn:aws:s3:::{dst}/*"]}])
    _, _, c = make_user(admin, server, [pol])
    # no s3:ListAllMyBuckets: the buckets it may list, and only those
    assert [b["Name"] for b in c.list_buckets()["Buckets"]] == [dst]
    denied(c.copy_object, Bucket=dst, Key="k", CopySource={"Bucket": src, "Key": "k"})
    c.put_object(Bucket=dst, Key="own", Body=b"o")
    c.copy_object(Bucket=dst, Key="copy", CopySource={"Bucket": dst, "Key": "own"})
    assert s3.get_object(Bucket=dst, Key="copy")["Body"].read() == b"o"


def test_disabled_user_and_deleted_service_account_refused_at_once(server, admin, bucket):
    user, _, c = make_user(admin, server, ["readwrite"])
    svc = admin.ok("POST", "service-accounts", {"parent": user})
    cs = make_client(server.endpoint, svc["access_key"], svc["secret_key"])
    c.put_object(Bucket=bucket, Key="a", Body=b"1")
    cs.put_object(Bucket=bucket, Key="b", Body=b"2")

    admin.ok("POST", f"users/{user}/disable")
    refused_key(c.get_object, Bucket=bucket, Key="a")
    refused_key(cs.get_object, Bucket=bucket, Key="b")  # a disabled parent stops its accounts
    admin.ok("POST", f"users/{user}/enable")
    assert c.get_object(Bucket=bucket, Key="a")["Body"].read() == b"1"
    assert cs.get_object(Bucket=bucket, Key="b")["Body"].read() == b"2"

    admin.ok("DELETE", f"service-accounts/{svc['access_key']}")
    refused_key(cs.get_object, Bucket=bucket, Key="b")
    assert c.get_object(Bucket=bucket, Key="a")["Body"].read() == b"1"


def test_service_account_dies_with_its_parent(server, admin, bucket):
    user, _, c = make_user(admin, server, ["readwrite"])
    svc = admin.ok("POST", "service-accounts", {"parent": user})
    cs = make_client(server.endpoint, svc["access_key"], svc["secret_key"])
    cs.put_object(Bucket=bucket, Key="k", Body=b"x")
    admin.ok("DELETE", f"users/{user}")
    refused_key(cs.get_object, Bucket=bucket, Key="k")
    refused_key(c.get_object, Bucket=bucket, Key="k")
    r = admin.call("GET", f"service-accounts/{svc['access_key']}")
    assert r.status_code == 404


def test_service_account_inline_policy_narrows_parent(server, admin, bucket):
    user, _, _ = make_user(admin, server, ["readwrite"])
    narrow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    svc = admin.ok("POST", "service-accounts", {"parent": user, "policy": narrow})
    cs = make_client(server.endpoint, svc["access_key"], svc["secret_key"])
    denied(cs.put_object, Bucket=bucket, Key="k", Body=b"x")
    admin_client = make_client(server.endpoint, server.access_key, server.secret_key)
    admin_client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert cs.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    info = admin.ok("GET", f"service-accounts/{svc['access_key']}")
    assert info["user"] == user and info["policy"]["Statement"][0]["Action"] == "s3:GetObject"
    assert "secret_key" not in info


def test_user_manages_its_own_service_accounts(server, admin, bucket):
    user, secret, _ = make_user(admin, server, ["readwrite"])
    me = Admin(server, user, secret)
    svc = me.ok("POST", "service-accounts", {"name": "mine"})
    assert svc["parent"] == user
    listed = me.ok("GET", "service-accounts")["service_accounts"]
    assert [s["access_key"] for s in listed] == [svc["access_key"]]
    # not someone else's, and no admin listing
    other, _, _ = make_user(admin, server)
    r = me.call("POST", "service-accounts", {"parent": other})
    assert r.status_code == 403
    assert me.call("GET", "users").status_code == 403
    assert me.ok("DELETE", f"service-accounts/{svc['access_key']}")["ok"] is True


def test_group_policy_applies_to_members_and_disabled_group_stops(server, s3, admin, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"g")
    user, _, c = make_user(admin, server)
    denied(c.get_object, Bucket=bucket, Key="k")  # no policy at all: default deny
    group = uniq("readers")
    admin.ok("PUT", f"groups/{group}", {"members": [user]})
    admin.ok("POST", f"policies/readonly/attach", {"group": group})
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"g"
    g = admin.ok("GET", f"groups/{group}")
    assert g["members"] == [user] and g["policies"] == ["readonly"]
    admin.ok("POST", f"groups/{group}/disable")
    denied(c.get_object, Bucket=bucket, Key="k")
    admin.ok("POST", f"groups/{group}/enable")
    admin.ok("POST", f"groups/{group}/members", {"remove": [user]})
    denied(c.get_object, Bucket=bucket, Key="k")


def test_explicit_deny_wins(server, s3, admin, bucket):
    s3.put_object(Bucket=bucket, Key="open/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="closed/b", Body=b"b")
    pol = uniq("deny-closed")
    put_policy(admin, pol, [{"Effect": "Deny", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{bucket}/closed/*"}])
    _, _, c = make_user(admin, server, ["readonly", pol])
    assert c.get_object(Bucket=bucket, Key="open/a")["Body"].read() == b"a"
    denied(c.get_object, Bucket=bucket, Key="closed/b")


def test_policy_variables_give_each_user_a_home(server, s3, admin, bucket):
    pol = uniq("home")
    put_policy(admin, pol, [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}}])
    alice, _, ca = make_user(admin, server, [pol])
    bob, _, cb = make_user(admin, server, [pol])
    ca.put_object(Bucket=bucket, Key=f"home/{alice}/notes", Body=b"a")
    denied(ca.put_object, Bucket=bucket, Key=f"home/{bob}/notes", Body=b"a")
    assert ca.list_objects_v2(Bucket=bucket, Prefix=f"home/{alice}/")["KeyCount"] == 1
    denied(cb.list_objects_v2, Bucket=bucket, Prefix=f"home/{alice}/")
    denied(cb.get_object, Bucket=bucket, Key=f"home/{alice}/notes")


def anon(server):
    return make_client(server.endpoint, None, None,
                       signature_version=botocore.UNSIGNED)


def set_bucket_policy(s3, bucket, statements):
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))


def test_public_read_prefix_only_where_the_policy_says(server, s3, new_bucket):
    pub, priv = new_bucket(), new_bucket()
    for b in (pub, priv):
        s3.put_object(Bucket=b, Key="public/file.txt", Body=b"hello world")
        s3.put_object(Bucket=b, Key="private/file.txt", Body=b"secret")
    a = anon(server)
    denied(a.get_object, Bucket=pub, Key="public/file.txt")  # no policy yet
    set_bucket_policy(s3, pub, [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                 "Resource": f"arn:aws:s3:::{pub}/public/*"}])
    assert a.get_object(Bucket=pub, Key="public/file.txt")["Body"].read() == b"hello world"
    r = requests.get(f"{server.endpoint}/{pub}/public/file.txt")
    assert r.status_code == 200 and r.content == b"hello world"
    denied(a.get_object, Bucket=pub, Key="private/file.txt")
    denied(a.get_object, Bucket=priv, Key="public/file.txt")
    denied(a.list_objects_v2, Bucket=pub)
    denied(a.list_buckets)
    denied(a.put_object, Bucket=pub, Key="public/new", Body=b"x")
    assert s3.get_bucket_policy_status(Bucket=pub)["PolicyStatus"]["IsPublic"] is True
    assert s3.get_bucket_policy_status(Bucket=priv)["PolicyStatus"]["IsPublic"] is False
    # removed: private again at once
    s3.delete_bucket_policy(Bucket=pub)
    denied(a.get_object, Bucket=pub, Key="public/file.txt")


def test_public_upload_drop_box(server, s3, bucket):
    set_bucket_policy(s3, bucket, [{"Effect": "Allow", "Principal": {"AWS": ["*"]},
                                    "Action": "s3:PutObject",
                                    "Resource": f"arn:aws:s3:::{bucket}/incoming/*"}])
    a = anon(server)
    a.put_object(Bucket=bucket, Key="incoming/report.csv", Body=b"1,2,3")
    assert s3.get_object(Bucket=bucket, Key="incoming/report.csv")["Body"].read() == b"1,2,3"
    denied(a.get_object, Bucket=bucket, Key="incoming/report.csv")
    denied(a.put_object, Bucket=bucket, Key="elsewhere.csv", Body=b"x")


def test_deny_unless_tls(server, s3, admin, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    _, _, c = make_user(admin, server, ["readwrite"])
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    set_bucket_policy(s3, bucket, [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                    "Resource": [f"arn:aws:s3:::{bucket}",
                                                 f"arn:aws:s3:::{bucket}/*"],
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}])
    denied(c.get_object, Bucket=bucket, Key="k")  # plain HTTP
    denied(c.put_object, Bucket=bucket, Key="k", Body=b"y")
    s3.delete_bucket_policy(Bucket=bucket)  # root still manages the bucket
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_bucket_policy_grants_a_user_without_identity_policy(server, s3, admin, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"shared")
    user, _, c = make_user(admin, server)
    denied(c.get_object, Bucket=bucket, Key="k")
    acct_arn_user = f"arn:aws:iam::{account_id(server)}:user/{user}"
    set_bucket_policy(s3, bucket, [{"Effect": "Allow", "Principal": {"AWS": acct_arn_user},
                                    "Action": "s3:GetObject",
                                    "Resource": f"arn:aws:s3:::{bucket}/*"}])
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"shared"
    denied(anon(server).get_object, Bucket=bucket, Key="k")


def account_id(server):
    """The deployment's account id, from the user ARN the admin API reports."""
    sts = Signed(server).request("POST", "/", body=b"Action=GetCallerIdentity&Version=2011-06-15",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    if sts.status_code == 200:
        import re
        m = re.search(r"<Account>(\d{12})</Account>", sts.text)
        if m:
            return m.group(1)
    pytest.fail(f"GetCallerIdentity: {sts.status_code} {sts.text[:300]}")


def test_bucket_policy_bad_input(server, s3, bucket):
    sig = Signed(server)
    r = sig.request("PUT", f"/{bucket}", query=[("policy", "")], body=b'{"Version": "2012-10-17",')
    assert r.status_code == 400 and xml_error(r.text)["Code"] == "MalformedPolicy"
    assert "line" in xml_error(r.text)["Message"]
    bad = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObjekt",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}).encode()
    r = sig.request("PUT", f"/{bucket}", query=[("policy", "")], body=bad)
    assert r.status_code == 400 and "s3:GetObjekt" in xml_error(r.text)["Message"]
    no_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}).encode()
    r = sig.request("PUT", f"/{bucket}", query=[("policy", "")], body=no_principal)
    assert r.status_code == 400 and xml_error(r.text)["Code"] == "MalformedPolicy"
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "s" * 100 + str(i), "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/p{i}/*"} for i in range(200)]}).encode()
    assert len(big) > 20 * 1024
    r = sig.request("PUT", f"/{bucket}", query=[("policy", "")], body=big)
    assert r.status_code == 400 and xml_error(r.text)["Code"] == "PolicyTooLarge"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert err_code(e.value) == "NoSuchBucketPolicy" and http_status(e.value) == 404
    # nothing was stored by the refusals; a good one round-trips as given
    good = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=good)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(good)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket + "-missing", Policy=good)
    assert err_code(e.value) == "NoSuchBucket"


def test_anonymous_request_to_missing_bucket_is_no_such_bucket(server):
    r = requests.get(f"{server.endpoint}/no-such-bucket-{uuid.uuid4().hex[:8]}/k")
    assert r.status_code == 404 and xml_error(r.text)["Code"] == "NoSuchBucket"


def test_admin_api_bad_input(server, admin):
    name = uniq("dup")
    admin.ok("PUT", f"users/{name}")
    r = admin.call("PUT", f"users/{name}")
    assert r.status_code == 409 and xml_error(r.text)["Code"] == "EntityAlreadyExists"
    r = admin.call("PUT", "users/" + "x" * 200)
    assert r.status_code == 400
    r = admin.call("PUT", "users/a%2Fb")
    assert r.status_code in (400, 405)
    r = admin.call("POST", f"policies/{uniq('nope')}/attach", {"user": name})
    assert r.status_code == 404 and xml_error(r.text)["Code"] == "NoSuchEntity"
    r = admin.call("POST", "policies/readonly/attach", {"user": uniq("ghost")})
    assert r.status_code == 404
    pol = uniq("attached")
    put_policy(admin, pol, [{"Effect": "Allow", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::*"}])
    admin.ok("POST", f"policies/{pol}/attach", {"user": name})
    r = admin.call("DELETE", f"policies/{pol}")
    assert r.status_code == 409 and xml_error(r.text)["Code"] == "DeleteConflict"
    admin.ok("POST", f"policies/{pol}/detach", {"user": name})
    admin.ok("DELETE", f"policies/{pol}")
    r = admin.call("PUT", f"policies/{uniq('bad')}", b'{"Version":"2012-10-17","Statement":[{')
    assert r.status_code == 400 and xml_error(r.text)["Code"] == "MalformedPolicy"
    r = admin.call("PUT", f"policies/{uniq('bad')}", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "*", "Condition": {
                                                    "NumericLessThan": {"s3:max-keys": "abc"}}}]}
    ).encode())
    assert r.status_code == 400 and "abc" in xml_error(r.text)["Message"]
    r = admin.call("DELETE", "policies/readonly")
    assert r.status_code == 400
    r = admin.call("GET", f"users/{uniq('ghost')}")
    assert r.status_code == 404
    r = requests.get(f"{server.endpoint}{ADMIN}/users")
    assert r.status_code == 403


def test_policy_listing_shows_canned_policies(admin):
    names = {p["name"] for p in admin.ok("GET", "policies")["policies"]}
    assert {"readonly", "readwrite", "writeonly", "diagnostics", "consoleAdmin"} <= names
    ro = admin.ok("GET", "policies/readonly")
    assert ro["canned"] is True and ro["policy"]["Statement"]


def test_no_secret_in_drive_files_or_log(server, admin):
    name = uniq("secretive")
    secret = "S3cr3tValue" + uuid.uuid4().hex[:20]
    admin.ok("PUT", f"users/{name}", {"secret_key": secret})
    svc = admin.ok("POST", "service-accounts", {"parent": name})
    found = []
    needles = [secret.encode(), svc["secret_key"].encode()]
    for d in server.drives:
        for root, _, files in os.walk(d):
            for f in files:
                data = Path(root, f).read_bytes()
                for n in needles:
                    if n in data:
                        found.append(f"{root}/{f}")
    assert not found, f"secrets stored in clear: {found}"
    log = server.log_text()
    assert all(n.decode() not in log for n in needles), "a secret appears in the server log"
