"""The `basalt` client's S3 commands (issue 13, the S3 half) against a running
Basalt: aliases and their config file, every command and flag, --json output,
exit codes and the one-line error messages, byte-exact round trips (multipart
uploads, streams of unknown length), mirror and rm semantics, and keys that
would escape a download folder."""

import concurrent.futures
import hashlib
import json
import os
import pty
import select
import stat
import subprocess
import time
import urllib.parse

import pytest
import requests

from helpers import BIN, TIME_SCALE, rand_bytes


def md5(b):
    return hashlib.md5(b).hexdigest()


class Cli:
    """Runs `basalt` with HOME in a temporary folder and alias `t` for the server."""

    def __init__(self, server, home):
        self.home = home
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("BASALT_") and k != "HOME"}
        self.env["HOME"] = str(home)
        self.env["BASALT_ALIAS_t"] = (f"http://{server.access_key}:{server.secret_key}"
                                      f"@127.0.0.1:{server.port}")

    def __call__(self, *args, ok=True, input=None, env=None, timeout=180):
        e = dict(self.env)
        e.update(env or {})
        r = subprocess.run([BIN, *args], env=e, input=input, capture_output=True,
                           timeout=timeout * TIME_SCALE)
        if ok and r.returncode != 0:
            raise AssertionError(f"basalt {' '.join(args)} -> {r.returncode}\n"
                                 f"stdout: {r.stdout.decode(errors='replace')[-2000:]}\n"
                                 f"stderr: {r.stderr.decode(errors='replace')[-2000:]}")
        return r

    def out(self, *args, **kw):
        return self(*args, **kw).stdout.decode()

    def json(self, *args, **kw):
        lines = self(*args, "--json", **kw).stdout.decode().splitlines()
        return [json.loads(ln) for ln in lines if ln.strip()]

    def fail(self, *args, **kw):
        r = self(*args, ok=False, **kw)
        assert r.returncode == 1, (r.returncode, r.stderr)
        err = r.stderr.decode()
        assert err.count("\n") == 1 and err.startswith("basalt: "), err
        return err


