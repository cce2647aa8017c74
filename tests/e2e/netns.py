"""A Basalt cluster whose nodes live in network namespaces (issue 11, partitions).

Layout (iproute2 only, root needed; nothing is configured in the root namespace):

    <p>-sw   a "switch": a Linux bridge `br0`, no address
    <p>-nI   node I (1..N): veth `eth0` = 10.R.0.I/24, its peer `vI` in the bridge
    <p>-cl   the client: veth `eth0` = 10.R.0.254/24, its peer `vc` in the bridge

`<p>` is "bs" plus a random suffix and R a random number in 100..250, drawn per cluster, so
that parallel runs never collide. Every veth is made inside its own namespace with its peer
put straight into the switch: no interface ever exists in the root namespace.

Nodes run `ip netns exec <p>-nI BIN server --address 10.R.0.I:PORT <every drive URL>`. The
test process talks to them from inside the client namespace: a network namespace belongs to
a thread on Linux, so every S3 call, health probe or raw request goes through `NetCluster.call()`
(or `.map()`), which runs it on a small thread pool whose threads joined the client namespace
(`setns`) when they started. A socket made from any other thread lives in the root namespace,
has no route to 10.R.0.0/24 and fails at once: a forgotten `call()` is loud, never silently
talking to something else. `basalt admin` runs under `ip netns exec <p>-cl`.

`partition(groups)` cuts the nodes into groups with blackhole routes between the groups (each
side: `ip -n <ns> route add blackhole 10.R.0.J/32`); the client still reaches everyone.
`heal_partition()` deletes those routes. `close()` (the fixture's finalizer, also atexit and
SIGTERM) kills the nodes and deletes every namespace it made, which also removes the veths.

A node's `faketime` (e.g. "+300s") runs it under faketime(1): its wall clock only.

The `netcluster` fixture makes clusters and cleans up; check_state(), wait_converged(),
wait_sides() and say() are checks and reports shared by test_partition.py and
test_clock_skew.py.

Everything here is bounded in time.
"""

import atexit
import concurrent.futures
import ctypes
import json
import os
import random
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from botocore.exceptions import ClientError

import helpers
from helpers import (ACCESS_KEY, BIN, SECRET_KEY, TIME_SCALE, err_code, http_status, make_client,
                     sha, wait_until)

CLONE_NEWNET = 0x40000000
PORT = 9500
_LIBC = ctypes.CDLL(None, use_errno=True)
_OPEN = []  # NetClusters not closed yet, for atexit (guarded by _OPEN_LOCK)
_OPEN_LOCK = threading.Lock()


def ip(*args, check=True, timeout=10):
    """Runs `ip ARGS`; raises with its stderr when it fails and check is set."""
    r = subprocess.run(["ip", *args], capture_output=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} -> {r.returncode}: "
                           f"{r.stderr.decode(errors='replace').strip()}")
    return r


