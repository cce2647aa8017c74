"""ACLs, object ownership and the public access block (issue 12), as S3 defines them.

The session server keeps S3's default (BucketOwnerEnforced: ACLs disabled); a module server
started with --object-ownership ObjectWriter serves the legacy-client cases. Every grant is
checked from both sides: who it lets in succeeds, and whoever it does not gets 403.
"""
import hashlib
import subprocess
import uuid

import botocore
import pytest

from helpers import Server, Signed, err_code, http_status, make_client
from test_iam import Admin, anon, denied, make_user, put_policy, set_bucket_policy, uniq

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
ROOT_ID = "02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4"


def refused(code, status, fn, *a, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*a, **kw)
    assert (http_status(e.value), err_code(e.value)) == (status, code), e.value.response


def canonical_id(admin, user):
    uid = admin.ok("GET", f"users/{user}")["id"]
    return hashlib.sha256(("basalt canonical " + uid).encode()).hexdigest()


def new_name(prefix="acl"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def ow(tmp_path_factory):
    """A server whose new buckets are ObjectWriter (ACLs enabled)."""
    s = Server(tmp_path_factory.mktemp("acl") / "ow", name="ow",
               extra_args=["--object-ownership", "ObjectWriter"])
    s.start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def ow_s3(ow):
    return ow.client()


@pytest.fixture(scope="module")
def ow_admin(ow):
    return Admin(ow)


# ---- object ownership ----


def test_ownership_controls_default_round_trip_and_delete(s3, bucket):
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    for setting in ("ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": setting}]})
        got = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert got == [{"ObjectOwnership": setting}]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    refused("OwnershipControlsNotFoundError", 404, s3.get_bucket_ownership_controls,
            Bucket=bucket)
    # without ownership controls, ACLs are enabled again (ObjectWriter's behaviour)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    refused("MalformedXML", 400, s3.put_bucket_ownership_controls, Bucket=bucket,
            OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]})


def test_create_bucket_with_ownership_header(s3):
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    got = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert got == [{"ObjectOwnership": "ObjectWriter"}]
    refused("InvalidArgument", 400, s3.create_bucket, Bucket=new_name(),
            ObjectOwnership="Whoever")


def test_enforced_disables_acls(s3, bucket):
    refused("AccessControlListNotSupported", 400, s3.put_object, Bucket=bucket, Key="k",
            Body=b"x", ACL="public-read")
    refused("AccessControlListNotSupported", 400, s3.put_object, Bucket=bucket, Key="k",
            Body=b"x", GrantRead=f'uri="{ALL_USERS}"')
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert acl["Owner"]["ID"] == ROOT_ID
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [
        (ROOT_ID, "FULL_CONTROL")]
    bacl = s3.get_bucket_acl(Bucket=bucket)
    assert [(g["Grantee"].get("ID"), g["Permission"]) for g in bacl["Grants"]] == [
        (ROOT_ID, "FULL_CONTROL")]
    refused("AccessControlListNotSupported", 400, s3.put_bucket_acl, Bucket=bucket,
            ACL="public-read")
    refused("AccessControlListNotSupported", 400, s3.put_object_acl, Bucket=bucket, Key="k",
            ACL="public-read")
    # an ACL that only gives the owner FULL_CONTROL is accepted
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": ROOT_ID},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": ROOT_ID},
                    "Permission": "FULL_CONTROL"}]})
    refused("InvalidBucketAclWithObjectOwnership", 400, s3.create_bucket, Bucket=new_name(),
            ACL="public-read")


def test_server_default_ownership(ow_s3):
    """A default of ObjectWriter leaves new buckets without ownership controls, as S3's buckets
    were before 2023 (ACLs enabled, the writer owns); asked for, the setting is the bucket's."""
    name = new_name()
    ow_s3.create_bucket(Bucket=name)
    refused("OwnershipControlsNotFoundError", 404, ow_s3.get_bucket_ownership_controls,
            Bucket=name)
    ow_s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="public-read")
    name = new_name()
    ow_s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    got = ow_s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert got == [{"ObjectOwnership": "ObjectWriter"}]


def test_policy_status_counts_public_acls(ow_s3):
    name = new_name()
    ow_s3.create_bucket(Bucket=name, ACL="public-read")
    assert ow_s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"] is True
    ow_s3.put_bucket_acl(Bucket=name, ACL="private")
    assert ow_s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"] is False


