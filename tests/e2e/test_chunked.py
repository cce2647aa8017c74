"""aws-chunked uploads and flexible checksums (issue 3, items 6 and 7, and its
"Bad input"): bodies built here byte by byte in every x-amz-content-sha256
mode, checksums as headers and trailers for every algorithm, every malformed
body refused without committing anything; then real clients (botocore from
Debian, the newest botocore on the machine, the aws CLI). Every test reads
the bytes back.
"""

import base64
import gzip
import hashlib
import hmac
import os
import shutil
import subprocess
import textwrap
import zlib

import pytest
import requests

import helpers
from helpers import (REGION, TIME_SCALE, amz_now, assert_s3_error, rand_bytes, sha,
                     sign_headers, signing_key, uri_encode)

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# --------------------------------------------------------------------------
# Checksums (pure Python for the CRCs zlib lacks)
# --------------------------------------------------------------------------

def _crc_table(poly, width):
    mask = (1 << width) - 1
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c & mask)
    return table


_CRC32C = _crc_table(0x82F63B78, 32)
_CRC64NVME = _crc_table(0x9A6C9329AC4BC9B5, 64)


def _crc_reflected(table, width, data):
    mask = (1 << width) - 1
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def checksum_raw(algo, data):
    if algo == "crc32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algo == "crc32c":
        return _crc_reflected(_CRC32C, 32, data).to_bytes(4, "big")
    if algo == "crc64nvme":
        return _crc_reflected(_CRC64NVME, 64, data).to_bytes(8, "big")
    return hashlib.new(algo, data).digest()


def checksum_b64(algo, data):
    return base64.b64encode(checksum_raw(algo, data)).decode()


ALGOS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]


def test_python_checksums_match_published_check_values():
    assert checksum_raw("crc32c", b"123456789").hex() == "e3069283"
    assert checksum_raw("crc64nvme", b"123456789").hex() == "ae8b14860a799888"
    assert checksum_b64("crc32c", b"a" * 66560) == "sOO8/Q=="  # the AWS trailer example


# --------------------------------------------------------------------------
# aws-chunked bodies
# --------------------------------------------------------------------------

def _hmac_hex(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


class Chunker:
    """Builds aws-chunked bodies chained from a request's seed signature."""

    def __init__(self, sk, amzdate, seed, region=REGION):
        self.key = signing_key(sk, amzdate[:8], region)
        self.amzdate = amzdate
        self.scope = f"{amzdate[:8]}/{region}/s3/aws4_request"
        self.prev = seed

    def chunk_sig(self, piece):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amzdate, self.scope, self.prev,
                         EMPTY_SHA256, hashlib.sha256(piece).hexdigest()])
        self.prev = _hmac_hex(self.key, sts)
        return self.prev

    def trailer_sig(self, canonical):
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amzdate, self.scope, self.prev,
                         hashlib.sha256(canonical.encode()).hexdigest()])
        return _hmac_hex(self.key, sts)

    def pieces(self, data, chunk, sign):
        """(size line, data) of every chunk, the final empty one last."""
        out = []
        for off in list(range(0, len(data), chunk)) + [len(data)]:
            piece = data[off:off + chunk] if off < len(data) else b""
            line = f"{len(piece):x}"
            if sign:
                line += f";chunk-signature={self.chunk_sig(piece)}"
            out.append((line.encode() + b"\r\n", piece))
        return out

    def body(self, data, chunk=65536, sign=True, trailer=None, trailer_mode=False,
             trailer_value=None, no_final=False):
        """The whole aws-chunked body. trailer: (name, value) or None."""
        out = bytearray()
        pieces = self.pieces(data, chunk, sign)
        if no_final:
            pieces = pieces[:-1]
        for line, piece in pieces:
            out += line + piece + (b"\r\n" if piece else b"")
        if no_final:
            return bytes(out)
        if trailer_mode:
            canonical = ""
            if trailer:
                name, value = trailer
                out += f"{name}:{value}\r\n".encode()
                canonical = f"{name}:{trailer_value or value}\n"
            if sign:
                out += f"x-amz-trailer-signature:{self.trailer_sig(canonical)}\r\n".encode()
        out += b"\r\n"
        return bytes(out)


