"""JavaScript clients from npm, driven through the node scripts of tests/clients/js (installed by
scripts/install-deps.sh with `npm ci` from the committed package-lock.json):

- the AWS SDK for JavaScript v3 (`@aws-sdk/client-s3`, `@aws-sdk/lib-storage` Upload,
  `@aws-sdk/s3-request-presigner`) with its default checksum behaviour (sdk.mjs);
- the minio JavaScript client (minio.mjs).

What the SDK sends by default (3.1173, seen on the wire): a PutObject whose body is a Buffer goes
as one plain signed PUT with `x-amz-checksum-crc32` and `x-amz-sdk-checksum-algorithm: CRC32`
headers; a PutObject whose body is a stream goes as `Content-Encoding: aws-chunked`,
`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `x-amz-trailer: x-amz-checksum-crc32`
(chunked transfer encoding, the CRC32 in the trailer). lib-storage's Upload sends a body smaller
than its part size as one Buffer PutObject, anything larger as a multipart upload (CRC32 per
part). GETs carry `x-amz-checksum-mode: ENABLED`.
"""

import base64
import json
import os
import shutil
import subprocess
import zlib

import pytest
import requests

from conftest import bucket_name
from helpers import REPO, TIME_SCALE, md5hex, rand_bytes, sha

JS_DIR = REPO / "tests" / "clients" / "js"
MiB = 1024 * 1024


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class Node:
    """Runs `node SCRIPT OP JSON` in tests/clients/js; returns the JSON it prints."""

    def __init__(self, server, script):
        if shutil.which("node") is None:
            pytest.fail("node missing: run scripts/install-deps.sh")
        if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-s3").is_dir() or \
                not (JS_DIR / "node_modules" / "minio").is_dir():
            pytest.fail(f"{JS_DIR}/node_modules missing: run scripts/install-deps.sh (npm ci)")
        self.server = server
        self.script = script

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(BASALT_ENDPOINT=self.server.endpoint, BASALT_ACCESS_KEY=self.server.access_key,
                   BASALT_SECRET_KEY=self.server.secret_key, NODE_NO_WARNINGS="1")
        return env

    def __call__(self, op, check=True, timeout=120, _steps=None, **args):
        cmd = ["node", self.script, op, json.dumps(_steps if _steps is not None else args)]
        r = subprocess.run(cmd, cwd=JS_DIR, env=self.env(), capture_output=True,
                           timeout=timeout * TIME_SCALE)
        out = r.stdout.decode(errors="replace").strip().splitlines()
        try:
            res = json.loads(out[-1])
        except (IndexError, ValueError):
            raise AssertionError(f"{' '.join(cmd)} -> {r.returncode}, no JSON:\n"
                                 f"stdout: {r.stdout[-2000:]!r}\nstderr: {r.stderr[-2000:]!r}")
        if check and (r.returncode != 0 or (isinstance(res, dict) and "error" in res)):
            raise AssertionError(f"{self.script} {op} {args} -> {r.returncode}: {res}\n"
                                 f"stderr: {r.stderr.decode(errors='replace')[-2000:]}")
        return res

    def batch(self, *steps, timeout=180):
        """steps: (op, {args}) run in order by one node process; returns their results, errors
        included as {"error": ..., "status": ..., "code": ...}."""
        return self("batch", timeout=timeout, _steps=[[op, args] for op, args in steps])


@pytest.fixture
def sdk(server):
    return Node(server, "sdk.mjs")


@pytest.fixture
def mn(server):
    return Node(server, "minio.mjs")


