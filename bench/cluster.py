#!/usr/bin/python3
"""bench/cluster.py: the figures of issue 11 ("Figures"): a 4-node loopback
cluster against one node over the same 8 drive folders, in the same run.
Started by bench/cluster.sh (see there for the method and the environment).

    bench/cluster.sh [--record] [--runs N] [--duration S] [--quick]
                     [--only small,large,heal] [--profile put4k,get4k,put64,get64] [--keep]

Both deployments are one erasure set of 8 drives (EC 4+4), fsync on, on the
same filesystem, from the same binary. Each throughput figure is measured
RUNS times, the single node and the cluster one after the other (the order
flips every run), never at the same time; load from wrk replaying presigned
URLs (bench/urls.lua), on the cluster one wrk per node with its share of the
connections. The heal figure wipes one drive folder of node 2 under a running
cluster holding 10,000 objects (1 GiB) and times the heal.
"""

import argparse
import datetime
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import presign  # noqa: E402
from bench import (AK, SK, MiB, git_rev, log, machine, median, perf_profile,  # noqa: E402
                   perf_report, wrk, write_paths)

KiB = 1024
GiB = 1024 * MiB
NODES, DRIVES_PER_NODE = 4, 2
SMALL, LARGE = 4 * KiB, 64 * MiB
HEAL_TIMEOUT_S = 30 * 60
FIGS = {  # figure -> (label, connections, object size)
    "put4k": ("PUT 4 KiB (fsync), 16 clients", 16, SMALL),
    "get4k": ("GET 4 KiB (1,000 objects), 16 clients", 16, SMALL),
    "put64": ("PUT 64 MiB (fsync), 4 clients", 4, LARGE),
    "get64": ("GET 64 MiB (4 objects), 4 clients", 4, LARGE),
}
TARGETS = {"put4k": 0.33, "get4k": 0.33, "put64": 0.50, "get64": 0.50}


def addr_free(host, port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---- servers --------------------------------------------------------------------------------

class Node:
    """One basalt server process."""

    def __init__(self, binary, host, port, drives, logfile):
        self.binary, self.host, self.port = binary, host, port
        self.drives, self.logfile = drives, Path(logfile)
        self.proc = None
        self.hostport = f"{host}:{port}"
        self.endpoint = f"http://{self.hostport}"

    def start(self):
        env = dict(os.environ, BASALT_ROOT_USER=AK, BASALT_ROOT_PASSWORD=SK)
        self.logf = open(self.logfile, "ab")
        args = [str(self.binary), "server", "--address", self.hostport] + self.drives
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal_stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self):
        if self.proc is None:
            return
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            log(f"cluster: {self.hostport} did not stop in 15 s: killed")
            self.proc.kill()
            self.proc.wait(10)
        self.logf.close()


class Deployment:
    """The single node (one Node over 8 folders) or the cluster (4 Nodes, 2 folders each)."""

    def __init__(self, name, binary, root, nodes):
        self.name, self.binary, self.root, self.nodes = name, binary, Path(root), nodes

    @classmethod
    def single(cls, binary, root, port):
        root = Path(root)
        (root).mkdir(parents=True)
        node = Node(binary, "127.0.0.1", port, [str(root / "d{1...8}")], root / "server.log")
        return cls("1 node", binary, root, [node])

    @classmethod
    def cluster(cls, binary, root, port):
        # An explicit list, node-major: the ellipsis form would expand the hosts and the
        # folders as a product (4 x 4 x 2). The same list, in the same order, on every node.
        root = Path(root)
        eps = [f"http://127.0.0.{n}:{port}{root}/n{n}/d{d}"
               for n in range(1, NODES + 1) for d in range(1, DRIVES_PER_NODE + 1)]
        nodes = []
        for n in range(1, NODES + 1):
            (root / f"n{n}").mkdir(parents=True)
            nodes.append(Node(binary, f"127.0.0.{n}", port, eps, root / f"n{n}.log"))
        return cls("4 nodes", binary, root, nodes)

    def drive_dir(self, node, drive):
        """Drive folder `drive` (1-based) of node `node` (1-based), cluster only."""
        return self.root / f"n{node}" / f"d{drive}"

    def start(self, timeout=60):
        import requests
        for n in self.nodes:
            n.start()
        deadline = time.monotonic() + timeout
        pending = list(self.nodes)
        while pending:
            for n in list(pending):
                if not n.alive():
                    raise RuntimeError(f"{n.hostport} exited with {n.proc.returncode}; "
                                       f"see {n.logfile}")
                try:
                    r = requests.get(n.endpoint + "/basalt/health/cluster", timeout=2)
                    if r.status_code == 200:
                        pending.remove(n)
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: /basalt/health/cluster not 200 on "
                                   f"{[n.hostport for n in pending]} after {timeout} s")
            time.sleep(0.2)
        return self

    def stop(self):
        for n in self.nodes:
            n.signal_stop()
        for n in self.nodes:
            n.wait_stopped()

    def check_alive(self):
        dead = [f"{n.hostport} (exit {n.proc.returncode})" for n in self.nodes if not n.alive()]
        if dead:
            raise RuntimeError(f"{self.name}: node crashed: {', '.join(dead)}")

    def admin(self, *args, node=0):
        env = dict(os.environ, BASALT_ENDPOINT=self.nodes[node].endpoint,
                   BASALT_ACCESS_KEY=AK, BASALT_SECRET_KEY=SK)
        r = subprocess.run([str(self.binary), "admin", *args, "--json"], capture_output=True,
                           text=True, env=env, timeout=120)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise RuntimeError(f"basalt admin {' '.join(args)}: exit {r.returncode}: "
                               f"{r.stdout} {r.stderr}") from None

    def rpc_totals(self):
        """RPC calls, failures and new connections summed over every node and peer."""
        tot = {"calls": 0, "failures": 0, "connects": 0}
        for n in self.admin("info").get("nodes", []):
            for p in n.get("rpc", []):
                for k in tot:
                    tot[k] += int(p.get(k, 0))
        return tot

    def cpu(self):
        """CPU seconds used so far by the deployment's processes."""
        return sum(proc_cpu_s(n.pid) for n in self.nodes)

    def client(self):
        return presign.client(self.nodes[0].endpoint, AK, SK)

    def presign(self, method, bucket, keys, node):
        return presign.fast_presign_paths(self.nodes[node].hostport, AK, SK, method, bucket, keys)


