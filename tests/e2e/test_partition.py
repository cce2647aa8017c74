"""Network partitions of a 4-node cluster (issue 11), nodes in network namespaces (netns.py).

4 nodes x 2 drives = one erasure set of 8, EC 4+4: a read needs 4 drives, a write or delete 5
drives and a name lock granted by 3 of the 4 nodes.

- test_minority_partition: node 4 is cut off from the other nodes (not from the client) while
  clients talk to both sides. Node 4 must acknowledge no write, overwrite, delete, copy or
  multipart step; nodes 1-3 take them. After the partition heals, every node serves exactly
  what the majority side acknowledged last, nothing node 4 alone tried, and the same listing.
- test_split_brain_2_2: nodes {1,2} | {3,4}: no side has a majority of the nodes nor 5 drives,
  so no side acknowledges any change; reads that succeed return the data written before. After
  healing, the deployment is exactly as before the partition.

Run as root (namespaces); skipped otherwise, with the reason.
"""

import json
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from helpers import TIME_SCALE, err_code, http_status, rand_bytes, sha, wait_until
from netns import check_state, say, wait_converged, wait_sides
from netns import netcluster  # noqa: F401 - the fixture

BUCKET = "partition"
MIB = 1024 * 1024
# `heal --status` says done only after a scan cycle that found nothing below full redundancy, and
# nothing asks for one after the objects parked during an outage are healed (see
# test_heal_status_done_after_partition): scan often, so that the status settles.
SCAN = ["--scan-every", "4s"]


def body_for(key, gen, size):
    return rand_bytes(size, seed=f"{key}/{gen}")


def initial_objects(n):
    """{key: size}: mostly inline-small objects, some of a few hundred KiB, a few of 1-2 MiB."""
    sizes = {}
    for k in range(n):
        if k % 12 == 5:
            size = MIB + 37 * k  # 1-2 MiB
        elif k % 7 == 3:
            size = 200 * 1024 + k
        else:
            size = 10 + 997 * k  # < 50 KiB: inline
        sizes[f"k{k:02d}"] = size
    return sizes


def attempt(c, node, op, key, fn, acked=None):
    """Runs fn(client of `node`) (inside the client namespace) and records the outcome:
    {node, op, key, ok, status, code, secs}. ok: the server acknowledged the change (2xx, and
    acked(response) when given, e.g. DeleteObjects' Deleted list)."""
    t = time.monotonic()
    rec = dict(node=node, op=op, key=key, ok=False, status=None, code=None)
    try:
        r = fn(c.s3(node, read_timeout=30 * TIME_SCALE))
        rec["status"] = r["ResponseMetadata"]["HTTPStatusCode"]
        rec["ok"] = 200 <= rec["status"] < 300 and (acked is None or bool(acked(r)))
        rec["response"] = r
    except ClientError as e:
        rec["status"], rec["code"] = http_status(e), err_code(e)
    except (BotoCoreError, OSError) as e:  # a timeout or a reset: not acknowledged
        rec["code"] = type(e).__name__
    rec["secs"] = round(time.monotonic() - t, 1)
    return rec


def brief(recs):
    return "\n".join(f"  node {r['node']} {r['op']} {r['key']}: ok={r['ok']} status={r['status']} "
                     f"code={r['code']} ({r['secs']} s)" for r in recs)


def put(key, data):
    return lambda s3: s3.put_object(Bucket=BUCKET, Key=key, Body=data)


def delete(key):
    return lambda s3: s3.delete_object(Bucket=BUCKET, Key=key)


def get(key):
    """A GET that reads the whole body (kept in the response as "sha")."""
    def fn(s3):
        r = s3.get_object(Bucket=BUCKET, Key=key)
        r["sha"] = sha(r["Body"].read())
        return r
    return fn


def seed(c, n):
    """Makes the bucket and n objects through the nodes in turn; returns {key: sha}."""
    c.call(lambda: c.s3(1).create_bucket(Bucket=BUCKET))
    sizes = initial_objects(n)

    def write(item):
        idx, (key, size) = item
        data = body_for(key, 0, size)
        c.s3(1 + idx % c.nnodes).put_object(Bucket=BUCKET, Key=key, Body=data)
        return key, sha(data)

    return dict(c.map(write, list(enumerate(sizes.items()))))


# ------------------------------------------------------------------------------------------------
# 1 + 3
# ------------------------------------------------------------------------------------------------


