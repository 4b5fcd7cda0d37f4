"""Two web hosts on one bucket: host A publishes an apt repository with
reprepro (signed, state on local disk, --outdir on A's mount), host B serves
it with its own repofs daemon (own cache dir, read-only as the README
recommends for web hosts) under its own nginx. Both mount the same bucket
and prefix with metadata_ttl = negative_ttl = TTL.

Covered:
- visibility: what A publishes is served by B's nginx within TTL + 2 s
  (from reprepro exiting on A to B serving the new InRelease byte-equal, and
  to B serving InRelease together with the Packages/Packages.gz it names);
  apt on B then updates and downloads the new versions byte-identical;
- consistency while A publishes round after round (includedeb of newer
  versions of several packages): apt-get update against B, run repeatedly
  during and up to TTL + 2 s after publishing, must never fail; a raw poller
  fetches InRelease and then the indexes it names from B and counts the
  pairs whose SHA256/size disagree (printed, not asserted: reprepro renames
  Packages before InRelease, so such pairs exist even on a local disk), and
  asserts that every body B serves is one A published whole (no torn or
  mixed file); after publishing B converges and apt downloads the final
  versions byte-identical;
- the hazard repofs's coherent expiry removes: B caches each entry from its
  own last look-up, so if B last looked at Packages.gz after InRelease and A
  publishes in between, B would serve the new InRelease with the old
  Packages.gz for up to TTL (apt: "File has unexpected size ... Mirror sync
  in progress?"). B now expires every entry validated before the change it
  sees; the deterministic scenario checks that apt on B succeeds right when
  InRelease's entry expires and Packages.gz's has not.

A hash mismatch on B raises HashMismatchOnB (an AssertionError: a failure).
Publishes are at least 1.1 s apart (apt's If-Modified-Since has whole
seconds). Run with -s to see the measured numbers (CONSISTENCY lines).
"""
import hashlib
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import debrepo

TTL = 2
SLACK = 2.0
PACKAGES = ["alpha-repofs", "bravo-repofs", "charlie-repofs", "delta-repofs"]
INDEXES = ["main/binary-amd64/Packages", "main/binary-amd64/Packages.gz"]
DISTS = "debian/dists/bookworm/"
MISMATCH_WORDS = ("Hash Sum mismatch", "unexpected size", "Mirror sync in progress",
                  "Hashes of expected file")


class HashMismatchOnB(AssertionError):
    """apt-get update against host B failed with a hash sum mismatch."""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def get(url):
    """(status, body); status 0 with the error text on a connection failure."""
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 0, str(e).encode()


def release_hashes(inrelease):
    """{path: (sha256, size)} from the SHA256 section of a (In)Release."""
    out, section = {}, False
    for line in inrelease.decode(errors="replace").splitlines():
        if not line.startswith(" "):
            section = line.strip() == "SHA256:"
            continue
        if section:
            digest, size, path = line.split()
            out[path] = (digest, int(size))
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def apt_errors(out):
    return [l for l in out.splitlines() if l.startswith(("E:", "Err:"))][:4]


