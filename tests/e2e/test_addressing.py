"""Virtual-host style addressing (--domain) and a path prefix (--path-prefix)
(issue 3 item 8): boto3 and the aws CLI with endpoint_url=http://host/storage,
boto3 with virtual addressing, and the prefix's edges with raw requests.

Names under the test domain resolve to 127.0.0.1 through a patched
socket.getaddrinfo in this process (boto3 and requests both connect through
it), so no resolver setup is needed."""

import json
import socket

import pytest
import requests
from botocore.exceptions import ClientError

import helpers
from helpers import (Server, TIME_SCALE, amz_now, assert_s3_error, err_code, get_bytes,
                     make_client, md5hex, rand_bytes, sha, sign_headers, uri_encode)

DOMAIN = "s3.basalt-e2e.test"
PREFIX = "/storage"


@pytest.fixture(scope="module")
def addr_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("addressing"), name="addressing",
               extra_args=["--domain", f"{OTHER_DOMAIN},{DOMAIN}", "--path-prefix", PREFIX + "/"])
    s.start()
    yield s
    s.close()
    assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports()[:20])


# Names (and their subdomains) that the fixture below resolves to 127.0.0.1.
OTHER_DOMAIN = "other.test"
PLAIN_DOMAIN = "plain.basalt-e2e.test"  # for a server without a path prefix
TEST_DOMAINS = (DOMAIN, OTHER_DOMAIN, PLAIN_DOMAIN)