def chunked_put(server, bucket, key, data, mode=SIGNED, chunk=65536, algo=None,
                in_trailer=True, headers=None, mutate=None, decoded_length=True,
                stream=False, trailer_value=None, no_final=False):
    """PUT `data` as an aws-chunked body in `mode`. `algo`: a checksum sent in
    the trailer (TRAILER modes) or as a header. `mutate(body) -> body` tampers
    with the encoded body. `stream`: send it with Transfer-Encoding: chunked."""
    amzdate = amz_now()
    h = {"content-encoding": "aws-chunked"}
    if decoded_length:
        h["x-amz-decoded-content-length"] = str(len(data))
    trailer_mode = mode != SIGNED
    trailer = None
    if algo and trailer_mode and in_trailer:
        h["x-amz-trailer"] = f"x-amz-checksum-{algo}"
        trailer = (f"x-amz-checksum-{algo}", checksum_b64(algo, data))
    elif algo:
        h[f"x-amz-checksum-{algo}"] = checksum_b64(algo, data)
    h.update(headers or {})
    path = f"/{bucket}/{key}"
    host = f"127.0.0.1:{server.port}"
    signed = sign_headers("PUT", host, path, [], h, mode, server.access_key, server.secret_key,
                          amzdate=amzdate)
    seed = signed["authorization"].rsplit("Signature=", 1)[1]
    ch = Chunker(server.secret_key, amzdate, seed)
    if trailer and trailer_value:
        trailer = (trailer[0], trailer_value)
    body = ch.body(data, chunk=chunk, sign=mode != UNSIGNED_TRAILER, trailer=trailer,
                   trailer_mode=trailer_mode, no_final=no_final)
    if mutate:
        body = mutate(body)
    url = server.endpoint + uri_encode(path, True)
    if stream:
        def gen():
            for i in range(0, len(body), 10000):
                yield body[i:i + 10000]
        payload = gen()
    else:
        payload = body
    return requests.put(url, headers=signed, data=payload, timeout=60 * TIME_SCALE)


def get(server, bucket, key, checksum_mode=False, headers=None, method="GET"):
    h = dict(headers or {})
    if checksum_mode:
        h["x-amz-checksum-mode"] = "ENABLED"
    return helpers.Signed(server).request(method, f"/{bucket}/{key}", headers=h,
                                          payload_hash=EMPTY_SHA256)


def assert_object(server, bucket, key, data):
    r = get(server, bucket, key)
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) == len(data) and r.content == data
    return r


# --------------------------------------------------------------------------
# Every mode
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size,chunk", [(0, 65536), (1, 65536), (66560, 65536),
                                        (3 * 1024 * 1024 + 17, 65536), (100000, 8192)])
def test_signed_chunks(server, bucket, size, chunk):
    data = rand_bytes(size, seed=size)
    r = chunked_put(server, bucket, "k", data, chunk=chunk)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{helpers.md5hex(data)}"'
    assert_object(server, bucket, "k", data)


