"""The AWS IAM and STS query APIs on the S3 endpoint (issue 12, "Front doors" 3 and 4): boto3's
iam and sts clients and the aws CLI against the session server. Every action round-trips; the
bad inputs of the issue get AWS's codes; a user's rights over IAM come from iam: actions in its
policies; keys made through IAM work for S3 exactly within their policies; AssumeRole
credentials work with their session token, are narrowed by a session policy, and a tampered
token is refused.

Not here: a session token that has expired (DurationSeconds is at least 900 s, and the server's
clock cannot be moved in this suite): iam/'s unit tests cover ExpiredToken; here only the
DurationSeconds bounds (ValidationError below 900 and above 43200).
"""

import itertools
import json
import os
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import pytest

import helpers
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import AwsCli
from helpers import REGION, TIME_SCALE, err_code, http_status

IAM_NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"
STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"

_seq = itertools.count()


def uniq(prefix):
    return f"{prefix}-{os.getpid() % 10000}-{next(_seq)}"


def client(server, service, ak=None, sk=None, token=None):
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                 read_timeout=60 * TIME_SCALE,
                 **({"s3": {"addressing_style": "path"}, "signature_version": "s3v4"}
                    if service == "s3" else {}))
    helpers.remember_secret(sk)
    helpers.remember_secret(token)
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=ak or server.access_key,
                        aws_secret_access_key=sk or server.secret_key,
                        aws_session_token=token, config=cfg)


@pytest.fixture(scope="module")
def iam(server):
    return client(server, "iam")


@pytest.fixture(scope="module")
def sts(server):
    return client(server, "sts")


def policy_doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources):
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def s3_rw(bucket):
    return allow(["s3:PutObject", "s3:GetObject"], [f"arn:aws:s3:::{bucket}/*"])


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kw)
    assert err_code(ei.value) == code, ei.value.response
    assert http_status(ei.value) == status, ei.value.response
    return ei.value.response["Error"]


def user_with_key(iam, *statements):
    """A new user with an inline policy of `statements` (if any) and an access key."""
    name = uniq("u")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy_doc(*statements))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return name, k["AccessKeyId"], k["SecretAccessKey"]


def raw_query(server, params, service="iam", ak=None, sk=None, sign=True, in_query=False):
    """POST / with a form body (or the parameters in the query string), signed by botocore's
    own SigV4 (or not at all)."""
    form = urllib.parse.urlencode(params)
    url = server.endpoint + "/" + ("?" + form if in_query else "")
    body = "" if in_query else form
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if sign:
        req = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(Credentials(ak or server.access_key, sk or server.secret_key), service,
                  REGION).add_auth(req)
        headers = dict(req.headers.items())
    return requests.post(url, data=body, headers=headers, timeout=30)


def error_response(resp, ns=IAM_NS):
    root = ET.fromstring(resp.content)
    assert root.tag == ns + "ErrorResponse", resp.content
    err = root.find(ns + "Error")
    out = {c.tag[len(ns):]: c.text or "" for c in err}
    out["RequestId"] = root.find(ns + "RequestId").text
    return out


# ---- users ----


def test_user_round_trip(iam):
    name, new = uniq("alice"), uniq("alice2")
    u = iam.create_user(UserName=name)["User"]
    assert u["UserName"] == name and u["Path"] == "/"
    assert u["Arn"].startswith("arn:aws:iam::") and u["Arn"].endswith(f":user/{name}")
    assert u["UserId"].startswith("AIDA")
    assert u["CreateDate"].year >= 2024
    g = iam.get_user(UserName=name)["User"]
    assert g["UserId"] == u["UserId"] and g["Arn"] == u["Arn"]
    assert name in [x["UserName"] for x in iam.list_users()["Users"]]
    iam.update_user(UserName=name, NewUserName=new)
    expect_error("NoSuchEntity", 404, iam.get_user, UserName=name)
    assert iam.get_user(UserName=new)["User"]["UserId"] == u["UserId"]
    iam.delete_user(UserName=new)
    expect_error("NoSuchEntity", 404, iam.get_user, UserName=new)
    expect_error("NoSuchEntity", 404, iam.delete_user, UserName=new)


