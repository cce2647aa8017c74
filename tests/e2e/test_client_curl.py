"""curl with its own SigV4 signer (`--aws-sigv4 "aws:amz:us-east-1:s3"`), Debian's curl.

curl 7.88 (Debian 12) signs an upload without sending `x-amz-content-sha256`: it puts the hash of
its "post fields" in the canonical request, which is the empty string's for `-T FILE`. Users add
the header themselves (`-H "x-amz-content-sha256: UNSIGNED-PAYLOAD"` or the body's SHA-256), as
the tests below do; newer curls send it on their own. Without it, the upload must be refused with
nothing stored, or (a newer curl) stored right: never a wrong success.
"""

import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from conftest import bucket_name
from helpers import S3NS, TIME_SCALE, md5hex, rand_bytes, sha

CURL = "/usr/bin/curl"
MiB = 1024 * 1024


class Curl:
    """curl signing with --aws-sigv4 against one server. Every call returns
    (status, headers: dict of lower-case names, body bytes)."""

    def __init__(self, server, tmp_path):
        self.server = server
        self.tmp = tmp_path
        self.n = 0

    def __call__(self, method, path, *extra, upload=None, query="", timeout=120):
        self.n += 1
        out = self.tmp / f"curl-out-{self.n}"
        hdr = self.tmp / f"curl-hdr-{self.n}"
        url = self.server.endpoint + urllib.parse.quote(path, safe="/-_.~") + (
            "?" + query if query else "")
        cmd = [CURL, "-sS", "--aws-sigv4", "aws:amz:us-east-1:s3",
               "--user", f"{self.server.access_key}:{self.server.secret_key}",
               "-D", str(hdr), "-o", str(out), "-w", "%{http_code}"]
        if method == "HEAD":
            cmd.append("-I")
        elif upload is not None:
            cmd += ["-T", str(upload)]
        elif method != "GET":
            cmd += ["-X", method]
        cmd += list(extra) + [url]
        r = subprocess.run(cmd, capture_output=True, timeout=timeout * TIME_SCALE)
        assert r.returncode == 0, f"{' '.join(cmd)} -> {r.returncode}: {r.stderr.decode()}"
        headers = {}
        for ln in hdr.read_text(errors="replace").splitlines()[1:]:
            k, _, v = ln.partition(":")
            if v:
                headers[k.strip().lower()] = v.strip()
        # (with -I curl writes the head to -o too: HEAD has no body to return)
        body = out.read_bytes() if out.exists() and method != "HEAD" else b""
        return int(r.stdout.decode()), headers, body


@pytest.fixture
def curl(server, tmp_path):
    return Curl(server, tmp_path)


def test_curl_bucket_put_get_head_list_delete(server, s3, curl, tmp_path, request):
    b = bucket_name(request.node.name)
    st, _, body = curl("PUT", f"/{b}")
    assert st == 200, body
    s3.head_bucket(Bucket=b)
    st, _, body = curl("GET", "/")
    assert st == 200 and f"<Name>{b}</Name>".encode() in body, body[:500]

    objs = {"small.bin": rand_bytes(1000, seed=1),              # inline
            "dir/odd size.bin": rand_bytes(3 * MiB + 333, seed=2),  # erasure coded, 4 blocks
            "dir/é ü+&=.txt": b"odd key\n"}
    for i, (key, data) in enumerate(objs.items()):
        p = tmp_path / f"up{i}"
        p.write_bytes(data)
        # half with the body's SHA-256 signed, half UNSIGNED-PAYLOAD
        h = sha(data) if i % 2 == 0 else "UNSIGNED-PAYLOAD"
        st, hdrs, body = curl("PUT", f"/{b}/{key}", "-H", f"x-amz-content-sha256: {h}", upload=p)
        assert st == 200, (key, body)
        assert hdrs.get("etag") == f'"{md5hex(data)}"', (key, hdrs)
        # what the server stored, read by another client
        got = s3.get_object(Bucket=b, Key=key)["Body"].read()
        assert sha(got) == sha(data), key

    for key, data in objs.items():
        st, hdrs, body = curl("GET", f"/{b}/{key}")
        assert st == 200 and sha(body) == sha(data), key
        st, hdrs, body = curl("HEAD", f"/{b}/{key}")
        assert st == 200, key
        assert int(hdrs["content-length"]) == len(data), (key, hdrs)
        assert hdrs["etag"] == f'"{md5hex(data)}"', (key, hdrs)
    big = objs["dir/odd size.bin"]
    st, hdrs, body = curl("GET", f"/{b}/dir/odd size.bin", "-r", f"{MiB - 10}-{2 * MiB + 9}")
    assert st == 206 and body == big[MiB - 10:2 * MiB + 10], (st, len(body))

    # ListObjectsV2 with a prefix, and V1 with a delimiter
    st, _, body = curl("GET", f"/{b}", query="list-type=2&prefix=dir%2F")
    assert st == 200, body
    root = ET.fromstring(body)
    listed = {c.find(S3NS + "Key").text: (int(c.find(S3NS + "Size").text),
                                         c.find(S3NS + "ETag").text)
              for c in root.findall(S3NS + "Contents")}
    assert listed == {k: (len(v), f'"{md5hex(v)}"') for k, v in objs.items()
                      if k.startswith("dir/")}
    st, _, body = curl("GET", f"/{b}", query="delimiter=%2F")
    root = ET.fromstring(body)
    assert [c.find(S3NS + "Key").text for c in root.findall(S3NS + "Contents")] == ["small.bin"]
    assert [p.find(S3NS + "Prefix").text for p in root.findall(S3NS + "CommonPrefixes")] == ["dir/"]

    for key in objs:
        st, _, body = curl("DELETE", f"/{b}/{key}")
        assert st == 204, (key, body)
        st, _, body = curl("GET", f"/{b}/{key}")
        assert st == 404 and b"<Code>NoSuchKey</Code>" in body, (key, body)
    st, _, body = curl("DELETE", f"/{b}")
    assert st == 204, body
    st, _, _ = curl("HEAD", f"/{b}")
    assert st == 404


def test_curl_upload_without_payload_hash_header(server, s3, curl, bucket, tmp_path):
    """curl 7.88 without `x-amz-content-sha256`: `-T` signs the empty body's hash and
    `--data-binary` the body's hash, and neither sends the header. Either the server refuses
    (4xx) and stores nothing, or it stores exactly the bytes sent."""
    data = rand_bytes(100_000, seed=5)
    p = tmp_path / "body"
    p.write_bytes(data)
    for key, extra, kw in [("by-T", (), {"upload": p}),
                           ("by-data", ("--data-binary", f"@{p}"), {})]:
        st, _, body = curl("PUT", f"/{bucket}/{key}", *extra, **kw)
        if st == 200:
            assert sha(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha(data), key
        else:
            assert 400 <= st < 500, (key, st, body)
            assert b"<Error>" in body, body
            st2, _, _ = curl("HEAD", f"/{bucket}/{key}")
            assert st2 == 404, (key, "a refused upload left an object behind")
