"""A 4-node cluster (4 x 2 drives, EC 4+4) serves one consistent S3 API
from every node: what one node acknowledges, every other node reads, lists
and acts on at once (read-after-write, list-after-write, delete-after-write),
including bucket configuration (CORS, tagging) that nodes cache. All nodes
stay up here (failures: test_cluster_failures.py)."""

import hashlib
import itertools
import os

import pytest
import requests
from botocore.exceptions import ClientError

from cluster import shared_cluster  # noqa: F401 - fixture
from helpers import err_code, http_status, rand_bytes, sha

MiB = 1024 * 1024
_seq = itertools.count()


@pytest.fixture
def c(shared_cluster):  # noqa: F811 - the fixture above
    return shared_cluster


def new_bucket(c, n=1):
    name = f"api-{os.getpid() % 10000}-{next(_seq)}"
    c.client(n).create_bucket(Bucket=name)
    return name


def keys_of(client, bucket, prefix=""):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def s3_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    return err_code(ei.value) or str(http_status(ei.value))


def test_bucket_seen_by_every_node_at_once(c):
    b = new_bucket(c, 1)
    for n in (3, 2, 4):
        assert b in [x["Name"] for x in c.client(n).list_buckets()["Buckets"]], n
        c.client(n).head_bucket(Bucket=b)
    # an object through node 4 into the bucket made on node 1, at once
    c.client(4).put_object(Bucket=b, Key="k", Body=b"v")
    # us-east-1: creating a bucket you own answers 200 (S3's legacy rule) and changes nothing
    assert c.client(2).create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert keys_of(c.client(3), b) == ["k"]
    assert s3_error(c.client(3).delete_bucket, Bucket=b) == "BucketNotEmpty"
    c.client(3).delete_object(Bucket=b, Key="k")
    c.client(2).delete_bucket(Bucket=b)
    for n in (1, 3, 4):
        assert b not in [x["Name"] for x in c.client(n).list_buckets()["Buckets"]], n
        assert s3_error(c.client(n).head_bucket, Bucket=b) == "404", n
        assert s3_error(c.client(n).put_object, Bucket=b, Key="k", Body=b"x") == "NoSuchBucket", n
        assert s3_error(c.client(n).list_objects_v2, Bucket=b) == "NoSuchBucket", n


SIZES = [0, 1, 4096, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, MiB + 7, 3 * MiB + 5]


def test_read_list_delete_after_write_across_nodes(c):
    b = new_bucket(c, 2)
    want = {}
    for i, size in enumerate(SIZES):
        key = f"dir/obj-{size}"
        data = rand_bytes(size, seed=size + 1)
        w, r = 1 + i % 4, 1 + (i + 2) % 4  # written through one node, read through another
        etag = c.client(w).put_object(Bucket=b, Key=key, Body=data,
                                      Metadata={"size": str(size)})["ETag"]
        got = c.client(r).get_object(Bucket=b, Key=key)
        assert got["Body"].read() == data, (size, w, r)
        assert got["ETag"] == etag and got["ContentLength"] == size
        assert got["Metadata"] == {"size": str(size)}
        h = c.client(1 + (i + 3) % 4).head_object(Bucket=b, Key=key)
        assert h["ETag"] == etag and h["ContentLength"] == size
        assert key in keys_of(c.client(1 + (i + 1) % 4), b), (size, "list-after-write")
        want[key] = data
    # an overwrite through node 4 is what every node reads next
    for key in list(want)[::2]:
        want[key] = b"second version of " + key.encode()
        c.client(4).put_object(Bucket=b, Key=key, Body=want[key])
        for n in (1, 2, 3):
            assert c.client(n).get_object(Bucket=b, Key=key)["Body"].read() == want[key], (key, n)
    # delete through node 2: node 4 answers 404 at once and lists it no more
    for key in list(want)[1::3]:
        c.client(2).delete_object(Bucket=b, Key=key)
        del want[key]
        assert s3_error(c.client(4).get_object, Bucket=b, Key=key) == "NoSuchKey", key
        assert s3_error(c.client(3).head_object, Bucket=b, Key=key) == "404", key
        assert key not in keys_of(c.client(4), b), key
    for n in c.all():
        assert sorted(keys_of(c.client(n), b)) == sorted(want), n
        for key, data in want.items():
            assert sha(c.client(n).get_object(Bucket=b, Key=key)["Body"].read()) == sha(data)
    # DeleteObjects through node 3, seen by node 1
    c.client(3).delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in want]})
    assert keys_of(c.client(1), b) == []