@pytest.mark.parametrize("algo", ALGOS)
def test_signed_trailer_every_algorithm(server, bucket, algo):
    data = rand_bytes(150000, seed=7)
    r = chunked_put(server, bucket, algo, data, mode=SIGNED_TRAILER, algo=algo, chunk=65536)
    assert r.status_code == 200, r.text
    want = checksum_b64(algo, data)
    assert r.headers.get(f"x-amz-checksum-{algo}") == want
    # Returned only when asked for, on GET and HEAD, and not for a range.
    plain = assert_object(server, bucket, algo, data)
    assert not any(k.lower().startswith("x-amz-checksum-") for k in plain.headers)
    r = get(server, bucket, algo, checksum_mode=True)
    assert r.content == data
    assert r.headers.get(f"x-amz-checksum-{algo}") == want
    assert r.headers.get("x-amz-checksum-type") == "FULL_OBJECT"
    r = get(server, bucket, algo, checksum_mode=True, method="HEAD")
    assert r.headers.get(f"x-amz-checksum-{algo}") == want
    r = get(server, bucket, algo, checksum_mode=True, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == data[:10]
    assert f"x-amz-checksum-{algo}" not in r.headers


@pytest.mark.parametrize("stream", [False, True])
def test_unsigned_trailer(server, bucket, stream):
    """botocore's shape (over TLS): Transfer-Encoding: chunked around aws-chunked."""
    data = rand_bytes(1000000, seed=3)
    r = chunked_put(server, bucket, "u", data, mode=UNSIGNED_TRAILER, algo="crc32",
                    stream=stream, decoded_length=not stream)
    assert r.status_code == 200, r.text
    assert r.headers.get("x-amz-checksum-crc32") == checksum_b64("crc32", data)
    assert_object(server, bucket, "u", data)


def test_unsigned_trailer_crc64nvme_and_empty(server, bucket):
    for size in (0, 70000):
        data = rand_bytes(size, seed=size + 1)
        r = chunked_put(server, bucket, "e", data, mode=UNSIGNED_TRAILER, algo="crc64nvme")
        assert r.status_code == 200, r.text
        r = assert_object(server, bucket, "e", data)
        r = get(server, bucket, "e", checksum_mode=True)
        assert r.headers.get("x-amz-checksum-crc64nvme") == checksum_b64("crc64nvme", data)


def test_signed_chunks_with_checksum_header(server, bucket):
    data = rand_bytes(200000, seed=5)
    r = chunked_put(server, bucket, "h", data, algo="sha256")
    assert r.status_code == 200, r.text
    r = get(server, bucket, "h", checksum_mode=True)
    assert r.content == data
    assert r.headers.get("x-amz-checksum-sha256") == checksum_b64("sha256", data)


@pytest.mark.parametrize("payload", ["signed", "unsigned"])
@pytest.mark.parametrize("algo", ALGOS)
def test_checksum_header_on_plain_put(server, bucket, payload, algo):
    data = rand_bytes(40000, seed=9)
    s = helpers.Signed(server)
    h = {f"x-amz-checksum-{algo}": checksum_b64(algo, data),
         "x-amz-sdk-checksum-algorithm": algo.upper()}
    r = s.request("PUT", f"/{bucket}/p", headers=h, body=data,
                  payload_hash=sha(data) if payload == "signed" else helpers.UNSIGNED)
    assert r.status_code == 200, r.text
    assert r.headers.get(f"x-amz-checksum-{algo}") == checksum_b64(algo, data)
    r = get(server, bucket, "p", checksum_mode=True)
    assert r.content == data
    assert r.headers.get(f"x-amz-checksum-{algo}") == checksum_b64(algo, data)


@pytest.mark.parametrize("algo", ALGOS)
def test_malformed_checksum_value_names_its_header(server, bucket, algo):
    """An x-amz-checksum-<algo> value that is not base64, or not the algorithm's size, on
    PutObject or UploadPart: S3 answers 400 InvalidRequest "Value for x-amz-checksum-<algo>
    header is invalid." (not BadDigest, which is for a well-formed value that does not match the
    data; Ceph's s3-tests expect BadDigest, RGW's answer). Nothing is stored."""
    data = rand_bytes(1000, seed=12)
    s = helpers.Signed(server)
    uid = s.request("POST", f"/{bucket}/mp", query=[("uploads", "")]).text
    uid = uid.split("<UploadId>")[1].split("<")[0]
    for bad in ("bad", base64.b64encode(b"\0" * 3).decode()):
        h = {f"x-amz-checksum-{algo}": bad}
        for q in ([], [("partNumber", "1"), ("uploadId", uid)]):
            key = "mp" if q else "m"
            r = s.request("PUT", f"/{bucket}/{key}", query=q, headers=h, body=data)
            e = assert_s3_error(r, 400, "InvalidRequest")
            assert e["Message"] == f"Value for x-amz-checksum-{algo} header is invalid."
    assert s.request("HEAD", f"/{bucket}/m").status_code == 404
    lp = s.request("GET", f"/{bucket}/mp", query=[("uploadId", uid)])
    assert lp.status_code == 200 and "<Part>" not in lp.text


def test_content_encoding_aws_chunked_is_not_stored(server, bucket):
    data = b"hello world" * 100
    r = chunked_put(server, bucket, "ce1", data)
    assert r.status_code == 200, r.text
    assert "Content-Encoding" not in assert_object(server, bucket, "ce1", data).headers
    gz = gzip.compress(data)
    r = chunked_put(server, bucket, "ce2", gz, headers={"content-encoding": "aws-chunked,gzip"})
    assert r.status_code == 200, r.text
    r = get(server, bucket, "ce2")
    assert r.headers.get("Content-Encoding") == "gzip"
    assert r.content == data  # requests undid the gzip the object is stored with


@pytest.mark.parametrize("sent,kept", [("gzip", "gzip"), ("deflate, gzip", "deflate, gzip"),
                                       ("gzip, aws-chunked", "gzip"),
                                       ("aws-chunked, gzip", "gzip"),
                                       ("br, aws-chunked, gzip", "br, gzip")])
def test_content_encoding_kept_as_sent(s3, bucket, sent, kept):
    """S3 returns Content-Encoding exactly as it was sent, less the aws-chunked
    token that describes the request (s3-tests
    test_object_content_encoding_aws_chunked): "deflate, gzip" came back as
    "deflate,gzip"."""
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ContentEncoding=sent)
    assert s3.head_object(Bucket=bucket, Key="enc")["ContentEncoding"] == kept


# --------------------------------------------------------------------------
# Bad input: refused, and nothing committed (the previous object stays)
# --------------------------------------------------------------------------