@pytest.fixture
def cli(server, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return Cli(server, home)


# ---------------------------------------------------------------- help, version, aliases


def test_help_lists_commands_and_flags(cli):
    out = cli.out("--help")
    for c in ("alias", "ls", "mb", "rb", "cp", "mv", "rm", "cat", "head", "pipe", "stat", "tree",
              "du", "find", "mirror", "share", "tag", "cors", "policy", "ping", "version"):
        assert f"\n  {c} " in out, c
    out = cli.out("cp", "--help")
    for f in ("--recursive", "--attr", "--part-size", "--parallel", "--json"):
        assert f in out
    assert "--older-than" in cli.out("rm", "--help")
    r = cli("cp", "--bogus", "a", "b", ok=False)
    assert r.returncode == 2 and b"unknown flag" in r.stderr


def test_version(cli):
    assert cli.out("version").startswith("basalt ")
    assert cli.json("version")[0]["version"] == cli.out("version").split()[1]


def test_alias_set_list_remove_and_file_mode(cli, server):
    cli("alias", "set", "mine", server.endpoint, server.access_key, server.secret_key,
        "--path-style")
    cfg = cli.home / ".basalt" / "config.json"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    doc = json.loads(cfg.read_text())
    assert doc["aliases"]["mine"]["url"] == server.endpoint
    listed = cli.json("alias", "list")
    mine = [a for a in listed if a["alias"] == "mine"][0]
    assert mine["source"] == "config" and mine["path"] == "on"
    assert server.secret_key not in cli.out("alias", "list")
    assert [a["source"] for a in listed if a["alias"] == "t"] == ["env"]
    cli("mb", "mine/alias-bucket-x")
    assert "alias-bucket-x/" in cli.out("ls", "mine")
    cli("rb", "mine/alias-bucket-x")
    cli("alias", "remove", "mine")
    assert "mine" not in json.loads(cfg.read_text())["aliases"]
    assert "no such alias" in cli.fail("alias", "remove", "mine")


def test_config_readable_by_others_is_refused(cli, server):
    cli("alias", "set", "mine", server.endpoint, server.access_key, server.secret_key)
    cfg = cli.home / ".basalt" / "config.json"
    os.chmod(cfg, 0o644)
    err = cli.fail("ls", "mine")
    assert "mode 0644" in err and "chmod 600" in err
    os.chmod(cfg, 0o600)
    cli("ls", "mine")


def test_broken_config_named(cli):
    d = cli.home / ".basalt"
    d.mkdir()
    (d / "config.json").write_text("{nope")
    os.chmod(d / "config.json", 0o600)
    err = cli.fail("ls", "mine/b")
    assert "config.json" in err and "not valid JSON" in err


def test_missing_alias(cli):
    err = cli.fail("ls", "nosuch/bucket")
    assert err == ("basalt: ls: nosuch/bucket: no alias 'nosuch': add one with 'basalt alias "
                   "set nosuch URL ACCESS_KEY SECRET_KEY' (or set BASALT_ALIAS_nosuch)\n")


def test_bad_alias_url(cli):
    err = cli.fail("ls", "bad/b", env={"BASALT_ALIAS_bad": "ftp://x"})
    assert "BASALT_ALIAS_bad" in err
    r = cli("alias", "set", "x", "notaurl", "a", "b", ok=False)
    assert r.returncode == 1 and b"not an endpoint URL" in r.stderr


def test_environment_endpoint_variables(cli, server, bucket):
    env = {"BASALT_ENDPOINT": server.endpoint, "BASALT_ACCESS_KEY": server.access_key,
           "BASALT_SECRET_KEY": server.secret_key}
    assert f"{bucket}/" in cli.out("ls", "local", env=env)


def test_wrong_credentials(cli, server, bucket):
    env = {"BASALT_ALIAS_w": f"http://{server.access_key}:wrong-secret@127.0.0.1:{server.port}"}
    err = cli.fail("ls", f"w/{bucket}", env=env)
    assert err.startswith(f"basalt: ls: w/{bucket}: SignatureDoesNotMatch: "), err
    assert "<Error>" not in err
    env = {"BASALT_ALIAS_w": f"http://nobody:wrong-secret@127.0.0.1:{server.port}"}
    assert "InvalidAccessKeyId" in cli.fail("ls", f"w/{bucket}", env=env)


def test_unreachable_endpoint(cli):
    env = {"BASALT_ALIAS_d": "http://a:b@127.0.0.1:9"}
    assert "cannot reach http://127.0.0.1:9" in cli.fail("ls", "d", env=env)


# ---------------------------------------------------------------- buckets


def test_mb_rb(cli, s3):
    name = f"cli-mb-{os.getpid()}"
    assert cli.json("mb", f"t/{name}") == [{"status": "success", "bucket": f"t/{name}"}]
    cli("mb", "--ignore-existing", f"t/{name}")
    buckets = cli.json("ls", "t")
    assert any(b["key"] == name and b["type"] == "folder" for b in buckets)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    err = cli.fail("rb", f"t/{name}")
    assert "BucketNotEmpty" in err and "--force" in err
    cli("rb", "--force", f"t/{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    err = cli.fail("rb", f"t/{name}")
    assert err == (f"basalt: rb: t/{name}: NoSuchBucket: bucket {name} does not exist: "
                   f"create it with `basalt mb t/{name}`\n")


def test_nosuchbucket_and_nosuchkey(cli, bucket):
    err = cli.fail("cat", "t/no-such-bucket-cli/k")
    assert err == ("basalt: cat: t/no-such-bucket-cli/k: NoSuchBucket: bucket no-such-bucket-cli "
                   "does not exist: create it with `basalt mb t/no-such-bucket-cli`\n")
    err = cli.fail("cp", f"t/{bucket}/nope", str(cli.home / "x"))
    assert err == f"basalt: cp: t/{bucket}/nope: NoSuchKey: The specified key does not exist.\n"
    assert not (cli.home / "x").exists()
    assert "NoSuchKey" in cli.fail("stat", f"t/{bucket}/nope")


# ---------------------------------------------------------------- cp, cat, head, stat, pipe


def test_cp_small_roundtrip_with_type_mtime_attrs(cli, s3, bucket, tmp_path):
    src = tmp_path / "notes.txt"
    data = b"hello\nworld\n" * 100
    src.write_bytes(data)
    os.utime(src, (1600000000, 1600000000))
    out = cli.json("cp", "--attr", "project=basalt;Cache-Control=max-age=60", str(src),
                   f"t/{bucket}/dir/")
    assert out == [{"status": "success", "source": str(src), "target": f"t/{bucket}/dir/notes.txt",
                    "size": len(data)}]
    h = s3.head_object(Bucket=bucket, Key="dir/notes.txt")
    assert h["ContentType"] == "text/plain"
    assert h["Metadata"] == {"mtime": "1600000000", "project": "basalt"}
    assert h["CacheControl"] == "max-age=60"
    dst = tmp_path / "back.txt"
    cli("cp", f"t/{bucket}/dir/notes.txt", str(dst))
    assert dst.read_bytes() == data
    assert int(dst.stat().st_mtime) == 1600000000
    assert cli("cat", f"t/{bucket}/dir/notes.txt").stdout == data
    assert cli("head", "-n", "3", f"t/{bucket}/dir/notes.txt").stdout == b"hello\nworld\nhello\n"
    st = cli.json("stat", f"t/{bucket}/dir/notes.txt")[0]
    assert st["size"] == len(data) and st["etag"] == md5(data)
    assert st["contentType"] == "text/plain" and st["metadata"]["x-amz-meta-project"] == "basalt"
    assert "Size      : 1.2KiB (1200 bytes)" in cli.out("stat", f"t/{bucket}/dir/notes.txt")


@pytest.mark.slow
def test_cp_large_multipart_roundtrip(cli, s3, bucket, tmp_path):
    data = rand_bytes(40 << 20, seed=13)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    cli("cp", "--part-size", "8MiB", "--parallel", "4", str(src), f"t/{bucket}/big.bin")
    etag = s3.head_object(Bucket=bucket, Key="big.bin")["ETag"].strip('"')
    assert etag.endswith("-5")  # 5 parts of 8 MiB
    dst = tmp_path / "big.back"
    cli("cp", f"t/{bucket}/big.bin", str(dst))
    assert md5(dst.read_bytes()) == md5(data)
    # no temporary files left next to the download
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.back", "big.bin", "home"]


@pytest.mark.slow
def test_pipe_unknown_length_20mib(cli, s3, bucket):
    data = rand_bytes(20 << 20, seed=14)
    out = cli.json("pipe", f"t/{bucket}/piped", input=data)
    assert out[0]["size"] == len(data)
    assert s3.head_object(Bucket=bucket, Key="piped")["ETag"].strip('"').endswith("-2")
    assert md5(cli("cat", f"t/{bucket}/piped").stdout) == md5(data)
    cli("pipe", f"t/{bucket}/small.json", input=b'{"a":1}')
    assert s3.head_object(Bucket=bucket, Key="small.json")["ContentType"] == "application/json"


def test_cp_remote_to_remote_and_mv(cli, s3, bucket, new_bucket):
    other = new_bucket()
    s3.put_object(Bucket=bucket, Key="a/k1", Body=b"one", Metadata={"m": "1"})
    cli("cp", f"t/{bucket}/a/k1", f"t/{other}/copied")
    got = s3.get_object(Bucket=other, Key="copied")
    assert got["Body"].read() == b"one" and got["Metadata"] == {"m": "1"}
    cli("mv", f"t/{other}/copied", f"t/{other}/moved")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=other)["Contents"]] == ["moved"]


