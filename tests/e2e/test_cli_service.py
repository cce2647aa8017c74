"""`basalt admin service restart|stop ALIAS` (issue 13) against a running server and a 4-node
cluster: a restart keeps the PID (execv of the same binary with the same arguments), binds the
port again and serves the same data; no write acknowledged during a restart is lost; a stop exits
with status 0; a user without admin:ServiceRestart / admin:ServiceStop gets AccessDenied and
nothing stops."""

import json
import os
import subprocess
import threading
import time

import pytest
import requests

from cluster import make_cluster  # noqa: F401 (fixture)
from helpers import ACCESS_KEY, BIN, SECRET_KEY, TIME_SCALE, rand_bytes, wait_until
from test_cli import Cli


def alias_env(name, host, port, ak=ACCESS_KEY, sk=SECRET_KEY):
    return {f"BASALT_ALIAS_{name}": f"http://{ak}:{sk}@{host}:{port}"}


@pytest.fixture
def srv(fresh_server):
    return fresh_server()


@pytest.fixture
def cli(srv, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return Cli(srv, home)


def log_mark(server):
    return server.log_path.stat().st_size


def log_since(server, mark):
    with open(server.log_path, "rb") as f:
        f.seek(mark)
        return f.read().decode(errors="replace")


def restarted(server, mark, timeout=60):
    """Waits until the server logging since `mark` stopped, started again (its banner, printed
    once it serves) and answers ready."""
    def done():
        after = log_since(server, mark).split("basalt server: starting again", 1)
        return len(after) == 2 and "Basalt server" in after[1] and node_ready(server)
    wait_until(done, timeout, what=f"{server.name} restarted")


def node_ready(node):
    try:
        return requests.get(node.endpoint + "/basalt/health/ready", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_restart_single_node_same_pid_data_intact(srv, cli):
    s3 = srv.client()
    s3.create_bucket(Bucket="svc-restart")
    data = rand_bytes(3 << 20, seed=21)
    s3.put_object(Bucket="svc-restart", Key="k", Body=data)
    pid = srv.proc.pid
    cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    for round in range(2):  # twice: the port is bound again each time, descriptors do not pile up
        fds = open_fds(pid)
        mark = log_mark(srv)
        out = cli.json("admin", "service", "restart", "t")
        assert out == [{"status": "success", "node": f"127.0.0.1:{srv.port}", "action": "restart",
                        "acknowledged": True, "this": True}], out
        restarted(srv, mark)
        assert log_since(srv, mark).count("Basalt server") == 1
        assert srv.alive() and srv.proc.pid == pid
        assert open(f"/proc/{pid}/cmdline", "rb").read() == cmdline
        assert open_fds(pid) <= fds + 1, (round, fds, os.listdir(f"/proc/{pid}/fd"))
        assert s3.get_object(Bucket="svc-restart", Key="k")["Body"].read() == data
        s3.put_object(Bucket="svc-restart", Key=f"after-{round}", Body=b"x" * round)
    text = cli.out("admin", "service", "restart", "t")
    assert text.splitlines() == [f"127.0.0.1:{srv.port}: restarting (the node that was asked)",
                                 "restart of t: 1 of 1 nodes acknowledged"], text


def test_two_restarts_at_once_leave_it_running(srv, cli):
    # the second restart's SIGTERM, queued while the first one stops, must not stop the new server
    pid, mark = srv.proc.pid, log_mark(srv)
    procs = [subprocess.Popen([BIN, "admin", "service", "restart", "t"], env=cli.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        p.wait(60 * TIME_SCALE)
    restarted(srv, mark)
    time.sleep(2)
    wait_until(lambda: node_ready(srv), 60, what="the server serving again")
    assert srv.alive() and srv.proc.pid == pid, srv.log_tail()
    assert "signal 15, stopping" not in log_since(srv, mark), srv.log_tail()


def test_no_acknowledged_write_lost_during_restart(srv, cli):
    s3 = srv.client(retries={"total_max_attempts": 1, "mode": "standard"})
    s3.create_bucket(Bucket="svc-writes")
    acked, stop = {}, threading.Event()

    def writer(w):
        i = 0
        while not stop.is_set():
            key, body = f"w{w}-{i}", rand_bytes(64 << 10, seed=w * 100000 + i)
            try:
                s3.put_object(Bucket="svc-writes", Key=key, Body=body)
                acked[key] = body
            except Exception:  # refused or cut while stopping: not acknowledged
                time.sleep(0.02)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(acked) >= 10, 30, what="writes before the restart")
        mark = log_mark(srv)
        cli("admin", "service", "restart", "t")
        restarted(srv, mark)
        n = len(acked)
        wait_until(lambda: len(acked) >= n + 10, 30, what="writes after the restart")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    for key, body in list(acked.items()):
        assert s3.get_object(Bucket="svc-writes", Key=key)["Body"].read() == body, key


@pytest.mark.parametrize("delay_ms", [0, 2, 10, 50])
def test_sigterm_during_a_restart_still_stops(fresh_server, delay_ms):
    """A SIGTERM from outside (systemctl stop) sent while a restart is being asked and carried
    out is never lost, whichever the server takes first: it stops (at once, or in the process
    it execs), exit status 0. The restart's own signal is a real-time one (restart.h), so the
    two are never merged into one pending SIGTERM."""
    import signal
    from helpers import Signed
    srv = fresh_server()

    def ask():
        try:  # the SIGTERM may stop the server before it answers, or even reads, the request
            Signed(srv).request("POST", "/basalt/admin/v1/service/restart", timeout=30)
        except requests.RequestException:
            pass
    t = threading.Thread(target=ask, daemon=True)
    t.start()
    time.sleep(delay_ms / 1000)
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(60 * TIME_SCALE) == 0, srv.log_tail()
    t.join(30)


def test_stop_exits_0(srv, cli):
    out = cli.out("admin", "service", "stop", "t")
    assert out.splitlines()[0] == f"127.0.0.1:{srv.port}: stopping (the node that was asked)"
    assert srv.proc.wait(30 * TIME_SCALE) == 0, srv.log_tail()
    assert "stop asked through the admin API" in srv.log_text()
    # the server is gone: the call cannot reach it, and says so (not retried for a minute)
    t0 = time.monotonic()
    r = cli("admin", "service", "stop", "t", ok=False,
            env={"BASALT_RETRY_MAX_TIME": "2s"})
    assert r.returncode == 1 and b"cannot reach" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 20 * TIME_SCALE


def test_denied_without_the_admin_action(srv, cli, tmp_path):
    pol = tmp_path / "stop-only.json"
    pol.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["admin:ServiceStop"], "Resource": ["arn:aws:s3:::*"]}]}))
    cli("admin", "user", "add", "t", "svc-ro", "svc-ro-secret-1")
    cli("admin", "policy", "attach", "t", "readonly", "--user", "svc-ro")
    cli("admin", "policy", "create", "t", "svc-stop-only", str(pol))
    cli("admin", "user", "add", "t", "svc-stopper", "svc-stopper-secret-1")
    cli("admin", "policy", "attach", "t", "svc-stop-only", "--user", "svc-stopper")
    pid, mark = srv.proc.pid, log_mark(srv)
    ro = alias_env("ro", "127.0.0.1", srv.port, "svc-ro", "svc-ro-secret-1")
    for action in ("restart", "stop"):
        r = cli("admin", "service", action, "ro", ok=False, env=ro)
        assert r.returncode == 1, r
        assert b"AccessDenied" in r.stderr and r.stderr.count(b"\n") == 1, r.stderr
        js = cli("admin", "service", action, "ro", "--json", ok=False, env=ro)
        assert json.loads(js.stdout)["status"] == "error", js.stdout
    stopper = alias_env("st", "127.0.0.1", srv.port, "svc-stopper", "svc-stopper-secret-1")
    r = cli("admin", "service", "restart", "st", ok=False, env=stopper)
    assert r.returncode == 1 and b"AccessDenied" in r.stderr, r.stderr
    time.sleep(1)
    assert srv.alive() and srv.proc.pid == pid
    assert "asked through the admin API" not in log_since(srv, mark)
    assert "service_asked" not in log_since(srv, mark)
    assert node_ready(srv)


