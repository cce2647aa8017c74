"""The `basalt` client's feel and the issue 13 cases test_cli.py does not cover: `help CMD`,
error lines that say what to do, --json errors, retries through a proxy that answers 503
SlowDown or drops connections, Ctrl-C in the middle of a multipart upload (aborted), a 300 MiB
`pipe` and back with bounded memory, `mirror` of 500 files and exactly the changes travelling,
`cp` between two servers, a full local disk on download, local paths that cannot be read or
written."""

import hashlib
import http.client
import http.server
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from helpers import BIN, TIME_SCALE, rand_bytes
from test_cli import Cli


@pytest.fixture
def cli(server, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return Cli(server, home)


# ---------------------------------------------------------------- a misbehaving proxy


class Proxy:
    """An HTTP proxy in front of a server: forwards each request as is (the Host header too, so
    signatures still verify) unless `decide(method, path_and_query, n)` says "503" (answers
    SlowDown), "drop" (closes the connection without an answer) or a float (seconds to wait
    before forwarding). Records (method, target, what) for every request."""

    def __init__(self, upstream_port, decide=None):
        self.upstream_port = upstream_port
        self.decide = decide or (lambda m, t, n: None)
        self.log = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                n_body = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n_body) if n_body else b""
                with proxy.lock:
                    n = len(proxy.log)
                    what = proxy.decide(self.command, self.path, n)
                    proxy.log.append((self.command, self.path, what))
                if what == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if what == "503":
                    doc = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                           b"<Message>Please reduce your request rate.</Message></Error>")
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(doc)))
                    self.end_headers()
                    self.wfile.write(doc)
                    return
                if isinstance(what, float):
                    time.sleep(what)
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                headers = {k: v for k, v in self.headers.items()}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status, r.reason)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, what=None, method=None, contains=None):
        with self.lock:
            return sum(1 for m, t, w in self.log
                       if (what is None or w == what) and (method is None or m == method) and
                       (contains is None or contains in t))


@pytest.fixture
def proxy(server):
    made = []

    def make(decide=None):
        p = Proxy(server.port, decide)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def via(server, p):
    return {"BASALT_ALIAS_p": f"http://{server.access_key}:{server.secret_key}"
                              f"@127.0.0.1:{p.port}"}


# ---------------------------------------------------------------- help, hints, --json errors


def test_help_cmd_is_cmd_help(cli):
    for c in ("cp", "mirror", "pipe", "alias", "version"):
        assert cli.out("help", c) == cli.out(c, "--help"), c
    assert cli.out("help", "admin", "user") == cli.out("admin", "user", "--help")
    assert "help" in cli.out("help")
    r = cli("help", "nosuchcmd", ok=False)
    assert r.returncode == 2 and b"unknown command" in r.stderr


def test_error_hints(cli, server, bucket):
    err = cli.fail("ls", "t/no-such-bucket-hint")
    assert err.startswith("basalt: ls: t/no-such-bucket-hint: NoSuchBucket: ")
    assert "create it with `basalt mb t/no-such-bucket-hint`" in err
    env = {"BASALT_ALIAS_w": f"http://{server.access_key}:wrong-secret@127.0.0.1:{server.port}"}
    err = cli.fail("ls", f"w/{bucket}", env=env)
    assert err.startswith(f"basalt: ls: w/{bucket}: SignatureDoesNotMatch: "), err
    assert "check the secret key of alias w (`basalt alias list w`)" in err
    env = {"BASALT_ALIAS_w": f"http://nobody:wrong-secret@127.0.0.1:{server.port}"}
    err = cli.fail("ls", f"w/{bucket}", env=env)
    assert "InvalidAccessKeyId" in err and "check the access key of alias w" in err
    env = {"BASALT_ALIAS_d": "http://a:b@127.0.0.1:9", "BASALT_RETRIES": "0"}
    err = cli.fail("ls", "d/b", env=env)
    assert err == ("basalt: ls: d/b: cannot reach http://127.0.0.1:9: Connection refused: "
                   "is the server running at http://127.0.0.1:9?\n"), err


