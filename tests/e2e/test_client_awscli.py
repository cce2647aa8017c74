"""The aws CLI from Debian (awscli 2.9) with its default transfer settings: `s3 cp` of a large
file (multipart above 8 MiB, 8 MiB parts), `s3 sync` both ways with `--delete`,
`s3 rm --recursive`, and `s3api` for multipart, tagging and CORS. (test_clients.py covers single
PUTs, ranged downloads and plain sync with a config that keeps uploads single-part.)
"""

import hashlib
import json
import os

import pytest
import requests

from conftest import AwsCli
from helpers import md5hex, rand_bytes, sha

MiB = 1024 * 1024


@pytest.fixture
def aws(server, tmp_path):
    """The aws CLI with the default multipart settings (threshold and part size 8 MiB)."""
    return AwsCli(server, tmp_path / "awshome", single_put=False)


def out_json(r):
    return json.loads(r.stdout.decode() or "{}")


def file_sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def local_tree(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = file_sha(p)
    return out


def remote_tree(s3, bucket, prefix):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            out[o["Key"][len(prefix):]] = sha(body)
    return out


def write_tree(root, files):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def test_awscli_cp_large_file_multipart(server, s3, aws, bucket, tmp_path):
    src = tmp_path / "large.bin"
    data = rand_bytes(40 * MiB + 123, seed=40)
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{bucket}/large.bin")
    h = s3.head_object(Bucket=bucket, Key="large.bin")
    assert h["ContentLength"] == len(data) and h["ETag"].endswith('-6"'), h   # 5 x 8 MiB + rest
    assert sha(s3.get_object(Bucket=bucket, Key="large.bin")["Body"].read()) == sha(data)
    dst = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/large.bin", str(dst))
    assert file_sha(dst) == sha(data)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_awscli_sync_both_ways_with_delete(server, s3, aws, bucket, tmp_path):
    src = tmp_path / "src"
    write_tree(src, {"a.txt": b"a\n", "sub/b.bin": rand_bytes(100_000, seed=1),
                     "sub/deeper/c d.bin": rand_bytes(2 * MiB + 5, seed=2),
                     "sub/é.txt": b"accent\n"})
    aws("s3", "sync", str(src), f"s3://{bucket}/t/")
    assert remote_tree(s3, bucket, "t/") == local_tree(src)

    # up, with deletes: one gone, one changed (another size), one new
    (src / "a.txt").unlink()
    (src / "sub/b.bin").write_bytes(rand_bytes(99_999, seed=3))
    (src / "new.txt").write_bytes(b"new\n")
    r = aws("s3", "sync", "--delete", str(src), f"s3://{bucket}/t/")
    assert f"delete: s3://{bucket}/t/a.txt" in r.stdout.decode()
    assert remote_tree(s3, bucket, "t/") == local_tree(src)

    # down, with deletes, after changes made on the server by another client
    s3.put_object(Bucket=bucket, Key="t/remote-only.bin", Body=rand_bytes(12_345, seed=4))
    s3.delete_object(Bucket=bucket, Key="t/new.txt")
    s3.put_object(Bucket=bucket, Key="t/sub/b.bin", Body=rand_bytes(54_321, seed=5))
    dst = tmp_path / "dst"
    write_tree(dst, {"stale.txt": b"must go\n", "sub/b.bin": b"old"})
    aws("s3", "sync", "--delete", f"s3://{bucket}/t/", str(dst))
    remote = remote_tree(s3, bucket, "t/")
    assert local_tree(dst) == remote
    assert "stale.txt" not in local_tree(dst) and "remote-only.bin" in remote
    # nothing left to do either way
    r = aws("s3", "sync", "--delete", f"s3://{bucket}/t/", str(dst))
    assert r.stdout.decode().strip() == ""


def test_awscli_rm_recursive(server, s3, aws, bucket):
    for i in range(25):
        s3.put_object(Bucket=bucket, Key=f"p/{i:02d}/obj", Body=b"x" * i)
    keep = {"p-sibling": rand_bytes(3000, seed=6), "q/p/obj": rand_bytes(4000, seed=7)}
    for k, v in keep.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    r = aws("s3", "rm", "--recursive", f"s3://{bucket}/p/")
    assert r.stdout.decode().count("delete: ") == 25
    assert remote_tree(s3, bucket, "") == {k: sha(v) for k, v in keep.items()}


def test_awscli_s3api_multipart_complete(server, s3, aws, bucket, tmp_path):
    parts = [rand_bytes(5 * MiB, seed=8), rand_bytes(MiB + 3, seed=9)]
    r = aws("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "mp",
            "--content-type", "x/mp", "--metadata", "k=v")
    uid = out_json(r)["UploadId"]
    etags = []
    for n, data in enumerate(parts, 1):
        p = tmp_path / f"part{n}"
        p.write_bytes(data)
        r = aws("s3api", "upload-part", "--bucket", bucket, "--key", "mp", "--upload-id", uid,
                "--part-number", str(n), "--body", str(p))
        etags.append(out_json(r)["ETag"])
        assert etags[-1] == f'"{md5hex(data)}"'
    r = aws("s3api", "list-parts", "--bucket", bucket, "--key", "mp", "--upload-id", uid)
    listed = out_json(r)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (n, len(d), e) for n, (d, e) in enumerate(zip(parts, etags), 1)]
    r = aws("s3api", "list-multipart-uploads", "--bucket", bucket)
    assert [u["UploadId"] for u in out_json(r)["Uploads"]] == [uid]
    doc = tmp_path / "mpu.json"
    doc.write_text(json.dumps({"Parts": [{"PartNumber": n, "ETag": e}
                                         for n, e in enumerate(etags, 1)]}))
    r = aws("s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "mp",
            "--upload-id", uid, "--multipart-upload", f"file://{doc}")
    want = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in etags)).hexdigest() + "-2"
    assert out_json(r)["ETag"] == f'"{want}"'
    dst = tmp_path / "mp.down"
    r = aws("s3api", "get-object", "--bucket", bucket, "--key", "mp", str(dst))
    assert file_sha(dst) == sha(b"".join(parts))
    o = out_json(r)
    assert o["ETag"] == f'"{want}"' and o["ContentType"] == "x/mp" and o["Metadata"] == {"k": "v"}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_awscli_s3api_multipart_abort(server, s3, aws, bucket, tmp_path):
    r = aws("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "ab")
    uid = out_json(r)["UploadId"]
    p = tmp_path / "part"
    p.write_bytes(rand_bytes(MiB, seed=10))
    aws("s3api", "upload-part", "--bucket", bucket, "--key", "ab", "--upload-id", uid,
        "--part-number", "1", "--body", str(p))
    aws("s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "ab", "--upload-id", uid)
    r = aws("s3api", "list-parts", "--bucket", bucket, "--key", "ab", "--upload-id", uid,
            check=False)
    assert r.returncode != 0 and b"NoSuchUpload" in r.stderr, r.stderr
    r = aws("s3api", "list-multipart-uploads", "--bucket", bucket)
    assert out_json(r).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_awscli_s3api_object_tagging(server, s3, aws, bucket, tmp_path):
    data = rand_bytes(20_000, seed=11)
    p = tmp_path / "t.bin"
    p.write_bytes(data)
    aws("s3api", "put-object", "--bucket", bucket, "--key", "t", "--body", str(p),
        "--tagging", "a=1&b=two")
    r = aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "t")
    tags = sorted((t["Key"], t["Value"]) for t in out_json(r)["TagSet"])
    assert tags == [("a", "1"), ("b", "two")]
    aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "t",
        "--tagging", "TagSet=[{Key=env,Value=test},{Key=owner,Value=basalt}]")
    r = aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "t")
    assert sorted((t["Key"], t["Value"]) for t in out_json(r)["TagSet"]) == [
        ("env", "test"), ("owner", "basalt")]
    r = aws("s3api", "get-object", "--bucket", bucket, "--key", "t", str(tmp_path / "t.down"))
    assert out_json(r).get("TagCount") == 2      # x-amz-tagging-count
    assert file_sha(tmp_path / "t.down") == sha(data)
    aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "t")
    r = aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "t")
    assert out_json(r)["TagSet"] == []
    assert sha(s3.get_object(Bucket=bucket, Key="t")["Body"].read()) == sha(data)