def minority_ops(c, pending_upload):
    """Node 4's attempts while it is cut off: (name, key, fn, acked) tuples."""
    ops = []
    for k in ["m00", "m01", "m02", "m03"]:
        ops.append(("put-new", k, put(k, body_for(k, 4, 3000)), None))
    ops.append(("put-new", "m-big", put("m-big", body_for("m-big", 4, MIB + 5)), None))
    # overwrites: of keys the majority overwrites too, deletes, or leaves alone
    for k in ["k00", "k01", "k08", "k09", "k14", "k15", "k16", "k17"]:
        ops.append(("overwrite", k, put(k, body_for(k, 4, 777)), None))
    ops.append(("overwrite", "k05", put("k05", body_for("k05", 4, 300 * 1024)), None))
    # deletes: of keys the majority overwrites, or leaves alone
    for k in ["k02", "k03", "k20", "k21", "k22", "k23"]:
        ops.append(("delete", k, delete(k), None))
    ops.append(("delete-objects", "k24,k25,k26",
                lambda s3: s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
                    {"Key": "k24"}, {"Key": "k25"}, {"Key": "k26"}]}),
                lambda r: r.get("Deleted")))
    ops.append(("copy", "m-copy", lambda s3: s3.copy_object(
        Bucket=BUCKET, Key="m-copy", CopySource={"Bucket": BUCKET, "Key": "k27"}), None))
    ops.append(("create-multipart", "m-mp",
                lambda s3: s3.create_multipart_upload(Bucket=BUCKET, Key="m-mp"), None))
    key, uid, parts = pending_upload
    ops.append(("upload-part", key, lambda s3: s3.upload_part(
        Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=2, Body=b"tail of the upload"), None))
    ops.append(("complete-multipart", key, lambda s3: s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}), None))
    ops.append(("create-bucket", "partition-minority",
                lambda s3: s3.create_bucket(Bucket="partition-minority"), None))
    return ops


def majority_run(c, expected):
    """Nodes 1-3's changes while node 4 is cut off, one after the other (real order), updating
    `expected` ({key: sha or None}) with each acknowledged one. Returns the records."""
    recs = []

    def do(node, op, key, fn, data=None):
        r = attempt(c, node, op, key, fn)
        recs.append(r)
        if r["ok"]:
            expected[key] = sha(data) if data is not None else None
        return r

    for gen, (node, key) in enumerate([(1, "k00"), (2, "k00"), (3, "k01"), (1, "k02"),
                                       (2, "k03"), (3, "k04"), (1, "k05"), (2, "k06"),
                                       (3, "k07"), (1, "k00")], start=1):
        data = body_for(key, gen, 500 + 300 * gen if gen % 4 else MIB + gen)
        do(node, "overwrite", key, put(key, data), data)
    for node, key in [(1, "k08"), (2, "k09"), (3, "k10"), (1, "k11"), (2, "k12"), (3, "k13")]:
        do(node, "delete", key, delete(key))
    for idx in range(8):
        key = f"j{idx:02d}"
        data = body_for(key, 1, 100 + 5000 * idx if idx != 3 else 2 * MIB)
        do(1 + idx % 3, "put-new", key, put(key, data), data)
    # a multipart upload through two nodes, completed by a third
    data1, data2 = body_for("j-mp", 1, 5 * MIB), body_for("j-mp", 2, 1000)

    def mp(s3):
        uid = c.s3(2).create_multipart_upload(Bucket=BUCKET, Key="j-mp")["UploadId"]
        e1 = c.s3(1).upload_part(Bucket=BUCKET, Key="j-mp", UploadId=uid, PartNumber=1,
                                 Body=data1)["ETag"]
        e2 = c.s3(2).upload_part(Bucket=BUCKET, Key="j-mp", UploadId=uid, PartNumber=2,
                                 Body=data2)["ETag"]
        return s3.complete_multipart_upload(
            Bucket=BUCKET, Key="j-mp", UploadId=uid, MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})

    do(3, "multipart", "j-mp", mp, data1 + data2)
    return recs


