"""boto3 as applications use it, default settings (but path-style addressing and one attempt):

- Debian's boto3 (`python3-boto3`, the one these tests run on): managed transfers
  (`upload_file`/`download_file` of 200 MiB with the default TransferConfig: multipart above
  8 MiB, 10 threads; ranged GETs on the way down), presigned URLs for GET/PUT/HEAD/DELETE fetched
  with `requests`, `generate_presigned_post`, CopyObject, DeleteObjects;
- the newest boto3 the machine has besides (a `python3` on PATH other than Debian's, when one
  has a newer boto3), run as a subprocess: since 1.36 it sends CRC32 checksums by default
  (over plain HTTP as an `x-amz-checksum-crc32` header; multipart parts carry one each).
"""

import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests

from helpers import TIME_SCALE, md5hex, rand_bytes, sha

MiB = 1024 * 1024


def write_rand_file(path, size, seed):
    """Writes `size` pseudo-random bytes to path, 1 MiB at a time (no MiB repeats).
    Returns (sha256 hex, md5 hex)."""
    hs, hm = hashlib.sha256(), hashlib.md5()
    with open(path, "wb") as f:
        i = 0
        while i * MiB < size:
            chunk = rand_bytes(min(MiB, size - i * MiB), seed=seed * 1_000_003 + i)
            f.write(chunk)
            hs.update(chunk)
            hm.update(chunk)
            i += 1
    return hs.hexdigest(), hm.hexdigest()


def file_sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def file_200m(tmp_path_factory):
    p = tmp_path_factory.mktemp("boto3big") / "200m.bin"
    digest, md5 = write_rand_file(p, 200 * MiB, seed=200)
    yield p, digest, md5
    p.unlink()


# --------------------------------------------------------------------------
# Managed transfers, Debian's boto3
# --------------------------------------------------------------------------


def test_boto3_download_file_200mib(server, s3, bucket, file_200m, tmp_path):
    """One 200 MiB PUT, then download_file with the default TransferConfig: parallel ranged
    GETs (8 MiB each, 10 threads) put back together by boto3."""
    p, digest, md5 = file_200m
    with open(p, "rb") as f:
        r = s3.put_object(Bucket=bucket, Key="big/one-put", Body=f)
    assert r["ETag"] == f'"{md5}"'
    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "big/one-put", str(dst))
    assert file_sha(dst) == digest


def test_boto3_upload_file_200mib(server, s3, bucket, file_200m, tmp_path):
    """upload_file with the default TransferConfig: 25 parts of 8 MiB, 10 threads."""
    p, digest, md5 = file_200m
    s3.upload_file(str(p), bucket, "big/multipart")
    h = s3.head_object(Bucket=bucket, Key="big/multipart")
    assert h["ContentLength"] == 200 * MiB and h["ETag"].endswith('-25"'), h
    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "big/multipart", str(dst))
    assert file_sha(dst) == digest
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_boto3_upload_download_file_below_threshold(server, s3, bucket, tmp_path):
    """Below the 8 MiB multipart threshold upload_file is one PUT."""
    p = tmp_path / "seven.bin"
    digest, md5 = write_rand_file(p, 7 * MiB + 11, seed=7)
    s3.upload_file(str(p), bucket, "small/seven", ExtraArgs={"Metadata": {"k": "v"}})
    h = s3.head_object(Bucket=bucket, Key="small/seven")
    assert h["ETag"] == f'"{md5}"' and h["Metadata"] == {"k": "v"}
    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "small/seven", str(dst))
    assert file_sha(dst) == digest
    # upload_fileobj / download_fileobj from memory too
    import io
    data = rand_bytes(300_000, seed=8)
    s3.upload_fileobj(io.BytesIO(data), bucket, "small/mem")
    out = io.BytesIO()
    s3.download_fileobj(bucket, "small/mem", out)
    assert sha(out.getvalue()) == sha(data)


# --------------------------------------------------------------------------
# Presigned URLs and POST, fetched with requests
# --------------------------------------------------------------------------


