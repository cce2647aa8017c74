"""rclone from Debian, its S3 backend with provider `Other` and `Minio`, in a config file of its
own (nothing from the environment: rclone's AWS SDK reads AWS_CA_BUNDLE and friends).

Provider `Other` lists with ListObjects V1, `Minio` with V2 (`encoding-type=url`). Uploads use
`--s3-upload-cutoff 5M --s3-chunk-size 5M` so that a 24 MiB file is a 5-part multipart upload.
rclone also uses CopyObject: for server-side copies, and to update the modification time of an
object whose content did not change (copy onto itself with `x-amz-metadata-directive: REPLACE`).
"""

import hashlib
import os
import subprocess

import pytest

from conftest import bucket_name
from helpers import TIME_SCALE, md5hex, rand_bytes, sha

RCLONE = "/usr/bin/rclone"
MiB = 1024 * 1024
PROVIDERS = ["Other", "Minio"]


class Rclone:
    def __init__(self, server, home, provider):
        if not os.path.exists(RCLONE):
            pytest.fail(f"{RCLONE} missing: run scripts/install-deps.sh (Debian package rclone)")
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.config = home / "rclone.conf"
        self.config.write_text(
            "[basalt]\n"
            "type = s3\n"
            f"provider = {provider}\n"
            f"access_key_id = {server.access_key}\n"
            f"secret_access_key = {server.secret_key}\n"
            f"endpoint = {server.endpoint}\n"
            "region = us-east-1\n"
            "force_path_style = true\n")

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "RCLONE_"))}
        env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.home / "cache"))
        return env

    def __call__(self, *args, check=True, timeout=180):
        cmd = [RCLONE, "--config", str(self.config), "--retries", "1",
               "--low-level-retries", "1", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
               *args]
        r = subprocess.run(cmd, env=self.env(), capture_output=True, timeout=timeout * TIME_SCALE)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} -> {r.returncode}\n"
                                 f"stdout: {r.stdout.decode(errors='replace')[-2000:]}\n"
                                 f"stderr: {r.stderr.decode(errors='replace')[-3000:]}")
        return r


@pytest.fixture(params=PROVIDERS)
def rclone(request, server, tmp_path):
    return Rclone(server, tmp_path / "rclonehome", request.param)


def write_tree(root, files):
    """files: {relative path: bytes}. Returns {relative path: sha256}."""
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return {rel: sha(data) for rel, data in files.items()}


