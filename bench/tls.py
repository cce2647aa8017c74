#!/usr/bin/python3
"""bench/tls.py: plain HTTP against HTTPS (`--certs-dir`), in the same run (issue 16,
"Figures"). Started by bench/tls.sh (see there for the environment variables).

Two Basalt servers with the same options (--sync=off, so that the disk does not hide the cost
of TLS), each over 4 drive folders (EC 2+2), one plain and one with --certs-dir (an EC P-256
certificate made with the openssl CLI); load from wrk (bench/urls.lua, presigned URLs) on
keep-alive connections, over TLS for the second (wrk's OpenSSL, TLS 1.3, AES-128-GCM). The
figures alternate plain / TLS for every run; the table shows medians.
"""

import argparse
import datetime
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402
from bench import AK, SK, MiB, Basalt, log, median, wrk, write_paths  # noqa: E402

FIGS = [  # name, method, object size, connections
    ("get64", "GET", 64 * MiB, 4),
    ("put64", "PUT", 64 * MiB, 4),
    ("get4k", "GET", 4096, 16),
    ("put4k", "PUT", 4096, 16),
]


class TlsBasalt(Basalt):
    def __init__(self, binary, root, port, certs):
        super().__init__(binary, root, port, sync=False)
        self.certs = certs
        self.endpoint = f"https://127.0.0.1:{port}"

    def start(self):
        # the same command as the plain server, with BASALT_CERTS_DIR; Basalt.start's health
        # wait (requests) trusts the bench's CA
        os.environ.update(BASALT_CERTS_DIR=str(self.certs),
                          REQUESTS_CA_BUNDLE=str(self.certs / "CAs" / "ca.crt"))
        try:
            return super().start()
        finally:
            del os.environ["BASALT_CERTS_DIR"]

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=AK,
                            aws_secret_access_key=SK, region_name="us-east-1",
                            verify=str(self.certs / "CAs" / "ca.crt"),
                            config=Config(s3={"addressing_style": "path"},
                                          signature_version="s3v4"))


def make_certs(root):
    certs = root / "certs"
    (certs / "CAs").mkdir(parents=True)
    ca_key, ca = root / "ca.key", certs / "CAs" / "ca.crt"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    subprocess.run(["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca,
                    "-days", "2", "-subj", "/CN=bench CA"], check=True, capture_output=True)
    subprocess.run(["openssl", "req", *ec, "-keyout", certs / "private.key",
                    "-out", root / "srv.csr", "-subj", "/CN=localhost"], check=True,
                   capture_output=True)
    (root / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    subprocess.run(["openssl", "x509", "-req", "-in", root / "srv.csr", "-CA", ca, "-CAkey",
                    ca_key, "-set_serial", "2", "-days", "2", "-extfile", root / "ext",
                    "-out", certs / "public.crt"], check=True, capture_output=True)
    return certs


def prepare(srv, work, tag):
    """Objects to GET and presigned path lists; returns {fig: (paths_file, body_file)}."""
    c = srv.client()
    bench.ensure_bucket(c, "tls")
    big = work / "big.bin"
    if not big.exists():
        big.write_bytes(os.urandom(64 * MiB))
        (work / "small.bin").write_bytes(os.urandom(4096))
    for i in range(4):
        bench.upload_file(c, "tls", f"big{i}", big)
    small = [f"small/{i:05d}" for i in range(1000)]
    for k in small:
        c.put_object(Bucket="tls", Key=k, Body=b"s" * 4096)
    files = {
        "get64": (write_paths(work / f"{tag}-get64.txt", srv.presign("GET", "tls", [
            f"big{i}" for i in range(4)])), None),
        "put64": (write_paths(work / f"{tag}-put64.txt", srv.presign("PUT", "tls", [
            f"put64-{i}" for i in range(4)])), big),
        "get4k": (write_paths(work / f"{tag}-get4k.txt", srv.presign("GET", "tls", small)),
                  None),
        "put4k": (write_paths(work / f"{tag}-put4k.txt", srv.presign("PUT", "tls", [
            f"put4k/{i:07d}" for i in range(200000)])), work / "small.bin"),
    }
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "8")))
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    binary = Path(os.environ["BASALT_BIN"]).resolve()
    base = int(os.environ.get("BENCH_PORT_BASE", "9380"))
    work = Path(tempfile.mkdtemp(prefix="basalt-bench-tls-", dir=os.environ.get("BENCH_DIR",
                                                                                "/tmp")))
    certs = make_certs(work)
    plain = Basalt(binary, work / "plain", base, sync=False)
    tls = TlsBasalt(binary, work / "tls", base + 1, certs)
    res = {(f, k): [] for f, *_ in FIGS for k in ("plain", "tls")}
    try:
        plain.start()
        tls.start()
        files = {"plain": prepare(plain, work, "plain"), "tls": prepare(tls, work, "tls")}
        for run in range(a.runs):
            for fig, method, size, conns in FIGS:
                for kind, srv in (("plain", plain), ("tls", tls)):
                    paths, body = files[kind][fig]
                    srv0, wrk0 = cpu_seconds(srv.pid), children_cpu()
                    r = wrk(srv.endpoint, paths, conns, a.duration, body_file=body,
                            static=size > MiB)
                    srv_cpu = cpu_seconds(srv.pid) - srv0
                    wrk_cpu = children_cpu() - wrk0
                    v = r["rps"] * size / MiB if size > MiB else r["rps"]
                    # CPU per GiB or per 1,000 requests, the server's and wrk's apart: what TLS
                    # costs the server, even when other work on the machine moves throughput
                    n = r["requests"] * size / (1 << 30) if size > MiB else r["requests"] / 1000
                    n = n or float("nan")
                    res[(fig, kind)].append((v, r["errors"], srv_cpu / n, wrk_cpu / n))
                    log(f"run {run + 1} {fig} {kind}: {v:.1f}"
                        f"{' MiB/s' if size > MiB else ' ops/s'}, {r['errors']} errors, CPU s per "
                        f"{'GiB' if size > MiB else '1,000 requests'}: server "
                        f"{srv_cpu / n:.2f}, wrk {wrk_cpu / n:.2f}")
    finally:
        plain.stop()
        tls.stop()
    table = report(res)
    print(table)
    if a.record:
        record(table, a, binary)
    subprocess.run(["rm", "-rf", str(work)])


