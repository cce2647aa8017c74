"""Buckets: ListBuckets, CreateBucket (+LocationConstraint), HeadBucket,
DeleteBucket, GetBucketLocation."""

import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from helpers import Signed, S3NS, assert_s3_error, err_code, get_bytes, http_status, rand_bytes, sha
from conftest import bucket_name


def test_create_head_list_delete(s3, request):
    name = bucket_name(request.node.name)
    r = s3.create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("Location") in (f"/{name}", None, "")
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    lb = s3.list_buckets()
    names = [b["Name"] for b in lb["Buckets"]]
    assert name in names
    assert names == sorted(names)
    ent = next(b for b in lb["Buckets"] if b["Name"] == name)
    assert ent["CreationDate"].year >= 2024
    # the bucket holds data, byte-exact
    data = rand_bytes(5000, seed=1)
    s3.put_object(Bucket=name, Key="k", Body=data)
    assert sha(get_bytes(s3, name, "k")) == sha(data)
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert http_status(ei.value) == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert err_code(ei.value) == "NoSuchBucket"


def test_list_buckets_xml(server, bucket):
    r = Signed(server).request("GET", "/")
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.tag == S3NS + "ListAllMyBucketsResult"
    assert root.find(f"{S3NS}Owner/{S3NS}ID") is not None
    names = [e.text for e in root.iter(S3NS + "Name")]
    assert bucket in names
    for b in root.iter(S3NS + "Bucket"):
        cd = b.find(S3NS + "CreationDate").text
        assert cd.endswith("Z") and "T" in cd, cd


def test_create_existing_bucket(s3, bucket):
    """S3's legacy rule in us-east-1 (the default region here): creating a
    bucket you already own answers 200 and leaves the bucket as it was, its
    objects included (the CreateBucket reference: BucketAlreadyOwnedByYou is
    returned in every region but North Virginia). Before, Basalt answered 409
    there too."""
    s3.put_object(Bucket=bucket, Key="keep", Body=b"kept")
    created = next(b for b in s3.list_buckets()["Buckets"] if b["Name"] == bucket)["CreationDate"]
    r = s3.create_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_bytes(s3, bucket, "keep") == b"kept"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]
    assert next(b for b in s3.list_buckets()["Buckets"]
                if b["Name"] == bucket)["CreationDate"] == created


def test_create_existing_bucket_other_region(fresh_server, request):
    """Outside us-east-1, S3 answers 409 BucketAlreadyOwnedByYou to a
    CreateBucket of a bucket the caller owns, and the bucket is untouched."""
    srv = fresh_server(region="eu-west-1")
    c = srv.client(region="eu-west-1")
    name = bucket_name(request.node.name)
    cfg = {"LocationConstraint": "eu-west-1"}
    c.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
    c.put_object(Bucket=name, Key="keep", Body=b"kept")
    with pytest.raises(ClientError) as ei:
        c.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
    assert err_code(ei.value) == "BucketAlreadyOwnedByYou"
    assert http_status(ei.value) == 409
    assert get_bytes(c, name, "keep") == b"kept"


def test_delete_nonempty_and_missing(s3, bucket):
    data = b"keep me" * 100
    s3.put_object(Bucket=bucket, Key="x/y", Body=data)
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    assert err_code(ei.value) == "BucketNotEmpty"
    assert http_status(ei.value) == 409
    # nothing was lost by the refused delete
    assert get_bytes(s3, bucket, "x/y") == data
    s3.delete_object(Bucket=bucket, Key="x/y")
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    assert err_code(ei.value) == "NoSuchBucket"
    assert http_status(ei.value) == 404


def test_get_bucket_location_default(s3, bucket):
    loc = s3.get_bucket_location(Bucket=bucket)
    # S3 answers an empty LocationConstraint for us-east-1
    assert loc.get("LocationConstraint") in (None, "", "us-east-1")


def test_get_bucket_location_missing(s3):
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_location(Bucket="no-such-bucket-loc-e2e")
    assert err_code(ei.value) == "NoSuchBucket"


