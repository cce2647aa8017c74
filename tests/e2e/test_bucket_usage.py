"""Bucket usage metrics from the scanner (issue 14): objects, bytes, versions and
size ranges per bucket, under /basalt/v1/metrics/node and MinIO's
/minio/v2/metrics/bucket and /cluster; `basalt du` of a bucket and the metric
agree after a scan. The server scans every second so that a whole cycle
follows the writes promptly."""

import json
import os
import subprocess

import requests

import helpers
from test_metrics import get, parse

NODE = "/basalt/v1/metrics/node"


def _server(fresh_server):
    s = fresh_server(start=False, extra_args=["--scan-every", "1s"])
    base_env = s.env
    s.env = lambda: {**base_env(), "BASALT_PROMETHEUS_AUTH": "public"}
    return s.start()


def _scrape(s, path=NODE):
    r = requests.get(s.endpoint + path, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return parse(r.text)[0]


def _after_a_whole_cycle(s):
    """Waits for a scanner cycle that started after now to end; returns the node scrape."""
    c0 = get(_scrape(s), "basalt_scanner_cycles_total")
    helpers.wait_until(lambda: get(_scrape(s), "basalt_scanner_cycles_total") >= c0 + 2, 60, 0.3,
                       "two more scanner cycles")
    return _scrape(s)


def _du(s, bucket):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASALT_")}
    env["HOME"] = str(s.root)
    env["BASALT_ALIAS_t"] = f"http://{s.access_key}:{s.secret_key}@127.0.0.1:{s.port}"
    r = subprocess.run([helpers.BIN, "du", "--json", f"t/{bucket}"], env=env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def _rows(samples, name):
    return {dict(k[1])["bucket"]: v for k, v in samples.items() if k[0] == name}


def test_bucket_usage_agrees_with_du(fresh_server):
    s = _server(fresh_server)
    c = s.client()
    sizes = {"usage-a": [0, 10, 1023, 1024, 5000, (1 << 20) + 1], "usage-b": [3 << 20]}
    for bucket, objs in sizes.items():
        c.create_bucket(Bucket=bucket)
        for i, n in enumerate(objs):
            c.put_object(Bucket=bucket, Key=f"dir/k{i}", Body=b"x" * n)
    c.create_bucket(Bucket="usage-empty")
    m = _after_a_whole_cycle(s)
    for bucket, objs in sizes.items():
        du = _du(s, bucket)
        assert du["objects"] == len(objs) and du["size"] == sum(objs), du
        assert get(m, "basalt_bucket_usage_objects", bucket=bucket) == du["objects"]
        assert get(m, "basalt_bucket_usage_bytes", bucket=bucket) == du["size"]
        assert get(m, "basalt_bucket_usage_versions", bucket=bucket) == du["objects"]
    assert _rows(m, "basalt_bucket_usage_objects") == {"usage-a": 6, "usage-b": 1,
                                                       "usage-empty": 0}  # no system bucket
    assert get(m, "basalt_bucket_usage_buckets") == 3

    def dist(samples, name, bucket):
        return {dict(k[1])["range"]: v for k, v in samples.items()
                if k[0] == name and dict(k[1]).get("bucket") == bucket}

    a = dist(m, "basalt_bucket_objects_size_distribution", "usage-a")
    assert a["LESS_THAN_1024_B"] == 3 and a["BETWEEN_1024B_AND_1_MB"] == 2
    assert a["BETWEEN_1_MB_AND_10_MB"] == 1 and a["GREATER_THAN_512_MB"] == 0
    assert len(a) == 7 and sum(a.values()) == 6

    # MinIO's names: per bucket without `server` (the nodes' shares summed), and cluster totals
    b = _scrape(s, "/minio/v2/metrics/bucket")
    assert get(b, "minio_bucket_usage_total_bytes", bucket="usage-a") == sum(sizes["usage-a"])
    assert get(b, "minio_bucket_usage_object_total", bucket="usage-b") == 1
    assert get(b, "minio_bucket_usage_version_total", bucket="usage-a") == 6
    assert dist(b, "minio_bucket_objects_size_distribution", "usage-b") == {
        **{r: 0 for r in a}, "BETWEEN_1_MB_AND_10_MB": 1}
    cl = _scrape(s, "/minio/v2/metrics/cluster")
    total = sum(sum(v) for v in sizes.values())
    assert get(cl, "minio_cluster_usage_total_bytes") == total
    assert get(cl, "minio_cluster_usage_object_total") == 7
    assert get(cl, "minio_cluster_usage_version_total") == 7
    assert get(cl, "minio_cluster_bucket_total") == 3
    assert get(cl, "minio_cluster_objects_size_distribution", range="LESS_THAN_1024_B") == 3
    assert get(s and _scrape(s, "/basalt/v1/metrics/cluster"), "basalt_bucket_usage_bytes",
               server=f"127.0.0.1:{s.port}", bucket="usage-b") == 3 << 20

    # deletes and a bucket removed: the next whole cycle says so, the bucket's rows go
    c.delete_object(Bucket="usage-a", Key="dir/k5")
    c.delete_bucket(Bucket="usage-empty")
    m = _after_a_whole_cycle(s)
    du = _du(s, "usage-a")
    assert du["objects"] == 5 and get(m, "basalt_bucket_usage_objects", bucket="usage-a") == 5
    assert get(m, "basalt_bucket_usage_bytes", bucket="usage-a") == du["size"]
    assert "usage-empty" not in _rows(m, "basalt_bucket_usage_bytes")