def test_boto3_presigned_get_put_head_delete(server, s3, bucket):
    data = rand_bytes(2 * MiB + 9, seed=10)
    s3.put_object(Bucket=bucket, Key="pre/get", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/get"},
                                    ExpiresIn=600)
    r = requests.get(url, timeout=60)
    assert r.status_code == 200 and sha(r.content) == sha(data)
    r = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=60)
    assert r.status_code == 206 and r.content == data[100:200]

    up = rand_bytes(300_001, seed=11)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre/put"},
                                    ExpiresIn=600)
    r = requests.put(url, data=up, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{md5hex(up)}"'
    assert sha(s3.get_object(Bucket=bucket, Key="pre/put")["Body"].read()) == sha(up)

    head = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "pre/put"},
                                     ExpiresIn=600)
    r = requests.head(head, timeout=60)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(up)
    assert r.headers["ETag"] == f'"{md5hex(up)}"'

    url = s3.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "pre/put"},
                                    ExpiresIn=600)
    r = requests.delete(url, timeout=60)
    assert r.status_code == 204, r.text
    assert requests.head(head, timeout=60).status_code == 404
    # the other object is untouched
    assert sha(s3.get_object(Bucket=bucket, Key="pre/get")["Body"].read()) == sha(data)


def test_boto3_presigned_post(server, s3, bucket):
    data = rand_bytes(100_000, seed=12)
    post = s3.generate_presigned_post(
        bucket, "post/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-k": "v"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-k": "v"},
                    ["content-length-range", 1, 10 * MiB]],
        ExpiresIn=600)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("up.txt", data)},
                      timeout=60)
    assert r.status_code == 204, r.text
    o = s3.get_object(Bucket=bucket, Key="post/up.txt")
    assert sha(o["Body"].read()) == sha(data)
    assert o["ContentType"] == "text/plain" and o["Metadata"] == {"k": "v"}

    post = s3.generate_presigned_post(bucket, "post/201", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("x", data[:777])},
                      timeout=60)
    assert r.status_code == 201, r.text
    doc = {c.tag.split("}")[-1]: c.text for c in ET.fromstring(r.content)}
    assert doc["Bucket"] == bucket and doc["Key"] == "post/201", doc
    assert doc["ETag"] == f'"{md5hex(data[:777])}"', doc
    assert s3.get_object(Bucket=bucket, Key="post/201")["Body"].read() == data[:777]


# --------------------------------------------------------------------------
# CopyObject, DeleteObjects
# --------------------------------------------------------------------------


