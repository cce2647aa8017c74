"""Nodes down in a 4-node cluster (4 x 2 drives, EC 4+4: reads need 2
nodes, writes and deletes 3):

- 2 nodes SIGKILLed (several pairs): every object reads back byte-identical
  and is listed through both survivors; writes fail cleanly (503 SlowDown)
  and a failed write is neither readable nor listed, then or after the
  nodes are back;
- 1 node down: writes, overwrites, deletes, new and deleted buckets through
  the others; once it is back and healing is done, that node (with two
  other nodes killed) gives exactly the surviving state;
- a frozen node (SIGSTOP) does not stall the others beyond a bound and is
  used again after SIGCONT;
- health endpoints follow the number of nodes up.
"""

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import ClientError

from cluster import (cluster, get_or_error, list_keys, make_cluster,  # noqa: F401 - fixtures
                     s3_error, wait_heal_quiet)
from helpers import TIME_SCALE, err_code, rand_bytes, sha

MiB = 1024 * 1024
INLINE_MAX = 128 * 1024


# ----------------------------------------------------------------------------
# Data: mixed sizes written through every node
# ----------------------------------------------------------------------------


def dataset(n_small, n_mid, n_big, n_mp, seed=1):
    """[(key, [part sizes])]: mostly small (inline, with the boundaries), some
    1-3 MiB, a few 20 MiB, a few multipart (5 MiB parts)."""
    rnd = random.Random(seed)
    edges = [0, 1, 4095, 4096, INLINE_MAX - 1, INLINE_MAX, INLINE_MAX + 1]
    objs = []
    for i in range(n_small):
        size = edges[i] if i < len(edges) else rnd.randrange(0, INLINE_MAX + 1)
        objs.append((f"small/{i % 10}/{i:04d}", [size]))
    objs += [(f"mid/{i:03d}", [rnd.randrange(MiB, 3 * MiB + 1)]) for i in range(n_mid)]
    objs += [(f"big/{i}", [20 * MiB + i]) for i in range(n_big)]
    objs += [(f"mp/{i}", [5 * MiB, 5 * MiB + i, rnd.randrange(1, MiB)]) for i in range(n_mp)]
    rnd.shuffle(objs)
    return objs


def part_bytes(key, j, size):
    return rand_bytes(size, seed=f"{key}#{j}")


def write_one(c, bucket, i, key, sizes):
    """Writes object `key` through node 1 + i % 4 (a multipart one: created,
    uploaded and completed through different nodes). Returns its SHA-256."""
    nodes = c.all()
    w = nodes[i % len(nodes)]
    if len(sizes) == 1:
        data = part_bytes(key, 0, sizes[0])
        c.client(w).put_object(Bucket=bucket, Key=key, Body=data)
        return sha(data)
    up = c.client(w).create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts, whole = [], b""
    for j, size in enumerate(sizes):
        data = part_bytes(key, j, size)
        whole += data
        n = nodes[(i + j + 1) % len(nodes)]
        etag = c.client(n).upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=j + 1,
                                       Body=data)["ETag"]
        parts.append({"ETag": etag, "PartNumber": j + 1})
    c.client(nodes[(i + 2) % len(nodes)]).complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": parts})
    return sha(whole)


def write_all(c, bucket, objs, threads=4):
    with ThreadPoolExecutor(threads) as ex:
        shas = list(ex.map(lambda a: write_one(c, bucket, a[0], *a[1]), enumerate(objs)))
    return {key: s for (key, _), s in zip(objs, shas)}