def test_usage(cli):
    assert cli("admin", "service", "restart", ok=False).returncode == 2
    assert cli("admin", "service", "reload", "t", ok=False).returncode == 2
    assert cli("admin", "service", ok=False).returncode == 2
    out = cli.out("help", "admin", "service")
    assert "restart" in out and "stop" in out and "exit status" in out
    assert "admin:ServiceRestart" in cli.out("admin", "service", "restart", "--help")


def test_cluster_restart_every_node_comes_back(make_cluster, tmp_path):  # noqa: F811
    c = make_cluster()
    s3 = c.client(1)
    s3.create_bucket(Bucket="svc-cluster")
    data = rand_bytes(5 << 20, seed=4)
    s3.put_object(Bucket="svc-cluster", Key="k", Body=data)
    pids = {nd.n: nd.proc.pid for nd in c.nodes}
    marks = {nd.n: log_mark(nd) for nd in c.nodes}
    home = tmp_path / "home"
    home.mkdir()
    cli = Cli(c.node(2), home)
    env = alias_env("c", c.node(2).host, c.port)
    out = cli.json("admin", "service", "restart", "c", env=env)
    assert sorted(o["node"] for o in out) == sorted(f"{nd.host}:{c.port}" for nd in c.nodes), out
    assert all(o["acknowledged"] and o["status"] == "success" for o in out), out
    assert [o["node"] for o in out if o["this"]] == [f"{c.node(2).host}:{c.port}"], out
    for nd in c.nodes:
        restarted(nd, marks[nd.n], timeout=120)
    c.wait_health(c.all(), kind="cluster")
    for nd in c.nodes:
        assert nd.alive() and nd.proc.pid == pids[nd.n], nd.n
    assert c.client(3).get_object(Bucket="svc-cluster", Key="k")["Body"].read() == data
    c.client(4).put_object(Bucket="svc-cluster", Key="after", Body=b"after")
    assert c.client(1).get_object(Bucket="svc-cluster", Key="after")["Body"].read() == b"after"
