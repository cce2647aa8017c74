"""boto3 as applications use it, default settings (but path-style addressing and one attempt):

- Debian's boto3 (`python3-boto3`, the one these tests run on): managed transfers
  (`upload_file`/`download_file` of 200 MiB with the default TransferConfig: multipart above
  8 MiB, 10 threads; ranged GETs on the way down), presigned URLs for GET/PUT/HEAD/DELETE fetched
  with `requests`, `generate_presigned_post`, CopyObject, DeleteObjects;
- the newest boto3 the machine has besides (a `python3` on PATH other than Debian's, when one
  has a newer boto3), run as a subprocess: since 1.36 it sends CRC32 checksums by default
  (over plain HTTP as an `x-amz-checksum-crc32` header; multipart parts carry one each).
  put/get/list/delete, CopyObject (same and other bucket, the managed multipart copy),
  `upload_file`/`download_file` of 200 MiB (26 parts, 10 threads), presigned URLs and
  `generate_presigned_post` (the requests made here with `requests`). Its presigned URLs and
  forms are Signature Version 2 unless `signature_version="s3v4"` is set (botocore's default
  for S3 presigning): both are used; and every request signed with SigV2
  (`signature_version="s3"`): tagging, a managed multipart upload.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zlib

import boto3
import pytest
import requests

from helpers import TIME_SCALE, assert_s3_error, get_bytes, md5hex, rand_bytes, sha

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


def client(**cfg):
    return boto3.client("s3", endpoint_url=a["endpoint"], aws_access_key_id=a["ak"],
                        aws_secret_access_key=a["sk"], region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1, "mode": "standard"}, **cfg))


def get_sha(bucket, key):
    return hashlib.sha256(c.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()


c = client()
out = {"version": boto3.__version__}
b = a["bucket"]
if a["op"] == "small":
    data = open(a["file"], "rb").read()
    r = c.put_object(Bucket=b, Key="n/put", Body=data)
    out["put_etag"] = r["ETag"]
    c.upload_fileobj(io.BytesIO(data), b, "n/fileobj")
    out["get"] = get_sha(b, "n/put")
    buf = io.BytesIO()
    c.download_fileobj(b, "n/fileobj", buf)
    out["download"] = hashlib.sha256(buf.getvalue()).hexdigest()
    out["list"] = sorted(o["Key"] for o in c.list_objects_v2(Bucket=b, Prefix="n/")["Contents"])
    c.delete_object(Bucket=b, Key="n/put")
    out["after_delete"] = sorted(o["Key"] for o in
                                 c.list_objects_v2(Bucket=b, Prefix="n/").get("Contents", []))
elif a["op"] == "upload_file":
    c.upload_file(a["file"], b, "n/multipart")
    h = c.head_object(Bucket=b, Key="n/multipart", ChecksumMode="ENABLED")
    out["head"] = {k: h.get(k) for k in ("ETag", "ContentLength", "ChecksumCRC32",
                                         "ChecksumType")}
    c.download_file(b, "n/multipart", a["down"])
elif a["op"] == "copy":
    b2 = a["bucket2"]
    with open(a["file"], "rb") as f:
        c.put_object(Bucket=b, Key="nc/src", Body=f, ContentType="x/src", Metadata={"a": "1"})
    r = c.copy_object(Bucket=b, Key="nc/same", CopySource={"Bucket": b, "Key": "nc/src"})
    out["same_etag"] = r["CopyObjectResult"]["ETag"]
    r = c.copy_object(Bucket=b2, Key="nc/other", CopySource=f"{b}/nc/src",
                      MetadataDirective="REPLACE", ContentType="x/new", Metadata={"b": "2"})
    out["other_etag"] = r["CopyObjectResult"]["ETag"]
    # the managed copy: above 8 MiB, a multipart upload of UploadPartCopy ranges
    c.copy({"Bucket": b, "Key": "nc/src"}, b2, "nc/managed")
    out["managed_etag"] = c.head_object(Bucket=b2, Key="nc/managed")["ETag"]
    for name, bk, k in (("same", b, "nc/same"), ("other", b2, "nc/other"),
                        ("managed", b2, "nc/managed")):
        o = c.get_object(Bucket=bk, Key=k)
        out[name] = {"sha": hashlib.sha256(o["Body"].read()).hexdigest(),
                     "type": o["ContentType"], "meta": o["Metadata"]}
elif a["op"] == "presign":
    with open(a["file"], "rb") as f:
        out["put_etag"] = c.put_object(Bucket=b, Key="np/get", Body=f)["ETag"]
    v4 = client(signature_version="s3v4")

    def url(op, key, cl=v4, **params):
        return cl.generate_presigned_url(op, Params={"Bucket": b, "Key": key, **params},
                                         ExpiresIn=600)

    out["default_get"] = url("get_object", "np/get", cl=c)
    out["get"] = url("get_object", "np/get")
    out["get_disposition"] = url("get_object", "np/get",
                                 ResponseContentDisposition='attachment; filename="x.bin"')
    out["put"] = url("put_object", "np/put")
    out["head"] = url("head_object", "np/put")
    out["delete"] = url("delete_object", "np/put")
    uid = c.create_multipart_upload(Bucket=b, Key="np/mp")["UploadId"]
    out["parts"] = [url("upload_part", "np/mp", UploadId=uid, PartNumber=n) for n in (1, 2)]
    out["complete"] = url("complete_multipart_upload", "np/mp", UploadId=uid)
    out["get_mp"] = url("get_object", "np/mp")
elif a["op"] == "sigv2":
    v2 = client(signature_version="s3")
    v2.put_object_tagging(Bucket=b, Key="n2/seed", Tagging={"TagSet": [{"Key": "t", "Value": "2"}]})
    out["tags"] = v2.get_object_tagging(Bucket=b, Key="n2/seed")["TagSet"]
    v2.upload_file(a["file"], b, "n2/multipart")
    out["etag"] = v2.head_object(Bucket=b, Key="n2/multipart")["ETag"]
    out["sha"] = hashlib.sha256(v2.get_object(Bucket=b, Key="n2/multipart")["Body"].read()).hexdigest()
    out["keys"] = [o["Key"] for o in v2.list_objects_v2(Bucket=b, Prefix="n2/")["Contents"]]
    v2.delete_object(Bucket=b, Key="n2/multipart")
    out["after"] = [o["Key"] for o in v2.list_objects_v2(Bucket=b, Prefix="n2/")["Contents"]]
elif a["op"] == "post":
    v4 = client(signature_version="s3v4")
    out["default"] = c.generate_presigned_post(b, "npost/default", ExpiresIn=600)
    out["form"] = v4.generate_presigned_post(
        b, "npost/${filename}", Fields={"Content-Type": "x/posted", "x-amz-meta-k": "v"},
        Conditions=[{"Content-Type": "x/posted"}, {"x-amz-meta-k": "v"},
                    ["content-length-range", 1, 4 << 20]],
        ExpiresIn=600)
    out["small"] = v4.generate_presigned_post(
        b, "npost/small", Conditions=[["content-length-range", 1, 1000]], ExpiresIn=600)
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


def multipart_digests(path, part_size):
    """What an upload of `path` in `part_size` parts must come out as: the multipart ETag (MD5
    of the parts' MD5s, then "-N") and the COMPOSITE CRC32 (base64 of the CRC32 of the parts'
    big-endian CRC32s, then "-N"). Reads the file one part at a time."""
    md5s, crcs = [], []
    with open(path, "rb") as f:
        for part in iter(lambda: f.read(part_size), b""):
            md5s.append(hashlib.md5(part).digest())
            crcs.append(zlib.crc32(part).to_bytes(4, "big"))
    n = len(md5s)
    crc = base64.b64encode(zlib.crc32(b"".join(crcs)).to_bytes(4, "big")).decode()
    return f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{n}"', f"{crc}-{n}"


def test_newest_boto3_upload_file_multipart(server, s3, bucket, newest_boto3_python, tmp_path):
    """upload_file / download_file of 200 MiB + 5 bytes with the default TransferConfig: 26
    parts (25 of 8 MiB, then 5 bytes) on 10 threads, each with its CRC32; no ChecksumType is
    asked, so the object's CRC32 is the COMPOSITE of the parts' (HEAD with checksum mode);
    then parallel ranged GETs on the way down, the file hashed here."""
    size = 200 * MiB + 5
    p, down = tmp_path / "n200.bin", tmp_path / "n200.down"
    digest, _ = write_rand_file(p, size, seed=201)
    etag, crc32 = multipart_digests(p, 8 * MiB)
    try:
        out = run_newest(newest_boto3_python, server, op="upload_file", bucket=bucket,
                         file=str(p), down=str(down))
        h = out["head"]
        assert h["ETag"].endswith('-26"') and h["ETag"] == etag, out
        assert h["ContentLength"] == size, out
        assert h["ChecksumType"] == "COMPOSITE" and h["ChecksumCRC32"] == crc32, out
        assert file_sha(down) == digest
    finally:
        p.unlink()
        down.unlink(missing_ok=True)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_newest_boto3_copy_object(server, s3, new_bucket, newest_boto3_python, tmp_path):
    """CopyObject within the bucket (metadata copied) and to a second bucket (metadata
    replaced), and the managed copy of the 9 MiB source (a multipart upload of two
    UploadPartCopy ranges, 8 MiB and the rest); every copy read back by both boto3s and
    compared by hash."""
    b1, b2 = new_bucket(), new_bucket()
    data = rand_bytes(9 * MiB + 7, seed=16)
    p = tmp_path / "src.bin"
    p.write_bytes(data)
    out = run_newest(newest_boto3_python, server, op="copy", bucket=b1, bucket2=b2, file=str(p))
    assert out["same_etag"] == out["other_etag"] == f'"{md5hex(data)}"', out
    part_md5s = b"".join(hashlib.md5(x).digest() for x in (data[:8 * MiB], data[8 * MiB:]))
    assert out["managed_etag"] == f'"{md5hex(part_md5s)}-2"', out
    assert out["same"] == {"sha": sha(data), "type": "x/src", "meta": {"a": "1"}}, out
    assert out["other"] == {"sha": sha(data), "type": "x/new", "meta": {"b": "2"}}, out
    assert out["managed"]["sha"] == sha(data), out
    for b, k in ((b1, "nc/src"), (b1, "nc/same"), (b2, "nc/other"), (b2, "nc/managed")):
        assert sha(get_bytes(s3, b, k)) == sha(data), (b, k)
    assert s3.list_multipart_uploads(Bucket=b2).get("Uploads", []) == []


def test_newest_boto3_presigned_urls(server, s3, bucket, newest_boto3_python, tmp_path):
    """Presigned URLs made by the newest boto3, fetched with requests. At its defaults
    botocore still presigns S3 URLs with Signature Version 2, which Basalt does not build:
    refused with an S3 error document, never the object. With signature_version="s3v4": GET
    (whole, a range, response-content-disposition), PUT, HEAD, DELETE, and a multipart upload
    (created by the newest boto3 at its defaults) whose parts are PUT to presigned UploadPart
    URLs and completed by a POST to a presigned CompleteMultipartUpload URL."""
    data = rand_bytes(2 * MiB + 9, seed=17)
    p = tmp_path / "get.bin"
    p.write_bytes(data)
    u = run_newest(newest_boto3_python, server, op="presign", bucket=bucket, file=str(p))
    assert u["put_etag"] == f'"{md5hex(data)}"', u
    get = lambda url, **kw: requests.get(url, timeout=60 * TIME_SCALE, **kw)  # noqa: E731

    r = get(u["default_get"])  # SigV2 (AWSAccessKeyId, Signature, Expires) or, later, SigV4
    assert r.status_code == 200 and sha(r.content) == sha(data), r.status_code

    r = get(u["get"])
    assert r.status_code == 200 and sha(r.content) == sha(data), r.status_code
    r = get(u["get"], headers={"Range": "bytes=1048570-1048589"})
    assert r.status_code == 206 and r.content == data[1048570:1048590], r.status_code
    r = get(u["get_disposition"])
    assert r.status_code == 200 and sha(r.content) == sha(data), r.status_code
    assert r.headers["Content-Disposition"] == 'attachment; filename="x.bin"'

    up = rand_bytes(300_001, seed=18)
    r = requests.put(u["put"], data=up, timeout=60 * TIME_SCALE)
    assert r.status_code == 200 and r.headers["ETag"] == f'"{md5hex(up)}"', r.text
    assert sha(get_bytes(s3, bucket, "np/put")) == sha(up)
    r = requests.head(u["head"], timeout=60 * TIME_SCALE)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(up)
    assert r.headers["ETag"] == f'"{md5hex(up)}"'
    r = requests.delete(u["delete"], timeout=60 * TIME_SCALE)
    assert r.status_code == 204, r.text
    assert requests.head(u["head"], timeout=60 * TIME_SCALE).status_code == 404
    assert sha(get(u["get"]).content) == sha(data)  # the other object is untouched

    parts = [rand_bytes(5 * MiB + 1, seed=19), rand_bytes(1000, seed=20)]
    etags = []
    for url, part in zip(u["parts"], parts):
        r = requests.put(url, data=part, timeout=60 * TIME_SCALE)
        assert r.status_code == 200 and r.headers["ETag"] == f'"{md5hex(part)}"', r.text
        etags.append(r.headers["ETag"])
    body = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
        for n, e in enumerate(etags, 1)) + "</CompleteMultipartUpload>"
    r = requests.post(u["complete"], data=body, timeout=60 * TIME_SCALE)
    assert r.status_code == 200, r.text
    doc = ET.fromstring(r.content)
    assert doc.tag.split("}")[-1] == "CompleteMultipartUploadResult", r.text
    want = f'"{md5hex(b"".join(hashlib.md5(x).digest() for x in parts))}-2"'
    assert {c.tag.split("}")[-1]: c.text for c in doc}["ETag"] == want, r.text
    r = get(u["get_mp"])
    assert r.status_code == 200 and sha(r.content) == sha(b"".join(parts)), r.status_code
    assert r.headers["ETag"] == want


def test_newest_boto3_presigned_post(server, s3, bucket, newest_boto3_python):
    """generate_presigned_post of the newest boto3, the form posted with requests
    (multipart/form-data, the file last). At its defaults botocore signs the form with
    Signature Version 2: 501 NotImplemented. With signature_version="s3v4": the object read
    back and compared by hash; a file past content-length-range, or a key outside the policy,
    is refused with an S3 error and stores nothing."""
    f = run_newest(newest_boto3_python, server, op="post", bucket=bucket)

    def post(form, data, filename="up.bin", **extra):
        return requests.post(form["url"], data={**form["fields"], **extra},
                             files={"file": (filename, data)}, timeout=60 * TIME_SCALE)

    def absent(key):
        assert s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0, key

    data = rand_bytes(1 * MiB + 3, seed=21)
    r = post(f["default"], data)  # a SigV2 form (AWSAccessKeyId, signature) at the defaults
    assert r.status_code == 204, r.text
    assert sha(get_bytes(s3, bucket, "npost/default")) == sha(data)

    r = post(f["form"], data, filename="posted.bin")
    assert r.status_code == 204 and r.headers["ETag"] == f'"{md5hex(data)}"', r.text
    o = s3.get_object(Bucket=bucket, Key="npost/posted.bin")
    assert sha(o["Body"].read()) == sha(data)
    assert o["ContentType"] == "x/posted" and o["Metadata"] == {"k": "v"}

    e = assert_s3_error(post(f["form"], data, key="elsewhere/x"), 403, "AccessDenied")
    assert "$key" in e["Message"], e
    absent("elsewhere/")
    assert_s3_error(post(f["small"], data[:1001]), 400, "EntityTooLarge")
    absent("npost/small")
    r = post(f["small"], data[:1000])
    assert r.status_code == 204, r.text
    assert sha(get_bytes(s3, bucket, "npost/small")) == sha(data[:1000])


def test_newest_boto3_sigv2_requests(server, s3, bucket, newest_boto3_python, tmp_path):
    """Every request signed with Signature Version 2 (signature_version="s3"): tagging and a
    managed multipart upload (17 MiB + 3: three parts, threads), read back by hash."""
    s3.put_object(Bucket=bucket, Key="n2/seed", Body=b"seed")
    p = tmp_path / "v2.bin"
    digest, _ = write_rand_file(p, 17 * MiB + 3, seed=41)
    out = run_newest(newest_boto3_python, server, op="sigv2", bucket=bucket, file=str(p))
    assert out["tags"] == [{"Key": "t", "Value": "2"}], out
    assert out["etag"].endswith('-3"') and out["sha"] == digest, out
    assert out["keys"] == ["n2/multipart", "n2/seed"] and out["after"] == ["n2/seed"], out
    assert s3.get_object_tagging(Bucket=bucket, Key="n2/seed")["TagSet"] == [
        {"Key": "t", "Value": "2"}]
