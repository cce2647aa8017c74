"""A cluster of `basalt server` nodes on this machine, for the end-to-end
cluster tests (tests/e2e/test_cluster*.py).

Node N (1-based, like its address) listens on 127.0.0.N, all nodes on the
same port (one port of 9300-9399 free on every address), and owns the drive
folders <root>/nN/d1 .. dM. Every node runs the same command with every
node's drive URLs (http://127.0.0.N:PORT<root>/nN/dJ) and its own --address.

    c = Cluster(tmp_path / "cl")       # 4 nodes x 2 drives: one set of 8, EC 4+4
    c.start()                          # Popen all, then wait until every one is ready
    c.client(3).get_object(...)        # boto3, path style, no retries
    c.kill(3, 4)                       # SIGKILL (also stop = SIGTERM, freeze = SIGSTOP)
    c.start(3, 4)                      # again, waiting until they are ready
    c.close()                          # SIGTERM all; returns the problems seen

A node is a helpers.Server (its log file, its tail, LIVE_SERVERS so that
conftest kills leftovers, sanitizer reports). Every wait is bounded and
scaled by TIME_SCALE (the ASan run); a wait that times out raises an
AssertionError carrying the log tail of every node.

Fixtures (import them into a test module: `from cluster import cluster`):
`cluster` (function scope: a started 4x2 cluster), `make_cluster` (a
factory: make_cluster(nodes=, drives=, start=) -> Cluster, closed at the
end) and `shared_cluster` (module scope, for tests that only add their own
buckets and leave every node up).
"""

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

import helpers
from helpers import BIN, LIVE_SERVERS, TIME_SCALE, Server, make_client

PORT_LO, PORT_HI = helpers.PORT_LO, helpers.PORT_HI
HEALTH_TIMEOUT = 5  # seconds, one health request
START_TIMEOUT = 60  # seconds, a node (or the whole cluster) from Popen to ready


def host_of(n):
    return f"127.0.0.{n}"


