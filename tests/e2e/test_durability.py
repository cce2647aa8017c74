"""Durability (issue 2 "Tests" and the drive faults of "Bad input"): drives
wiped online and offline, healing, bitrot in shard files and in inline data,
SIGKILL during uploads, a drive folder removed while serving, a full disk.

Every test runs its own server (fresh_server) over its own drive folders."""

import os
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest
import requests
from botocore.exceptions import ClientError, BotoCoreError

from helpers import (TIME_SCALE, get_bytes, http_status, md5hex, rand_bytes, sha, wait_until,
                     xml_error)

KiB, MiB = 1024, 1024 * 1024

# inline (< ~128 KiB) and shard-file objects, with odd sizes
MIX = {"inline/4k-0": 4 * KiB, "inline/4k-1": 4 * KiB, "inline/4k-2": 4 * KiB + 1,
       "inline/zero": 0, "inline/1": 1, "inline/100k": 100 * KiB + 3,
       "big/3m-odd-0": 3 * MiB + 4097, "big/3m-odd-1": 3 * MiB + 1, "big/1m": MiB,
       "big/5m-odd": 5 * MiB + 12345, "big/130k": 130 * KiB + 7}


def populate(c, buckets=("dur-a", "dur-b")):
    """Writes MIX into each bucket; returns {(bucket, key): sha256}."""
    want = {}
    for bi, b in enumerate(buckets):
        c.create_bucket(Bucket=b)
        for i, (k, size) in enumerate(sorted(MIX.items())):
            data = rand_bytes(size, seed=hash((bi, i)) & 0xffff)
            r = c.put_object(Bucket=b, Key=k, Body=data)
            assert r["ETag"] == f'"{md5hex(data)}"'
            want[(b, k)] = sha(data)
    return want


def verify_all(c, want, what=""):
    bad = []
    for (b, k), digest in sorted(want.items()):
        try:
            got = sha(get_bytes(c, b, k))
        except (ClientError, BotoCoreError) as e:
            bad.append(f"{b}/{k}: {e}")
            continue
        if got != digest:
            bad.append(f"{b}/{k}: wrong bytes")
    assert not bad, f"{what}: {len(bad)} objects unreadable:\n" + "\n".join(bad[:20])
    # listings are complete too
    for b in {b for b, _ in want}:
        keys = [o["Key"] for o in c.list_objects_v2(Bucket=b).get("Contents", [])]
        assert keys == sorted(k for bb, k in want if bb == b), f"{what}: listing of {b}"
    names = [x["Name"] for x in c.list_buckets()["Buckets"]]
    for b in {b for b, _ in want}:
        assert b in names, f"{what}: bucket {b} not listed"


def heal_ok(srv, expect_fixed=True):
    rep = srv.heal()
    for f in ("objects_scanned", "objects_healed", "shards_fixed", "shards_missing",
              "shards_corrupt", "objects_failed"):
        assert f in rep, f"heal report without {f}: {rep}"
    assert rep["objects_failed"] == 0, rep
    if expect_fixed:
        assert rep["objects_healed"] > 0 and rep["shards_fixed"] > 0, rep
    return rep


def part_counts(srv):
    return [len(list((d / ".basalt" / "data").rglob("part.*"))) for d in srv.drives]


def assert_drives_complete(srv, what):
    """Every drive holds as many shard files as the others (healing done)."""
    counts = wait_until(lambda: (lambda c: c if len(set(c)) == 1 else None)(part_counts(srv)),
                        15, 0.5, f"equal shard file counts on every drive ({what})")
    assert counts[0] > 0
    for d in srv.drives:
        assert (d / ".basalt" / "format.json").exists(), f"{d} not formatted back ({what})"


