"""Node-to-node RPC under /basalt/rpc/v1/ on the S3 port: only a correctly
signed call from a node holding the cluster key does anything. Unsigned,
garbage, wrongly keyed, tampered, stale and replayed calls are refused (403;
400 naming the versions for an unknown protocol version) and change
nothing, while the same call correctly signed does act (the control that
proves the refused ones would have mattered).

The calls are made with cluster.RpcSigner, which signs as rpc_auth.h says
(HKDF of the root credentials, HMAC over method, path, query and headers)."""

import socket
import struct
import time
import urllib.parse

import pytest
import requests
from botocore.exceptions import ClientError

from cluster import RpcSigner, cluster, make_cluster, rpc_key, shared_cluster  # noqa: F401
from helpers import err_code

V1 = "/basalt/rpc/v1"


@pytest.fixture
def c(shared_cluster):  # noqa: F811
    return shared_cluster


def q(**kw):
    return "&".join(f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in kw.items())


def drives(c):
    """(node, folder) of every drive of the cluster."""
    return [(n, str(c.drive_folder(n, j))) for n in c.all() for j in range(1, c.ndrives + 1)]


def post(c, n, route, query, headers=None, body=b"", version_path=V1):
    return requests.post(f"{c.endpoint(n)}{version_path}{route}?{query}", headers=headers or {},
                         data=body, timeout=10)


def readable(c, bucket, key, want):
    for n in c.all():
        assert c.client(n).get_object(Bucket=bucket, Key=key)["Body"].read() == want, n
        assert key in [o["Key"] for o in c.client(n).list_objects_v2(Bucket=bucket)["Contents"]]


def refused(r, status=403, code="cluster-auth"):
    assert r.status_code == status, (r.status_code, r.headers, r.text[:300])
    assert r.headers.get("X-Basalt-Rpc-Refused") == code, (r.headers, r.text[:300])


def test_refused_calls_do_nothing_and_signed_ones_act(c):
    b = f"rpc-victim-{time.monotonic_ns() % 100000}"
    c.client(1).create_bucket(Bucket=b)
    c.client(2).put_object(Bucket=b, Key="victim", Body=b"precious")
    fmt_bytes = {f: open(f + "/.basalt/format.json", "rb").read() for _, f in drives(c)}
    stranger = RpcSigner(key=rpc_key("someone", "else-entirely"))
    good = RpcSigner()
    route, path = "/drive/meta/delete", V1 + "/drive/meta/delete"
    for n, folder in drives(c):
        query = q(d=folder, b=b, k="victim")
        refused(post(c, n, route, query))  # no auth headers at all
        garbage = {f"X-Basalt-Rpc-{h}": "zz\x7f" * 40 for h in
                   ("Version", "Node", "Boot-Id", "Boot-Time", "Seq", "Time", "Body",
                    "Request-Id", "Signature")}
        refused(post(c, n, route, query, garbage))
        refused(post(c, n, route, query, stranger.headers("POST", path, query)))  # wrong key
        # signed for another key name, sent for "victim": the query is signed
        refused(post(c, n, route, query, good.headers("POST", path, q(d=folder, b=b, k="other"))))
        # signed for another route
        refused(post(c, n, route, query, good.headers("POST", V1 + "/drive/meta/read", query)))
        # a body the digest does not match
        refused(post(c, n, route, query, good.headers("POST", path, query, body=b""),
                     body=b"extra"))
        # 20 minutes off this node's clock (a 10-minute skew is accepted: unit tests)
        stale = good.headers("POST", path, query, time_ms=int(time.time() * 1000) - 20 * 60000)
        refused(post(c, n, route, query, stale), 403, "clock-skew")
        # an unknown protocol version: 400 naming the versions this node speaks
        for v in ("v2", "v0", "vx", ""):
            r = post(c, n, route, query, good.headers("POST", path, query), version_path=
                     "/basalt/rpc/" + v)
            refused(r, 400, "version")
            assert r.headers.get("X-Basalt-Rpc-Versions") == "1" and "speaks 1" in r.text, r.text
        # format.json cannot be overwritten, signed or not
        doc = b'{"version":1,"format":"basalt-erasure","deployment_id":"x"}'
        fq = q(d=folder)
        refused(post(c, n, "/drive/format/write", fq, body=doc))
        r = post(c, n, "/drive/format/write", fq,
                 good.headers("POST", V1 + "/drive/format/write", fq, body=doc), body=doc)
        assert r.status_code >= 400, (r.status_code, r.text)
    for _, f in drives(c):
        assert open(f + "/.basalt/format.json", "rb").read() == fmt_bytes[f], f
    readable(c, b, "victim", b"precious")
    for n in c.all():
        assert c.node(n).alive(), f"node {n} died on a refused RPC call\n{c.tails()}"
    # control: the very same call correctly signed, on every drive, deletes the object
    for n, folder in drives(c):
        query = q(d=folder, b=b, k="victim")
        r = post(c, n, route, query, good.headers("POST", path, query))
        assert r.status_code == 200, (n, folder, r.status_code, r.text)
    for n in c.all():
        with pytest.raises(ClientError) as ei:
            c.client(n).get_object(Bucket=b, Key="victim")
        assert err_code(ei.value) == "NoSuchKey", n