def port_free_on(port, hosts):
    """Whether `port` can be bound on every address of `hosts` right now."""
    import socket

    for h in hosts:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((h, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_cluster_port(nodes):
    """A port of 9300-9399 free on 127.0.0.1 .. 127.0.0.<nodes> (shares
    helpers' rotating start so that a cluster and a single server of one
    pytest process do not pick the same port)."""
    hosts = [host_of(n) for n in range(1, nodes + 1)]
    for _ in range(PORT_HI - PORT_LO + 1):
        p = helpers._next_port[0]
        helpers._next_port[0] = PORT_LO + ((p + 1 - PORT_LO) % (PORT_HI - PORT_LO + 1))
        if port_free_on(p, hosts):
            return p
    raise RuntimeError(f"no port of {PORT_LO}-{PORT_HI} is free on all of {hosts}")


class Node(Server):
    """One node of a Cluster: a Server on 127.0.0.N with the cluster's drive URLs."""

    def __init__(self, cluster, n):
        self.cluster = cluster
        self.n = n
        self.host = host_of(n)
        self.frozen = False
        self.env_extra = {}  # per-node environment overrides (e.g. other credentials)
        self.args_override = None  # per-node drive arguments (misconfiguration tests)
        self.exit_expected = False  # a refusal to start is the point (not a crash)
        self.crashes = []  # exits not caused by us, seen before a restart
        self._noted = None  # the process whose exit note_exit() looked at
        root = cluster.root / f"n{n}"
        super().__init__(root, drives=[root / f"d{j}" for j in range(1, cluster.ndrives + 1)],
                         port=cluster.port, name=f"n{n}", extra_args=cluster.extra_args)

    @property
    def endpoint(self):
        return f"http://{self.host}:{self.port}"

    def args(self):
        drives = self.args_override if self.args_override is not None else self.cluster.urls()
        return [BIN, "server", "--address", f"{self.host}:{self.port}", *self.extra_args, *drives]

    def env(self):
        env = super().env()
        env.update(self.cluster.env_extra)
        env.update(self.env_extra)
        return {k: v for k, v in env.items() if v is not None}

    def spawn(self):
        """Popen only: does not wait."""
        if not Path(BIN).exists():
            raise AssertionError(f"server binary {BIN} not built (make build/basalt)")
        assert not self.alive(), f"node {self.n} is already running"
        self.note_exit()
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.args())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env(),
                                         start_new_session=True)
        self.frozen = False
        if self not in LIVE_SERVERS:
            LIVE_SERVERS.append(self)
        return self

    def note_exit(self):
        """Records the previous process's exit if it was not ours (SIGKILL,
        SIGTERM, a clean stop) nor an expected refusal."""
        if self.proc is None or self.proc.poll() is None or self.proc is self._noted:
            return
        self._noted = self.proc
        if not self.exit_expected and self.proc.returncode not in (0, -signal.SIGTERM,
                                                                    -signal.SIGKILL):
            self.crashes.append(f"exit status {self.proc.returncode}; log tail:\n"
                                f"{self.log_tail(30)}")

    def log_mark(self):
        """The current length of the log (for log_since)."""
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, mark):
        """(text written to the log since `mark`, the new mark)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                data = f.read()
        except OSError:
            return "", mark
        return data.decode(errors="replace"), mark + len(data)

    def health(self, kind="ready", minio=False, query=None, timeout=HEALTH_TIMEOUT):
        """Status of GET /basalt/health/<kind> (or /minio/health/<kind>); 0 if no answer."""
        url = f"{self.endpoint}/{'minio' if minio else 'basalt'}/health/{kind}"
        try:
            return requests.get(url, params=query, timeout=timeout * TIME_SCALE).status_code
        except requests.RequestException:
            return 0

    def start(self, timeout=START_TIMEOUT, wait="ready"):
        self.spawn()
        if wait:
            self.cluster.wait_health([self.n], kind=wait, timeout=timeout)
        return self

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.frozen = False


class Cluster:
    """N nodes x M drives on 127.0.0.1..N (see the module's comment)."""

    def __init__(self, root, nodes=4, drives=2, port=None, extra_args=(), env=None):
        assert 1 <= nodes <= 16
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.nnodes = nodes
        self.ndrives = drives
        self.port = port or free_cluster_port(nodes)
        self.extra_args = list(extra_args)
        self.env_extra = dict(env or {})
        self.nodes = [Node(self, n) for n in range(1, nodes + 1)]
        self._clients = {}
        self._lock = threading.Lock()  # protects _clients

    # ---- layout ----

    def node(self, n):
        return self.nodes[n - 1]

    def all(self):
        return list(range(1, self.nnodes + 1))

    def drive_folder(self, n, j):
        return self.root / f"n{n}" / f"d{j}"

    def urls(self):
        return [f"http://{host_of(n)}:{self.port}{self.drive_folder(n, j)}"
                for n in self.all() for j in range(1, self.ndrives + 1)]

    def endpoint(self, n):
        return self.node(n).endpoint

    # ---- processes ----

    def start(self, *ns, timeout=START_TIMEOUT, wait="ready"):
        """Starts nodes `ns` (default: all) at once, then waits until each answers
        /basalt/health/<wait> with 200 (wait=None: does not wait). The first start
        of all nodes moves to another port if one was taken meanwhile (the range
        is shared with other test runs)."""
        ns = ns or tuple(self.all())
        fresh = sorted(ns) == self.all() and all(nd.proc is None for nd in self.nodes)
        for attempt in range(3 if fresh else 1):
            for n in ns:
                self.node(n).spawn()
            try:
                if wait:
                    self.wait_health(ns, kind=wait, timeout=timeout)
                return self
            except AssertionError:
                if not fresh or attempt == 2 or not any(
                        "already in use" in nd.log_text() for nd in self.nodes):
                    raise
            self.kill(*ns)
            self.port = free_cluster_port(self.nnodes)
            for nd in self.nodes:
                nd.port = self.port
            with self._lock:
                self._clients.clear()
        return self

    def kill(self, *ns):
        """SIGKILL nodes `ns` at once (a frozen node too), waits until they are gone."""
        for n in ns:
            nd = self.node(n)
            if nd.alive():
                nd.proc.kill()
            else:
                nd.note_exit()  # it died before: a crash unless we caused it
        for n in ns:
            nd = self.node(n)
            if nd.proc is not None:
                nd.proc.wait(10)
            nd.frozen = False

    def stop(self, *ns, grace=10):
        """SIGTERM nodes `ns` at once, SIGKILL those still up after `grace` s.
        Returns their exit statuses."""
        ns = ns or tuple(self.all())
        for n in ns:
            nd = self.node(n)
            if nd.frozen:
                nd.thaw()
            if nd.alive():
                nd.proc.send_signal(signal.SIGTERM)
        out = []
        for n in ns:
            nd = self.node(n)
            if nd.proc is None:
                out.append(None)
                continue
            try:
                nd.proc.wait(grace * TIME_SCALE)
            except subprocess.TimeoutExpired:
                nd.term_timeouts.append(nd.log_tail(15))
                nd.proc.kill()
                nd.proc.wait(10)
            out.append(nd.proc.returncode)
        return out

    def freeze(self, n):
        self.node(n).freeze()

    def thaw(self, n):
        self.node(n).thaw()

    def alive(self, n):
        return self.node(n).alive()

    # ---- clients and health ----

    def client(self, n, **cfg):
        """A boto3 client of node n (path style, exactly one attempt per call:
        helpers.make_client's max_attempts=1 still retries once; cfg: botocore
        Config overrides, e.g. read_timeout). Clients without cfg are cached."""
        cfg.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
        if len(cfg) > 1:
            return make_client(self.endpoint(n), helpers.ACCESS_KEY, helpers.SECRET_KEY, **cfg)
        with self._lock:
            c = self._clients.get(n)
            if c is None:
                c = self._clients[n] = make_client(self.endpoint(n), helpers.ACCESS_KEY,
                                                   helpers.SECRET_KEY, **cfg)
            return c

    def health(self, n, kind="ready", minio=False, query=None):
        return self.node(n).health(kind, minio, query)

    def wait_health(self, ns, kind="ready", status=200, timeout=START_TIMEOUT, query=None):
        """Waits until every node of `ns` answers /basalt/health/<kind> with `status`.
        A node that exits meanwhile fails at once."""
        deadline = time.monotonic() + timeout * TIME_SCALE
        pending = list(ns)
        last = {}
        while pending:
            for n in list(pending):
                nd = self.node(n)
                if nd.proc is not None and nd.proc.poll() is not None:
                    raise AssertionError(f"node {n} exited with status {nd.proc.returncode} while "
                                         f"waiting for health/{kind} {status}\n{self.tails()}")
                last[n] = nd.health(kind, query=query)
                if last[n] == status:
                    pending.remove(n)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"nodes {pending} did not answer health/{kind} {status} "
                                     f"within {timeout}s (last: {last})\n{self.tails()}")
            time.sleep(0.1)

    def wait_all_seen(self, timeout=30):
        """Waits until every node answers /basalt/health/cluster?maintenance=true
        with 200: it sees enough of the others' drives online to let one node go
        (with 4 nodes x 2 drives: every other drive). Nodes learn that a
        restarted peer is back within a few seconds, not at once."""
        self.wait_health(self.all(), kind="cluster", timeout=timeout,
                         query={"maintenance": "true"})

    # ---- drives ----

    def wipe_drive(self, n, j):
        """Empties drive j (1-based) of node n (the folder stays)."""
        self.node(n).wipe_drive(j - 1)

    def format_ids(self):
        """{drive folder: deployment_id} of every drive that has a format.json."""
        import json

        out = {}
        for n in self.all():
            for d in self.node(n).drives:
                f = d / ".basalt" / "format.json"
                if f.exists():
                    out[str(d)] = json.loads(f.read_text()).get("deployment_id")
        return out

    # ---- reports ----

    def tails(self, lines=40):
        out = []
        for nd in self.nodes:
            state = ("frozen" if nd.frozen else "up") if nd.alive() else (
                f"exited {nd.proc.returncode}" if nd.proc else "never started")
            out.append(f"----- node {nd.n} ({state}) {nd.log_path} -----\n{nd.log_tail(lines)}")
        return "\n".join(out)

    def crashed(self):
        """[(node, what)] of every exit not caused by the harness (a status other
        than SIGKILL, SIGTERM or 0, unless the node's exit was expected)."""
        bad = []
        for nd in self.nodes:
            nd.note_exit()
            bad += [(nd.n, what) for what in nd.crashes]
            nd.crashes = []
        return bad

    def close(self):
        """Stops every node (SIGTERM, at once) and returns a list of problems:
        crashes, SIGTERMs not obeyed within 10 s, sanitizer reports."""
        problems = [f"node {n} crashed: {what}" for n, what in self.crashed()]
        self.stop(*[nd.n for nd in self.nodes if nd.alive()])
        for nd in self.nodes:
            if nd.term_timeouts:
                problems.append(f"node {nd.n}: {len(nd.term_timeouts)} SIGTERM(s) not obeyed "
                                f"within 10 s; log tail then:\n{nd.term_timeouts[0]}")
            san = nd.sanitizer_reports()
            if san:
                problems.append(f"node {nd.n}: sanitizer report:\n" + "\n".join(san[:10]))
            if nd in LIVE_SERVERS:
                LIVE_SERVERS.remove(nd)
        return problems