def cpu_seconds(pid):
    """User + system CPU time of process `pid` so far (/proc/PID/stat)."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    """CPU time of the children waited for so far (the wrk runs)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def report(res):
    lines = ["| figure | plain | TLS | TLS / plain | server CPU plain | server CPU TLS | "
             "TLS / plain | wrk CPU plain | wrk CPU TLS | runs plain | runs TLS | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for fig, method, size, conns in FIGS:
        unit = "MiB/s" if size > MiB else "ops/s"
        per = "s/GiB" if size > MiB else "s/1k req"
        p, t = res[(fig, "plain")], res[(fig, "tls")]
        med = [median([x[i] for x in p]) for i in range(4)]
        mt = [median([x[i] for x in t]) for i in range(4)]
        errs = sum(x[1] for x in p + t)
        name = f"{method} {'64 MiB' if size > MiB else '4 KiB'}, {conns} connections ({unit})"
        lines.append(f"| {name} | {med[0]:.0f} | {mt[0]:.0f} | {mt[0] / med[0]:.0%} | "
                     f"{med[2]:.2f} {per} | {mt[2]:.2f} {per} | {mt[2] / med[2]:.2f} | "
                     f"{med[3]:.2f} {per} | {mt[3]:.2f} {per} | "
                     f"{' '.join(f'{x[0]:.0f}' for x in p)} | "
                     f"{' '.join(f'{x[0]:.0f}' for x in t)} | {errs} |")
    return "\n".join(lines)


def record(table, a, binary):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"\n## TLS against plain HTTP (issue 16): {now}, commit {bench.git_rev()}\n\n"
            f"- Command: `bench/tls.sh --record --runs {a.runs} --duration {a.duration}`.\n"
            f"- Machine: {bench.machine()}.\n"
            f"- Basalt: `{binary}`, two servers with `--sync=off`, 4 drive folders each under "
            f"/tmp (EC 2+2); one plain, one with `--certs-dir` (EC P-256 certificate; "
            f"libmicrohttpd 0.9.75 with GnuTLS {gnutls_version()}). wrk -t2 "
            f"(`bench/urls.lua`, presigned URLs, keep-alive connections; over TLS: wrk's "
            f"OpenSSL) on the same 2 cores; {a.runs} runs of {a.duration} s per figure, plain "
            f"and TLS alternating; medians. CPU: the server's and wrk's user + system time per "
            f"GiB moved or per 1,000 requests (`/proc/PID/stat`, `getrusage`), apart. Load average "
            f"when the run ended: {os.getloadavg()[0]:.1f}.\n\n{table}\n")
    with open(bench.REPO / "docs" / "benchmarks.md", "a") as f:
        f.write(text)
    log("recorded in docs/benchmarks.md")


def gnutls_version():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libgnutls30"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


if __name__ == "__main__":
    main()
