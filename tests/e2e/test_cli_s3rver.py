"""The `basalt` client against another S3 implementation (issue 13): s3rver from npm
(tests/clients/js devDependencies, installed by scripts/install-deps.sh), with its fixed
credentials S3RVER/S3RVER: mb, cp (one PUT and a multipart upload), ls, cat, stat, rm,
mirror (with --remove), rb --force."""

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import TIME_SCALE, free_port, rand_bytes
from test_cli import Cli

REPO = Path(__file__).resolve().parents[2]
S3RVER = REPO / "tests" / "clients" / "js" / "node_modules" / ".bin" / "s3rver"


class FakeServer:
    access_key = secret_key = "S3RVER"

    def __init__(self, port):
        self.port = port


@pytest.fixture
def s3rver(tmp_path):
    if not S3RVER.exists():
        pytest.skip(f"{S3RVER} is missing: run scripts/install-deps.sh (npm ci in tests/clients/js)")
    port = free_port()
    data = tmp_path / "s3rver"
    data.mkdir()
    log = open(tmp_path / "s3rver.log", "w")
    proc = subprocess.Popen([str(S3RVER), "--directory", str(data), "--port", str(port),
                             "--address", "127.0.0.1", "--silent"], stdout=log, stderr=log)
    deadline = time.monotonic() + 30 * TIME_SCALE
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"s3rver did not start: {(tmp_path / 's3rver.log').read_text()}")
            time.sleep(0.1)
    yield FakeServer(port)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_s3_commands_against_s3rver(s3rver, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    cli = Cli(s3rver, home)
    assert cli.json("mb", "t/other-store") == [{"status": "success", "bucket": "t/other-store"}]
    small = tmp_path / "notes.txt"
    small.write_bytes(b"hello from basalt\n" * 50)
    big = tmp_path / "big.bin"
    big.write_bytes(rand_bytes(12 << 20, seed=7))
    cli("cp", str(small), "t/other-store/docs/notes.txt")
    out = cli.json("cp", "--part-size", "5M", str(big), "t/other-store/big.bin")
    assert out[0]["size"] == 12 << 20
    listed = {e["key"]: e for e in cli.json("ls", "-r", "t/other-store")}
    assert set(listed) == {"docs/notes.txt", "big.bin"}
    assert listed["big.bin"]["size"] == 12 << 20
    assert cli("cat", "t/other-store/docs/notes.txt").stdout == small.read_bytes()
    back = tmp_path / "back.bin"
    cli("cp", "t/other-store/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    st = cli.json("stat", "t/other-store/docs/notes.txt")[0]
    assert st["size"] == small.stat().st_size and st["contentType"].startswith("text/plain")

    tree = tmp_path / "tree"
    for i in range(12):
        f = tree / f"d{i % 3}" / f"f{i}.txt"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"file {i}\n")
    out = cli.json("mirror", str(tree), "t/other-store/tree")
    assert sorted(o["action"] for o in out) == ["copied"] * 12
    (tree / "d0" / "f0.txt").unlink()
    out = cli.json("mirror", "--remove", str(tree), "t/other-store/tree")
    assert [(o["action"], o["target"]) for o in out] == [("removed",
                                                          "t/other-store/tree/d0/f0.txt")]

    assert cli.json("rm", "t/other-store/docs/notes.txt")[0]["status"] == "success"
    err = cli.fail("cat", "t/other-store/docs/notes.txt")
    assert "NoSuchKey" in err
    err = cli.fail("ls", "t/no-such-bucket-s3rver")
    assert "NoSuchBucket" in err and "basalt mb t/no-such-bucket-s3rver" in err
    cli("rb", "--force", "t/other-store")
    assert "other-store" not in cli.out("ls", "t")
