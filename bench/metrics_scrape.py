#!/usr/bin/env python3
"""Scrape time of a node holding 1,000 buckets (issue 14: under 100 ms).

Starts a server over 4 drive folders in a temporary directory (public metrics),
creates N buckets (default 1000) with one small object each, waits for a
whole scanner cycle (--scan-every 2s) to publish their usage series (10 per
bucket: objects, bytes, versions, 7 size ranges), then times 20 scrapes of
each metrics path and prints median and p95. Usage: bench/metrics_scrape.py [--buckets N] [--bin build/basalt]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

import boto3
import requests
from botocore.config import Config

PATHS = ["/basalt/v1/metrics/node", "/basalt/v1/metrics/cluster", "/minio/v2/metrics/cluster",
         "/minio/v2/metrics/bucket"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--scrapes", type=int, default=20)
    ap.add_argument("--bin", default="build/basalt")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="basalt-bench-metrics-")
    port = free_port()
    env = dict(os.environ, BASALT_ROOT_USER="benchadmin", BASALT_ROOT_PASSWORD="benchsecret123",
               BASALT_PROMETHEUS_AUTH="public")
    proc = subprocess.Popen([a.bin, "server", "--address", f"127.0.0.1:{port}", "--scan-every", "2s"] +
                            [f"{tmp}/d{i}" for i in range(1, 5)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(url + "/basalt/health/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        c = boto3.client("s3", endpoint_url=url, aws_access_key_id="benchadmin",
                         aws_secret_access_key="benchsecret123", region_name="us-east-1",
                         config=Config(retries={"max_attempts": 1}))
        for i in range(a.buckets):
            c.create_bucket(Bucket=f"bench-{i:05d}")
            c.put_object(Bucket=f"bench-{i:05d}", Key="k", Body=b"x" * 100)
        s = requests.Session()
        want = f"basalt_bucket_usage_buckets {a.buckets}\n"
        for _ in range(600):
            if want in s.get(url + "/basalt/v1/metrics/node", timeout=10).text:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("no whole scanner cycle published the buckets' usage in 300 s")
        for path in PATHS:
            s.get(url + path, timeout=10)  # warm
            times = []
            for _ in range(a.scrapes):
                t0 = time.perf_counter()
                r = s.get(url + path, timeout=10)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
            print(f"{path:32s} {len(r.content):8d} bytes  median {statistics.median(times):6.2f} ms"
                  f"  p95 {p95:6.2f} ms  ({a.scrapes} scrapes, {a.buckets} buckets)")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