def mismatches(c, bucket, want, nodes, absent=(), threads=4):
    """What nodes `nodes` get wrong: listing != want's keys, a read that is not
    byte-identical, a key of `absent` that reads. [] when all is right."""
    bad = []
    for n in nodes:
        try:
            listed = list_keys(c.client(n), bucket)
        except ClientError as e:
            bad.append(f"node {n} cannot list: {err_code(e)}")
            continue
        if listed != sorted(want):
            extra, missing = set(listed) - set(want), set(want) - set(listed)
            bad.append(f"node {n} lists {len(listed)} keys: extra {sorted(extra)[:5]}, "
                       f"missing {sorted(missing)[:5]} ({len(missing)})")

    def check(job):
        n, key = job
        got = get_or_error(c.client(n), bucket, key)
        if key in want:
            if isinstance(got, str) or sha(got) != want[key]:
                return f"node {n} reads {key}: {got if isinstance(got, str) else 'other bytes'}"
        elif got != "NoSuchKey":
            what = got if isinstance(got, str) else "bytes"
            return f"node {n} reads deleted/failed {key}: {what}"
        return None

    jobs = [(n, k) for n in nodes for k in list(want) + list(absent)]
    with ThreadPoolExecutor(threads) as ex:
        bad += [r for r in ex.map(check, jobs) if r]
    return bad


def assert_state(c, bucket, want, nodes, absent=()):
    bad = mismatches(c, bucket, want, nodes, absent)
    assert not bad, f"{len(bad)} problems, first ones:\n" + "\n".join(bad[:15])


# ----------------------------------------------------------------------------
# Two nodes down
# ----------------------------------------------------------------------------


def failed_writes(c, bucket, want, survivors):
    """With write quorum lost: every kind of write through the survivors fails
    with 503 SlowDown (nothing hangs). Returns the keys that must stay absent."""
    a, b = survivors
    exist = sorted(want)
    tries = [
        (c.client(a).put_object, dict(Bucket=bucket, Key="fail/new-small", Body=b"x" * 1000)),
        (c.client(b).put_object, dict(Bucket=bucket, Key="fail/new-big",
                                      Body=rand_bytes(3 * MiB, seed=7))),
        (c.client(a).put_object, dict(Bucket=bucket, Key=exist[0], Body=b"overwrite")),
        (c.client(b).put_object, dict(Bucket=bucket, Key=exist[1],
                                      Body=rand_bytes(INLINE_MAX + 10, seed=8))),
        (c.client(a).delete_object, dict(Bucket=bucket, Key=exist[2])),
        (c.client(b).copy_object, dict(Bucket=bucket, Key="fail/copy",
                                       CopySource={"Bucket": bucket, "Key": exist[3]})),
        (c.client(a).create_multipart_upload, dict(Bucket=bucket, Key="fail/mp")),
    ]
    for fn, kw in tries:
        t0 = time.monotonic()
        code = s3_error(fn, **kw)
        dt = time.monotonic() - t0
        assert code == "SlowDown", (fn.__name__, kw.get("Key"), code)
        # the longest wait for a name lock is 10 s (OBJ_LOCK_WAIT_NS): then SlowDown
        assert dt < 12 * TIME_SCALE, (fn.__name__, kw.get("Key"), f"failed after {dt:.1f}s")
    return ["fail/new-small", "fail/new-big", "fail/copy", "fail/mp"]