def _swap_signatures(body):
    """Chunk 2 carries chunk 1's signature: each valid somewhere, not chained."""
    marks = [i for i in range(len(body)) if body.startswith(b";chunk-signature=", i)]
    a, b = marks[0] + 17, marks[1] + 17
    s1, s2 = body[a:a + 64], body[b:b + 64]
    return body[:a] + s2 + body[a + 64:b] + s1 + body[b + 64:]


def _flip_data_byte(body):
    i = body.index(b"\r\n") + 2 + 100
    return body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]


def _longer_chunk(body):
    """The first chunk carries one byte more than its size line says."""
    i = body.index(b"\r\n") + 2 + 65536
    return body[:i] + b"X" + body[i:]


def _zero_trailer_sig(body):
    i = body.index(b"x-amz-trailer-signature:") + 24
    return body[:i] + b"0" * 64 + body[i + 64:]


BAD = [
    ("unchained-signatures", dict(mutate=_swap_signatures), 403, "SignatureDoesNotMatch"),
    ("tampered-data", dict(mutate=_flip_data_byte), 403, "SignatureDoesNotMatch"),
    ("chunk-longer-than-declared", dict(mutate=_longer_chunk), 400, "IncompleteBody"),
    ("missing-final-chunk", dict(no_final=True), 400, "IncompleteBody"),
    ("truncated-mid-chunk", dict(mutate=lambda b: b[:70000]), 400, "IncompleteBody"),
    ("trailer-wrong-checksum", dict(mode=SIGNED_TRAILER, algo="crc32c",
                                    trailer_value="AAAAAA=="), 400, "BadDigest"),
    ("unsigned-trailer-wrong-checksum", dict(mode=UNSIGNED_TRAILER, algo="sha1",
                                             trailer_value=checksum_b64("sha1", b"x")),
     400, "BadDigest"),
    ("trailer-signature-mismatch", dict(mode=SIGNED_TRAILER, algo="crc32",
                                        mutate=lambda b: _zero_trailer_sig(b)),
     403, "SignatureDoesNotMatch"),
    ("trailer-missing", dict(mode=UNSIGNED_TRAILER, algo="crc32",
                             mutate=lambda b: b[:b.rindex(b"x-amz-checksum")] + b"\r\n"),
     400, "IncompleteBody"),
    ("checksum-header-mismatch", dict(algo="crc32", in_trailer=False,
                                      headers={"x-amz-checksum-crc32": "AAAAAA=="}),
     400, "BadDigest"),
    ("checksum-header-malformed", dict(headers={"x-amz-checksum-crc32": "not base64!"}),
     400, "InvalidRequest"),
    ("checksum-unknown-algorithm", dict(headers={"x-amz-checksum-md5": "AAAAAA=="}),
     400, "InvalidRequest"),
    ("two-checksums", dict(headers={"x-amz-checksum-crc32": "AAAAAA==",
                                    "x-amz-checksum-crc32c": "AAAAAA=="}), 400, "InvalidRequest"),
    ("decoded-length-too-small", dict(headers={"x-amz-decoded-content-length": "1000"}),
     400, "IncompleteBody"),
    ("decoded-length-too-large", dict(headers={"x-amz-decoded-content-length": "200000"}),
     400, "IncompleteBody"),
]


@pytest.mark.parametrize("name,kw,status,code", BAD, ids=[b[0] for b in BAD])
def test_bad_chunked_bodies_commit_nothing(server, bucket, name, kw, status, code):
    old = b"the previous version"
    r = helpers.Signed(server).request("PUT", f"/{bucket}/bad", body=old)
    assert r.status_code == 200
    data = rand_bytes(100000, seed=11)
    r = chunked_put(server, bucket, "bad", data, **kw)
    assert_s3_error(r, status, code)
    assert_object(server, bucket, "bad", old)
    assert not server.tmp_leftovers()