def test_create_with_location_constraint_mismatch(s3, request):
    name = bucket_name(request.node.name)
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert http_status(ei.value) == 400
    assert err_code(ei.value) in ("InvalidLocationConstraint", "IllegalLocationConstraintException",
                                  "InvalidRegion")
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)


def test_configured_region(fresh_server, request):
    srv = fresh_server(region="eu-west-1")
    c = srv.client(region="eu-west-1")
    name = bucket_name(request.node.name)
    c.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert c.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    data = rand_bytes(300_000, seed=2)
    c.put_object(Bucket=name, Key="obj", Body=data)
    assert sha(get_bytes(c, name, "obj")) == sha(data)
    # a signature scoped to another region is refused
    bad = srv.client(region="us-east-1")
    with pytest.raises(ClientError) as ei:
        bad.get_object(Bucket=name, Key="obj")
    assert http_status(ei.value) in (400, 403)


def test_create_bucket_body_with_location(server, request, s3):
    name = bucket_name(request.node.name)
    body = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>")
    r = Signed(server).request("PUT", f"/{name}", body=body)
    assert r.status_code == 200, r.text
    assert r.headers.get("x-amz-request-id")
    s3.put_object(Bucket=name, Key="a", Body=b"abc")
    assert get_bytes(s3, name, "a") == b"abc"


@pytest.mark.parametrize("name", [
    "ab",                      # too short
    "a" * 64,                  # too long
    "UpperCase",               # upper case
    "under_score",
    "-leading-dash",
    "trailing-dash-",
    "192.168.1.1",             # IP address
    "double..dot",
    ".leading-dot",
    "trailing-dot.",
    "xn--prefixed",
    "suffixed-s3alias",
    "sp ace",
    "bad!char",
])
def test_invalid_bucket_names(server, name):
    r = Signed(server).request("PUT", "/" + name)
    assert_s3_error(r, 400, "InvalidBucketName")
    # and it was not created
    r = Signed(server).request("GET", "/")
    assert f"<Name>{name}</Name>".encode() not in r.content


@pytest.mark.parametrize("name", ["foo.-bar", "foo-.bar", "a-.b.c", "a.b.-c"])
def test_invalid_bucket_names_dot_dash(server, name):
    """S3 refuses a bucket name with ".-" or "-." (400 InvalidBucketName): each
    dot-separated label of a name must start and end with a letter or digit."""
    r = Signed(server).request("PUT", "/" + name)
    assert_s3_error(r, 400, "InvalidBucketName")
    r = Signed(server).request("HEAD", "/" + name)
    assert r.status_code in (400, 404)


@pytest.mark.parametrize("value,status,code", [
    ("BucketOwnerEnforced", 200, None),
    ("ObjectWriter", 200, None),
    ("BucketOwnerPreferred", 200, None),
    ("OwnerOfEverything", 400, "InvalidArgument"),
])
def test_create_bucket_object_ownership(server, request, value, status, code):
    """x-amz-object-ownership on CreateBucket: S3's three settings are the bucket's (its
    ownership controls say so; test_acl.py covers what each does); any other value: 400, the
    bucket not made."""
    name = bucket_name(request.node.nodeid) + "-own"
    r = Signed(server).request("PUT", "/" + name, headers={"x-amz-object-ownership": value})
    if code is None:
        assert r.status_code == 200, r.text
        r = Signed(server).request("GET", "/" + name, query=[("ownershipControls", "")])
        assert f"<ObjectOwnership>{value}</ObjectOwnership>" in r.text, r.text
        assert Signed(server).request("DELETE", "/" + name).status_code == 204
    else:
        assert_s3_error(r, status, code)
        assert Signed(server).request("HEAD", "/" + name).status_code == 404


def test_valid_edge_bucket_names(s3):
    for name in ["abc", "a" * 63, "a.b-c.d9", "0numeric-start"]:
        s3.create_bucket(Bucket=name)
        try:
            s3.put_object(Bucket=name, Key="k", Body=name.encode())
            assert get_bytes(s3, name, "k") == name.encode()
            s3.delete_object(Bucket=name, Key="k")
        finally:
            s3.delete_bucket(Bucket=name)


