"""`basalt server` start-up: drive counts and the default parity table
(issue 2: 4 drives 2+2, 6 drives 3+3, 8+ drives EC:4), ellipsis expansion,
bad arguments, SIGTERM."""

import re
import subprocess

import pytest

import helpers
from helpers import BIN, TIME_SCALE, get_bytes, rand_bytes, sha, wait_until

MiB = 1024 * 1024


@pytest.mark.parametrize("ndrives,k,m", [(4, 2, 2), (6, 3, 3), (8, 4, 4), (16, 12, 4)])
def test_parity_table(fresh_server, ndrives, k, m):
    srv = fresh_server(ndrives=ndrives)
    # the server answers health before its banner is flushed: wait for it
    wait_until(lambda: re.search(rf"EC {k}\+{m}", srv.log_text()), 10, what="the banner")
    c = srv.client()
    c.create_bucket(Bucket="parity")
    data = rand_bytes(3 * MiB + 5, seed=ndrives)
    c.put_object(Bucket="parity", Key="obj", Body=data)
    assert sha(get_bytes(c, "parity", "obj")) == sha(data)
    parts = [list((d / ".basalt" / "data").rglob("part.1")) for d in srv.drives]
    assert all(len(p) == 1 for p in parts), [len(p) for p in parts]
    # each shard file holds 1/k of every 1 MiB block (+16 bytes of hash per block)
    blocks = -(-len(data) // MiB)
    size = parts[0][0].stat().st_size
    assert blocks * 16 + len(data) // k <= size <= blocks * (16 + -(-MiB // k)), size
    # any m drives can go
    for i in range(m):
        srv.wipe_drive(i)
    assert sha(get_bytes(c, "parity", "obj")) == sha(data)


def test_ellipsis_and_sigterm(fresh_server, tmp_path):
    root = tmp_path / "ell"
    root.mkdir()
    drives = [str(root / f"x{i}") for i in range(1, 5)]
    srv = fresh_server(drives=drives, start=False)
    srv.drives = [root / f"x{i}" for i in range(1, 5)]
    srv.args = lambda: [BIN, "server", "--address", f"127.0.0.1:{srv.port}",
                        str(root / "x{1...4}")]
    srv.start()
    for d in srv.drives:
        assert (d / ".basalt" / "format.json").exists(), d
    c = srv.client()
    c.create_bucket(Bucket="ellipsis")
    c.put_object(Bucket="ellipsis", Key="k", Body=b"v")
    rc = srv.stop()
    assert rc in (0, -15) and not srv.term_timeouts, rc
    srv.start()
    assert get_bytes(srv.client(), "ellipsis", "k") == b"v"


def _run(args, timeout=15):
    p = subprocess.Popen([BIN, "server", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=Server_env())
    try:
        out, _ = p.communicate(timeout=timeout * TIME_SCALE)
        return p.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=10)
        return None, out.decode(errors="replace")


def Server_env():  # noqa: N802 - mirrors helpers.Server.env
    import os
    env = dict(os.environ, BASALT_ROOT_USER=helpers.ACCESS_KEY,
               BASALT_ROOT_PASSWORD=helpers.SECRET_KEY)
    return env


@pytest.mark.parametrize("drives", [
    ["{root}/only-one"],                            # one drive: no erasure set
    ["{root}/d{{1...}}"],                           # broken ellipsis
    ["{root}/a", "{root}/a", "{root}/b", "{root}/c"],  # the same folder twice
    [f"{{root}}/d{i}" for i in range(1, 18)],      # 17 drives: no set size divides it
])
def test_bad_drive_arguments(tmp_path, drives):
    port = helpers.free_port()
    args = ["--address", f"127.0.0.1:{port}"] + [d.format(root=tmp_path) for d in drives]
    rc, out = _run(args)
    assert rc not in (None, 0), f"started with {drives}: {out[-1000:]}"
    assert out.strip(), "refused without a message"
    assert "Segmentation" not in out and "AddressSanitizer" not in out


def test_bad_address(tmp_path):
    rc, out = _run(["--address", "127.0.0.1:notaport", f"{tmp_path}/d{{1...4}}"])
    assert rc not in (None, 0), out
    rc, out = _run(["--bogus-flag", f"{tmp_path}/d{{1...4}}"])
    assert rc not in (None, 0), out


@pytest.mark.parametrize("value", ["0", "-5m", "24x", "h", "99999d", ""])
def test_bad_stale_upload_age(tmp_path, value):
    rc, out = _run(["--stale-uploads-after", value, "--address", f"127.0.0.1:{helpers.free_port()}",
                    f"{tmp_path}/d{{1...4}}"])
    assert rc not in (None, 0), out
    assert "--stale-uploads-after" in out