def two_down(c, objs, pairs, write_pairs):
    """Writes `objs`, then for each pair of nodes: SIGKILLs it, reads and lists
    everything through both survivors; for the pairs of `write_pairs`, tries
    every kind of write too, and checks (then and once the pair is back) that
    the failed ones left nothing."""
    bucket = "twodown"
    c.client(1).create_bucket(Bucket=bucket)
    t0 = time.monotonic()
    want = write_all(c, bucket, objs)
    print(f"wrote {len(objs)} objects in {time.monotonic() - t0:.1f}s")
    for pair in pairs:
        survivors = [n for n in c.all() if n not in pair]
        c.kill(*pair)
        t0 = time.monotonic()
        assert_state(c, bucket, want, survivors)
        print(f"nodes {pair} down: read and listed through {survivors} in "
              f"{time.monotonic() - t0:.1f}s")
        if pair not in write_pairs:
            c.start(*pair)
            c.wait_all_seen()  # (a node sees a restarted one back within seconds)
            continue
        absent = failed_writes(c, bucket, want, survivors)
        # the failed writes left nothing behind: not now, ...
        touched = {k: want[k] for k in sorted(want)[:4]}
        assert_state(c, bucket, want, survivors, absent)
        c.start(*pair)
        c.wait_all_seen()
        # ... and not once every drive is back (nothing else changed: the keys
        # the failed writes aimed at, and the listing, through every node)
        bad = []
        for n in c.all():
            if list_keys(c.client(n), bucket) != sorted(want):
                bad.append(f"node {n}: listing differs")
        bad += mismatches(c, bucket, touched, c.all(), absent)[:10]
        bad = [b for b in bad if "lists" not in b]  # (touched is not the whole bucket)
        assert not bad, "\n".join(bad)
        for n in c.all():
            assert [u["Key"] for u in c.client(n).list_multipart_uploads(Bucket=bucket).get(
                "Uploads", []) if u["Key"].startswith("fail/")] == [], n


def test_two_nodes_down_small(cluster):  # noqa: F811
    """The fast version (also under ASan): 100 objects, one pair."""
    two_down(cluster, dataset(90, 6, 1, 3), [(2, 3)], [(2, 3)])


@pytest.mark.slow
def test_two_nodes_down_1000_objects(cluster):  # noqa: F811
    """1,000 objects, two pairs (failing writes: the small version, their name
    lock waits cost 10 s each)."""
    two_down(cluster, dataset(950, 40, 4, 6), [(3, 4), (1, 4)], [])


# ----------------------------------------------------------------------------
# One node down, then back: it catches up with exactly the surviving state
# ----------------------------------------------------------------------------


def body(key, version, size):
    head = f"{key} v{version} ".encode()
    return head + rand_bytes(max(0, size - len(head)), seed=f"{key}/{version}")


def sizes_cycle(i):
    return [10, 1000, 50_000, INLINE_MAX + 1, 300_000, 2 * MiB + 3][i % 6]