def put_many(dep, bucket, keys, body, threads=16):
    """PUTs `body` to every key through presigned URLs, key i to node i % nodes; returns
    (seconds, [errors])."""
    import requests
    nn = len(dep.nodes)
    urls = []
    for j in range(nn):
        mine = keys[j::nn]
        urls += [dep.nodes[j].endpoint + p for p in dep.presign("PUT", bucket, mine, j)]
    local = threading.local()
    errors = []

    def put(url):
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        try:
            r = s.put(url, data=body, timeout=120)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:200]}")
        except requests.RequestException as e:
            errors.append(repr(e))

    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(put, urls))
    return time.monotonic() - t0, errors


# ---- load -----------------------------------------------------------------------------------

def load(dep, path_files, conns, duration, body=None, static=False):
    """One wrk per node, each with conns / nodes connections and its node's URLs, started
    together. Sum of requests/s; p50 = median of the processes' p50s, p99 = their max."""
    nn = len(dep.nodes)
    per = conns // nn
    out = [None] * nn
    fails = []

    def one(j):
        try:
            out[j] = wrk(dep.nodes[j].endpoint, path_files[j], per, duration, body_file=body,
                         static=static, latency=True)
        except Exception as e:  # noqa: BLE001
            fails.append(f"{dep.nodes[j].hostport}: {e}")

    ths = [threading.Thread(target=one, args=(j,)) for j in range(nn)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if fails:
        raise RuntimeError("wrk failed: " + "; ".join(fails))
    return {"requests": sum(r["requests"] for r in out), "rps": sum(r["rps"] for r in out),
            "errors": sum(r["errors"] for r in out),
            "p50": median([r["p50_ms"] for r in out]), "p99": max(r["p99_ms"] for r in out)}


class Bench:
    def __init__(self, a, work, single, cl, duration):
        self.a, self.work, self.duration = a, work, duration
        self.deps = {"single": single, "cluster": cl}
        self.files = work / "paths"
        self.files.mkdir()
        self.res = {}  # (fig, dep key) -> [run dicts]
        self.notes = {}
        self.profiles = {}
        self.info_cost = 0.0

    def paths(self, key, fig, method, bucket, keys, node_keys=None):
        """One paths file per node of deployment `key` (node_keys(j) gives node j's keys)."""
        dep = self.deps[key]
        out = []
        for j in range(len(dep.nodes)):
            ks = node_keys(j) if node_keys else keys
            out.append(write_paths(self.files / f"{key}-{fig}-{j}",
                                   dep.presign(method, bucket, ks, j)))
        return out

    def measure(self, key, fig, path_files, body=None, static=False, run=1):
        dep = self.deps[key]
        conns = FIGS[fig][1]
        before = dep.rpc_totals() if key == "cluster" else None
        c0, ru0, m0, t0 = dep.cpu(), resource.getrusage(resource.RUSAGE_CHILDREN), \
            machine_cpu(), time.monotonic()
        prof = None
        if fig in self.a.profile_set and run == 1:
            prof = perf_profile(dep.nodes[0].pid, self.duration,
                                self.work / f"{key}-{fig}.perf")
        r = load(dep, path_files, conns, self.duration, body, static)
        c1, ru1, m1 = dep.cpu(), resource.getrusage(resource.RUSAGE_CHILDREN), machine_cpu()
        elapsed = time.monotonic() - t0
        n = r["requests"] or 1
        r["cpu_ms"] = 1000 * (c1 - c0) / n
        r["wrk_cores"] = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / elapsed
        r["busy"] = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
        if prof:
            self.profiles[f"{fig}, {dep.name} (pid of {dep.nodes[0].hostport})"] = perf_report(
                *prof, self.work / f"{key}-{fig}.perf.txt")
        dep.check_alive()
        if before is not None:
            after = dep.rpc_totals()
            calls = (after["calls"] - before["calls"] - self.info_cost
                     - self.notes["rpc_idle_per_s"] * elapsed)
            r["rpc_per_req"] = calls / n
            r["connects"] = after["connects"] - before["connects"]
            r["rpc_failures"] = after["failures"] - before["failures"]
        r["ops"] = r["rps"]
        r["mibs"] = r["rps"] * FIGS[fig][2] / MiB
        self.res.setdefault((fig, key), []).append(r)
        log(f"cluster: {fig} {dep.name}: {r['ops']:,.1f} ops/s, {r['mibs']:,.1f} MiB/s, "
            f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, {r['errors']} errors, server CPU "
            f"{r['cpu_ms']:.2f} ms/request ({r['ops'] * r['cpu_ms'] / 1000:.2f} cores), wrk "
            f"{r['wrk_cores']:.2f} cores, machine "
            f"{100 * r['busy']:.0f}% busy"
            + (f", {r['rpc_per_req']:.1f} RPC calls/request, {r['connects']} connects"
               + f" ({r['rpc_failures']} failed)" if before is not None else ""))

    def rpc_baseline(self):
        """The RPC calls one admin info costs (subtracted from each figure), and the calls
        made with no load (reported)."""
        cl = self.deps["cluster"]
        t = [cl.rpc_totals()["calls"] for _ in range(4)]
        self.info_cost = median([t[i + 1] - t[i] for i in range(3)])
        c0 = cl.rpc_totals()["calls"]
        time.sleep(self.duration)
        c1 = cl.rpc_totals()["calls"]
        self.notes["rpc_info_cost"] = self.info_cost
        self.notes["rpc_idle_per_s"] = (c1 - c0 - self.info_cost) / self.duration
        log(f"cluster: admin info costs {self.info_cost:.0f} RPC calls; idle: "
            f"{self.notes['rpc_idle_per_s']:.1f} calls/s")

    # -- the figures --

    def prepare_small(self, body4k):
        for key, dep in self.deps.items():
            log(f"cluster: {dep.name}: 1,000 x 4 KiB for GET")
            secs, errs = put_many(dep, "bench", [f"get4k/{i:05d}" for i in range(1000)],
                                  body4k.read_bytes())
            if errs:
                raise RuntimeError(f"{dep.name}: loading get4k: {len(errs)} errors: {errs[:3]}")
        self.get4k = {k: self.paths(k, "get4k", "GET", "bench",
                                    [f"get4k/{i:05d}" for i in range(1000)]) for k in self.deps}

    def prepare_large(self, big):
        import requests
        body = big.read_bytes()
        keys = [f"get64/{i}" for i in range(4)]
        for key, dep in self.deps.items():
            log(f"cluster: {dep.name}: 4 x 64 MiB for GET")
            secs, errs = put_many(dep, "bench", keys, body, threads=4)
            if errs:
                raise RuntimeError(f"{dep.name}: loading get64: {errs[:3]}")
        self.get64 = {k: self.paths(k, "get64", "GET", "bench", keys) for k in self.deps}
        # a presigned URL of each node of the cluster answers (the host is signed)
        cl = self.deps["cluster"]
        for j, n in enumerate(cl.nodes):
            p = self.get64["cluster"][j].read_text().split("\n")[0]
            r = requests.get(n.endpoint + p, timeout=120)
            assert r.status_code == 200 and len(r.content) == LARGE, (n.hostport, r.status_code)

    def run_small(self, run, order, body4k):
        n = 40000  # keys per node per run: more than any node PUTs in a figure
        for key in order:
            dep = self.deps[key]
            files = self.paths(key, f"put4k-{run}", "PUT", "bench", None,
                               lambda j: [f"put4k/r{run}/n{j}/{i:06d}" for i in range(n)])
            self.measure(key, "put4k", files, body=body4k, run=run)
            if self.res[("put4k", key)][-1]["requests"] > n * len(dep.nodes) / 2:
                log("cluster: note: some 4 KiB PUTs may have been overwrites")
        for key in order:
            self.measure(key, "get4k", self.get4k[key], run=run)

    def run_large(self, run, order, big):
        for key in order:
            dep = self.deps[key]
            nn = len(dep.nodes)
            # 4 keys overwritten: the single node's wrk gets all four, node j of the cluster key j
            files = self.paths(key, f"put64-{run}", "PUT", "bench", None,
                               lambda j: [f"put64/{i}" for i in range(4) if i % nn == j])
            self.measure(key, "put64", files, body=big, static=True, run=run)
        for key in order:
            self.measure(key, "get64", self.get64[key], run=run)


# ---- the heal figure ------------------------------------------------------------------------

def du_bytes(path):
    r = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True)
    try:
        return int(r.stdout.split()[0])
    except (IndexError, ValueError):
        return 0