def netns_unavailable():
    """None when this process can make network namespaces, else the reason why not."""
    if os.geteuid() != 0:
        return "network namespaces need root (euid is %d)" % os.geteuid()
    probe = "bsprobe" + secrets.token_hex(3)
    try:
        r = ip("netns", "add", probe, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot run ip: {e}"
    if r.returncode != 0:
        return f"ip netns add failed: {r.stderr.decode(errors='replace').strip()}"
    ip("netns", "del", probe, check=False)
    return None


def _enter_netns(path):
    """Thread-pool initializer: moves the calling thread into the namespace at `path`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


class Node:
    """One node: its namespace, address, drive folders and process. Duck-types helpers.Server
    far enough for conftest (kill, log_path, log_tail, alive) to clean up and print logs."""

    def __init__(self, cluster, i):
        self.cluster = cluster
        self.i = i
        self.ns = f"{cluster.prefix}-n{i}"
        self.addr = f"10.{cluster.r}.0.{i}"
        self.host = f"{self.addr}:{PORT}"
        self.endpoint = f"http://{self.host}"
        self.name = f"n{i}"
        self.log_path = cluster.root / f"n{i}.log"
        self.drives = [cluster.root / f"n{i}" / f"d{d}" for d in range(1, cluster.ndrives + 1)]
        self.proc = None
        self.starts = 0
        self.faketime = None  # e.g. "+300s": run under faketime(1)

    def args(self):
        a = ["ip", "netns", "exec", self.ns]
        if self.faketime:
            a += ["faketime", "-f", self.faketime]
        return a + [BIN, "server", "--address", self.host, *self.cluster.extra_args,
                    *self.cluster.urls()]

    def start(self):
        """Starts the process (does not wait: see NetCluster.wait_health, wait_started)."""
        if not Path(BIN).exists():
            raise AssertionError(f"server binary {BIN} not built (make build/basalt)")
        for d in self.drives:
            d.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        env = dict(os.environ, BASALT_ROOT_USER=ACCESS_KEY, BASALT_ROOT_PASSWORD=SECRET_KEY)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
        if self.faketime:
            # Only the wall clock moves: deadlines, leases and timed waits use CLOCK_MONOTONIC.
            # libfaketime turns on its "monotonic fix" by itself on this glibc, which rewrites
            # the timeouts of pthread_cond_timedwait() on CLOCK_MONOTONIC condition variables:
            # the node's RPC calls then miss their deadlines even at +0s. Off.
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            env["FAKETIME_FORCE_MONOTONIC_FIX"] = "0"
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.args())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        if self not in helpers.LIVE_SERVERS:
            helpers.LIVE_SERVERS.append(self)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL to the process group (`ip netns exec` execs faketime or the server; faketime
        forks the server and waits)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=60):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:]) if lines else "(no log)"

    def log_from(self, since):
        """The log from byte offset `since` (see log_size)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_events(self, event, since=0):
        """The JSON log lines of this node with "event": event (from byte offset `since`)."""
        out = []
        for ln in self.log_from(since).splitlines():
            if f'"{event}"' not in ln:
                continue
            try:
                rec = json.loads(ln[ln.index("{"):])
            except ValueError:
                continue
            if rec.get("event") == event:
                out.append(rec)
        return out

    def wait_started(self, since, timeout=60):
        """Waits for the banner a node prints once started (in its log after byte `since`)."""
        def banner():
            if not self.alive():
                raise AssertionError(f"node {self.i} exited ({self.proc.returncode})")
            return "Basalt server\n" in self.log_from(since)
        wait_until(banner, timeout, interval=0.2, what=f"node {self.i}'s start-up banner")

    def sanitizer_reports(self):
        """Lines of AddressSanitizer / UBSan / LeakSanitizer reports in the log."""
        marks = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                 "WARNING: ThreadSanitizer")
        return [ln for ln in self.log_text().splitlines() if any(m in ln for m in marks)]

    def log_size(self):
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0