def test_json_errors_on_stdout(cli, bucket):
    r = cli("cat", "t/no-such-bucket-json/k", "--json", ok=False)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["status"] == "error" and doc["error"]["code"] == "NoSuchBucket"
    assert "basalt mb t/no-such-bucket-json" in doc["error"]["message"]
    assert doc["error"]["target"] == "t/no-such-bucket-json/k"
    assert r.stderr.decode().startswith("basalt: cat: t/no-such-bucket-json/k: NoSuchBucket")
    r = cli("stat", f"t/{bucket}/nope", "--json", ok=False)
    assert json.loads(r.stdout)["error"]["code"] == "NoSuchKey"
    r = cli("ls", "d/b", "--json", ok=False,
            env={"BASALT_ALIAS_d": "http://a:b@127.0.0.1:9", "BASALT_RETRIES": "0"})
    assert json.loads(r.stdout)["error"]["code"] == "ConnectionFailed"
    r = cli("cp", str(cli.home / "missing"), f"t/{bucket}/k", "--json", ok=False)
    assert json.loads(r.stdout)["error"]["code"] == "LocalError"


def test_local_paths_that_cannot_be_read_or_written(cli, bucket, tmp_path):
    err = cli.fail("cp", str(tmp_path / "missing.txt"), f"t/{bucket}/k")
    assert f"cannot open {tmp_path}/missing.txt: No such file or directory" in err
    cli("pipe", f"t/{bucket}/k", input=b"data")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    err = cli.fail("cp", f"t/{bucket}/k", str(blocker / "sub" / "k"))
    assert f"cannot create folder {blocker}/sub: Not a directory" in err, err
    err = cli.fail("cp", f"t/{bucket}/k", str(blocker / "k"))
    assert "cannot create a file in the folder of" in err and "Not a directory" in err, err
    r = cli("env", ok=False, env={"BASALT_RETRIES": "many"})  # unknown command: usage
    assert r.returncode == 2
    err = cli.fail("ls", f"t/{bucket}", env={"BASALT_RETRIES": "many"})
    assert "BASALT_RETRIES='many'" in err


# ---------------------------------------------------------------- retries


def test_retries_on_slowdown_and_dropped_connections(cli, server, bucket, proxy, tmp_path, s3):
    # the first 3 requests get 503, then every 4th UploadPart, and the first GET is dropped
    state = {"gets": 0}

    def decide(method, target, n):
        if n < 3:
            return "503"
        if method == "PUT" and "partNumber=" in target and n % 4 == 0:
            return "503"
        if method == "GET" and "/big" in target:
            state["gets"] += 1
            if state["gets"] == 1:
                return "drop"
        return None

    p = proxy(decide)
    env = via(server, p)
    data = rand_bytes(23 << 20, seed=13)
    src = tmp_path / "big"
    src.write_bytes(data)
    out = cli.json("cp", "--part-size", "5M", "--parallel", "2", str(src), f"p/{bucket}/big",
                   env=env)
    assert out[-1]["size"] == len(data)
    assert p.count("503") >= 4, p.log  # 3 first + at least one UploadPart
    retried_parts = p.count("503", "PUT", "partNumber=")
    assert retried_parts >= 1
    # every part arrived once it was retried: the object is whole
    assert hashlib.sha256(s3.get_object(Bucket=bucket, Key="big")["Body"].read()).digest() == \
        hashlib.sha256(data).digest()
    dst = tmp_path / "back"
    cli("cp", f"p/{bucket}/big", str(dst), env=env)
    assert p.count("drop") == 1
    assert dst.read_bytes() == data


