"""HTTPS: `basalt server --certs-dir DIR` (MinIO's layout: DIR/public.crt, DIR/private.key,
DIR/NAME/ picked by SNI, DIR/CAs/ for peers), issue 16 item 4.

Every certificate is made here with the openssl command line, in the test's tmp folder: one
test CA signs the server's certificates (EC P-256, names localhost and 127.0.0.1..4); the
clients (curl, the aws CLI, boto3, rclone, the basalt CLI) trust that CA through their CA
bundle option. Refused: an expired, a wrong-host and a self-signed certificate, TLS 1.0 and
1.1, CBC ciphers. SIGHUP reloads the certificates while a transfer runs. A 4-node cluster runs
over https:// endpoints (node-to-node RPC verified against DIR/CAs/).
"""

import hashlib
import io
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import requests
import urllib3
from botocore.config import Config

import helpers
from cluster import Cluster, Node, _finish, _failed, host_of
from conftest import AwsCli
from helpers import BIN, REGION, TIME_SCALE, Server, rand_bytes, wait_until

MiB = 1024 * 1024
CURL = "/usr/bin/curl"
RCLONE = "/usr/bin/rclone"
NAMES = ["localhost"] + [f"127.0.0.{n}" for n in range(1, 5)]


def run(*cmd, env=None, check=True, timeout=60):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, env=env,
                       timeout=timeout * TIME_SCALE)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} -> {r.returncode}\n"
                             f"{r.stdout.decode(errors='replace')[-2000:]}\n"
                             f"{r.stderr.decode(errors='replace')[-2000:]}")
    return r


class Pki:
    """A test CA and the certificates it signs, made with the openssl CLI under `root`."""

    def __init__(self, root, name="Basalt Test CA"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ca_key = self.root / "ca.key"
        self.ca_crt = self.root / "ca.crt"
        self.n = 0
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", self.ca_key, "-out", self.ca_crt, "-days", "30",
            "-subj", f"/CN={name}")

    @staticmethod
    def _san(names):
        return "subjectAltName=" + ",".join(
            ("IP:" if n[0].isdigit() else "DNS:") + n for n in names)

    def leaf(self, folder, cn="localhost", names=NAMES, expired=False):
        """DIR/public.crt and DIR/private.key for `names`; `expired`: valid for two days in 2020."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.n += 1
        csr, ext = self.root / f"leaf{self.n}.csr", self.root / f"leaf{self.n}.ext"
        ext.write_text(self._san(names) + "\n")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", folder / "private.key", "-out", csr, "-subj", f"/CN={cn}")
        sign = ["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key,
                "-set_serial", str(1000 + self.n), "-out", folder / "public.crt",
                "-days", "2" if expired else "10", "-extfile", ext]
        if expired:
            if not shutil.which("faketime"):
                pytest.skip("faketime missing (scripts/install-deps.sh): no expired certificate")
            sign = ["faketime", "2020-01-01 00:00:00"] + sign
        run(*sign)
        return folder

    def self_signed(self, folder, names=NAMES):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", folder / "private.key", "-out", folder / "public.crt",
            "-days", "10", "-subj", "/CN=localhost", "-addext", self._san(names))
        return folder

    def certs_dir(self, folder, **kw):
        """A complete --certs-dir: a leaf and CAs/ca.crt."""
        folder = self.leaf(folder, **kw)
        (folder / "CAs").mkdir(exist_ok=True)
        shutil.copy(self.ca_crt, folder / "CAs" / "ca.crt")
        return folder


def fingerprint(pem_path):
    der = ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())
    return hashlib.sha256(der).hexdigest()


def served_cert(port, host="127.0.0.1", sni="localhost"):
    """SHA-256 of the DER certificate the server sends on a new connection (no verification)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=sni) as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


