#!/usr/bin/python3
"""bench/iam.py: issue 12's figure: authorization must not show in request cost.

One release server (--sync=on, 4 drive folders, EC 2+2) on 127.0.0.1. A user is created through
the admin API and bound to a policy of 20 statements with conditions (string, numeric, date, IP
and Bool operators, a policy variable; the statement that allows the bench bucket is the last one,
so every request evaluates all 20). Besides ops/s, the server's CPU time per request (utime+stime
of /proc/PID/stat over each run), which the other load of a shared machine disturbs less. wrk replays presigned URLs (bench/urls.lua) signed by root and
by that user, alternating root and user runs RUNS times each for 4 KiB PUT and 4 KiB GET at 16
connections; the table shows medians and the user/root ratio (target: within 5%).

    make bench-iam            # or: BASALT_BIN=build-release/basalt bench/iam.py [--runs N]
                              #     [--duration S] [--record]
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402
import presign  # noqa: E402

USER, USER_SECRET = "benchuser", "bench-user-secret-0123456789"


def policy(bucket):
    st = []
    for i in range(19):  # 19 statements that match the action but not the resource or condition
        st.append({
            "Sid": f"S{i}", "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::other-{i}/*", f"arn:aws:s3:::other-{i}"],
            "Condition": {
                "StringLike": {"aws:UserAgent": [f"agent-{i}-*", "*never*"]},
                "NumericLessThanEquals": {"s3:max-keys": "1000"},
                "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
            }})
    st.append({
        "Sid": "Bench", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {
            "IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
            "Bool": {"aws:SecureTransport": "false"},
            "StringEquals": {"aws:username": "${aws:username}"},
            "DateLessThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"},
        }})
    return {"Version": "2012-10-17", "Statement": st}


def admin(srv, method, path, body):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{srv.endpoint}/basalt/admin/v1/{path}"
    data = json.dumps(body).encode()
    req = AWSRequest(method=method, url=url, data=data)
    S3SigV4Auth(Credentials(bench.AK, bench.SK), "s3", "us-east-1").add_auth(req)
    r = requests.request(method, url, data=data, headers=dict(req.headers), timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
    return r.json()


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime (fields 14 and 15)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT_BASE", "9390")))
    a = ap.parse_args()
    binary = os.environ.get("BASALT_BIN", str(bench.REPO / "build-release/basalt"))
    work = Path(tempfile.mkdtemp(prefix="basalt-bench-iam-", dir=os.environ.get("BENCH_DIR")))
    srv = bench.Basalt(binary, work / "srv", a.port, True).start()
    try:
        c = srv.client()
        bucket = "bench"
        bench.ensure_bucket(c, bucket)
        admin(srv, "PUT", f"users/{USER}", {"secret_key": USER_SECRET})
        admin(srv, "PUT", "policies/bench20", policy(bucket))
        admin(srv, "POST", "policies/bench20/attach", {"user": USER})
        small = work / "4k.bin"
        small.write_bytes(os.urandom(4096))
        n = 30000
        host = f"127.0.0.1:{a.port}"
        urls = {}
        # GETs read objects that exist: 2,000 written first, read by both identities
        get_keys = [f"get/k{i:05d}" for i in range(2000)]
        body = small.read_bytes()
        for k in get_keys:
            c.put_object(Bucket=bucket, Key=k, Body=body)
        for who, ak, sk in (("root", bench.AK, bench.SK), ("user", USER, USER_SECRET)):
            keys = [f"{who}/k{i:06d}" for i in range(n)]
            urls[who, "PUT"] = bench.write_paths(
                work / f"put-{who}.txt", presign.fast_presign_paths(host, ak, sk, "PUT", bucket,
                                                                    keys))
            urls[who, "GET"] = bench.write_paths(
                work / f"get-{who}.txt", presign.fast_presign_paths(host, ak, sk, "GET", bucket,
                                                                    get_keys))
        res = {}
        for op in ("PUT", "GET"):
            for _ in range(a.runs):
                for who in ("root", "user"):
                    t0 = cpu_ticks(srv.pid)
                    r = bench.wrk(srv.endpoint, urls[who, op], 16, a.duration,
                                  body_file=small if op == "PUT" else None, latency=True)
                    r["cpu_us"] = (cpu_ticks(srv.pid) - t0) * 1e6 / os.sysconf("SC_CLK_TCK") / \
                        max(r["requests"], 1)
                    if r["errors"]:
                        raise RuntimeError(f"{who} {op}: {r['errors']} errors\n{r['raw']}")
                    res.setdefault((who, op), []).append(r)
                    bench.log(f"{op} 4 KiB {who}: {r['rps']:.0f}/s p99 {r['p99_ms']:.2f} ms, "
                              f"server CPU {r['cpu_us']:.1f} us/request")
        lines = ["| figure | root | policy-bound user (20 statements) | user/root |",
                 "|---|---|---|---|"]
        for op in ("PUT", "GET"):
            root = bench.median([r["cpu_us"] for r in res["root", op]])
            user = bench.median([r["cpu_us"] for r in res["user", op]])
            lines.append(f"| 4 KiB {op}: server CPU per request (us) | {root:.1f} | {user:.1f} | "
                         f"{user / root * 100:.1f}% |")
        for op in ("PUT", "GET"):
            root = bench.median([r["rps"] for r in res["root", op]])
            user = bench.median([r["rps"] for r in res["user", op]])
            each = {who: ", ".join("%.0f" % r["rps"] for r in res[who, op])
                    for who in ("root", "user")}
            lines.append(f"| 4 KiB {op}, 16 connections (ops/s) | {root:.0f} ({each['root']}) | "
                         f"{user:.0f} ({each['user']}) | {user / root * 100:.1f}% |")
        table = "\n".join(lines)
        print(table)
        if a.record:
            with open(bench.REPO / "docs/benchmarks.md", "a") as f:
                f.write(f"\n## IAM: authorization cost ({datetime.date.today()})\n\n"
                        f"`make bench-iam` (bench/iam.py), commit {bench.git_rev()}, "
                        f"{bench.machine()}; {a.runs} alternating runs of {a.duration} s per "
                        f"figure, medians (each run in parentheses).\n\n{table}\n")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