def test_listing_pages_across_nodes(c):
    b = new_bucket(c, 3)
    keys = [f"p/{i:04d}" for i in range(1100)] + ["q/a", "q/b/c"]
    for i, k in enumerate(keys):
        c.client(1 + i % 4).put_object(Bucket=b, Key=k, Body=k.encode())
    for n in c.all():
        assert keys_of(c.client(n), b) == sorted(keys), n
    r = c.client(2).list_objects_v2(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["p/", "q/"]
    r = c.client(4).list_objects(Bucket=b, Prefix="p/", Marker="p/1095")
    assert [o["Key"] for o in r["Contents"]] == [f"p/{i:04d}" for i in range(1096, 1100)]


def test_multipart_parts_through_different_nodes(c):
    b = new_bucket(c, 1)
    up = c.client(2).create_multipart_upload(Bucket=b, Key="mp", Metadata={"m": "1"})["UploadId"]
    assert [u["UploadId"] for u in
            c.client(3).list_multipart_uploads(Bucket=b).get("Uploads", [])] == [up]
    sizes = [5 * MiB, 5 * MiB + 3, 1000]
    data = [rand_bytes(s, seed=100 + i) for i, s in enumerate(sizes)]
    parts = []
    for i, d in enumerate(data):
        # parts through nodes 1, 3, 4; part 2 replaced through node 1 afterwards
        etag = c.client([1, 3, 4][i]).upload_part(Bucket=b, Key="mp", UploadId=up,
                                                   PartNumber=i + 1, Body=d)["ETag"]
        parts.append({"ETag": etag, "PartNumber": i + 1})
    data[1] = rand_bytes(sizes[1], seed=999)
    parts[1]["ETag"] = c.client(1).upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=2,
                                               Body=data[1])["ETag"]
    listed = c.client(2).list_parts(Bucket=b, Key="mp", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (p["PartNumber"], p["ETag"], s) for p, s in zip(parts, sizes)]
    c.client(4).complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                          MultipartUpload={"Parts": parts})
    whole = b"".join(data)
    md5s = b"".join(hashlib.md5(d).digest() for d in data)
    for n in c.all():
        got = c.client(n).get_object(Bucket=b, Key="mp")
        assert got["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"', n
        assert got["Metadata"] == {"m": "1"}
        assert sha(got["Body"].read()) == sha(whole), n
    part2 = c.client(3).get_object(Bucket=b, Key="mp", PartNumber=2)["Body"].read()
    assert part2 == data[1]
    rng = c.client(1).get_object(Bucket=b, Key="mp", Range=f"bytes={5 * MiB - 2}-{5 * MiB + 1}")
    assert rng["Body"].read() == whole[5 * MiB - 2:5 * MiB + 2]
    # completed: the upload is gone for every node
    for n in c.all():
        assert c.client(n).list_multipart_uploads(Bucket=b).get("Uploads", []) == [], n
    assert s3_error(c.client(3).upload_part, Bucket=b, Key="mp", UploadId=up, PartNumber=1,
                    Body=b"x") == "NoSuchUpload"
    # aborted through another node than the one that created it
    up2 = c.client(1).create_multipart_upload(Bucket=b, Key="mp2")["UploadId"]
    c.client(2).upload_part(Bucket=b, Key="mp2", UploadId=up2, PartNumber=1, Body=b"p")
    c.client(3).abort_multipart_upload(Bucket=b, Key="mp2", UploadId=up2)
    assert c.client(4).list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    assert s3_error(c.client(4).complete_multipart_upload, Bucket=b, Key="mp2", UploadId=up2,
                    MultipartUpload={"Parts": [{"ETag": '"x"', "PartNumber": 1}]}) \
        == "NoSuchUpload"
    assert keys_of(c.client(2), b) == ["mp"]


def test_copy_across_nodes(c):
    b1, b2 = new_bucket(c, 1), new_bucket(c, 4)
    small, big = rand_bytes(1000, seed=1), rand_bytes(3 * MiB + 1, seed=2)
    c.client(1).put_object(Bucket=b1, Key="small", Body=small, Metadata={"a": "1"})
    c.client(2).put_object(Bucket=b1, Key="big", Body=big)
    c.client(3).copy_object(Bucket=b2, Key="small-copy", CopySource={"Bucket": b1, "Key": "small"})
    c.client(4).copy_object(Bucket=b1, Key="big-copy", CopySource={"Bucket": b1, "Key": "big"},
                            Metadata={"b": "2"}, MetadataDirective="REPLACE")
    for n in c.all():
        got = c.client(n).get_object(Bucket=b2, Key="small-copy")
        assert got["Body"].read() == small and got["Metadata"] == {"a": "1"}, n
        got = c.client(n).get_object(Bucket=b1, Key="big-copy")
        assert sha(got["Body"].read()) == sha(big) and got["Metadata"] == {"b": "2"}, n
    # overwrite the source: the copy keeps its bytes
    c.client(1).put_object(Bucket=b1, Key="big", Body=b"new")
    assert sha(c.client(3).get_object(Bucket=b1, Key="big-copy")["Body"].read()) == sha(big)
    assert c.client(2).get_object(Bucket=b1, Key="big")["Body"].read() == b"new"


def test_tagging_across_nodes(c):
    b = new_bucket(c, 2)
    c.client(1).put_object(Bucket=b, Key="t", Body=b"tagged", Tagging="a=1&b=2")
    for n in c.all():
        tags = c.client(n).get_object_tagging(Bucket=b, Key="t")["TagSet"]
        assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")], n
    c.client(3).put_object_tagging(Bucket=b, Key="t", Tagging={"TagSet": [{"Key": "x",
                                                                           "Value": "y"}]})
    for n in c.all():
        assert c.client(n).get_object_tagging(Bucket=b, Key="t")["TagSet"] == [
            {"Key": "x", "Value": "y"}], n
        assert c.client(n).head_object(Bucket=b, Key="t")["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-tagging-count"] == "1", n
    c.client(4).delete_object_tagging(Bucket=b, Key="t")
    assert c.client(1).get_object_tagging(Bucket=b, Key="t")["TagSet"] == []
    # bucket tagging: set on one node, read, replaced and removed through the others
    c.client(2).put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert c.client(4).get_bucket_tagging(Bucket=b)["TagSet"] == [{"Key": "team", "Value": "a"}]
    c.client(3).put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "b"}]})
    for n in c.all():
        assert c.client(n).get_bucket_tagging(Bucket=b)["TagSet"] == [
            {"Key": "team", "Value": "b"}], n
    c.client(1).delete_bucket_tagging(Bucket=b)
    for n in c.all():
        assert s3_error(c.client(n).get_bucket_tagging, Bucket=b) == "NoSuchTagSet", n