class NetCluster:
    """N nodes x D drives in namespaces; see the module's comment."""

    def __init__(self, root, nnodes=4, ndrives=2, workers=12, extra_args=()):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.r = random.randint(100, 250)
        self.prefix = "bs" + secrets.token_hex(3)
        self.nnodes = nnodes
        self.workers = workers  # client threads
        self.extra_args = list(extra_args)  # given to every node, before the drives
        self.ndrives = ndrives
        self.sw = f"{self.prefix}-sw"
        self.cl = f"{self.prefix}-cl"
        self.client_addr = f"10.{self.r}.0.254"
        self.nodes = [Node(self, i) for i in range(1, nnodes + 1)]
        self.made = []  # namespaces created, deleted by close()
        self.blackholes = []  # (ns, address) routes in place
        self.pool = None
        self._tls = threading.local()
        self.closed = False
        with _OPEN_LOCK:
            _OPEN.append(self)

    # ---------------------------------------------------------------- network
    def _add_ns(self, name):
        ip("netns", "add", name)
        self.made.append(name)
        ip("-n", name, "link", "set", "lo", "up")

    def _attach(self, ns, addr, peer):
        """veth eth0 in `ns` with `addr`/24, its peer `peer` in the switch's bridge."""
        ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer,
           "netns", self.sw)
        ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", self.sw, "link", "set", peer, "master", "br0")
        ip("-n", self.sw, "link", "set", peer, "up")

    def setup_network(self):
        self._add_ns(self.sw)
        ip("-n", self.sw, "link", "add", "br0", "type", "bridge")
        ip("-n", self.sw, "link", "set", "br0", "up")
        for n in self.nodes:
            self._add_ns(n.ns)
            self._attach(n.ns, n.addr, f"v{n.i}")
        self._add_ns(self.cl)
        self._attach(self.cl, self.client_addr, "vc")
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix=self.prefix,
            initializer=_enter_netns, initargs=(f"/var/run/netns/{self.cl}",))

    def urls(self):
        return [f"{n.endpoint}{d}" for n in self.nodes for d in n.drives]

    def partition(self, *groups):
        """Blackhole routes between every two groups of node numbers, e.g. partition([4]) cuts
        node 4 off from the others, partition([1, 2], [3, 4]) splits 2+2. Nodes in no group
        given form one more group."""
        groups = [set(g) for g in groups]
        rest = {n.i for n in self.nodes} - set().union(*groups)
        if rest:
            groups.append(rest)
        side = {i: gi for gi, g in enumerate(groups) for i in g}
        for a in self.nodes:
            for b in self.nodes:
                if side[a.i] != side[b.i]:
                    ip("-n", a.ns, "route", "add", "blackhole", f"{b.addr}/32")
                    self.blackholes.append((a.ns, b.addr))

    def heal_partition(self):
        while self.blackholes:
            ns, addr = self.blackholes.pop()
            ip("-n", ns, "route", "del", "blackhole", f"{addr}/32", check=False)

    # ------------------------------------------------------------ processes
    def start(self, timeout=60):
        for n in self.nodes:
            n.start()
        self.wait_health("ready", range(1, self.nnodes + 1), 200, timeout)
        return self

    # --------------------------------------------------------------- clients
    def in_client_ns(self):
        """True on one of the pool's threads (already inside the client namespace)."""
        return threading.current_thread().name.startswith(self.prefix)

    def call(self, fn, *args, timeout=180, **kw):
        """fn(*args, **kw) on a thread inside the client namespace; returns its result. On a
        pool thread already, runs it right there (no deadlock of a full pool)."""
        if self.in_client_ns():
            return fn(*args, **kw)
        return self.pool.submit(fn, *args, **kw).result(timeout * TIME_SCALE)

    def map(self, fn, items, timeout=300):
        """[fn(x) for x in items] in parallel inside the client namespace."""
        futs = [self.pool.submit(fn, x) for x in items]
        return [f.result(timeout * TIME_SCALE) for f in futs]

    def s3(self, i, **cfg):
        """A boto3 client of node i (1-based). Use it only inside call()/map()."""
        cache = getattr(self._tls, "clients", None)
        if cache is None:
            cache = self._tls.clients = {}
        cfg.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})  # no retries
        key = (i, repr(sorted(cfg.items())))
        if key not in cache:
            cache[key] = make_client(self.nodes[i - 1].endpoint, ACCESS_KEY, SECRET_KEY, **cfg)
        return cache[key]

    def health(self, i, kind="cluster", timeout=3):
        """Status of node i's /basalt/health/<kind> (0: no answer). Runs in the client ns."""
        def probe():
            try:
                return requests.get(f"{self.nodes[i - 1].endpoint}/basalt/health/{kind}",
                                    timeout=timeout).status_code
            except requests.RequestException:
                return 0
        return self.call(probe, timeout=timeout + 10)

    def wait_health(self, kind, nodes, status, timeout):
        """Waits until every node in `nodes` answers `status` on health/<kind>."""
        nodes = list(nodes)

        def ok():
            got = {i: self.health(i, kind) for i in nodes}
            if all(v == status for v in got.values()):
                return got
            raise AssertionError(f"health/{kind}: {got}")

        for n in self.nodes:
            if n.i in nodes and n.proc is not None and n.proc.poll() is not None:
                raise AssertionError(f"node {n.i} exited ({n.proc.returncode}):\n{n.log_tail()}")
        return helpers.wait_until(ok, timeout, interval=0.3,
                                  what=f"health/{kind} == {status} on nodes {nodes}")

    def heal_status(self, i=1):
        """(exit status, parsed JSON) of `basalt admin heal --status --json` via node i."""
        r = self.admin(i, "heal", "--status", "--json")
        out = r.stdout.decode(errors="replace")
        try:
            doc = json.loads(out[out.index("{"):out.rindex("}") + 1])
        except ValueError:
            doc = {"unparsed": out + r.stderr.decode(errors="replace")}
        return r.returncode, doc

    def admin(self, i, *args, timeout=60):
        """`basalt admin ARGS` against node i, from the client namespace: CompletedProcess."""
        env = dict(os.environ, BASALT_ENDPOINT=self.nodes[i - 1].endpoint,
                   BASALT_ACCESS_KEY=ACCESS_KEY, BASALT_SECRET_KEY=SECRET_KEY)
        return subprocess.run(["ip", "netns", "exec", self.cl, BIN, "admin", *args], env=env,
                              capture_output=True, timeout=timeout * TIME_SCALE)

    # -------------------------------------------------------------- teardown
    def close(self):
        """Kills the nodes and deletes every namespace made (idempotent, never raises)."""
        if self.closed:
            return
        self.closed = True
        for n in self.nodes:
            try:
                n.kill()
            except Exception:  # noqa: BLE001 - go on cleaning up
                pass
            if n in helpers.LIVE_SERVERS:
                helpers.LIVE_SERVERS.remove(n)
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        for ns in reversed(self.made):
            try:
                ip("netns", "del", ns, check=False)
            except Exception:  # noqa: BLE001
                pass
        self.made.clear()
        with _OPEN_LOCK:
            if self in _OPEN:
                _OPEN.remove(self)

    def leftovers(self):
        """Namespaces of this cluster still present (should be none after close())."""
        r = ip("netns", "list", check=False)
        return [ln.split()[0] for ln in r.stdout.decode().splitlines()
                if ln.startswith(self.prefix)]


