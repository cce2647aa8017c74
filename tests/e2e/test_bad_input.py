"""Issue 2 "Bad input that tests must send" (the drive faults are in
test_durability.py): malformed and huge XML, short bodies, clients that
disconnect, key length limits, odd keys, bad bucket names, ranges past the
end, `a` vs `a/`, paging, encoding-type=url, request ids."""

import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import (Signed, TIME_SCALE, assert_s3_error, err_code, get_bytes, http_status,
                     md5hex, rand_bytes, recv_response, sha, wait_until, xml_error)

MiB = 1024 * 1024


# ---- XML bodies ----------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"<CreateBucketConfiguration><LocationConstraint>us-east-1",          # truncated
    b"not xml at all",
    b"<CreateBucketConfiguration><LocationConstraint>us-east-1</Wrong></CreateBucketConfiguration>",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;"
    b"&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]><CreateBucketConfiguration>"
    b"<LocationConstraint>&c;</LocationConstraint></CreateBucketConfiguration>",  # entities
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
    b"<CreateBucketConfiguration><LocationConstraint>&e;</LocationConstraint>"
    b"</CreateBucketConfiguration>",                                      # external entity
    b"\xff\xfe<\x00C\x00",                                                  # bad encoding
])
def test_malformed_xml_create_bucket(server, s3, request, body):
    from conftest import bucket_name
    name = bucket_name(request.node.name[:20])
    r = Signed(server).request("PUT", f"/{name}", body=body)
    assert r.status_code == 400, r.text[:300]
    assert xml_error(r.content)["Code"] in ("MalformedXML", "InvalidLocationConstraint",
                                            "IllegalLocationConstraintException")
    assert b"root:" not in r.content
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert http_status(ei.value) == 404
    # the server is fine afterwards
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"ok")
    assert get_bytes(s3, name, "k") == b"ok"


def test_huge_xml_body(server, s3, request):
    from conftest import bucket_name
    name = bucket_name(request.node.name)
    body = (b"<CreateBucketConfiguration><LocationConstraint>" + b"a" * (10 * 1000 * 1000) +
            b"</LocationConstraint></CreateBucketConfiguration>")
    t0 = time.monotonic()
    try:
        r = Signed(server).request("PUT", f"/{name}", body=body, timeout=60)
        status, content = r.status_code, r.content
    except Exception as e:  # noqa: BLE001 - the server may close the connection early
        status, content = None, repr(e).encode()
    assert status in (400, None), content[:300]
    if status is not None:
        assert xml_error(content)["Code"] in ("MalformedXML", "EntityTooLarge",
                                              "InvalidLocationConstraint", "MaxMessageLengthExceeded",
                                              "InvalidRequest")
    assert time.monotonic() - t0 < 60 * TIME_SCALE
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)
    # a nested one: 10 MB of opening tags
    body = b"<a>" * (3 * 1000 * 1000)
    try:
        r = Signed(server).request("PUT", f"/{name}", body=body, timeout=60)
        assert r.status_code == 400, r.text[:300]
    except Exception:  # noqa: BLE001
        pass
    assert server.alive(), server.log_tail()
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)


# ---- short bodies, disconnects ---------------------------------------------------

