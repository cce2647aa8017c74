"""Helpers shared by the end-to-end tests: a server process, clients, a SigV4
signer of our own (so tests can forge every kind of bad request), raw sockets.

Everything here is bounded in time: no loop waits forever.
"""

import datetime
import hashlib
import hmac
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path
import xml.etree.ElementTree as ET

import boto3
import requests
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BASALT_BIN") or str(REPO / "build" / "basalt")
REGION = "us-east-1"
ACCESS_KEY = "e2eadmin"
SECRET_KEY = "e2e-secret-key-123"
DEV_KEY = "basaltadmin"
# The ASan build (make test-asan sets BASALT_SANITIZER=1) is about 3x slower:
# scale every wait. E2E_TIME_SCALE overrides.
TIME_SCALE = float(os.environ.get("E2E_TIME_SCALE")
                   or ("3" if os.environ.get("BASALT_SANITIZER") else "1"))

S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

PORT_LO, PORT_HI = 9300, 9399
_next_port = [PORT_LO + (os.getpid() % 50)]


def free_port():
    """A free TCP port in 9300-9399 (the range reserved for these tests)."""
    for _ in range(PORT_HI - PORT_LO + 1):
        p = _next_port[0]
        _next_port[0] = PORT_LO + ((p + 1 - PORT_LO) % (PORT_HI - PORT_LO + 1))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in 9300-9399")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def md5hex(data):
    return hashlib.md5(data).hexdigest()


def rand_bytes(n, seed=None):
    """Deterministic pseudo-random bytes (fast: repeat a random 64 KiB block
    with a per-block counter so that no two MiB-blocks are identical)."""
    rnd = random.Random(seed if seed is not None else n)
    base = rnd.randbytes(65536)
    out = bytearray()
    i = 0
    while len(out) < n:
        out += i.to_bytes(8, "little") + base[: 65536 - 8]
        i += 1
    return bytes(out[:n])


def wait_until(fn, timeout, interval=0.1, what="condition"):
    """Calls fn() until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - report the last error below
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# --------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------

LIVE_SERVERS = []
# Every server log of the run, and every secret the run made or used: conftest greps each log
# for each secret (and for signatures and tokens) when the session ends (issues 12 and 14).
ALL_LOGS = []
SECRETS = {SECRET_KEY}


def remember_secret(secret):
    """A secret (key, token) this run created: no server log line may contain it."""
    # the development credentials are public (and the same string is the access key)
    if secret and len(secret) >= 8 and secret != DEV_KEY:
        SECRETS.add(secret)
    return secret


class Server:
    """One `basalt server` over drive folders under `root`."""

    def __init__(self, root, ndrives=4, drives=None, region=None, sync=None,
                 creds=True, extra_args=(), port=None, name="srv"):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ndrives = ndrives
        self.drives = [Path(d) for d in drives] if drives else [
            self.root / f"d{i}" for i in range(1, ndrives + 1)]
        self.region = region
        self.sync = sync
        self.creds = creds
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self.name = name
        self.proc = None
        self.log_path = self.root / f"{name}.log"
        ALL_LOGS.append(self.log_path)
        self.starts = 0
        self.term_timeouts = []  # SIGTERMs that did not stop the server in time
        self.access_key = ACCESS_KEY if creds else DEV_KEY
        self.secret_key = SECRET_KEY if creds else DEV_KEY

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def args(self):
        a = [BIN, "server", "--address", f"127.0.0.1:{self.port}"]
        if self.region:
            a += ["--region", self.region]
        if self.sync is not None:
            a += [f"--sync={self.sync}"]
        a += self.extra_args
        a += [str(d) for d in self.drives]
        return a

    def env(self):
        env = dict(os.environ)
        env.pop("BASALT_ROOT_USER", None)
        env.pop("BASALT_ROOT_PASSWORD", None)
        if self.creds:
            env["BASALT_ROOT_USER"] = ACCESS_KEY
            env["BASALT_ROOT_PASSWORD"] = SECRET_KEY
        # ASan: report leaks at exit only if asked, never abort a test run on them.
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
        return env

    def start(self, timeout=30):
        if not Path(BIN).exists():
            raise AssertionError(f"server binary {BIN} not built (make build/basalt)")
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts}: {' '.join(self.args())}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env(),
                                     start_new_session=True)
        log.close()
        if self not in LIVE_SERVERS:
            LIVE_SERVERS.append(self)
        deadline = time.monotonic() + timeout * TIME_SCALE
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(
                    f"server exited with status {rc} during start-up:\n{self.log_tail()}")
            try:
                r = requests.get(self.endpoint + "/basalt/health/live", timeout=2)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"server not live after {timeout}s:\n{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace=10):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace * TIME_SCALE)
            except subprocess.TimeoutExpired:
                self.term_timeouts.append(self.log_tail(15))
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, timeout=30):
        self.stop()
        return self.start(timeout)

    def close(self):
        self.stop()
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)

    def sanitizer_reports(self):
        """Lines of AddressSanitizer / UBSan / LeakSanitizer reports in the log."""
        marks = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                 "WARNING: ThreadSanitizer")
        return [ln for ln in self.log_text().splitlines() if any(m in ln for m in marks)]

    def log_tail(self, n=60):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def client(self, **kw):
        return make_client(self.endpoint, self.access_key, self.secret_key, **kw)

    def admin(self, *args, timeout=120, check=True):
        env = dict(os.environ)
        env.update(BASALT_ENDPOINT=self.endpoint, BASALT_ACCESS_KEY=self.access_key,
                   BASALT_SECRET_KEY=self.secret_key)
        r = subprocess.run([BIN, "admin", *args], env=env, capture_output=True,
                           timeout=timeout * TIME_SCALE)
        if check and r.returncode != 0:
            raise AssertionError(f"basalt admin {' '.join(args)} -> {r.returncode}\n"
                                 f"stdout: {r.stdout.decode(errors='replace')}\n"
                                 f"stderr: {r.stderr.decode(errors='replace')}\n"
                                 f"server log:\n{self.log_tail(30)}")
        return r

    def heal(self, target=None):
        import json
        args = ["heal", "--json"] + ([target] if target else [])
        r = self.admin(*args)
        out = r.stdout.decode()
        # The JSON report is the last {...} of the output.
        start = out.find("{")
        assert start >= 0, f"no JSON in heal output: {out!r}"
        return json.loads(out[start:out.rfind("}") + 1])

    def tmp_leftovers(self):
        """Files under every drive's .basalt/tmp (should be none at rest)."""
        left = []
        for d in self.drives:
            t = d / ".basalt" / "tmp"
            if t.is_dir():
                for p in t.rglob("*"):
                    if p.is_file():
                        left.append(str(p))
        return left

    def wipe_drive(self, i):
        """Removes the contents of drive folder i (the folder itself stays)."""
        d = self.drives[i]
        for p in list(d.iterdir()) if d.exists() else []:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink()