def test_cp_recursive_both_ways(cli, s3, bucket, tmp_path):
    src = tmp_path / "tree"
    (src / "sub" / "deep").mkdir(parents=True)
    files = {"a.txt": b"a", "sub/b.bin": b"bb", "sub/deep/c.json": b"{}"}
    for k, v in files.items():
        (src / k).write_bytes(v)
    cli("cp", "-r", str(src), f"t/{bucket}/up/")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(f"up/tree/{k}" for k in files)
    dl = tmp_path / "dl"
    cli("cp", "-r", f"t/{bucket}/up/tree/", str(dl))
    for k, v in files.items():
        assert (dl / k).read_bytes() == v
    assert "use -r" in cli.fail("cp", f"t/{bucket}", str(dl))


def test_recursive_download_cannot_escape_target(cli, s3, bucket, tmp_path):
    # S3 keys are opaque: "a/../../x" is a valid key, and Basalt stores it as such
    keys = ["ok/x", "ok/a/../../../escaped", "ok/../../escaped2", "ok//b/./c"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"data")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(keys)
    target = tmp_path / "t1" / "target"
    target.mkdir(parents=True)
    r = cli("cp", "-r", f"t/{bucket}/ok/", str(target), ok=False)
    assert r.returncode == 1
    err = r.stderr.decode().splitlines()
    assert sorted(err) == sorted(
        f"basalt: cp: t/{bucket}/{k}: refusing the key: its name would leave the target "
        f"folder {target}" for k in keys[1:3])
    assert (target / "x").read_bytes() == b"data"
    assert (target / "b" / "c").read_bytes() == b"data"  # empty and "." segments dropped
    for p in (tmp_path / "t1").rglob("*"):
        assert str(p.resolve()).startswith(str(target.resolve())), p
    assert not list(tmp_path.rglob("escaped*"))
    # mirror refuses them the same way
    mt = tmp_path / "t2" / "target"
    r = cli("mirror", f"t/{bucket}/ok", str(mt), ok=False)
    assert r.returncode == 1 and r.stderr.decode().count("would leave the target folder") == 2
    assert (mt / "x").read_bytes() == b"data"
    assert not list(tmp_path.rglob("escaped*"))


