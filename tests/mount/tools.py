"""Small helpers shared by the real-mount tests and bench/publish: a tool
that must be installed, a command that must succeed, a whole file, one HTTP
GET. Failures are AssertionErrors (or pytest failures) with the tool's output.
"""
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail("%s is not installed (scripts/packages.txt lists it)" % tool)


def run(cmd, env=None, cwd=None, timeout=300):
    """Runs CMD; asserts exit status 0; returns stdout + stderr."""
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, "%s exited with %d:\n%s%s" % (
        " ".join(map(str, cmd)), p.returncode, p.stdout[-4000:], p.stderr[-3000:])
    return p.stdout + p.stderr


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def fetch(url, headers=None, timeout=60):
    """One GET: (status, response headers, body), also for 4xx/5xx."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