def test_retries_are_bounded(cli, server, bucket, proxy):
    p = proxy(lambda m, t, n: "503")
    t0 = time.monotonic()
    err = cli.fail("ls", f"p/{bucket}", env={**via(server, p), "BASALT_RETRIES": "2"})
    assert err.startswith(f"basalt: ls: p/{bucket}: SlowDown: "), err
    assert p.count() == 3  # one try and two retries
    p2 = proxy(lambda m, t, n: "503")
    err = cli.fail("ls", f"p/{bucket}", env={**via(server, p2), "BASALT_RETRY_MAX_TIME": "1s"})
    assert time.monotonic() - t0 < 10 * TIME_SCALE
    assert 1 <= p2.count() <= 6


def test_not_retried_when_not_idempotent_and_dropped(cli, server, bucket, proxy, tmp_path):
    # CreateMultipartUpload (a POST) whose connection drops is not sent again
    p = proxy(lambda m, t, n: "drop" if m == "POST" and "uploads" in t else None)
    src = tmp_path / "f"
    src.write_bytes(rand_bytes(12 << 20, seed=3))
    err = cli.fail("cp", "--part-size", "5M", str(src), f"p/{bucket}/f", env=via(server, p))
    assert "cannot reach" in err
    assert p.count("drop") == 1