class TlsServer(Server):
    """A helpers.Server with --certs-dir, reached as https://localhost:PORT."""

    def __init__(self, root, certs, ca, **kw):
        self.certs = Path(certs)
        self.ca = Path(ca)
        super().__init__(root, extra_args=["--certs-dir", str(certs)], **kw)

    @property
    def endpoint(self):
        return f"https://localhost:{self.port}"

    def start(self, timeout=30):
        os.environ["REQUESTS_CA_BUNDLE"] = str(self.ca)  # helpers' health wait uses requests
        try:
            return super().start(timeout)
        finally:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)

    def start_unverified(self, timeout=30):
        """start() for a certificate no client accepts: the health wait does not verify."""
        get = requests.get
        requests.get = lambda url, **kw: get(url, **{**kw, "verify": False})
        try:
            urllib3.disable_warnings()
            return Server.start(self, timeout)
        finally:
            requests.get = get

    def s3(self, verify=None, endpoint=None):
        helpers.remember_secret(self.secret_key)
        return boto3.client(
            "s3", endpoint_url=endpoint or self.endpoint, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name=REGION,
            verify=str(self.ca) if verify is None else verify,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                          retries={"total_max_attempts": 1, "mode": "standard"},
                          connect_timeout=5, read_timeout=120 * TIME_SCALE))

    def sighup_and_wait(self, event):
        mark = self.log_text().count(event)
        self.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.log_text().count(event) > mark, 20 * TIME_SCALE,
                   what=f"'{event}' in the log after SIGHUP")


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path / "pki")


@pytest.fixture
def tls_server(tmp_path, pki):
    srv = TlsServer(tmp_path / "srv", pki.certs_dir(tmp_path / "certs"), pki.ca_crt)
    srv.start()
    yield srv
    srv.close()
    assert not srv.sanitizer_reports(), "\n".join(srv.sanitizer_reports())


def curl(srv, *args, check=True):
    return run(CURL, "-sS", "--aws-sigv4", f"aws:amz:{REGION}:s3",
               "--user", f"{srv.access_key}:{srv.secret_key}", *args, check=check)


def basalt_cli(srv, tmp_path, *args, check=True, ca=True):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BASALT_", "SSL_CERT", "CURL_CA"))}
    env.update(BASALT_ENDPOINT=srv.endpoint, BASALT_ACCESS_KEY=srv.access_key,
               BASALT_SECRET_KEY=srv.secret_key, BASALT_CONFIG_DIR=str(tmp_path / "cli"),
               BASALT_RETRIES="0")
    pre = ["--ca-bundle", str(srv.ca)] if ca is True else list(ca or [])
    return run(BIN, *pre, *args, env=env, check=check)


# ---------------------------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------------------------

def test_curl_with_ca_bundle(tls_server, tmp_path):
    data = rand_bytes(3 * MiB + 5, seed=1)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    url = f"{tls_server.endpoint}/curl-tls"
    ca = ["--cacert", str(tls_server.ca)]
    assert curl(tls_server, *ca, "-X", "PUT", "-o", "/dev/null", "-w", "%{http_code}",
                url).stdout == b"200"
    r = curl(tls_server, *ca, "-T", src, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
             "-o", "/dev/null", "-w", "%{http_code} %{scheme}", url + "/obj")
    assert r.stdout.decode().lower() == "200 https"
    assert curl(tls_server, *ca, url + "/obj").stdout == data
    # 127.0.0.1 is in the certificate too (an IP address SAN)
    r = curl(tls_server, *ca, f"https://127.0.0.1:{tls_server.port}/curl-tls/obj")
    assert hashlib.sha256(r.stdout).digest() == hashlib.sha256(data).digest()
    # without the CA: curl refuses (exit 60, the peer's certificate cannot be verified)
    r = curl(tls_server, url + "/obj", check=False)
    assert r.returncode == 60, r.stderr
    # plain HTTP to the HTTPS port gets no S3 answer
    r = run(CURL, "-sS", "-m", "5", f"http://localhost:{tls_server.port}/", check=False)
    assert b"ListAllMyBucketsResult" not in r.stdout and b"<Error>" not in r.stdout