@pytest.fixture
def resolve_test_domain(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if isinstance(host, str) and any(host == d or host.endswith("." + d)
                                         for d in TEST_DOMAINS):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def prefixed(server):
    return make_client(server.endpoint + PREFIX, server.access_key, server.secret_key)


def test_boto3_under_path_prefix(addr_server):
    c = prefixed(addr_server)
    data = rand_bytes(300 * 1024, seed=3)
    c.create_bucket(Bucket="pre")
    c.put_object(Bucket="pre", Key="dir/a b+c.txt", Body=data)
    assert get_bytes(c, "pre", "dir/a b+c.txt") == data
    assert c.head_object(Bucket="pre", Key="dir/a b+c.txt")["ETag"] == f'"{md5hex(data)}"'
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="pre", Prefix="dir/")["Contents"]]
    assert keys == ["dir/a b+c.txt"]
    assert "pre" in [b["Name"] for b in c.list_buckets()["Buckets"]]
    url = c.generate_presigned_url("get_object", Params={"Bucket": "pre", "Key": "dir/a b+c.txt"})
    assert f":{addr_server.port}{PREFIX}/pre/" in url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == data
    c.put_object_tagging(Bucket="pre", Key="dir/a b+c.txt",
                         Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert c.get_object_tagging(Bucket="pre", Key="dir/a b+c.txt")["TagSet"] == [
        {"Key": "k", "Value": "v"}]
    c.delete_object(Bucket="pre", Key="dir/a b+c.txt")
    c.delete_bucket(Bucket="pre")


def test_outside_the_prefix(addr_server):
    plain = make_client(addr_server.endpoint, addr_server.access_key, addr_server.secret_key)
    with pytest.raises(ClientError) as ei:
        plain.list_buckets()
    assert err_code(ei.value) == "NotFound"
    r = requests.get(addr_server.endpoint + "/storagex/b/k", timeout=10)
    assert_s3_error(r, 404, "NotFound")
    r = requests.get(addr_server.endpoint + "/", timeout=10)
    e = assert_s3_error(r, 404, "NotFound")
    assert PREFIX in e["Message"]
    # health answers under the prefix and, for probes of the node, at the root
    for path in (PREFIX + "/basalt/health/live", "/basalt/health/live",
                 PREFIX + "/basalt/health/ready", "/basalt/health/ready"):
        r = requests.get(addr_server.endpoint + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text)
    # the admin API lives under the prefix only
    r = requests.get(addr_server.endpoint + "/basalt/admin/v1/info", timeout=10)
    assert_s3_error(r, 404, "NotFound")
    r = requests.get(addr_server.endpoint + PREFIX + "/basalt/admin/v1/info", timeout=10)
    assert r.status_code == 403  # there, but needs a signature


def test_aws_cli_under_path_prefix(addr_server, tmp_path):
    from conftest import AwsCli

    class PrefixedServer:
        endpoint = addr_server.endpoint + PREFIX
        access_key = addr_server.access_key
        secret_key = addr_server.secret_key

    cli = AwsCli(PrefixedServer(), tmp_path / "awshome")
    src = tmp_path / "f.bin"
    data = rand_bytes(2 * 1024 * 1024 + 5, seed=4)
    src.write_bytes(data)
    cli("s3", "mb", "s3://cli-pre")
    cli("s3", "cp", str(src), "s3://cli-pre/x/f.bin")
    out = cli("s3", "ls", "s3://cli-pre/x/").stdout.decode()
    assert "f.bin" in out
    dst = tmp_path / "back.bin"
    cli("s3", "cp", "s3://cli-pre/x/f.bin", str(dst))
    assert dst.read_bytes() == data
    cli("s3api", "put-object-tagging", "--bucket", "cli-pre", "--key", "x/f.bin", "--tagging",
        json.dumps({"TagSet": [{"Key": "a", "Value": "b"}]}))
    r = cli("s3api", "get-object-tagging", "--bucket", "cli-pre", "--key", "x/f.bin")
    assert json.loads(r.stdout)["TagSet"] == [{"Key": "a", "Value": "b"}]
    cli("s3", "rm", "--recursive", "s3://cli-pre/")
    cli("s3", "rb", "s3://cli-pre")


def test_boto3_virtual_host_style(addr_server, resolve_test_domain):
    endpoint = f"http://{DOMAIN}:{addr_server.port}{PREFIX}"
    vc = make_client(endpoint, addr_server.access_key, addr_server.secret_key,
                     s3={"addressing_style": "virtual"})
    pc = prefixed(addr_server)
    data = rand_bytes(200 * 1024, seed=8)
    vc.create_bucket(Bucket="vhost")
    seen = []
    vc.meta.events.register("before-send.s3.PutObject",
                            lambda request, **kw: seen.append(request.url))
    vc.put_object(Bucket="vhost", Key="a/b.txt", Body=data)
    assert seen and seen[0].startswith(f"http://vhost.{DOMAIN}:{addr_server.port}{PREFIX}/a/")
    assert get_bytes(vc, "vhost", "a/b.txt") == data
    assert get_bytes(pc, "vhost", "a/b.txt") == data  # the same object, path style
    assert [o["Key"] for o in vc.list_objects_v2(Bucket="vhost")["Contents"]] == ["a/b.txt"]
    assert vc.head_bucket(Bucket="vhost")["ResponseMetadata"]["HTTPStatusCode"] == 200
    url = vc.generate_presigned_url("get_object", Params={"Bucket": "vhost", "Key": "a/b.txt"})
    assert url.startswith(f"http://vhost.{DOMAIN}:")
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == data
    with pytest.raises(ClientError) as ei:
        vc.get_object(Bucket="vhost", Key="missing")
    assert err_code(ei.value) == "NoSuchKey"
    vc.delete_object(Bucket="vhost", Key="a/b.txt")
    vc.delete_bucket(Bucket="vhost")


def test_virtual_host_raw_requests(addr_server):
    """Host headers by hand: the bucket from a subdomain of any configured domain;
    the bare domain and IP addresses stay path style."""
    c = prefixed(addr_server)
    c.create_bucket(Bucket="rawv")
    c.put_object(Bucket="rawv", Key="k", Body=b"raw vhost")
    url = c.generate_presigned_url("get_object", Params={"Bucket": "rawv", "Key": "k"})
    assert requests.get(url, timeout=10).content == b"raw vhost"
    port = addr_server.port
    # Anonymous requests: the answer (403 vs 404) shows which bucket and key were meant.
    for host in (f"rawv.{DOMAIN}:{port}", f"RAWV.other.test:{port}", f"rawv.{DOMAIN}."):
        r = requests.get(f"http://127.0.0.1:{port}{PREFIX}/k", headers={"Host": host}, timeout=10)
        assert_s3_error(r, 403, "AccessDenied")
        assert helpers.xml_error(r.content).get("BucketName") in (None, "rawv")
    r = requests.get(f"http://127.0.0.1:{port}{PREFIX}/rawv/k", headers={"Host": DOMAIN},
                     timeout=10)
    assert_s3_error(r, 403, "AccessDenied")
    c.delete_object(Bucket="rawv", Key="k")
    c.delete_bucket(Bucket="rawv")


def test_server_refuses_bad_flags(tmp_path):
    for args in (["--path-prefix", "storage"], ["--path-prefix", "/a/../b"],
                 ["--path-prefix", "/a b"], ["--domain", "1.2.3.4"], ["--domain", "a..b"],
                 ["--domain", ""]):
        s = Server(tmp_path / "bad", extra_args=args, name="bad")
        r = __import__("subprocess").run(s.args(), env=s.env(), capture_output=True, timeout=30)
        assert r.returncode == 2, (args, r.returncode, r.stderr)


def test_post_upload_location_under_path_prefix(addr_server):
    """A browser POST under the prefix: Location names the object under the same prefix."""
    c = prefixed(addr_server)
    c.create_bucket(Bucket="postpre")
    p = c.generate_presigned_post("postpre", "up/${filename}", ExpiresIn=600)
    assert p["url"].endswith(f"{PREFIX}/postpre")
    r = requests.post(p["url"], data=p["fields"], files={"file": ("f 1.txt", b"posted")},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 204, r.text
    assert r.headers["Location"] == f"{addr_server.endpoint}{PREFIX}/postpre/up/f%201.txt"
    assert requests.get(r.headers["Location"], timeout=10).status_code == 403  # unsigned: denied
    assert get_bytes(c, "postpre", "up/f 1.txt") == b"posted"


# --------------------------------------------------------------------------
# Signed virtual-host requests on each domain; a server without a prefix;
# aws-chunked uploads and CORS preflights under the prefix
# --------------------------------------------------------------------------


def virtual_client(server, domain, prefix=""):
    return make_client(f"http://{domain}:{server.port}{prefix}", server.access_key,
                       server.secret_key, s3={"addressing_style": "virtual"})


def record_urls(client):
    """The URL of every request `client` sends, in order."""
    urls = []
    client.meta.events.register("before-send.s3.*", lambda request, **kw: urls.append(request.url))
    return urls


def signed_raw(server, method, host, path, body=b"", headers=None):
    """A request to the server's address with any Host header, signed for that host."""
    h = sign_headers(method, host, path, [], headers or {}, sha(body), server.access_key,
                     server.secret_key)
    return requests.request(method, f"http://127.0.0.1:{server.port}{uri_encode(path, True)}",
                            headers=h, data=body, timeout=30 * TIME_SCALE)


def test_signed_virtual_host_on_each_domain(addr_server, resolve_test_domain):
    """boto3 in virtual-host style against each configured domain: the same bucket under
    both, an object written through one read back through the other and path style."""
    port = addr_server.port
    pc = prefixed(addr_server)
    pc.create_bucket(Bucket="twodom")
    datas = {}
    for i, domain in enumerate((DOMAIN, OTHER_DOMAIN)):
        vc = virtual_client(addr_server, domain, PREFIX)
        urls = record_urls(vc)
        key = f"via/{domain}/obj"
        data = datas[domain] = rand_bytes(100_000 + i * 333_333, seed=60 + i)
        r = vc.put_object(Bucket="twodom", Key=key, Body=data)
        assert urls[-1] == f"http://twodom.{domain}:{port}{PREFIX}/via/{domain}/obj", urls
        assert r["ETag"] == f'"{md5hex(data)}"'
        g = vc.get_object(Bucket="twodom", Key=key)
        assert urls[-1].startswith(f"http://twodom.{domain}:{port}{PREFIX}/")
        assert sha(g["Body"].read()) == sha(data)
        assert vc.head_object(Bucket="twodom", Key=key)["ContentLength"] == len(data)
        url = vc.generate_presigned_url("get_object", Params={"Bucket": "twodom", "Key": key})
        assert url.startswith(f"http://twodom.{domain}:{port}{PREFIX}/")
        r = requests.get(url, timeout=30)
        assert r.status_code == 200 and sha(r.content) == sha(data)
    for domain in (DOMAIN, OTHER_DOMAIN):
        vc = virtual_client(addr_server, domain, PREFIX)
        for written_via, data in datas.items():
            assert sha(get_bytes(vc, "twodom", f"via/{written_via}/obj")) == sha(data)
        keys = [o["Key"] for o in vc.list_objects_v2(Bucket="twodom")["Contents"]]
        assert keys == sorted(f"via/{d}/obj" for d in datas)
    for written_via, data in datas.items():
        assert sha(get_bytes(pc, "twodom", f"via/{written_via}/obj")) == sha(data)
    # a signature made for one domain's Host does not pass on the other's
    h = sign_headers("GET", f"twodom.{DOMAIN}:{port}", f"{PREFIX}/via/{DOMAIN}/obj", [], {},
                     sha(b""), addr_server.access_key, addr_server.secret_key)
    h["host"] = f"twodom.{OTHER_DOMAIN}:{port}"
    r = requests.get(f"http://127.0.0.1:{port}{PREFIX}/via/{DOMAIN}/obj", headers=h, timeout=30)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    for d in datas:
        pc.delete_object(Bucket="twodom", Key=f"via/{d}/obj")
    pc.delete_bucket(Bucket="twodom")


def test_virtual_host_without_path_prefix(fresh_server, resolve_test_domain):
    s = fresh_server(name="noprefix", extra_args=["--domain", PLAIN_DOMAIN])
    port = s.port
    vc = virtual_client(s, PLAIN_DOMAIN)
    urls = record_urls(vc)
    vc.create_bucket(Bucket="plainv")
    assert urls[-1] in (f"http://plainv.{PLAIN_DOMAIN}:{port}/",
                        f"http://plainv.{PLAIN_DOMAIN}:{port}"), urls
    data = rand_bytes(1024 * 1024 + 7, seed=61)
    vc.put_object(Bucket="plainv", Key="d/k 1", Body=data)
    assert urls[-1] == f"http://plainv.{PLAIN_DOMAIN}:{port}/d/k%201", urls
    assert sha(get_bytes(vc, "plainv", "d/k 1")) == sha(data)
    assert [o["Key"] for o in vc.list_objects_v2(Bucket="plainv")["Contents"]] == ["d/k 1"]
    # the same object path style: by address and by the bare domain
    assert sha(get_bytes(s.client(), "plainv", "d/k 1")) == sha(data)
    bare = make_client(f"http://{PLAIN_DOMAIN}:{port}", s.access_key, s.secret_key)
    assert sha(get_bytes(bare, "plainv", "d/k 1")) == sha(data)
    url = vc.generate_presigned_url("get_object", Params={"Bucket": "plainv", "Key": "d/k 1"})
    assert url.startswith(f"http://plainv.{PLAIN_DOMAIN}:{port}/d/k%201?")
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and sha(r.content) == sha(data)
    # Host decides: a subdomain of the configured domain names the bucket; any other
    # name (or the bare domain) is path style
    r = signed_raw(s, "GET", f"plainv.{PLAIN_DOMAIN}:{port}", "/d/k 1")
    assert r.status_code == 200 and sha(r.content) == sha(data)
    r = signed_raw(s, "GET", f"plainv.{PLAIN_DOMAIN}:{port}", "/plainv/d/k 1")
    assert_s3_error(r, 404, "NoSuchKey")  # key "plainv/d/k 1" in bucket plainv
    r = signed_raw(s, "GET", f"plainv.unconfigured.test:{port}", "/plainv/d/k 1")
    assert r.status_code == 200 and sha(r.content) == sha(data)
    r = signed_raw(s, "GET", f"{PLAIN_DOMAIN}:{port}", "/plainv/d/k 1")
    assert r.status_code == 200 and sha(r.content) == sha(data)
    # not under a prefix: the root is the API (ListBuckets), not a NotFound
    assert "plainv" in [b["Name"] for b in s.client().list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as ei:
        vc.get_object(Bucket="plainv", Key="missing")
    assert err_code(ei.value) == "NoSuchKey"
    vc.delete_object(Bucket="plainv", Key="d/k 1")
    vc.delete_bucket(Bucket="plainv")
    assert "plainv" not in [b["Name"] for b in s.client().list_buckets()["Buckets"]]


def chunked_put_raw(server, host, path, data, chunk=65536, mutate=None):
    """A PUT of `data` as a signed aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)."""
    from test_chunked import SIGNED, Chunker

    amzdate = amz_now()
    h = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    signed = sign_headers("PUT", host, path, [], h, SIGNED, server.access_key,
                          server.secret_key, amzdate=amzdate)
    seed = signed["authorization"].rsplit("Signature=", 1)[1]
    body = Chunker(server.secret_key, amzdate, seed).body(data, chunk=chunk)
    assert len(body) > len(data)  # chunk headers and signatures around the data
    if mutate:
        body = mutate(body)
    return requests.put(f"http://127.0.0.1:{server.port}{uri_encode(path, True)}",
                        headers=signed, data=body, timeout=60 * TIME_SCALE)


def test_aws_chunked_upload_under_path_prefix(addr_server, resolve_test_domain):
    c = prefixed(addr_server)
    c.create_bucket(Bucket="chunkpre")
    port = addr_server.port
    data = rand_bytes(3 * 65536 + 1234, seed=62)
    r = chunked_put_raw(addr_server, f"127.0.0.1:{port}", f"{PREFIX}/chunkpre/a/b.bin", data)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{md5hex(data)}"'
    assert sha(get_bytes(c, "chunkpre", "a/b.bin")) == sha(data)
    h = c.head_object(Bucket="chunkpre", Key="a/b.bin")
    assert h["ContentLength"] == len(data)
    assert h.get("ContentEncoding") in (None, "")  # aws-chunked is not stored
    # virtual-host style under the prefix too
    vdata = rand_bytes(100_000, seed=63)
    r = chunked_put_raw(addr_server, f"chunkpre.{DOMAIN}:{port}", f"{PREFIX}/v.bin", vdata,
                        chunk=8192)
    assert r.status_code == 200, r.text
    assert sha(get_bytes(c, "chunkpre", "v.bin")) == sha(vdata)
    # a chunk changed in flight: refused, and nothing stored
    def flip(body):
        i = body.index(b"\r\n", body.index(b"chunk-signature=")) + 2 + 100
        return body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]

    r = chunked_put_raw(addr_server, f"127.0.0.1:{port}", f"{PREFIX}/chunkpre/bad.bin", data,
                        mutate=flip)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as ei:
        c.head_object(Bucket="chunkpre", Key="bad.bin")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for k in ("a/b.bin", "v.bin"):
        c.delete_object(Bucket="chunkpre", Key=k)
    c.delete_bucket(Bucket="chunkpre")


def test_cors_preflight_under_path_prefix(addr_server):
    c = prefixed(addr_server)
    c.create_bucket(Bucket="corspre")
    port = addr_server.port
    origin = "https://app.example.com"

    def preflight(path, method="PUT", host=None, origin=origin):
        h = {"Origin": origin, "Access-Control-Request-Method": method,
             "Access-Control-Request-Headers": "content-type, x-amz-date"}
        if host:
            h["Host"] = host
        return requests.options(f"http://127.0.0.1:{port}{path}", headers=h, timeout=10)

    r = preflight(f"{PREFIX}/corspre/up/k")
    assert_s3_error(r, 403, "AccessForbidden")  # no configuration yet
    c.put_bucket_cors(Bucket="corspre", CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [origin], "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 120}]})
    for path, host in ((f"{PREFIX}/corspre/up/k", None), (f"{PREFIX}/corspre", None),
                       (f"{PREFIX}/up/k", f"corspre.{DOMAIN}:{port}")):
        r = preflight(path, host=host)
        assert r.status_code == 200, (path, host, r.status_code, r.text)
        assert r.headers["Access-Control-Allow-Origin"] == origin
        assert r.headers["Access-Control-Allow-Methods"] == "PUT, GET"
        assert r.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
        assert r.headers["Access-Control-Expose-Headers"] == "ETag"
        assert r.headers["Access-Control-Max-Age"] == "120"
    # the rules still decide under the prefix
    assert_s3_error(preflight(f"{PREFIX}/corspre/up/k", method="DELETE"), 403, "AccessForbidden")
    assert_s3_error(preflight(f"{PREFIX}/corspre/up/k", origin="https://evil.example.net"), 403,
                    "AccessForbidden")
    # outside the prefix there is no API, so no preflight either
    r = preflight("/corspre/up/k")
    assert_s3_error(r, 404, "NotFound")
    assert "Access-Control-Allow-Origin" not in r.headers
    # and a browser's real request under the prefix gets the CORS headers
    c.put_object(Bucket="corspre", Key="up/k", Body=b"cors body")
    url = c.generate_presigned_url("get_object", Params={"Bucket": "corspre", "Key": "up/k"})
    r = requests.get(url, headers={"Origin": origin}, timeout=10)
    assert r.status_code == 200 and r.content == b"cors body"
    assert r.headers["Access-Control-Allow-Origin"] == origin
    c.delete_object(Bucket="corspre", Key="up/k")
    c.delete_bucket_cors(Bucket="corspre")
    c.delete_bucket(Bucket="corspre")


def test_sigv2_under_path_prefix_and_virtual_host(addr_server, resolve_test_domain):
    """boto3's default (SigV2) presigned URLs and forms under the prefix, path style and
    virtual-host style; SigV2 header signing too. A signature over one resource does not
    carry over to another that the Host makes look alike: a presigned ListObjects of bucket
    "vkey" (resource "/vkey/") replayed on host <bucket>.<domain> as "/vkey" (the object
    <bucket>/vkey) is refused."""
    from botocore.config import Config
    import boto3

    def v2(endpoint, style, **cfg):
        return boto3.client("s3", endpoint_url=endpoint, region_name=helpers.REGION,
                            aws_access_key_id=addr_server.access_key,
                            aws_secret_access_key=addr_server.secret_key,
                            config=Config(s3={"addressing_style": style},
                                          retries={"max_attempts": 1}, **cfg))

    c = prefixed(addr_server)
    c.create_bucket(Bucket="v2pre")
    c.create_bucket(Bucket="vkey")
    data = rand_bytes(70_000, seed=44)
    c.put_object(Bucket="v2pre", Key="a b", Body=data)
    c.put_object(Bucket="v2pre", Key="vkey", Body=b"the object v2pre/vkey")
    path_c = v2(addr_server.endpoint + PREFIX, "path")
    vhost_c = v2(f"http://{DOMAIN}:{addr_server.port}{PREFIX}", "virtual")
    for cl, where in ((path_c, f":{addr_server.port}{PREFIX}/v2pre/"),
                      (vhost_c, f"v2pre.{DOMAIN}:{addr_server.port}{PREFIX}/")):
        u = cl.generate_presigned_url("get_object", Params={"Bucket": "v2pre", "Key": "a b"})
        assert "AWSAccessKeyId=" in u and where in u, u
        r = requests.get(u, timeout=10)
        assert r.status_code == 200 and sha(r.content) == sha(data), r.text[:300]
        form = cl.generate_presigned_post("v2pre", "posted")
        r = requests.post(form["url"], data=form["fields"], files={"file": ("f", data)},
                          timeout=10)
        assert r.status_code == 204, r.text
        assert get_bytes(c, "v2pre", "posted") == data
        c.delete_object(Bucket="v2pre", Key="posted")
    hdr = v2(addr_server.endpoint + PREFIX, "path", signature_version="s3")
    assert get_bytes(hdr, "v2pre", "a b") == data
    hdr.put_object(Bucket="v2pre", Key="by-header", Body=b"h")
    assert get_bytes(c, "v2pre", "by-header") == b"h"
    # the replay: a presigned ListObjects of bucket "vkey", path style
    u = path_c.generate_presigned_url("list_objects", Params={"Bucket": "vkey"})
    assert requests.get(u, timeout=10).status_code == 200
    q = u.split("?", 1)[1]
    r = requests.get(f"http://v2pre.{DOMAIN}:{addr_server.port}{PREFIX}/vkey?{q}", timeout=10)
    assert_s3_error(r, 403, "SignatureDoesNotMatch")
    assert b"the object v2pre/vkey" not in r.content


def test_sigv2_resource_is_not_the_raw_virtual_host_path(fresh_server, resolve_test_domain):
    """Without a prefix: boto3 signs a bucket's resource as "/vkey/"; the same URL sent to
    host v2b.<domain> reads as the object v2b/"vkey/", a resource nobody signed."""
    from botocore.config import Config
    import boto3

    s = fresh_server(name="v2noprefix", extra_args=["--domain", PLAIN_DOMAIN])
    c = s.client()
    c.create_bucket(Bucket="vkey")
    c.create_bucket(Bucket="v2b")
    c.put_object(Bucket="v2b", Key="vkey/", Body=b"secret of v2b")
    v2 = boto3.client("s3", endpoint_url=s.endpoint, region_name=helpers.REGION,
                      aws_access_key_id=s.access_key, aws_secret_access_key=s.secret_key,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    u = v2.generate_presigned_url("list_objects", Params={"Bucket": "vkey"})
    assert "AWSAccessKeyId=" in u
    assert requests.get(u, timeout=10).status_code == 200
    q = u.split("?", 1)[1]
    for path in ("/vkey/", "/vkey"):
        r = requests.get(f"http://v2b.{PLAIN_DOMAIN}:{s.port}{path}?{q}", timeout=10)
        assert_s3_error(r, 403, "SignatureDoesNotMatch")
        assert b"secret of v2b" not in r.content


def test_sigv2_refused_for_the_bucket_named_like_the_prefix(addr_server):
    """Under --path-prefix /storage, "/storage/b/k" is the object b/k, and also the resource a
    SigV2 signer computes for the object "b/k" of a bucket named "storage": SigV2 requests for
    that bucket are refused (SigV4 signs the whole path and is not ambiguous)."""
    from botocore.config import Config
    import boto3

    c = prefixed(addr_server)
    name = PREFIX.strip("/")
    c.create_bucket(Bucket=name)
    c.put_object(Bucket=name, Key="b/k", Body=b"in the bucket named like the prefix")
    v2 = boto3.client("s3", endpoint_url=addr_server.endpoint + PREFIX, region_name=helpers.REGION,
                      aws_access_key_id=addr_server.access_key,
                      aws_secret_access_key=addr_server.secret_key,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    u = v2.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "b/k"})
    r = requests.get(u, timeout=10)
    assert_s3_error(r, 403, "AccessDenied")
    assert get_bytes(c, name, "b/k") == b"in the bucket named like the prefix"  # SigV4 reads it
    c.delete_object(Bucket=name, Key="b/k")
    c.delete_bucket(Bucket=name)
