"""A real Prometheus (Debian's 2.42, started here on 127.0.0.1) scrapes Basalt with
the deploy/ configuration's two jobs; every PromQL expression of the Grafana
dashboard and of the alert rules is asked of it; promtool checks the files.

Expressions: a dashboard expression must return data (a panel with nothing to
show is a broken panel), except those listed in DASHBOARD_EMPTY with the reason.
An alert expression is the condition of an alert: on a healthy server it must
be a valid query that returns an empty vector (a non-empty one would be an
alert firing on a healthy deployment); the rules' own unit tests
(alerts_test.yml, `promtool test rules`) show each firing when its condition
holds. Scrapes, counters, authentication and a cluster with a node killed are
checked against Basalt directly too.
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

import helpers
from cluster import make_cluster  # noqa: F401 - fixture
from helpers import Signed
from test_metrics import make_token, parse

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
PATHS = ["/basalt/v1/metrics/node", "/basalt/v1/metrics/cluster", "/minio/v2/metrics/cluster",
         "/minio/v2/metrics/node", "/minio/v2/metrics/bucket"]
# dashboard expressions allowed to return nothing, and why
DASHBOARD_EMPTY = {}

pytestmark = pytest.mark.skipif(not os.path.exists(PROMETHEUS) or not os.path.exists(PROMTOOL),
                                reason="Debian's prometheus package is not installed "
                                       "(scripts/install-deps.sh)")


def dashboard_exprs():
    d = json.loads((DEPLOY / "grafana" / "basalt-overview.json").read_text())
    return [t["expr"] for p in d["panels"] for t in p["targets"]]


def alert_exprs():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}


def token_of(server):
    out = server.admin("prometheus", "generate").stdout.decode()
    return helpers.remember_secret(re.search(r"bearer_token: (\S+)", out).group(1))


def render_config(tmp, target, token, interval="1s", alerts=True):
    """deploy/prometheus/prometheus.yml with our target, token file and a short interval."""
    cfg = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    tok = tmp / "basalt.token"
    tok.write_text(token)
    cfg["global"].update(scrape_interval=interval, evaluation_interval=interval,
                         scrape_timeout=interval)
    for job in cfg["scrape_configs"]:
        job["authorization"]["credentials_file"] = str(tok)
        job["static_configs"] = [{"targets": [target]}]
    minio = dict(cfg["scrape_configs"][0], job_name="minio-cluster",
                 metrics_path="/minio/v2/metrics/cluster")
    cfg["scrape_configs"].append(minio)
    cfg["scrape_configs"].append(dict(minio, job_name="minio-bucket",
                                      metrics_path="/minio/v2/metrics/bucket"))
    if alerts:
        shutil.copy(DEPLOY / "prometheus" / "alerts.yml", tmp / "alerts.yml")
        cfg["rule_files"] = [str(tmp / "alerts.yml")]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def run(*args, timeout=60):
    r = subprocess.run(list(args), capture_output=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, args))}: {r.stdout.decode()}{r.stderr.decode()}"
    return r.stdout.decode()


class Prometheus:
    def __init__(self, tmp, config):
        self.port = helpers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.tmp = tmp
        helpers.wait_until(self.ready, 30, 0.2, "Prometheus ready")

    def ready(self):
        assert self.proc.poll() is None, (self.tmp / "prometheus.log").read_text()
        try:
            return requests.get(self.url + "/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def api(self, path, **params):
        r = requests.get(self.url + "/api/v1/" + path, params=params, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", (path, params, r.text[:500])
        return body["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def targets_up(self):
        ts = self.api("targets")["activeTargets"]
        bad = [(t["scrapePool"], t["lastError"]) for t in ts if t["health"] != "up"]
        return len(ts) == 4 and not bad

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def test_promtool_checks_the_deploy_files(fresh_server, tmp_path):
    s = fresh_server()
    run(PROMTOOL, "check", "rules", DEPLOY / "prometheus" / "alerts.yml")
    run(PROMTOOL, "test", "rules", DEPLOY / "prometheus" / "alerts_test.yml")
    cfg = render_config(tmp_path, f"127.0.0.1:{s.port}", token_of(s), interval="30s")
    run(PROMTOOL, "check", "config", cfg)


def test_prometheus_scrapes_and_every_expression_answers(fresh_server, tmp_path):
    s = fresh_server(extra_args=["--scan-every", "1s"])  # bucket usage soon after the writes
    prom = Prometheus(tmp_path, render_config(tmp_path, f"127.0.0.1:{s.port}", token_of(s)))
    try:
        helpers.wait_until(prom.targets_up, 30, 0.5, "every target up")
        c = s.client()
        c.create_bucket(Bucket="prom")
        for i in range(10):
            c.put_object(Bucket="prom", Key=f"k{i}", Body=b"x" * 1000)
            c.get_object(Bucket="prom", Key=f"k{i}")["Body"].read()
        with pytest.raises(Exception):
            c.get_object(Bucket="prom", Key="missing")
        time.sleep(3)  # a few scrapes after the traffic: rate() has two samples
        helpers.wait_until(lambda: prom.query(
            'sum(basalt_bucket_usage_bytes{job="basalt-cluster",bucket="prom"}) == 10000'),
            30, 0.5, "the scanner's bucket usage in Prometheus")
        for expr in dashboard_exprs():
            q = expr.replace("$__rate_interval", "1m")
            res = prom.query(q)
            why = next((w for k, w in DASHBOARD_EMPTY.items() if k in expr), None)
            if why:
                assert res == [], f"{expr} answers now: take it out of DASHBOARD_EMPTY"
            else:
                assert res, f"dashboard expression returns nothing: {q}"
        for name, expr in alert_exprs().items():
            assert prom.query(expr) == [], f"alert {name} fires on a healthy server: {expr}"
        # the MinIO names MinIO's dashboard uses, through Prometheus (OpenMetrics scrape)
        for name in ("minio_cluster_nodes_online_total", "minio_cluster_drive_online_total",
                     "minio_cluster_capacity_usable_free_bytes", "minio_s3_requests_total",
                     "minio_s3_traffic_received_bytes", "minio_node_drive_free_bytes",
                     "minio_s3_requests_ttfb_seconds_distribution",
                     "minio_bucket_usage_total_bytes", "minio_bucket_usage_object_total",
                     "minio_bucket_objects_size_distribution", "minio_cluster_usage_total_bytes"):
            assert prom.query(name), name
        put = prom.query('sum(minio_s3_requests_total{api="PutObject",job="minio-cluster"})')
        assert float(put[0]["value"][1]) == 10
        # a drive folder removed: its gauge flips within a scrape of the monitor noticing
        shutil.rmtree(s.drives[3])
        helpers.wait_until(
            lambda: prom.query('basalt_drive_online{job="basalt-nodes",drive="%s"} == 0'
                               % s.drives[3]), 30, 0.5, "drive offline in Prometheus")
        helpers.wait_until(lambda: prom.query(
            'basalt_cluster_drives_offline_total{job="basalt-cluster"} == 1'), 10, 0.5,
            "the cluster gauge says 1 drive offline")
    finally:
        prom.close()


def scrape(server, path, accept=None):
    h = {"Accept": accept} if accept else None
    r = Signed(server).request("GET", path, headers=h)
    assert r.status_code == 200, r.text[:300]
    return r


def samples(text):
    return parse("".join(ln + "\n" for ln in text.splitlines() if not ln.startswith("# basalt:")))[0]


def total(smp, name, **labels):
    return sum(v for (n, ls), v in smp.items()
               if n == name and all((k, w) in ls for k, w in labels.items()))


def test_ten_puts_count_ten_under_both_names(server):
    c = server.client()
    c.create_bucket(Bucket="prom-ten")
    b0 = samples(scrape(server, "/basalt/v1/metrics/node").text)
    m0 = samples(scrape(server, "/minio/v2/metrics/node").text)
    for i in range(10):
        c.put_object(Bucket="prom-ten", Key=f"k{i}", Body=b"y" * 100)
    b1 = samples(scrape(server, "/basalt/v1/metrics/node").text)
    m1 = samples(scrape(server, "/minio/v2/metrics/node").text)
    name = "basalt_s3_requests_total"
    assert total(b1, name, api="PutObject") - total(b0, name, api="PutObject") == 10
    assert total(m1, "minio_s3_requests_total", api="PutObject") - \
        total(m0, "minio_s3_requests_total", api="PutObject") == 10
    assert total(b1, "basalt_s3_request_duration_seconds_count", api="PutObject") == \
        total(b1, name, api="PutObject")
    assert total(m1, "minio_s3_traffic_received_bytes") >= 1000


def test_openmetrics_on_accept(server):
    r = scrape(server, "/basalt/v1/metrics/cluster", accept="application/openmetrics-text")
    assert r.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert r.text.endswith("# EOF\n")
    assert "# TYPE basalt_s3_requests counter\n" in r.text
    assert "# basalt:" not in r.text


def test_unauthenticated_or_badly_signed_scrapes_are_403(server):
    bad_token = make_token("not-the-secret-key", server.access_key, int(time.time()) + 60)
    for path in PATHS:
        for r in (requests.get(server.endpoint + path, timeout=10),
                  requests.get(server.endpoint + path, timeout=10,
                               headers={"Authorization": f"Bearer {bad_token}"}),
                  Signed(server, sk="wrong-secret-key-123").request("GET", path)):
            assert r.status_code == 403, (path, r.status_code, r.text[:200])
            for leak in ("basalt_", "minio_", "127.0.0.1:", str(server.root), "drive"):
                assert leak not in r.text, (path, leak, r.text[:300])


def test_cluster_scrape_with_a_node_killed(make_cluster):  # noqa: F811
    c = make_cluster()
    n1 = c.node(1)
    token = make_token(n1.secret_key, n1.access_key, int(time.time()) + 600)

    def cluster_scrape():
        r = requests.get(n1.endpoint + "/basalt/v1/metrics/cluster", timeout=30,
                         headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text[:300]
        return r.text

    smp = samples(cluster_scrape())
    servers = {dict(ls).get("server") for (n, ls) in smp if n == "basalt_uptime_seconds"}
    assert servers == {f"127.0.0.{n}:{c.port}" for n in c.all()}
    assert total(smp, "basalt_cluster_nodes_online_total") == 4
    # node 1's RPC client, per peer: calls made (the drives and locks of the others), timed
    me, dead = f"127.0.0.1:{c.port}", f"127.0.0.4:{c.port}"
    for n in (2, 3, 4):
        peer = f"127.0.0.{n}:{c.port}"
        calls = total(smp, "basalt_rpc_calls_total", server=me, peer=peer)
        assert calls > 0, peer
        assert total(smp, "basalt_rpc_call_duration_seconds_count", server=me, peer=peer) > 0
        assert total(smp, "basalt_rpc_peer_online", server=me, peer=peer) == 1
    assert total(smp, "basalt_rpc_calls_total", server=me, peer=me) == 0  # not its own peer
    c.kill(4)
    t0 = time.monotonic()
    text = cluster_scrape()
    assert time.monotonic() - t0 < 10
    smp = samples(text)
    servers = {dict(ls).get("server") for (n, ls) in smp if n == "basalt_uptime_seconds"}
    assert servers == {f"127.0.0.{n}:{c.port}" for n in (1, 2, 3)}
    # the failed call of that scrape (at least) is counted against the dead peer
    assert total(samples(cluster_scrape()), "basalt_rpc_errors_total", server=me, peer=dead) >= 1
    assert total(smp, "basalt_cluster_nodes_online_total") == 3
    assert total(smp, "basalt_cluster_nodes_offline_total") == 1
    assert total(smp, "basalt_cluster_scrape_errors", server=dead) == 1
    assert total(smp, "basalt_cluster_drives_offline_total") == 2
    assert f"# basalt: node {dead} did not answer" in text
    m = requests.get(n1.endpoint + "/minio/v2/metrics/cluster", timeout=30,
                     headers={"Authorization": f"Bearer {token}"})
    assert m.status_code == 200
    assert total(samples(m.text), "minio_cluster_nodes_offline_total") == 1
    # a revoke through node 1 (3 of 4 nodes up: quorum) is honoured by every node
    assert requests.get(c.node(2).endpoint + "/basalt/v1/metrics/node", timeout=30,
                        headers={"Authorization": f"Bearer {token}"}).status_code == 200
    n1.admin("prometheus", "revoke")
    fresh = helpers.remember_secret(re.search(
        r"bearer_token: (\S+)", n1.admin("prometheus", "generate").stdout.decode()).group(1))
    for n in (1, 2, 3):
        node = c.node(n).endpoint + "/basalt/v1/metrics/node"
        r = requests.get(node, timeout=30, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403, n
        r = requests.get(node, timeout=30, headers={"Authorization": f"Bearer {fresh}"})
        assert r.status_code == 200, n