def _connect(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _assert_no_tmp_leftover(server, timeout=10):
    wait_until(lambda: not server.tmp_leftovers(), timeout, 0.2, "empty .basalt/tmp")


@pytest.mark.parametrize("size,sent", [(4096, 1000), (3 * MiB, 2 * MiB + 5)])
def test_body_shorter_than_content_length(server, s3, bucket, size, sent):
    data = rand_bytes(size, seed=size)
    key = f"short-{size}"
    head = Signed(server).raw_headers("PUT", f"/{bucket}/{key}",
                                      headers={"Content-Length": str(size)})
    s = _connect(server)
    try:
        s.sendall(head + b"\r\n" + data[:sent])
        s.shutdown(socket.SHUT_WR)  # the client is done: the rest never comes
        try:
            status, _, body = recv_response(s, timeout=30)
            assert status >= 400, f"accepted a short body: {status} {body!r}"
            if body:
                assert xml_error(body)["Code"] in ("IncompleteBody", "RequestTimeout", "BadRequest")
        except (ConnectionError, socket.timeout, OSError):
            pass  # closing the connection is also a clean answer
    finally:
        s.close()
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert http_status(ei.value) == 404
    assert key not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    _assert_no_tmp_leftover(server)


@pytest.mark.parametrize("size,sent", [(4096, 100), (20 * MiB, 5 * MiB + 3), (20 * MiB, 0)])
def test_client_disconnects_mid_upload(server, s3, bucket, size, sent):
    key = f"disc-{size}-{sent}"
    head = Signed(server).raw_headers("PUT", f"/{bucket}/{key}",
                                      headers={"Content-Length": str(size)})
    s = _connect(server)
    s.sendall(head + b"\r\n" + rand_bytes(sent, seed=3))
    time.sleep(0.3)
    # an abortive close (RST) as a crashed client would do
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    time.sleep(0.5)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert http_status(ei.value) == 404
    _assert_no_tmp_leftover(server)
    # the previous version survives an aborted overwrite
    data = rand_bytes(2 * MiB + 1, seed=4)
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    s = _connect(server)
    s.sendall(head + b"\r\n" + rand_bytes(min(sent, size - 1), seed=5))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    time.sleep(0.5)
    assert sha(get_bytes(s3, bucket, key)) == sha(data)
    _assert_no_tmp_leftover(server)


def test_bad_chunked_body(server, s3, bucket):
    """A chunked body cut in the middle of a chunk: nothing visible."""
    head = Signed(server).raw_headers("PUT", f"/{bucket}/badchunk",
                                      headers={"Transfer-Encoding": "chunked"})
    s = _connect(server)
    try:
        s.sendall(head + b"\r\n" + b"10000\r\n" + b"x" * 1000)
        s.shutdown(socket.SHUT_WR)
        try:
            status, _, _ = recv_response(s, timeout=30)
            assert status >= 400
        except (ConnectionError, socket.timeout, OSError):
            pass
    finally:
        s.close()
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="badchunk")
    _assert_no_tmp_leftover(server)


# ---- keys ----------------------------------------------------------------------

def test_key_length_limits(server, s3, bucket):
    k1024 = "k/" + "x" * 1022
    assert len(k1024.encode()) == 1024
    data = rand_bytes(2 * MiB + 7, seed=6)
    s3.put_object(Bucket=bucket, Key=k1024, Body=data)
    assert sha(get_bytes(s3, bucket, k1024)) == sha(data)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [k1024]
    # 1,024 bytes of UTF-8 (multi-byte characters) is fine too
    kutf = "é" * 512
    s3.put_object(Bucket=bucket, Key=kutf, Body=b"utf")
    assert get_bytes(s3, bucket, kutf) == b"utf"
    for k in ("y" * 1025, "é" * 512 + "z"):
        r = Signed(server).request("PUT", f"/{bucket}/{k}", body=b"too long")
        assert_s3_error(r, 400, "KeyTooLongError")
        with pytest.raises(ClientError) as ei:
            s3.put_object(Bucket=bucket, Key=k, Body=b"too long")
        assert err_code(ei.value) == "KeyTooLongError"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == sorted([k1024, kutf])
    s3.delete_object(Bucket=bucket, Key=k1024)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=k1024)


ODD = ["../etc/passwd", "../../../../../../tmp/escape", "./dot", "a/./b", "a/../b", "..", ".",
       "//double//slash", "/leading", "trailing/", "pct%2Fslash", "pct%41", "sp ace  two",
       " lead-space", "uni-é-ß-中文-🙂", "ctl\x01x", "del\x7fx", "tab\tx", "nl\nx", "cr\rx",
       "q?x=1&y=2#frag", "semi;colon", "plus+", "tilde~", "star*", "back\\slash", "quote\"'",
       "<xml>&amp;", "=", "+", "%", "%%2F%2F", ".basalt/index.db", "a" * 300 + "/" + "b" * 300]


