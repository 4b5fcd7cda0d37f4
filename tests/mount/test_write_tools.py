"""Publishing tools on a real mount (issue 6, "Done when": cp, cp -a, rsync -a
twice, rsync delta transfer, install, tar -x, mv, mv -f and shell `>` produce
the same tree on the mount as on local disk).

Every test runs the same commands (real tools, via subprocess) twice: into a
directory on local disk (the reference) and into the target, then compares
the two trees with `diff -r --no-dereference` and with `find -printf` of type,
mode, size and symlink target, plus owner and mtime (whole seconds; regular
files) where the tool preserves them. Where the tool copies a source tree
(cp -a, rsync -a, tar -x), the target is also compared with the source.
On the mount, the comparison is repeated after an unmount on a fresh mount of
the same prefix (which later steps then use): what the tools did must be in
S3, not only in the daemon's memory.

The target is parametrized: `local` (a directory on local disk; validates the
test logic and the tools' behaviour on this machine) and `mount` (repofs).
"""
import os
import random
import shutil
import subprocess

import pytest

from conftest import is_mounted

MIB = 1 << 20
OWNER = (1234, 5678)  # a non-root owner on some source entries (we run as root)
OLD = 1577880000      # 2020-01-01 12:00:00 UTC: a fixed mtime the tools must keep


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail("%s is not installed (it is needed for the publishing-tool tests; "
                    "add it to scripts/packages.txt)" % tool)


def sh(cmd, cwd=None, check=True):
    p = subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), capture_output=True,
                       timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("%s exited with %d:\n%s%s" % (
            cmd, p.returncode, p.stdout.decode(errors="replace")[-3000:],
            p.stderr.decode(errors="replace")[-3000:]))
    return p.stdout.decode(errors="replace")


