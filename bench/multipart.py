#!/usr/bin/python3
"""bench/multipart.py: the multipart figure of issue 3.

    bench/multipart.py [--size-mib 1024] [--parts 8] [--runs 3] [--sync on|off] [--record]

One Basalt server over 4 drive folders (EC 2+2) on loopback. The load is curl
(one process per stream) sending bytes from files in /dev/shm to presigned
UNSIGNED-PAYLOAD URLs, so the client costs little CPU next to the server:

  single     one PUT of the whole object, one stream;
  multipart  CreateMultipartUpload, the object as `--parts` parts uploaded all
             at once (one curl each), CompleteMultipartUpload; timed from the
             create to the answer of the complete. The complete alone is timed
             too: from the second run on it replaces the previous object.

Target (issue 3): multipart >= 80% of single x P, where P is the parallelism
the cores allow. Both readings of P are reported:
  literal   P = min(parts, cores);
  by CPU    P = min(parts, cores / the cores one stream keeps busy, server
            and curl together): one stream already runs on more than one
            core (the request thread, the hashing worker, the drives' I/O
            threads), so the cores leave room for fewer than `cores` streams.
Server CPU is read from /proc/PID/stat, curl's from getrusage(RUSAGE_CHILDREN).
Each figure is measured `--runs` times; the table shows the medians. --record
appends a section to docs/benchmarks.md.
"""

import argparse
import datetime
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402
import presign  # noqa: E402

MiB = 1 << 20


def curl_put(url, path):
    return subprocess.Popen(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "-T", str(path),
                             "-H", "Expect:", url], stdin=subprocess.DEVNULL)


def url_for(srv, c, op, params):
    url = c.generate_presigned_url(op, Params=params, ExpiresIn=3600)
    return url


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(srv, fn, *args):
    """(seconds, server cores, client cores) of fn(*args): CPU used on average."""
    c0, k0 = cpu_seconds(srv.pid), children_cpu()
    t = fn(*args)
    return t, (cpu_seconds(srv.pid) - c0) / t, (children_cpu() - k0) / t


def run_single(srv, c, bucket, src):
    url = url_for(srv, c, "put_object", {"Bucket": bucket, "Key": "single"})
    t0 = time.monotonic()
    p = curl_put(url, src)
    if p.wait() != 0:
        raise RuntimeError("single PUT failed")
    return time.monotonic() - t0


COMPLETE_MS = []  # CompleteMultipartUpload of each run (from the 2nd: over the 1st's object)


def run_multipart(srv, c, bucket, parts):
    t0 = time.monotonic()
    uid = c.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    urls = [url_for(srv, c, "upload_part", {"Bucket": bucket, "Key": "mp", "UploadId": uid,
                                            "PartNumber": n}) for n in range(1, len(parts) + 1)]
    procs = [curl_put(u, p) for u, p in zip(urls, parts)]
    if any(p.wait() != 0 for p in procs):
        raise RuntimeError("a part upload failed")
    listed = c.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    t1 = time.monotonic()
    c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]})
    COMPLETE_MS.append(1000 * (time.monotonic() - t1))
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--parts", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sync", choices=("on", "off"), default="on")
    ap.add_argument("--port", type=int, default=9495)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    binary = os.environ.get("BASALT_BIN") or str(REPO / "build-release" / "basalt")
    if not bench.port_free(a.port):
        sys.exit(f"bench: port {a.port} is in use (--port)")
    size = a.size_mib * MiB
    part = size // a.parts
    work = Path(tempfile.mkdtemp(prefix="basalt-bench-mp-", dir=os.environ.get("BENCH_DIR", "/tmp")))
    shm = Path(tempfile.mkdtemp(prefix="basalt-bench-mp-", dir="/dev/shm"))
    srv = bench.Basalt(binary, work / "srv", a.port, a.sync == "on").start()
    try:
        src = shm / "whole"
        with open(src, "wb") as f:
            chunk = os.urandom(MiB)
            for i in range(a.size_mib):
                f.write(chunk[i % 7:] + chunk[:i % 7])
        parts = []
        with open(src, "rb") as f:
            for i in range(a.parts):
                p = shm / f"part{i}"
                p.write_bytes(f.read(part if i < a.parts - 1 else size - part * (a.parts - 1)))
                parts.append(p)
        c = srv.client()
        c.create_bucket(Bucket="bench-mp")
        single, multi, s_cpu, m_cpu, s_cli, m_cli = [], [], [], [], [], []
        for r in range(a.runs):
            subprocess.run(["sync"], check=False)  # start each phase with no writeback pending
            t, cores, client = timed(srv, run_single, srv, c, "bench-mp", src)
            single.append(size / MiB / t)
            s_cpu.append(cores)
            s_cli.append(client)
            subprocess.run(["sync"], check=False)
            t, cores, client = timed(srv, run_multipart, srv, c, "bench-mp", parts)
            multi.append(size / MiB / t)
            m_cpu.append(cores)
            m_cli.append(client)
            bench.log(f"run {r + 1}: single {single[-1]:.0f} MiB/s ({s_cpu[-1]:.2f} + "
                      f"{s_cli[-1]:.2f} cores), multipart {multi[-1]:.0f} MiB/s "
                      f"({m_cpu[-1]:.2f} + {m_cli[-1]:.2f} cores)")
        cores = os.cpu_count() or 1
        par = min(a.parts, cores)
        s_med, m_med = statistics.median(single), statistics.median(multi)
        one_stream = statistics.median(s_cpu) + statistics.median(s_cli)
        par_cpu = min(a.parts, cores / one_stream)
        target, target_cpu = 0.8 * s_med * par, 0.8 * s_med * par_cpu

        def verdict(t):
            return "reached" if m_med >= t else "NOT reached"

        def runs(xs):
            return ", ".join(f"{x:.0f}" for x in xs)

        lines = [
            f"| single PUT {a.size_mib} MiB, 1 stream | {s_med:,.0f} MiB/s | runs {runs(single)}; "
            f"CPU {statistics.median(s_cpu):.2f} cores server + {statistics.median(s_cli):.2f} curl |",
            f"| multipart {a.size_mib} MiB, {a.parts} parts at once | {m_med:,.0f} MiB/s | runs "
            f"{runs(multi)}; CPU {statistics.median(m_cpu):.2f} cores server + "
            f"{statistics.median(m_cli):.2f} curl; CompleteMultipartUpload "
            f"{', '.join(f'{x:.0f}' for x in COMPLETE_MS)} ms (from run 2: an overwrite) |",
            f"| target, literal: 80% of single x {par} (min(parts, {cores} cores)) | {target:,.0f} MiB/s "
            f"| {verdict(target)} ({m_med / s_med:.2f}x single; needs {0.8 * par:.2f}x) |",
            f"| target, by CPU: 80% of single x {par_cpu:.2f} ({cores} cores / {one_stream:.2f} per "
            f"stream) | {target_cpu:,.0f} MiB/s | {verdict(target_cpu)} |",
        ]
        print("\n".join(lines))
        if a.record:
            cmd = "bench/multipart.py " + " ".join(sys.argv[1:])
            with open(REPO / "docs" / "benchmarks.md", "a") as f:
                f.write(f"\n## Multipart upload ({datetime.date.today()}, `{cmd}`)\n\n"
                        f"Machine: {bench.machine()}; commit {bench.git_rev()}; --sync={a.sync}; "
                        f"curl from /dev/shm to presigned URLs.\n\n"
                        "| figure | median | notes |\n|---|---|---|\n" + "\n".join(lines) + "\n")
    finally:
        srv.stop()
        import shutil
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