def test_odd_keys_roundtrip(server, s3, bucket):
    expect = {}
    for i, k in enumerate(ODD):
        data = rand_bytes(100 + i * 997, seed=i) if i % 3 else rand_bytes(200_000 + i, seed=i)
        s3.put_object(Bucket=bucket, Key=k, Body=data)
        expect[k] = data
    for k, data in expect.items():
        assert sha(get_bytes(s3, bucket, k)) == sha(data), repr(k)
        h = s3.head_object(Bucket=bucket, Key=k)
        assert h["ContentLength"] == len(data)
        assert h["ETag"] == f'"{md5hex(data)}"'
    listed = []
    token = None
    for _ in range(10):
        kw = dict(Bucket=bucket, MaxKeys=1000)
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        listed += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert listed == sorted(ODD, key=lambda s: s.encode())
    v1 = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert v1 == listed
    # nothing escaped the drive folders
    for d in server.drives:
        assert not (d.parent / "etc").exists()
    assert not (server.root.parent / "escape").exists()
    import pathlib
    assert not pathlib.Path("/tmp/escape").exists()
    # prefix listing with odd prefixes
    r = s3.list_objects_v2(Bucket=bucket, Prefix="../")
    assert [o["Key"] for o in r["Contents"]] == ["../../../../../../tmp/escape", "../etc/passwd"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r.get("Contents", [])] == []
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/../", "a/./"]
    for k in ODD:
        s3.delete_object(Bucket=bucket, Key=k)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_raw_percent_encoding_of_keys(server, s3, bucket):
    """%2F in the request path is the key character '/', a literal '%' must be %25."""
    s3.put_object(Bucket=bucket, Key="x/y", Body=b"slash")
    s3.put_object(Bucket=bucket, Key="x%2Fy", Body=b"percent")
    r = Signed(server).request("GET", f"/{bucket}/x%2Fy")  # helper encodes % as %25
    assert r.status_code == 200 and r.content == b"percent"
    assert get_bytes(s3, bucket, "x/y") == b"slash"


def test_invalid_utf8_key(server, s3, bucket):
    """A key that is not valid UTF-8 is refused (S3 keys are UTF-8)."""
    import requests
    from helpers import sign_headers, UNSIGNED
    raw_path = f"/{bucket}/".encode() + b"bad\xff\xfekey"
    h = sign_headers("PUT", f"127.0.0.1:{server.port}", raw_path, [], {}, UNSIGNED,
                     server.access_key, server.secret_key)
    r = requests.put(server.endpoint + f"/{bucket}/bad%FF%FEkey", data=b"x", headers=h, timeout=10)
    assert r.status_code == 400, r.text
    assert r.headers.get("x-amz-request-id")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("path", ["/{bucket}/bad%FF%FEkey", "/{bucket}/%AE%8A-", "/b%FFd/key",
                                  "/b%C3d"])
def test_path_not_utf8_is_invalid_uri(server, s3, bucket, path):
    """A path whose escapes decode to bytes that are not UTF-8 is S3's 400 InvalidURI "Couldn't
    parse the specified URI." (what S3 answered the old boto's raw-byte keys), and the error
    document stays well-formed UTF-8 XML: the undecodable name is not echoed in it."""
    raw = path.format(bucket=bucket)
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        r = requests.request(method, server.endpoint + raw, data=b"x" if method == "PUT" else None,
                             timeout=10)
        assert r.status_code == 400, (method, raw, r.text)
        if method != "HEAD":
            root = ET.fromstring(r.content)  # raises if not well-formed
            assert root.findtext("Code") == "InvalidURI"
            assert root.findtext("Message") == "Couldn't parse the specified URI."
            assert root.find("Key") is None and root.find("BucketName") is None
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# ---- bucket names, ranges, a vs a/ -------------------------------------------------------

@pytest.mark.parametrize("name", ["aa", "A" * 10, "has_underscore", "-dash", "dash-", "1.2.3.4",
                                  "a..b", "a" * 64, "with space", "tab\tname", "uni-é"])
def test_bad_bucket_names(server, name):
    r = Signed(server).request("PUT", f"/{name}")
    assert_s3_error(r, 400, "InvalidBucketName")
    r = Signed(server).request("PUT", f"/{name}/key", body=b"x")
    assert r.status_code in (400, 404)
    assert xml_error(r.content)["Code"] in ("InvalidBucketName", "NoSuchBucket")


def test_range_past_end(server, s3, bucket):
    data = rand_bytes(3 * MiB + 11, seed=9)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    s3.put_object(Bucket=bucket, Key="small", Body=data[:4096])
    for key, n in (("r", len(data)), ("small", 4096)):
        r = Signed(server).request("GET", f"/{bucket}/{key}", headers={"Range": f"bytes={n}-{n + 5}"})
        assert_s3_error(r, 416, "InvalidRange")
        assert data[:100] not in r.content
        r = Signed(server).request("GET", f"/{bucket}/{key}", headers={"Range": f"bytes={n - 1}-{n + 5}"})
        assert r.status_code == 206 and r.content == data[n - 1:n]
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=999999999-")
    assert err_code(ei.value) == "InvalidRange"
    assert http_status(ei.value) == 416