def _finish(c, failed):
    if failed:
        print(f"\n{c.tails(80)}")
    problems = c.close()
    assert not problems, "cluster problems:\n" + "\n".join(problems) + "\n" + c.tails(40)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is not None and rep.failed


@pytest.fixture
def make_cluster(request, tmp_path):
    """Factory: make_cluster(nodes=4, drives=2, start=True, **Cluster kwargs) -> Cluster.
    Every cluster made is stopped at the end; a crash, a SIGTERM not obeyed or a
    sanitizer report fails the test."""
    made = []

    def make(start=True, **kw):
        c = Cluster(tmp_path / f"cl{len(made)}", **kw)
        made.append(c)
        if start:
            c.start()
        return c

    yield make
    errors = []
    for c in made:
        try:
            _finish(c, _failed(request))
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


@pytest.fixture
def cluster(make_cluster):
    """A started cluster of 4 nodes x 2 drives (one set of 8, EC 4+4)."""
    return make_cluster()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    """One 4x2 cluster for a module's tests that leave every node up (each
    makes its own buckets). conftest prints every node's log tail when a test
    fails while it runs."""
    c = Cluster(tmp_path_factory.mktemp("shared-cluster"))
    c.start()
    yield c
    _finish(c, False)


# --------------------------------------------------------------------------
# Node-to-node RPC, signed as a node would (cluster/rpc_auth.h)
# --------------------------------------------------------------------------

