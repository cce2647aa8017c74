"""The `basalt admin user|group|policy|svcacct` commands (issue 13, the admin half) against a
running Basalt: each command round-trips through the admin API (checked with --json and in the
human tables), the issue's workflow (a user, a policy for backups/* of one bucket, a service
account whose keys `basalt cp` uses: it writes into backups/ and is refused elsewhere, and is
refused everywhere once its user is disabled), and the errors: one line naming the S3 error code,
exit 1; usage errors exit 2."""

import json
import os
import subprocess
import time
import urllib.parse
import uuid

import pytest

from helpers import BIN, TIME_SCALE


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Cli:
    """Runs `basalt` with HOME in a temporary folder and alias `t` (root) for the server."""

    def __init__(self, server, home):
        self.server = server
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("BASALT_") and k != "HOME"}
        self.env["HOME"] = str(home)
        self.env["BASALT_ALIAS_t"] = (f"http://{server.access_key}:{server.secret_key}"
                                      f"@127.0.0.1:{server.port}")

    def add_alias(self, name, access_key, secret_key):
        q = urllib.parse.quote
        self.env[f"BASALT_ALIAS_{name}"] = (f"http://{q(access_key, safe='')}:"
                                            f"{q(secret_key, safe='')}@127.0.0.1:{self.server.port}")

    def __call__(self, *args, ok=True, input=None, timeout=60):
        r = subprocess.run([BIN, *args], env=self.env, input=input, capture_output=True,
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
        objs = [json.loads(ln) for ln in lines if ln.strip()]
        assert all(o["status"] == "success" for o in objs), objs
        return objs

    def fail(self, *args, **kw):
        """A command that must fail with exit 1 and one line on stderr; returns that line."""
        r = self(*args, ok=False, **kw)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        err = r.stderr.decode()
        assert err.count("\n") == 1 and err.startswith("basalt: "), err
        return err

    def usage(self, *args):
        r = self(*args, ok=False)
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
        return r.stderr.decode()


@pytest.fixture
def cli(server, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return Cli(server, home)


def write_policy(tmp_path, statements, name="policy.json"):
    p = tmp_path / name
    p.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return str(p)


READ_ALL = [{"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetObject"],
             "Resource": "arn:aws:s3:::*"}]


# ---------------------------------------------------------------- help and usage


def test_help(cli):
    out = cli.out("admin", "--help")
    for g in ("user", "group", "policy", "svcacct", "heal", "info"):
        assert f"basalt admin {g}" in out, g
    out = cli.out("admin", "user", "--help")
    for v in ("add ALIAS ACCESS_KEY SECRET_KEY", "list ALIAS", "info ALIAS USER",
              "enable ALIAS USER", "disable ALIAS USER", "remove ALIAS USER"):
        assert f"basalt admin user {v}" in out, v
    assert "--user USER | --group GROUP" in cli.out("admin", "policy", "--help")
    out = cli.out("admin", "svcacct", "add", "--help")
    for f in ("--access-key", "--secret-key", "--policy", "--expiry", "--name", "--description",
              "--json"):
        assert f in out, f
    for g, v in (("group", "add"), ("policy", "attach"), ("svcacct", "edit"), ("user", "info")):
        assert cli.out("admin", g, v, "-h").startswith(f"usage: basalt admin {g} {v} ")


def test_usage_errors_exit_2(cli):
    assert "expected ALIAS ACCESS_KEY SECRET_KEY" in cli.usage("admin", "user", "add", "t", "u")
    cli.usage("admin", "user", "add", "t", "u", "secret123", "extra")
    cli.usage("admin", "user", "info", "t")
    cli.usage("admin", "user", "list")
    assert "unknown verb 'frobnicate'" in cli.usage("admin", "user", "frobnicate", "t")
    assert "expected a verb" in cli.usage("admin", "group")
    cli.usage("admin", "group", "add", "t")
    cli.usage("admin", "policy", "create", "t", "p")
    assert "--user USER or --group GROUP" in cli.usage("admin", "policy", "attach", "t", "p")
    cli.usage("admin", "policy", "detach", "t", "p", "--user", "u", "--group", "g")
    cli.usage("admin", "policy", "attach", "t", "--user", "u")
    cli.usage("admin", "svcacct", "add", "t")
    assert "nothing to change" in cli.usage("admin", "svcacct", "edit", "t", "KEY")
    assert "--expiry" in cli.usage("admin", "svcacct", "add", "t", "u", "--expiry", "soon")
    cli.usage("admin", "svcacct", "add", "t", "u", "--expiry", "2001-01-01T00:00:00Z")
    assert "unknown flag" in cli.usage("admin", "user", "list", "t", "--bogus")
    cli.usage("admin", "svcacct", "add", "t", "u", "--name")  # needs a value


def test_unknown_alias_and_paths(cli):
    err = cli.fail("admin", "user", "list", "nosuchalias")
    assert "no alias 'nosuchalias'" in err
    assert "expected an ALIAS" in cli.fail("admin", "user", "list", "t/bucket")
    assert "not a valid name" in cli.fail("admin", "user", "info", "t", "a/b")


# ---------------------------------------------------------------- users


def test_user_round_trip(cli, server, tmp_path):
    name = uniq("cliuser")
    assert cli.out("admin", "user", "add", "t", name, "user-secret-1") == \
        f"Added user `{name}` successfully.\n"
    users = {u["name"]: u for u in cli.json("admin", "user", "list", "t")}
    assert users[name]["enabled"] is True and users[name]["policies"] == []
    table = cli.out("admin", "user", "list", "t").splitlines()
    assert table[0].split() == ["STATUS", "ACCESS", "KEY", "POLICIES", "GROUPS"]
    assert [ln.split()[:2] for ln in table if name in ln] == [["enabled", name]]

    # the given secret works: with a policy that lets it list, `basalt ls` with its keys
    pol = uniq("list-all")
    cli("admin", "policy", "create", "t", pol, write_policy(tmp_path, READ_ALL))
    cli("admin", "policy", "attach", "t", pol, "--user", name)
    cli.add_alias("u", name, "user-secret-1")
    cli("ls", "u")

    info = cli.json("admin", "user", "info", "t", name)[0]
    assert info["name"] == name and info["policies"] == [pol] and info["enabled"] is True
    assert [k["access_key"] for k in info["keys"]] == [name]
    assert "user-secret-1" not in json.dumps(info)
    text = cli.out("admin", "user", "info", "t", name)
    assert f"AccessKey: {name}\n" in text and "Status: enabled\n" in text
    assert f"PolicyName: {pol}\n" in text and "ServiceAccounts: 0\n" in text

    assert cli.json("admin", "user", "disable", "t", name) == [
        {"status": "success", "user": name, "enabled": False}]
    assert cli.json("admin", "user", "info", "t", name)[0]["enabled"] is False
    assert "InvalidAccessKeyId" in cli.fail("ls", "u")
    assert cli.out("admin", "user", "enable", "t", name) == \
        f"Enabled user `{name}` successfully.\n"
    cli("ls", "u")

    assert cli.out("admin", "user", "remove", "t", name) == \
        f"Removed user `{name}` successfully.\n"
    assert name not in {u["name"] for u in cli.json("admin", "user", "list", "t")}
    err = cli.fail("admin", "user", "info", "t", name)
    assert err.startswith("basalt: admin user info: t: NoSuchEntity: "), err
    cli("admin", "policy", "remove", "t", pol)


def test_duplicate_user(cli):
    name = uniq("dupuser")
    cli("admin", "user", "add", "t", name, "user-secret-1")
    err = cli.fail("admin", "user", "add", "t", name, "user-secret-2")
    assert err.startswith("basalt: admin user add: t: EntityAlreadyExists: "), err
    assert name in err
    cli("admin", "user", "remove", "t", name)


def test_user_bad_secret(cli):
    err = cli.fail("admin", "user", "add", "t", uniq("shortsecret"), "short")
    assert ": t: InvalidArgument: " in err, err


# ---------------------------------------------------------------- groups


def test_group_round_trip(cli):
    a, b, g = uniq("gmem"), uniq("gmem"), uniq("grp")
    for u in (a, b):
        cli("admin", "user", "add", "t", u, "member-secret-1")
    assert cli.out("admin", "group", "add", "t", g, a) == \
        f"Added members `{a}` to group `{g}` successfully.\n"
    # an existing group: the members are added
    assert cli.json("admin", "group", "add", "t", g, b) == [
        {"status": "success", "group": g, "members": [b]}]
    info = cli.json("admin", "group", "info", "t", g)[0]
    assert info["name"] == g and sorted(info["members"]) == sorted([a, b])
    assert info["enabled"] is True
    assert g in cli.json("admin", "user", "info", "t", a)[0]["groups"]
    text = cli.out("admin", "group", "info", "t", g)
    assert f"Group: {g}\n" in text and "Status: enabled\n" in text
    groups = {x["name"]: x for x in cli.json("admin", "group", "list", "t")}
    assert sorted(groups[g]["members"]) == sorted([a, b])
    assert [ln.split()[:2] for ln in cli.out("admin", "group", "list", "t").splitlines()
            if g in ln] == [["enabled", g]]

    cli("admin", "group", "disable", "t", g)
    assert cli.json("admin", "group", "info", "t", g)[0]["enabled"] is False
    assert cli.json("admin", "group", "enable", "t", g) == [
        {"status": "success", "group": g, "enabled": True}]

    # members given: they leave; the group stays
    assert cli.out("admin", "group", "remove", "t", g, a) == \
        f"Removed members `{a}` from group `{g}` successfully.\n"
    assert cli.json("admin", "group", "info", "t", g)[0]["members"] == [b]
    # no members: the group goes, refused while it has members unless --force
    err = cli.fail("admin", "group", "remove", "t", g)
    assert err.startswith("basalt: admin group remove: t: DeleteConflict: "), err
    cli("admin", "group", "remove", "t", g, b)
    assert cli.out("admin", "group", "remove", "t", g) == f"Removed group `{g}` successfully.\n"
    assert "NoSuchEntity" in cli.fail("admin", "group", "info", "t", g)

    # an empty group, then --force with a member
    cli("admin", "group", "add", "t", g)
    cli("admin", "group", "add", "t", g, a)
    cli("admin", "group", "remove", "t", g, "--force")
    assert g not in {x["name"] for x in cli.json("admin", "group", "list", "t")}
    for u in (a, b):
        cli("admin", "user", "remove", "t", u)


def test_group_add_unknown_member(cli):
    g = uniq("grp")
    err = cli.fail("admin", "group", "add", "t", g, uniq("nobody"))
    assert ": t: NoSuchEntity: " in err, err
    cli("admin", "group", "remove", "t", g, "--force", ok=False)


# ---------------------------------------------------------------- policies


def test_policy_round_trip(cli, tmp_path):
    p1, p2, user, grp = uniq("pol"), uniq("pol"), uniq("poluser"), uniq("polgrp")
    stmts = [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::x/*"]}]
    f = write_policy(tmp_path, stmts)
    assert cli.out("admin", "policy", "create", "t", p1, f) == \
        f"Created policy `{p1}` successfully.\n"
    assert cli.json("admin", "policy", "create", "t", p2, f) == [
        {"status": "success", "policy": p2}]
    listed = {p["name"]: p for p in cli.json("admin", "policy", "list", "t")}
    assert listed[p1]["canned"] is False and listed[p1]["attachments"] == 0
    assert listed["readonly"]["canned"] is True
    table = cli.out("admin", "policy", "list", "t").splitlines()
    assert table[0].split() == ["POLICY", "TYPE", "ATTACHMENTS"]
    assert [ln.split() for ln in table if ln.startswith(p1 + " ")] == [[p1, "custom", "0"]]
    info = cli.json("admin", "policy", "info", "t", p1)[0]
    assert info["name"] == p1 and info["policy"]["Statement"] == stmts
    assert json.loads(cli.out("admin", "policy", "info", "t", p1))["Statement"] == stmts

    cli("admin", "user", "add", "t", user, "policy-secret-1")
    cli("admin", "group", "add", "t", grp, user)
    out = cli.json("admin", "policy", "attach", "t", p1, p2, "--user", user)
    assert out == [{"status": "success", "policy": p1, "user": user},
                   {"status": "success", "policy": p2, "user": user}]
    assert sorted(cli.json("admin", "user", "info", "t", user)[0]["policies"]) == sorted([p1, p2])
    assert cli.out("admin", "policy", "attach", "t", p1, "--group", grp) == \
        f"Attached policy `{p1}` to group `{grp}` successfully.\n"
    assert cli.json("admin", "group", "info", "t", grp)[0]["policies"] == [p1]
    assert {p["name"]: p for p in cli.json("admin", "policy", "list", "t")}[p1]["attachments"] == 2

    # removing an attached policy: DeleteConflict
    err = cli.fail("admin", "policy", "remove", "t", p1)
    assert err.startswith("basalt: admin policy remove: t: DeleteConflict: "), err
    assert cli.out("admin", "policy", "detach", "t", p1, "--group", grp) == \
        f"Detached policy `{p1}` from group `{grp}` successfully.\n"
    cli("admin", "policy", "detach", "t", p1, p2, "--user", user)
    assert cli.json("admin", "user", "info", "t", user)[0]["policies"] == []
    assert cli.out("admin", "policy", "remove", "t", p1) == \
        f"Removed policy `{p1}` successfully.\n"
    cli("admin", "policy", "remove", "t", p2, "--json")
    names = {p["name"] for p in cli.json("admin", "policy", "list", "t")}
    assert p1 not in names and p2 not in names
    cli("admin", "group", "remove", "t", grp, "--force")
    cli("admin", "user", "remove", "t", user)


def test_attach_missing_policy(cli):
    user = uniq("attuser")
    cli("admin", "user", "add", "t", user, "attach-secret-1")
    err = cli.fail("admin", "policy", "attach", "t", uniq("nopolicy"), "--user", user)
    assert err.startswith("basalt: admin policy attach: t: NoSuchEntity: "), err
    # the first that fails stops the rest
    r = cli("admin", "policy", "attach", "t", "readonly", uniq("nopolicy"), "diagnostics",
            "--user", user, ok=False)
    assert r.returncode == 1
    assert cli.json("admin", "user", "info", "t", user)[0]["policies"] == ["readonly"]
    cli("admin", "user", "remove", "t", user)


def test_bad_policy_file(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17",\n "Statement": [{"Effect": "Allow",}]}\n')
    err = cli.fail("admin", "policy", "create", "t", uniq("bad"), str(bad))
    assert ": t: MalformedPolicy: " in err and "line 2" in err, err
    err = cli.fail("admin", "policy", "create", "t", uniq("bad"), str(tmp_path / "missing.json"))
    assert "missing.json: cannot open it" in err, err
    unknown = write_policy(tmp_path, [{"Effect": "Allow", "Action": "s3:Frobnicate",
                                       "Resource": "*"}], "unknown.json")
    assert "MalformedPolicy" in cli.fail("admin", "policy", "create", "t", uniq("bad"), unknown)
    big = tmp_path / "big.json"
    big.write_text(" " * (65 * 1024))
    assert "larger than 64 KiB" in cli.fail("admin", "policy", "create", "t", "big", str(big))


def test_canned_policy_cannot_be_removed(cli):
    assert ": t: " in cli.fail("admin", "policy", "remove", "t", "readonly")


# ---------------------------------------------------------------- service accounts


def test_svcacct_round_trip(cli, tmp_path):
    user = uniq("svcuser")
    cli("admin", "user", "add", "t", user, "svc-parent-secret")
    cli("admin", "policy", "attach", "t", "readwrite", "--user", user)

    # generated keys, printed once
    text = cli.out("admin", "svcacct", "add", "t", user)
    lines = dict(ln.split(": ", 1) for ln in text.splitlines())
    assert set(lines) == {"Access Key", "Secret Key", "Expiration"}
    assert len(lines["Access Key"]) == 20 and len(lines["Secret Key"]) == 40
    assert lines["Expiration"] == "no-expiry"
    gen = lines["Access Key"]

    # chosen keys, a policy, an RFC 3339 expiry, a name and a description
    ak = uniq("SVCKEY").upper().replace("-", "")
    pol = write_policy(tmp_path, READ_ALL)
    out = cli.json("admin", "svcacct", "add", "t", user, "--access-key", ak, "--secret-key",
                   "svc-secret-1234", "--policy", pol, "--expiry", "2099-01-02T03:04:05Z",
                   "--name", "nightly", "--description", "the nightly job")
    assert out == [{"status": "success", "access_key": ak, "secret_key": "svc-secret-1234",
                    "parent": user, "expires": 4071006245}]
    cli.add_alias("s", ak, "svc-secret-1234")
    cli("ls", "s")

    listed = {k["access_key"]: k for k in cli.json("admin", "svcacct", "list", "t", user)}
    assert set(listed) == {gen, ak}
    assert listed[ak]["expires"] == 4071006245 and listed[ak]["name"] == "nightly"
    assert all("secret" not in json.dumps(k) for k in listed.values())
    table = cli.out("admin", "svcacct", "list", "t", user).splitlines()
    assert table[0].split() == ["ACCESS", "KEY", "STATUS", "EXPIRES", "NAME"]
    assert [ln.split() for ln in table if ln.startswith(ak)] == [
        [ak, "enabled", "2099-01-02T03:04:05Z", "nightly"]]

    info = cli.json("admin", "svcacct", "info", "t", ak)[0]
    assert info["user"] == user and info["description"] == "the nightly job"
    assert info["policy"]["Statement"] == READ_ALL and info["service_account"] is True
    text = cli.out("admin", "svcacct", "info", "t", ak)
    assert f"ParentUser: {user}\n" in text and "Policy: embedded\n" in text
    assert "Expiration: 2099-01-02T03:04:05Z\n" in text
    assert "Policy: implied" in cli.out("admin", "svcacct", "info", "t", gen)

    # edit: a duration expiry, a new name, a new secret
    before = time.time()
    assert cli.json("admin", "svcacct", "edit", "t", ak, "--expiry", "7d", "--name", "weekly",
                    "--secret-key", "svc-secret-5678")[0]["name"] == "weekly"
    info = cli.json("admin", "svcacct", "info", "t", ak)[0]
    assert info["name"] == "weekly"
    assert before + 7 * 86400 - 5 <= info["expires"] <= time.time() + 7 * 86400 + 5
    assert "SignatureDoesNotMatch" in cli.fail("ls", "s")
    cli.add_alias("s", ak, "svc-secret-5678")
    cli("ls", "s")

    assert cli.out("admin", "svcacct", "disable", "t", ak) == \
        f"Disabled service account `{ak}` successfully.\n"
    assert cli.json("admin", "svcacct", "info", "t", ak)[0]["enabled"] is False
    assert "InvalidAccessKeyId" in cli.fail("ls", "s")
    cli("admin", "svcacct", "enable", "t", ak, "--json")
    cli("ls", "s")

    assert cli.out("admin", "svcacct", "remove", "t", ak) == \
        f"Removed service account `{ak}` successfully.\n"
    assert "NoSuchEntity" in cli.fail("admin", "svcacct", "info", "t", ak)
    assert "InvalidAccessKeyId" in cli.fail("ls", "s")
    assert [k["access_key"] for k in cli.json("admin", "svcacct", "list", "t", user)] == [gen]
    # the user's info counts it
    assert "ServiceAccounts: 1\n" in cli.out("admin", "user", "info", "t", user)
    cli("admin", "user", "remove", "t", user)
    assert "NoSuchEntity" in cli.fail("admin", "svcacct", "info", "t", gen)


def test_svcacct_errors(cli, tmp_path):
    err = cli.fail("admin", "svcacct", "add", "t", uniq("nobody"))
    assert err.startswith("basalt: admin svcacct add: t: NoSuchEntity: "), err
    bad = tmp_path / "bad.json"
    bad.write_text('{"Statement": [}')
    user = uniq("svcerr")
    cli("admin", "user", "add", "t", user, "svc-parent-secret")
    assert ": t: MalformedPolicy: " in cli.fail("admin", "svcacct", "add", "t", user,
                                               "--policy", str(bad))
    ak = uniq("DUPKEY").upper().replace("-", "")
    cli("admin", "svcacct", "add", "t", user, "--access-key", ak)
    assert "EntityAlreadyExists" in cli.fail("admin", "svcacct", "add", "t", user,
                                             "--access-key", ak)
    assert "NoSuchEntity" in cli.fail("admin", "svcacct", "edit", "t", uniq("NOKEY"), "--name", "x")
    cli("admin", "user", "remove", "t", user)


# ---------------------------------------------------------------- the workflow


def test_backup_service_account_workflow(cli, tmp_path):
    """Create a user, a policy allowing only backups/* of one bucket, attach it, add a service
    account for the user; its keys (an alias) write into backups/ with `basalt cp` and get
    AccessDenied elsewhere; the user disabled, the service account is refused."""
    bucket, other = uniq("bk"), uniq("other")
    cli("mb", f"t/{bucket}")
    cli("mb", f"t/{other}")
    user, pol = uniq("backup"), uniq("backup-only")
    cli("admin", "user", "add", "t", user, "backup-user-secret")
    f = write_policy(tmp_path, [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": [f"arn:aws:s3:::{bucket}/backups/*"]}])
    cli("admin", "policy", "create", "t", pol, f)
    cli("admin", "policy", "attach", "t", pol, "--user", user)
    svc = cli.json("admin", "svcacct", "add", "t", user, "--name", "pg-backup")[0]
    assert svc["parent"] == user
    cli.add_alias("backup", svc["access_key"], svc["secret_key"])

    src = tmp_path / "base.tar"
    src.write_bytes(b"wal segment" * 1000)
    out = cli.json("cp", str(src), f"backup/{bucket}/backups/base.tar")
    assert out and out[-1]["target"].endswith("backups/base.tar")
    back = tmp_path / "back.tar"
    cli("cp", f"backup/{bucket}/backups/base.tar", str(back))
    assert back.read_bytes() == src.read_bytes()
    assert cli.out("cat", f"t/{bucket}/backups/base.tar").encode() == src.read_bytes()

    for target in (f"backup/{bucket}/elsewhere.tar", f"backup/{other}/backups/base.tar"):
        err = cli.fail("cp", str(src), target)
        assert "AccessDenied" in err, err
    assert "AccessDenied" in cli.fail("ls", "backup")
    assert "AccessDenied" in cli.fail("admin", "user", "list", "backup")

    cli("admin", "user", "disable", "t", user)
    err = cli.fail("cp", str(src), f"backup/{bucket}/backups/again.tar")
    assert "InvalidAccessKeyId" in err, err
    cli("admin", "user", "enable", "t", user)
    cli("cp", str(src), f"backup/{bucket}/backups/again.tar")

    # removing the user takes the service account with it
    cli("admin", "policy", "detach", "t", pol, "--user", user)
    cli("admin", "user", "remove", "t", user)
    assert "InvalidAccessKeyId" in cli.fail("cp", str(src), f"backup/{bucket}/backups/x.tar")
    cli("admin", "policy", "remove", "t", pol)