def make_client(endpoint, ak, sk, region=REGION, **cfg):
    remember_secret(sk)
    conf = dict(s3={"addressing_style": "path"}, signature_version="s3v4",
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=5, read_timeout=120 * TIME_SCALE)
    conf.update(cfg)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak,
                        aws_secret_access_key=sk, region_name=region, config=Config(**conf))


def err_code(exc):
    """The S3 error Code of a botocore ClientError."""
    return exc.response.get("Error", {}).get("Code")


def http_status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def get_bytes(client, bucket, key, **kw):
    return client.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


# --------------------------------------------------------------------------
# SigV4, our own (checked against botocore in test_auth.py)
# --------------------------------------------------------------------------

UNSIGNED = "UNSIGNED-PAYLOAD"


def uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    if isinstance(s, str):
        s = s.encode()
    return urllib.parse.quote(s, safe=safe)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region=REGION, service="s3"):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_query(params):
    """params: list of (name, value) pairs, unencoded."""
    enc = sorted((uri_encode(k, False), uri_encode(v, False)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in enc)


def amz_now(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y%m%dT%H%M%SZ")


def sign_headers(method, host, path, query, headers, payload_hash, ak, sk,
                 amzdate=None, region=REGION, signed=None):
    """Returns the headers (a new dict) with x-amz-date, x-amz-content-sha256
    and Authorization for a request. `path` is the raw (unencoded) path, e.g.
    "/bucket/key"; `query` a list of (name, value) pairs. `signed`: names of the
    headers to sign (default: all given plus host and the x-amz ones)."""
    amzdate = amzdate or amz_now()
    date = amzdate[:8]
    h = {k.lower(): str(v) for k, v in headers.items()}
    h["host"] = host
    h["x-amz-date"] = amzdate
    h["x-amz-content-sha256"] = payload_hash
    names = sorted(signed if signed is not None else h.keys())
    canon_headers = "".join(f"{n}:{' '.join(h.get(n, '').split())}\n" for n in names)
    creq = "\n".join([method, uri_encode(path, True), canonical_query(query), canon_headers,
                      ";".join(names), payload_hash])
    scope = f"{date}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(sk, date, region), sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, "
                          f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return h


def presign(method, host, path, ak, sk, expires=3600, amzdate=None, region=REGION, query=()):
    """A presigned URL path+query (without scheme/host)."""
    amzdate = amzdate or amz_now()
    date = amzdate[:8]
    scope = f"{date}/{region}/s3/aws4_request"
    q = list(query) + [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                       ("X-Amz-Credential", f"{ak}/{scope}"),
                       ("X-Amz-Date", amzdate), ("X-Amz-Expires", str(expires)),
                       ("X-Amz-SignedHeaders", "host")]
    creq = "\n".join([method, uri_encode(path, True), canonical_query(q), f"host:{host}\n", "host",
                      UNSIGNED])
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(sk, date, region), sts.encode(), hashlib.sha256).hexdigest()
    q.append(("X-Amz-Signature", sig))
    return uri_encode(path, True) + "?" + canonical_query(q)


class Signed:
    """Signed raw requests with `requests` against one server."""

    def __init__(self, server, ak=None, sk=None):
        self.server = server
        self.ak = ak or server.access_key
        self.sk = remember_secret(sk or server.secret_key)
        self.host = f"127.0.0.1:{server.port}"

    def request(self, method, path, query=(), headers=None, body=b"", payload_hash=None,
                amzdate=None, signed=None, timeout=60, send_headers=None, stream=False):
        if payload_hash is None:
            payload_hash = sha(body) if isinstance(body, (bytes, bytearray)) else UNSIGNED
        h = sign_headers(method, self.host, path, list(query), headers or {}, payload_hash,
                         self.ak, self.sk, amzdate=amzdate, signed=signed)
        if send_headers is not None:  # tamper after signing
            h.update(send_headers)
        url = self.server.endpoint + uri_encode(path, True)
        if query:
            url += "?" + canonical_query(list(query))
        return requests.request(method, url, headers=h, data=body, timeout=timeout * TIME_SCALE,
                                stream=stream)

    def raw_headers(self, method, path, query=(), headers=None, payload_hash=UNSIGNED,
                    amzdate=None):
        """Signed request head (bytes) for a raw socket, without the blank line."""
        h = sign_headers(method, self.host, path, list(query), headers or {}, payload_hash,
                         self.ak, self.sk, amzdate=amzdate)
        target = uri_encode(path, True) + ("?" + canonical_query(list(query)) if query else "")
        lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in h.items()]
        return ("\r\n".join(lines) + "\r\n").encode()