RPC_HEADERS = ("Version", "Node", "Boot-Id", "Boot-Time", "Seq", "Time", "Body", "Request-Id")


def _field(b):
    import struct

    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def rpc_key(root_user=helpers.ACCESS_KEY, root_password=helpers.SECRET_KEY, secret=None):
    """The cluster key: HKDF-SHA256 of the cluster secret or the root credentials."""
    import hashlib
    import hmac

    ikm = (_field("secret") + _field(secret) if secret else
           _field("root") + _field(root_user) + _field(root_password))
    prk = hmac.new(b"basalt cluster rpc key", ikm, hashlib.sha256).digest()
    return hmac.new(prk, b"rpc signing key v1\x01", hashlib.sha256).digest()


class RpcSigner:
    """Signs calls as a made-up node `node` (its own boot id and sequence numbers)."""

    def __init__(self, key=None, node="127.0.0.99:1"):
        import secrets

        self.key = key or rpc_key()
        self.node = node
        self.boot_id = secrets.token_hex(16)
        self.boot_time = str(time.time_ns())
        self.seq = 0

    def headers(self, method, path, query="", body=b"", time_ms=None, version="1"):
        """The nine X-Basalt-Rpc-* headers of a call; `path` with /basalt/rpc/vN,
        `query` raw (already encoded)."""
        import hashlib
        import hmac

        self.seq += 1
        t = time_ms if time_ms is not None else int(time.time() * 1000)
        vals = [version, self.node, self.boot_id, self.boot_time, str(self.seq), str(t),
                hashlib.sha256(body).hexdigest(), "e2e-rpc"]
        canon = b"".join(_field(x) for x in ["basalt-rpc", method, path, query] + vals)
        h = {f"X-Basalt-Rpc-{n}": v for n, v in zip(RPC_HEADERS, vals)}
        h["X-Basalt-Rpc-Signature"] = hmac.new(self.key, canon, hashlib.sha256).hexdigest()
        return h


# --------------------------------------------------------------------------
# Small helpers of the cluster tests
# --------------------------------------------------------------------------


def list_keys(client, bucket, prefix=""):
    """Every key of a bucket (ListObjectsV2, all pages)."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def s3_error(fn, **kw):
    """The S3 error code of a call that must fail (the HTTP status for HEAD)."""
    from botocore.exceptions import ClientError

    try:
        fn(**kw)
    except ClientError as e:
        return helpers.err_code(e) or str(helpers.http_status(e))
    raise AssertionError(f"{fn.__name__}({kw}) succeeded, an error was expected")


def get_or_error(client, bucket, key):
    """The object's bytes, or its S3 error code (a string)."""
    from botocore.exceptions import ClientError

    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        return helpers.err_code(e) or str(helpers.http_status(e))


def wait_heal_quiet(c, since, min_wait=5, quiet=2, timeout=60):
    """Waits until no node has logged heal activity for `quiet` s, at least
    `min_wait` s after `since` (time.monotonic() of the event healing follows:
    the monitor looks for returning drives every 2 s). Bounded by `timeout`."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    marks = {nd.n: nd.log_mark() for nd in c.nodes}
    last_activity = time.monotonic()
    while time.monotonic() < deadline:
        for nd in c.nodes:
            text, marks[nd.n] = nd.log_since(marks[nd.n])
            if '"event":"heal' in text:
                last_activity = time.monotonic()
        now = time.monotonic()
        if now - since >= min_wait * TIME_SCALE and now - last_activity >= quiet * TIME_SCALE:
            return
        time.sleep(0.2)
    raise AssertionError(f"healing still busy after {timeout}s\n{c.tails()}")