@pytest.mark.parametrize("down", [4, 1])
def test_one_node_down_catches_up(cluster, down):  # noqa: F811
    c = cluster
    others = [n for n in c.all() if n != down]
    state = {"cu-main": {}, "cu-new": {}}  # bucket -> {key: bytes}: the surviving state
    deleted = {"cu-main": set(), "cu-new": set()}
    c.client(others[0]).create_bucket(Bucket="cu-main")
    c.client(others[1]).create_bucket(Bucket="cu-gone")
    c.client(others[1]).put_object(Bucket="cu-gone", Key="x", Body=b"x")
    for i in range(60):
        key = f"o{i:02d}"
        state["cu-main"][key] = body(key, 1, sizes_cycle(i))
        c.client(1 + i % 4).put_object(Bucket="cu-main", Key=key, Body=state["cu-main"][key])
    c.kill(down)
    # through the others: overwrite, delete, add; a new bucket, a deleted one
    for i in range(60):
        key, via = f"o{i:02d}", others[i % 3]
        if i % 3 == 0:
            state["cu-main"][key] = body(key, 2, sizes_cycle(i + 1))
            c.client(via).put_object(Bucket="cu-main", Key=key, Body=state["cu-main"][key])
        elif i % 3 == 1:
            c.client(via).delete_object(Bucket="cu-main", Key=key)
            del state["cu-main"][key]
            deleted["cu-main"].add(key)
    for i in range(60, 80):
        key = f"o{i:02d}"
        state["cu-main"][key] = body(key, 2, sizes_cycle(i))
        c.client(others[i % 3]).put_object(Bucket="cu-main", Key=key, Body=state["cu-main"][key])
    c.client(others[2]).create_bucket(Bucket="cu-new")
    for i in range(10):
        key = f"n{i}"
        state["cu-new"][key] = body(key, 1, sizes_cycle(i))
        c.client(others[i % 3]).put_object(Bucket="cu-new", Key=key, Body=state["cu-new"][key])
    c.client(others[0]).delete_object(Bucket="cu-gone", Key="x")
    c.client(others[2]).delete_bucket(Bucket="cu-gone")
    want = {b: {k: sha(v) for k, v in objs.items()} for b, objs in state.items()}

    c.start(down)
    since = time.monotonic()
    kill = others[:2]  # then only `down` and others[2] hold the data
    bad = ["not checked"]
    for attempt in range(3):
        wait_heal_quiet(c, since)
        c.kill(*kill)
        bad = []
        for b in state:
            bad += mismatches(c, b, want[b], [down], deleted[b])
        try:
            names = [x["Name"] for x in c.client(down).list_buckets()["Buckets"]]
        except ClientError as e:
            names = [err_code(e)]
        if sorted(names) != ["cu-main", "cu-new"]:
            bad.append(f"node {down} lists buckets {names}")
        if not bad:
            break
        print(f"attempt {attempt}: {len(bad)} problems, e.g. {bad[:3]}")
        c.start(*kill)
        since = time.monotonic()
    assert not bad, f"node {down} did not catch up: {len(bad)} problems:\n" + "\n".join(bad[:15])
    for b in state:  # the other survivor agrees
        assert_state(c, b, want[b], [others[2]], deleted[b])
    c.start(*kill)
    c.wait_all_seen()
    for b in state:
        assert_state(c, b, want[b], c.all(), deleted[b])
    for n in c.all():
        assert s3_error(c.client(n).put_object, Bucket="cu-gone", Key="y", Body=b"y") == \
            "NoSuchBucket", n
        assert sorted(x["Name"] for x in c.client(n).list_buckets()["Buckets"]) == [
            "cu-main", "cu-new"], n


def test_bucket_deleted_while_a_node_was_down_is_gone_from_it(cluster):  # noqa: F811
    c = cluster
    c.client(1).create_bucket(Bucket="del-while-down")
    c.client(2).put_object(Bucket="del-while-down", Key="x", Body=b"x")
    c.kill(4)
    c.client(1).delete_object(Bucket="del-while-down", Key="x")
    c.client(3).delete_bucket(Bucket="del-while-down")
    c.start(4)
    wait_heal_quiet(c, time.monotonic(), min_wait=6)
    c.kill(1, 2)  # nodes 3 and 4 left: 4 drives, read quorum
    for n in (4, 3):
        assert s3_error(c.client(n).head_bucket, Bucket="del-while-down") == "404", n
        assert s3_error(c.client(n).put_object, Bucket="del-while-down", Key="y",
                        Body=b"y") == "NoSuchBucket", n


def test_catch_up_after_the_writing_node_restarted(cluster):  # noqa: F811
    c = cluster
    c.client(1).create_bucket(Bucket="lost-heal")
    c.kill(4)
    want = {}
    for i in range(10):
        data = body(f"k{i}", 1, sizes_cycle(i))
        c.client(1).put_object(Bucket="lost-heal", Key=f"k{i}", Body=data)
        want[f"k{i}"] = sha(data)
    c.kill(1)
    c.start(1)
    c.start(4)
    wait_heal_quiet(c, time.monotonic(), min_wait=8)
    c.kill(1, 2)  # nodes 3 and 4 left: reading needs node 4's shards
    assert_state(c, "lost-heal", want, [4])


# ----------------------------------------------------------------------------
# A frozen node
# ----------------------------------------------------------------------------


def timed(fn, **kw):
    t = time.monotonic()
    r = fn(**kw)
    return r, time.monotonic() - t