def test_wipe_two_drives_online_heal_then_other_two(fresh_server):
    srv = fresh_server()
    c = srv.client()
    want = populate(c)
    srv.wipe_drive(0)
    srv.wipe_drive(1)
    # heal at once, before any read repairs anything
    rep = heal_ok(srv)
    assert rep["objects_scanned"] >= len(want), rep
    assert rep["shards_missing"] >= rep["shards_fixed"] > 0, rep
    verify_all(c, want, "after wiping drives 1 and 2 (online) and healing")
    assert_drives_complete(srv, "after heal")
    # the two wiped drives hold their data again: the other two can go
    srv.wipe_drive(2)
    srv.wipe_drive(3)
    verify_all(c, want, "after healing and wiping drives 3 and 4 (online)")
    heal_ok(srv, expect_fixed=False)  # reads may have repaired everything already
    assert_drives_complete(srv, "after the second heal")
    srv.wipe_drive(0)
    srv.wipe_drive(1)
    verify_all(c, want, "after wiping drives 1 and 2 again")
    # and after a restart everything is still there, writes work
    srv.restart()
    c = srv.client()
    verify_all(c, want, "after restart")
    c.put_object(Bucket="dur-a", Key="after", Body=b"after heal")
    assert get_bytes(c, "dur-a", "after") == b"after heal"
    wait_until(lambda: srv.tmp_leftovers() == [], 10, 0.5, "empty .basalt/tmp")


def test_wipe_two_drives_read_repair_then_other_two(fresh_server):
    srv = fresh_server()
    c = srv.client()
    want = populate(c)
    srv.wipe_drive(0)
    srv.wipe_drive(3)
    verify_all(c, want, "after wiping drives 1 and 4 (online)")
    heal_ok(srv, expect_fixed=False)
    assert_drives_complete(srv, "after reads and heal")
    srv.wipe_drive(1)
    srv.wipe_drive(2)
    verify_all(c, want, "after wiping drives 2 and 3 (online)")


def test_wipe_two_drives_offline_heal_then_other_two(fresh_server):
    srv = fresh_server()
    c = srv.client()
    want = populate(c)
    srv.stop()
    srv.wipe_drive(1)
    srv.wipe_drive(3)
    srv.start()
    c = srv.client()
    verify_all(c, want, "after wiping drives 2 and 4 (offline) and restarting")
    # the emptied drives were formatted back into their places at start-up
    for i in (1, 3):
        assert (srv.drives[i] / ".basalt" / "format.json").exists()
    heal_ok(srv, expect_fixed=False)  # start-up healing and reads may have done it
    assert_drives_complete(srv, "after heal")
    srv.stop()
    srv.wipe_drive(0)
    srv.wipe_drive(2)
    srv.start()
    c = srv.client()
    verify_all(c, want, "after healing, wiping drives 1 and 3 (offline) and restarting")
    heal_ok(srv, expect_fixed=False)
    verify_all(c, want, "after the second heal")
    assert_drives_complete(srv, "after the second heal")


def test_heal_report_on_healthy_set(fresh_server):
    srv = fresh_server()
    c = srv.client()
    want = populate(c, buckets=("dur-h",))
    rep = srv.heal()
    assert rep["objects_scanned"] == len(want), rep
    assert rep["shards_fixed"] == 0 and rep["objects_healed"] == 0, rep
    assert rep["shards_missing"] == 0 and rep["shards_corrupt"] == 0, rep
    # heal of one bucket / prefix
    rep = srv.heal("dur-h/big/")
    assert rep["objects_scanned"] == sum(1 for k in MIX if k.startswith("big/")), rep
    # human-readable output without --json
    r = srv.admin("heal")
    assert r.stdout.strip(), "admin heal printed nothing"
    r = srv.admin("info")
    assert r.stdout.strip()
    verify_all(c, want, "after heal")


def shard_files(srv):
    """{drive index: [part files]} under data/."""
    out = {}
    for i, d in enumerate(srv.drives):
        out[i] = sorted((d / ".basalt" / "data").rglob("part.*"))
    return out


def flip(path, offsets):
    b = bytearray(path.read_bytes())
    for off in offsets:
        b[off] ^= 0xFF
    path.write_bytes(bytes(b))


