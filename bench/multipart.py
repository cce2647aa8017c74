#!/usr/bin/python3
"""bench/multipart.py: the multipart figure of issue 3.

    bench/multipart.py [--size-mib 1024] [--parts 8] [--runs 3] [--sync on|off]
                       [--client sendfile|curl] [--record]

One Basalt server over 4 drive folders (EC 2+2) on loopback. The load is
bytes from files in /dev/shm sent to presigned UNSIGNED-PAYLOAD URLs, by a
client that costs the shared cores as little as it can: `sendfile` (the
default) writes the request head and then sendfile(2)s the file into the
socket, one thread per stream in this process, so no byte is copied in user
space; `curl` runs one curl process per stream (about 0.3 cores at these
rates):

  single     one PUT of the whole object, one stream;
  single, 1 CPU
             the same with every server thread pinned to one CPU (the client
             is not pinned: it can run on another CPU, so the server has its
             CPU to itself);
  multipart  CreateMultipartUpload, the object as `--parts` parts uploaded all
             at once, CompleteMultipartUpload; timed from the create to the
             answer of the complete.

Each run uploads new keys. Before each timed phase the previous run's object
of that phase is deleted and the drives' trash (the data of deleted and
replaced versions, freed by a background thread) is left to empty, then
`sync`: no phase pays for freeing or writing back another's bytes. After the
runs, one more multipart upload replaces the last one, and its
CompleteMultipartUpload alone is timed (an overwrite: the old version's
data goes to the trash).

Target (issue 3): multipart >= 80% of single x P, where P is the parallelism
the cores allow. One stream already runs on more than one core (the request
thread, the hashing worker, the drives' I/O threads), so "single x cores"
counts the cores twice. Three readings are reported:
  literal   single x min(parts, cores), single on the whole machine;
  per CPU   single on 1 CPU x min(parts, cores): what one stream gets from
            one core, times the cores;
  by CPU    single x min(parts, cores / the cores one stream keeps busy,
            server and client together).
Server CPU is read from /proc/PID/stat; the client's from getrusage()
(this process, which runs the sendfile threads and the SDK calls, plus its
curl children).
Each figure is measured `--runs` times; the table shows the medians. --record
appends a section to docs/benchmarks.md.
"""

import argparse
import datetime
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402

MiB = 1 << 20


def curl_put(url, path):
    return subprocess.Popen(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "-T", str(path),
                             "-H", "Expect:", url], stdin=subprocess.DEVNULL)


def sendfile_put(url, path, errors):
    """PUT the file at `path` to `url` with sendfile(2); appends a failure to `errors`."""
    u = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((u.hostname, u.port), timeout=300) as s, \
                open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            s.sendall(f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                      f"Content-Length: {size}\r\n\r\n".encode())
            s.sendfile(f)
            head = b""
            while b"\r\n\r\n" not in head:
                got = s.recv(65536)
                if not got:
                    break
                head += got
        if not head.startswith(b"HTTP/1.1 200 "):
            errors.append(f"{url}: {head[:200]!r}")
    except OSError as e:
        errors.append(f"{url}: {e}")