def test_cp_local_missing_file(cli, bucket):
    err = cli.fail("cp", "/nonexistent/file", f"t/{bucket}/x")
    assert err == ("basalt: cp: /nonexistent/file: cannot open /nonexistent/file: "
                   "No such file or directory\n")


# ---------------------------------------------------------------- ls, tree, du, find


def put_tree(s3, bucket, keys):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())


def test_ls_folders_recursive_json(cli, s3, bucket):
    put_tree(s3, bucket, ["top.txt", "dir/a.txt", "dir/sub/b.txt", "dir2/c.txt"])
    lines = cli.out("ls", f"t/{bucket}").splitlines()
    assert [ln.split()[-1] for ln in lines] == ["dir/", "dir2/", "top.txt"]
    assert lines[0].split() == ["PRE", "dir/"]
    assert lines[2].startswith("[") and " UTC] " in lines[2] and lines[2].split()[-2] == "7B"
    assert [ln.split()[-1] for ln in cli.out("ls", f"t/{bucket}/dir/").splitlines()] == \
        ["a.txt", "sub/"]
    rec = cli.json("ls", "-r", f"t/{bucket}/dir/")
    assert [(e["key"], e["type"], e["size"]) for e in rec] == \
        [("a.txt", "file", 9), ("sub/b.txt", "file", 13)]
    assert rec[0]["etag"] == md5(b"dir/a.txt")


def test_tree_du_find(cli, s3, bucket):
    put_tree(s3, bucket, ["p/a/1.txt", "p/a/2.log", "p/b/c/3.txt", "p/4.txt", "q/5.txt"])
    out = cli.out("tree", f"t/{bucket}/p/")
    assert [ln.split()[-1] for ln in out.splitlines()[1:]] == ["a/", "b/", "c/"]
    files = cli.json("tree", "-f", f"t/{bucket}/p/")
    assert [e["key"] for e in files if e["type"] == "file"] == \
        ["4.txt", "a/1.txt", "a/2.log", "b/c/3.txt"]
    du = cli.json("du", f"t/{bucket}/p/")[0]
    assert du["objects"] == 4 and du["size"] == sum(len(k) for k in
                                                    ["p/a/1.txt", "p/a/2.log", "p/b/c/3.txt",
                                                     "p/4.txt"])
    assert cli.out("find", f"t/{bucket}", "--name", "*.txt").split() == \
        [f"t/{bucket}/{k}" for k in ["p/4.txt", "p/a/1.txt", "p/b/c/3.txt", "q/5.txt"]]
    assert cli.out("find", f"t/{bucket}", "--larger", "9").split() == \
        [f"t/{bucket}/p/b/c/3.txt"]
    assert cli.out("find", f"t/{bucket}", "--smaller", "8").split() == [f"t/{bucket}/p/4.txt",
                                                                       f"t/{bucket}/q/5.txt"]
    assert cli.out("find", f"t/{bucket}", "--older-than", "1d").split() == []
    assert len(cli.out("find", f"t/{bucket}", "--newer-than", "1h").split()) == 5
    out = cli.out("find", f"t/{bucket}/q", "--exec", "echo found:{}")
    assert out == f"found:t/{bucket}/q/5.txt\n"


# ---------------------------------------------------------------- rm