def local_tree(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def remote_tree(s3, bucket, prefix):
    """{key without prefix: sha256} of every object under prefix, read back with boto3."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            assert len(body) == o["Size"], o["Key"]
            out[o["Key"][len(prefix):]] = sha(body)
    return out


def test_rclone_copy_sync_check(server, s3, rclone, tmp_path, request):
    b = bucket_name(request.node.name)
    rclone("mkdir", f"basalt:{b}")
    s3.head_bucket(Bucket=b)
    src = tmp_path / "src"
    files = {"a.txt": b"hello rclone\n",
             "empty": b"",
             "sub/b.bin": rand_bytes(300_000, seed=1),
             "sub/deeper/c d.bin": rand_bytes(3 * MiB + 7, seed=2),   # below the 5M cutoff
             "sub/é ü.txt": rand_bytes(4097, seed=3)}
    expect = write_tree(src, files)

    # copy up: single PUTs, checked byte for byte by another client
    rclone("copy", str(src), f"basalt:{b}/t")
    assert remote_tree(s3, b, "t/") == expect
    for rel, data in files.items():
        assert s3.head_object(Bucket=b, Key="t/" + rel)["ETag"] == f'"{md5hex(data)}"', rel
    rclone("check", str(src), f"basalt:{b}/t")   # sizes and MD5 (ETags)
    r = rclone("lsf", "-R", "--files-only", f"basalt:{b}/t")
    assert sorted(r.stdout.decode().splitlines()) == sorted(files)
    r = rclone("lsf", f"basalt:{b}/t")
    assert sorted(r.stdout.decode().splitlines()) == ["a.txt", "empty", "sub/"]
    r = rclone("cat", f"basalt:{b}/t/sub/deeper/c d.bin")
    assert sha(r.stdout) == expect["sub/deeper/c d.bin"]
    r = rclone("md5sum", f"basalt:{b}/t")
    sums = {ln.split("  ", 1)[1]: ln.split("  ", 1)[0] for ln in r.stdout.decode().splitlines()}
    assert sums == {rel: md5hex(data) for rel, data in files.items()}

    # sync up with deletes: one file gone, one changed (other size: a new upload, not a
    # modification-time update), one new
    (src / "a.txt").unlink()
    changed = rand_bytes(200_001, seed=4)
    (src / "sub/b.bin").write_bytes(changed)
    (src / "new.txt").write_bytes(b"new file\n")
    rclone("sync", str(src), f"basalt:{b}/t")
    assert remote_tree(s3, b, "t/") == local_tree(src)
    assert "a.txt" not in remote_tree(s3, b, "t/")
    rclone("check", str(src), f"basalt:{b}/t")

    # sync down with deletes, after changes made on the server by another client
    s3.put_object(Bucket=b, Key="t/remote-only.bin", Body=rand_bytes(70_000, seed=6))
    s3.delete_object(Bucket=b, Key="t/new.txt")
    s3.put_object(Bucket=b, Key="t/sub/b.bin", Body=rand_bytes(123_457, seed=7))
    dst = tmp_path / "dst"
    write_tree(dst, {"stale.txt": b"must go", "sub/b.bin": b"old"})
    rclone("sync", f"basalt:{b}/t", str(dst))
    remote = remote_tree(s3, b, "t/")
    assert local_tree(dst) == remote
    assert "stale.txt" not in local_tree(dst) and "remote-only.bin" in remote
    rclone("check", f"basalt:{b}/t", str(dst))

    # purge: every object deleted one by one, then the bucket
    rclone("purge", f"basalt:{b}")
    r = s3.list_buckets()
    assert b not in [x["Name"] for x in r["Buckets"]]


def test_rclone_multipart(server, s3, rclone, tmp_path, request):
    b = bucket_name(request.node.name)
    rclone("mkdir", f"basalt:{b}")
    src = tmp_path / "src"
    data = rand_bytes(24 * MiB + 5, seed=24)
    expect = write_tree(src, {"big.bin": data})
    rclone("copy", str(src), f"basalt:{b}/m")
    h = s3.head_object(Bucket=b, Key="m/big.bin")
    assert h["ContentLength"] == len(data)
    assert h["ETag"].endswith('-5"'), h["ETag"]   # 5 parts of 5 MiB (the last shorter)
    assert remote_tree(s3, b, "m/") == expect
    rclone("check", str(src), f"basalt:{b}/m")    # rclone keeps the MD5 in its metadata
    r = rclone("cat", f"basalt:{b}/m/big.bin")
    assert sha(r.stdout) == expect["big.bin"]
    dst = tmp_path / "dst"
    rclone("copy", f"basalt:{b}/m", str(dst))
    assert local_tree(dst) == expect


def test_rclone_server_side_copy(server, s3, tmp_path, request):
    rc = Rclone(server, tmp_path / "rclonehome", "Other")
    b = bucket_name(request.node.name)
    b2 = bucket_name(request.node.name)
    rc("mkdir", f"basalt:{b}")
    rc("mkdir", f"basalt:{b2}")
    files = {"x.bin": rand_bytes(2 * MiB + 1, seed=8), "y/z.txt": b"zzz\n"}
    expect = write_tree(tmp_path / "src", files)
    rc("copy", str(tmp_path / "src"), f"basalt:{b}/s")
    # within a bucket and across buckets: CopyObject, no bytes through rclone
    rc("copy", f"basalt:{b}/s", f"basalt:{b}/copy")
    rc("copy", f"basalt:{b}/s", f"basalt:{b2}/copy")
    assert remote_tree(s3, b, "copy/") == expect
    assert remote_tree(s3, b2, "copy/") == expect
    rc("check", f"basalt:{b}/s", f"basalt:{b2}/copy")


def test_rclone_sync_updates_modtime(server, s3, tmp_path, request):
    """Same content, newer modification time: rclone updates the object's `mtime` metadata with
    a CopyObject onto itself instead of uploading again."""
    rc = Rclone(server, tmp_path / "rclonehome", "Other")
    b = bucket_name(request.node.name)
    rc("mkdir", f"basalt:{b}")
    src = tmp_path / "src"
    expect = write_tree(src, {"same.txt": b"same content\n"})
    rc("copy", str(src), f"basalt:{b}")
    os.utime(src / "same.txt", (1_600_000_000, 1_600_000_000))
    rc("sync", str(src), f"basalt:{b}")
    h = s3.head_object(Bucket=b, Key="same.txt")
    assert float(h["Metadata"]["mtime"]) == 1_600_000_000, h["Metadata"]
    assert remote_tree(s3, b, "") == expect