def test_minority_partition(request, netcluster):  # noqa: F811 - the fixture
    c = netcluster(nnodes=4, ndrives=2, extra_args=SCAN).start()
    digests = seed(c, 50)
    expected = dict(digests)  # key -> sha of the last acknowledged content, None: deleted
    # an upload node 4 began before the partition: it must not complete while cut off
    pend_key = "m-pending"
    part1 = body_for(pend_key, 1, 5 * MIB)

    def begin():
        s3 = c.s3(4)
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=pend_key)["UploadId"]
        e1 = s3.upload_part(Bucket=BUCKET, Key=pend_key, UploadId=uid, PartNumber=1,
                            Body=part1)["ETag"]
        return uid, [{"PartNumber": 1, "ETag": e1}]

    uid, parts = c.call(begin)

    mark = c.nodes[3].log_size()
    c.partition([4])
    wait_sides(c, up=[1, 2, 3], down=[4])
    offline = c.nodes[3].log_events("rpc_peer_offline", since=mark)
    assert offline, "node 4 was cut off but logged no rpc_peer_offline"

    minority = minority_ops(c, (pend_key, uid, parts))
    # both sides at once: the majority's sequence on one thread, node 4's attempts on others
    maj_future = c.pool.submit(majority_run, c, expected)
    min_futures = [c.pool.submit(attempt, c, 4, op, key, fn, acked)
                   for op, key, fn, acked in minority]
    reads = c.map(lambda k: attempt(c, 4, "get", k, get(k)), ["k30", "k31", "k05"])
    min_recs = [f.result(120 * TIME_SCALE) for f in min_futures]
    maj_recs = maj_future.result(300 * TIME_SCALE)
    say(request, f"node 4 cut off: {sum(r['ok'] for r in maj_recs)}/{len(maj_recs)} changes "
                 f"acknowledged by nodes 1-3, {sum(r['ok'] for r in min_recs)}/{len(min_recs)} by "
                 f"node 4 (slowest refusal {max(r['secs'] for r in min_recs)} s); reads through "
                 f"node 4: {[(r['key'], r['status'] or r['code']) for r in reads]}")

    acked = [r for r in min_recs if r["ok"]]
    assert not acked, ("node 4, cut off from the other nodes, acknowledged changes:\n" +
                       brief(acked) + "\nall of its attempts:\n" + brief(min_recs))
    failed = [r for r in maj_recs if not r["ok"]]
    assert not failed, ("nodes 1-3 (a majority, 6 of 8 drives) refused changes:\n" +
                        brief(failed))
    # the minority's refusals are S3 errors, not hangs; DeleteObjects: an error per key
    def refused(r):
        if r["op"] == "delete-objects":
            errs = r.get("response", {}).get("Errors", [])
            return sorted(e["Key"] for e in errs) == r["key"].split(",")
        return r["status"] is not None and r["status"] >= 400

    assert all(refused(r) for r in min_recs), brief(min_recs)

    c.heal_partition()
    wait_converged(request, c, timeout=120)
    live = {k: v for k, v in expected.items() if v is not None}
    absent = {k for k, v in expected.items() if v is None}
    absent |= {"m00", "m01", "m02", "m03", "m-big", "m-copy", "m-mp", pend_key}
    check_state(c, BUCKET, live, absent)

    def other_state():
        buckets = sorted(b["Name"] for b in c.s3(2).list_buckets()["Buckets"])
        ups = c.s3(3).list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        return buckets, sorted((u["Key"], u["UploadId"]) for u in ups)

    buckets, uploads = c.call(other_state)
    assert buckets == [BUCKET], f"buckets after the partition: {buckets}"
    # the upload begun before the partition is still pending (never completed), and nothing else
    assert uploads == [(pend_key, uid)], f"pending uploads: {uploads}"


# ------------------------------------------------------------------------------------------------
# 2 + 2
# ------------------------------------------------------------------------------------------------


def test_split_brain_2_2(request, netcluster):  # noqa: F811 - the fixture
    c = netcluster(nnodes=4, ndrives=2, extra_args=SCAN).start()
    before = seed(c, 24)
    c.partition([1, 2], [3, 4])
    wait_sides(c, up=[], down=[1, 2, 3, 4])

    ops = []
    for node in range(1, 5):
        ops += [(node, "put-new", f"s{node}", put(f"s{node}", body_for(f"s{node}", node, 900))),
                (node, "overwrite", f"k{node:02d}", put(f"k{node:02d}", b"split brain")),
                (node, "delete", f"k{node + 10:02d}", delete(f"k{node + 10:02d}")),
                (node, "create-bucket", f"split-{node}",
                 lambda s3, n=node: s3.create_bucket(Bucket=f"split-{n}"))]
    futs = [c.pool.submit(attempt, c, node, op, key, fn) for node, op, key, fn in ops]

    def read(item):
        node, key = item
        try:
            got = c.s3(node).get_object(Bucket=BUCKET, Key=key)["Body"].read()
            return node, key, "ok" if sha(got) == before[key] else "WRONG CONTENT"
        except ClientError as e:
            return node, key, f"{http_status(e)} {err_code(e)}"
        except (BotoCoreError, OSError) as e:
            return node, key, type(e).__name__

    reads = c.map(read, [(n, k) for n in range(1, 5) for k in ["k05", "k20", "k21"]])
    recs = [f.result(120 * TIME_SCALE) for f in futs]
    say(request, f"2+2 split: {sum(r['ok'] for r in recs)}/{len(recs)} changes acknowledged; "
                 f"reads: {[(n, k, s) for n, k, s in reads]}")
    acked = [r for r in recs if r["ok"]]
    assert not acked, "a side without a majority acknowledged changes:\n" + brief(acked)
    wrong = [x for x in reads if x[2] == "WRONG CONTENT"]
    assert not wrong, f"reads during the split returned other bytes: {wrong}"

    c.heal_partition()
    wait_converged(request, c, timeout=120)
    check_state(c, BUCKET, before, {"s1", "s2", "s3", "s4"})
    buckets = c.call(lambda: sorted(b["Name"] for b in c.s3(4).list_buckets()["Buckets"]))
    assert buckets == [BUCKET], f"buckets after the split: {buckets}"


