"""Audit records (issue 14): one JSON line per request to stdout, a file (reopened on SIGHUP) and
a Loki push webhook (batched, gzip, retried, bounded queue), with the client address behind
trusted proxies, and never a secret."""
import gzip
import http.server
import json
import os
import re
import signal
import threading
import time

import pytest
import requests

from helpers import Signed, free_port, make_client, wait_until


def audit_lines(path):
    if not os.path.exists(path):
        return []
    return [json.loads(ln) for ln in open(path) if ln.strip()]


def metric_value(server, name, labels):
    r = Signed(server).request("GET", "/basalt/v1/metrics/node")
    assert r.status_code == 200, r.text[:300]
    for ln in r.text.splitlines():
        if (ln.startswith(name + "{") or ln.startswith(name + " ")) and \
                all(f'{k}="{v}"' in ln for k, v in labels.items()):
            return float(ln.rsplit(" ", 1)[1])
    return None


def test_file_records_every_request_with_its_fields(fresh_server, tmp_path):
    path = tmp_path / "audit.log"
    srv = fresh_server(extra_args=["--audit-file", str(path)])
    c = srv.client()
    c.create_bucket(Bucket="aud")
    put = c.put_object(Bucket="aud", Key="dir/k.bin", Body=b"x" * 1000)
    got = c.get_object(Bucket="aud", Key="dir/k.bin")["Body"].read()
    assert got == b"x" * 1000
    with pytest.raises(Exception):
        c.get_object(Bucket="aud", Key="missing")
    c.list_objects_v2(Bucket="aud")
    c.delete_object(Bucket="aud", Key="dir/k.bin")
    r = requests.get(f"{srv.endpoint}/aud/anon", headers={"User-Agent": "audit-test/1"})
    assert r.status_code == 403
    assert requests.get(f"{srv.endpoint}/basalt/health/live").status_code == 200

    want = 7  # create, put, get, get missing, list, delete, anonymous get; not the health check
    wait_until(lambda: len(audit_lines(path)) >= want, 10, what="audit lines in the file")
    time.sleep(0.5)
    recs = audit_lines(path)
    assert len(recs) == want, recs
    by_api = {}
    for rec in recs:
        assert rec["event"] == "audit" and rec["node"] and re.match(r"\d{4}-\d\d-\d\dT", rec["time"])
        assert rec["remote"] == "127.0.0.1"
        by_api.setdefault(rec["api"], []).append(rec)
    assert "Health" not in by_api
    p = by_api["PutObject"][0]
    assert (p["class"], p["bucket"], p["object"], p["status"]) == ("write", "aud", "dir/k.bin", 200)
    assert p["bytes_in"] == 1000 and p["access_key"] == srv.access_key
    assert p["request_id"] == put["ResponseMetadata"]["RequestId"]
    assert p["duration_ms"] >= p.get("ttfb_ms", 0) >= 0
    gets = by_api["GetObject"]
    ok = [g for g in gets if g["status"] == 200][0]
    assert ok["class"] == "read" and ok["bytes_out"] == 1000
    miss = [g for g in gets if g["status"] == 404][0]
    assert miss["error_code"] == "NoSuchKey"
    assert by_api["ListObjectsV2"][0]["class"] == "list"
    assert by_api["DeleteObject"][0]["class"] == "delete"
    anon = [g for g in gets if g["status"] == 403][0]
    assert "access_key" not in anon and anon["user_agent"] == "audit-test/1"
    assert anon["error_code"] == "AccessDenied"
    text = path.read_text()
    assert srv.secret_key not in text and "Signature=" not in text and "Credential=" not in text


def test_file_reopened_on_sighup(fresh_server, tmp_path):
    path = tmp_path / "audit.log"
    srv = fresh_server(extra_args=["--audit-file", str(path)])
    c = srv.client()
    c.create_bucket(Bucket="rot")
    wait_until(lambda: len(audit_lines(path)) >= 1, 10, what="first line")
    os.rename(path, tmp_path / "audit.log.1")  # logrotate's move
    c.put_object(Bucket="rot", Key="a", Body=b"1")  # still goes to the moved file
    wait_until(lambda: len(audit_lines(tmp_path / "audit.log.1")) >= 2, 10, what="moved file")
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    c.put_object(Bucket="rot", Key="b", Body=b"2")
    c.put_object(Bucket="rot", Key="c", Body=b"3")
    # the audit thread writes on its own time: wait for the last record, not just any
    wait_until(lambda: "c" in [r.get("object") for r in audit_lines(path)], 10,
               what="the last record in the reopened file")
    assert srv.alive()
    keys = [r.get("object") for r in audit_lines(path)]
    assert "a" not in keys