def test_boto3_with_ca_bundle(tls_server):
    s3 = tls_server.s3()
    s3.create_bucket(Bucket="boto-tls")
    data = rand_bytes(9 * MiB + 3, seed=2)
    s3.put_object(Bucket="boto-tls", Key="k", Body=data)
    assert s3.get_object(Bucket="boto-tls", Key="k")["Body"].read() == data
    # multipart through the managed transfer
    big = rand_bytes(12 * MiB, seed=3)
    s3.upload_fileobj(io.BytesIO(big), "boto-tls", "mp",
                      Config=boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB,
                                                              multipart_chunksize=5 * MiB))
    assert s3.get_object(Bucket="boto-tls", Key="mp")["Body"].read() == big
    # the system's CAs (certifi's) do not know the test CA
    with pytest.raises(botocore.exceptions.SSLError):
        tls_server.s3(verify=True).list_buckets()


def test_aws_cli_with_ca_bundle(tls_server, tmp_path):
    aws = AwsCli(tls_server, tmp_path / "awshome")
    src = tmp_path / "f.bin"
    src.write_bytes(rand_bytes(2 * MiB, seed=4))
    ca = ["--ca-bundle", str(tls_server.ca)]
    aws("s3", "mb", "s3://aws-tls", *ca)
    aws("s3", "cp", str(src), "s3://aws-tls/f.bin", *ca)
    aws("s3", "cp", "s3://aws-tls/f.bin", str(tmp_path / "back.bin"), *ca)
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
    r = aws("s3", "ls", "s3://aws-tls", check=False)  # no CA: refused
    assert r.returncode != 0 and b"SSL" in r.stderr + r.stdout, r.stderr


def test_rclone_with_ca_cert(tls_server, tmp_path):
    if not os.path.exists(RCLONE):
        pytest.fail(f"{RCLONE} missing: run scripts/install-deps.sh (Debian package rclone)")
    home = tmp_path / "rclonehome"
    home.mkdir()
    conf = home / "rclone.conf"
    conf.write_text("[basalt]\ntype = s3\nprovider = Minio\n"
                    f"access_key_id = {tls_server.access_key}\n"
                    f"secret_access_key = {tls_server.secret_key}\n"
                    f"endpoint = {tls_server.endpoint}\nregion = {REGION}\n"
                    "force_path_style = true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"))
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"over TLS\n")
    (src / "sub" / "b.bin").write_bytes(rand_bytes(7 * MiB, seed=5))

    def rclone(*args, ca=True, check=True):
        pre = ["--ca-cert", str(tls_server.ca)] if ca else []
        return run(RCLONE, "--config", conf, "--retries", "1", "--low-level-retries", "1",
                   "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", *pre, *args,
                   env=env, check=check, timeout=180)

    rclone("mkdir", "basalt:rclone-tls")
    rclone("copy", src, "basalt:rclone-tls/t")
    rclone("check", src, "basalt:rclone-tls/t")
    r = rclone("lsf", "basalt:rclone-tls", ca=False, check=False)
    assert r.returncode != 0 and b"certificate" in r.stderr, r.stderr


def test_basalt_cli(tls_server, tmp_path):
    f = tmp_path / "x.txt"
    f.write_bytes(b"cli over tls\n")
    basalt_cli(tls_server, tmp_path, "mb", "local/cli-tls")
    basalt_cli(tls_server, tmp_path, "cp", str(f), "local/cli-tls/x.txt")
    assert basalt_cli(tls_server, tmp_path, "cat", "local/cli-tls/x.txt").stdout == f.read_bytes()
    r = basalt_cli(tls_server, tmp_path, "ls", "local/cli-tls", ca=False, check=False)
    assert r.returncode != 0 and b"--ca-bundle" in r.stderr, r.stderr
    r = basalt_cli(tls_server, tmp_path, "ls", "local/cli-tls", ca=["--insecure"])
    assert b"x.txt" in r.stdout