def put_all(client, urls, paths):
    """Uploads paths[i] to urls[i], all at once; raises if any upload failed."""
    if client == "curl":
        procs = [curl_put(u, p) for u, p in zip(urls, paths)]
        if any(p.wait() != 0 for p in procs):
            raise RuntimeError("an upload failed (curl)")
        return
    errors = []
    threads = [threading.Thread(target=sendfile_put, args=(u, p, errors))
               for u, p in zip(urls, paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("an upload failed: " + "; ".join(errors))


def url_for(srv, c, op, params):
    url = c.generate_presigned_url(op, Params=params, ExpiresIn=3600)
    return url


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_cpu():
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def timed(srv, fn, *args):
    """(seconds, server cores, client cores) of fn(*args): CPU used on average."""
    c0, k0 = cpu_seconds(srv.pid), client_cpu()
    t = fn(*args)
    return t, (cpu_seconds(srv.pid) - c0) / t, (client_cpu() - k0) / t


def pin(pid, cpus):
    """Pins every thread of process `pid` to `cpus` (threads it starts later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:  # the thread ended meanwhile
            pass


def run_single(srv, c, bucket, key, src, client):
    url = url_for(srv, c, "put_object", {"Bucket": bucket, "Key": key})
    t0 = time.monotonic()
    put_all(client, [url], [src])
    return time.monotonic() - t0


COMPLETE_MS = []  # the CompleteMultipartUpload of each multipart upload


def run_multipart(srv, c, bucket, key, parts, client):
    t0 = time.monotonic()
    uid = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    urls = [url_for(srv, c, "upload_part", {"Bucket": bucket, "Key": key, "UploadId": uid,
                                            "PartNumber": n}) for n in range(1, len(parts) + 1)]
    put_all(client, urls, parts)
    listed = c.list_parts(Bucket=bucket, Key=key, UploadId=uid)["Parts"]
    t1 = time.monotonic()
    c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]})
    COMPLETE_MS.append(1000 * (time.monotonic() - t1))
    return time.monotonic() - t0


def settle(drives, timeout=120):
    """Waits until no drive's trash holds data still to free, then syncs."""
    deadline = time.monotonic() + timeout
    while any(any((d / ".basalt" / "trash").iterdir()) for d in drives
              if (d / ".basalt" / "trash").is_dir()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the drives' trash did not empty in {timeout} s")
        time.sleep(0.05)
    subprocess.run(["sync"], check=False)  # and no writeback pending


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--parts", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sync", choices=("on", "off"), default="on")
    ap.add_argument("--client", choices=("sendfile", "curl"), default="sendfile")
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
        drives = [work / "srv" / f"d{i}" for i in range(1, 5)]
        single, multi, s_cpu, m_cpu, s_cli, m_cli = [], [], [], [], [], []
        single1, all_cpus = [], os.sched_getaffinity(0)
        for r in range(a.runs):
            if r:
                c.delete_object(Bucket="bench-mp", Key=f"single1-{r - 1}")
            settle(drives)
            pin(srv.pid, {min(all_cpus)})
            try:
                t = run_single(srv, c, "bench-mp", f"single1-{r}", src, a.client)
            finally:
                pin(srv.pid, all_cpus)
            single1.append(size / MiB / t)
            if r:
                c.delete_object(Bucket="bench-mp", Key=f"single-{r - 1}")
            settle(drives)
            t, cores, client = timed(srv, run_single, srv, c, "bench-mp", f"single-{r}", src,
                                     a.client)
            single.append(size / MiB / t)
            s_cpu.append(cores)
            s_cli.append(client)
            if r:
                c.delete_object(Bucket="bench-mp", Key=f"mp-{r - 1}")
            settle(drives)
            t, cores, client = timed(srv, run_multipart, srv, c, "bench-mp", f"mp-{r}", parts,
                                     a.client)
            multi.append(size / MiB / t)
            m_cpu.append(cores)
            m_cli.append(client)
            bench.log(f"run {r + 1}: single {single[-1]:.0f} MiB/s ({s_cpu[-1]:.2f} + "
                      f"{s_cli[-1]:.2f} cores), single on 1 CPU {single1[-1]:.0f} MiB/s, "
                      f"multipart {multi[-1]:.0f} MiB/s ({m_cpu[-1]:.2f} + {m_cli[-1]:.2f} cores)")
        settle(drives)
        run_multipart(srv, c, "bench-mp", f"mp-{a.runs - 1}", parts, a.client)  # an overwrite
        overwrite_ms = COMPLETE_MS.pop()
        cores = os.cpu_count() or 1
        par = min(a.parts, cores)
        s_med, m_med = statistics.median(single), statistics.median(multi)
        s1_med = statistics.median(single1)
        one_stream = statistics.median(s_cpu) + statistics.median(s_cli)
        par_cpu = min(a.parts, cores / one_stream)
        cli = "client" if a.client == "sendfile" else "curl"
        target, target_cpu = 0.8 * s_med * par, 0.8 * s_med * par_cpu
        target_1 = 0.8 * s1_med * par

        def verdict(t):
            return "reached" if m_med >= t else "NOT reached"

        def runs(xs):
            return ", ".join(f"{x:.0f}" for x in xs)

        lines = [
            f"| single PUT {a.size_mib} MiB, 1 stream | {s_med:,.0f} MiB/s | runs {runs(single)}; "
            f"CPU {statistics.median(s_cpu):.2f} cores server + {statistics.median(s_cli):.2f} {cli} |",
            f"| single PUT {a.size_mib} MiB, 1 stream, server on 1 CPU | {s1_med:,.0f} MiB/s | runs "
            f"{runs(single1)} |",
            f"| multipart {a.size_mib} MiB, {a.parts} parts at once | {m_med:,.0f} MiB/s | runs "
            f"{runs(multi)}; CPU {statistics.median(m_cpu):.2f} cores server + "
            f"{statistics.median(m_cli):.2f} {cli}; CompleteMultipartUpload "
            f"{', '.join(f'{x:.0f}' for x in COMPLETE_MS)} ms; over an existing object "
            f"{overwrite_ms:.0f} ms |",
            f"| target, literal: 80% of single x {par} (min(parts, {cores} cores)) | {target:,.0f} MiB/s "
            f"| {verdict(target)} ({m_med / s_med:.2f}x single; needs {0.8 * par:.2f}x) |",
            f"| target, per CPU: 80% of single on 1 CPU x {par} | {target_1:,.0f} MiB/s | "
            f"{verdict(target_1)} ({m_med / s1_med:.2f}x single on 1 CPU) |",
            f"| target, by CPU: 80% of single x {par_cpu:.2f} ({cores} cores / {one_stream:.2f} per "
            f"stream) | {target_cpu:,.0f} MiB/s | {verdict(target_cpu)} |",
        ]
        print("\n".join(lines))
        if a.record:
            cmd = "bench/multipart.py " + " ".join(sys.argv[1:])
            with open(REPO / "docs" / "benchmarks.md", "a") as f:
                f.write(f"\n## Multipart upload ({datetime.date.today()}, `{cmd}`)\n\n"
                        f"Machine: {bench.machine()}; commit {bench.git_rev()}; --sync={a.sync}; "
                        f"{a.client} client, files in /dev/shm, presigned URLs.\n\n"
                        "| figure | median | notes |\n|---|---|---|\n" + "\n".join(lines) + "\n")
    finally:
        srv.stop()
        import shutil
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