def stat_bucket(c, n, signer, folder, bucket):
    query = q(d=folder, b=bucket)
    return post(c, n, "/drive/bucket/stat", query,
                signer.headers("POST", V1 + "/drive/bucket/stat", query)).status_code


def test_replayed_call_refused_and_not_done(c):
    n, folder = 2, str(c.drive_folder(2, 1))
    bucket = f"replay-{time.monotonic_ns() % 100000}"
    s = RpcSigner()
    query = q(d=folder, b=bucket, created=time.time_ns())
    make = s.headers("POST", V1 + "/drive/bucket/make", query)
    assert stat_bucket(c, n, s, folder, bucket) == 404
    r = post(c, n, "/drive/bucket/make", query, make)
    assert r.status_code == 200, (r.status_code, r.text)
    assert stat_bucket(c, n, s, folder, bucket) == 200
    dq = q(d=folder, b=bucket, force=0)
    r = post(c, n, "/drive/bucket/delete", dq, s.headers("POST", V1 + "/drive/bucket/delete", dq))
    assert r.status_code == 200, (r.status_code, r.text)
    assert stat_bucket(c, n, s, folder, bucket) == 404
    # the captured make, byte for byte, on a fresh connection: refused, and not done
    r = post(c, n, "/drive/bucket/make", query, make)
    refused(r, 403, "replay")
    assert stat_bucket(c, n, s, folder, bucket) == 404
    # and the same bytes over a raw socket
    target = f"{V1}/drive/bucket/make?{query}"
    raw = (f"POST {target} HTTP/1.1\r\nHost: {c.node(n).host}:{c.port}\r\n"
           + "".join(f"{k}: {v}\r\n" for k, v in make.items())
           + "Content-Length: 0\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((c.node(n).host, c.port), timeout=10) as sock:
        sock.sendall(raw)
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 403"), head[:200]
    assert b"replay" in head, head[:400]
    assert stat_bucket(c, n, s, folder, bucket) == 404


def test_garbage_bytes_on_the_rpc_path(c):
    host, port = c.node(3).host, c.port
    payloads = [
        b"\x00\xff\xfe garbage \r\n\r\n",
        b"POST /basalt/rpc/v1/drive/meta/delete HTTP/1.1\r\nHost: x\r\n"
        b"X-Basalt-Rpc-Version: 1\r\nX-Basalt-Rpc-Seq: -1\r\n"
        b"X-Basalt-Rpc-Signature: " + b"f" * 5000 + b"\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /basalt/rpc/v1/../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /basalt/rpc/v1/drive/shard/write HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]
    for p in payloads:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(p)
            sock.shutdown(socket.SHUT_WR)
            try:
                head = sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                head = b""
        assert head == b"" or head.split(b" ")[1][:1] == b"4", (p[:60], head[:200])
    assert c.node(3).alive(), c.tails()
    assert c.health(3, "ready") == 200
    # the health route answers a signed call with this node's identity
    s = RpcSigner()
    r = requests.get(f"{c.endpoint(3)}{V1}/health", headers=s.headers("GET", V1 + "/health"),
                     timeout=10)
    assert r.status_code == 200 and r.json()["node"] == f"{host}:{port}", r.text


def _wire_bytes(b):
    return struct.pack("<I", len(b)) + b


def test_release_many_bad_bodies_refused(cluster):  # noqa: F811
    """POST /lock/release-many (batched lock releases): a truncated body, a
    count over the limit or a NUL in a name is refused (400) and the node
    goes on; a well-formed batch of locks it never granted answers 200. (A
    cluster of its own: the calls, signed as node 1 with another boot id,
    make node 3 drop node 1's grants.)"""
    c = cluster
    host1 = f"{c.node(1).host}:{c.port}"
    s = RpcSigner(node=host1)
    path = V1 + "/lock/release-many"
    good = struct.pack("<I", 2) + _wire_bytes(b"o/x/never") + _wire_bytes(b"0" * 32) + \
        _wire_bytes(b"b/x") + _wire_bytes(b"1" * 32)
    bodies = {
        "truncated": struct.pack("<I", 5) + _wire_bytes(b"o/x/y"),
        "too many": struct.pack("<I", 100000),
        "NUL in a name": struct.pack("<I", 1) + _wire_bytes(b"o/x\x00y") + _wire_bytes(b"u"),
        "trailing bytes": good + b"junk",
    }
    for what, body in bodies.items():
        r = post(c, 3, "/lock/release-many", "", headers=s.headers("POST", path, "", body=body),
                 body=body)
        assert r.status_code == 400, (what, r.status_code, r.text[:200])
    r = post(c, 3, "/lock/release-many", "", headers=s.headers("POST", path, "", body=good),
             body=good)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert c.node(3).alive(), c.tails()
    b = f"rel-many-{time.monotonic_ns() % 100000}"
    c.client(3).create_bucket(Bucket=b)
    c.client(3).put_object(Bucket=b, Key="k", Body=b"still works")
    readable(c, b, "k", b"still works")