def test_streaming_sigv4a_not_implemented(server, bucket):
    r = helpers.Signed(server).request(
        "PUT", f"/{bucket}/a", body=b"0\r\n\r\n",
        payload_hash="STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
    assert_s3_error(r, 501, "NotImplemented")


# --------------------------------------------------------------------------
# Real clients
# --------------------------------------------------------------------------

@pytest.mark.parametrize("algo", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_botocore_debian_checksum_algorithm(server, s3, bucket, algo):
    """Debian's botocore (1.29) has ChecksumAlgorithm but no
    request_checksum_calculation (1.36): over http it sends the checksum as a
    header with a signed payload. CRC32C needs awscrt: skipped without it."""
    import botocore
    if algo == "CRC32C":
        try:
            import awscrt  # noqa: F401
        except ImportError:
            pytest.skip(f"botocore {botocore.__version__} needs awscrt for CRC32C")
    data = rand_bytes(300000, seed=13)
    r = s3.put_object(Bucket=bucket, Key="b", Body=data, ChecksumAlgorithm=algo)
    want = checksum_b64(algo.lower(), data)
    assert r.get(f"Checksum{algo}") == want
    g = s3.get_object(Bucket=bucket, Key="b", ChecksumMode="ENABLED")
    assert g["Body"].read() == data  # botocore validates the checksum while reading
    assert g.get(f"Checksum{algo}") == want
    h = s3.head_object(Bucket=bucket, Key="b", ChecksumMode="ENABLED")
    assert h.get(f"Checksum{algo}") == want


def _newer_botocore_python():
    """A Python (not Debian's) whose botocore has flexible checksums by default (>= 1.36)."""
    cands = [os.environ.get("E2E_NEW_BOTO_PYTHON")] + [shutil.which("python3")]
    for py in cands:
        if not py or os.path.realpath(py) == os.path.realpath("/usr/bin/python3"):
            continue
        r = subprocess.run([py, "-c", "import botocore; print(botocore.__version__)"],
                           capture_output=True, timeout=60)
        if r.returncode == 0:
            v = tuple(int(x) for x in r.stdout.decode().strip().split(".")[:2])
            if v >= (1, 36):
                return py
    return None


def test_newest_botocore_default_checksums(server, bucket):
    """boto3 >= 1.36 with its defaults (request_checksum_calculation=when_supported):
    put_object, upload_fileobj of a non-seekable stream (aws-chunked with a trailer
    when it cannot hash ahead), get with ChecksumMode."""
    py = _newer_botocore_python()
    if not py:
        pytest.skip("no Python with botocore >= 1.36 on this machine")
    script = textwrap.dedent(f"""
        import io, hashlib, boto3, botocore
        from botocore.config import Config
        c = boto3.client("s3", endpoint_url={server.endpoint!r}, region_name={REGION!r},
                         aws_access_key_id={server.access_key!r},
                         aws_secret_access_key={server.secret_key!r},
                         config=Config(s3={{"addressing_style": "path"}},
                                       retries={{"max_attempts": 1}}))
        data = bytes(range(256)) * 4000
        r = c.put_object(Bucket={bucket!r}, Key="n1", Body=data)
        print("put", sorted(k for k in r if k.startswith("Checksum")))
        g = c.get_object(Bucket={bucket!r}, Key="n1", ChecksumMode="ENABLED")
        assert g["Body"].read() == data
        assert g.get("ChecksumCRC32"), g
        class Stream(io.RawIOBase):
            def __init__(self): self.b = io.BytesIO(data)
            def readable(self): return True
            def readinto(self, m):
                n = self.b.readinto(m); return n
        c.upload_fileobj(Stream(), {bucket!r}, "n2")
        g = c.get_object(Bucket={bucket!r}, Key="n2", ChecksumMode="ENABLED")
        assert g["Body"].read() == data
        for algo in ("SHA256", "SHA1", "CRC32"):
            c.put_object(Bucket={bucket!r}, Key="n3", Body=data, ChecksumAlgorithm=algo)
            g = c.get_object(Bucket={bucket!r}, Key="n3", ChecksumMode="ENABLED")
            assert g["Body"].read() == data and g.get("Checksum" + algo)
        print("ok", botocore.__version__)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    r = subprocess.run([py, "-c", script], capture_output=True, timeout=120 * TIME_SCALE,
                       env=env)
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out[-3000:]
    assert "ok" in out


def test_aws_cli_put_object_checksum_algorithm(server, aws_cli, bucket, tmp_path):
    """Debian's aws CLI (2.9): s3api put-object --checksum-algorithm CRC32."""
    data = rand_bytes(500000, seed=17)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    r = aws_cli("s3api", "put-object", "--bucket", bucket, "--key", "cli", "--body", str(src),
                "--checksum-algorithm", "CRC32", check=False)
    if r.returncode != 0 and b"checksum-algorithm" in r.stderr:
        pytest.skip("this aws CLI has no --checksum-algorithm")
    assert r.returncode == 0, r.stderr.decode()
    assert checksum_b64("crc32", data) in r.stdout.decode()
    out = tmp_path / "out.bin"
    r = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "cli",
                "--checksum-mode", "ENABLED", str(out))
    assert checksum_b64("crc32", data) in r.stdout.decode()
    assert out.read_bytes() == data
