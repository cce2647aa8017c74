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
from helpers import (Server, assert_s3_error, err_code, get_bytes, make_client, md5hex,
                     rand_bytes)

DOMAIN = "s3.basalt-e2e.test"
PREFIX = "/storage"


@pytest.fixture(scope="module")
def addr_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("addressing"), name="addressing",
               extra_args=["--domain", f"other.test,{DOMAIN}", "--path-prefix", PREFIX + "/"])
    s.start()
    yield s
    s.close()
    assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports()[:20])


@pytest.fixture
def resolve_test_domain(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if isinstance(host, str) and (host == DOMAIN or host.endswith("." + DOMAIN)):
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