def test_rm_single_dry_run_and_age_filters(cli, s3, bucket):
    put_tree(s3, bucket, ["d/1", "d/2", "d/3", "dd/keep", "solo"])
    out = cli.json("rm", "-r", "--force", "--dry-run", f"t/{bucket}/d")
    assert sorted(e["key"] for e in out) == [f"t/{bucket}/d/{i}" for i in "123"]
    assert all(e["dryRun"] for e in out)
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 5
    r = cli("rm", "-r", f"t/{bucket}/d", ok=False)
    assert r.returncode == 2 and b"--force" in r.stderr
    assert cli.out("rm", "-r", "--force", "--older-than", "7d", f"t/{bucket}/d") == ""
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 5
    cli("rm", "-r", "--force", "--newer-than", "12h", f"t/{bucket}/d")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["dd/keep", "solo"]
    assert cli.out("rm", f"t/{bucket}/solo") == f"Removed `t/{bucket}/solo`.\n"
    assert "NoSuchKey" in cli.fail("rm", f"t/{bucket}/solo")
    r = cli("rm", "--older-than", "bogus", f"t/{bucket}/x", ok=False)
    assert r.returncode == 2


@pytest.mark.slow
def test_rm_recursive_over_1000_keys(cli, s3, bucket):
    keys = [f"many/{i:05d}" for i in range(1050)]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x"), keys))
    out = cli.json("rm", "-r", "--force", f"t/{bucket}/many/")
    assert len(out) == 1050
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


# ---------------------------------------------------------------- mirror