def xml_error(resp_text):
    """(Code, Message, Resource, RequestId) of an S3 XML error body."""
    root = ET.fromstring(resp_text)
    assert root.tag == "Error", f"not an S3 error document: {resp_text[:300]!r}"
    return {c.tag: (c.text or "") for c in root}


def assert_s3_error(resp, status, code):
    body = resp.content
    assert resp.status_code == status, (
        f"expected {status} {code}, got {resp.status_code}: {body[:500]!r}")
    rid = resp.headers.get("x-amz-request-id")
    assert rid, f"no x-amz-request-id on {resp.status_code} response"
    if resp.request.method == "HEAD":
        return None
    e = xml_error(body)
    assert e.get("Code") == code, f"expected Code {code}, got {e}"
    assert "RequestId" in e and e["RequestId"] == rid, f"RequestId {e.get('RequestId')} != {rid}"
    return e


def recv_response(sock, timeout=30):
    """Reads one HTTP response (status, headers dict, body) from a raw socket."""
    sock.settimeout(timeout * TIME_SCALE)
    deadline = time.monotonic() + timeout * TIME_SCALE
    data = b""
    while b"\r\n\r\n" not in data:
        if time.monotonic() > deadline:
            raise socket.timeout(f"no complete response head after {timeout}s: {data[:200]!r}")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if status == 100:
        return status, hdrs, rest
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(rest) < n and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, hdrs, rest[:n]
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        while not rest.endswith(b"0\r\n\r\n") and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        body, buf = b"", rest
        while buf:
            ln, _, buf = buf.partition(b"\r\n")
            n = int(ln.split(b";")[0], 16)
            if n == 0:
                break
            body += buf[:n]
            buf = buf[n + 2:]
        return status, hdrs, body
    return status, hdrs, rest