# ------------------------------------------------------------------------------------------------
# heal --status after a partition, with the default --scan-every (1 h)
# ------------------------------------------------------------------------------------------------


class HealStatusNotDone(AssertionError):
    """`basalt admin heal --status` still says "not done" though nothing is left to heal."""


# Was a server bug (fixed: object/monitor.c asks a scan when another node's drives come back): a
# scan cycle that ended while a node was away counted its objects below full redundancy, and no
# scan was asked for when it came back, so heal --status stayed "not done" for --scan-every (1 h).
def test_heal_status_done_after_partition(request, netcluster):  # noqa: F811 - the fixture
    c = netcluster(nnodes=4, ndrives=2).start()
    digests = seed(c, 8)
    c.partition([4])
    wait_sides(c, up=[1, 2, 3], down=[4])
    for idx in range(4):  # parked for node 4's drives
        key, data = f"p{idx:02d}", body_for(f"p{idx:02d}", 0, 100 + 3000 * idx)
        c.call(lambda: c.s3(1 + idx % 3).put_object(Bucket=BUCKET, Key=key, Body=data))
        digests[key] = sha(data)
    # An operator runs a whole heal during the outage: when it ends, node 1 scans (scan_soon),
    # and that scan finds the objects below full redundancy (node 4's drives are away).
    _, doc = c.heal_status(1)
    cycles = doc["nodes"][0]["scanner"]["cycles"]
    c.admin(1, "heal", timeout=60)

    def rescanned():
        _, doc = c.heal_status(1)
        me = doc["nodes"][0]
        if me["scanner"]["cycles"] > cycles:
            return me
        raise RuntimeError(f"node 1 has not scanned after the heal: {me}")

    me = wait_until(rescanned, 30, interval=0.5, what="node 1's scan after its heal")
    if me["scanner"]["last_below_redundancy"] == 0:  # a precondition: an error, not the xfail
        raise RuntimeError(f"node 1's scan during the outage found nothing below full "
                           f"redundancy: {me}")

    c.heal_partition()
    c.wait_health("cluster", range(1, 5), 200, 60)
    t0 = time.monotonic()

    def nothing_left():
        rc, doc = c.heal_status(1)
        nodes = doc.get("nodes", [])
        if len(nodes) == 4 and all(n.get("queued") == 0 and n.get("parked") == 0 and
                                   n.get("drives_offline") == 0 and
                                   not n.get("heal", {}).get("running") for n in nodes):
            return rc, doc
        raise RuntimeError(f"still healing: {doc}")

    wait_until(nothing_left, 60, interval=0.5, what="queued, parked, offline 0 on every node")
    check_state(c, BUCKET, digests, set())
    # nothing is left to heal: the status must say so within a few seconds
    last = {}

    def done():
        rc, last["doc"] = c.heal_status(1)
        return rc == 0

    try:
        wait_until(done, 20, interval=1, what="heal --status exit 0")
    except AssertionError:
        stale = [(n["node"], n["done"], n["scanner"]["last_below_redundancy"],
                  n["scanner"]["cycles"]) for n in last["doc"].get("nodes", [])]
        # and a whole heal finds nothing to do (the objects are whole: only the status lags)
        r = c.admin(3, "heal", "--json", timeout=60)
        out = r.stdout.decode(errors="replace")
        report = json.loads(out[out.index("{"):out.rindex("}") + 1])
        if report.get("objects_healed") != 0:
            raise AssertionError(f"a whole heal after the partition still healed objects: {out}")
        raise HealStatusNotDone(
            f"{time.monotonic() - t0:.0f} s after the partition healed, with nothing queued or "
            f"parked on any node, heal --status is not done; (node, done, last scan's below "
            f"full redundancy, scan cycles): {stale}; yet `basalt admin heal` then healed "
            f"{report.get('objects_healed')} of {report.get('objects_scanned')} objects") from None
    say(request, f"heal --status done {time.monotonic() - t0:.1f} s after the partition healed")
