"""The operator scripts of scripts/ops/ and the policy templates of deploy/policies/ (issue 13)
end to end against a fresh Basalt: every script's --help, init-buckets twice (the second run
changes nothing and says so), a service account with the backup-service template that can write
backups/ and nothing else, assign-policy on a service account and on a user, create-bucket's
refused --retention, list-buckets, and the clear failures (unknown alias, no client)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import BIN, TIME_SCALE

REPO = Path(__file__).resolve().parents[2]
OPS = REPO / "scripts" / "ops"
SCRIPTS = ["init-buckets.sh", "create-bucket.sh", "list-buckets.sh",
           "create-service-account.sh", "assign-policy.sh"]


class Ops:
    def __init__(self, server, home):
        self.server = server
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("BASALT_") and k != "HOME"}
        self.env.update({
            "HOME": str(home), "BASALT_CLI": BIN, "BASALT_ALIAS": "ops",
            "BASALT_ALIAS_ops": (f"http://{server.access_key}:{server.secret_key}"
                                 f"@127.0.0.1:{server.port}"),
        })

    def run(self, script, *args, env=None, ok=True):
        e = dict(self.env)
        e.update(env or {})
        r = subprocess.run([str(OPS / script), *args], env=e, capture_output=True, text=True,
                           timeout=120 * TIME_SCALE)
        if ok and r.returncode != 0:
            raise AssertionError(f"{script} {args} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def basalt(self, *args, env=None):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([BIN, *args], env=e, capture_output=True, text=True,
                              timeout=120 * TIME_SCALE)


@pytest.fixture
def ops(fresh_server, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return Ops(fresh_server(), home)


def test_every_script_has_help(ops):
    for s in SCRIPTS:
        r = ops.run(s, "--help")
        assert r.stdout.startswith("usage: "), (s, r.stdout)
        assert "BASALT_ALIAS" in r.stdout, s
        r = ops.run(s, "--bogus", ok=False)
        assert r.returncode == 2 and s in r.stderr, (s, r.returncode, r.stderr)


def test_policy_templates_are_valid_json():
    for name in ("backup-service", "readonly", "admin", "logs-writer"):
        doc = json.loads((REPO / "deploy" / "policies" / f"{name}.json").read_text())
        assert doc["Version"] == "2012-10-17" and doc["Statement"], name


def test_init_twice_then_backup_account_writes_backups_only(ops, tmp_path):
    first = ops.run("init-buckets.sh").stdout
    for b in ("backups", "logs", "app-files"):
        assert f"bucket ops/{b}: created (private)" in first, first
    assert "policy backup-service: created" in first and "policy logs-writer: created" in first
    second = ops.run("init-buckets.sh").stdout
    assert "created" not in second and "updated" not in second, second
    assert "nothing to change" in second, second
    assert second.count("exists, left as it is") == 3

    r = ops.run("create-service-account.sh", "pg-backup", "backup-service", "--json")
    keys = json.loads(r.stdout.strip().splitlines()[-1])
    ak, sk = keys["access_key"], keys["secret_key"]
    assert ak and sk
    svc = {"BASALT_ALIAS_bk": f"http://{ak}:{sk}@127.0.0.1:{ops.server.port}"}
    src = tmp_path / "base.tar"
    src.write_bytes(b"backup bytes" * 1000)

    assert ops.basalt("cp", str(src), "bk/backups/db/base.tar", env=svc).returncode == 0
    r = ops.basalt("cat", "bk/backups/db/base.tar", env=svc)
    assert r.returncode == 0 and r.stdout == src.read_text()
    assert "db/" in ops.basalt("ls", "bk/backups", env=svc).stdout
    for target in ("bk/logs/x", "bk/app-files/x"):
        r = ops.basalt("cp", str(src), target, env=svc)
        assert r.returncode == 1 and "AccessDenied" in r.stderr, (target, r.stderr)
    r = ops.basalt("mb", "bk/elsewhere", env=svc)
    assert r.returncode == 1 and "AccessDenied" in r.stderr
    assert ops.basalt("cat", "bk/logs/x", env=svc).returncode == 1
    # the objects the account could not write are not there
    assert "x" not in ops.basalt("ls", "-r", "ops/logs").stdout

    # assign-policy on the service account: now a log shipper, no longer a backup writer
    out = ops.run("assign-policy.sh", ak, "logs-writer").stdout
    assert f"service account {ak}: policy logs-writer set" in out
    assert ops.basalt("cp", str(src), "bk/logs/app.log", env=svc).returncode == 0
    r = ops.basalt("cp", str(src), "bk/backups/more.tar", env=svc)
    assert r.returncode == 1 and "AccessDenied" in r.stderr


def test_assign_policy_to_user(ops, tmp_path):
    ops.run("init-buckets.sh")
    assert ops.basalt("admin", "user", "add", "ops", "reader1", "reader-secret-123").returncode == 0
    out = ops.run("assign-policy.sh", "reader1", "readonly").stdout
    assert "user reader1: policy readonly attached" in out
    info = json.loads(ops.basalt("admin", "user", "info", "ops", "reader1", "--json").stdout)
    assert "readonly" in info["policies"]
    out = ops.run("assign-policy.sh", "reader1", "backup-service").stdout
    assert "user reader1: policy backup-service attached" in out
    r = ops.run("assign-policy.sh", "nobody-here", "readonly", ok=False)
    assert r.returncode == 1 and "no user or service account 'nobody-here'" in r.stderr
    r = ops.run("assign-policy.sh", "reader1", "no-such-policy", ok=False)
    assert r.returncode == 1


def test_create_bucket_and_retention_refused(ops):
    r = ops.run("create-bucket.sh", "reports", "--retention", "30", ok=False)
    assert r.returncode == 1 and "object lock" in r.stderr, r.stderr
    assert ops.basalt("stat", "ops/reports").returncode == 1  # nothing was created
    assert "created" in ops.run("create-bucket.sh", "reports").stdout
    assert "exists, left as it is" in ops.run("create-bucket.sh", "reports").stdout
    r = ops.run("create-bucket.sh", "Bad_Name", ok=False)
    assert r.returncode == 1 and "InvalidBucketName" in r.stderr, r.stderr
    assert ops.run("create-bucket.sh", ok=False).returncode == 2


def test_list_buckets(ops, tmp_path):
    ops.run("init-buckets.sh")
    f = tmp_path / "f"
    f.write_bytes(b"x" * 3000)
    for k in ("a", "b/c"):
        assert ops.basalt("cp", str(f), f"ops/backups/{k}").returncode == 0
    out = ops.run("list-buckets.sh").stdout.splitlines()
    assert out[0].split() == ["NAME", "OBJECTS", "BYTES", "SIZE", "CREATED"]
    row = [ln for ln in out if ln.startswith("backups ")][0].split()
    assert row[1:4] == ["2", "6000", "5.9KiB"] and row[-1] == "UTC", row
    rows = [json.loads(ln) for ln in ops.run("list-buckets.sh", "--json").stdout.splitlines()]
    by = {r["name"]: r for r in rows}
    assert set(by) == {"backups", "logs", "app-files"}
    assert by["backups"]["objects"] == 2 and by["backups"]["size"] == 6000
    assert by["logs"]["objects"] == 0 and by["logs"]["created"].endswith("Z")


def test_clear_failures(ops):
    r = ops.run("init-buckets.sh", env={"BASALT_ALIAS": "nosuch"}, ok=False)
    assert r.returncode == 1 and "alias 'nosuch' does not work" in r.stderr, r.stderr
    assert "basalt alias set nosuch" in r.stderr
    r = ops.run("list-buckets.sh", env={"BASALT_CLI": "/nonexistent/basalt"}, ok=False)
    assert r.returncode == 1 and "BASALT_CLI=/nonexistent/basalt" in r.stderr
    down = {"BASALT_ALIAS_ops": "http://a:b@127.0.0.1:9", "BASALT_RETRIES": "0"}
    r = ops.run("list-buckets.sh", env=down, ok=False)
    assert r.returncode == 1 and "is the server running" in r.stderr, r.stderr