def test_stdout_records_and_health_only_when_asked(fresh_server):
    srv = fresh_server(extra_args=["--audit-stdout", "--audit-health"])
    srv.client().list_buckets()
    requests.get(f"{srv.endpoint}/basalt/health/ready")

    def lines():
        return [json.loads(ln) for ln in srv.log_text().splitlines()
                if ln.startswith("{") and '"event":"audit"' in ln]
    wait_until(lambda: len(lines()) >= 2, 10, what="audit lines on stdout")
    apis = [r["api"] for r in lines()]
    assert "ListBuckets" in apis and "Health" in apis


class Loki:
    """A Loki push receiver: checks the format, keeps the lines; `fail` makes it answer 500."""

    def __init__(self, port):
        self.port, self.lines, self.fail, self.bad = port, [], False, []
        loki = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if loki.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    assert self.path == "/loki/api/v1/push", self.path
                    assert self.headers["Content-Encoding"] == "gzip"
                    assert self.headers["Content-Type"] == "application/json"
                    doc = json.loads(gzip.decompress(body))
                    for st in doc["streams"]:
                        assert st["stream"]["job"] == "basalt-audit" and st["stream"]["node"]
                        for ts, line in st["values"]:
                            assert ts.isdigit() and len(ts) >= 19
                            loki.lines.append(json.loads(line))
                except Exception as e:  # noqa: BLE001 - reported by the test
                    loki.bad.append(repr(e))
                self.send_response(204)
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.t = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.t.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_webhook_pushes_to_loki_and_loses_nothing_across_a_restart(fresh_server):
    port = free_port()
    loki = Loki(port)
    srv = fresh_server(extra_args=["--audit-webhook", f"http://127.0.0.1:{port}"])
    c = srv.client()
    c.create_bucket(Bucket="hook")
    for i in range(20):
        c.put_object(Bucket="hook", Key=f"k{i}", Body=b"v")
    wait_until(lambda: len(loki.lines) >= 21, 15, what="21 lines at the receiver")
    assert not loki.bad, loki.bad
    loki.stop()
    for i in range(30):  # receiver down: queued, retried
        c.put_object(Bucket="hook", Key=f"down{i}", Body=b"v")
    time.sleep(1.5)
    loki = Loki(port)  # back on the same port
    loki.fail = True   # answering 500 for a while: still retried
    time.sleep(1.5)
    loki.fail = False
    wait_until(lambda: len(loki.lines) >= 30, 60, what="the 30 lines held while it was down")
    keys = sorted(r["object"] for r in loki.lines if r.get("api") == "PutObject")
    assert keys == sorted(f"down{i}" for i in range(30))
    assert metric_value(srv, "basalt_audit_records_total", {"outcome": "dropped"}) == 0
    loki.stop()


def test_webhook_down_never_slows_requests_and_overflow_is_counted(fresh_server):
    dead = free_port()  # nothing listens
    srv = fresh_server(extra_args=["--audit-webhook", f"http://127.0.0.1:{dead}",
                                   "--audit-queue", "10"])
    c = srv.client()
    c.create_bucket(Bucket="full")
    t0 = time.monotonic()
    for i in range(60):
        c.put_object(Bucket="full", Key=f"k{i}", Body=b"v")
    assert time.monotonic() - t0 < 30
    dropped = metric_value(srv, "basalt_audit_records_total", {"outcome": "dropped"})
    queued = metric_value(srv, "basalt_audit_queued_records", {})
    # 61 records (and the scrapes') while nothing is delivered: 10 held, the rest dropped
    assert queued == 10
    assert dropped >= 51
    wait_until(lambda: "audit_dropped" in srv.log_text(), 5, what="the drop warning")


