"""Real command-line clients from Debian: the aws CLI and s3cmd.

The aws CLI switches to multipart above 8 MiB by default; multipart is issue
3, so its isolated config raises multipart_threshold to 1 GB (single PUTs).
Downloads also run once with the default config, which uses parallel ranged
GETs for large objects."""

import hashlib

import pytest

from conftest import AwsCli, bucket_name
from helpers import get_bytes, md5hex, rand_bytes, sha

MiB = 1024 * 1024


def file_sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, size in [("small.bin", 4096), ("odd.bin", 3 * MiB + 333), ("eight.bin", 8 * MiB),
                       ("thirty.bin", 30 * MiB + 1)]:
        p = tmp_path / name
        data = rand_bytes(size, seed=size)
        p.write_bytes(data)
        out[name] = (p, sha(data), md5hex(data), size)
    return out


def test_aws_cli_roundtrip(server, s3, aws_cli, files, tmp_path, request):
    b = bucket_name(request.node.name)
    r = aws_cli("s3", "mb", f"s3://{b}")
    assert f"make_bucket: {b}" in r.stdout.decode()
    s3.head_bucket(Bucket=b)
    for name, (p, digest, md5, size) in files.items():
        aws_cli("s3", "cp", str(p), f"s3://{b}/dir/{name}")
        h = s3.head_object(Bucket=b, Key=f"dir/{name}")
        assert h["ContentLength"] == size
        assert h["ETag"] == f'"{md5}"', "not a single PUT (multipart ETag?)"
    out = tmp_path / "down"
    out.mkdir()
    for name, (p, digest, md5, size) in files.items():
        dst = out / name
        aws_cli("s3", "cp", f"s3://{b}/dir/{name}", str(dst))
        assert file_sha(dst) == digest, name
    # default config: parallel ranged GETs for the large ones
    dflt = AwsCli(server, tmp_path / "awsdefault", single_put=False)
    for name in ("eight.bin", "thirty.bin"):
        dst = out / ("ranged-" + name)
        dflt("s3", "cp", f"s3://{b}/dir/{name}", str(dst))
        assert file_sha(dst) == files[name][1], name
    r = aws_cli("s3", "ls", f"s3://{b}/dir/")
    listing = r.stdout.decode()
    for name, (_, _, _, size) in files.items():
        line = next(ln for ln in listing.splitlines() if ln.endswith(" " + name))
        assert int(line.split()[2]) == size
    r = aws_cli("s3", "ls", f"s3://{b}/")
    assert "PRE dir/" in r.stdout.decode()
    r = aws_cli("s3", "ls")
    assert b in r.stdout.decode()
    # s3api too
    aws_cli("s3api", "put-object", "--bucket", b, "--key", "api key é", "--body",
            str(files["odd.bin"][0]), "--content-type", "application/x-test",
            "--metadata", "k1=v1")
    r = aws_cli("s3api", "head-object", "--bucket", b, "--key", "api key é")
    assert '"ContentType": "application/x-test"' in r.stdout.decode()
    assert '"k1": "v1"' in r.stdout.decode()
    aws_cli("s3api", "get-object", "--bucket", b, "--key", "api key é", str(out / "api.bin"))
    assert file_sha(out / "api.bin") == files["odd.bin"][1]
    # rm, recursive rm, rb
    aws_cli("s3", "rm", f"s3://{b}/dir/small.bin")
    assert "small.bin" not in aws_cli("s3", "ls", f"s3://{b}/dir/").stdout.decode()
    r = aws_cli("s3", "rb", f"s3://{b}", check=False)
    assert r.returncode != 0  # not empty
    aws_cli("s3", "rm", "--recursive", f"s3://{b}/")
    aws_cli("s3", "rb", f"s3://{b}")
    assert b not in aws_cli("s3", "ls").stdout.decode()


def test_aws_cli_sync_and_errors(server, s3, aws_cli, tmp_path, request):
    b = bucket_name(request.node.name)
    aws_cli("s3", "mb", f"s3://{b}")
    src = tmp_path / "tree"
    expect = {}
    for i, rel in enumerate(["a.txt", "sub/b.txt", "sub/deeper/c.bin", "sp ace.txt"]):
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rand_bytes(1000 * (i + 1) ** 4, seed=i)
        p.write_bytes(data)
        expect[rel] = sha(data)
    aws_cli("s3", "sync", str(src), f"s3://{b}/t/")
    for rel, digest in expect.items():
        assert sha(get_bytes(s3, b, "t/" + rel)) == digest
    dst = tmp_path / "back"
    aws_cli("s3", "sync", f"s3://{b}/t/", str(dst))
    for rel, digest in expect.items():
        assert file_sha(dst / rel) == digest
    r = aws_cli("s3", "cp", f"s3://{b}/nope", str(tmp_path / "x"), check=False)
    assert r.returncode != 0
    assert b"404" in r.stderr or b"Not Found" in r.stderr or b"NoSuchKey" in r.stderr
    r = aws_cli("s3", "ls", "s3://no-such-bucket-cli-e2e", check=False)
    assert r.returncode != 0 and b"NoSuchBucket" in r.stderr


