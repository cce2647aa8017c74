"""Fixtures of the end-to-end suite (issue 2 "Tests").

- `server`: one server for the whole session (4 drive folders, EC 2+2), for
  the API tests; each test makes its own buckets (`bucket`, `new_bucket`).
- `fresh_server`: a factory of function-scoped servers for destructive tests
  (wipe drives, SIGKILL, full disk); stopped at the end of the test.
- `s3`: a boto3 client of the session server; `aws_cli`, `s3cmd`: the two
  command-line clients, configured in isolated files.

A server's stdout/stderr goes to <tmp>/<name>.log; the tail of every live
server's log is printed when a test fails. Ports come from 9300-9399.
"""

import atexit
import os
import re
import signal
import subprocess
import itertools

import pytest

import helpers
from helpers import Server, TIME_SCALE


def _kill_live_servers(signum=None, frame=None):
    for s in list(helpers.LIVE_SERVERS):
        s.kill()
    if signum is not None:
        raise SystemExit(128 + signum)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long test; the ASan run may skip it with -m 'not slow'")
    # servers run in their own sessions: never leave one behind when pytest is
    # stopped (timeout(1) sends SIGTERM, Ctrl-C) or exits
    atexit.register(_kill_live_servers)
    signal.signal(signal.SIGTERM, _kill_live_servers)


# What no log line may hold: a secret of the run, a SigV4/SigV2 signature, a session token.
_LEAKS = re.compile(r"(X-Amz-Signature=[0-9a-f]{64}|Signature=[0-9a-f]{64}|"
                    r"AWS4-HMAC-SHA256 Credential=|X-Amz-Security-Token=|"
                    r"x-amz-security-token\"?:)", re.I)


def pytest_sessionfinish(session, exitstatus):
    """Greps every server log of the run for every secret it used and for signatures."""
    found = []
    secrets = sorted(helpers.SECRETS)
    for path in helpers.ALL_LOGS:
        try:
            text = open(path, errors="replace").read()
        except OSError:
            continue
        for sec in secrets:
            if sec in text:
                found.append(f"{path}: a secret ({sec[:3]}...)")
        m = _LEAKS.search(text)
        if m:
            found.append(f"{path}: {m.group(0)[:40]}...")
    print(f"\nsecret grep: {len(helpers.ALL_LOGS)} server log(s), {len(secrets)} secret(s): "
          f"{'none found' if not found else str(len(found)) + ' FOUND'}")
    if found:
        print("\n".join(found[:20]))
        session.exitstatus = 1


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(autouse=True)
def _server_log_on_failure(request):
    started = {id(s) for s in helpers.LIVE_SERVERS}
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for s in helpers.LIVE_SERVERS:
            print(f"\n----- tail of {s.log_path} -----\n{s.log_tail(80)}")
    # A session server that died during the test is a crash: report it here
    # (the test that killed it on purpose uses its own server).
    for s in list(helpers.LIVE_SERVERS):
        if id(s) in started and getattr(s, "session", False) and not s.alive():
            pytest.fail(f"the session server died (status {s.proc.returncode}):\n{s.log_tail(80)}")


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("basalt")


@pytest.fixture(scope="session")
def server(session_tmp):
    s = Server(session_tmp / "session", name="session")
    s.session = True
    s.start()
    yield s
    rc = s.stop()
    helpers.LIVE_SERVERS.remove(s)
    assert not s.term_timeouts, f"session server ignored SIGTERM for 10 s:\n{s.term_timeouts[0]}"
    san = s.sanitizer_reports()
    assert not san, "sanitizer report in the session server's log:\n" + "\n".join(san[:20])
    # A clean shutdown on SIGTERM exits with 0; a sanitizer report makes it fail.
    assert rc in (0, -15), f"session server exited with {rc} on SIGTERM:\n{s.log_tail(80)}"


@pytest.fixture
def fresh_server(tmp_path):
    """Factory: fresh_server(**Server kwargs) -> a started server, stopped at teardown."""
    made = []
    counter = itertools.count()

    def make(start=True, **kw):
        kw.setdefault("name", f"srv{next(counter)}")
        s = Server(tmp_path / kw["name"], **kw)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    hung = []
    for s in made:
        s.close()
        san = s.sanitizer_reports()
        if san:
            hung.append(f"{s.name}: sanitizer report:\n" + "\n".join(san[:10]) +
                        f"\n{s.log_tail(60)}")
        if s.term_timeouts:
            hung.append(f"{s.name}: {len(s.term_timeouts)} SIGTERM(s) not obeyed within 10 s; "
                        f"log tail then:\n{s.term_timeouts[0]}")
    assert not hung, "server problems:\n" + "\n".join(hung)