def one_big_object(srv, size=3 * MiB + 4097, bucket="rot", key="obj"):
    c = srv.client()
    c.create_bucket(Bucket=bucket)
    data = rand_bytes(size, seed=size)
    c.put_object(Bucket=bucket, Key=key, Body=data)
    files = shard_files(srv)
    for i, fs in files.items():
        assert len(fs) == 1, f"drive {i}: expected one shard file, found {fs}"
    return c, data, {i: fs[0] for i, fs in files.items()}


def test_bitrot_shard_heal(fresh_server):
    srv = fresh_server()
    c, data, files = one_big_object(srv)
    before = {i: p.read_bytes() for i, p in files.items()}
    # a shard file: per 1 MiB block, 16 bytes of hash then shard bytes
    for i, p in files.items():
        size = p.stat().st_size
        # 4 blocks of 512 KiB + 16 bytes of hash each (+ a short last one)
        assert size > 3 * (512 * KiB + 16), (p, size)
    flip(files[0], [16 + 1000, 16 + 1001])                      # data of block 0
    flip(files[2], [5])                                           # hash of block 0
    flip(files[2], [2 * (512 * KiB + 16) + 16 + 77])             # data of block 2
    assert files[0].read_bytes() != before[0]
    # heal first (the read test below covers read-repair)
    rep = srv.heal("rot")
    assert rep["shards_corrupt"] >= 2 and rep["shards_fixed"] >= 2, rep
    assert rep["objects_failed"] == 0, rep
    for i, p in files.items():
        assert p.read_bytes() == before[i], f"shard file of drive {i} not restored"
    assert sha(get_bytes(c, "rot", "obj")) == sha(data)
    rep = srv.heal("rot")
    assert rep["shards_corrupt"] == 0 and rep["shards_fixed"] == 0, rep


def test_bitrot_read_is_correct_and_repairs(fresh_server):
    srv = fresh_server()
    c, data, files = one_big_object(srv)
    before = {i: p.read_bytes() for i, p in files.items()}
    # two corrupt shards of four: still readable (2+2)
    flip(files[1], [16 + 10])
    flip(files[3], [(512 * KiB + 16) + 16 + 999])
    for _ in range(2):
        assert sha(get_bytes(c, "rot", "obj")) == sha(data)
    r = c.get_object(Bucket="rot", Key="obj", Range="bytes=0-99")
    assert r["Body"].read() == data[:100]
    # the read queued the object for healing: the files come back on their own
    wait_until(lambda: all(files[i].read_bytes() == before[i] for i in (1, 3)), 20, 0.5,
               "read-repair of corrupt shards")


def test_bitrot_beyond_parity_never_returns_wrong_bytes(fresh_server):
    srv = fresh_server()
    c, data, files = one_big_object(srv)
    for i in (0, 1, 2):
        flip(files[i], [16 + 4242])
    url = c.generate_presigned_url("get_object", Params={"Bucket": "rot", "Key": "obj"})
    try:
        r = requests.get(url, timeout=30)
        complete = r.status_code == 200 and len(r.content) == len(data)
        assert not (complete and r.content != data), "returned corrupt bytes with 200"
        if r.status_code != 200:
            assert r.status_code >= 500
            assert xml_error(r.content)["Code"] in ("InternalError", "SlowDown",
                                                    "ServiceUnavailable")
        else:
            assert r.content == data or len(r.content) < len(data)
    except requests.exceptions.RequestException:
        pass  # an aborted response is a correct answer for unreadable data
    assert srv.alive()