def test_s3cmd_roundtrip(server, s3, s3cmd, files, tmp_path, request):
    b = bucket_name(request.node.name)
    s3cmd("mb", f"s3://{b}")
    s3.head_bucket(Bucket=b)
    for name, (p, digest, md5, size) in files.items():
        s3cmd("put", "--disable-multipart", str(p), f"s3://{b}/s/{name}")
        h = s3.head_object(Bucket=b, Key=f"s/{name}")
        assert h["ContentLength"] == size and h["ETag"] == f'"{md5}"'
    out = tmp_path / "s3cmd-down"
    out.mkdir()
    for name, (p, digest, md5, size) in files.items():
        s3cmd("get", "--force", f"s3://{b}/s/{name}", str(out / name))
        assert file_sha(out / name) == digest
    r = s3cmd("ls", f"s3://{b}/s/")
    lines = r.stdout.decode().splitlines()
    for name, (_, _, _, size) in files.items():
        line = next(ln for ln in lines if ln.endswith(f"s3://{b}/s/{name}"))
        assert int(line.split()[2]) == size
    r = s3cmd("ls", f"s3://{b}")
    assert f"DIR  s3://{b}/s/" in " ".join(r.stdout.decode().split()) or "DIR" in r.stdout.decode()
    r = s3cmd("ls")
    assert f"s3://{b}" in r.stdout.decode()
    r = s3cmd("info", f"s3://{b}/s/odd.bin")
    assert files["odd.bin"][2] in r.stdout.decode()
    s3cmd("del", f"s3://{b}/s/small.bin")
    assert "small.bin" not in s3cmd("ls", f"s3://{b}/s/").stdout.decode()
    r = s3cmd("rb", f"s3://{b}", check=False)
    assert r.returncode != 0
    # (del --recursive uses DeleteObjects, not in issue 2: one by one)
    for name in files:
        if name != "small.bin":
            s3cmd("del", f"s3://{b}/s/{name}")
    s3cmd("rb", f"s3://{b}")
    assert f"s3://{b}" not in s3cmd("ls").stdout.decode()


def test_aws_cli_without_any_region_config(server, s3, tmp_path, request):
    """A user who never ran `aws configure`: Debian's aws CLI then sends
    LocationConstraint "aws-global" on `s3 mb`; the bucket must still be made,
    and the banner's command line (`s3 ls`) must work."""
    import os
    import subprocess
    from conftest import AWS_BIN
    b = bucket_name(request.node.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_ACCESS_KEY_ID=server.access_key,
               AWS_SECRET_ACCESS_KEY=server.secret_key, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    run = lambda *a: subprocess.run([AWS_BIN, "--endpoint-url", server.endpoint, *a], env=env,
                                    capture_output=True, timeout=120)
    r = run("s3", "mb", f"s3://{b}")
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    s3.head_bucket(Bucket=b)
    r = run("s3", "ls")
    assert r.returncode == 0 and b in r.stdout.decode(), r.stderr.decode(errors="replace")
    r = run("s3", "rb", f"s3://{b}")
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def test_s3cmd_multipart_sync_and_recursive_delete(server, s3, s3cmd, tmp_path, request):
    """s3cmd with its defaults: multipart for a 23 MiB file (5 MiB chunks), sync both ways with
    --delete-removed, and del --recursive."""
    b = bucket_name(request.node.name)
    s3cmd("mb", f"s3://{b}")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    big = rand_bytes(23 * 1024 * 1024 + 5, seed=71)
    (src / "big.bin").write_bytes(big)
    for i in range(5):
        (src / "sub" / f"f{i}.txt").write_bytes(b"file %d\n" % i * (i + 1))
    s3cmd("put", "--multipart-chunk-size-mb=5", str(src / "big.bin"), f"s3://{b}/big.bin")
    h = s3.head_object(Bucket=b, Key="big.bin")
    assert h["ContentLength"] == len(big) and h["ETag"].endswith('-5"'), h["ETag"]
    assert get_bytes(s3, b, "big.bin") == big
    # sync up, remove a local file, sync again with --delete-removed
    s3cmd("sync", "--multipart-chunk-size-mb=5", str(src) + "/", f"s3://{b}/tree/")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="tree/")["Contents"])
    assert keys == ["tree/big.bin"] + [f"tree/sub/f{i}.txt" for i in range(5)]
    (src / "sub" / "f0.txt").unlink()
    s3cmd("sync", "--delete-removed", str(src) + "/", f"s3://{b}/tree/")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="tree/")["Contents"])
    assert "tree/sub/f0.txt" not in keys and len(keys) == 5
    # sync down into an empty folder: byte-identical
    down = tmp_path / "down"
    down.mkdir()
    s3cmd("sync", f"s3://{b}/tree/", str(down) + "/")
    assert file_sha(down / "big.bin") == file_sha(src / "big.bin")
    for i in range(1, 5):
        assert (down / "sub" / f"f{i}.txt").read_bytes() == (src / "sub" / f"f{i}.txt").read_bytes()
    s3cmd("del", "--recursive", "--force", f"s3://{b}/tree/")
    assert s3.list_objects_v2(Bucket=b, Prefix="tree/").get("KeyCount") == 0