def test_object_and_children_coexist(s3, bucket):
    objs = {"a": b"file a", "a/": b"folder marker", "a/b": b"child b", "a/b/c": b"grandchild",
            "a/c": b"child c" * 50_000}
    for k, v in objs.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    # written in another order too: a/ objects first, then a
    s3.put_object(Bucket=bucket, Key="z/y", Body=b"zy")
    s3.put_object(Bucket=bucket, Key="z", Body=b"z")
    objs.update({"z/y": b"zy", "z": b"z"})
    for k, v in objs.items():
        assert get_bytes(s3, bucket, k) == v, k
    r = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in r["Contents"]] == sorted(objs)
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a", "z"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "z/"]
    r = s3.list_objects(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/", "a/b", "a/c"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]
    # deleting a does not touch a/...
    s3.delete_object(Bucket=bucket, Key="a")
    assert get_bytes(s3, bucket, "a/b") == b"child b"
    s3.delete_object(Bucket=bucket, Key="a/")
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a")
    assert [o["Key"] for o in r["Contents"]] == ["a/b", "a/b/c", "a/c"]


@pytest.mark.slow
def test_paging_2500(server, s3, bucket):
    """ListObjects V1 NextMarker / V2 continuation token over 2,500 keys."""
    from concurrent.futures import ThreadPoolExecutor
    keys = sorted([f"dir{i % 3}/obj-{i:05d}" for i in range(2500)])
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))
    for mk in (1000, 7):
        # V2
        seen, token, pages = [], None, 0
        while pages < 2500 // mk + 3:
            kw = dict(Bucket=bucket, MaxKeys=mk)
            if token:
                kw["ContinuationToken"] = token
            r = s3.list_objects_v2(**kw)
            pages += 1
            seen += [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        assert seen == keys, mk
        # V1 with a delimiter-less prefix and NextMarker from the delimiter listing
        seen, marker, pages = [], "", 0
        while pages < 2500 // mk + 3:
            r = s3.list_objects(Bucket=bucket, MaxKeys=mk, Marker=marker, Prefix="dir1/",
                                Delimiter="/")
            pages += 1
            page = [o["Key"] for o in r.get("Contents", [])]
            seen += page
            if not r["IsTruncated"]:
                break
            assert r["NextMarker"] == page[-1]
            marker = r["NextMarker"]
        assert seen == [k for k in keys if k.startswith("dir1/")], mk
    for k in keys[::500]:
        assert get_bytes(s3, bucket, k) == k.encode()


def test_encoding_type_url_odd_keys(server, s3, bucket):
    keys = ["ctl\x01", "sp ace", "plus+", "pct%", "uni-é", "amp&", "nl\n"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode() * 3)
    r = Signed(server).request("GET", f"/{bucket}", query=[("list-type", "2"),
                                                           ("encoding-type", "url")])
    assert r.status_code == 200
    assert b"\x01" not in r.content
    import xml.etree.ElementTree as ET
    from helpers import S3NS
    root = ET.fromstring(r.content)
    got = [urllib.parse.unquote_plus(e.find(S3NS + "Key").text)
           for e in root.findall(S3NS + "Contents")]
    assert got == sorted(keys, key=lambda s: s.encode())
    for k in keys:
        assert get_bytes(s3, bucket, k) == k.encode() * 3


def test_idle_connections_do_not_block_others(server, s3, bucket):
    """Clients that send half a request and stall (slowloris) do not stop
    the server from answering others."""
    data = rand_bytes(50_000, seed=12)
    s3.put_object(Bucket=bucket, Key="alive", Body=data)
    idle = []
    try:
        for i in range(64):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(f"GET /{bucket}/alive HTTP/1.1\r\nHost: x\r\nX-Slow-{i}: ".encode())
            idle.append(s)
        t0 = time.monotonic()
        for _ in range(5):
            assert sha(get_bytes(s3, bucket, "alive")) == sha(data)
        assert time.monotonic() - t0 < 10 * TIME_SCALE
    finally:
        for s in idle:
            s.close()
    assert server.alive()


def test_oversized_headers(server, s3, bucket):
    """Headers past the server's limit (64 KiB): a 4xx S3 error, the server
    lives on. Past libmicrohttpd's connection pool (96 KiB: its size is CPU on
    every request, server/server.h) the answer is its own 431 instead, without
    an S3 error document."""
    r = Signed(server).request("PUT", f"/{bucket}/bighdr", body=b"x",
                               headers={"x-amz-meta-big": "v" * 70 * 1024})
    assert r.status_code in (400, 413, 431), r.status_code
    assert server.alive()
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bighdr")
    # x-amz-request-id on every response of the S3 layer, this one too
    assert r.headers.get("x-amz-request-id"), (r.status_code, r.headers, r.content[:200])
    assert xml_error(r.content)["Code"] in ("RequestHeaderSectionTooLarge", "MetadataTooLarge",
                                            "BadRequest", "InvalidRequest")
    huge = Signed(server).request("PUT", f"/{bucket}/bighdr", body=b"x",
                                  headers={"x-amz-meta-big": "v" * 200 * 1024})
    assert huge.status_code == 431, huge.status_code
    assert server.alive()
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bighdr")
    s3.put_object(Bucket=bucket, Key="ok", Body=b"fine")
    assert get_bytes(s3, bucket, "ok") == b"fine"


def _rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_many_stalled_uploads_and_downloads(fresh_server):
    """100 uploads that stall mid-body and 50 downloads that never read: the
    server's memory stays bounded, a new request is answered (200 or 503
    SlowDown) instead of hanging, and after the clients go nothing is left."""
    srv = fresh_server()
    c = srv.client()
    c.create_bucket(Bucket="stall")
    big = rand_bytes(8 * MiB + 1, seed=1)
    c.put_object(Bucket="stall", Key="big", Body=big)
    sig = Signed(srv)
    socks = []
    try:
        for i in range(100):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            head = sig.raw_headers("PUT", f"/stall/up{i}", headers={"Content-Length": str(20 * MiB)})
            s.sendall(head + b"\r\n" + b"\xab" * (1 * MiB + 100))
            socks.append(s)
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(sig.raw_headers("GET", "/stall/big") + b"\r\n")
            socks.append(s)
        time.sleep(1.0)
        rss = _rss_mib(srv.proc.pid)
        assert rss < 512, f"server RSS {rss:.0f} MiB with 150 stalled clients"
        t0 = time.monotonic()
        try:
            r = Signed(srv).request("PUT", "/stall/fresh", body=b"fresh", timeout=30)
            assert r.status_code in (200, 503), r.text
            if r.status_code == 503:
                assert xml_error(r.content)["Code"] == "SlowDown"
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"a new request hung or failed with stalled clients: {e!r}")
        assert time.monotonic() - t0 < 30 * TIME_SCALE
    finally:
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    # back to normal
    wait_until(lambda: srv.tmp_leftovers() == [], 20, 0.5, "empty .basalt/tmp after stalled uploads")
    data = rand_bytes(3 * MiB + 1, seed=2)
    c.put_object(Bucket="stall", Key="after", Body=data)
    assert sha(get_bytes(c, "stall", "after")) == sha(data)
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="stall")["Contents"]]
    assert all(not k.startswith("up") for k in keys), keys
    assert srv.alive()