def find_inline(db_path, needle):
    """(table, pk columns, pk values, column, offset) of the blob in index.db
    that holds `needle`, or None."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            info = list(con.execute(f'PRAGMA table_info("{t}")'))
            cols = [r[1] for r in info]
            pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0] or ["rowid"]
            sel = ", ".join(f'"{c}"' if c != "rowid" else "rowid" for c in pk + cols)
            for row in con.execute(f'SELECT {sel} FROM "{t}"'):
                keyvals, vals = row[:len(pk)], row[len(pk):]
                for col, v in zip(cols, vals):
                    if isinstance(v, (bytes, bytearray)):
                        off = bytes(v).find(needle)
                        if off >= 0:
                            return t, pk, keyvals, col, off
    finally:
        con.close()
    return None


def test_bitrot_inline_object(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.create_bucket(Bucket="rot")
    data = rand_bytes(4 * KiB, seed=4242)
    c.put_object(Bucket="rot", Key="small", Body=data)
    srv.stop()
    # data shards of a systematic code are the data itself: find shard 0 (the
    # first 2 KiB) or shard 1 in some drive's index.db and flip bytes in it.
    hits = []
    for i, d in enumerate(srv.drives):
        db = d / ".basalt" / "index.db"
        for half in (data[:2048], data[2048:]):
            h = find_inline(db, half)
            if h:
                hits.append((i, db, half, h))
    assert len(hits) >= 2, f"inline shard bytes not found in index.db files: {hits}"
    i, db, half, (table, pk, keyvals, col, off) = hits[0]
    where = " AND ".join(f'"{c}"=?' if c != "rowid" else "rowid=?" for c in pk)
    con = sqlite3.connect(str(db))
    v = bytearray(con.execute(f'SELECT "{col}" FROM "{table}" WHERE {where}', keyvals).fetchone()[0])
    v[off + 100] ^= 0xFF
    v[off + 101] ^= 0x0F
    con.execute(f'UPDATE "{table}" SET "{col}"=? WHERE {where}', (bytes(v), *keyvals))
    con.commit()
    con.close()
    assert find_inline(db, half) is None
    srv.start()
    c = srv.client()
    assert get_bytes(c, "rot", "small") == data
    rep = srv.heal("rot")
    assert rep["objects_failed"] == 0, rep
    # either the read above already repaired it, or heal did
    wait_until(lambda: find_inline(db, half) is not None, 10, 0.5, "inline shard restored")
    assert get_bytes(c, "rot", "small") == data


def _uploader(client, prefix, stop, acked, attempted, sizes):
    n = 0
    while not stop.is_set() and n < 400:
        key = f"{prefix}/k{n:04d}"
        size = sizes[n % len(sizes)]
        data = rand_bytes(size, seed=hash((prefix, n)) & 0xffffff)
        attempted[key] = sha(data)
        try:
            r = client.put_object(Bucket="crash", Key=key, Body=data)
            if r["ResponseMetadata"]["HTTPStatusCode"] == 200 and r["ETag"] == f'"{md5hex(data)}"':
                acked[key] = sha(data)
        except Exception:  # noqa: BLE001 - the server was killed
            return
        n += 1


def _crash_round(srv, sizes, tag, threads=8, run_s=2.0):
    """Uploads from `threads` threads (distinct keys) and one overwriter, then
    SIGKILLs the server. Returns (acked, attempted, versions of overwritten keys)."""
    c = srv.client()
    try:
        c.create_bucket(Bucket="crash")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    acked, attempted = {}, {}
    ow_versions = {}
    for t in range(threads):
        d = rand_bytes(3 * MiB + t, seed=900 + t)
        c.put_object(Bucket="crash", Key=f"{tag}ow{t}", Body=d)
        ow_versions[f"{tag}ow{t}"] = [sha(d)]
    stop = threading.Event()
    ths = []
    for t in range(threads):
        th = threading.Thread(target=_uploader, args=(srv.client(), f"{tag}t{t}", stop, acked,
                                                      attempted, sizes), daemon=True)
        ths.append(th)
        th.start()

    def overwriter():
        n = 0
        while not stop.is_set() and n < 50:
            key = f"{tag}ow{n % threads}"
            d = rand_bytes(2 * MiB + n, seed=5000 + n)
            ow_versions[key].append(sha(d))
            try:
                c.put_object(Bucket="crash", Key=key, Body=d)
            except Exception:  # noqa: BLE001
                return
            n += 1

    ow = threading.Thread(target=overwriter, daemon=True)
    ow.start()
    time.sleep(run_s * TIME_SCALE)
    srv.kill()
    stop.set()
    for th in ths + [ow]:
        th.join(60)
        assert not th.is_alive(), "an uploader did not stop"
    assert acked, "no upload was acknowledged before the kill"
    return acked, attempted, ow_versions


def _check_after_crash(srv, acked, attempted, ow_versions):
    """After a restart: every acknowledged object intact; every listed key
    reads back whole with the bytes of one write that was sent."""
    srv.start()
    c = srv.client()
    lost = [k for k, d in acked.items() if sha(get_bytes(c, "crash", k)) != d]
    assert not lost, f"acknowledged objects lost or damaged: {lost[:10]}"
    listed, token = [], None
    for _ in range(100):
        kw = dict(Bucket="crash", MaxKeys=1000)
        if token:
            kw["ContinuationToken"] = token
        r = c.list_objects_v2(**kw)
        listed += [(o["Key"], o["Size"]) for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    keys = {k for k, _ in listed}
    for k in acked:
        assert k in keys, f"acknowledged {k} not listed"
    for k, size in listed:
        body = get_bytes(c, "crash", k)
        assert len(body) == size, f"{k}: listed size {size}, read {len(body)}"
        if k in ow_versions:
            assert sha(body) in ow_versions[k], f"{k} holds bytes never written"
        else:
            assert k in attempted, f"unexpected key {k}"
            assert sha(body) == attempted[k], f"partial or wrong object visible: {k}"
    wait_until(lambda: srv.tmp_leftovers() == [], 15, 0.5, ".basalt/tmp empty after restart")
    return c


def test_sigkill_during_uploads(fresh_server):
    srv = fresh_server()
    sizes = [4 * KiB, 300 * KiB + 1, 3 * MiB + 17, 1000, 9 * MiB + 5]
    acked, attempted, ow = _crash_round(srv, sizes, "r1", run_s=2.5)
    _check_after_crash(srv, acked, attempted, ow)


@pytest.mark.slow
def test_sigkill_twice_during_large_uploads(fresh_server):
    srv = fresh_server()
    acked, attempted, ow = _crash_round(srv, [20 * MiB + 1, 4 * KiB, 7 * MiB + 3], "r1",
                                        threads=6, run_s=3.0)
    _check_after_crash(srv, acked, attempted, ow)
    acked2, attempted2, ow2 = _crash_round(srv, [5 * MiB + 1, 2 * KiB], "r2", threads=6,
                                           run_s=2.0)
    acked.update(acked2)
    attempted.update(attempted2)
    ow.update(ow2)
    _check_after_crash(srv, acked, attempted, ow)



def test_sigkill_during_deletes(fresh_server):
    """Deletes of small (inline) and larger objects from several threads, then
    a SIGKILL: after the restart no acknowledged delete comes back, and every
    key whose delete was not sent reads back whole (a delete in flight may
    have landed or not)."""
    srv = fresh_server()
    c = srv.client()
    c.create_bucket(Bucket="crashdel")
    data = {}
    for i in range(240):
        d = rand_bytes(4 * KiB if i % 4 else 300 * KiB + i, seed=7000 + i)
        c.put_object(Bucket="crashdel", Key=f"k{i:03d}", Body=d)
        data[f"k{i:03d}"] = sha(d)
    acked, sent = set(), set()
    lock = threading.Lock()

    def deleter(t):
        cl = srv.client()
        for i in range(t, 240, 6):
            if i % 12 == 11:
                continue  # never deleted: must survive
            key = f"k{i:03d}"
            with lock:
                sent.add(key)
            try:
                r = cl.delete_object(Bucket="crashdel", Key=key)
            except Exception:  # noqa: BLE001 - the server was killed
                return
            if r["ResponseMetadata"]["HTTPStatusCode"] == 204:
                with lock:
                    acked.add(key)

    ths = [threading.Thread(target=deleter, args=(t,), daemon=True) for t in range(6)]
    for th in ths:
        th.start()
    wait_until(lambda: len(acked) >= 60, 30 * TIME_SCALE, 0.005, "60 deletes acknowledged")
    srv.kill()
    for th in ths:
        th.join(60)
        assert not th.is_alive(), "a deleter did not stop"
    srv.start()
    c = srv.client()
    back = []
    for key in sorted(acked):
        try:
            c.head_object(Bucket="crashdel", Key=key)
            back.append(key)
        except ClientError as e:
            assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e.response
    assert not back, f"acknowledged deletes undone by the crash: {back[:10]}"
    for key, digest in data.items():
        if key in sent:
            continue
        assert sha(get_bytes(c, "crashdel", key)) == digest, f"{key} damaged"

def test_drive_folder_removed_while_serving(fresh_server):
    srv = fresh_server()
    c = srv.client()
    want = populate(c, buckets=("rm-a",))
    shutil.rmtree(srv.drives[3])
    verify_all(c, want, "after removing drive 4's folder")
    # writes with 3 of 4 drives: write quorum for 2+2 is 3
    new = {}
    for i, size in enumerate([4 * KiB, 3 * MiB + 7, 0, 200 * KiB, 1 * MiB + 1]):
        data = rand_bytes(size, seed=700 + i)
        key = f"new/{i}"
        try:
            c.put_object(Bucket="rm-a", Key=key, Body=data)
            new[("rm-a", key)] = sha(data)
        except ClientError as e:
            assert http_status(e) == 503 and e.response["Error"]["Code"] == "SlowDown", e.response
            with pytest.raises(ClientError):
                c.head_object(Bucket="rm-a", Key=key)
    assert new, "no write succeeded with 3 of 4 drives (write quorum is 3)"
    want.update(new)
    verify_all(c, want, "after writes on 3 drives")
    # a second folder gone: 2 of 4 left: reads work, writes fail cleanly
    shutil.rmtree(srv.drives[0])
    verify_all(c, want, "with 2 of 4 drives")
    for i, size in enumerate([4 * KiB, 3 * MiB + 7]):
        key = f"nowrite/{i}"
        with pytest.raises(ClientError) as ei:
            c.put_object(Bucket="rm-a", Key=key, Body=rand_bytes(size, seed=i))
        assert http_status(ei.value) == 503, ei.value.response
        assert ei.value.response["Error"]["Code"] == "SlowDown"
        with pytest.raises(ClientError):
            c.head_object(Bucket="rm-a", Key=key)
    assert srv.alive()
    # back to four: restart formats the missing folders back, heal restores them
    srv.restart()
    c = srv.client()
    verify_all(c, want, "after restart with two replaced drives")
    heal_ok(srv, expect_fixed=False)
    srv.wipe_drive(1)
    srv.wipe_drive(2)
    verify_all(c, want, "after healing, wiping the two other drives")
    wait_until(lambda: srv.tmp_leftovers() == [], 10, 0.5, "empty .basalt/tmp")


@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs-drive"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16M", "tmpfs", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (need root): {r.stderr.decode().strip()}")
    yield mnt
    for _ in range(20):
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_on_one_drive(small_tmpfs, fresh_server, tmp_path):
    drives = [tmp_path / "fd1", tmp_path / "fd2", small_tmpfs / "d", tmp_path / "fd4"]
    srv = fresh_server(drives=drives)
    c = srv.client()
    c.create_bucket(Bucket="full")
    pre = rand_bytes(5000, seed=1)
    c.put_object(Bucket="full", Key="before", Body=pre)
    # fill the tmpfs
    filler = small_tmpfs / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            for _ in range(512):
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    with open(small_tmpfs / "filler2", "wb", buffering=0) as f:
        try:
            for _ in range(64):
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    st = os.statvfs(small_tmpfs)
    assert st.f_bavail * st.f_frsize < 64 * KiB, "tmpfs not full"
    ok, failed = {}, []
    for i, size in enumerate([3 * MiB + 1, 3 * MiB + 2, 4 * KiB, 3 * MiB + 3, 100]):
        data = rand_bytes(size, seed=300 + i)
        key = f"obj{i}"
        try:
            r = c.put_object(Bucket="full", Key=key, Body=data)
            assert r["ETag"] == f'"{md5hex(data)}"'
            ok[key] = sha(data)
        except ClientError as e:
            st_code = http_status(e)
            assert st_code in (500, 503, 507), e.response
            assert e.response["Error"]["Code"] in ("SlowDown", "InternalError",
                                                   "InsufficientStorage", "ServiceUnavailable")
            failed.append(key)
            with pytest.raises(ClientError):
                c.head_object(Bucket="full", Key=key)
    assert ok, "every write failed with one full drive of four (write quorum is 3)"
    assert srv.alive(), srv.log_tail()
    for k, d in ok.items():
        assert sha(get_bytes(c, "full", k)) == d
    assert get_bytes(c, "full", "before") == pre
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="full")["Contents"]]
    assert sorted(keys) == sorted(["before", *ok])
    # space comes back: writes and healing work
    filler.unlink()
    (small_tmpfs / "filler2").unlink()
    data = rand_bytes(1 * MiB + 5, seed=99)
    c.put_object(Bucket="full", Key="after", Body=data)
    assert sha(get_bytes(c, "full", "after")) == sha(data)
    rep = srv.heal("full")
    assert rep["objects_failed"] == 0, rep
    for k, d in ok.items():
        assert sha(get_bytes(c, "full", k)) == d
    srv.stop()
    # leftovers in tmp on the full drive would keep it full: none after stop
    assert srv.tmp_leftovers() == []


def test_no_garbage_after_overwrite_and_delete(fresh_server):
    """Overwrites and deletes leave no shard files or temp files behind."""
    srv = fresh_server()
    c = srv.client()
    c.create_bucket(Bucket="gc-bucket")
    for i in range(4):
        c.put_object(Bucket="gc-bucket", Key=f"k{i}", Body=rand_bytes(3 * MiB + i, seed=i))
    assert part_counts(srv) == [4] * 4
    for i in range(4):  # big -> big, big -> inline
        c.put_object(Bucket="gc-bucket", Key=f"k{i}", Body=rand_bytes(2 * MiB + i, seed=10 + i))
        c.put_object(Bucket="gc-bucket", Key=f"k{i}", Body=b"small now")
    wait_until(lambda: part_counts(srv) == [0] * 4, 10, 0.3, "old versions' shard files removed")
    for i in range(4):
        c.put_object(Bucket="gc-bucket", Key=f"k{i}", Body=rand_bytes(MiB + 1, seed=20 + i))
        assert get_bytes(c, "gc-bucket", f"k{i}") == rand_bytes(MiB + 1, seed=20 + i)
        c.delete_object(Bucket="gc-bucket", Key=f"k{i}")
    wait_until(lambda: part_counts(srv) == [0] * 4, 10, 0.3, "deleted objects' shard files removed")
    for d in srv.drives:
        left = [p for p in (d / ".basalt" / "data").iterdir()]
        assert left == [], f"empty version folders left: {left[:5]}"
    assert srv.tmp_leftovers() == []
    c.delete_bucket(Bucket="gc-bucket")


def test_stale_drive_from_snapshot(fresh_server, tmp_path):
    """A drive that missed overwrites and deletes (restored from an old copy
    while the server was down) never wins over the quorum: reads return the
    newest versions, deleted objects stay deleted, heal brings the drive up to date."""
    srv = fresh_server()
    c = srv.client()
    want = populate(c, buckets=("stale",))
    srv.stop()
    snap = tmp_path / "snapshot-d2"
    shutil.copytree(srv.drives[1], snap, symlinks=True)
    srv.start()
    c = srv.client()
    new = {}
    for i, k in enumerate(sorted(MIX)):
        if i % 3 == 0:
            c.delete_object(Bucket="stale", Key=k)
            del want[("stale", k)]
        elif i % 3 == 1:
            data = rand_bytes(MIX[k] + 11, seed=8000 + i)
            c.put_object(Bucket="stale", Key=k, Body=data)
            want[("stale", k)] = sha(data)
            new[k] = data
    c.put_object(Bucket="stale", Key="added-later", Body=b"later")
    want[("stale", "added-later")] = sha(b"later")
    srv.stop()
    shutil.rmtree(srv.drives[1])
    shutil.copytree(snap, srv.drives[1], symlinks=True)
    srv.start()
    c = srv.client()
    verify_all(c, want, "with drive 2 restored from an old copy")
    heal_ok(srv, expect_fixed=False)
    verify_all(c, want, "after heal")
    # drive 2 is now current: it can stand in for a wiped one
    srv.wipe_drive(0)
    srv.wipe_drive(2)
    verify_all(c, want, "after heal, with drives 1 and 3 wiped")


def test_corrupt_index_db_on_one_drive(fresh_server):
    """One drive's index.db replaced by garbage while the server was down:
    the server still starts and serves every object from the other three."""
    srv = fresh_server()
    c = srv.client()
    want = populate(c, buckets=("idx",))
    srv.stop()
    db = srv.drives[2] / ".basalt" / "index.db"
    for suffix in ("-wal", "-shm"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            p.unlink()
    db.write_bytes(rand_bytes(64 * KiB, seed=1))
    srv.start()
    c = srv.client()
    verify_all(c, want, "with drive 3's index.db corrupt")
    c.put_object(Bucket="idx", Key="new", Body=b"new object")
    want[("idx", "new")] = sha(b"new object")
    verify_all(c, want, "after a write")
    assert srv.alive()


def test_replaced_drives_healed_at_startup_without_reads(fresh_server):
    """Issue 2: a drive folder found empty at start-up is formatted back into
    its place and healed, with no read and no `admin heal` to trigger it."""
    srv = fresh_server()
    c = srv.client()
    want = populate(c, buckets=("auto-a", "auto-b"))
    before = part_counts(srv)
    srv.stop()
    srv.wipe_drive(0)
    srv.wipe_drive(2)
    srv.start()
    wait_until(lambda: part_counts(srv) == before, 30, 0.5,
               f"replaced drives healed at start-up (before: {before})")
    # the healed drives alone (with their partners wiped) serve everything
    srv.wipe_drive(1)
    srv.wipe_drive(3)
    verify_all(srv.client(), want, "after start-up healing, with the other two drives wiped")


def test_health_ready_and_cluster_follow_drive_quorum(fresh_server):
    """/basalt/health/live answers while the process runs; /ready while every
    set has read quorum (k = 2 of 4) online; /cluster while it has write
    quorum (3 of 4). Drive folders removed while serving go offline (the
    drive monitor notices within seconds) and the answers follow."""
    srv = fresh_server()

    def status(path):
        return requests.get(srv.endpoint + "/basalt/health/" + path, timeout=5).status_code

    assert (status("live"), status("ready"), status("cluster")) == (200, 200, 200)
    shutil.rmtree(srv.drives[0])
    time.sleep(3 * TIME_SCALE)
    assert (status("ready"), status("cluster")) == (200, 200)
    shutil.rmtree(srv.drives[1])
    wait_until(lambda: status("cluster") == 503, 20, 0.5, "cluster 503 with 2 of 4 drives gone")
    assert status("ready") == 200
    shutil.rmtree(srv.drives[2])
    wait_until(lambda: status("ready") == 503, 20, 0.5, "ready 503 with 3 of 4 drives gone")
    assert status("live") == 200
    assert srv.alive()
