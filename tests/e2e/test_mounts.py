"""Drives on mounted disks: a disk that did not mount, or is unmounted while
the server runs, leaves an empty folder of the file system underneath; that
folder must not be formatted (the drive's data would go to the wrong disk,
often the root one). Mounting a disk there brings the drive back.

Needs root (mount -t tmpfs); each drive is a small tmpfs standing for a disk.
"""
import subprocess
import time

import pytest

from helpers import get_bytes, rand_bytes, sha, wait_until

MiB = 1 << 20


def mount(path):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64M", "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (need root): {r.stderr.decode().strip()}")


def umount(path, lazy=False):
    subprocess.run(["umount", *(["-l"] if lazy else []), str(path)], check=True)


def is_mounted(path):
    return str(path) in {line.split()[1] for line in open("/proc/mounts")}


@pytest.fixture
def disks(tmp_path):
    paths = [tmp_path / f"disk{i}" for i in range(1, 5)]
    for p in paths:
        p.mkdir()
        mount(p)
    yield paths
    for p in paths:
        while is_mounted(p):
            umount(p, lazy=True)


def test_unmounted_disk_is_not_formatted(disks, fresh_server):
    srv = fresh_server(drives=disks)
    c = srv.client()
    c.create_bucket(Bucket="mnt")
    data = rand_bytes(3 * MiB + 5, seed=1)
    c.put_object(Bucket="mnt", Key="big", Body=data)
    c.put_object(Bucket="mnt", Key="small", Body=b"small")
    srv.stop()

    # disk 3 did not mount at boot: its mount point is an empty folder of the parent file system
    umount(disks[2])
    assert not is_mounted(disks[2]) and list(disks[2].iterdir()) == []
    srv.start()
    c = srv.client()
    assert "drive_not_mounted" in srv.log_text(), srv.log_tail()
    assert list(disks[2].iterdir()) == [], "wrote into the bare mount point"
    assert sha(get_bytes(c, "mnt", "big")) == sha(data)  # 3 of 4 drives serve
    assert get_bytes(c, "mnt", "small") == b"small"
    c.put_object(Bucket="mnt", Key="while-missing", Body=b"x" * 1000)  # write quorum 3 of 4
    time.sleep(3)  # a monitor tick (2 s) must not format it either
    assert list(disks[2].iterdir()) == []

    # a new, empty disk is mounted there: formatted back and healed while the server runs
    mount(disks[2])
    wait_until(lambda: (disks[2] / ".basalt" / "format.json").exists(), 20, 0.2,
               "the newly mounted disk formatted back")
    wait_until(lambda: any((disks[2] / ".basalt" / "data").iterdir()), 30, 0.5,
               "big's shard healed onto the new disk")

    # disk 2 is unmounted under the running server (lazily: the server holds files open)
    umount(disks[1], lazy=True)
    assert not is_mounted(disks[1])
    wait_until(lambda: srv.log_text().count("drive_not_mounted") >= 2, 10, 0.2,
               "drive_not_mounted for the unmounted disk")
    time.sleep(3)
    assert list(disks[1].iterdir()) == [], "wrote into the bare mount point"
    assert sha(get_bytes(c, "mnt", "big")) == sha(data)
    assert get_bytes(c, "mnt", "while-missing") == b"x" * 1000
    assert srv.alive(), srv.log_tail()


def test_folders_inside_mounted_disks_are_formatted(disks, fresh_server):
    """Only a folder on the file system the disks are mounted onto is suspect: a drive folder
    inside a mounted disk (not itself a mount point) is formatted as usual."""
    drives = [disks[0], disks[1] / "basalt", disks[2], disks[3] / "a" / "b"]
    srv = fresh_server(drives=drives)
    assert all((d / ".basalt" / "format.json").exists() for d in drives)
    assert "drive_not_mounted" not in srv.log_text()
    c = srv.client()
    c.create_bucket(Bucket="inside")
    c.put_object(Bucket="inside", Key="k", Body=b"v" * 3000)
    assert get_bytes(c, "inside", "k") == b"v" * 3000


def test_first_start_refuses_an_unmounted_disk(disks, fresh_server):
    """A new deployment is not formatted onto a bare mount point: start-up stops with a message
    naming the drive, and nothing is formatted anywhere."""
    umount(disks[2])
    srv = fresh_server(drives=disks, start=False)
    with pytest.raises(AssertionError, match="exited with status"):
        srv.start(timeout=20)
    log = srv.log_text()
    assert str(disks[2]) in log and "not a mount point" in log, srv.log_tail()
    assert not any((d / ".basalt" / "format.json").exists() for d in disks)
    assert list(disks[2].iterdir()) == [], "wrote into the bare mount point"



