"""compare.py, the verdict of the s3-tests run: a listed test that does not pass fails it."""

import json
import subprocess
import sys
from pathlib import Path

COMPARE = Path(__file__).with_name("compare.py")


def run(tmp_path, outcomes, listed, *extra):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"wall_seconds": 1.0, "tests": [
        {"nodeid": f"s3tests/functional/test_s3.py::{n}", "outcome": o, "message": f"why {n}"}
        for n, o in outcomes.items()]}))
    lst = tmp_path / "expected.txt"
    lst.write_text("# a comment\n" + "".join(f"test_s3.py::{n}  # note\n" for n in listed))
    p = subprocess.run([sys.executable, str(COMPARE), str(results), str(lst), *extra],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, lst


def test_all_listed_pass(tmp_path):
    rc, out, _ = run(tmp_path, {"test_a": "passed", "test_b": "failed"}, ["test_a"])
    assert rc == 0
    assert out.splitlines()[-1].startswith("s3-tests: 1 passed, 1 failed, 0 skipped of 2")
    assert "0 regression(s), 0 newly passing" in out


def test_listed_test_failing_skipped_or_missing_is_a_regression(tmp_path):
    rc, out, _ = run(tmp_path, {"test_a": "failed", "test_b": "skipped", "test_c": "error"},
                     ["test_a", "test_b", "test_gone"])
    assert rc == 1
    assert "REGRESSION test_s3.py::test_a: failed: why test_a" in out
    assert "REGRESSION test_s3.py::test_b: skipped" in out
    assert "REGRESSION test_s3.py::test_gone: not run" in out
    assert "3 regression(s)" in out


def test_unlisted_pass_is_reported_not_failed(tmp_path):
    rc, out, _ = run(tmp_path, {"test_a": "passed", "test_new": "passed"}, ["test_a"])
    assert rc == 0
    assert "  test_s3.py::test_new" in out and "1 newly passing" in out


def test_listed_twice_fails(tmp_path):
    rc, out, _ = run(tmp_path, {"test_a": "passed"}, ["test_a", "test_a"])
    assert rc == 1 and "listed twice" in out


def test_write_lists_exactly_what_passed(tmp_path):
    rc, _, lst = run(tmp_path, {"test_b": "passed", "test_a": "passed", "test_c": "failed"}, [],
                     "--write")
    assert rc == 0
    names = [l for l in lst.read_text().splitlines() if l and not l.startswith("#")]
    assert names == ["test_s3.py::test_a", "test_s3.py::test_b"]