# ---------------------------------------------------------------------------------------------
# certificates clients must refuse
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["expired", "wrong-host", "self-signed"])
def test_bad_certificate_refused(tmp_path, pki, kind):
    certs = tmp_path / "certs"
    if kind == "expired":
        pki.leaf(certs, expired=True)
    elif kind == "wrong-host":
        pki.leaf(certs, cn="elsewhere.example", names=["elsewhere.example", "10.9.9.9"])
    else:
        pki.self_signed(certs)
    srv = TlsServer(tmp_path / "srv", certs, pki.ca_crt)
    try:
        # the server starts (an expired certificate is logged, not refused: it may be renewed
        # by a SIGHUP); health checked without verification
        srv.start_unverified()
        if kind == "expired":
            assert "tls_cert_expired" in srv.log_text()
        r = curl(srv, "--cacert", pki.ca_crt, f"{srv.endpoint}/", check=False)
        assert r.returncode == 60, (r.returncode, r.stderr)
        with pytest.raises(botocore.exceptions.SSLError):
            srv.s3().list_buckets()
        r = basalt_cli(srv, tmp_path, "ls", "local", check=False)
        assert r.returncode != 0 and b"--ca-bundle" in r.stderr, r.stderr
    finally:
        srv.close()




# ---------------------------------------------------------------------------------------------
# protocol versions, ciphers, SNI
# ---------------------------------------------------------------------------------------------