def names(folder):
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def bound_disks(tmp_path):
    """Drive folders bind-mounted from tmpfs "disks" kept elsewhere, so that a disk can be
    unmounted from its drive folder and mounted there again with its content."""
    stores = [tmp_path / f"store{i}" for i in range(1, 5)]
    paths = [tmp_path / f"disk{i}" for i in range(1, 5)]
    for s, p in zip(stores, paths):
        s.mkdir()
        p.mkdir()
        mount(s)
        subprocess.run(["mount", "--bind", str(s), str(p)], check=True)
    yield stores, paths
    for p in paths + stores:
        while is_mounted(p):
            umount(p, lazy=True)


def test_remounted_disk_is_taken_back(bound_disks, fresh_server):
    """A disk unmounted under the running server and mounted again is taken back without a
    restart: the same format, its data kept, the writes it missed healed onto it. A disk that
    is not the drive's (here: drive 1's format.json) is left alone and the drive stays
    offline."""
    stores, disks = bound_disks
    srv = fresh_server(drives=disks)
    c = srv.client()
    c.create_bucket(Bucket="back")
    data = rand_bytes(3 * MiB + 5, seed=2)
    c.put_object(Bucket="back", Key="before", Body=data)
    fmt = (stores[1] / ".basalt" / "format.json").read_bytes()
    held = names(stores[1] / ".basalt" / "data")
    assert held, "the disk holds a shard of 'before'"

    umount(disks[1], lazy=True)
    wait_until(lambda: "drive_not_mounted" in srv.log_text(), 10, 0.2, "drive_not_mounted")
    missed = rand_bytes(2 * MiB + 9, seed=3)
    c.put_object(Bucket="back", Key="missed", Body=missed)  # write quorum 3 of 4
    assert names(stores[1] / ".basalt" / "data") == held

    subprocess.run(["mount", "--bind", str(stores[1]), str(disks[1])], check=True)
    wait_until(lambda: "drive_reattached" in srv.log_text(), 20, 0.2, "drive_reattached")
    assert (disks[1] / ".basalt" / "format.json").read_bytes() == fmt, "formatted again"
    assert held <= names(disks[1] / ".basalt" / "data"), "its data is kept"
    wait_until(lambda: len(names(disks[1] / ".basalt" / "data")) > len(held), 30, 0.5,
               "the shard of 'missed' healed onto the disk taken back")
    assert sha(get_bytes(c, "back", "before")) == sha(data)
    assert sha(get_bytes(c, "back", "missed")) == sha(missed)

    # another disk, holding drive 1's identity, mounted on drive 4's folder
    umount(disks[3], lazy=True)
    wait_until(lambda: srv.log_text().count("drive_not_mounted") >= 2, 10, 0.2,
               "drive_not_mounted for drive 4")
    mount(disks[3])
    (disks[3] / ".basalt").mkdir()
    (disks[3] / ".basalt" / "format.json").write_bytes(
        (stores[0] / ".basalt" / "format.json").read_bytes())
    wait_until(lambda: "drive_not_reattached" in srv.log_text(), 20, 0.2, "drive_not_reattached")
    time.sleep(2.5)  # another monitor tick
    assert sorted(p.name for p in (disks[3] / ".basalt").iterdir()) == ["format.json"], \
        "wrote to a disk that is not the drive's"
    assert srv.log_text().count("drive_not_reattached") == 1, "said once"
    c.put_object(Bucket="back", Key="after", Body=b"a" * 5000)  # drives 1-3
    assert get_bytes(c, "back", "after") == b"a" * 5000
    assert srv.alive(), srv.log_tail()


def test_disk_missing_at_start_then_mounted_is_taken_back(bound_disks, fresh_server):
    """A disk that did not mount at start-up: nothing is created in the bare folder, and once
    the disk is mounted there, the drive is opened on it, its data as it was."""
    stores, disks = bound_disks
    srv = fresh_server(drives=disks)
    c = srv.client()
    c.create_bucket(Bucket="boot")
    data = rand_bytes(3 * MiB + 7, seed=4)
    c.put_object(Bucket="boot", Key="k", Body=data)
    held = names(stores[2] / ".basalt" / "data")
    srv.stop()

    umount(disks[2])
    srv.start()
    c = srv.client()
    assert "drive_not_mounted" in srv.log_text(), srv.log_tail()
    assert list(disks[2].iterdir()) == [], "wrote into the bare mount point"
    assert sha(get_bytes(c, "boot", "k")) == sha(data)

    subprocess.run(["mount", "--bind", str(stores[2]), str(disks[2])], check=True)
    wait_until(lambda: "drive_reattached" in srv.log_text(), 20, 0.2, "drive_reattached")
    assert names(disks[2] / ".basalt" / "data") >= held
    c.put_object(Bucket="boot", Key="after", Body=b"b" * 300000)
    assert get_bytes(c, "boot", "after") == b"b" * 300000
    assert sha(get_bytes(c, "boot", "k")) == sha(data)
    assert srv.alive(), srv.log_tail()