def test_get_user_without_name_is_the_caller(server, iam):
    me = iam.get_user()["User"]
    assert me["Arn"].endswith(":root")
    name, ak, sk = user_with_key(iam, allow(["iam:GetUser"], ["arn:aws:iam::*:user/${aws:username}"]))
    mine = client(server, "iam", ak, sk).get_user()["User"]
    assert mine["UserName"] == name
    expect_error("AccessDenied", 403, client(server, "iam", ak, sk).get_user, UserName="someone")


def test_list_users_paging(iam):
    prefix = uniq("page")
    names = sorted(f"{prefix}-{i}" for i in range(5))
    for n in names:
        iam.create_user(UserName=n)
    r = iam.list_users(MaxItems=2)
    assert r["IsTruncated"] and len(r["Users"]) == 2 and r["Marker"]
    seen = []
    for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}):
        seen += [u["UserName"] for u in p["Users"]]
    assert len(seen) == len(set(seen))
    assert set(names) <= set(seen)
    assert not iam.list_users(MaxItems=1000)["IsTruncated"]
    expect_error("ValidationError", 400, iam.list_users, MaxItems=1001)


# ---- access keys ----


def test_access_keys(server, iam, bucket):
    name = uniq("keys")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="rw", PolicyDocument=policy_doc(s3_rw(bucket)))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    assert k["UserName"] == name and k["Status"] == "Active"
    assert len(k["SecretAccessKey"]) == 40 and 16 <= len(k["AccessKeyId"]) <= 128
    meta = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [m["AccessKeyId"] for m in meta] == [k["AccessKeyId"]]
    assert "SecretAccessKey" not in meta[0] and meta[0]["Status"] == "Active"
    s3 = client(server, "s3", k["AccessKeyId"], k["SecretAccessKey"])
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")

    iam.update_access_key(UserName=name, AccessKeyId=k["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    expect_error("InvalidAccessKeyId", 403, s3.put_object, Bucket=bucket, Key="k", Body=b"2")
    iam.update_access_key(UserName=name, AccessKeyId=k["AccessKeyId"], Status="Active")
    s3.put_object(Bucket=bucket, Key="k", Body=b"3")
    expect_error("ValidationError", 400, iam.update_access_key, UserName=name,
                 AccessKeyId=k["AccessKeyId"], Status="Paused")

    iam.create_access_key(UserName=name)
    expect_error("LimitExceeded", 409, iam.create_access_key, UserName=name)
    # a key is managed only through its own user
    other = uniq("keys-other")
    iam.create_user(UserName=other)
    expect_error("NoSuchEntity", 404, iam.delete_access_key, UserName=other,
                 AccessKeyId=k["AccessKeyId"])
    iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    assert k["AccessKeyId"] not in [m["AccessKeyId"] for m in
                                    iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
    expect_error("InvalidAccessKeyId", 403, s3.put_object, Bucket=bucket, Key="k", Body=b"4")
    # AWS's rule: a user with keys or policies cannot be deleted
    expect_error("DeleteConflict", 409, iam.delete_user, UserName=name)


def test_user_manages_own_keys_with_username_variable(server, iam):
    own = allow(["iam:CreateAccessKey", "iam:ListAccessKeys", "iam:DeleteAccessKey"],
                ["arn:aws:iam::*:user/${aws:username}"])
    name, ak, sk = user_with_key(iam, own)
    mine = client(server, "iam", ak, sk)
    assert [m["AccessKeyId"] for m in mine.list_access_keys()["AccessKeyMetadata"]] == [ak]
    k2 = mine.create_access_key()["AccessKey"]
    assert k2["UserName"] == name
    mine.delete_access_key(AccessKeyId=k2["AccessKeyId"])
    other = uniq("victim")
    iam.create_user(UserName=other)
    expect_error("AccessDenied", 403, mine.create_access_key, UserName=other)


# ---- inline policies ----


def test_user_inline_policies(iam):
    name = uniq("inline")
    iam.create_user(UserName=name)
    doc = policy_doc(allow(["s3:GetObject"], ["arn:aws:s3:::b/a key with spaces+plus/*"]))
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=doc)
    g = iam.get_user_policy(UserName=name, PolicyName="read")
    assert g["UserName"] == name and g["PolicyName"] == "read"
    assert g["PolicyDocument"] == json.loads(doc)  # boto3 decodes AWS's URL-encoded document
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["read"]
    iam.delete_user_policy(UserName=name, PolicyName="read")
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []
    expect_error("NoSuchEntity", 404, iam.get_user_policy, UserName=name, PolicyName="read")
    expect_error("NoSuchEntity", 404, iam.put_user_policy, UserName=uniq("nobody"),
                 PolicyName="read", PolicyDocument=doc)


# ---- managed policies ----


def test_managed_policy_round_trip(iam):
    pname, user = uniq("pol"), uniq("attached")
    iam.create_user(UserName=user)
    doc = policy_doc(allow(["s3:ListBucket"], ["arn:aws:s3:::x"]))
    p = iam.create_policy(PolicyName=pname, PolicyDocument=doc)["Policy"]
    arn = p["Arn"]
    assert arn.startswith("arn:aws:iam::") and arn.endswith(f":policy/{pname}")
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0 and p["IsAttachable"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == pname
    v = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert v["IsDefaultVersion"] and v["Document"] == json.loads(doc)
    expect_error("NoSuchEntity", 404, iam.get_policy_version, PolicyArn=arn, VersionId="v2")
    assert [x["VersionId"] for x in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]

    local = [x["PolicyName"] for x in iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]]
    canned = [x["PolicyName"] for x in iam.list_policies(Scope="AWS")["Policies"]]
    every = [x["PolicyName"] for x in iam.list_policies(MaxItems=1000)["Policies"]]
    assert pname in local and pname not in canned and pname in every
    assert {"readonly", "readwrite", "writeonly"} <= set(canned) and "readonly" in every

    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    att = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert att == [{"PolicyName": pname, "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert pname in [x["PolicyName"] for x in
                     iam.list_policies(OnlyAttached=True, MaxItems=1000)["Policies"]]
    expect_error("DeleteConflict", 409, iam.delete_policy, PolicyArn=arn)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    expect_error("NoSuchEntity", 404, iam.detach_user_policy, UserName=user, PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    expect_error("NoSuchEntity", 404, iam.get_policy, PolicyArn=arn)
    iam.delete_user(UserName=user)


def test_canned_policy_attach_by_aws_arn(iam):
    user = uniq("canned")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/readonly")
    att = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert [a["PolicyName"] for a in att] == ["readonly"]
    iam.detach_user_policy(UserName=user, PolicyArn=att[0]["PolicyArn"])


# ---- groups ----


def test_groups(iam):
    group, user = uniq("grp"), uniq("member")
    iam.create_user(UserName=user)
    g = iam.create_group(GroupName=group)["Group"]
    assert g["GroupName"] == group and g["Arn"].endswith(f":group/{group}") and g["Path"] == "/"
    assert iam.get_group(GroupName=group)["Users"] == []
    iam.add_user_to_group(GroupName=group, UserName=user)
    got = iam.get_group(GroupName=group)
    assert got["Group"]["GroupId"] == g["GroupId"]
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert group in [x["GroupName"] for x in iam.list_groups(MaxItems=1000)["Groups"]]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]

    doc = policy_doc(allow(["s3:GetObject"], ["arn:aws:s3:::g/*"]))
    iam.put_group_policy(GroupName=group, PolicyName="gp", PolicyDocument=doc)
    assert iam.get_group_policy(GroupName=group, PolicyName="gp")["PolicyDocument"] == \
        json.loads(doc)
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["gp"]
    pname = uniq("gpol")
    arn = iam.create_policy(PolicyName=pname, PolicyDocument=doc)["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    assert [a["PolicyArn"] for a in
            iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]] == [arn]
    expect_error("DeleteConflict", 409, iam.delete_group, GroupName=group)

    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == []
    iam.delete_group_policy(GroupName=group, PolicyName="gp")
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == []
    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.get_group(GroupName=group)["Users"] == []
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []
    iam.delete_group(GroupName=group)
    expect_error("NoSuchEntity", 404, iam.get_group, GroupName=group)
    expect_error("NoSuchEntity", 404, iam.add_user_to_group, GroupName=group, UserName=user)
    iam.delete_policy(PolicyArn=arn)


def test_group_policy_grants_members(server, iam, bucket):
    group = uniq("writers")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="w", PolicyDocument=policy_doc(s3_rw(bucket)))
    name, ak, sk = user_with_key(iam)
    s3 = client(server, "s3", ak, sk)
    expect_error("AccessDenied", 403, s3.put_object, Bucket=bucket, Key="g", Body=b"x")
    iam.add_user_to_group(GroupName=group, UserName=name)
    s3.put_object(Bucket=bucket, Key="g", Body=b"x")


# ---- bad input ----


def test_bad_names(iam):
    e = expect_error("ValidationError", 400, iam.create_user, UserName="a/b")
    assert "userName" in e["Message"]
    expect_error("ValidationError", 400, iam.create_user, UserName="x" * 200)
    expect_error("ValidationError", 400, iam.create_group, GroupName="g r")
    expect_error("ValidationError", 400, iam.create_policy, PolicyName="p/q",
                 PolicyDocument=policy_doc(allow(["s3:GetObject"], ["*"])))
    expect_error("InvalidInput", 400, iam.get_policy, PolicyArn="not-an-arn-but-long-enough")


def test_duplicates_and_missing(iam):
    name = uniq("dup")
    iam.create_user(UserName=name)
    expect_error("EntityAlreadyExists", 409, iam.create_user, UserName=name)
    group = uniq("dupg")
    iam.create_group(GroupName=group)
    expect_error("EntityAlreadyExists", 409, iam.create_group, GroupName=group)
    pname = uniq("dupp")
    doc = policy_doc(allow(["s3:GetObject"], ["*"]))
    iam.create_policy(PolicyName=pname, PolicyDocument=doc)
    expect_error("EntityAlreadyExists", 409, iam.create_policy, PolicyName=pname,
                 PolicyDocument=doc)
    acct = iam.get_user()["User"]["Arn"].split(":")[4]
    expect_error("NoSuchEntity", 404, iam.attach_user_policy, UserName=name,
                 PolicyArn=f"arn:aws:iam::{acct}:policy/{uniq('nope')}")
    expect_error("NoSuchEntity", 404, iam.attach_user_policy, UserName=uniq("nobody"),
                 PolicyArn=f"arn:aws:iam::{acct}:policy/{pname}")


def test_bad_policy_documents(iam):
    name = uniq("badpol")
    iam.create_user(UserName=name)
    e = expect_error("MalformedPolicyDocument", 400, iam.put_user_policy, UserName=name,
                     PolicyName="p", PolicyDocument='{"Version": "2012-10-17", "Statement": [')
    assert "line 1" in e["Message"], e  # where the JSON breaks
    e = expect_error("MalformedPolicyDocument", 400, iam.create_policy, PolicyName=uniq("bad"),
                     PolicyDocument=policy_doc(allow(["s3:GetObjekt"], ["*"])))
    assert "s3:GetObjekt" in e["Message"], e
    big = policy_doc(*[allow(["s3:GetObject"], [f"arn:aws:s3:::bucket-{i:05d}/*"])
                       for i in range(400)])
    assert len(big) > 20 * 1024
    expect_error("LimitExceeded", 409, iam.put_user_policy, UserName=name, PolicyName="big",
                 PolicyDocument=big)
    expect_error("LimitExceeded", 409, iam.create_policy, PolicyName=uniq("big"),
                 PolicyDocument=big)


def test_error_document_and_unknown_action(server):
    r = raw_query(server, {"Action": "FlyToTheMoon", "Version": "2010-05-08"})
    assert r.status_code == 400
    e = error_response(r)
    assert e["Code"] == "InvalidAction" and e["Type"] == "Sender" and e["RequestId"]
    r = raw_query(server, {"Version": "2010-05-08"})
    assert r.status_code == 400 and error_response(r)["Code"] == "MissingAction"
    # the parameters in the query string, as for GET-style calls
    r = raw_query(server, {"Action": "GetUser", "Version": "2010-05-08"}, in_query=True)
    assert r.status_code == 200, r.content
    assert ET.fromstring(r.content).tag == IAM_NS + "GetUserResponse"


def test_success_document_shape(server):
    name = uniq("shape")
    r = raw_query(server, {"Action": "CreateUser", "Version": "2010-05-08", "UserName": name})
    assert r.status_code == 200, r.content
    root = ET.fromstring(r.content)
    assert root.tag == IAM_NS + "CreateUserResponse"
    assert root.find(f"{IAM_NS}CreateUserResult/{IAM_NS}User/{IAM_NS}UserName").text == name
    assert root.find(f"{IAM_NS}ResponseMetadata/{IAM_NS}RequestId").text


def test_anonymous_is_refused(server):
    for action in ("ListUsers", "GetCallerIdentity", "AssumeRole"):
        r = raw_query(server, {"Action": action, "Version": "2010-05-08"}, sign=False)
        assert r.status_code == 403, r.content
        assert error_response(r)["Code"] == "AccessDenied"


def test_bad_signature(server):
    r = raw_query(server, {"Action": "ListUsers", "Version": "2010-05-08"},
                  sk=server.secret_key + "x")
    assert r.status_code == 403
    assert error_response(r)["Code"] == "SignatureDoesNotMatch"
    r = raw_query(server, {"Action": "ListUsers", "Version": "2010-05-08"}, ak="NOSUCHKEY1234567")
    assert r.status_code == 403
    assert error_response(r)["Code"] == "InvalidClientTokenId"


# ---- who may call IAM ----


def test_user_without_iam_rights_is_denied(server, iam, bucket):
    _, ak, sk = user_with_key(iam, s3_rw(bucket))
    mine = client(server, "iam", ak, sk)
    expect_error("AccessDenied", 403, mine.list_users)
    expect_error("AccessDenied", 403, mine.create_user, UserName=uniq("evil"))
    expect_error("AccessDenied", 403, mine.create_policy, PolicyName=uniq("evil"),
                 PolicyDocument=policy_doc(allow(["s3:*"], ["*"])))
    expect_error("AccessDenied", 403, mine.list_policies)


def test_delegated_user_admin(server, iam):
    rights = allow(["iam:CreateUser", "iam:GetUser", "iam:DeleteUser"],
                   ["arn:aws:iam::*:user/app-*"])
    _, ak, sk = user_with_key(iam, rights, allow(["iam:ListUsers"], ["*"]))
    admin = client(server, "iam", ak, sk)
    name = uniq("app")
    admin.create_user(UserName=name)
    assert admin.get_user(UserName=name)["User"]["UserName"] == name
    assert name in [u["UserName"] for u in admin.list_users(MaxItems=1000)["Users"]]
    expect_error("AccessDenied", 403, admin.create_user, UserName=uniq("ops"))
    admin.delete_user(UserName=name)


# ---- the aws CLI: a user, a key and a policy, and that key works for S3 within it ----


def test_aws_cli_user_key_policy(server, iam, tmp_path, new_bucket):
    allowed, other = new_bucket(), new_bucket()
    aws = AwsCli(server, tmp_path / "awshome")
    name, pname = uniq("cli"), uniq("cli-pol")

    def run(*args):
        return json.loads(aws(*args).stdout.decode() or "{}")

    assert run("iam", "create-user", "--user-name", name)["User"]["UserName"] == name
    key = run("iam", "create-access-key", "--user-name", name)["AccessKey"]
    doc = tmp_path / "policy.json"
    doc.write_text(policy_doc(allow(["s3:PutObject", "s3:GetObject"],
                                    [f"arn:aws:s3:::{allowed}/*"])))
    arn = run("iam", "create-policy", "--policy-name", pname, "--policy-document",
              f"file://{doc}")["Policy"]["Arn"]
    aws("iam", "attach-user-policy", "--user-name", name, "--policy-arn", arn)
    att = run("iam", "list-attached-user-policies", "--user-name", name)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in att] == [arn]
    assert name in [u["UserName"] for u in run("iam", "list-users")["Users"]]

    s3 = client(server, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    s3.put_object(Bucket=allowed, Key="in", Body=b"inside")
    assert s3.get_object(Bucket=allowed, Key="in")["Body"].read() == b"inside"
    expect_error("AccessDenied", 403, s3.put_object, Bucket=other, Key="out", Body=b"x")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=allowed, Key="in")
    expect_error("AccessDenied", 403, s3.list_objects_v2, Bucket=allowed)
    expect_error("AccessDenied", 403, s3.list_buckets)

    r = aws("iam", "delete-policy", "--policy-arn", arn, check=False)
    assert r.returncode != 0 and b"DeleteConflict" in r.stderr
    aws("iam", "detach-user-policy", "--user-name", name, "--policy-arn", arn)
    aws("iam", "delete-policy", "--policy-arn", arn)
    expect_error("AccessDenied", 403, s3.put_object, Bucket=allowed, Key="in2", Body=b"x")
    r = aws("iam", "create-user", "--user-name", name, check=False)
    assert r.returncode != 0 and b"EntityAlreadyExists" in r.stderr