def test_boto3_copy_object(server, s3, new_bucket):
    b1, b2 = new_bucket(), new_bucket()
    data = rand_bytes(3 * MiB + 1, seed=13)
    s3.put_object(Bucket=b1, Key="src", Body=data, ContentType="x/src", Metadata={"a": "1"})
    r = s3.copy_object(Bucket=b1, Key="same-bucket", CopySource={"Bucket": b1, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == f'"{md5hex(data)}"'
    s3.copy_object(Bucket=b2, Key="other/bucket", CopySource=f"{b1}/src",
                   MetadataDirective="REPLACE", ContentType="x/new", Metadata={"b": "2"})
    o = s3.get_object(Bucket=b1, Key="same-bucket")
    assert sha(o["Body"].read()) == sha(data)
    assert o["ContentType"] == "x/src" and o["Metadata"] == {"a": "1"}
    o = s3.get_object(Bucket=b2, Key="other/bucket")
    assert sha(o["Body"].read()) == sha(data)
    assert o["ContentType"] == "x/new" and o["Metadata"] == {"b": "2"}
    # the managed copy (CopyObject below 8 MiB)
    s3.copy({"Bucket": b1, "Key": "src"}, b2, "managed")
    assert sha(s3.get_object(Bucket=b2, Key="managed")["Body"].read()) == sha(data)


def test_boto3_delete_objects(server, s3, bucket):
    keep = rand_bytes(5000, seed=14)
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=keep if i == 4 else b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": "d/0"}, {"Key": "d/1"}, {"Key": "d/2"}, {"Key": "d/never-was"}]})
    assert sorted(d["Key"] for d in r.get("Deleted", [])) == ["d/0", "d/1", "d/2", "d/never-was"]
    assert r.get("Errors", []) == []
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/3"}], "Quiet": True})
    assert r.get("Deleted", []) == [] and r.get("Errors", []) == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["d/4"]
    assert sha(s3.get_object(Bucket=bucket, Key="d/4")["Body"].read()) == sha(keep)


# --------------------------------------------------------------------------
# The newest boto3 on the machine, default settings
# --------------------------------------------------------------------------

NEWEST_SCRIPT = r"""
import hashlib, io, json, sys
import boto3
from botocore.config import Config
a = json.loads(sys.argv[1])
c = boto3.client("s3", endpoint_url=a["endpoint"], aws_access_key_id=a["ak"],
                 aws_secret_access_key=a["sk"], region_name="us-east-1",
                 config=Config(s3={"addressing_style": "path"},
                               retries={"max_attempts": 1, "mode": "standard"}))
out = {"version": boto3.__version__}
b = a["bucket"]
if a["op"] == "small":
    data = open(a["file"], "rb").read()
    r = c.put_object(Bucket=b, Key="n/put", Body=data)
    out["put_etag"] = r["ETag"]
    c.upload_fileobj(io.BytesIO(data), b, "n/fileobj")
    out["get"] = hashlib.sha256(c.get_object(Bucket=b, Key="n/put")["Body"].read()).hexdigest()
    buf = io.BytesIO()
    c.download_fileobj(b, "n/fileobj", buf)
    out["download"] = hashlib.sha256(buf.getvalue()).hexdigest()
    out["list"] = sorted(o["Key"] for o in c.list_objects_v2(Bucket=b, Prefix="n/")["Contents"])
    c.delete_object(Bucket=b, Key="n/put")
    out["after_delete"] = sorted(o["Key"] for o in
                                 c.list_objects_v2(Bucket=b, Prefix="n/").get("Contents", []))
elif a["op"] == "upload_file":
    c.upload_file(a["file"], b, "n/multipart")
    out["etag"] = c.head_object(Bucket=b, Key="n/multipart")["ETag"]
    c.download_file(b, "n/multipart", a["file"] + ".down")
    h = hashlib.sha256()
    with open(a["file"] + ".down", "rb") as f:
        h.update(f.read())
    out["download"] = h.hexdigest()
print(json.dumps(out))
"""


def _boto3_version(py):
    r = subprocess.run([py, "-c", "import boto3; print(boto3.__version__)"], capture_output=True,
                       timeout=60, env={k: v for k, v in os.environ.items()
                                        if not k.startswith("AWS_")})
    if r.returncode != 0:
        return None
    return tuple(int(x) for x in r.stdout.decode().strip().split(".")[:3])


@pytest.fixture(scope="module")
def newest_boto3_python():
    """A python3 on PATH, not Debian's, whose boto3 is newer than Debian's; else skip."""
    debian = tuple(int(x) for x in boto3.__version__.split(".")[:3])
    best = None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        py = shutil.which("python3", path=d)
        if not py or os.path.realpath(py).startswith(("/usr/bin/", "/bin/")):
            continue
        v = _boto3_version(py)
        if v and v > debian and (best is None or v > best[1]):
            best = (py, v)
    if best is None:
        pytest.skip(f"no boto3 newer than Debian's {boto3.__version__} on this machine")
    return best[0]


def run_newest(py, server, **args):
    args.update(endpoint=server.endpoint, ak=server.access_key, sk=server.secret_key)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    r = subprocess.run([py, "-c", NEWEST_SCRIPT, json.dumps(args)], capture_output=True,
                       env=env, timeout=180 * TIME_SCALE)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-3000:]
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def test_newest_boto3_defaults(server, s3, bucket, newest_boto3_python, tmp_path):
    data = rand_bytes(1 * MiB + 3, seed=15)
    p = tmp_path / "n.bin"
    p.write_bytes(data)
    out = run_newest(newest_boto3_python, server, op="small", bucket=bucket, file=str(p))
    assert out["put_etag"] == f'"{md5hex(data)}"', out
    assert out["get"] == sha(data) and out["download"] == sha(data), out
    assert out["list"] == ["n/fileobj", "n/put"] and out["after_delete"] == ["n/fileobj"], out
    assert sha(s3.get_object(Bucket=bucket, Key="n/fileobj")["Body"].read()) == sha(data)


def test_newest_boto3_upload_file_multipart(server, s3, bucket, newest_boto3_python, tmp_path):
    """upload_file of 24 MiB + 1 byte: 4 parts (3 of 8 MiB, then 1 byte), each with its CRC32."""
    p = tmp_path / "n24.bin"
    digest, _ = write_rand_file(p, 24 * MiB + 1, seed=24)
    out = run_newest(newest_boto3_python, server, op="upload_file", bucket=bucket, file=str(p))
    assert out["etag"].endswith('-4"'), out
    assert out["download"] == digest
    assert file_sha(p) == digest