def test_idle_timeout_closes_stalled_clients(fresh_server):
    """--idle-timeout: a client that stops mid-headers or mid-body is
    disconnected; the half upload leaves nothing behind."""
    srv = fresh_server(extra_args=["--idle-timeout", "2"])
    c = srv.client()
    c.create_bucket(Bucket="idle")
    s1 = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    s1.sendall(b"GET /idle/x HTTP/1.1\r\nHost: a\r\nX-Half: ")
    s2 = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    head = Signed(srv).raw_headers("PUT", "/idle/half", headers={"Content-Length": str(4 * MiB)})
    s2.sendall(head + b"\r\n" + b"z" * (MiB + 3))
    try:
        for s in (s1, s2):
            s.settimeout(15 * TIME_SCALE)
            t0 = time.monotonic()
            got = b""
            try:
                while True:  # bounded by the socket timeout
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("stalled client not disconnected within 15 s") from None
            assert time.monotonic() - t0 < 15 * TIME_SCALE
    finally:
        s1.close()
        s2.close()
    with pytest.raises(ClientError):
        c.head_object(Bucket="idle", Key="half")
    wait_until(lambda: srv.tmp_leftovers() == [], 10, 0.3, "empty .basalt/tmp")
    c.put_object(Bucket="idle", Key="ok", Body=b"still fine")
    assert get_bytes(c, "idle", "ok") == b"still fine"
