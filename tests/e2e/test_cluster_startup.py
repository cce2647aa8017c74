"""Cluster start-up: a fresh cluster started on every node at the same
instant is formatted by exactly one node (20 times over); a node started
with another drive list, other root credentials or cluster secret, a
malformed endpoint or a drive given twice refuses to start, saying why (and
a malformed `http:/x` never becomes a folder named `http:`)."""

import json
import os
import random
import subprocess

import pytest

from cluster import Cluster, cluster, make_cluster  # noqa: F401 - fixtures
from helpers import BIN, TIME_SCALE, sha


def test_fresh_cluster_formatted_by_exactly_one_node(tmp_path):
    rnd = random.Random(20)
    for r in range(20):
        c = Cluster(tmp_path / f"r{r}")
        order = c.all()
        rnd.shuffle(order)  # all at once, node 1 (the formatter) not always first
        try:
            c.start(*order)
            docs = {}
            for n in c.all():
                for d in c.node(n).drives:
                    f = d / ".basalt" / "format.json"
                    assert f.exists(), f"round {r}: {d} has no format.json\n{c.tails()}"
                    docs[str(d)] = json.loads(f.read_text())
            ids = {doc["deployment_id"] for doc in docs.values()}
            assert len(ids) == 1, f"round {r} (start order {order}): deployment ids {ids}"
            sets = {json.dumps(doc["sets"]) for doc in docs.values()}
            assert len(sets) == 1, f"round {r}: the drives disagree on the set layout"
            this = [doc["this"] for doc in docs.values()]
            assert len(set(this)) == 8 and set(this) == set(json.loads(sets.pop())[0]), this
            # no node took a drive of the fresh deployment for a replaced one
            back = [n for n in c.all() if '"event":"drive_formatted"' in c.node(n).log_text()]
            assert not back, f"round {r}: nodes {back} formatted drives back\n{c.tails()}"
        finally:
            c.kill(*c.all())
            problems = [f"node {n}: {what}" for n, what in c.crashed()]
            c.close()
        assert not problems, problems


def wait_exit(node, timeout=30):
    """The exit status of a node that must refuse to start, and its output."""
    try:
        rc = node.proc.wait(timeout * TIME_SCALE)
    except subprocess.TimeoutExpired:
        node.proc.kill()
        node.proc.wait(10)
        raise AssertionError(f"node {node.n} did not refuse to start within {timeout}s:\n"
                             f"{node.log_tail(30)}")
    return rc, node.log_text().split("===== start #")[-1]


def misconfigured(c, how):
    urls = c.urls()
    if how == "drive renamed":
        return urls[:5] + [urls[5] + "x"] + urls[6:], "/n3/d2"
    if how == "drives reordered":
        return urls[:2] + [urls[3], urls[2]] + urls[4:], "/n2/d"
    if how == "drive missing":
        return urls[:-1], ""
    if how == "drive added":
        return urls + [urls[-1][:-1] + "3"], "/n4/d3"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["drive renamed", "drives reordered", "drive missing",
                                 "drive added", "root password", "cluster secret"])
def test_node_with_another_configuration_refuses_to_start(make_cluster, how):  # noqa: F811
    c = make_cluster()  # a fresh deployment is formatted once every drive answers
    c.client(1).create_bucket(Bucket="misconf")
    c.client(2).put_object(Bucket="misconf", Key="k", Body=b"v")
    c.stop(4)
    nd = c.node(4)
    named = ""
    if how == "root password":
        nd.env_extra = {"BASALT_ROOT_PASSWORD": "another-password-1"}
        words = ["refuses our calls", "root credentials or BASALT_CLUSTER_SECRET differ"]
    elif how == "cluster secret":
        nd.env_extra = {"BASALT_CLUSTER_SECRET": "a-secret-only-node-4-has"}
        words = ["refuses our calls", "root credentials or BASALT_CLUSTER_SECRET differ"]
    else:
        nd.args_override, named = misconfigured(c, how)
        words = ["layout"]
    nd.exit_expected = True
    nd.spawn()
    rc, out = wait_exit(nd)
    nd.note_exit()
    nd.exit_expected = False
    assert rc not in (0, None) and rc > 0, f"{how}: exit status {rc}\n{out}"
    low = out.lower()
    for w in words:
        assert w.lower() in low, f"{how}: {w!r} not said:\n{out}"
    if named:
        assert named in out, f"{how}: the difference ({named}) is not named:\n{out}"
    # the others kept serving, and take node 4 back once it is started right
    for n in (1, 2, 3):
        assert c.client(n).get_object(Bucket="misconf", Key="k")["Body"].read() == b"v"
    nd.env_extra, nd.args_override = {}, None
    c.start(4)
    assert c.client(4).get_object(Bucket="misconf", Key="k")["Body"].read() == b"v"