def test_trusted_proxy_forwards_the_client_address(fresh_server, tmp_path):
    path = tmp_path / "audit.log"
    srv = fresh_server(extra_args=["--audit-file", str(path), "--trusted-proxies",
                                   "127.0.0.1/32"])
    c = srv.client()
    c.create_bucket(Bucket="prox")
    c.put_object(Bucket="prox", Key="k", Body=b"v")
    c.put_bucket_policy(Bucket="prox", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::prox/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}))
    url = f"{srv.endpoint}/prox/k"
    # through the trusted proxy (loopback): the forwarded client is in the allowed range
    r = requests.get(url, headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
    assert r.status_code == 200 and r.content == b"v"
    r = requests.get(url, headers={"X-Real-IP": "203.0.113.8"})
    assert r.status_code == 200
    r = requests.get(url, headers={"X-Forwarded-For": "198.51.100.9"})
    assert r.status_code == 403
    r = requests.get(url)
    assert r.status_code == 403
    wait_until(lambda: len(audit_lines(path)) >= 7, 10, what="audit lines")
    recs = [x for x in audit_lines(path) if x["api"] == "GetObject"]
    assert [x["remote"] for x in recs] == ["203.0.113.7", "203.0.113.8", "198.51.100.9",
                                           "127.0.0.1"]
    assert recs[0]["forwarded_for"] == "198.51.100.9, 203.0.113.7"


def test_forwarded_client_cannot_be_spoofed_through_the_proxy(fresh_server, tmp_path):
    """Behind a trusted proxy the client is the right-most untrusted entry of
    every X-Forwarded-For line, however many entries a client sends before
    it (no cap drops the proxy's own), a later line wins over an earlier
    one (a proxy may add its own line), and text that is no address names
    no client (the proxy stays the client)."""
    import http.client
    path = tmp_path / "audit.log"
    srv = fresh_server(extra_args=["--audit-file", str(path), "--trusted-proxies",
                                   "127.0.0.1/32"])
    c = srv.client()
    c.create_bucket(Bucket="spoof")
    c.put_object(Bucket="spoof", Key="k", Body=b"v")
    c.put_bucket_policy(Bucket="spoof", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::spoof/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}))

    def get(*xff):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.putrequest("GET", "/spoof/k")
        for v in xff:
            conn.putheader("X-Forwarded-For", v)
        conn.endheaders()
        st = conn.getresponse().status
        conn.close()
        return st

    # 40 allowed addresses chosen by the client, then the one the proxy appended
    assert get(", ".join(["203.0.113.5"] * 40) + ", 198.51.100.9") == 403
    # the client's own line first, the proxy's line after it
    assert get("203.0.113.7", "198.51.100.9") == 403
    assert get("198.51.100.9", "203.0.113.7") == 200
    assert get("not-an-address") == 403
    wait_until(lambda: len([x for x in audit_lines(path) if x["api"] == "GetObject"]) >= 4, 10,
               what="audit lines")
    recs = [x for x in audit_lines(path) if x["api"] == "GetObject"]
    assert [x["remote"] for x in recs] == ["198.51.100.9", "198.51.100.9", "203.0.113.7",
                                           "127.0.0.1"], recs
    assert recs[1]["forwarded_for"] == "203.0.113.7, 198.51.100.9"


def test_untrusted_peer_cannot_claim_an_address(fresh_server, tmp_path):
    path = tmp_path / "audit.log"
    srv = fresh_server(extra_args=["--audit-file", str(path)])  # no trusted proxies
    c = srv.client()
    c.create_bucket(Bucket="spoof")
    c.put_object(Bucket="spoof", Key="k", Body=b"v")
    c.put_bucket_policy(Bucket="spoof", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::spoof/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}))
    r = requests.get(f"{srv.endpoint}/spoof/k", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 403
    wait_until(lambda: any(x["api"] == "GetObject" for x in audit_lines(path)), 10,
               what="the GET's line")
    rec = [x for x in audit_lines(path) if x["api"] == "GetObject"][0]
    assert rec["remote"] == "127.0.0.1" and "forwarded_for" not in rec


def test_bad_audit_options_refused(fresh_server, tmp_path):
    srv = fresh_server(start=False, extra_args=["--audit-webhook", "ftp://nope"])
    srv.proc = None
    import subprocess
    r = subprocess.run(srv.args(), env=srv.env(), capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "not an http:// or https:// URL" in (r.stdout + r.stderr)
    r = subprocess.run(srv.args()[:2] + ["--audit-file", str(tmp_path / "no/such/dir/a.log")] +
                       srv.args()[2:], env=srv.env(), capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "audit file" in (r.stdout + r.stderr)
