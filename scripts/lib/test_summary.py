#!/usr/bin/env python3
"""Counts individual test cases for scripts/test.

Usage:
  test_summary.py meson BUILD_DIR XML_DIR   -> prints "P F S" for one meson run
  test_summary.py pytest JUNIT_XML EXIT     -> prints "P F S" for one pytest run
  test_summary.py tests BUILD_DIR SUITE...  -> one line per test of the suites:
                                               "NAME<TAB>1" if its program
                                               exists, "NAME<TAB>0" if not

meson: every gtest binary wrote XML_DIR/<binary>[_N].xml (GTEST_OUTPUT=xml:DIR/).
Test cases are counted from those files. A meson test that failed (crash,
timeout, sanitizer report at exit) but whose XML shows no failing case -- or
that wrote no XML at all -- counts as one more failed case. A non-gtest meson
test without XML counts as one case (passed, failed or skipped as meson says).

pytest: counts from the junit XML; exit code 5 (no tests collected) is not a
failure; any other non-zero exit without a failing case counts as one failed.
Details of what was counted go to stderr.
"""
import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def gtest_counts(path):
    """(passed, failed, skipped) test cases in one gtest XML file."""
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.get("status") == "notrun":  # DISABLED_ tests
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("result") in ("skipped", "suppressed") or case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def meson_summary(build_dir, xml_dir):
    per_binary = {}  # basename -> [p, f, s]
    for path in sorted(glob.glob(os.path.join(xml_dir, "*.xml"))):
        stem = os.path.basename(path)[:-4]
        base = stem
        # gtest names a second run of the same binary foo_1.xml, foo_2.xml...
        head, _, tail = stem.rpartition("_")
        if head and tail.isdigit() and os.path.exists(os.path.join(xml_dir, head + ".xml")):
            base = head
        try:
            counts = gtest_counts(path)
        except ET.ParseError as e:  # a crash while writing
            print(f"  {path}: unreadable XML ({e})", file=sys.stderr)
            counts = (0, 1, 0)
        acc = per_binary.setdefault(base, [0, 0, 0])
        for i in range(3):
            acc[i] += counts[i]

    passed = sum(v[0] for v in per_binary.values())
    failed = sum(v[1] for v in per_binary.values())
    skipped = sum(v[2] for v in per_binary.values())

    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    results = []
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                line = line.strip()
                if line:
                    results.append(json.loads(line))
    else:
        print(f"  no {log}: meson test did not run", file=sys.stderr)
        failed += 1
    for r in results:
        cmd = r.get("command") or r.get("cmd") or [""]
        base = os.path.basename(cmd[0])
        result = r.get("result", "")
        ok = result in ("OK", "EXPECTEDFAIL")
        if base in per_binary:
            if not ok and result != "SKIP" and per_binary[base][1] == 0:
                print(f"  {r.get('name')}: {result} although its cases passed "
                      "(crash or sanitizer report at exit?): +1 failed", file=sys.stderr)
                failed += 1
        elif ok:
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            print(f"  {r.get('name')}: {result} without gtest XML: +1 failed", file=sys.stderr)
            failed += 1
    return passed, failed, skipped


def pytest_summary(junit, exit_code):
    if not os.path.exists(junit):
        if exit_code in (0, 5):
            return 0, 0, 0
        print(f"  pytest exited {exit_code} without {junit}: +1 failed", file=sys.stderr)
        return 0, 1, 0
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failures = errors = skipped = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failures += int(s.get("failures", 0))
        errors += int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    failed = failures + errors
    passed = tests - failed - skipped
    if exit_code not in (0, 5) and failed == 0:
        print(f"  pytest exited {exit_code} with no failing case: +1 failed", file=sys.stderr)
        failed = 1
    return passed, failed, skipped


def list_tests(build_dir, suites):
    """(name, program exists) of every meson test in one of `suites`."""
    out = subprocess.run(["meson", "introspect", build_dir, "--tests"],
                         capture_output=True, text=True, check=True).stdout
    result = []
    for t in json.loads(out):
        names = {s.split(":")[-1] for s in t.get("suite", [])}
        if names & set(suites):
            cmd = t.get("cmd") or [""]
            result.append((t["name"], os.path.exists(cmd[0])))
    return result


def main(argv):
    if len(argv) >= 4 and argv[1] == "tests":
        for name, exists in list_tests(argv[2], argv[3:]):
            print("%s\t%d" % (name, exists))
        return 0
    if len(argv) == 4 and argv[1] == "meson":
        counts = meson_summary(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "pytest":
        counts = pytest_summary(argv[2], int(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("%d %d %d" % counts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