def _close_all(signum=None, frame=None):
    with _OPEN_LOCK:
        todo = list(_OPEN)
    for c in todo:
        c.close()
    if signum is not None:
        raise SystemExit(128 + signum)


atexit.register(_close_all)


def _chain_sigterm():
    """On SIGTERM: delete the namespaces first, then whatever handled SIGTERM before (conftest's
    kills the servers and exits)."""
    prev = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        _close_all()
        if callable(prev):
            prev(signum, frame)
        else:
            raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


_chain_sigterm()


# ------------------------------------------------------------- checks shared by the tests


def say(request, msg):
    """A line on the terminal even when output is captured (timings asked for in the report)."""
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    cm = request.config.pluginmanager.get_plugin("capturemanager")
    if tr is None or cm is None:
        print(msg)
        return
    with cm.global_and_fixture_disabled():
        tr.write_line(f"\n[{request.node.name}] {msg}")


def listing(c, bucket, node):
    """[(key, etag, size)] of the bucket through `node`, every page."""
    out = []
    pages = c.s3(node).get_paginator("list_objects_v2").paginate(Bucket=bucket, MaxKeys=17)
    for page in pages:
        out += [(o["Key"], o["ETag"], o["Size"]) for o in page.get("Contents", [])]
    return out


def wait_converged(request, c, timeout=120, what="partition healed"):
    """After healing a partition (or a node's return): every node's health/cluster 200, then
    `basalt admin heal --status` exit 0, within `timeout` s. Says how long it took."""
    t0 = time.monotonic()
    c.wait_health("cluster", range(1, c.nnodes + 1), 200, 60)
    t_health = time.monotonic() - t0
    last = {}

    def healed():
        r = c.admin(1, "heal", "--status")
        last["out"] = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        return r.returncode == 0

    try:
        wait_until(healed, timeout, interval=1, what="basalt admin heal --status exit 0")
    except AssertionError as e:
        raise AssertionError(f"{e}\nlast heal --status output:\n{last.get('out')}") from None
    took = time.monotonic() - t0
    say(request, f"{what}: health/cluster 200 on every node after {t_health:.1f} s, "
                 f"heal --status done after {took:.1f} s")
    return took


