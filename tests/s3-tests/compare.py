#!/usr/bin/python3
"""Compare a run of Ceph's s3-tests with the project's list of tests expected to pass.

    compare.py RESULTS.json EXPECTED-PASS.txt [--write]

RESULTS.json is what ../shared/s3-tests/run.sh writes (one record per test); the list holds one
test per line as `module.py::test_name` ('#' starts a comment). A listed test that did not pass
(failed, error, skipped, not run) is a regression: exit 1. A passing test that is not listed is
reported so the list can grow. `--write` rewrites the list with exactly the tests that passed.
The last line is the summary CI greps for: `s3-tests: N passed, N failed, N skipped ...`.
"""
import json
import sys
from collections import Counter


def short(nodeid):
    path, _, name = nodeid.partition("::")
    return path.rsplit("/", 1)[-1] + "::" + name


def load_list(path):
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        run = json.load(f)
    tests = {short(t["nodeid"]): t for t in run["tests"]}
    outcomes = Counter(t["outcome"] for t in tests.values())
    passed = {n for n, t in tests.items() if t["outcome"] == "passed"}

    if "--write" in argv[3:]:
        with open(argv[2], "w") as f:
            f.write("# Ceph's s3-tests (test_s3.py, test_headers.py) that pass against Basalt: "
                    "tests/s3-tests/run.sh fails\n# when one of them does not. Grow it as "
                    "features land; docs/s3-compatibility.md says what is left.\n")
            for n in sorted(passed):
                f.write(n + "\n")
        print(f"compare.py: wrote {len(passed)} tests to {argv[2]}")

    expected = load_list(argv[2])
    dup = [n for n, c in Counter(expected).items() if c > 1]
    regressions = []
    for n in expected:
        t = tests.get(n)
        if t is None or t["outcome"] != "passed":
            regressions.append((n, t))
    new = sorted(passed - set(expected))

    for n, t in regressions:
        if t is None:
            print(f"REGRESSION {n}: not run (renamed or removed from the suite?)")
        else:
            msg = (t.get("message") or "").strip().replace("\n", " ")[:300]
            print(f"REGRESSION {n}: {t['outcome']}: {msg}")
    if new:
        print(f"s3-tests: {len(new)} passing test(s) not in {argv[2]} (add them):")
        for n in new:
            print(f"  {n}")
    if dup:
        print(f"s3-tests: listed twice: {' '.join(dup)}")
    print(f"s3-tests: {outcomes['passed']} passed, {outcomes['failed'] + outcomes['error']} failed, "
          f"{outcomes['skipped']} skipped of {len(tests)} in {run.get('wall_seconds', 0):.0f}s; "
          f"{len(expected)} expected to pass: {len(regressions)} regression(s), "
          f"{len(new)} newly passing")
    return 1 if regressions or dup else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