def test_awscli_s3api_bucket_cors(server, s3, aws, bucket, tmp_path):
    cfg = {"CORSRules": [{"AllowedOrigins": ["https://app.example"],
                          "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
                          "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]}
    doc = tmp_path / "cors.json"
    doc.write_text(json.dumps(cfg))
    aws("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", f"file://{doc}")
    r = aws("s3api", "get-bucket-cors", "--bucket", bucket)
    rule = out_json(r)["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["https://app.example"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "PUT"] and rule["MaxAgeSeconds"] == 600
    data = rand_bytes(5000, seed=12)
    s3.put_object(Bucket=bucket, Key="c", Body=data)
    url = f"{server.endpoint}/{bucket}/c"
    # a browser's preflight, unauthenticated, answered from the configuration
    r = requests.options(url, headers={"Origin": "https://app.example",
                                       "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "content-type"},
                         timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert "PUT" in r.headers.get("Access-Control-Allow-Methods", "")
    r = requests.options(url, headers={"Origin": "https://evil.example",
                                       "Access-Control-Request-Method": "PUT"}, timeout=30)
    assert r.status_code == 403
    # CORS headers on an actual (presigned) GET from that origin, and the bytes
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "c"})
    r = requests.get(get, headers={"Origin": "https://app.example"}, timeout=30)
    assert r.status_code == 200 and sha(r.content) == sha(data)
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert "ETag" in r.headers.get("Access-Control-Expose-Headers", "")
    aws("s3api", "delete-bucket-cors", "--bucket", bucket)
    r = aws("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert r.returncode != 0 and b"NoSuchCORSConfiguration" in r.stderr, r.stderr
