#!/usr/bin/python3
"""bench/bench.py: the figures of issue 2, measured against nginx in the same
run. Started by bench/run.sh (see there for the environment variables).

One Basalt server with --sync=on (the default) and one with --sync=off, each
over 4 drive folders (EC 2+2), and one nginx (static files, dav PUT), all on
loopback; load from wrk replaying presigned URLs (bench/urls.lua). Every
throughput figure is measured RUNS times; the table shows medians.
"""

import argparse
import datetime
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import presign  # noqa: E402

MiB = 1024 * 1024
AK, SK = "benchadmin", "bench-secret-key-1"
LUA = HERE / "urls.lua"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def wait_port(port, timeout=30, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Basalt:
    def __init__(self, binary, root, port, sync):
        self.binary, self.root, self.port, self.sync = binary, Path(root), port, sync
        self.proc = None
        self.endpoint = f"http://127.0.0.1:{port}"

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, BASALT_ROOT_USER=AK, BASALT_ROOT_PASSWORD=SK)
        self.logf = open(self.root / "server.log", "ab")
        args = [str(self.binary), "server", "--address", f"127.0.0.1:{self.port}",
                f"--sync={'on' if self.sync else 'off'}", str(self.root / "d{1...4}")]
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        import requests
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"basalt exited with {self.proc.returncode}; see "
                                   f"{self.root / 'server.log'}")
            try:
                if requests.get(self.endpoint + "/basalt/health/live", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("basalt not live after 30 s")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc:
            self.logf.close()

    def client(self):
        return presign.client(self.endpoint, AK, SK)

    def presign(self, method, bucket, keys):
        return presign.fast_presign_paths(f"127.0.0.1:{self.port}", AK, SK, method, bucket, keys)


class Nginx:
    def __init__(self, root, port):
        self.root, self.port = Path(root), port
        self.www = self.root / "www"
        self.proc = None

    def start(self):
        (self.www / "dav").mkdir(parents=True, exist_ok=True)
        (self.root / "body").mkdir(exist_ok=True)
        conf = self.root / "nginx.conf"
        conf.write_text(f"""
user root;
daemon off;
worker_processes auto;
pid {self.root}/nginx.pid;
error_log {self.root}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    sendfile_max_chunk 512k;  # the fastest setting for 64 MiB files here (tried: off, on, 512k)
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {self.root}/body;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.www};
        client_max_body_size 0;
        location /dav/ {{
            dav_methods PUT;
            create_full_put_path on;
        }}
    }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(self.root)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def write_paths(path, paths):
    Path(path).write_text("\n".join(paths) + "\n")
    return path


def wrk(base_url, paths_file, conns, duration, body_file=None, static=False, timeout="60s",
        latency=False):
    """One wrk run; with latency=True also p50_ms and p99_ms (wrk --latency)."""
    threads = min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", timeout,
           "-s", str(LUA), base_url, "--", str(paths_file)]
    if latency:
        cmd.insert(1, "--latency")
    if body_file:
        cmd += [str(body_file), "static" if static else "dynamic"]
    env = dict(os.environ, WRK_THREADS=str(threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 120)
    out = r.stdout + r.stderr
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({r.returncode}):\n{out}")
    n = int(m.group(1))
    secs = float(m.group(2)) * (60 if m.group(3) == "m" else 1)  # "1.00m" never with -d < 60
    errors = 0
    m2 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m2:
        errors += int(m2.group(1))
    m3 = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m3:
        errors += sum(int(x) for x in m3.groups())
    res = {"requests": n, "seconds": secs, "rps": n / secs if secs else 0.0, "errors": errors,
           "raw": out}
    if latency:
        res["p50_ms"], res["p99_ms"] = wrk_percentile(out, 50), wrk_percentile(out, 99)
    return res


_WRK_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_percentile(out, pct):
    """A line of wrk's "Latency Distribution" ("     99%    4.12ms"), in ms (NaN if absent)."""
    m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    return float(m.group(1)) * _WRK_UNIT_MS[m.group(2)] if m else float("nan")


def upload_file(c, bucket, key, path):
    with open(path, "rb") as f:
        c.put_object(Bucket=bucket, Key=key, Body=f)


def ensure_bucket(c, b):
    try:
        c.create_bucket(Bucket=b)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass


# ---- RSS under concurrent large uploads ---------------------------------------------------

class Body:
    """A streamed request body of `size` bytes with a known length."""

    def __init__(self, size, block):
        self.size, self.block = size, block

    def __len__(self):
        return self.size

    def __iter__(self):
        left = self.size
        while left > 0:
            n = min(left, len(self.block))
            yield self.block if n == len(self.block) else self.block[:n]
            left -= n


def proc_cpu_s(pid):
    """utime + stime of process `pid` in seconds (/proc/PID/stat)."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    return 0


def rss_under_uploads(srv, clients, size):
    import requests
    block = os.urandom(MiB)
    keys = [f"rss/{clients}/{i}" for i in range(clients)]
    paths = srv.presign("PUT", "bench", keys)
    try:
        with open(f"/proc/{srv.pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM
    except OSError:
        pass
    peak = [0]
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], status_kb(srv.pid, "VmRSS"))
            except OSError:
                return
            time.sleep(0.05)

    results = [None] * clients

    def up(i):
        try:
            r = requests.put(srv.endpoint + paths[i], data=Body(size, block), timeout=600)
            results[i] = r.status_code
        except Exception as e:  # noqa: BLE001
            results[i] = repr(e)

    st = threading.Thread(target=sampler, daemon=True)
    st.start()
    t0 = time.monotonic()
    ths = [threading.Thread(target=up, args=(i,), daemon=True) for i in range(clients)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(1800)
    secs = time.monotonic() - t0
    stop.set()
    st.join(5)
    hwm = status_kb(srv.pid, "VmHWM")
    c = srv.client()
    for k in keys:
        try:
            c.delete_object(Bucket="bench", Key=k)
        except Exception:  # noqa: BLE001
            pass
    ok = sum(1 for r in results if r == 200)
    return {"clients": clients, "peak_rss_mib": peak[0] / 1024, "hwm_mib": hwm / 1024,
            "ok": ok, "errors": [r for r in results if r != 200],
            "mib_per_s": clients * size / MiB / secs}


# ---- the run -----------------------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def machine():
    cpu = "?"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    distro = ""
    try:
        distro = "Debian " + Path("/etc/debian_version").read_text().strip()
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, kernel {os.uname().release}"
            f"{', ' + distro if distro else ''}")


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (+ uncommitted changes in src/)" if dirty else "")
    except OSError:
        return "?"


def perf_profile(pid, seconds, out):
    """perf record of the server during a figure; returns the top of the report."""
    if not shutil.which("perf"):
        log("bench: perf not installed, no profile")
        return None
    data = out.with_suffix(".data")
    p = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", str(data),
                          "--", "sleep", str(seconds)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, data


def perf_report(p, data, out):
    p.wait(120)
    r = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                        "--percent-limit", "1.5", "--sort", "dso,symbol", "-g", "none"],
                       capture_output=True, text=True)
    lines = [re.sub(r"(\s+-)+\s*$", "", ln) for ln in r.stdout.splitlines()
             if ln.strip() and not ln.startswith("#")]
    out.write_text("\n".join(lines) + "\n")
    return "\n".join(lines[:25])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", action="store_true", help="append the results to docs/benchmarks.md")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "0")))
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                    help="comma list of: get64,put64,small,mid,rss (default all)")
    ap.add_argument("--profile", default=os.environ.get("BENCH_PROFILE", ""),
                    help="comma list of figures to profile with perf (get64,put64off,put64on,"
                         "put4k,get4k,get1m,put1m)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    binary = Path(os.environ.get("BASALT_BIN") or REPO / "build" / "basalt").resolve()
    if not binary.exists():
        sys.exit(f"bench: {binary} not found (make RELEASE=1 build/basalt, or set BASALT_BIN)")
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not installed (apt-get install wrk nginx-light)")
    duration = a.duration or (5 if a.quick else 10)
    rss_size = (256 if a.quick else 1024) * MiB
    only = set(x for x in a.only.split(",") if x) or {"get64", "put64", "small", "mid", "rss"}
    profile = set(x for x in a.profile.split(",") if x)
    base_port = int(os.environ.get("BENCH_PORT_BASE", "9390"))
    p_on, p_off, p_ngx = base_port, base_port + 1, base_port + 2
    for p in (p_on, p_off, p_ngx):
        if not port_free(p):
            sys.exit(f"bench: port {p} is busy (set BENCH_PORT_BASE)")

    work = Path(tempfile.mkdtemp(prefix="basalt-bench-", dir=os.environ.get("BENCH_DIR")))
    log(f"bench: binary {binary}, work dir {work}, {a.runs} runs of {duration} s")
    s_on = Basalt(binary, work / "sync-on", p_on, True)
    s_off = Basalt(binary, work / "sync-off", p_off, False)
    ngx = Nginx(work / "nginx", p_ngx)
    res = {}  # figure -> list of values
    extra = {}
    profiles = {}

    def add(fig, v):
        res.setdefault(fig, []).append(v)

    try:
        s_on.start()
        time.sleep(2)
        extra["rss_idle_start"] = status_kb(s_on.pid, "VmRSS") / 1024
        s_off.start()
        ngx.start()
        c_on, c_off = s_on.client(), s_off.client()
        for c in (c_on, c_off):
            ensure_bucket(c, "bench")
        # bodies: one 64 MiB file and one 4 KiB file, the same bytes everywhere
        big = work / "body-64m"
        with open(big, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(MiB))
        small = work / "body-4k"
        small.write_bytes(os.urandom(4096))
        mid = work / "body-1m"
        mid.write_bytes(os.urandom(MiB))
        files = work / "paths"
        files.mkdir()

        if "get64" in only:
            log("bench: uploading 4 x 64 MiB for GET")
            for i in range(4):
                upload_file(c_on, "bench", f"get64/{i}", big)
                (ngx.www / "get64").mkdir(exist_ok=True)
                shutil.copyfile(big, ngx.www / "get64" / str(i))
            b_get64 = write_paths(files / "b-get64", s_on.presign("GET", "bench",
                                                                  [f"get64/{i}" for i in range(4)]))
            n_get64 = write_paths(files / "n-get64", [f"/get64/{i}" for i in range(4)])
            # check a presigned URL before loading
            import requests
            r = requests.get(s_on.endpoint + b_get64.read_text().split("\n")[0], timeout=60)
            assert r.status_code == 200 and len(r.content) == 64 * MiB, r.status_code
        if "small" in only:
            log("bench: uploading 1,000 x 4 KiB for GET")
            from concurrent.futures import ThreadPoolExecutor
            data4k = small.read_bytes()
            with ThreadPoolExecutor(16) as ex:
                list(ex.map(lambda i: c_on.put_object(Bucket="bench", Key=f"get4k/{i:05d}",
                                                      Body=data4k), range(1000)))
            (ngx.www / "get4k").mkdir(exist_ok=True)
            for i in range(1000):
                shutil.copyfile(small, ngx.www / "get4k" / f"{i:05d}")
            b_get4k = write_paths(files / "b-get4k", s_on.presign(
                "GET", "bench", [f"get4k/{i:05d}" for i in range(1000)]))
            n_get4k = write_paths(files / "n-get4k", [f"/get4k/{i:05d}" for i in range(1000)])

        if "mid" in only:
            # 1 MiB objects (issue 17): 64 to GET; PUTs overwrite 64 keys (distinct keys
            # would fill the disk at this rate)
            log("bench: uploading 64 x 1 MiB for GET")
            (ngx.www / "get1m").mkdir(exist_ok=True)
            for i in range(64):
                upload_file(c_on, "bench", f"get1m/{i}", mid)
                shutil.copyfile(mid, ngx.www / "get1m" / str(i))
            b_get1m = write_paths(files / "b-get1m", s_on.presign(
                "GET", "bench", [f"get1m/{i}" for i in range(64)]))
            n_get1m = write_paths(files / "n-get1m", [f"/get1m/{i}" for i in range(64)])
            b_put1m = write_paths(files / "b-put1m", s_on.presign(
                "PUT", "bench", [f"put1m/{i}" for i in range(64)]))
            n_put1m = write_paths(files / "n-put1m", [f"/dav/put1m/{i}" for i in range(64)])

        for run in range(1, a.runs + 1):
            log(f"bench: run {run}/{a.runs}")
            if "get64" in only:
                prof = ("get64" in profile and run == 1) and perf_profile(s_on.pid, duration, work / "get64.perf")
                r = wrk(s_on.endpoint, b_get64, 4, duration)
                if prof:
                    profiles["get64"] = perf_report(*prof, work / "get64.perf.txt")
                add("get64_basalt", (r["rps"] * 64, r["errors"]))
                r = wrk(f"http://127.0.0.1:{p_ngx}", n_get64, 4, duration)
                add("get64_nginx", (r["rps"] * 64, r["errors"]))
            if "put64" in only:
                keys = [f"put64/{i}" for i in range(4)]
                for name, srv, fig in (("put64off", s_off, "put64_off"), ("put64on", s_on, "put64_on")):
                    pf = write_paths(files / f"{name}-{run}", srv.presign("PUT", "bench", keys))
                    prof = (name in profile and run == 1) and perf_profile(srv.pid, duration, work / f"{name}.perf")
                    r = wrk(srv.endpoint, pf, 4, duration, body_file=big, static=True)
                    if prof:
                        profiles[name] = perf_report(*prof, work / f"{name}.perf.txt")
                    add(fig, (r["rps"] * 64, r["errors"]))
                r = wrk(f"http://127.0.0.1:{p_ngx}", write_paths(
                    files / "n-put64", [f"/dav/put64/{i}" for i in range(4)]), 4, duration,
                    body_file=big, static=True)
                add("put64_nginx", (r["rps"] * 64, r["errors"]))
            if "small" in only:
                n = 40000
                pf = write_paths(files / f"b-put4k-{run}", s_on.presign(
                    "PUT", "bench", [f"put4k/r{run}/{i:06d}" for i in range(n)]))
                prof = ("put4k" in profile and run == 1) and perf_profile(s_on.pid, duration, work / "put4k.perf")
                r = wrk(s_on.endpoint, pf, 16, duration, body_file=small)
                if prof:
                    profiles["put4k"] = perf_report(*prof, work / "put4k.perf.txt")
                add("put4k_basalt", (r["rps"], r["errors"]))
                if r["requests"] > n:
                    log(f"bench: note: {r['requests']} PUTs > {n} keys: some were overwrites")
                r = wrk(f"http://127.0.0.1:{p_ngx}", write_paths(
                    files / f"n-put4k-{run}", [f"/dav/put4k/r{run}/{i:06d}" for i in range(n)]),
                    16, duration, body_file=small)
                add("put4k_nginx", (r["rps"], r["errors"]))
                prof = ("get4k" in profile and run == 1) and perf_profile(s_on.pid, duration, work / "get4k.perf")
                r = wrk(s_on.endpoint, b_get4k, 16, duration)
                if prof:
                    profiles["get4k"] = perf_report(*prof, work / "get4k.perf.txt")
                add("get4k_basalt", (r["rps"], r["errors"]))
                r = wrk(f"http://127.0.0.1:{p_ngx}", n_get4k, 16, duration)
                add("get4k_nginx", (r["rps"], r["errors"]))

            if "mid" in only:
                prof = ("get1m" in profile and run == 1) and perf_profile(s_on.pid, duration, work / "get1m.perf")
                cpu0 = proc_cpu_s(s_on.pid)
                r = wrk(s_on.endpoint, b_get1m, 8, duration)
                add("get1m_cpu", ((proc_cpu_s(s_on.pid) - cpu0) * 1000 / max(r["requests"], 1), 0))
                if prof:
                    profiles["get1m"] = perf_report(*prof, work / "get1m.perf.txt")
                add("get1m_basalt", (r["rps"], r["errors"]))
                r = wrk(f"http://127.0.0.1:{p_ngx}", n_get1m, 8, duration)
                add("get1m_nginx", (r["rps"], r["errors"]))
                prof = ("put1m" in profile and run == 1) and perf_profile(s_on.pid, duration, work / "put1m.perf")
                cpu0 = proc_cpu_s(s_on.pid)
                r = wrk(s_on.endpoint, b_put1m, 8, duration, body_file=mid, static=True)
                add("put1m_cpu", ((proc_cpu_s(s_on.pid) - cpu0) * 1000 / max(r["requests"], 1), 0))
                if prof:
                    profiles["put1m"] = perf_report(*prof, work / "put1m.perf.txt")
                add("put1m_basalt", (r["rps"], r["errors"]))
                r = wrk(f"http://127.0.0.1:{p_ngx}", n_put1m, 8, duration, body_file=mid, static=True)
                add("put1m_nginx", (r["rps"], r["errors"]))

        time.sleep(2)
        extra["rss_idle_after"] = status_kb(s_on.pid, "VmRSS") / 1024
        if "rss" in only:
            # a fresh server for the memory figures, so the earlier load does not count
            s_on.stop()
            s_off.stop()
            s_mem = Basalt(binary, work / "mem", p_on, True).start()
            s_on = s_mem
            time.sleep(2)
            extra["rss_idle_fresh"] = status_kb(s_mem.pid, "VmRSS") / 1024
            ensure_bucket(s_mem.client(), "bench")
            extra["rss"] = []
            for clients in (1, 4, 16):
                log(f"bench: RSS with {clients} clients x {rss_size // MiB} MiB")
                extra["rss"].append(rss_under_uploads(s_mem, clients, rss_size))
            time.sleep(2)
            extra["rss_idle_end"] = status_kb(s_mem.pid, "VmRSS") / 1024
    finally:
        for p in (s_on, s_off, ngx):
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001
                log(f"bench: stopping {p}: {e}")
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    table = report(res, extra, a, duration, rss_size)
    print(table)
    for name, txt in profiles.items():
        print(f"\nperf profile, {name} (top symbols):\n{txt}")
    if a.record:
        record(table, profiles, a, duration, binary)


def fmt_vals(vals, unit):
    return ", ".join(f"{v:.0f}" for v, _ in vals)


def report(res, extra, a, duration, rss_size):
    rows = []

    def med(fig):
        vals = res.get(fig, [])
        return median([v for v, _ in vals]), sum(e for _, e in vals), vals

    def row(name, fig, unit, target_fn, target_txt, base_fig=None):
        if fig not in res:
            return
        m, errs, vals = med(fig)
        base = ""
        if base_fig and base_fig in res:
            bm, berrs, _ = med(base_fig)
            base = f"{bm:,.0f} {unit}" + (f" ({berrs} errors)" if berrs else "")
            pct = f" ({100 * m / bm:.0f}%)" if bm else ""
        else:
            pct = ""
        ok = target_fn(m, med(base_fig)[0] if base_fig and base_fig in res else None)
        verdict = "-" if ok is None else ("yes" if ok and not errs else "NO")
        rows.append(f"| {name} | {m:,.0f} {unit}{pct}{f' ({errs} errors)' if errs else ''} "
                    f"| {base or '-'} | {target_txt} | {verdict} | {fmt_vals(vals, unit)} |")

    row("GET 64 MiB, 4 connections", "get64_basalt", "MiB/s",
        lambda m, b: b and m >= 0.5 * b, ">= 50% of nginx", "get64_nginx")
    row("PUT 64 MiB, 4 connections, --sync=off", "put64_off", "MiB/s",
        lambda m, b: m >= 300, ">= 300 MiB/s", "put64_nginx")
    row("PUT 64 MiB, 4 connections, sync on", "put64_on", "MiB/s",
        lambda m, b: None, "report", "put64_nginx")
    row("PUT 4 KiB, 16 connections, sync on", "put4k_basalt", "ops/s",
        lambda m, b: m >= 1500, ">= 1,500 ops/s", "put4k_nginx")
    row("GET 4 KiB, 16 connections", "get4k_basalt", "ops/s",
        lambda m, b: m >= 5000, ">= 5,000 ops/s", "get4k_nginx")
    row("GET 1 MiB, 8 connections", "get1m_basalt", "MiB/s",
        lambda m, b: b and m >= 0.6 * b, ">= 60% of nginx", "get1m_nginx")
    row("PUT 1 MiB, 8 connections, sync on", "put1m_basalt", "MiB/s",
        lambda m, b: m >= 400, ">= 400 MiB/s", "put1m_nginx")
    for fig, label in (("get1m_cpu", "GET 1 MiB"), ("put1m_cpu", "PUT 1 MiB")):
        if fig in res:
            vals = [v for v, _ in res[fig]]
            rows.append(f"| server CPU per {label} request | {median(vals):.2f} ms | - | report | - | "
                        + ", ".join(f"{v:.2f}" for v in vals) + " |")
    for k, label in (("rss_idle_start", "RSS idle (fresh server)"),
                     ("rss_idle_fresh", "RSS idle (fresh server, before uploads)"),
                     ("rss_idle_after", "RSS idle after the throughput runs"),
                     ("rss_idle_end", f"RSS idle after the {rss_size // MiB} MiB uploads")):
        if k in extra:
            v = extra[k]
            rows.append(f"| {label} | {v:.1f} MiB | - | <= 64 MiB | {'yes' if v <= 64 else 'NO'} | |")
    for r in extra.get("rss", []):
        lim = 256
        ok = r["peak_rss_mib"] <= lim and r["ok"] == r["clients"]
        err = f", {len(r['errors'])} failed: {r['errors'][:2]}" if r["errors"] else ""
        rows.append(f"| RSS peak, {r['clients']} x {rss_size // MiB} MiB uploads | "
                    f"{r['peak_rss_mib']:.1f} MiB (VmHWM {r['hwm_mib']:.1f}){err} | - | "
                    f"<= 256 MiB{' at 16' if r['clients'] == 16 else ''} | {'yes' if ok else 'NO'} | "
                    f"{r['mib_per_s']:.0f} MiB/s total |")
    head = ("| figure | Basalt (median) | nginx (median) | target | reached | all runs |\n"
            "|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def record(table, profiles, a, duration, binary):
    doc = REPO / "docs" / "benchmarks.md"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sec = [f"\n## {now}, commit {git_rev()}\n",
           f"- Machine: {machine()}.",
           f"- Basalt: `{binary}`, 4 drive folders under /tmp (one filesystem), EC 2+2; "
           f"{a.runs} runs of {duration} s per figure, medians; wrk -t2 (`bench/urls.lua`) "
           f"replaying presigned URLs; nginx {nginx_version()} with `worker_processes auto`, "
           f"sendfile, dav PUT, on the same loopback.",
           f"- Command: `bench/run.sh --record`{' (BENCH_QUICK=1)' if a.quick else ''}.\n",
           table, ""]
    for name, txt in profiles.items():
        sec.append(f"perf profile of the server during {name} (self time, top symbols):\n")
        sec.append("```\n" + txt + "\n```\n")
    if not doc.exists():
        doc.write_text("# Benchmarks\n\nWritten by `bench/run.sh --record`; see the top of "
                       "`bench/run.sh` for the method.\n")
    with open(doc, "a") as f:
        f.write("\n".join(sec) + "\n")
    log(f"bench: appended to {doc}")


def nginx_version():
    r = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    return (r.stderr.strip().split("/")[-1] or "?")


if __name__ == "__main__":
    main()