@pytest.fixture(scope="session")
def s3(server):
    return server.client()


_bucket_seq = itertools.count()


def bucket_name(nodeid_or_name):
    base = re.sub(r"[^a-z0-9]+", "-", nodeid_or_name.lower().split("::")[-1])
    base = base.strip("-")[:40].strip("-") or "b"
    return f"{base}-{os.getpid() % 10000}-{next(_bucket_seq)}"


@pytest.fixture
def new_bucket(request, s3):
    """Factory: new_bucket(client=s3) -> name of a created, unique bucket."""

    def make(client=None):
        name = bucket_name(request.node.name)
        (client or s3).create_bucket(Bucket=name)
        return name

    return make


@pytest.fixture
def bucket(new_bucket):
    return new_bucket()


# ----------------------------------------------------------------------------
# Command-line clients
# ----------------------------------------------------------------------------


# Debian's packages (awscli, s3cmd), not whatever a pyenv or pip put first on PATH: the clients
# under test are the ones scripts/install-deps.sh installs on a fresh machine.
AWS_BIN = os.environ.get("BASALT_AWS_BIN") or ("/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws")
S3CMD_BIN = "/usr/bin/s3cmd" if os.path.exists("/usr/bin/s3cmd") else "s3cmd"


class AwsCli:
    def __init__(self, server, home, single_put=True):
        self.server = server
        home.mkdir(parents=True, exist_ok=True)
        self.config = home / "aws-config"
        self.creds = home / "aws-credentials"
        self.config.write_text(
            "[default]\n"
            f"region = {helpers.REGION}\n"
            # the CLI's defaults otherwise: its checksums, its signature version (SigV2 for
            # `aws s3 presign` in the v1 CLI)
            "s3 =\n"
            "    addressing_style = path\n"
            # multipart is issue 3: single PUTs up to 1 GB
            + ("    multipart_threshold = 1GB\n    multipart_chunksize = 1GB\n"
               if single_put else ""))
        self.creds.write_text(
            "[default]\n"
            f"aws_access_key_id = {server.access_key}\n"
            f"aws_secret_access_key = {server.secret_key}\n")

    def env(self):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update(AWS_CONFIG_FILE=str(self.config), AWS_SHARED_CREDENTIALS_FILE=str(self.creds),
                   AWS_MAX_ATTEMPTS="1", AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
        return env

    def __call__(self, *args, check=True, timeout=180):
        cmd = [AWS_BIN, "--endpoint-url", self.server.endpoint, *args]
        r = subprocess.run(cmd, env=self.env(), capture_output=True, timeout=timeout * TIME_SCALE)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} -> {r.returncode}\n"
                                 f"stdout: {r.stdout.decode(errors='replace')[-2000:]}\n"
                                 f"stderr: {r.stderr.decode(errors='replace')[-2000:]}")
        return r


class S3cmd:
    def __init__(self, server, home):
        self.server = server
        home.mkdir(parents=True, exist_ok=True)
        self.config = home / "s3cfg"
        hp = f"127.0.0.1:{server.port}"
        self.config.write_text(
            "[default]\n"
            f"access_key = {server.access_key}\n"
            f"secret_key = {server.secret_key}\n"
            f"host_base = {hp}\n"
            f"host_bucket = {hp}\n"
            "use_https = False\n"
            "signature_v2 = False\n"
            f"bucket_location = {helpers.REGION}\n"
            "check_ssl_certificate = False\n"
            "enable_multipart = True\n"
            "socket_timeout = 60\n"
            "max_retries = 1\n"
            "progress_meter = False\n")

    def __call__(self, *args, check=True, timeout=180):
        cmd = [S3CMD_BIN, "-c", str(self.config), *args]
        r = subprocess.run(cmd, capture_output=True, timeout=timeout * TIME_SCALE,
                           env={**os.environ, "HOME": str(self.config.parent)})
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} -> {r.returncode}\n"
                                 f"stdout: {r.stdout.decode(errors='replace')[-2000:]}\n"
                                 f"stderr: {r.stderr.decode(errors='replace')[-2000:]}")
        return r


@pytest.fixture
def aws_cli(server, tmp_path):
    return AwsCli(server, tmp_path / "awshome")


@pytest.fixture
def s3cmd(server, tmp_path):
    return S3cmd(server, tmp_path / "s3cmdhome")