class Hosts:
    """A (publisher, rw) and B (web host, ro) on the same bucket+prefix,
    each with its own nginx; reprepro on A; apt on B."""

    def __init__(self, prefix, mount_factory, nginx_factory, tmp_path, key, ttl):
        self.ttl = ttl
        options = "metadata_ttl=%ds,negative_ttl=%ds" % (ttl, ttl)
        self.a = mount_factory(prefix, options)
        self.b = mount_factory(prefix, "ro," + options)
        assert self.a.own_cache and self.b.own_cache and self.a.own_cache != self.b.own_cache
        self.nginx_a = nginx_factory(self.a.path())
        self.nginx_b = nginx_factory(self.b.path())
        self.reprepro = debrepo.Reprepro(tmp_path / "state", self.a.path("debian"), key=key)
        self.apt = debrepo.AptClient(tmp_path / "apt-b", self.nginx_b.url("debian"),
                                     keyring=key.keyring)
        self.debs_dir = tmp_path / "debs"
        self.debs_dir.mkdir()
        self.debs = {}  # (name, version) -> path
        # What A published, in order: (InRelease sha256, {index: sha256},
        # {index: size}).
        self.published = []
        self.last_publish = self.last_start = 0.0

    def deb(self, name, version):
        if (name, version) not in self.debs:
            size = 1_500_000 if name == PACKAGES[0] else 20_000
            self.debs[(name, version)] = debrepo.make_deb(self.debs_dir, name, version, size)
        return self.debs[(name, version)]

    def publish(self, version, names=PACKAGES):
        """includedeb NAME_VERSION for every name through A; records what A
        now holds; returns (A's InRelease bytes, time reprepro exited).
        Publishes start at least 1.1 s apart: apt revalidates InRelease with
        If-Modified-Since, whole seconds, so two versions written within
        one second look alike to it on any filesystem (a 304, "Hit")."""
        time.sleep(max(0.0, self.last_publish + 1.1 - time.monotonic()))
        self.last_start = time.monotonic()
        self.reprepro.includedeb(*[self.deb(n, version) for n in names])
        done = self.last_publish = time.monotonic()
        inrelease = read(self.a.path(DISTS + "InRelease"))
        hashes = release_hashes(inrelease)
        indexes, sizes = {}, {}
        for index in INDEXES:
            body = read(self.a.path(DISTS + index))
            assert (sha256(body), len(body)) == hashes[index], "A's own view is inconsistent"
            indexes[index], sizes[index] = sha256(body), len(body)
        self.published.append((sha256(inrelease), indexes, sizes))
        return inrelease, done

    def b_view(self):
        """One raw poll of B: InRelease, then the indexes it names.
        {"t", "bad": [(file, why)], "shas": {file: sha256}}."""
        poll = {"t": time.monotonic(), "bad": [], "shas": {}}
        status, inrelease = get(self.nginx_b.url(DISTS + "InRelease"))
        if status != 200:
            poll["bad"].append(("InRelease", "HTTP %d %r" % (status, inrelease[:200])))
            return poll
        poll["shas"]["InRelease"] = sha256(inrelease)
        hashes = release_hashes(inrelease)
        for index in INDEXES:
            if index not in hashes:
                poll["bad"].append((index, "not named in InRelease"))
                continue
            status, body = get(self.nginx_b.url(DISTS + index))
            if status != 200:
                poll["bad"].append((index, "HTTP %d" % status))
                continue
            poll["shas"][index] = sha256(body)
            if (sha256(body), len(body)) != hashes[index]:
                poll["bad"].append((index, "%d bytes, InRelease says %d" % (
                    len(body), hashes[index][1])))
        return poll

    def rounds_of(self, poll):
        """{file: index of the publish round that produced its body, or None}."""
        out = {}
        for f, digest in poll["shas"].items():
            rounds = [i for i, (inr, idx, _) in enumerate(self.published)
                      if (inr if f == "InRelease" else idx[f]) == digest]
            out[f] = rounds[-1] if rounds else None
        return out

    def apt_mismatches(self, out):
        """[(index, expected round, received rounds)] for each index apt
        refused in OUT. Expected: the round whose InRelease named the hashes
        apt expected. Received: from apt's received SHA256 when it prints one
        (same size), else every round whose index had the received size."""
        found, index, expected, received, size = [], None, None, None, None

        def flush():
            if index is None:
                return
            exp = [i for i, (_, idx, _) in enumerate(self.published) if idx[index] == expected]
            if received:
                got = [i for i, (_, idx, _) in enumerate(self.published)
                       if idx[index] == received]
            else:
                got = [i for i, (_, _, sz) in enumerate(self.published) if sz[index] == size]
            found.append((index, exp[-1] if exp else None, got))

        section = None
        for line in out.splitlines():
            if line.startswith("E: Failed to fetch "):
                flush()
                url = line.split()[4]
                index = next((i for i in INDEXES if url.endswith("/" + DISTS + i)), None)
                expected = received = size = section = None
                if "unexpected size (" in line:
                    size = int(line.split("unexpected size (")[1].split()[0])
            elif index is not None and line.strip().startswith("Hashes of"):
                section = "expected" if "expected" in line else "received"
            elif index is not None and line.strip().startswith("- SHA256:"):
                digest = line.strip()[len("- SHA256:"):]
                if section == "expected":
                    expected = digest
                elif section == "received":
                    received = digest
            elif not line.startswith(" "):
                section = None
        flush()
        return found

    def wait_b(self, inrelease, since, consistent, limit):
        """Polls B until it serves INRELEASE (and, if CONSISTENT, the indexes
        it names); returns the seconds since SINCE."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not consistent:
                if get(self.nginx_b.url(DISTS + "InRelease")) == (200, inrelease):
                    return time.monotonic() - since
            else:
                poll = self.b_view()
                if not poll["bad"] and poll["shas"]["InRelease"] == sha256(inrelease):
                    return time.monotonic() - since
            time.sleep(0.02)
        pytest.fail("B did not serve A's new %s within %.0f s" % (
            "consistent indexes" if consistent else "InRelease", limit))

    def apt_update(self, *extra):
        """apt-get update against B, not raising: (rc, output)."""
        p = subprocess.run(self.apt.argv(*extra, "update"), capture_output=True, text=True,
                           timeout=120)
        return p.returncode, p.stdout + p.stderr

    def download_and_compare(self, versions):
        """apt on B downloads every package at VERSIONS[name]: byte-identical."""
        self.apt.clear_archives()
        got = self.apt.download(*["%s=%s" % (n, v) for n, v in versions.items()])
        assert [os.path.basename(p) for p in got] == sorted(
            "%s_%s_all.deb" % (n, v) for n, v in versions.items())
        for path in got:
            name, version = os.path.basename(path).split("_")[:2]
            assert read(path) == read(self.deb(name, version)), path


@pytest.fixture
def hosts_factory(prefix, mount_factory, nginx_factory, tmp_path):
    key = debrepo.SigningKey()
    try:
        yield lambda ttl=TTL: Hosts(prefix, mount_factory, nginx_factory, tmp_path, key, ttl)
    finally:
        key.close()


def test_publish_on_a_is_served_by_b_within_ttl(hosts_factory):
    h = hosts_factory()
    inrelease, done = h.publish("1.0")
    h.wait_b(inrelease, done, consistent=True, limit=TTL + SLACK + 10)
    h.apt.update()
    h.download_and_compare({n: "1.0" for n in PACKAGES})
    # B has now read (and cached) InRelease, the indexes and the pool
    # directories; each new version must still show up within TTL + slack.
    visible, consistent = [], []
    for rnd in (1, 2, 3):
        version = "1.%d" % rnd
        inrelease, done = h.publish(version, PACKAGES[:2])
        visible.append(h.wait_b(inrelease, done, consistent=False, limit=TTL + SLACK + 10))
        consistent.append(h.wait_b(inrelease, done, consistent=True, limit=TTL + SLACK + 10))
        h.apt.update()
        h.download_and_compare({PACKAGES[0]: version, PACKAGES[1]: version,
                                PACKAGES[2]: "1.0"})
    print("\nCONSISTENCY A->B new InRelease served after (s): %s; with matching indexes "
          "after (s): %s" % ([round(x, 2) for x in visible], [round(x, 2) for x in consistent]))
    assert max(visible) <= TTL + SLACK, visible
    assert max(consistent) <= TTL + SLACK, consistent


def test_b_never_serves_a_broken_repository_while_a_publishes(hosts_factory):
    h = hosts_factory()
    inrelease, done = h.publish("1.0")
    h.wait_b(inrelease, done, consistent=True, limit=TTL + SLACK + 10)
    h.apt.update()

    rounds, publish_log, publish_error = 5, [], []
    publishing = threading.Event()
    publishing.set()

    def publisher():
        try:
            for rnd in range(1, rounds + 1):
                _, done = h.publish("2.%d" % rnd)
                publish_log.append((rnd, h.last_start, done))
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            publish_error.append(e)
        finally:
            publishing.clear()

    polls, poll_stop = [], threading.Event()

    def poller():
        deadline = time.monotonic() + 300
        for _ in range(3000):
            if poll_stop.is_set() or time.monotonic() > deadline:
                return
            polls.append(h.b_view())
            time.sleep(0.03)

    threads = [threading.Thread(target=publisher), threading.Thread(target=poller)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    updates, end = [], None
    try:
        # apt-get update on B, one after another, while A publishes and up to
        # TTL + slack after (B may lag that long); bounded in count too.
        for _ in range(150):
            if not publishing.is_set():
                end = end or time.monotonic() + TTL + SLACK
                if time.monotonic() > end:
                    break
            start = time.monotonic()
            rc, out = h.apt_update()
            updates.append((start - t0, time.monotonic() - t0, rc, out))
            time.sleep(0.03)
    finally:
        threads[0].join(timeout=600)
        poll_stop.set()
        threads[1].join(timeout=120)
    assert not publish_error, publish_error
    assert len(publish_log) == rounds

    bad = [p for p in polls if p["bad"]]
    torn = [(p, h.rounds_of(p)) for p in polls if None in h.rounds_of(p).values()]
    failed = [u for u in updates if u[2] != 0]
    mismatch = [u for u in failed if any(w in u[3] for w in MISMATCH_WORDS)]
    print("\nCONSISTENCY publish rounds (s since start): %s" % ", ".join(
        "r%d %.2f-%.2f" % (r, s - t0, e - t0) for r, s, e in publish_log))
    print("CONSISTENCY raw polls of B: %d, InRelease/index mismatches: %d, unpublished "
          "bodies: %d" % (len(polls), len(bad), len(torn)))
    for p in bad[:12]:
        print("CONSISTENCY   mismatch at %.2f s: %s, rounds %s" % (
            p["t"] - t0, p["bad"], h.rounds_of(p)))
    print("CONSISTENCY apt-get update on B: %d runs, %d failed, %d with a hash mismatch" % (
        len(updates), len(failed), len(mismatch)))
    for start, stop, rc, out in failed:
        print("CONSISTENCY   apt failed %.2f-%.2f s rc=%d: %s" % (start, stop, rc,
                                                               apt_errors(out)))

    # Enough happened for the measurement to mean something.
    assert len(updates) >= 5 and len(polls) >= 20, (len(updates), len(polls))
    # B never serves a body A did not publish whole (no torn or mixed file).
    assert not torn, torn[:3]
    # apt failures other than a hash mismatch are plain failures.
    assert len(failed) == len(mismatch), [apt_errors(u[3]) for u in failed]
    # B has converged (apt ran up to TTL + slack after the last round).
    final = read(h.a.path(DISTS + "InRelease"))
    assert get(h.nginx_b.url(DISTS + "InRelease")) == (200, final)
    assert not h.b_view()["bad"]
    h.apt.update()
    h.download_and_compare({n: "2.%d" % rounds for n in PACKAGES})
    # THE ASSERTION UNDER TEST: B never pairs an InRelease with an index
    # older than the one it names (the hazard: A replaces indexes before
    # InRelease, so no moment on S3 held that pair). An index newer than
    # the InRelease is the publisher's own window (reprepro renames indexes
    # first; between those renames and InRelease's, S3 holds exactly that
    # pair, as a local disk would): apt's "Mirror sync in progress?". It is
    # counted, and must be explained by a round A was publishing: one that
    # began before that apt run ended and ended no more than TTL + 1 s
    # (B's entry lifetime) before it began.
    # A received size alone may match rounds on both sides: "ambiguous",
    # printed, not failed.
    older, newer, ambiguous = [], [], []
    for s, e, _, o in mismatch:
        for index, exp, got in h.apt_mismatches(o) or [(None, None, [])]:
            item = "%.2f-%.2f s: %s expected round %s, received round(s) %s; %s" % (
                s, e, index, exp, got, apt_errors(o))
            windows = {r for r, start, done in publish_log
                       if start - t0 <= e and done - t0 + TTL + 1.0 >= s}
            if exp is None or not got or all(r <= exp for r in got):
                older.append(item)
            elif all(r > exp and r in windows for r in got):
                newer.append(item)
            else:
                ambiguous.append(item)
    print("CONSISTENCY apt mismatches from A's rename window (index newer than "
          "InRelease): %d; older index (B's fault): %d; ambiguous by size: %d" % (
              len(newer), len(older), len(ambiguous)))
    for item in newer + older + ambiguous:
        print("CONSISTENCY   %s" % item)
    if older:
        raise HashMismatchOnB("apt-get update against B got an index older than (or not "
                              "matching) the InRelease it was served, %d of %d times: %s" % (
                                  len(older), len(updates), older))


def test_b_never_mixes_new_inrelease_with_old_packages(hosts_factory):
    """Deterministic: B looks at InRelease at t=0 and at the indexes at
    t=ttl/2, A publishes right after; at t=ttl+0.3 B's InRelease entry has
    expired, its index entries have not."""
    ttl = 4
    h = hosts_factory(ttl)
    inrelease, done = h.publish("1.0")
    h.wait_b(inrelease, done, consistent=True, limit=ttl + SLACK + 10)
    h.apt.update()
    time.sleep(ttl + 0.5)  # every entry B holds has expired
    t0 = time.monotonic()
    assert get(h.nginx_b.url(DISTS + "InRelease"))[0] == 200
    time.sleep(ttl / 2)
    before = h.b_view()
    assert not before["bad"], before
    # Hold Packages.gz open on B, as a busy web host does: the kernel then
    # keeps its dentry (and so B its entry) even if something on this
    # machine drops caches (a FORGET makes B re-probe early, hiding the bug).
    pin = open(h.b.path(DISTS + INDEXES[1]), "rb")
    try:
        new_inrelease, done = h.publish("1.1")
        assert done - t0 < ttl - 0.3, "publishing took too long to set the scenario up"
        time.sleep(max(0.0, t0 + ttl + 0.3 - time.monotonic()))
        # apt with its default retries (Acquire::Retries=3 in apt 2.6).
        at = time.monotonic() - t0
        rc, out = h.apt_update("-o", "Acquire::Retries=3")
        view = h.b_view()
    finally:
        pin.close()
    print("\nCONSISTENCY reproducer: apt-get update at t=%.2f s (A done at %.2f s): rc=%d %s;"
          " B then served InRelease of round %s, indexes of rounds %s" % (
              at, done - t0, rc, apt_errors(out), h.rounds_of(view).get("InRelease"),
              [h.rounds_of(view).get(i) for i in INDEXES]))
    assert rc == 0 or any(w in out for w in MISMATCH_WORDS), out[-2000:]
    # B converges once its index entries expire too (t = 1.5 ttl).
    consistent = h.wait_b(new_inrelease, done, consistent=True, limit=ttl + SLACK + 10)
    assert consistent <= ttl + SLACK, consistent
    h.apt.update()
    h.download_and_compare({n: "1.1" for n in PACKAGES})
    if rc != 0:
        raise HashMismatchOnB("apt-get update against B at t=%.2f s failed: %s" % (
            at, apt_errors(out)))