def test_mirror_local_to_remote_and_back(cli, s3, bucket, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(8):
        (src / f"f{i}.txt").write_bytes(f"v1-{i}".encode())
    (src / "skip.tmp").write_bytes(b"tmp")
    out = cli.json("mirror", "--exclude", "*.tmp", str(src), f"t/{bucket}/m")
    assert sorted(e["target"] for e in out) == [f"t/{bucket}/m/f{i}.txt" for i in range(8)]
    assert cli.json("mirror", "--exclude", "*.tmp", str(src), f"t/{bucket}/m") == []
    # change 2 (different size), remove 2, add 1
    time.sleep(1.1)
    (src / "f0.txt").write_bytes(b"changed-0")
    (src / "f1.txt").write_bytes(b"changed-1")
    (src / "f6.txt").unlink()
    (src / "f7.txt").unlink()
    (src / "new.txt").write_bytes(b"new")
    dry = cli.json("mirror", "--dry-run", "--overwrite", "--remove", "--exclude", "*.tmp",
                   str(src), f"t/{bucket}/m")
    assert all(e["dryRun"] for e in dry) and len(dry) == 5
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 8
    r = cli("mirror", "--exclude", "*.tmp", str(src), f"t/{bucket}/m", ok=False)
    assert r.returncode == 1 and r.stderr.decode().count("(use --overwrite)") == 2
    assert r.stdout.decode().startswith("copied `t/")  # the new file travels anyway
    assert "new.txt" in r.stdout.decode()
    out = cli.json("mirror", "--overwrite", "--remove", "--exclude", "*.tmp", str(src),
                   f"t/{bucket}/m")
    acts = sorted((e["action"], e["target"].split("/")[-1]) for e in out)
    assert acts == [("removed", "f6.txt"), ("removed", "f7.txt"),
                    ("replaced", "f0.txt"), ("replaced", "f1.txt")]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(f"m/{p.name}" for p in src.iterdir() if p.suffix != ".tmp")
    assert s3.get_object(Bucket=bucket, Key="m/f0.txt")["Body"].read() == b"changed-0"
    # back down to a local folder, twice: the second run copies nothing
    dl = tmp_path / "dl"
    cli("mirror", f"t/{bucket}/m", str(dl))
    assert cli.json("mirror", f"t/{bucket}/m", str(dl)) == []
    for p in src.iterdir():
        if p.suffix != ".tmp":
            assert (dl / p.name).read_bytes() == p.read_bytes()
    (dl / "extra").write_bytes(b"x")
    cli("mirror", "--remove", f"t/{bucket}/m", str(dl))
    assert not (dl / "extra").exists()


# ---------------------------------------------------------------- share, tag, cors, policy, ping


def test_share_download_and_upload(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared bytes")
    url = cli.json("share", "download", "--expire", "1h", f"t/{bucket}/shared.txt")[0]
    assert url["expire"] == 3600 and "X-Amz-Expires=3600" in url["url"]
    assert requests.get(url["url"], timeout=10).content == b"shared bytes"
    up = cli.json("share", "upload", f"t/{bucket}/up.txt")[0]
    assert up["expire"] == 7 * 86400 and up["method"] == "PUT"
    assert requests.put(up["url"], data=b"uploaded", timeout=10).status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded"
    r = cli("share", "download", "--expire", "8d", f"t/{bucket}/shared.txt", ok=False)
    assert r.returncode == 2 and b"7d" in r.stderr


def test_tag_set_list_remove(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    cli("tag", "set", f"t/{bucket}/k", "team=storage&env=a b")
    assert cli.json("tag", "list", f"t/{bucket}/k")[0]["tags"] == {"team": "storage",
                                                                   "env": "a b"}
    assert sorted(cli.out("tag", "list", f"t/{bucket}/k").splitlines()) == ["env=a b",
                                                                          "team=storage"]
    cli("tag", "remove", f"t/{bucket}/k")
    assert cli.json("tag", "list", f"t/{bucket}/k")[0]["tags"] == {}
    cli("tag", "set", f"t/{bucket}", "owner=ops")
    assert cli.json("tag", "list", f"t/{bucket}")[0]["tags"] == {"owner": "ops"}


def test_cors_set_get_remove(cli, s3, bucket, tmp_path):
    f = tmp_path / "cors.xml"
    f.write_text("<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin>"
                 "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    cli("cors", "set", f"t/{bucket}", str(f))
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://app.example"]
    assert "https://app.example" in cli.out("cors", "get", f"t/{bucket}")
    cli("cors", "remove", f"t/{bucket}")
    assert "NoSuchCORSConfiguration" in cli.fail("cors", "get", f"t/{bucket}")


def test_policy_canned_and_file(cli, server, bucket, tmp_path):
    r = cli("policy", "set", "download", f"t/{bucket}", ok=False)
    if r.returncode != 0 and b"NotImplemented" in r.stderr:
        pytest.skip("the server answers 501 NotImplemented for ?policy: bucket policies are "
                    "not in this build yet (unskip when they land)")
    assert r.returncode == 0, r.stderr
    doc = json.loads(cli.out("policy", "get", f"t/{bucket}"))
    assert doc["Statement"][1]["Action"] == ["s3:GetObject"]
    assert doc["Statement"][1]["Resource"] == [f"arn:aws:s3:::{bucket}/*"]
    requests.put(f"{server.endpoint}/{bucket}/pub", data=b"p", timeout=10)
    f = tmp_path / "p.json"
    f.write_text(json.dumps(doc))
    cli("policy", "set", str(f), f"t/{bucket}")
    cli("policy", "set", "none", f"t/{bucket}")
    assert "NoSuchBucketPolicy" in cli.fail("policy", "get", f"t/{bucket}")


def test_ping(cli):
    out = cli.json("ping", "--count", "3", "t")
    assert [p["seq"] for p in out] == [1, 2, 3] and all(p["ms"] > 0 for p in out)
    assert "min/avg/max" in cli.out("ping", "-c", "1", "t")


# ---------------------------------------------------------------- progress bar


@pytest.mark.slow
def test_progress_bar_on_a_terminal_only(cli, bucket, tmp_path):
    src = tmp_path / "p.bin"
    src.write_bytes(rand_bytes(64 << 20, seed=3))
    r = cli("cp", str(src), f"t/{bucket}/p.bin")
    assert b"\r" not in r.stderr and r.stderr == b""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(BIN, [BIN, "cp", f"t/{bucket}/p.bin", str(tmp_path / "o")],
                  dict(cli.env, BASALT_PROGRESS_NOW="1"))
    seen = b""
    deadline = time.monotonic() + 120 * TIME_SCALE
    while time.monotonic() < deadline:
        rd, _, _ = select.select([fd], [], [], 1)
        if rd:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    os.waitpid(pid, 0)
    assert (tmp_path / "o").stat().st_size == 64 << 20
    bar = seen.split(b"`")[0]  # the bar comes before the result line
    assert b"\r" in bar and b"/ 64.0MiB" in bar and b"ETA" in bar and b"\x1b[K" in bar, seen