def list_buckets_raw(srv, **params):
    q = [(k.replace("_", "-"), str(v)) for k, v in params.items()]
    r = Signed(srv).request("GET", "/", query=q)
    return r, (ET.fromstring(r.content) if r.status_code == 200 else None)


def bucket_names(root):
    return [e.text for e in root.iter(S3NS + "Name")]


def test_list_buckets_paginated(fresh_server):
    """ListBuckets' paging (S3 API reference, ListBuckets): max-buckets (1 to
    10,000) caps the page; ContinuationToken appears only when more buckets
    match and, sent back as continuation-token, gives the next page; prefix
    filters the names and is echoed as Prefix. Without these parameters every
    bucket is listed, as before. Basalt ignored them all."""
    srv = fresh_server()
    c = srv.client()
    r, root = list_buckets_raw(srv, max_buckets=1)
    assert r.status_code == 200, r.text
    assert bucket_names(root) == [] and root.find(S3NS + "ContinuationToken") is None
    names = ["pg-a1", "pg-a2", "pg-b1", "zz-other"]
    for n in names:
        c.create_bucket(Bucket=n)
    # one page at a time
    seen, token, pages = [], None, 0
    while pages < 10:
        q = dict(max_buckets=1)
        if token:
            q["continuation_token"] = token
        r, root = list_buckets_raw(srv, **q)
        assert r.status_code == 200, r.text
        pages += 1
        got = bucket_names(root)
        assert len(got) == 1
        seen += got
        tok = root.find(S3NS + "ContinuationToken")
        if tok is None:
            break
        token = tok.text
    assert seen == names and pages == 4
    # pages of 3, then the rest
    r, root = list_buckets_raw(srv, max_buckets=3)
    assert bucket_names(root) == names[:3]
    token = root.find(S3NS + "ContinuationToken").text
    r, root = list_buckets_raw(srv, max_buckets=3, continuation_token=token)
    assert bucket_names(root) == names[3:]
    assert root.find(S3NS + "ContinuationToken") is None
    # prefix: filtered and echoed; paged within it
    r, root = list_buckets_raw(srv, prefix="pg-a")
    assert bucket_names(root) == ["pg-a1", "pg-a2"]
    assert root.find(S3NS + "Prefix").text == "pg-a"
    r, root = list_buckets_raw(srv, prefix="pg-", max_buckets=2)
    assert bucket_names(root) == ["pg-a1", "pg-a2"]
    token = root.find(S3NS + "ContinuationToken").text
    r, root = list_buckets_raw(srv, prefix="pg-", max_buckets=2, continuation_token=token)
    assert bucket_names(root) == ["pg-b1"] and root.find(S3NS + "ContinuationToken") is None
    # an exact page: no token
    r, root = list_buckets_raw(srv, max_buckets=4)
    assert bucket_names(root) == names and root.find(S3NS + "ContinuationToken") is None
    # every bucket is in the server's region
    r, root = list_buckets_raw(srv, bucket_region="us-east-1")
    assert bucket_names(root) == names
    r, root = list_buckets_raw(srv, bucket_region="eu-west-1")
    assert bucket_names(root) == []
    # no parameters: all, and no Prefix or ContinuationToken
    r, root = list_buckets_raw(srv)
    assert bucket_names(root) == names
    assert root.find(S3NS + "Prefix") is None and root.find(S3NS + "ContinuationToken") is None
    # out of range or not a number: 400 InvalidArgument
    for bad in ("0", "10001", "-1", "x"):
        r, _ = list_buckets_raw(srv, max_buckets=bad)
        assert_s3_error(r, 400, "InvalidArgument")
    r, _ = list_buckets_raw(srv, continuation_token="!!!")
    assert_s3_error(r, 400, "InvalidArgument")
    assert srv.alive()
