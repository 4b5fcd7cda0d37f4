"""Debian repository tooling shared by the end-to-end tests and bench/publish_path:
generated .debs, a throwaway signing key, reprepro with its state on local disk
and --outdir on the mount, and an isolated apt client (no system sources, lists
or archives are touched).

Everything here runs real tools (dpkg-deb, gpg, reprepro, apt-get) and raises
AssertionError with the tool's output when one fails.
"""
import os
import shutil
import subprocess
import tempfile

from tools import run  # noqa: F401 (debrepo.run for callers)


def make_deb(workdir, name, version, payload_bytes=0):
    """Builds NAME_VERSION_all.deb in WORKDIR; PAYLOAD_BYTES of incompressible
    data make it bigger. Returns its path."""
    workdir = str(workdir)
    pkg = os.path.join(workdir, "%s-%s.tree" % (name, version))
    doc = os.path.join(pkg, "usr/share/doc", name)
    os.makedirs(os.path.join(pkg, "DEBIAN"), exist_ok=True)
    os.makedirs(doc, exist_ok=True)
    with open(os.path.join(doc, "README"), "w") as f:
        f.write("%s %s\n" % (name, version))
    if payload_bytes:
        with open(os.path.join(doc, "payload.bin"), "wb") as f:
            f.write(os.urandom(payload_bytes))
    with open(os.path.join(pkg, "DEBIAN/control"), "w") as f:
        f.write("Package: %s\nVersion: %s\nSection: misc\nPriority: optional\n"
                "Architecture: all\nMaintainer: repofs tests <tests@example.org>\n"
                "Description: repofs end-to-end test package\n" % (name, version))
    deb = os.path.join(workdir, "%s_%s_all.deb" % (name, version))
    run(["dpkg-deb", "-Zgzip", "--root-owner-group", "-b", pkg, deb])
    shutil.rmtree(pkg)
    return deb


class SigningKey:
    """A passphrase-less ed25519 key in a private GNUPGHOME on local disk (gpg's
    lock files use hard links, which the mount refuses). The GNUPGHOME is short
    (/tmp/gpg-XXXX) because gpg-agent's socket path has a length limit."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="gpg-", dir="/tmp")
        os.chmod(self.home, 0o700)
        self.env = dict(os.environ, GNUPGHOME=self.home)
        run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
             "--quick-gen-key", "repofs test <tests@example.org>", "ed25519", "sign", "never"],
            env=self.env)
        out = run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=self.env)
        self.fingerprint = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]
        self.keyring = os.path.join(self.home, "repo-keyring.gpg")
        run(["gpg", "--batch", "--yes", "--output", self.keyring, "--export", self.fingerprint],
            env=self.env)

    def close(self):
        subprocess.run(["gpgconf", "--kill", "all"], env=self.env, capture_output=True, timeout=30)
        shutil.rmtree(self.home, ignore_errors=True)


class Reprepro:
    """reprepro with conf/ and db/ in STATE (local disk) and --outdir OUTDIR
    (on the mount), codename bookworm, component main, amd64."""

    def __init__(self, state, outdir, key=None, codename="bookworm"):
        self.state, self.outdir, self.codename = str(state), str(outdir), codename
        self.env = dict(key.env) if key else dict(os.environ)
        os.makedirs(os.path.join(self.state, "conf"), exist_ok=True)
        with open(os.path.join(self.state, "conf/distributions"), "w") as f:
            f.write("Origin: repofs-test\nLabel: repofs-test\nCodename: %s\nSuite: stable\n"
                    "Architectures: amd64\nComponents: main\nDescription: repofs e2e\n"
                    % codename)
            if key:
                f.write("SignWith: %s\n" % key.fingerprint)

    def __call__(self, *args):
        return run(["reprepro", "-b", self.state, "--outdir", self.outdir] + list(args),
                   env=self.env)

    def includedeb(self, *debs):
        return self(*(["includedeb", self.codename] + [str(d) for d in debs]))

    def remove(self, *packages):
        return self(*(["remove", self.codename] + list(packages)))


class AptClient:
    """apt-get with its own sources, lists and archives under WORKDIR, reading
    the repository at URL (signed-by KEYRING, or trusted=yes without one)."""

    def __init__(self, workdir, url, keyring=None, codename="bookworm"):
        self.dir = str(workdir)
        for d in ("lists/partial", "cache/archives/partial", "etc"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        opt = "signed-by=%s" % keyring if keyring else "trusted=yes"
        self.sources = os.path.join(self.dir, "etc/sources.list")
        with open(self.sources, "w") as f:
            f.write("deb [%s] %s %s main\n" % (opt, url, codename))

    def argv(self, *args):
        d = self.dir
        opts = {
            "Dir::Etc::SourceList": self.sources, "Dir::Etc::SourceParts": "/dev/null",
            "Dir::State::Lists": d + "/lists", "Dir::Cache": d + "/cache",
            "Dir::Cache::Archives": d + "/cache/archives", "Debug::NoLocking": "1",
            "APT::Sandbox::User": "root", "Acquire::Languages": "none",
            "APT::Architectures": "amd64", "Acquire::Retries": "0",
        }
        argv = ["apt-get", "-q", "-y"]
        for k, v in opts.items():
            argv += ["-o", "%s=%s" % (k, v)]
        return argv + list(args)

    def update(self):
        return run(self.argv("update"), timeout=300)

    def download(self, *packages):
        """apt-get install --download-only; returns the .deb paths in the archive dir."""
        run(self.argv("install", "--download-only", "--no-install-recommends", *packages),
            timeout=600)
        arch = os.path.join(self.dir, "cache/archives")
        return sorted(os.path.join(arch, n) for n in os.listdir(arch) if n.endswith(".deb"))

    def clear_archives(self):
        arch = os.path.join(self.dir, "cache/archives")
        for n in os.listdir(arch):
            if n.endswith(".deb"):
                os.unlink(os.path.join(arch, n))