def run_server(args, cwd, timeout=15):
    env = dict(os.environ)
    env.update(BASALT_ROOT_USER="e2eadmin", BASALT_ROOT_PASSWORD="e2e-secret-key-123")
    r = subprocess.run([BIN, "server", *args], cwd=cwd, env=env, capture_output=True,
                       timeout=timeout * TIME_SCALE)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


BAD_ENDPOINTS = [
    # (arguments, what the message must quote)
    (["http:/x"], "http:/x"),
    (["http:/x", "http:/y", "http:/z", "http:/w"], "http:/x"),
    (["http:x/d1", "http:x/d2"], "http:x/d1"),
    (["http://127.0.0.1:{p}"], "no drive path"),
    (["http://127.0.0.1:99999/x"], "99999"),
    (["http://127.0.0.1:abc/x"], "abc"),
    (["ftp://127.0.0.1:{p}/x"], "ftp"),
    (["http://:{p}/x"], "empty host"),
    (["http://127.0.0.1:{p}/a/../b", "http://127.0.0.2:{p}/b"], ".."),
    (["http://127.0.0.1:{p}/a?x=1", "http://127.0.0.2:{p}/b"], "?"),
    (["http://127.0.0.1:{p}/d1", "http://127.0.0.2:{p}/d1", "/tmp/local"], "cannot be mixed"),
]


@pytest.mark.parametrize("args,said", BAD_ENDPOINTS, ids=[" ".join(a) for a, _ in BAD_ENDPOINTS])
def test_malformed_endpoint_refused_and_no_folder_made(tmp_path, args, said):
    p = 9399
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    args = [a.format(p=p) for a in args]
    rc, out = run_server(["--address", f"127.0.0.1:{p}", *args], cwd)
    assert rc == 2, f"{args}: exit status {rc}\n{out}"
    assert "basalt server:" in out and said.format(p=p) in out, f"{args}:\n{out}"
    assert list(cwd.iterdir()) == [], f"{args}: made {list(cwd.iterdir())} in the working directory"
    assert not any(tmp_path.rglob("http:*")), list(tmp_path.rglob("*"))


@pytest.mark.parametrize("second", ["{u}", "{u}/", "http://127.0.0.1:{p}/{path}",
                                    "HTTP://127.0.0.1:{p}{path}"])
def test_drive_given_twice_refused(tmp_path, second):
    p = 9399
    first = f"http://127.0.0.1:{p}{tmp_path}/n1/d1"
    dup = second.format(u=first, p=p, path=f"{tmp_path}/n1/d1")
    args = [first, dup] + [f"http://127.0.0.2:{p}{tmp_path}/n2/d{j}" for j in (1, 2)]
    rc, out = run_server(["--address", f"127.0.0.1:{p}", *args], tmp_path)
    assert rc == 2, f"{args}: exit status {rc}\n{out}"
    assert "given twice" in out and dup in out, out
    assert not (tmp_path / "n1").exists(), "a drive folder made before the arguments were checked"


def test_address_not_among_the_endpoints_refused(tmp_path):
    p = 9399
    args = [f"http://127.0.0.{n}:{p}{tmp_path}/n{n}/d{j}" for n in (1, 2) for j in (1, 2)]
    rc, out = run_server(["--address", f"127.0.0.9:{p}", *args], tmp_path)
    assert rc == 2 and "127.0.0.9" in out and "none of the endpoints" in out, (rc, out)
    rc, out = run_server(["--address", f"127.0.0.1:{p + 1 if p < 9399 else p - 1}", *args],
                         tmp_path)
    assert rc == 2 and "none of the endpoints" in out, (rc, out)
    assert not (tmp_path / "n1").exists()


def test_started_cluster_serves_one_format(cluster):  # noqa: F811
    """The formatted cluster agrees with itself after a full restart."""
    c = cluster
    before = c.format_ids()
    assert len(before) == 8 and len(set(before.values())) == 1, before
    c.client(1).create_bucket(Bucket="restart")
    c.client(2).put_object(Bucket="restart", Key="k", Body=b"v" * 1000)
    c.stop()
    c.start()
    assert c.format_ids() == before
    for n in c.all():
        assert sha(c.client(n).get_object(Bucket="restart", Key="k")["Body"].read()) == \
            sha(b"v" * 1000)