def test_aws_cli_sts_get_caller_identity(server, tmp_path):
    aws = AwsCli(server, tmp_path / "awshome")
    me = json.loads(aws("sts", "get-caller-identity").stdout)
    assert me["Arn"].endswith(":root") and len(me["Account"]) == 12


# ---- STS ----


def test_get_caller_identity(server, iam, sts):
    root = sts.get_caller_identity()
    assert root["Arn"] == f"arn:aws:iam::{root['Account']}:root"
    assert len(root["Account"]) == 12 and root["UserId"]
    name, ak, sk = user_with_key(iam)
    me = client(server, "sts", ak, sk).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{root['Account']}:user/{name}"
    assert me["Account"] == root["Account"]
    assert me["UserId"] == iam.get_user(UserName=name)["User"]["UserId"]


def test_assume_role(server, iam, new_bucket):
    b1, b2 = new_bucket(), new_bucket()
    name, ak, sk = user_with_key(iam, s3_rw(b1), s3_rw(b2))
    user_sts = client(server, "sts", ak, sk)
    r = user_sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/anything",
                             RoleSessionName="sess", DurationSeconds=900)
    c = r["Credentials"]
    assert c["AccessKeyId"] and c["SecretAccessKey"] and c["SessionToken"]
    assert c["Expiration"].year >= 2024
    assert r["AssumedRoleUser"]["Arn"].endswith("assumed-role/anything/sess")
    tmp = client(server, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    tmp.put_object(Bucket=b1, Key="t", Body=b"1")
    tmp.put_object(Bucket=b2, Key="t", Body=b"2")
    # never more than the caller: a bucket the user may not write
    b3 = new_bucket()
    expect_error("AccessDenied", 403, tmp.put_object, Bucket=b3, Key="t", Body=b"3")
    who = client(server, "sts", c["AccessKeyId"], c["SecretAccessKey"],
                 c["SessionToken"]).get_caller_identity()
    assert who["Account"] and who["Arn"]
    # temporary credentials cannot assume a role again
    expect_error("AccessDenied", 403, client(server, "sts", c["AccessKeyId"], c["SecretAccessKey"],
                                             c["SessionToken"]).assume_role,
                 RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="again")


def test_assume_role_session_policy_narrows(server, iam, new_bucket):
    b1, b2 = new_bucket(), new_bucket()
    _, ak, sk = user_with_key(iam, s3_rw(b1), s3_rw(b2))
    c = client(server, "sts", ak, sk).assume_role(
        RoleArn="arn:aws:iam::123456789012:role/narrow", RoleSessionName="narrow",
        Policy=policy_doc(s3_rw(b1)))["Credentials"]
    tmp = client(server, "s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    tmp.put_object(Bucket=b1, Key="in", Body=b"1")
    expect_error("AccessDenied", 403, tmp.put_object, Bucket=b2, Key="out", Body=b"2")


def test_assume_role_bad_input(server, iam, sts):
    for secs in ("899", "43201", "12x"):  # botocore itself refuses 899: sent raw
        r = raw_query(server, {"Action": "AssumeRole", "Version": "2011-06-15",
                               "RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "ss",
                               "DurationSeconds": secs}, service="sts")
        assert r.status_code == 400, r.content
        assert error_response(r, STS_NS)["Code"] == "ValidationError"
    ok = sts.assume_role(RoleArn="arn:aws:iam::1:role/r", RoleSessionName="ss",
                         DurationSeconds=43200)["Credentials"]
    assert ok["SessionToken"]
    expect_error("MalformedPolicyDocument", 400, sts.assume_role, RoleArn="arn:aws:iam::1:role/r",
                 RoleSessionName="ss", Policy='{"Statement": ')
    expect_error("ValidationError", 400, sts.assume_role, RoleArn="arn:aws:iam::1:role/r",
                 RoleSessionName="bad/name")


def test_tampered_session_token(server, iam, bucket):
    _, ak, sk = user_with_key(iam, s3_rw(bucket))
    c = client(server, "sts", ak, sk).assume_role(RoleArn="arn:aws:iam::1:role/r",
                                                  RoleSessionName="tt")["Credentials"]
    tok = c["SessionToken"]
    mid = len(tok) // 2
    bad = tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1:]
    s3 = client(server, "s3", c["AccessKeyId"], c["SecretAccessKey"], bad)
    expect_error("InvalidToken", 400, s3.put_object, Bucket=bucket, Key="x", Body=b"x")
    # the token is required: without it the temporary key is unknown
    s3 = client(server, "s3", c["AccessKeyId"], c["SecretAccessKey"])
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert http_status(ei.value) in (400, 403)