def s_client(port, *args, sni="localhost"):
    """openssl s_client's handshake summary: (negotiated protocol, cipher, subject line)."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        "-servername", sni, *args], input=b"", capture_output=True,
                       timeout=30 * TIME_SCALE)
    out = r.stdout.decode(errors="replace")
    proto = cipher = subject = None
    for ln in out.splitlines():
        ln = ln.strip()
        if ln.startswith("New, "):
            proto, _, cipher = ln[5:].partition(", Cipher is ")
        if ln.startswith("subject=") and subject is None:
            subject = ln
    return proto, cipher, subject


def test_tls_versions_and_ciphers(tls_server):
    port = tls_server.port
    proto, cipher, _ = s_client(port, "-tls1_3")
    assert proto == "TLSv1.3" and cipher.startswith("TLS_"), (proto, cipher)
    proto, cipher, _ = s_client(port, "-tls1_2")
    assert proto == "TLSv1.2" and ("GCM" in cipher or "CHACHA20" in cipher), (proto, cipher)
    # TLS 1.0 and 1.1 refused, also when the client offers them (security level 0)
    for v in ("-tls1", "-tls1_1"):
        proto, cipher, _ = s_client(port, v, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert cipher == "(NONE)", (v, proto, cipher)
    # CBC (non-AEAD) suites refused in TLS 1.2
    proto, cipher, _ = s_client(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256")
    assert cipher == "(NONE)", (proto, cipher)
    assert tls_server.alive()


def test_sni_picks_the_certificate(tmp_path, pki):
    certs = pki.certs_dir(tmp_path / "certs")
    pki.leaf(certs / "other", cn="other.test", names=["other.test", "*.other.test"])
    pki.leaf(certs / "third", cn="third.test", names=["third.test"])
    srv = TlsServer(tmp_path / "srv", certs, pki.ca_crt)
    srv.start()
    try:
        default = fingerprint(certs / "public.crt")
        assert served_cert(srv.port, sni="localhost") == default
        assert served_cert(srv.port, sni="other.test") == fingerprint(certs / "other/public.crt")
        assert served_cert(srv.port, sni="a.other.test") == fingerprint(
            certs / "other/public.crt")
        assert served_cert(srv.port, sni="third.test") == fingerprint(certs / "third/public.crt")
        assert served_cert(srv.port, sni="unknown.test") == default
        # a verifying client for the SNI name: resolve other.test to 127.0.0.1
        r = curl(srv, "--cacert", pki.ca_crt, "--resolve", f"other.test:{srv.port}:127.0.0.1",
                 "-o", "/dev/null", "-w", "%{http_code}", f"https://other.test:{srv.port}/")
        assert r.stdout == b"200"
    finally:
        srv.close()


# ---------------------------------------------------------------------------------------------
# reload on SIGHUP
# ---------------------------------------------------------------------------------------------

def test_reload_on_sighup_during_a_transfer(tls_server, pki, tmp_path):
    s3 = tls_server.s3()
    s3.create_bucket(Bucket="reload")
    data = rand_bytes(48 * MiB, seed=6)
    s3.put_object(Bucket="reload", Key="big", Body=data)
    old = served_cert(tls_server.port)
    assert old == fingerprint(tls_server.certs / "public.crt")

    # a slow GET on one connection: read a little, reload, read the rest
    resp = s3.get_object(Bucket="reload", Key="big")
    body = resp["Body"]
    h = hashlib.sha256(body.read(4 * MiB))
    new_dir = pki.leaf(tmp_path / "next")
    shutil.copy(new_dir / "public.crt", tls_server.certs / "public.crt")
    shutil.copy(new_dir / "private.key", tls_server.certs / "private.key")
    tls_server.sighup_and_wait("tls_reloaded")
    new = served_cert(tls_server.port)
    assert new == fingerprint(new_dir / "public.crt") and new != old
    while True:
        chunk = body.read(1 * MiB)
        if not chunk:
            break
        h.update(chunk)
        time.sleep(0.001)
    assert h.digest() == hashlib.sha256(data).digest()

    # a bad new file keeps the certificate in use and says why
    other = pki.leaf(tmp_path / "other")
    shutil.copy(other / "private.key", tls_server.certs / "private.key")  # not public.crt's key
    tls_server.sighup_and_wait("tls_reload_failed")
    assert "does not match the certificate" in tls_server.log_text()
    assert served_cert(tls_server.port) == new
    assert tls_server.s3().get_object(Bucket="reload", Key="big")["ContentLength"] == len(data)
    assert tls_server.alive()


# ---------------------------------------------------------------------------------------------
# start-up errors
# ---------------------------------------------------------------------------------------------

def start_fails(tmp_path, certs):
    port = helpers.free_port()
    r = run(BIN, "server", "--address", f"127.0.0.1:{port}", "--certs-dir", certs,
            *[tmp_path / f"d{i}" for i in range(4)], check=False, timeout=30)
    assert r.returncode != 0
    return r.stderr.decode() + r.stdout.decode()


def test_startup_errors(tmp_path, pki):
    certs = pki.certs_dir(tmp_path / "certs")
    key = (certs / "private.key").read_bytes()
    (certs / "private.key").unlink()
    msg = start_fails(tmp_path, certs)
    assert "private.key" in msg and "No such file" in msg, msg

    (certs / "private.key").mkdir()  # unreadable: a folder
    msg = start_fails(tmp_path, certs)
    assert "private.key" in msg and "directory" in msg, msg
    (certs / "private.key").rmdir()

    other = pki.leaf(tmp_path / "other")
    shutil.copy(other / "private.key", certs / "private.key")
    msg = start_fails(tmp_path, certs)
    assert "does not match the certificate" in msg, msg

    (certs / "private.key").write_bytes(key)
    (certs / "public.crt").write_text("not a certificate\n")
    msg = start_fails(tmp_path, certs)
    assert "public.crt" in msg and "not a PEM certificate" in msg, msg

    msg = start_fails(tmp_path, tmp_path / "nowhere")
    assert "public.crt" in msg and "No such file" in msg, msg


def test_env_certs_dir_and_plain_default(tmp_path, pki):
    certs = pki.certs_dir(tmp_path / "certs")
    srv = TlsServer(tmp_path / "srv", certs, pki.ca_crt)
    srv.extra_args = []
    env = srv.env
    srv.env = lambda: {**env(), "BASALT_CERTS_DIR": str(certs)}
    srv.start()
    try:
        assert srv.s3().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        srv.close()
    plain = Server(tmp_path / "plain")  # without --certs-dir: plain HTTP as before
    plain.start()
    try:
        assert requests.get(plain.endpoint + "/basalt/health/live", timeout=5).status_code == 200
    finally:
        plain.close()


# ---------------------------------------------------------------------------------------------
# a cluster over https:// endpoints
# ---------------------------------------------------------------------------------------------

class TlsNode(Node):
    @property
    def endpoint(self):
        return f"https://{self.host}:{self.port}"


class TlsCluster(Cluster):
    def __init__(self, root, certs, ca, **kw):
        self.ca = Path(ca)
        super().__init__(root, extra_args=["--certs-dir", str(certs)], **kw)
        self.nodes = [TlsNode(self, n) for n in range(1, self.nnodes + 1)]

    def urls(self):
        return [u.replace("http://", "https://", 1) for u in super().urls()]

    def client(self, n, **cfg):
        helpers.remember_secret(helpers.SECRET_KEY)
        return boto3.client(
            "s3", endpoint_url=self.endpoint(n), aws_access_key_id=helpers.ACCESS_KEY,
            aws_secret_access_key=helpers.SECRET_KEY, region_name=REGION, verify=str(self.ca),
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                          retries={"total_max_attempts": 1, "mode": "standard"},
                          read_timeout=120 * TIME_SCALE))


@pytest.fixture
def https_env(pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_crt))  # the harness's health checks


def test_cluster_over_https(tmp_path, pki, https_env, request):
    certs = pki.certs_dir(tmp_path / "certs")
    c = TlsCluster(tmp_path / "cl", certs, pki.ca_crt)
    try:
        c.start()
        c.wait_all_seen()
        s3 = {n: c.client(n) for n in c.all()}
        s3[1].create_bucket(Bucket="https-cluster")
        objs = {}
        for n in c.all():
            data = rand_bytes((n * 3 + 1) * MiB + n, seed=10 + n)
            s3[n].put_object(Bucket="https-cluster", Key=f"from-{n}", Body=data)
            objs[f"from-{n}"] = data
        for n in c.all():  # every object read through every other node
            for key, data in objs.items():
                if key != f"from-{n}":
                    got = s3[n].get_object(Bucket="https-cluster", Key=key)["Body"].read()
                    assert got == data, (n, key)
        # node-to-node calls went over TLS: a plain-HTTP RPC to a node gets nothing
        r = run(CURL, "-sS", "-m", "5", f"http://{host_of(2)}:{c.port}/basalt/health/live",
                check=False)
        assert r.returncode != 0 or b"200" not in r.stdout
    finally:
        _finish(c, _failed(request))


def test_cluster_scheme_must_match_certs_dir(tmp_path, pki):
    certs = pki.certs_dir(tmp_path / "certs")
    port = helpers.free_port()
    urls = [f"https://127.0.0.1:{port}{tmp_path}/d{i}" for i in range(1, 5)]
    r = run(BIN, "server", "--address", f"127.0.0.1:{port}", *urls, check=False)
    assert r.returncode != 0 and b"--certs-dir" in r.stderr + r.stdout, r.stderr
    plain = [u.replace("https://", "http://") for u in urls]
    r = run(BIN, "server", "--address", f"127.0.0.1:{port}", "--certs-dir", certs, *plain,
            check=False)
    assert r.returncode != 0 and b"https://" in r.stderr + r.stdout, r.stderr


# ---------------------------------------------------------------------------------------------
# rotating the cluster's CA: CAs/ reread on SIGHUP
# ---------------------------------------------------------------------------------------------

def sighup_node(nd, event):
    """SIGHUP node `nd`; waits for `event` in its log; returns the log written since."""
    mark = nd.log_mark()
    nd.proc.send_signal(signal.SIGHUP)
    out = []

    def seen():
        text, _ = nd.log_since(mark)
        out[:] = [text]
        return event in text
    wait_until(seen, 20 * TIME_SCALE, what=f"'{event}' in node {nd.n}'s log after SIGHUP")
    return out[0]


def drive_bytes(c, n):
    return sum(p.stat().st_size for j in range(1, c.ndrives + 1)
               for p in c.drive_folder(n, j).rglob("*") if p.is_file())


def test_cluster_ca_rotation(tmp_path, pki, request, monkeypatch):
    """Each node has its own --certs-dir (a CA 1 certificate, CAs/ holding CA 1). CA 2 is added
    to CAs/ of nodes 1-3 and every node gets SIGHUP (node 4 is the one the operator forgot);
    node 2 then serves a CA 2 certificate (SIGHUP). After a SIGHUP that makes every node verify
    its peers again, nodes 1 and 3 accept node 2 (a PUT through node 1 stores shards on node 2,
    a GET through node 3 reads them) and node 4 refuses it, until CA 2 is in its CAs/ too."""
    ca2 = Pki(tmp_path / "pki2", name="Basalt Test CA 2")
    bundle = tmp_path / "clients.pem"  # the S3 clients trust both
    bundle.write_text(pki.ca_crt.read_text() + ca2.ca_crt.read_text())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    certs = {n: pki.certs_dir(tmp_path / f"certs{n}") for n in range(1, 5)}
    c = TlsCluster(tmp_path / "cl", certs[1], bundle)
    for nd in c.nodes:
        nd.extra_args = ["--certs-dir", str(certs[nd.n])]
    try:
        c.start()
        c.wait_all_seen()
        s3 = {n: c.client(n) for n in c.all()}
        s3[1].create_bucket(Bucket="rotate")
        s3[1].put_object(Bucket="rotate", Key="before", Body=b"x" * 1000)

        # 1. CA 2 into CAs/ of nodes 1-3; SIGHUP every node
        for n in (1, 2, 3):
            shutil.copy(ca2.ca_crt, certs[n] / "CAs" / "ca2.crt")
        for nd in c.nodes:
            log = sighup_node(nd, "tls_cas_reloaded")
            want = "CAs/ reloaded: 1 certificates" if nd.n == 4 else "CAs/ reloaded: 2 certificates"
            assert want in log, log

        # a broken PEM in CAs/ is refused, naming the file; the CAs in use stay
        (certs[3] / "CAs" / "broken.crt").write_text(
            "-----BEGIN CERTIFICATE-----\nMIIBnotbase64!!\n-----END CERTIFICATE-----\n")
        log = sighup_node(c.node(3), "tls_cas_reload_failed")
        assert "broken.crt" in log and "not a PEM certificate" in log, log
        (certs[3] / "CAs" / "broken.crt").unlink()
        sighup_node(c.node(3), "tls_cas_reloaded")

        # 2. node 2 gets a CA 2 certificate
        new = ca2.leaf(tmp_path / "n2-ca2")
        shutil.copy(new / "public.crt", certs[2] / "public.crt")
        shutil.copy(new / "private.key", certs[2] / "private.key")
        sighup_node(c.node(2), "tls_reloaded")
        assert served_cert(c.port, host=host_of(2)) == fingerprint(new / "public.crt")

        # 3. SIGHUP nodes 1, 3, 4: their connections to peers are verified again
        marks = {n: c.node(n).log_mark() for n in c.all()}
        for n in (1, 3, 4):
            sighup_node(c.node(n), "tls_cas_reloaded")
        before = drive_bytes(c, 2)
        data = rand_bytes(4 * MiB + 7, seed=41)
        s3[1].put_object(Bucket="rotate", Key="after", Body=data)
        assert drive_bytes(c, 2) - before >= len(data) // 8, "node 1 wrote no shard on node 2"
        assert s3[3].get_object(Bucket="rotate", Key="after")["Body"].read() == data
        assert s3[3].get_object(Bucket="rotate", Key="before")["Body"].read() == b"x" * 1000

        # node 4 does not trust CA 2: its first call to node 2 is refused
        try:
            s3[4].get_object(Bucket="rotate", Key="after")["Body"].read()
        except botocore.exceptions.ClientError:
            pass  # whether the read survives one node's refusal is not the point
        refused = f"peer {host_of(2)}:{c.port} is offline: SSL certificate problem"
        wait_until(lambda: refused in c.node(4).log_since(marks[4])[0], 20 * TIME_SCALE,
                   what="node 4 refusing node 2's CA 2 certificate")
        for n in (1, 3):
            assert "SSL certificate problem" not in c.node(n).log_since(marks[n])[0], n

        # 4. CA 2 into node 4's CAs/ too: node 2 is back for it
        mark = c.node(4).log_mark()
        shutil.copy(ca2.ca_crt, certs[4] / "CAs" / "ca2.crt")
        sighup_node(c.node(4), "tls_cas_reloaded")
        wait_until(lambda: "rpc_peer_online" in c.node(4).log_since(mark)[0], 20 * TIME_SCALE,
                   what="node 4 finding node 2 again")
        assert s3[4].get_object(Bucket="rotate", Key="after")["Body"].read() == data
        assert not c.crashed()
    finally:
        _finish(c, _failed(request))