def put_file(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


# --------------------------------------------------------------------------
# AWS SDK for JavaScript v3
# --------------------------------------------------------------------------


def test_sdk_put_get_head_list_delete(server, s3, sdk, tmp_path, request):
    """PutObject with Buffer bodies: single signed PUTs with an x-amz-checksum-crc32 header."""
    b = bucket_name(request.node.name)
    objs = {"small.bin": rand_bytes(10_000, seed=1),
            "dir/odd.bin": rand_bytes(3 * MiB + 333, seed=2),
            "dir/é ü+&=.txt": b"odd key\n",
            "dir/empty": b""}
    steps = [("mb", dict(bucket=b))]
    for i, (key, data) in enumerate(objs.items()):
        steps.append(("put", dict(bucket=b, key=key, file=put_file(tmp_path, f"f{i}", data),
                                  contentType="application/x-basalt", metadata={"k1": "v1"})))
    res = sdk.batch(*steps)
    assert res[0] == {}, res[0]
    s3.head_bucket(Bucket=b)
    for (key, data), r in zip(objs.items(), res[1:]):
        assert r.get("ETag") == f'"{md5hex(data)}"', (key, r)
        assert sha(s3.get_object(Bucket=b, Key=key)["Body"].read()) == sha(data), key

    steps = []
    for key in objs:
        steps += [("get", dict(bucket=b, key=key)), ("head", dict(bucket=b, key=key))]
    big = objs["dir/odd.bin"]
    steps.append(("get", dict(bucket=b, key="dir/odd.bin", range=f"bytes={MiB - 1}-{2 * MiB}")))
    steps.append(("list", dict(bucket=b, prefix="dir/", maxKeys=1)))   # continuation tokens
    res = sdk.batch(*steps)
    for i, (key, data) in enumerate(objs.items()):
        g, h = res[2 * i], res[2 * i + 1]
        assert g.get("sha256") == sha(data) and g["length"] == len(data), (key, g)
        assert g["ContentType"] == "application/x-basalt" and g["Metadata"] == {"k1": "v1"}, g
        assert h.get("ContentLength") == len(data) and h["ETag"] == f'"{md5hex(data)}"', (key, h)
    assert res[-2].get("sha256") == sha(big[MiB - 1:2 * MiB + 1]), res[-2]
    assert res[-1].get("pages") == 3, res[-1]
    assert {k["Key"]: (k["Size"], k["ETag"]) for k in res[-1]["keys"]} == {
        k: (len(v), f'"{md5hex(v)}"') for k, v in objs.items() if k.startswith("dir/")}

    steps = []
    for key in objs:
        steps += [("del", dict(bucket=b, key=key)), ("head", dict(bucket=b, key=key))]
    steps += [("list", dict(bucket=b)), ("rb", dict(bucket=b))]
    res = sdk.batch(*steps)
    for i, key in enumerate(objs):
        assert res[2 * i] == {}, (key, res[2 * i])
        assert res[2 * i + 1].get("status") == 404, (key, res[2 * i + 1])
    assert res[-2] == {"keys": [], "pages": 1} and res[-1] == {}, res[-2:]


def test_sdk_put_stream_aws_chunked_trailer(server, s3, sdk, bucket, tmp_path):
    """A stream body: aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer."""
    for i, data in enumerate([rand_bytes(10_000, seed=3), rand_bytes(3 * MiB + 1, seed=4)]):
        key = f"stream-{i}"
        r = sdk("put", bucket=bucket, key=key, file=put_file(tmp_path, key, data), body="stream")
        assert r["ETag"] == f'"{md5hex(data)}"'
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert sha(got) == sha(data), key   # the chunk framing is not part of the object
        assert sdk("get", bucket=bucket, key=key)["sha256"] == sha(data)


def test_sdk_checksum_stored_and_returned(server, sdk, bucket, tmp_path):
    data = rand_bytes(50_000, seed=5)
    sdk("put", bucket=bucket, key="ck", file=put_file(tmp_path, "ck", data))
    r = sdk("head", bucket=bucket, key="ck", checksumMode=True)
    assert r["ChecksumCRC32"] == crc32_b64(data), r
    # the SDK validates the returned checksum on GET
    assert sdk("get", bucket=bucket, key="ck")["sha256"] == sha(data)


def test_sdk_lib_storage_upload_below_part_size(server, s3, sdk, bucket, tmp_path):
    """lib-storage Upload of a body smaller than one part: one PutObject."""
    data = rand_bytes(4 * MiB + 17, seed=6)
    r = sdk("upload", bucket=bucket, key="up/small", file=put_file(tmp_path, "small", data),
            partSize=5 * MiB)
    assert r["ETag"] == f'"{md5hex(data)}"'
    assert sha(s3.get_object(Bucket=bucket, Key="up/small")["Body"].read()) == sha(data)
    assert sdk("get", bucket=bucket, key="up/small")["sha256"] == sha(data)


def test_sdk_lib_storage_upload_multipart(server, s3, sdk, bucket, tmp_path):
    """lib-storage Upload of 24 MiB in 5 MiB parts, 4 in parallel (CRC32 per part)."""
    data = rand_bytes(24 * MiB + 3, seed=7)
    r = sdk("upload", bucket=bucket, key="up/big", file=put_file(tmp_path, "big", data),
            partSize=5 * MiB, queueSize=4)
    assert r["ETag"].endswith('-5"'), r
    h = s3.head_object(Bucket=bucket, Key="up/big")
    assert h["ContentLength"] == len(data) and h["ETag"] == r["ETag"]
    assert sha(s3.get_object(Bucket=bucket, Key="up/big")["Body"].read()) == sha(data)
    assert sdk("get", bucket=bucket, key="up/big")["sha256"] == sha(data)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_sdk_presigned_urls(server, s3, sdk, bucket, tmp_path):
    """getSignedUrl for GetObject, PutObject, HeadObject and DeleteObject, fetched with plain
    HTTP (requests). The PUT URL is presigned as AWS documents for uploads through presigned
    URLs (requestChecksumCalculation WHEN_REQUIRED: no checksum baked into the URL)."""
    data = rand_bytes(1 * MiB + 5, seed=8)
    s3.put_object(Bucket=bucket, Key="pre/get", Body=data)
    urls = [r["url"] for r in sdk.batch(
        ("presign", dict(bucket=bucket, key="pre/get", method="GET")),
        ("presign", dict(bucket=bucket, key="pre/put", method="PUT", checksum="WHEN_REQUIRED")),
        ("presign", dict(bucket=bucket, key="pre/put", method="HEAD")),
        ("presign", dict(bucket=bucket, key="pre/put", method="DELETE")))]
    get_url, put_url, head_url, del_url = urls
    r = requests.get(get_url, timeout=60)
    assert r.status_code == 200 and sha(r.content) == sha(data)

    up = rand_bytes(200_000, seed=9)
    assert "x-amz-checksum" not in put_url.lower()
    r = requests.put(put_url, data=up, timeout=60)
    assert r.status_code == 200, r.text
    assert sha(s3.get_object(Bucket=bucket, Key="pre/put")["Body"].read()) == sha(up)

    r = requests.head(head_url, timeout=60)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(up)
    assert r.headers["ETag"] == f'"{md5hex(up)}"'

    r = requests.delete(del_url, timeout=60)
    assert r.status_code == 204, r.text
    assert requests.head(head_url, timeout=60).status_code == 404


def test_sdk_presigned_put_with_default_checksum(server, s3, sdk, bucket):
    """With default settings the SDK presigns PutObject with the CRC32 of an empty body in the
    query (x-amz-checksum-crc32=AAAAAA==). Uploading real bytes to that URL must either store
    exactly those bytes or be refused (400 BadDigest, as S3 does once it checks that checksum),
    never store anything else."""
    url = sdk("presign", bucket=bucket, key="pre/dflt", method="PUT")["url"]
    assert "x-amz-checksum-crc32=AAAAAA%3D%3D" in url, url
    up = rand_bytes(10_000, seed=10)
    r = requests.put(url, data=up, timeout=60)
    if r.status_code == 200:
        assert sha(s3.get_object(Bucket=bucket, Key="pre/dflt")["Body"].read()) == sha(up)
    else:
        assert r.status_code == 400 and b"<Code>BadDigest</Code>" in r.content, r.text
        assert s3.list_objects_v2(Bucket=bucket, Prefix="pre/dflt")["KeyCount"] == 0


# --------------------------------------------------------------------------
# minio-js
# --------------------------------------------------------------------------


def test_minio_put_get_stat_list_presign(server, s3, mn, tmp_path, request):
    b = bucket_name(request.node.name)
    objs = {"dir/a.bin": (rand_bytes(10_000, seed=11), "stream"),
            "dir/sub/b.bin": (rand_bytes(3 * MiB + 333, seed=12), "buffer"),
            "dir/sub/c.bin": (rand_bytes(7 * MiB + 1, seed=13), "stream"),  # < 64 MiB: one PUT
            "top é.txt": (b"top\n", "stream")}
    steps = [("mb", dict(bucket=b))]
    for i, (key, (data, body)) in enumerate(objs.items()):
        steps.append(("put", dict(bucket=b, key=key, file=put_file(tmp_path, f"m{i}", data),
                                  body=body, metadata={"X-Amz-Meta-K1": "v1"})))
    res = mn.batch(*steps)
    assert res[0] == {"exists": True}, res[0]
    for (key, (data, _)), r in zip(objs.items(), res[1:]):
        assert r.get("etag") == md5hex(data), (key, r)
        assert sha(s3.get_object(Bucket=b, Key=key)["Body"].read()) == sha(data), key

    steps = []
    for key in objs:
        steps += [("get", dict(bucket=b, key=key)), ("stat", dict(bucket=b, key=key))]
    big = objs["dir/sub/b.bin"][0]
    steps += [("getPartial", dict(bucket=b, key="dir/sub/b.bin", offset=MiB + 3, length=MiB)),
              ("list", dict(bucket=b, prefix="dir/", recursive=True)),
              ("list", dict(bucket=b, prefix="dir/", recursive=False)),
              ("list", dict(bucket=b, prefix="", recursive=True, startAfter="dir/sub/b.bin")),
              ("presignGet", dict(bucket=b, key="top é.txt")),
              ("presignPut", dict(bucket=b, key="pre/put"))]
    res = mn.batch(*steps)
    for i, (key, (data, _)) in enumerate(objs.items()):
        g, st = res[2 * i], res[2 * i + 1]
        assert g.get("sha256") == sha(data) and g["length"] == len(data), (key, g)
        assert st.get("size") == len(data) and st["etag"] == md5hex(data), (key, st)
        assert st["metaData"].get("k1") == "v1", st
    part, rec, nonrec, after, pget, pput = res[-6:]
    assert part.get("sha256") == sha(big[MiB + 3:2 * MiB + 3]), part
    assert {o["name"]: (o["size"], o["etag"]) for o in rec["items"]} == {
        k: (len(d), md5hex(d)) for k, (d, _) in objs.items() if k.startswith("dir/")}
    assert nonrec["items"] == [
        {"name": "dir/a.bin", "size": 10_000, "etag": md5hex(objs["dir/a.bin"][0])},
        {"prefix": "dir/sub/"}], nonrec
    assert [o["name"] for o in after["items"]] == ["dir/sub/c.bin", "top é.txt"], after

    r = requests.get(pget["url"], timeout=60)
    assert r.status_code == 200 and r.content == b"top\n"
    up = rand_bytes(123_456, seed=14)
    r = requests.put(pput["url"], data=up, timeout=60)
    assert r.status_code == 200, r.text

    steps = [("get", dict(bucket=b, key="pre/put"))]
    for key in list(objs) + ["pre/put"]:
        steps += [("del", dict(bucket=b, key=key)), ("stat", dict(bucket=b, key=key))]
    res = mn.batch(*steps)
    assert res[0].get("sha256") == sha(up), res[0]
    for i, key in enumerate(list(objs) + ["pre/put"]):
        assert res[1 + 2 * i] == {}, (key, res[1 + 2 * i])
        assert res[2 + 2 * i].get("code") == "NotFound", (key, res[2 + 2 * i])
    s3.delete_bucket(Bucket=b)


def test_minio_put_multipart_at_default_threshold(server, s3, mn, bucket, tmp_path):
    """putObject of a stream one byte over minio-js's default part size (64 MiB): a multipart
    upload of two parts (it first looks for an upload to resume with ListMultipartUploads)."""
    data = rand_bytes(64 * MiB + 1, seed=15)
    r = mn("put", bucket=bucket, key="mp", file=put_file(tmp_path, "mp", data))
    h = s3.head_object(Bucket=bucket, Key="mp")
    assert h["ContentLength"] == len(data) and h["ETag"].endswith('-2"'), h
    assert r["etag"] == h["ETag"].strip('"')
    assert mn("get", bucket=bucket, key="mp")["sha256"] == sha(data)