def write(path, data, mode=None, mtime=None, owner=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    if owner is not None:
        os.chown(path, *owner)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def make_tree(root, seed=1):
    """A source tree with what artifact repositories hold: nested dirs, an
    empty dir, sizes around block/part boundaries, modes, owners, fixed
    mtimes, names with spaces and non-ASCII, relative/dangling/dir symlinks."""
    rnd = random.Random(seed)
    files = {
        "top.txt": (b"top\n", 0o644),
        "empty.bin": (b"", 0o644),
        "a/one.txt": (b"one\n" * 10, 0o600),
        "a/b/4095.bin": (rnd.randbytes(4095), 0o644),
        "a/b/4096.bin": (rnd.randbytes(4096), 0o640),
        "a/b/c/deep.sh": (b"#!/bin/sh\necho deep\n", 0o755),
        "a/b/c/1m+3.bin": (rnd.randbytes(MIB + 3), 0o644),
        "pool/main/h/hello/hello_1.0_amd64.deb": (rnd.randbytes(6 * MIB + 1), 0o644),
        "dir with space/file name.txt": (b"space\n", 0o644),
        "unicod\u00e9/\u00f1and\u00fa.txt": (b"unicode\n", 0o644),
    }
    for i, (rel, (data, mode)) in enumerate(sorted(files.items())):
        write(os.path.join(root, rel), data, mode, OLD + 3600 * i,
              OWNER if rel.startswith("a/b/") else None)
    os.makedirs(os.path.join(root, "empty-dir"))
    os.symlink("a/b/c/deep.sh", os.path.join(root, "link-to-file"))
    os.symlink("does/not/exist", os.path.join(root, "dangling"))
    os.symlink("b", os.path.join(root, "a/link-to-dir"))
    os.symlink("../../top.txt", os.path.join(root, "a/b/up-link"))
    os.chmod(os.path.join(root, "a/b/c"), 0o750)
    return root


FIND_FMT = r"%P\t%y\t%m\t%U\t%G\t%s\t%T@\t%l\n"


def listing(root, owners=True, mtimes=True):
    """find -printf of the tree: path -> (type, mode, [uid, gid], size, [mtime], link)."""
    out = sh(["find", root, "-mindepth", "1", "-printf", FIND_FMT])
    entries = {}
    for line in out.splitlines():
        path, typ, mode, uid, gid, size, mtime, link = line.split("\t")
        row = [typ, mode]
        if owners:
            row += [uid, gid]
        if typ == "f":
            row.append(size)  # a directory's or symlink's st_size is not portable
            if mtimes:
                row.append(int(float(mtime)))
        if typ == "l":
            row.append(link)
        entries[path] = tuple(row)
    return entries


def compare(got_root, want_root, owners=True, mtimes=True, what=""):
    p = subprocess.run(["diff", "-r", "--no-dereference", want_root, got_root],
                       capture_output=True, timeout=300)
    assert p.returncode == 0, "%sdiff -r %s %s:\n%s%s" % (
        what, want_root, got_root, p.stdout.decode(errors="replace")[-3000:],
        p.stderr.decode(errors="replace")[-2000:])
    got = listing(got_root, owners, mtimes)
    want = listing(want_root, owners, mtimes)
    if got != want:
        lines = []
        for k in sorted(set(got) | set(want)):
            if got.get(k) != want.get(k):
                lines.append("  %s: got %s, want %s" % (k, got.get(k), want.get(k)))
        raise AssertionError("%stree attributes differ (type, mode%s, size%s, link):\n%s" % (
            what, ", uid, gid" if owners else "", ", mtime" if mtimes else "",
            "\n".join(lines[:60])))


class Target:
    """Where the tools write: a local directory or a repofs mount."""

    def __init__(self, kind, tmp, s3=None, prefix=None, mount_factory=None):
        self.kind = kind
        self.mount_factory, self.prefix = mount_factory, prefix
        if kind == "mount":
            self.mount = mount_factory(prefix)
            self.root = self.mount.path()
        else:
            self.mount = None
            self.root = str(tmp / "target")
            os.makedirs(self.root)

    def path(self, rel=""):
        return os.path.join(self.root, rel)

    def fresh(self):
        """Unmounts and mounts the prefix again (one mount at a time: a mount
        locks its cache directory); later steps of the test use the new
        mount. On local disk: the same directory."""
        if self.kind != "mount":
            return self.root
        m = self.mount
        for args in (["fusermount3", "-u", m.dir], ["fusermount3", "-u", "-z", m.dir]):
            if is_mounted(m.dir):
                subprocess.run(args, capture_output=True, timeout=120)
        m.proc.wait(timeout=60)
        self.mount = self.mount_factory(self.prefix)
        self.root = self.mount.path()
        return self.root

    def diag(self):
        return ("\nrepofs log tail:\n" + self.mount.logtext()[-3000:]) if self.mount else ""


@pytest.fixture(params=["local", "mount"])
def target(request, tmp_path, s3, prefix, mount_factory):
    return Target(request.param, tmp_path, s3, prefix, mount_factory)


@pytest.fixture
def ref(tmp_path):
    d = tmp_path / "ref"
    d.mkdir()
    return str(d)


@pytest.fixture
def src(tmp_path):
    return make_tree(str(tmp_path / "src"))


def check(target, ref_dir, rel="", owners=True, mtimes=True, source=None):
    """The target tree equals the local reference (and the source), on the
    live mount and on a fresh one."""
    try:
        roots = [("live", target.path(rel))]
        for name, root in roots:
            compare(root, os.path.join(ref_dir, rel), owners, mtimes, "[%s %s vs local] " % (
                target.kind, name))
            if source:
                compare(root, source, owners, mtimes, "[%s %s vs source] " % (target.kind, name))
        if target.kind == "mount":
            fresh = os.path.join(target.fresh(), rel)
            compare(fresh, os.path.join(ref_dir, rel), owners, mtimes,
                    "[mount, fresh mount vs local] ")
    except AssertionError as e:
        raise AssertionError(str(e) + target.diag()) from None


def both(target, ref_dir, fn):
    """Runs fn(dest_root) on the local reference, then on the target."""
    fn(ref_dir)
    try:
        fn(target.root)
    except AssertionError as e:
        raise AssertionError("[%s] %s%s" % (target.kind, e, target.diag())) from None


# ------------------------------------------------------------ cp
def test_cp_recursive_and_over_existing(target, ref, src, tmp_path):
    big = str(tmp_path / "big.bin")
    write(big, random.Random(3).randbytes(3 * MIB + 17))

    def run(root):
        sh(["cp", "-r", src, os.path.join(root, "tree")])
        write(os.path.join(root, "tree/top.txt.bak"), b"old content that is longer\n")
        sh(["cp", "-r", src, os.path.join(root, "tree2")])
        # cp over an existing file: open(O_TRUNC) and rewrite.
        sh(["cp", big, os.path.join(root, "tree/top.txt.bak")])
        sh(["cp", os.path.join(src, "top.txt"), os.path.join(root, "tree2/a/one.txt")])

    both(target, ref, run)
    # Plain cp: content, types and modes; owner = the copier; new mtimes.
    check(target, ref, mtimes=False)


def test_cp_a_preserves_mode_owner_mtime_symlinks(target, ref, src):
    def run(root):
        sh(["cp", "-a", src, os.path.join(root, "tree")])

    both(target, ref, run)
    check(target, ref, "tree", source=src)


# ------------------------------------------------------------ rsync
def change_source(src):
    """Modified (same size and different size), added, deleted, chmod'ed."""
    with open(os.path.join(src, "a/b/4096.bin"), "r+b") as f:
        f.seek(100)
        f.write(b"CHANGED")
    os.utime(os.path.join(src, "a/b/4096.bin"), (OLD + 99999, OLD + 99999))
    with open(os.path.join(src, "top.txt"), "ab") as f:
        f.write(b"appended\n")
    write(os.path.join(src, "new/dir/added.txt"), b"added\n", 0o644, OLD + 7)
    write(os.path.join(src, "a/added2.bin"), random.Random(5).randbytes(70000), 0o600, OLD + 8)
    os.unlink(os.path.join(src, "a/one.txt"))
    shutil.rmtree(os.path.join(src, "dir with space"))
    os.chmod(os.path.join(src, "a/b/4095.bin"), 0o600)
    os.unlink(os.path.join(src, "link-to-file"))
    os.symlink("top.txt", os.path.join(src, "link-to-file"))


def transferred(itemized):
    """Paths of regular files rsync sent (itemize lines starting with >f)."""
    return sorted(line.split(" ", 1)[1] for line in itemized.splitlines()
                  if line.startswith(">f"))


def test_rsync_a_twice_with_changes_and_delete(target, ref, src):
    need("rsync")
    both(target, ref, lambda root: sh(["rsync", "-a", "--delete", src + "/",
                                       os.path.join(root, "tree") + "/"]))
    check(target, ref, "tree", source=src)
    change_source(src)
    both(target, ref, lambda root: sh(["rsync", "-a", "--delete", src + "/",
                                       os.path.join(root, "tree") + "/"]))
    check(target, ref, "tree", source=src)


def test_rsync_second_pass_sends_only_changes(target, ref, src):
    """rsync's quick check (size + mtime) must see unchanged files as
    unchanged on the mount, or every publish re-uploads everything."""
    need("rsync")
    dest = lambda root: os.path.join(root, "tree") + "/"  # noqa: E731
    out = {}
    for name, root in (("local", ref), (target.kind, target.root)):
        sh(["rsync", "-a", "--delete", src + "/", dest(root)])
    change_source(src)
    for name, root in (("local", ref), (target.kind, target.root)):
        out[name] = transferred(sh(["rsync", "-a", "--delete", "-i", src + "/", dest(root)]))
    assert out["local"] == sorted(["a/added2.bin", "a/b/4096.bin", "new/dir/added.txt",
                                   "top.txt"]), out["local"]
    assert out[target.kind] == out["local"], (
        "second rsync pass sent %s, local disk only %s%s" % (out[target.kind], out["local"],
                                                             target.diag()))
    third = transferred(sh(["rsync", "-a", "--delete", "-i", src + "/", dest(target.root)]))
    assert third == [], "an rsync with nothing changed sent %s%s" % (third, target.diag())
    check(target, ref, "tree", source=src)


def test_rsync_delta_transfer_of_a_modified_large_file(target, ref, tmp_path):
    need("rsync")
    s = str(tmp_path / "dsrc")
    rnd = random.Random(11)
    data = bytearray(rnd.randbytes(12 * MIB + 5))
    write(os.path.join(s, "big.bin"), bytes(data), 0o644, OLD)
    both(target, ref, lambda root: sh(["rsync", "-a", s + "/", os.path.join(root, "d") + "/"]))
    # Change a few bytes in the middle, insert some near the start, append.
    data[6 * MIB:6 * MIB + 100] = rnd.randbytes(100)
    data[1000:1000] = b"inserted"
    data += b"tail" * 1000
    write(os.path.join(s, "big.bin"), bytes(data), 0o644, OLD + 60)
    stats = {}

    def run(root):
        stats[root] = sh(["rsync", "-a", "--no-whole-file", "--stats", s + "/",
                          os.path.join(root, "d") + "/"])

    both(target, ref, run)
    for root, text in stats.items():
        matched = [line for line in text.splitlines() if line.startswith("Matched data:")]
        assert matched and int(matched[0].split()[2].replace(",", "")) > 6 * MIB, (
            "rsync did not use delta transfer on %s:\n%s" % (root, text))
    check(target, ref, "d", source=s)


# ------------------------------------------------------------ install
def test_install_modes_and_over_existing(target, ref, src):
    def run(root):
        d = os.path.join(root, "inst")
        sh(["install", "-d", "-m", "0750", d])
        sh(["install", "-m", "0640", os.path.join(src, "top.txt"), os.path.join(d, "top.txt")])
        sh(["install", "-D", "-m", "0755", os.path.join(src, "a/b/c/deep.sh"),
            os.path.join(d, "bin/sub/deep.sh")])
        # install over an existing file (it unlinks, then creates).
        sh(["install", "-m", "0600", os.path.join(src, "a/b/4096.bin"), os.path.join(d, "top.txt")])
        # install -p keeps the mtime.
        sh(["install", "-p", "-m", "0644", os.path.join(src, "a/b/c/1m+3.bin"),
            os.path.join(d, "kept-mtime.bin")])

    both(target, ref, run)
    check(target, ref, "inst", mtimes=False)
    st = os.stat(target.path("inst/kept-mtime.bin"))
    assert int(st.st_mtime) == int(os.stat(os.path.join(src, "a/b/c/1m+3.bin")).st_mtime), \
        "install -p did not keep the mtime" + target.diag()


# ------------------------------------------------------------ tar
def test_tar_x_nested_dirs_and_symlinks(target, ref, src, tmp_path):
    archive = str(tmp_path / "tree.tar")
    sh(["tar", "-cf", archive, "-C", src, "."])

    def run(root):
        d = os.path.join(root, "untar")
        os.mkdir(d)
        sh(["tar", "-xf", archive, "-C", d])

    both(target, ref, run)
    check(target, ref, "untar", source=src)
    # tar -x over an existing tree (it unlinks and recreates files/symlinks).
    both(target, ref, lambda root: sh(["tar", "-xf", archive, "-C", os.path.join(root, "untar")]))
    check(target, ref, "untar", source=src)


# ------------------------------------------------------------ mv
def test_mv_rename_cross_device_and_force_over_existing(target, ref, src, tmp_path):
    def run(root):
        stage = str(tmp_path / ("stage-" + os.path.basename(root.rstrip("/"))))
        shutil.rmtree(stage, ignore_errors=True)
        sh(["cp", "-a", src, stage])
        d = os.path.join(root, "mv")
        os.mkdir(d)
        # From local disk into the target: copy + unlink (another filesystem).
        sh(["mv", os.path.join(stage, "top.txt"), os.path.join(d, "top.txt")])
        sh(["mv", os.path.join(stage, "a"), os.path.join(d, "a")])
        # Inside the target: rename of a file and of a directory with contents.
        sh(["mv", os.path.join(d, "top.txt"), os.path.join(d, "renamed.txt")])
        sh(["mv", os.path.join(d, "a/b"), os.path.join(d, "b-moved")])
        # mv -f over an existing file (atomic replace), keeping the mtime.
        write(os.path.join(d, "victim.txt"), b"old victim\n")
        write(os.path.join(d, "winner.txt"), b"new content\n", 0o640, OLD + 42)
        sh(["mv", "-f", os.path.join(d, "winner.txt"), os.path.join(d, "victim.txt")])
        sh(["mv", "-f", os.path.join(stage, "pool/main/h/hello/hello_1.0_amd64.deb"),
            os.path.join(d, "renamed.txt")])

    both(target, ref, run)
    check(target, ref, "mv")
    assert not os.path.exists(target.path("mv/winner.txt"))
    with open(target.path("mv/victim.txt"), "rb") as f:
        assert f.read() == b"new content\n"


# ------------------------------------------------------------ shell
def test_shell_redirection_truncate_and_append(target, ref):
    script = ("set -e; printf 'one\\n' > f; printf 'two\\n' >> f; seq 1 20000 > g; "
              "printf 'short' > g; cat f g >> h; cat f >> h; : > empty; "
              "printf 'x' > f; printf 'y' >> f")

    def run(root):
        d = os.path.join(root, "sh")
        os.mkdir(d)
        sh(["sh", "-c", script], cwd=d)

    both(target, ref, run)
    check(target, ref, "sh", mtimes=False)
    with open(target.path("sh/f"), "rb") as f:
        assert f.read() == b"xy"
    with open(target.path("sh/g"), "rb") as f:
        assert f.read() == b"short"