def preflight(c, n, bucket, origin, method="GET"):
    return requests.options(f"{c.endpoint(n)}/{bucket}/obj", timeout=10,
                            headers={"Origin": origin, "Access-Control-Request-Method": method})


def test_cors_across_nodes(c):
    b = new_bucket(c, 1)
    # every node answers a preflight (and caches the bucket's configuration)
    for n in c.all():
        assert preflight(c, n, b, "https://a.example").status_code == 403, n
    rules = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://a.example"]}]}
    c.client(1).put_bucket_cors(Bucket=b, CORSConfiguration=rules)
    for n in c.all():
        assert c.client(n).get_bucket_cors(Bucket=b)["CORSRules"][0]["AllowedOrigins"] == [
            "https://a.example"], n
        r = preflight(c, n, b, "https://a.example")
        assert r.status_code == 200, (n, r.status_code, r.text)
        assert r.headers.get("Access-Control-Allow-Origin") == "https://a.example", n
    # replaced through node 2: no node answers from the old rules
    rules = {"CORSRules": [{"AllowedMethods": ["PUT"], "AllowedOrigins": ["https://b.example"]}]}
    c.client(2).put_bucket_cors(Bucket=b, CORSConfiguration=rules)
    for n in c.all():
        assert preflight(c, n, b, "https://a.example").status_code == 403, n
        assert preflight(c, n, b, "https://b.example", "PUT").status_code == 200, n
    # removed through node 3
    c.client(3).delete_bucket_cors(Bucket=b)
    for n in c.all():
        assert s3_error(c.client(n).get_bucket_cors, Bucket=b) == "NoSuchCORSConfiguration", n
        assert preflight(c, n, b, "https://b.example", "PUT").status_code == 403, n


