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
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=bucket)
    assert err_code(ei.value) == "BucketAlreadyOwnedByYou"
    assert http_status(ei.value) == 409


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


def test_valid_edge_bucket_names(s3):
    for name in ["abc", "a" * 63, "a.b-c.d9", "0numeric-start"]:
        s3.create_bucket(Bucket=name)
        try:
            s3.put_object(Bucket=name, Key="k", Body=name.encode())
            assert get_bytes(s3, name, "k") == name.encode()
            s3.delete_object(Bucket=name, Key="k")
        finally:
            s3.delete_bucket(Bucket=name)