def preflight(c, n, bucket, origin):
    r = requests.options(f"{c.endpoint(n)}/{bucket}/k", timeout=30,
                         headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    return r.status_code


def test_frozen_node_does_not_stall_the_others(cluster):  # noqa: F811
    c = cluster
    c.client(1).create_bucket(Bucket="frozen")
    c.client(1).create_bucket(Bucket="frozen-gone")
    before = {f"b{i}": body(f"b{i}", 1, sizes_cycle(i)) for i in range(12)}
    for i, (k, v) in enumerate(before.items()):
        c.client(1 + i % 4).put_object(Bucket="frozen", Key=k, Body=v)
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://old.example"]}]}
    c.client(1).put_bucket_cors(Bucket="frozen", CORSConfiguration=cors)
    assert preflight(c, 2, "frozen", "https://old.example") == 200  # node 2 knows the rules

    c.freeze(2)
    during = {}
    slow, times = [], []
    for n in (1, 3, 4):
        first = True
        for i in range(6):
            key = f"d{n}-{i}"
            during[key] = body(key, 1, sizes_cycle(i))
            for fn, kw in ((c.client(n).put_object, dict(Bucket="frozen", Key=key,
                                                         Body=during[key])),
                           (c.client(n).get_object, dict(Bucket="frozen", Key=f"b{i}")),
                           (c.client(n).list_objects_v2, dict(Bucket="frozen"))):
                r, dt = timed(fn, **kw)
                if fn.__name__ == "get_object":
                    assert r["Body"].read() == before[f"b{i}"]
                limit = (10 if first else 2) * TIME_SCALE
                times.append((round(dt, 2), n, fn.__name__))
                if dt > limit:
                    slow.append(f"node {n} {fn.__name__} {kw.get('Key')}: {dt:.1f}s > {limit}s")
                first = False
        c.client(n).delete_object(Bucket="frozen", Key=f"d{n}-0")
        del during[f"d{n}-0"]
    print(f"node 2 frozen: slowest requests {sorted(times)[-4:]}")
    assert not slow, "requests stalled by the frozen node:\n" + "\n".join(slow)
    # configuration changed while node 2 cannot hear about it
    cors["CORSRules"][0]["AllowedOrigins"] = ["https://new.example"]
    c.client(3).put_bucket_cors(Bucket="frozen", CORSConfiguration=cors)
    c.client(4).delete_bucket(Bucket="frozen-gone")

    c.thaw(2)
    c.wait_health([2], timeout=20)
    want = {k: sha(v) for k, v in {**before, **during}.items()}
    # node 2 serves the writes it missed, and no stale bucket configuration
    assert_state(c, "frozen", want, [2])
    assert preflight(c, 2, "frozen", "https://new.example") == 200
    assert preflight(c, 2, "frozen", "https://old.example") == 403
    assert s3_error(c.client(2).put_object, Bucket="frozen-gone", Key="k", Body=b"k") == \
        "NoSuchBucket"
    # node 2 is used again by the others: with node 3 down, writes need its drives
    c.kill(3)
    deadline = time.monotonic() + 20 * TIME_SCALE
    while True:
        try:
            c.client(1).put_object(Bucket="frozen", Key="after", Body=b"after thaw")
            break
        except Exception as e:  # noqa: BLE001
            assert time.monotonic() < deadline, f"node 1 does not use node 2 again: {e}"
            time.sleep(0.5)
    assert c.client(2).get_object(Bucket="frozen", Key="after")["Body"].read() == b"after thaw"


# ----------------------------------------------------------------------------
# Health
# ----------------------------------------------------------------------------


def wait_statuses(c, nodes, want, timeout=20):
    """Waits until every node of `nodes` answers {(kind, minio, maintenance): status}."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    while True:
        got = {}
        for n in nodes:
            for (kind, minio, maint), status in want.items():
                q = {"maintenance": "true"} if maint else None
                got[(n, kind, minio, maint)] = c.health(n, kind, minio, q)
        bad = {k: v for k, v in got.items() if v != want[k[1:]]}
        if not bad:
            return
        assert time.monotonic() < deadline, f"health not as expected after {timeout}s: {bad}"
        time.sleep(0.2)


def health_table(live, ready, cluster_, maint):
    out = {}
    for minio in (False, True):
        out.update({("live", minio, False): live, ("ready", minio, False): ready,
                    ("cluster", minio, False): cluster_, ("cluster", minio, True): maint})
    return out


def test_health_follows_nodes_up(cluster):  # noqa: F811
    c = cluster
    wait_statuses(c, [1, 2, 3, 4], health_table(200, 200, 200, 200))
    c.kill(4)  # 6 drives: write quorum (5) holds, but not without one more node
    wait_statuses(c, [1, 2, 3], health_table(200, 200, 200, 412))
    c.kill(3)  # 4 drives: reads only
    wait_statuses(c, [1, 2], health_table(200, 200, 503, 503))
    c.start(3, 4, wait="live")
    wait_statuses(c, [1, 2, 3, 4], health_table(200, 200, 200, 200))


# ----------------------------------------------------------------------------
# A drive wiped while the cluster runs
# ----------------------------------------------------------------------------


def heal_status(c, n):
    """`basalt admin heal --status --json` through node n: (exit status, document)."""
    import json
    import subprocess

    from helpers import ACCESS_KEY, BIN, SECRET_KEY
    env = dict(os.environ, BASALT_ENDPOINT=c.endpoint(n), BASALT_ACCESS_KEY=ACCESS_KEY,
               BASALT_SECRET_KEY=SECRET_KEY)
    r = subprocess.run([BIN, "admin", "heal", "--status", "--json"], env=env,
                       capture_output=True, timeout=60 * TIME_SCALE)
    out = r.stdout.decode(errors="replace")
    return r.returncode, json.loads(out[out.index("{"):out.rindex("}") + 1])


def test_drive_wiped_while_running_is_healed_with_progress(cluster):  # noqa: F811
    """A drive folder emptied under a running node: formatted back by its node,
    healed, with `heal --status` showing the work and saying done only when
    the drive holds its shards again (checked by reading with two other nodes
    down, which needs the healed drive)."""
    c = cluster
    c.client(1).create_bucket(Bucket="wiped")
    want = {}
    for i in range(120):
        data = body(f"w{i}", 1, sizes_cycle(i))
        c.client(1 + i % 4).put_object(Bucket="wiped", Key=f"w{i}", Body=data)
        want[f"w{i}"] = sha(data)
    c.wipe_drive(2, 1)
    c.wipe_drive(2, 2)  # both of node 2's drives: reads with nodes 3 and 4 down need them
    # the wipe is noticed by node 2's drive monitor (a 2 s tick): the status says so
    t0 = time.monotonic()
    while True:
        rc, doc = heal_status(c, 1)
        if rc != 0:
            break
        assert time.monotonic() - t0 < 15 * TIME_SCALE, f"the wipe was never noticed: {doc}"
        time.sleep(0.2)
    seen_progress, done_doc = [], None
    deadline = time.monotonic() + 120 * TIME_SCALE
    while time.monotonic() < deadline:
        rc, doc = heal_status(c, 1)
        node2 = [x for x in doc["nodes"] if x.get("node", "").startswith("127.0.0.2:")]
        if node2 and node2[0].get("heal", {}).get("objects_scanned"):
            seen_progress.append(node2[0]["heal"]["objects_scanned"])
        if rc == 0:
            done_doc = doc
            break
        time.sleep(0.3)
    assert done_doc is not None, f"heal --status not done after 120 s: {doc}"
    assert (c.drive_folder(2, 1) / ".basalt" / "format.json").exists()
    c.kill(3, 4)  # nodes 1 and 2: 4 drives, every object needs node 2's healed shards
    assert_state(c, "wiped", want, [1, 2])
    print(f"heal progress seen (objects scanned): {seen_progress[:5]}...{seen_progress[-3:]}")