@pytest.mark.parametrize("prefix", ["basalt", "minio"])
def test_health_all_up(c, prefix):
    for n in c.all():
        for kind in ("live", "ready", "cluster"):
            assert c.node(n).health(kind, minio=prefix == "minio") == 200, (n, kind)
        # 3 other nodes up: this one may go down for maintenance
        assert c.node(n).health("cluster", minio=prefix == "minio",
                                query={"maintenance": "true"}) == 200, n


def _admin(c, n, method, path, body=None):
    """The admin API of node n, as root (helpers.Signed over the node's address)."""
    import json as _json

    from helpers import Signed

    class _Node:
        port = c.node(n).port
        endpoint = c.endpoint(n)
        access_key, secret_key = c.node(n).access_key, c.node(n).secret_key

    sig = Signed(_Node)
    sig.host = f"{c.node(n).host}:{c.node(n).port}"
    data = b"" if body is None else _json.dumps(body).encode()
    r = sig.request(method, "/basalt/admin/v1/" + path, body=data)
    assert r.status_code == 200, f"node {n} {method} {path}: {r.status_code} {r.text[:300]}"
    return r.json()


def test_iam_changes_reach_every_node_at_once(c):
    """A user made on node 1 works on every node; disabled on node 2, it is refused on every
    node within a second; a bucket policy set on node 3 lets anonymous reads in on node 4."""
    import time

    from helpers import make_client

    b = new_bucket(c)
    c.client(1).put_object(Bucket=b, Key="k", Body=b"v")
    user = f"clu-{os.getpid() % 10000}-{next(_seq)}"
    secret = _admin(c, 1, "PUT", f"users/{user}")["secret_key"]
    _admin(c, 1, "POST", "policies/readonly/attach", {"user": user})
    clients = {n: make_client(c.endpoint(n), user, secret) for n in range(1, 5)}
    for n in range(1, 5):  # no wait: node 1 told the others before answering
        assert clients[n].get_object(Bucket=b, Key="k")["Body"].read() == b"v", n
    _admin(c, 2, "POST", f"users/{user}/disable")
    t0 = time.monotonic()
    refused = set()
    while len(refused) < 4 and time.monotonic() - t0 < 1.0:
        for n in range(1, 5):
            try:
                clients[n].get_object(Bucket=b, Key="k")
            except ClientError as e:
                assert err_code(e) == "InvalidAccessKeyId", e.response
                refused.add(n)
    assert refused == {1, 2, 3, 4}, f"still accepted after 1 s on nodes {set(range(1, 5)) - refused}"
    import json as _json
    c.client(3).put_bucket_policy(Bucket=b, Policy=_json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{b}/*"}]}))
    r = requests.get(f"{c.endpoint(4)}/{b}/k", timeout=10)
    assert r.status_code == 200 and r.content == b"v"
    c.client(1).delete_bucket_policy(Bucket=b)
    r = requests.get(f"{c.endpoint(2)}/{b}/k", timeout=10)
    assert r.status_code == 403