def check_state(c, bucket, expected, absent, nodes=None):
    """Through every node (or those of `nodes`): in `bucket`, each key of `expected`
    ({key: sha}) reads back exactly, each key of `absent` is 404, and the listings are
    identical and hold exactly the expected keys."""
    problems = []

    def check_node(node):
        s3 = c.s3(node)
        bad = []
        for key, digest in sorted(expected.items()):
            try:
                got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                if sha(got) != digest:
                    bad.append(f"node {node}: {key}: content {sha(got)[:12]} != {digest[:12]}")
            except ClientError as e:
                bad.append(f"node {node}: GET {key}: {http_status(e)} {err_code(e)}")
        for key in sorted(absent):
            try:
                s3.head_object(Bucket=bucket, Key=key)
                bad.append(f"node {node}: {key} exists but must not")
            except ClientError as e:
                if http_status(e) != 404:
                    bad.append(f"node {node}: HEAD {key}: {http_status(e)} (want 404)")
        return bad, listing(c, bucket, node)

    nodes = list(nodes or range(1, c.nnodes + 1))
    results = c.map(check_node, nodes)
    lists = []
    for node, (bad, lst) in zip(nodes, results):
        problems += bad
        keys = [k for k, _, _ in lst]
        if keys != sorted(expected):
            problems.append(f"node {node} lists {len(keys)} keys; extra "
                            f"{sorted(set(keys) - set(expected))}, missing "
                            f"{sorted(set(expected) - set(keys))}")
        lists.append(lst)
    for node, lst in zip(nodes[1:], lists[1:]):
        if lst != lists[0]:
            diff = sorted(set(lst) ^ set(lists[0]))[:10]
            problems.append(f"node {node}'s listing differs from node {nodes[0]}'s: {diff}")
    assert not problems, "not converged:\n" + "\n".join(problems[:40])


def wait_sides(c, up, down, timeout=30):
    """Waits until health/cluster is 200 on the nodes `up` and 503 on `down`."""
    def sides():
        got = {i: c.health(i) for i in range(1, c.nnodes + 1)}
        if all(got[i] == 200 for i in up) and all(got[i] == 503 for i in down):
            return got
        raise AssertionError(f"health/cluster: {got}")

    return wait_until(sides, timeout, interval=0.3,
                      what=f"health/cluster 200 on {list(up)}, 503 on {list(down)}")


@pytest.fixture
def netcluster(request, tmp_path):
    """Factory: netcluster(nnodes=4, ndrives=2) -> a NetCluster with its network made (call
    .start()). Skips the test when namespaces cannot be made (not root). At teardown: prints
    the tail of every node's log if the test failed, kills the nodes, deletes the namespaces,
    and fails if one is left or a node's log holds a sanitizer report."""
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    made = []

    def make(**kw):
        c = NetCluster(tmp_path / f"c{len(made)}", **kw)
        made.append(c)
        c.setup_network()
        return c

    yield make
    rep = getattr(request.node, "rep_call", None)
    left, san = [], []
    for c in made:
        if rep is not None and rep.failed:
            for n in c.nodes:
                print(f"\n----- tail of {n.log_path} -----\n{n.log_tail(60)}")
        c.close()
        left += c.leftovers()
        san += [f"node {n.i}: {ln}" for n in c.nodes for ln in n.sanitizer_reports()[:10]]
    assert not left, f"namespaces left behind: {left}"
    assert not san, "sanitizer report in a node's log:\n" + "\n".join(san[:20])
