"""Prometheus metrics of one node (issue 14, first slice): GET /basalt/v1/metrics/node.

The exposition is read with a strict parser of the text format 0.0.4: every
line is a # HELP or # TYPE comment, or `name{labels} value`; a sample's family
was TYPEd before it; no series appears twice. Counters are compared before and
after the requests of a test (the session server serves other tests too, so
only deltas are asserted).
"""

import base64
import hashlib
import hmac
import json
import math
import os
import re
import shutil
import time

import requests

import helpers
from helpers import Signed, assert_s3_error

PATH = "/basalt/v1/metrics/node"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_HELP = re.compile(rf"^# HELP ({_NAME}) (.*)$")
_TYPE = re.compile(rf"^# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)$")
_SUFFIXES = ("_bucket", "_sum", "_count")


def _labels(text, line):
    out, pos = {}, 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        assert m, f"malformed labels at {pos}: {line!r}"
        name = m.group(1)
        assert name not in out, f"label {name} twice: {line!r}"
        out[name] = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group(2))
        pos = m.end()
        if pos < len(text):
            assert text[pos] == ",", f"expected ',' at {pos}: {line!r}"
            pos += 1
    return out


def parse(text):
    """{(name, frozenset(labels.items())): value}, and {family: type}; asserts strictness."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    samples, types = {}, {}
    for line in text.split("\n")[:-1]:
        if line.startswith("#"):
            m = _HELP.match(line) or _TYPE.match(line)
            assert m, f"comment is neither HELP nor TYPE: {line!r}"
            if line.startswith("# TYPE"):
                assert m.group(1) not in types, f"TYPE twice: {line!r}"
                types[m.group(1)] = m.group(2)
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), _labels(m.group(2) or "", line), m.group(3)
        family = name
        if name not in types:
            family = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s)), name)
        assert family in types, f"sample before its TYPE: {line!r}"
        if types[family] == "histogram":
            assert name != family, f"histogram sample without suffix: {line!r}"
            if name.endswith("_bucket"):
                assert "le" in labels, f"bucket without le: {line!r}"
        v = float(value)  # accepts +Inf, NaN
        assert not math.isnan(v), line
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"series twice: {line!r}"
        samples[key] = v
    return samples, types


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(server, **kw):
    r = Signed(server).request("GET", PATH, **kw)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"] == CONTENT_TYPE
    return parse(r.text)[0]


def test_exposition_is_strict_and_complete(server):
    r = Signed(server).request("GET", PATH)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"] == CONTENT_TYPE
    samples, types = parse(r.text)
    for family, t in {
        "basalt_s3_requests_total": "counter",
        "basalt_s3_request_duration_seconds": "histogram",
        "basalt_s3_received_bytes_total": "counter",
        "basalt_s3_sent_bytes_total": "counter",
        "basalt_s3_errors_total": "counter",
        "basalt_s3_requests_inflight": "gauge",
        "basalt_s3_slowdown_total": "counter",
        "basalt_drive_online": "gauge",
        "basalt_drive_total_bytes": "gauge",
        "basalt_drive_free_bytes": "gauge",
        "basalt_drive_used_bytes": "gauge",
        "process_resident_memory_bytes": "gauge",
        "process_open_fds": "gauge",
        "process_start_time_seconds": "gauge",
        "process_threads": "gauge",
        "basalt_uptime_seconds": "gauge",
        "basalt_build_info": "gauge",
    }.items():
        assert types.get(family) == t, f"{family}: {types.get(family)}"
    # this scrape is in flight while it is written
    assert get(samples, "basalt_s3_requests_inflight") >= 1
    assert get(samples, "process_resident_memory_bytes") > 1 << 20
    assert get(samples, "process_open_fds") > 3
    assert get(samples, "process_threads") > 1
    assert abs(get(samples, "process_start_time_seconds") - time.time()) < 86400
    build = [(dict(k[1]), v) for k, v in samples.items() if k[0] == "basalt_build_info"]
    assert len(build) == 1 and build[0][0]["version"] and build[0][1] == 1
    drives = {dict(k[1])["drive"]: v for k, v in samples.items() if k[0] == "basalt_drive_online"}
    assert sorted(drives) == sorted(str(d) for d in server.drives)
    assert all(v == 1 for v in drives.values())
    assert get(samples, "basalt_node_drives_online") == len(server.drives)
    for d in drives:
        total = get(samples, "basalt_drive_total_bytes", drive=d)
        free = get(samples, "basalt_drive_free_bytes", drive=d)
        assert total > 0 and 0 <= free <= total
        assert get(samples, "basalt_drive_used_bytes", drive=d) == total - free


def test_ten_puts_count_ten(server, bucket):
    body = helpers.rand_bytes(1000, seed=14)
    s = Signed(server)
    before = scrape(server)
    for i in range(10):
        r = s.request("PUT", f"/{bucket}/k{i}", body=body)
        assert r.status_code == 200, r.text
    after = scrape(server)

    def delta(name, **labels):
        return get(after, name, **labels) - get(before, name, **labels)

    assert delta("basalt_s3_requests_total", api="PutObject", status_class="2xx") == 10
    assert delta("basalt_s3_received_bytes_total", api="PutObject") == 10 * len(body)
    # the histogram counts the same requests as the counter, in every bucket up to +Inf
    total = sum(get(after, "basalt_s3_requests_total", api="PutObject", status_class=c)
                for c in ("2xx", "3xx", "4xx", "5xx"))
    count = get(after, "basalt_s3_request_duration_seconds_count", api="PutObject")
    assert count == total
    assert get(after, "basalt_s3_request_duration_seconds_bucket", api="PutObject",
               le="+Inf") == count
    assert delta("basalt_s3_request_duration_seconds_count", api="PutObject") == 10
    assert delta("basalt_s3_request_duration_seconds_sum", api="PutObject") > 0
    # GETs send the bytes back
    for i in range(3):
        assert s.request("GET", f"/{bucket}/k{i}").content == body
    again = scrape(server)
    assert get(again, "basalt_s3_sent_bytes_total", api="GetObject") - \
        get(after, "basalt_s3_sent_bytes_total", api="GetObject") == 3 * len(body)
    assert get(again, "basalt_s3_requests_total", api="GetObject", status_class="2xx") - \
        get(after, "basalt_s3_requests_total", api="GetObject", status_class="2xx") == 3


def test_group_commits_fsyncs_and_locks_counted(server, bucket):
    """Each PUT commits an index record on every drive (group commits: records >= commits)
    and takes a write lock on its name; fsyncs are timed per drive."""
    c = server.client()
    before = scrape(server)
    for i in range(5):
        c.put_object(Bucket=bucket, Key=f"commit-{i}", Body=b"y" * 200000)
    after = scrape(server)

    def delta(name, **labels):
        return get(after, name, **labels) - get(before, name, **labels)

    for d in server.drives:
        commits = delta("basalt_drive_commit_batch_records_count", drive=str(d))
        records = delta("basalt_drive_commit_batch_records_sum", drive=str(d))
        assert 1 <= commits <= records and records >= 5, (d, commits, records)
        assert delta("basalt_drive_commit_duration_seconds_count", drive=str(d)) == commits
        assert delta("basalt_drive_commit_duration_seconds_sum", drive=str(d)) > 0
        # without --sync=off: a shard file and its folder per PUT at least
        assert delta("basalt_drive_fsync_duration_seconds_count", drive=str(d)) >= 5
    assert delta("basalt_lock_acquires_total", mode="write", outcome="granted") >= 5
    assert delta("basalt_lock_acquire_duration_seconds_count", mode="write") >= 5


def test_get_buffers_recycled(server, bucket):
    """GETs of an object stored in shard files read into buffers from the recycling pool:
    after the first GET, the next ones reuse them instead of allocating."""
    c = server.client()
    body = os.urandom(1 << 20)
    c.put_object(Bucket=bucket, Key="recycled", Body=body)
    assert c.get_object(Bucket=bucket, Key="recycled")["Body"].read() == body
    before = scrape(server)
    for _ in range(5):
        assert c.get_object(Bucket=bucket, Key="recycled")["Body"].read() == body
    after = scrape(server)
    reused = get(after, "basalt_read_buffers_reused_total") - \
        get(before, "basalt_read_buffers_reused_total")
    allocated = get(after, "basalt_read_buffers_allocated_total") - \
        get(before, "basalt_read_buffers_allocated_total")
    assert reused >= 5 * 2 and reused > allocated, (reused, allocated)
    assert 0 < get(after, "basalt_read_buffers_kept_bytes") <= 32 << 20


def test_404_counts_nosuchkey(server, bucket):
    s = Signed(server)
    before = scrape(server)
    r = s.request("GET", f"/{bucket}/missing")
    assert_s3_error(r, 404, "NoSuchKey")
    after = scrape(server)
    assert get(after, "basalt_s3_errors_total", code="NoSuchKey") - \
        get(before, "basalt_s3_errors_total", code="NoSuchKey") == 1
    assert get(after, "basalt_s3_requests_total", api="GetObject", status_class="4xx") - \
        get(before, "basalt_s3_requests_total", api="GetObject", status_class="4xx") == 1


def test_unauthenticated_scrape_is_403(server):
    r = requests.get(server.endpoint + PATH, timeout=30)
    assert_s3_error(r, 403, "AccessDenied")
    assert b"basalt_" not in r.content
    r = Signed(server, sk="not-the-secret-key").request("GET", PATH)
    assert r.status_code == 403
    assert b"basalt_" not in r.content
    r = requests.get(server.endpoint + PATH, headers={"Authorization": "Bearer "}, timeout=30)
    assert_s3_error(r, 403, "AccessDenied")
    assert requests.post(server.endpoint + PATH, timeout=30).status_code == 403
    assert Signed(server).request("POST", PATH).status_code == 405


def _b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_token(secret, sub, exp, iss="prometheus"):
    head = _b64(b'{"alg":"HS512","typ":"JWT"}')
    claims = _b64(json.dumps({"exp": exp, "sub": sub, "iss": iss}).encode())
    sig = hmac.new(secret.encode(), f"{head}.{claims}".encode(), hashlib.sha512).digest()
    return f"{head}.{claims}.{_b64(sig)}"


def bearer(server, token):
    return requests.get(server.endpoint + PATH, headers={"Authorization": f"Bearer {token}"},
                        timeout=30)


def test_generated_token_scrapes(server):
    out = server.admin("prometheus", "generate").stdout.decode()
    assert "job_name: basalt-job" in out
    assert f"metrics_path: {PATH}" in out
    assert f"targets: ['127.0.0.1:{server.port}']" in out
    assert "scheme: http" in out
    token = re.search(r"bearer_token: (\S+)", out).group(1)
    r = bearer(server, token)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"] == CONTENT_TYPE
    parse(r.text)
    # one character of the claims changed: refused
    i = token.index(".") + 5
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
    assert_s3_error(bearer(server, tampered), 403, "AccessDenied")
    # a token that expired, one of another key, another issuer, another secret: refused
    now = int(time.time())
    assert bearer(server, make_token(server.secret_key, server.access_key, now + 60)).status_code \
        == 200
    for t in (make_token(server.secret_key, server.access_key, now - 1),
              make_token(server.secret_key, "someone-else", now + 60),
              make_token(server.secret_key, server.access_key, now + 60, iss="minio"),
              make_token("wrong-secret-key", server.access_key, now + 60)):
        r = bearer(server, t)
        assert_s3_error(r, 403, "AccessDenied")
        assert b"basalt_" not in r.content


def test_generated_token_expiry(server):
    out = server.admin("prometheus", "generate", "--expiry", "2s").stdout.decode()
    token = re.search(r"bearer_token: (\S+)", out).group(1)
    assert bearer(server, token).status_code == 200
    time.sleep(3.1)
    assert_s3_error(bearer(server, token), 403, "AccessDenied")
    assert server.admin("prometheus", "generate", "--expiry", "0", check=False).returncode == 2


def test_revoke_refuses_tokens_generated_before(fresh_server):
    """`basalt admin prometheus revoke`: tokens generated until then get 403 (MinIO-made ones,
    without iat, too); one generated after it scrapes; a revoke needs a signed admin."""
    s = fresh_server()

    def generate():
        out = s.admin("prometheus", "generate").stdout.decode()
        return helpers.remember_secret(re.search(r"bearer_token: (\S+)", out).group(1))

    old, minio_made = generate(), make_token(s.secret_key, s.access_key, int(time.time()) + 600)
    assert bearer(s, old).status_code == 200 and bearer(s, minio_made).status_code == 200
    r = requests.post(s.endpoint + "/basalt/v1/metrics/revoke", timeout=30)
    assert_s3_error(r, 403, "AccessDenied")  # not signed
    r = requests.post(s.endpoint + "/basalt/v1/metrics/revoke", timeout=30,
                      headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 400 and b"AuthorizationHeaderMalformed" in r.content  # nor a token
    assert bearer(s, old).status_code == 200
    out = s.admin("prometheus", "revoke").stdout.decode()
    assert "refused by every node" in out
    assert_s3_error(bearer(s, old), 403, "AccessDenied")
    assert_s3_error(bearer(s, minio_made), 403, "AccessDenied")
    new = generate()
    assert bearer(s, new).status_code == 200
    assert Signed(s).request("GET", PATH).status_code == 200  # root-signed scrapes unaffected
    # stored, not remembered: a restart keeps refusing
    s.stop()
    s.start()
    assert_s3_error(bearer(s, old), 403, "AccessDenied")
    assert bearer(s, new).status_code == 200
    assert s.admin("prometheus", "revoke", "--expiry", "1d", check=False).returncode == 2


def test_metrics_off_switch(fresh_server):
    """BASALT_METRICS=off (for bench/metrics_cost.sh): no registry, requests served, 501."""
    s = _public_server(fresh_server, "BASALT_METRICS", "off")
    c = s.client()
    c.create_bucket(Bucket="metrics-off")
    c.put_object(Bucket="metrics-off", Key="k", Body=b"z" * 5000)
    assert c.get_object(Bucket="metrics-off", Key="k")["Body"].read() == b"z" * 5000
    assert_s3_error(Signed(s).request("GET", PATH), 501, "NotImplemented")


def _public_server(fresh_server, var, value="public"):
    s = fresh_server(start=False)
    base_env = s.env
    s.env = lambda: {**base_env(), var: value}
    return s.start()


def test_public_switch(fresh_server):
    s = _public_server(fresh_server, "BASALT_PROMETHEUS_AUTH")
    r = requests.get(s.endpoint + PATH, timeout=30)
    assert r.status_code == 200
    parse(r.text)
    # the rest of the API is not public
    assert requests.get(s.endpoint + "/", timeout=30).status_code == 403


def test_public_switch_minio_alias(fresh_server):
    s = _public_server(fresh_server, "MINIO_PROMETHEUS_AUTH_TYPE")
    r = requests.get(s.endpoint + PATH, timeout=30)
    assert r.status_code == 200
    samples, _ = parse(r.text)
    assert get(samples, "basalt_s3_requests_total", api="Metrics", status_class="2xx") == 0
    r = requests.get(s.endpoint + PATH, timeout=30)
    samples, _ = parse(r.text)
    assert get(samples, "basalt_s3_requests_total", api="Metrics", status_class="2xx") == 1


def test_drives_down_flip_gauges_and_count_slowdown(fresh_server):
    """Drive folders removed while serving go offline (the drive monitor notices
    within seconds) and the next scrape says so; a PUT without write quorum is
    a 503 SlowDown, counted as such."""
    s = _public_server(fresh_server, "BASALT_PROMETHEUS_AUTH")

    def scrape_public():
        r = requests.get(s.endpoint + PATH, timeout=30)
        assert r.status_code == 200
        return parse(r.text)[0]

    c = s.client()
    c.create_bucket(Bucket="metrics-drives")
    before = scrape_public()
    assert get(before, "basalt_node_drives_online") == 4
    shutil.rmtree(s.drives[0])
    shutil.rmtree(s.drives[1])
    helpers.wait_until(lambda: get(scrape_public(), "basalt_node_drives_online") == 2, 20, 0.5,
                       "2 drives offline in the metrics")
    now = scrape_public()
    assert get(now, "basalt_drive_online", drive=str(s.drives[0])) == 0
    assert get(now, "basalt_drive_online", drive=str(s.drives[1])) == 0
    assert get(now, "basalt_drive_online", drive=str(s.drives[2])) == 1
    assert get(now, "basalt_node_drives_offline") == 2
    r = Signed(s).request("PUT", "/metrics-drives/k", body=b"x" * 100)
    assert_s3_error(r, 503, "SlowDown")
    after = scrape_public()
    assert get(after, "basalt_s3_slowdown_total") - get(now, "basalt_s3_slowdown_total") == 1
    assert get(after, "basalt_s3_errors_total", code="SlowDown") - \
        get(now, "basalt_s3_errors_total", code="SlowDown") == 1
    assert get(after, "basalt_s3_requests_total", api="PutObject", status_class="5xx") - \
        get(now, "basalt_s3_requests_total", api="PutObject", status_class="5xx") == 1