def test_admin_calls_retried_where_safe(cli, server, proxy, tmp_path):
    # issue 13: `basalt admin` is retried like the S3 commands. 503 SlowDown (the server did
    # nothing): any admin call is sent again, a user add (PUT) too
    p = proxy(lambda m, t, n: "503" if n < 2 else None)
    cli("admin", "user", "add", "p", "retry-u1", "retry-secret-1", env=via(server, p))
    assert [w for _, _, w in p.log] == ["503", "503", None], p.log
    # a dropped connection: a read and an idempotent write (PUT policies/NAME creates or
    # replaces) are sent again...
    p = proxy(lambda m, t, n: "drop" if n == 0 else None)
    assert "retry-u1" in cli.out("admin", "user", "list", "p", env=via(server, p))
    assert p.count() == 2 and p.count("drop") == 1, p.log
    pol = tmp_path / "pol.json"
    pol.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::x/*"]}]}))
    p = proxy(lambda m, t, n: "drop" if n == 0 else None)
    cli("admin", "policy", "create", "p", "retry-pol", str(pol), env=via(server, p))
    assert p.count() == 2 and p.count("drop") == 1, p.log
    # ...a user add is not (a second one would answer EntityAlreadyExists), nor a remove
    p = proxy(lambda m, t, n: "drop" if m in ("PUT", "DELETE") else None)
    err = cli.fail("admin", "user", "add", "p", "retry-u2", "retry-secret-2", env=via(server, p))
    assert "cannot reach" in err and p.count() == 1, (err, p.log)
    err = cli.fail("admin", "user", "remove", "p", "retry-u1", env=via(server, p))
    assert "cannot reach" in err and p.count() == 2, (err, p.log)


# ---------------------------------------------------------------- Ctrl-C


def test_ctrl_c_aborts_multipart_upload(cli, server, bucket, proxy, tmp_path, s3):
    # every UploadPart waits 0.3 s in the proxy: the upload takes long enough to interrupt
    p = proxy(lambda m, t, n: 0.3 if "partNumber=" in t else None)
    src = tmp_path / "big"
    src.write_bytes(rand_bytes(60 << 20, seed=5))
    proc = subprocess.Popen([BIN, "cp", "--part-size", "5M", "--parallel", "2", str(src),
                             f"p/{bucket}/interrupted"],
                            env={**cli.env, **via(server, p)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60 * TIME_SCALE
    while p.count(contains="partNumber=") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the upload ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60 * TIME_SCALE)
    err = err.decode()
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.count("\n") == 1, err
    assert err.startswith(f"basalt: cp: {src}: interrupted (Ctrl-C): the multipart upload "), err
    assert err.rstrip().endswith("was aborted, nothing was stored"), err
    assert p.count(method="DELETE", contains="uploadId=") == 1
    ups = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u for u in ups if u["Key"] == "interrupted"] == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="interrupted")


def test_ctrl_c_aborts_pipe(cli, server, bucket, proxy, s3):
    p = proxy(lambda m, t, n: 0.3 if "partNumber=" in t else None)
    proc = subprocess.Popen([BIN, "pipe", "--part-size", "5M", f"p/{bucket}/piped"],
                            env={**cli.env, **via(server, p)}, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunk = rand_bytes(1 << 20, seed=9)
    for _ in range(12):  # two parts and some: the upload is under way
        proc.stdin.write(chunk)
    proc.stdin.flush()
    deadline = time.monotonic() + 60 * TIME_SCALE
    while p.count(contains="partNumber=") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.stdin.close()  # the producer goes away too, as with a Ctrl-C in a shell pipeline
    proc.wait(timeout=60 * TIME_SCALE)
    err = proc.stderr.read().decode()
    assert proc.returncode == 130, (proc.returncode, err)
    assert "interrupted (Ctrl-C): the multipart upload" in err and "was aborted" in err, err
    ups = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u for u in ups if u["Key"] == "piped"] == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="piped")


# ---------------------------------------------------------------- 300 MiB pipe, bounded memory


def _blocks(total, seed):
    h = hashlib.sha256(seed)
    block = b""
    sent = 0
    while sent < total:
        h.update(block[:32])
        block = (h.digest() * ((1 << 20) // 32))[: min(1 << 20, total - sent)]
        sent += len(block)
        yield block


def _run_measured(args, env, tmp_path, stdin_blocks=None, stdout_sink=None):
    """Runs the client under /usr/bin/time; returns (exit status, max RSS in KiB, stderr,
    stdout). (The rusage of a child forked from this large Python process would count the
    pages it had before exec.)"""
    rss_file = tmp_path / "rss"
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), BIN, *args],
                            env=env, stdin=subprocess.PIPE if stdin_blocks else None,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errs = []
    t = threading.Thread(target=lambda: errs.append(proc.stderr.read()), daemon=True)
    t.start()
    if stdin_blocks:
        def feed():
            for b in stdin_blocks:
                proc.stdin.write(b)
            proc.stdin.close()
        threading.Thread(target=feed, daemon=True).start()
    out = []
    while True:
        b = proc.stdout.read(1 << 20)
        if not b:
            break
        if stdout_sink:
            stdout_sink(b)
        else:
            out.append(b)
    proc.wait()
    t.join()
    return proc.returncode, int(rss_file.read_text().split()[-1]), errs[0].decode(), b"".join(out)


@pytest.mark.skipif(not os.path.exists("/usr/bin/time"), reason="no /usr/bin/time to measure RSS")
def test_pipe_300mib_and_back_bounded_memory(cli, bucket, tmp_path):
    total = 300 << 20
    want = hashlib.sha256()
    blocks = list(_blocks(4 << 20, b"seed"))  # 4 MiB of distinct blocks, repeated

    def gen():
        sent = 0
        i = 0
        while sent < total:
            b = blocks[i % len(blocks)]
            i += 1
            want.update(b)
            sent += len(b)
            yield b

    rc, up_rss, err, out = _run_measured(["pipe", "--json", f"t/{bucket}/big.bin"], cli.env,
                                         tmp_path, stdin_blocks=gen())
    assert rc == 0, err
    assert json.loads(out)["size"] == total
    got = hashlib.sha256()
    rc, down_rss, err, _ = _run_measured(["cat", f"t/{bucket}/big.bin"], cli.env, tmp_path,
                                         stdout_sink=got.update)
    assert rc == 0, err
    assert got.hexdigest() == want.hexdigest()
    print(f"\npipe 300 MiB: client max RSS {up_rss / 1024:.1f} MiB; "
          f"cat 300 MiB: {down_rss / 1024:.1f} MiB")
    # one 16 MiB part in memory while piping, a few buffers while reading
    assert up_rss < 64 * 1024, up_rss
    assert down_rss < 32 * 1024, down_rss


# ---------------------------------------------------------------- mirror of 500 files


def test_mirror_500_then_exactly_the_changes(cli, bucket, tmp_path):
    root = tmp_path / "tree"
    names = [f"d{i % 7}/s{i % 3}/f{i:03}.txt" for i in range(500)]
    for i, n in enumerate(names):
        f = root / n
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(f"file {i}\n".encode() * (1 + i % 5))
    out = cli.json("mirror", str(root), f"t/{bucket}/tree")
    assert sorted(o["action"] for o in out) == ["copied"] * 500
    assert len(cli.json("ls", "-r", f"t/{bucket}/tree")) == 500

    changed = names[10:20]
    removed = names[100:105]
    for n in changed:
        (root / n).write_bytes(b"changed, and longer than before: " + n.encode())
    for n in removed:
        (root / n).unlink()
    out = cli.json("mirror", "--overwrite", "--remove", str(root), f"t/{bucket}/tree")
    acts = {}
    for o in out:
        acts.setdefault(o["action"], []).append(o["target"])
    assert set(acts) == {"replaced", "removed"}, acts
    assert sorted(acts["replaced"]) == sorted(f"t/{bucket}/tree/{n}" for n in changed)
    assert sorted(acts["removed"]) == sorted(f"t/{bucket}/tree/{n}" for n in removed)
    assert len(cli.json("ls", "-r", f"t/{bucket}/tree")) == 495
    assert cli.json("mirror", "--overwrite", "--remove", str(root), f"t/{bucket}/tree") == []
    back = tmp_path / "back"
    cli("mirror", f"t/{bucket}/tree", str(back))
    for n in changed:
        assert (back / n).read_bytes() == (root / n).read_bytes()


# ---------------------------------------------------------------- cp between two servers


def test_cp_between_two_aliases(cli, bucket, fresh_server, s3, tmp_path):
    other = fresh_server()
    cli.env["BASALT_ALIAS_u"] = (f"http://{other.access_key}:{other.secret_key}"
                                 f"@127.0.0.1:{other.port}")
    small = b"small object\n" * 10
    big = rand_bytes(21 << 20, seed=21)
    s3.put_object(Bucket=bucket, Key="dir/small.txt", Body=small,
                  Metadata={"team": "web"}, ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="dir/big.bin", Body=big)
    cli("mb", "u/dest")
    out = cli.json("cp", f"t/{bucket}/dir/small.txt", "u/dest/copied.txt")
    assert out == [{"status": "success", "source": f"t/{bucket}/dir/small.txt",
                    "target": "u/dest/copied.txt", "size": len(small)}]
    out = cli.json("cp", "-r", "--part-size", "5M", f"t/{bucket}/dir/", "u/dest/tree/")
    assert sorted(o["target"] for o in out) == ["u/dest/tree/big.bin", "u/dest/tree/small.txt"]
    o = other.client()
    assert o.get_object(Bucket="dest", Key="copied.txt")["Body"].read() == small
    got = o.get_object(Bucket="dest", Key="tree/big.bin")
    assert got["Body"].read() == big
    assert "-" in got["ETag"]  # it went up as a multipart upload
    h = o.head_object(Bucket="dest", Key="tree/small.txt")
    assert h["Metadata"].get("team") == "web" and h["ContentType"] == "text/plain"


# ---------------------------------------------------------------- full disk


def test_full_disk_download_leaves_no_file(cli, bucket, s3, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs (needs root): {r.stderr.strip()}")
    try:
        s3.put_object(Bucket=bucket, Key="three-mib", Body=rand_bytes(3 << 20, seed=1))
        (mnt / "keep.txt").write_text("old")
        err = cli.fail("cp", f"t/{bucket}/three-mib", str(mnt / "keep.txt"))
        assert "No space left on device" in err and "the partial download was removed" in err
        assert (mnt / "keep.txt").read_text() == "old"  # the old file is untouched
        err = cli.fail("cp", f"t/{bucket}/three-mib", str(mnt / "new.bin"))
        assert "No space left on device" in err
        assert sorted(os.listdir(mnt)) == ["keep.txt"]  # no partial file, no temporary
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