def test_bad_object_ownership_flag_refused(fresh_server):
    s = fresh_server(start=False, extra_args=["--object-ownership", "Everyone"])
    r = subprocess.run(s.args(), env=s.env(), capture_output=True, timeout=30)
    assert r.returncode == 2
    assert b"--object-ownership" in r.stderr
    env = dict(s.env(), BASALT_OBJECT_OWNERSHIP="Nobody")
    s = fresh_server(start=False, name="env")
    r = subprocess.run(s.args(), env=env, capture_output=True, timeout=30)
    assert r.returncode == 2 and b"BASALT_OBJECT_OWNERSHIP" in r.stderr


def test_ownership_from_the_environment(fresh_server, monkeypatch):
    monkeypatch.setenv("BASALT_OBJECT_OWNERSHIP", "BucketOwnerPreferred")
    c = fresh_server().client()
    c.create_bucket(Bucket="pref")
    got = c.get_bucket_ownership_controls(Bucket="pref")["OwnershipControls"]["Rules"]
    assert got == [{"ObjectOwnership": "BucketOwnerPreferred"}]


# ---- ACLs (ObjectWriter) ----


def test_public_read_bucket_and_object(ow, ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b, ACL="public-read")
    ow_s3.put_object(Bucket=b, Key="private", Body=b"p")
    ow_s3.put_object(Bucket=b, Key="public", Body=b"pub", ACL="public-read")
    a = anon(ow)
    assert sorted(o["Key"] for o in a.list_objects_v2(Bucket=b)["Contents"]) == [
        "private", "public"]
    assert a.get_object(Bucket=b, Key="public")["Body"].read() == b"pub"
    denied(a.get_object, Bucket=b, Key="private")
    denied(a.put_object, Bucket=b, Key="new", Body=b"x")
    denied(a.delete_object, Bucket=b, Key="public")
    denied(a.get_object_acl, Bucket=b, Key="public")
    denied(a.get_bucket_acl, Bucket=b)
    grants = ow_s3.get_bucket_acl(Bucket=b)["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants


def test_public_read_object_in_private_bucket(ow, ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="pub", Body=b"hello", ACL="public-read")
    a = anon(ow)
    assert a.get_object(Bucket=b, Key="pub")["Body"].read() == b"hello"
    denied(a.list_objects_v2, Bucket=b)
    denied(a.put_object, Bucket=b, Key="pub", Body=b"overwrite")


def test_public_read_write_bucket_takes_anonymous_writes(ow, ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b, ACL="public-read-write")
    a = anon(ow)
    a.put_object(Bucket=b, Key="drop", Body=b"in")
    assert ow_s3.get_object(Bucket=b, Key="drop")["Body"].read() == b"in"


def test_authenticated_read_needs_a_signature(ow, ow_s3, ow_admin):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="k", Body=b"members", ACL="authenticated-read")
    _, _, c = make_user(ow_admin, ow)  # no policy at all
    assert c.get_object(Bucket=b, Key="k")["Body"].read() == b"members"
    denied(anon(ow).get_object, Bucket=b, Key="k")
    denied(c.put_object, Bucket=b, Key="k", Body=b"no")