def proc_cpu_s(pid):
    """utime + stime of a process (or /proc/PID/task/TID), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads_cpu(pid):
    """{tid: (name, cpu seconds)} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            out[tid] = (name, proc_cpu_s(f"{pid}/task/{tid}"))
        except OSError:
            pass
    return out


def proc_io(pid):
    out = {}
    try:
        for ln in open(f"/proc/{pid}/io"):
            k, v = ln.split(":")
            out[k] = int(v)
    except OSError:
        pass
    return out


def machine_cpu():
    """(busy, total) jiffies of the whole machine (/proc/stat)."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def block_device(path):
    st = os.stat(path)
    try:
        return Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}").resolve().name
    except OSError:
        return None


def disk_ticks(dev):
    """(io_ticks ms, sectors written, sectors read) of a block device (/proc/diskstats)."""
    for ln in open("/proc/diskstats"):
        f = ln.split()
        if f[2] == dev:
            return int(f[12]), int(f[9]), int(f[5])
    return None


def sample(cl, dev):
    return {"t": time.monotonic(), "nodes": [proc_cpu_s(n.pid) for n in cl.nodes],
            "threads": threads_cpu(cl.nodes[1].pid), "io": proc_io(cl.nodes[1].pid),
            "cpu": machine_cpu(), "disk": disk_ticks(dev) if dev else None}


def wipe(folder):
    """Removes the contents of a drive folder (the folder stays), as tests/e2e do."""
    for p in list(Path(folder).iterdir()):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink()


def heal_status(cl):
    try:
        return cl.admin("heal", "--status")
    except RuntimeError as e:
        log(f"cluster: heal --status: {e}")
        return {}


def wait_done(cl, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if heal_status(cl).get("done"):
            return True
        time.sleep(1)
    return False


def heal_figure(cl, n_objects, obj_size):
    """On a fresh cluster: n_objects written, a drive folder of node 2 wiped, the heal timed."""
    res = {"objects": n_objects, "size": obj_size}
    body = os.urandom(obj_size)
    cl.client().create_bucket(Bucket="heal")
    log(f"cluster: heal: writing {n_objects:,} x {obj_size:,} B over the 4 nodes")
    secs, errs = put_many(cl, "heal", [f"obj/{i:06d}" for i in range(n_objects)], body)
    if errs:
        raise RuntimeError(f"heal load: {len(errs)} errors: {errs[:3]}")
    res["load_s"] = secs
    res["done_before"] = wait_done(cl, 300)
    target, ref = cl.drive_dir(2, 1), cl.drive_dir(3, 1)
    k = 4  # data shards of EC 4+4
    res["expected"] = n_objects * math.ceil(obj_size / k)
    res["du_ref"], res["du_before"] = du_bytes(ref), du_bytes(target)
    dev = block_device(target)
    t = [cl.rpc_totals()["calls"]]
    for _ in range(3):
        heal_status(cl)
        t.append(cl.rpc_totals()["calls"])
    status_cost = median([t[i + 1] - t[i] for i in range(3)])  # a status and an info read
    rpc0 = cl.rpc_totals()
    polls = 0
    log(f"cluster: heal: wiping {target} (du {res['du_before']:,} B; expected shard bytes "
        f"{res['expected']:,}; device {dev})")
    s0 = sample(cl, dev)
    wipe_ms = time.time() * 1000
    wipe(target)
    t0 = time.monotonic()
    t_done = t_du = None
    started = False
    last = {}
    while True:
        time.sleep(1)
        now = time.monotonic() - t0
        cl.check_alive()
        st = heal_status(cl)
        polls += 1
        n2 = next((n for n in st.get("nodes", []) if n.get("node") == cl.nodes[1].hostport), {})
        h = n2.get("heal", {})
        if h.get("started_ms", 0) >= wipe_ms - 1000 or not st.get("done", True):
            started = True
        if h:
            last = h
        if started and st.get("done") and t_done is None:
            t_done = now
        du = du_bytes(target)
        if du >= res["expected"] and t_du is None:
            t_du = now
        if int(now) % 15 == 0:
            log(f"cluster: heal: {now:.0f} s: node 2 heal {h.get('objects_scanned', 0)} scanned, "
                f"{h.get('objects_healed', 0)} healed; du {du:,} B; done {st.get('done')}")
        if t_done is not None and t_du is not None:
            break
        if t_done is not None and now - t_done > 120:
            res["finding"] = (f"heal --status said done at {t_done:.0f} s but the wiped drive "
                              f"holds {du:,} B of the {res['expected']:,} expected 120 s later")
            break
        if now > HEAL_TIMEOUT_S:
            res["finding"] = (f"heal not finished after {HEAL_TIMEOUT_S // 60} min: done="
                              f"{st.get('done')}, du {du:,} B of {res['expected']:,}")
            break
    s1 = sample(cl, dev)
    rpc1 = cl.rpc_totals()
    calls = rpc1["calls"] - rpc0["calls"] - status_cost * (polls + 1)
    res["rpc"] = {"calls": calls, "connects": rpc1["connects"] - rpc0["connects"],
                  "failures": rpc1["failures"] - rpc0["failures"], "status_cost": status_cost}
    res.update(t_done=t_done, t_du=t_du, du_after=du_bytes(target), node2=last)
    res["seconds"] = max(t_done or 0, t_du or 0) if "finding" not in res else None
    res["usage"] = usage(s0, s1, cl)
    return res


def usage(s0, s1, cl):
    dt = s1["t"] - s0["t"]
    u = {"seconds": dt,
         "nodes": [(cl.nodes[i].hostport, (s1["nodes"][i] - s0["nodes"][i]) / dt)
                   for i in range(len(cl.nodes))]}
    busy = s1["cpu"][0] - s0["cpu"][0]
    total = s1["cpu"][1] - s0["cpu"][1]
    u["machine_busy"] = busy / total if total else float("nan")
    th = []
    for tid, (name, c1) in s1["threads"].items():
        c0 = s0["threads"].get(tid, (name, 0.0))[1]
        th.append((name, tid, (c1 - c0) / dt))
    th.sort(key=lambda x: -x[2])
    u["threads"] = th[:5]
    u["threads_other"] = (len(th) - 5, sum(c for _, _, c in th[5:]))
    # threads gone by the end (a connection's thread) are in the process's time only
    u["node2_ended"] = u["nodes"][1][1] - sum(c for _, _, c in th)
    u["write_mib"] = (s1["io"].get("write_bytes", 0) - s0["io"].get("write_bytes", 0)) / MiB
    u["read_mib"] = (s1["io"].get("read_bytes", 0) - s0["io"].get("read_bytes", 0)) / MiB
    if s0["disk"] and s1["disk"]:
        u["disk_util"] = (s1["disk"][0] - s0["disk"][0]) / 1000 / dt
        u["disk_write_mib"] = (s1["disk"][1] - s0["disk"][1]) * 512 / MiB
    return u


# ---- report ---------------------------------------------------------------------------------

def fmt_ms(v):
    if v != v:  # NaN: not measured, or not meaningful
        return "-"
    return f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms"


def fmt_ops(v):
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def throughput_table(res):
    rows = ["| figure | deployment | ops/s | MiB/s | p50 | p99 | errors | all runs (ops/s) "
            "| server CPU / request | server cores | RPC calls / request "
            "| new RPC connections (failed calls) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = ["| figure | cluster / 1 node | target | reached | server CPU / request, cluster / 1 "
               "node | cluster / 1 node per CPU second | extra CPU per RPC call |",
               "|---|---|---|---|---|---|---|"]
    for fig, (label, _, _) in FIGS.items():
        meds = {}
        for key, name in (("single", "1 node"), ("cluster", "4 nodes")):
            runs = res.get((fig, key))
            if not runs:
                continue
            ops = median([r["ops"] for r in runs])
            meds[key] = ops
            meds[key + "_cpu"] = median([r["cpu_ms"] for r in runs])
            if key == "cluster":
                meds["rpc"] = median([r["rpc_per_req"] for r in runs])
            errs = sum(r["errors"] for r in runs)
            rpc = conn = "-"
            if key == "cluster":
                rpc = f"{median([r['rpc_per_req'] for r in runs]):.1f}"
                conn = ", ".join(f"{r['connects']} ({r['rpc_failures']})" for r in runs)
            rows.append(f"| {label if key == 'single' else ''} | {name} | {fmt_ops(ops)} "
                        f"| {median([r['mibs'] for r in runs]):,.1f} "
                        f"| {fmt_ms(median([r['p50'] for r in runs]))} "
                        f"| {fmt_ms(median([r['p99'] for r in runs]))} "
                        f"| {errs if errs else 0}{' (flagged)' if errs else ''} "
                        f"| {', '.join(fmt_ops(r['ops']) for r in runs)} "
                        f"| {fmt_ms(median([r['cpu_ms'] for r in runs]))} "
                        f"| {median([r['ops'] * r['cpu_ms'] / 1000 for r in runs]):.2f} "
                        f"| {rpc} | {conn} |")
        if "single" in meds and "cluster" in meds and meds["single"]:
            ratio = meds["cluster"] / meds["single"]
            errs = sum(r["errors"] for key in ("single", "cluster") for r in res[(fig, key)])
            ok = ratio >= TARGETS[fig] and not errs
            cpu_x = meds["cluster_cpu"] / meds["single_cpu"] if meds["single_cpu"] else 0
            per_call = ((meds["cluster_cpu"] - meds["single_cpu"]) / meds["rpc"]
                        if meds.get("rpc", 0) > 0 and FIGS[fig][2] == SMALL else float("nan"))
            summary.append(f"| {label} | {100 * ratio:.0f}% | >= {100 * TARGETS[fig]:.0f}% "
                           f"| {'yes' if ok else 'NO'}{' (errors)' if errs else ''} "
                           f"| {cpu_x:.1f}x | {100 / cpu_x if cpu_x else 0:.0f}% "
                           f"| {fmt_ms(per_call)} |")
    return "\n".join(rows) + "\n\n" + "\n".join(summary)


def heal_table(h):
    mib = h["objects"] * h["size"] / MiB
    rows = ["| heal of a wiped drive | value |", "|---|---|",
            f"| data | {h['objects']:,} objects x {h['size']:,} B = {mib:,.0f} MiB "
            f"(inline: each object in the drives' index), written in {h['load_s']:.0f} s "
            f"({h['objects'] / h['load_s']:.0f} PUT/s, 16 threads over the 4 nodes) |"]
    if "finding" in h:
        rows.append(f"| FINDING | {h['finding']} |")
    if h["seconds"]:
        s = h["seconds"]
        rows.append(f"| time from the wipe to healed | {s:.1f} s: `heal --status` done at "
                    f"{h['t_done']:.1f} s, shard bytes on the drive at {h['t_du']:.1f} s |")
        rows.append(f"| rate | {h['objects'] / s:,.0f} objects/s, {mib / s:,.1f} MiB/s of "
                    f"objects ({h['expected'] / MiB / s:,.1f} MiB/s of shards onto the drive) |")
    n2 = h.get("node2") or {}
    if n2.get("finished_ms") and n2.get("started_ms"):
        rows.append(f"| node 2's whole heal (its own clock) | "
                    f"{(n2['finished_ms'] - n2['started_ms']) / 1000:.1f} s, "
                    f"{n2.get('objects_scanned', 0):,} objects scanned, "
                    f"{n2.get('objects_healed', 0):,} healed, {n2.get('objects_failed', 0)} failed |")
    rows.append(f"| wiped drive (du -sb) | {h['du_before']:,} B before, {h['du_after']:,} B after; "
                f"an untouched drive {h['du_ref']:,} B; shard bytes alone {h['expected']:,} B |")
    u = h["usage"]
    nodes = ", ".join(f"{100 * c:.0f}%" for _, c in u["nodes"])
    cpu_obj = sum(c for _, c in u["nodes"]) * u["seconds"] / h["objects"] * 1000
    rows.append(f"| CPU during the heal | nodes 1-4: {nodes} of a core ({fmt_ms(cpu_obj)} of CPU "
                f"per object, all nodes); machine {100 * u['machine_busy']:.0f}% busy (2 cores, "
                "other sessions included) |")
    th = ", ".join(f"{name} {100 * c:.0f}%" for name, _, c in u["threads"][:5])
    no, oc = u["threads_other"]
    rows.append(f"| node 2's threads | {th}; the other {no} threads {100 * oc:.0f}% together; "
                f"threads that ended during the heal {100 * u['node2_ended']:.0f}% |")
    rp = h["rpc"]
    rows.append(f"| RPC during the heal (all nodes) | {rp['calls']:,.0f} calls "
                f"({rp['calls'] / h['objects']:.1f} per object; `heal --status` polls excluded), "
                f"{rp['connects']} new connections, {rp['failures']} failed calls |")
    io = f"node 2 wrote {u['write_mib']:.0f} MiB, read {u['read_mib']:.0f} MiB"
    if "disk_util" in u:
        io += (f"; the disk: {100 * u['disk_util']:.0f}% busy (io_ticks), "
               f"{u['disk_write_mib']:.0f} MiB written by everyone")
    rows.append(f"| I/O during the heal | {io} |")
    if not h.get("done_before"):
        rows.append("| note | heal --status was not done before the wipe (300 s) |")
    return "\n".join(rows)


def method(a, duration, binary, notes):
    return [
        f"- Machine: {machine()}; shared with other sessions (load average "
        f"{notes.get('load_start', '?')} at the start, {notes.get('load_end', '?')} at the end).",
        f"- Deployments, started in the same run from `{binary}` with fsync on (the default), "
        "drive folders on one filesystem (`/tmp`, `BENCH_DIR`): **1 node**, "
        "`basalt server --address 127.0.0.1:PORT DIR/single/d{1...8}`; **4 nodes** on "
        "127.0.0.1-4, each with the same explicit list of 8 endpoints "
        "`http://127.0.0.N:PORT/DIR/c/nN/dD` (N 1-4, D 1-2, node-major), started together and "
        "loaded once `/basalt/health/cluster` answers 200 on every node. Both report "
        "\"1 set of 8 drives, EC 4+4\" (`basalt admin info`).",
        "- Load: wrk (`bench/urls.lua`, `--latency`) replaying presigned URLs; the 1 node gets "
        "one wrk with every connection (-t2), the cluster one wrk per node with its quarter of "
        "the connections (16: 4 x -c4 -t2; 4: 4 x -c1 -t1), started together, each replaying "
        "URLs signed for its node's host, as an nginx round-robin would spread clients. "
        "ops/s are the sum of the four; p50 is the median of the four processes' p50, p99 the "
        "max of their p99. wrk, the nodes and everything else share the 2 cores.",
        f"- Figures: PUT 4 KiB to distinct new keys and GET 4 KiB of 1,000 objects at 16 "
        f"clients; PUT 64 MiB (overwrites of 4 keys) and GET 64 MiB (4 objects) at 4 clients; "
        f"{a.runs} runs of {duration} s each; each figure runs on the 1 node and on the cluster "
        "one after the other, never together, the order flipped every run; medians and every "
        "run shown. A figure with non-2xx answers or socket errors is flagged and never reached.",
        f"- RPC cost: `basalt admin info` reports each node's RPC counters per peer; the calls "
        f"summed over nodes and peers before and after each cluster figure, less what the "
        f"reading itself costs ({notes.get('rpc_info_cost', 0):.0f} calls) and the idle "
        f"cluster's background rate ({notes.get('rpc_idle_per_s', float('nan')):.1f} calls/s, "
        "measured before loading) times the figure's time, divided by the S3 requests wrk "
        "made. New RPC connections and failed calls: the `connects` and `failures` deltas of "
        "each run. Server CPU per request: utime + stime of the deployment's processes "
        "(`/proc/PID/stat`, all 4 nodes for the cluster) over the figure, divided by its "
        "requests; server cores: that CPU per second of load. Under load from other sessions "
        "the deployment with more runnable threads (the cluster) gets a larger share of the "
        "cores, which favours it: \"per CPU second\" is the ratio with that taken out.",
        "- Heal: on a fresh 4-node cluster (the two deployments above stopped), 10,000 objects "
        "of 1 GiB / 10,000 (107,374 B) written through presigned PUTs "
        "(16 threads, spread over the nodes); once `basalt admin heal --status` says done, the "
        "contents of node 2's first drive folder are removed while everything runs (node 2's "
        "monitor formats it back within a 2 s tick and starts a whole heal). Time until "
        "`heal --status` says done again AND `du -sb` of the folder reaches the objects' shard "
        "bytes (size / 4 each). CPU from `/proc/PID/stat` of the 4 nodes and of node 2's threads "
        "over the heal, I/O from `/proc/PID/io` and `/proc/diskstats`.",
    ]


def record(text, a, duration, binary, notes):
    doc = REPO / "docs" / "benchmarks.md"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "bench/cluster.sh --record" + (f" --runs {a.runs}" if a.runs != 3 else "") + \
        (" --quick" if a.quick else "") + (f" --only {a.only}" if a.only else "") + \
        (f" --duration {a.duration}" if a.duration else "")
    sec = [f"\n## Cluster of 4 nodes against 1 node (issue 11): {now}, commit {git_rev()}\n"]
    sec += method(a, duration, binary, notes)
    sec += [f"- Command: `make RELEASE=1 -j2 all && {cmd}`.\n", text, ""]
    with open(doc, "a") as f:
        f.write("\n".join(sec) + "\n")
    log(f"cluster: appended to {doc}")


# ---- main -----------------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", action="store_true", help="append the results to docs/benchmarks.md")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "0")),
                    help="seconds per figure and run (default 10, --quick 5)")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                    help="5 s figures, 1 run, the heal of 1,000 objects (100 MiB)")
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                    help="comma list of: small,large,heal (default all)")
    ap.add_argument("--profile", default=os.environ.get("BENCH_PROFILE", ""),
                    help="comma list of put4k,get4k,put64,get64: perf record node 1 of each "
                         "deployment during the first run of those figures")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    if a.quick and "--runs" not in sys.argv and "BENCH_RUNS" not in os.environ:
        a.runs = 1
    a.only_set = set(x for x in a.only.split(",") if x) or {"small", "large", "heal"}
    a.profile_set = set(x for x in a.profile.split(",") if x)
    bad = (a.only_set - {"small", "large", "heal"}) | (a.profile_set - set(FIGS))
    if bad:
        ap.error(f"unknown figures: {', '.join(sorted(bad))}")
    return a


def check_layout(dep):
    layout = dep.admin("info").get("layout", "?")
    log(f"cluster: {dep.name}: {layout}")
    if "1 set of 8 drives, EC 4+4" not in layout:
        raise RuntimeError(f"{dep.name}: layout is '{layout}', not one set of 8, EC 4+4")


def throughput(b, a, work):
    """The four figures, every run, the single node and the cluster alternately."""
    for key, dep in b.deps.items():
        dep.start()
        check_layout(dep)
        dep.client().create_bucket(Bucket="bench")
    big = work / "body-64m"
    with open(big, "wb") as f:
        for _ in range(64):
            f.write(os.urandom(MiB))
    small = work / "body-4k"
    small.write_bytes(os.urandom(SMALL))
    b.rpc_baseline()
    if "small" in a.only_set:
        b.prepare_small(small)
    if "large" in a.only_set:
        b.prepare_large(big)
    for run in range(1, a.runs + 1):
        order = ["single", "cluster"] if run % 2 else ["cluster", "single"]
        log(f"cluster: run {run}/{a.runs} ({' then '.join(order)})")
        if "small" in a.only_set:
            b.run_small(run, order, small)
        if "large" in a.only_set:
            b.run_large(run, order, big)


def main():
    a = parse_args()
    binary = Path(os.environ.get("BASALT_BIN") or REPO / "build-release" / "basalt").resolve()
    if not binary.exists():
        sys.exit(f"cluster: {binary} not found (make RELEASE=1 all, or set BASALT_BIN)")
    if not shutil.which("wrk"):
        sys.exit("cluster: wrk not installed (apt-get install wrk)")
    duration = a.duration or (5 if a.quick else 10)
    port = int(os.environ.get("BENCH_PORT_BASE", "9600"))
    # the single node, the cluster of the throughput figures, the fresh cluster of the heal
    p_single, p_cluster, p_heal = port, port + 1, port + 2
    busy = [f"127.0.0.1:{p_single}"] if not addr_free("127.0.0.1", p_single) else []
    busy += [f"127.0.0.{n}:{p}" for p in (p_cluster, p_heal) for n in range(1, NODES + 1)
             if not addr_free(f"127.0.0.{n}", p)]
    if busy:
        sys.exit(f"cluster: busy: {', '.join(busy)} (set BENCH_PORT_BASE)")

    work = Path(tempfile.mkdtemp(prefix="basalt-cluster-", dir=os.environ.get("BENCH_DIR")))
    log(f"cluster: binary {binary}, work dir {work}, {a.runs} runs of {duration} s, "
        f"ports {p_single} (1 node), {p_cluster} (4 nodes), {p_heal} (4 nodes for the heal)")
    deps = [Deployment.single(binary, work / "single", p_single),
            Deployment.cluster(binary, work / "c", p_cluster)]
    b = Bench(a, work, deps[0], deps[1], duration)
    heal = None
    t_start = time.monotonic()
    b.notes["load_start"] = "%.1f" % os.getloadavg()[0]
    try:
        if a.only_set & {"small", "large"}:
            throughput(b, a, work)
        for dep in deps:  # the heal gets the machine to itself
            dep.stop()
        if "heal" in a.only_set:
            hc = Deployment.cluster(binary, work / "heal", p_heal)
            deps.append(hc)
            hc.start()
            check_layout(hc)
            heal = heal_figure(hc, 1000 if a.quick else 10000, GiB // 10000)
    finally:
        for dep in deps:
            try:
                dep.stop()
            except Exception as e:  # noqa: BLE001
                log(f"cluster: stopping {dep.name}: {e}")
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"cluster: kept {work}")

    b.notes["load_end"] = "%.1f" % os.getloadavg()[0]
    parts = []
    if b.res:
        parts.append(throughput_table(b.res))
    if heal:
        parts.append(heal_table(heal))
    for name, txt in b.profiles.items():
        parts.append(f"perf profile during {name} (self time, top symbols):\n\n```\n{txt}\n```")
    parts.append(f"Whole run: {(time.monotonic() - t_start) / 60:.0f} min.")
    text = "\n\n".join(parts)
    print(text)
    if a.record:
        record(text, a, duration, binary, b.notes)


if __name__ == "__main__":
    main()