def test_grant_by_canonical_id_and_deny_wins(ow, ow_s3, ow_admin):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="k", Body=b"for alice")
    alice, _, ca = make_user(ow_admin, ow)
    bob, _, cb = make_user(ow_admin, ow)
    denied(ca.get_object, Bucket=b, Key="k")
    aid = canonical_id(ow_admin, alice)
    ow_s3.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{aid}"')
    assert ca.get_object(Bucket=b, Key="k")["Body"].read() == b"for alice"
    denied(cb.get_object, Bucket=b, Key="k")
    denied(ca.put_object, Bucket=b, Key="k", Body=b"x")  # READ is not WRITE
    # a bucket grant lets alice list
    ow_s3.put_bucket_acl(Bucket=b, GrantRead=f'id="{aid}"', GrantFullControl=f'id="{ROOT_ID}"')
    assert ca.list_objects_v2(Bucket=b)["KeyCount"] == 1
    # an explicit Deny in alice's own policy beats the ACL grant
    pol = uniq("deny-get")
    put_policy(ow_admin, pol, [{"Effect": "Deny", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{b}/*"}])
    ow_admin.ok("POST", f"policies/{pol}/attach", {"user": alice})
    denied(ca.get_object, Bucket=b, Key="k")
    assert ca.list_objects_v2(Bucket=b)["KeyCount"] == 1


def test_users_own_buckets_and_objects(ow, ow_s3, ow_admin):
    """A user allowed to create buckets owns them: its ACL gives it FULL_CONTROL."""
    pol = uniq("create-only")
    put_policy(ow_admin, pol, [{"Effect": "Allow", "Action": "s3:CreateBucket",
                                "Resource": "*"}])
    carol, _, cc = make_user(ow_admin, ow, [pol])
    cid = canonical_id(ow_admin, carol)
    b = new_name()
    cc.create_bucket(Bucket=b)
    cc.put_object(Bucket=b, Key="mine", Body=b"c")
    assert cc.get_object(Bucket=b, Key="mine")["Body"].read() == b"c"
    acl = cc.get_bucket_acl(Bucket=b)
    assert acl["Owner"] == {"ID": cid, "DisplayName": carol}
    assert cc.list_buckets()["Owner"]["ID"] == cid
    assert b in [x["Name"] for x in cc.list_buckets()["Buckets"]]
    # another user's bucket of that name exists
    refused("BucketAlreadyExists", 409, ow_s3.create_bucket, Bucket=b)
    # what ACLs cannot grant (bucket policy, deleting the bucket) stays with policies
    denied(cc.delete_bucket, Bucket=b)


def test_object_acl_round_trip_with_grants(ow, ow_s3, ow_admin):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="k", Body=b"x")
    dave, _, _ = make_user(ow_admin, ow)
    did = canonical_id(ow_admin, dave)
    ow_s3.put_object_acl(Bucket=b, Key="k", AccessControlPolicy={
        "Owner": {"ID": ROOT_ID},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": ROOT_ID}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": dave},
             "Permission": "READ_ACP"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
        ]})
    acl = ow_s3.get_object_acl(Bucket=b, Key="k")
    assert acl["Owner"]["ID"] == ROOT_ID
    got = [(g["Grantee"]["Type"], g["Grantee"].get("ID") or g["Grantee"].get("URI"),
            g["Grantee"].get("DisplayName"), g["Permission"]) for g in acl["Grants"]]
    # groups first, then users (RGW's order, which s3-tests compare with)
    assert got == [("Group", ALL_USERS, None, "READ"),
                   ("CanonicalUser", ROOT_ID, ow.access_key, "FULL_CONTROL"),
                   ("CanonicalUser", did, dave, "READ_ACP")]
    # the ACL is not a header of the object
    assert not any(k.startswith("x-basalt") for k in
                   ow_s3.head_object(Bucket=b, Key="k")["ResponseMetadata"]["HTTPHeaders"])
    # the owner alone with less than FULL_CONTROL is not the default: it is kept
    ow_s3.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{ROOT_ID}"')
    assert [g["Permission"] for g in ow_s3.get_object_acl(Bucket=b, Key="k")["Grants"]] == [
        "READ"]
    # back to private: the stored ACL goes
    ow_s3.put_object_acl(Bucket=b, Key="k", ACL="private")
    assert len(ow_s3.get_object_acl(Bucket=b, Key="k")["Grants"]) == 1
    denied(anon(ow).get_object, Bucket=b, Key="k")


def test_copy_and_multipart_take_the_request_acl(ow, ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="src", Body=b"s", ACL="public-read")
    ow_s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "src"})
    denied(anon(ow).get_object, Bucket=b, Key="copy")  # the source's ACL is not copied
    ow_s3.copy_object(Bucket=b, Key="copy2", CopySource={"Bucket": b, "Key": "src"},
                      ACL="public-read")
    assert anon(ow).get_object(Bucket=b, Key="copy2")["Body"].read() == b"s"
    up = ow_s3.create_multipart_upload(Bucket=b, Key="mp", ACL="public-read")["UploadId"]
    etag = ow_s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1,
                             Body=b"m")["ETag"]
    ow_s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"ETag": etag, "PartNumber": 1}]})
    assert anon(ow).get_object(Bucket=b, Key="mp")["Body"].read() == b"m"


def test_bad_acls(ow, ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="k", Body=b"x")
    policy = {"Owner": {"ID": ROOT_ID}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": ROOT_ID}, "Permission": "FULL_CONTROL"}]}
    refused("UnexpectedContent", 400, ow_s3.put_object_acl, Bucket=b, Key="k",
            ACL="public-read", AccessControlPolicy=policy)
    refused("InvalidRequest", 400, ow_s3.put_object, Bucket=b, Key="k2", Body=b"x",
            ACL="public-read", GrantRead=f'uri="{ALL_USERS}"')
    refused("InvalidArgument", 400, ow_s3.put_object, Bucket=b, Key="k2", Body=b"x",
            ACL="everyone")
    refused("UnresolvableGrantByEmailAddress", 400, ow_s3.put_object_acl, Bucket=b, Key="k",
            GrantRead='emailAddress="nobody@example.com"')
    refused("InvalidArgument", 400, ow_s3.put_bucket_acl, Bucket=b, GrantRead='id="' +
            "0" * 64 + '"')
    refused("InvalidArgument", 400, ow_s3.put_bucket_acl, Bucket=b,
            GrantRead='uri="http://example.com/group"')
    sig = Signed(ow)
    for body in (b"<AccessControlPolicy><Owner>", b"<Other/>",
                 b"<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID>"
                 b"</Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList>"
                 b"</AccessControlPolicy>"):
        r = sig.request("PUT", f"/{b}", query=[("acl", "")], body=body)
        assert r.status_code == 400 and b"<Code>MalformedACLError</Code>" in r.content, r.text
    refused("NoSuchKey", 404, ow_s3.get_object_acl, Bucket=b, Key="missing")


# ---- public access block ----


def test_public_access_block_round_trip(ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    refused("NoSuchPublicAccessBlockConfiguration", 404, ow_s3.get_public_access_block,
            Bucket=b)
    conf = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}
    ow_s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=conf)
    assert ow_s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"] == conf
    ow_s3.delete_public_access_block(Bucket=b)
    refused("NoSuchPublicAccessBlockConfiguration", 404, ow_s3.get_public_access_block,
            Bucket=b)


def pab(s3, b, **flags):
    conf = {k: flags.get(k, False) for k in (
        "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=conf)


def test_block_public_acls(ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    pab(ow_s3, b, BlockPublicAcls=True)
    denied(ow_s3.put_bucket_acl, Bucket=b, ACL="public-read")
    denied(ow_s3.put_object, Bucket=b, Key="k", Body=b"x", ACL="public-read")
    denied(ow_s3.put_object, Bucket=b, Key="k", Body=b"x",
           GrantRead='uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"')
    ow_s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="private")
    denied(ow_s3.put_object_acl, Bucket=b, Key="k", ACL="public-read-write")


def test_ignore_public_acls(ow, ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b, ACL="public-read")
    ow_s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
    a = anon(ow)
    assert a.get_object(Bucket=b, Key="k")["Body"].read() == b"x"
    pab(ow_s3, b, IgnorePublicAcls=True)
    denied(a.get_object, Bucket=b, Key="k")
    denied(a.list_objects_v2, Bucket=b)
    ow_s3.delete_public_access_block(Bucket=b)
    assert a.get_object(Bucket=b, Key="k")["Body"].read() == b"x"


def test_block_public_policy(ow_s3):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    pab(ow_s3, b, BlockPublicPolicy=True)
    public = [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": f"arn:aws:s3:::{b}/*"}]
    denied(set_bucket_policy, ow_s3, b, public)
    # a policy that is not public is still accepted
    set_bucket_policy(ow_s3, b, [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                  "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*",
                                  "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}])


def test_restrict_public_buckets(ow, ow_s3, ow_admin):
    b = new_name()
    ow_s3.create_bucket(Bucket=b)
    ow_s3.put_object(Bucket=b, Key="k", Body=b"x")
    set_bucket_policy(ow_s3, b, [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                  "Resource": f"arn:aws:s3:::{b}/*"}])
    a = anon(ow)
    _, _, c = make_user(ow_admin, ow)
    assert a.get_object(Bucket=b, Key="k")["Body"].read() == b"x"
    pab(ow_s3, b, RestrictPublicBuckets=True)
    denied(a.get_object, Bucket=b, Key="k")
    assert c.get_object(Bucket=b, Key="k")["Body"].read() == b"x"  # a signed caller
