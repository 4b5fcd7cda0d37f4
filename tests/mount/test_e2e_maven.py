"""End-to-end Maven repository on a repofs mount, served by nginx.

Real Maven 3.8.7, offline (the recipe of WORKFLOWS.md): the plugins come from
a dereferenced copy of Debian's /usr/share/maven-repo (made once per test
session), every other repository is mirrored to a closed loopback port.

Publishing: `maven-deploy-plugin:3.0.0:deploy-file` to file://$MNT/maven,
mostly through examples/publish/maven.sh (plain and classifier mode):
release 1.0, its -sources jar (a separate call with the main pom), release 1.1
with an attached -sources jar (one direct call, -Dfiles/-Dclassifiers/
-Dtypes), and 1.2-SNAPSHOT deployed twice (timestamped files -1 and -2;
Maven reads maven-metadata.xml back from the mount and rewrites it in place
with O_TRUNC each time). Checked on the mount: both maven-metadata.xml files
parse and say what Maven should have written (versions, <release> 1.1, no
stale <latest>, snapshot buildNumber 2 naming the second deploy's files),
every file's .sha1/.md5 matches it, and the jars are the deployed bytes.

Consuming: nginx serves $MNT/maven with the location blocks of
examples/nginx/maven.conf; `maven-dependency-plugin:3.5.0:get` (five
executions in one Maven run) resolves 1.0, 1.1, 1.2-SNAPSHOT (must be the
newest timestamp) and both -sources jars from http://127.0.0.1:PORT/ into a
fresh, empty local repository, with checksumPolicy=fail (the served
.sha1 files are checked by Maven). The plugin itself still resolves from the
Debian copy, as a file:// plugin repository. The resolved jars are
byte-identical to the deployed ones, and nginx's access log shows they were
served by it.
"""
import hashlib
import os
import re
import socket
import xml.etree.ElementTree as ET
import zipfile

import pytest
from tools import fetch, need, read_bytes, run

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples")
DEBIAN_REPO = "/usr/share/maven-repo"
DEPLOY = "org.apache.maven.plugins:maven-deploy-plugin:3.0.0"
DEPENDENCY = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0"
ARTIFACT = "lib"


@pytest.fixture(scope="session")
def maven_plugins_repo(tmp_path_factory):
    """A dereferenced copy of Debian's Maven repository (its jars are
    symlinks into /usr/share/java), made once per session."""
    need("mvn")
    for plugin in ("maven-deploy-plugin/3.0.0", "maven-dependency-plugin/3.5.0"):
        if not os.path.isdir(os.path.join(DEBIAN_REPO, "org/apache/maven/plugins", plugin)):
            pytest.fail("%s is missing from %s (scripts/packages.txt lists the package)"
                        % (plugin, DEBIAN_REPO))
    copy = str(tmp_path_factory.mktemp("maven") / "repo")
    run(["cp", "-rL", DEBIAN_REPO, copy])
    return copy


@pytest.fixture
def closed_port():
    """A loopback port bound for the whole test but never listening:
    connections to it are refused at once, and nobody else can take it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def write_settings(path, local_repo, closed, extra=""):
    with open(path, "w") as f:
        f.write("""<settings>
  <localRepository>%s</localRepository>
  <offline>false</offline>
  <interactiveMode>false</interactiveMode>
  <mirrors><mirror>
    <id>closed-loopback</id>
    <mirrorOf>*,!remote-repository,!repofs,!debian-copy</mirrorOf>
    <url>http://127.0.0.1:%d/</url>
  </mirror></mirrors>
  %s
</settings>
""" % (local_repo, closed, extra))


def maven_workdir(path, settings):
    """A directory whose .mvn/maven.config makes every `mvn` started in it
    (also by examples/publish/maven.sh) use SETTINGS, in batch mode."""
    os.makedirs(os.path.join(path, ".mvn"))
    with open(os.path.join(path, ".mvn", "maven.config"), "w") as f:
        f.write("-B\n-s\n%s\n" % settings)
    return path


def make_jar(path, label, size=200_000):
    """A zip file with distinct, incompressible content (spans FUSE reads)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("label.txt", label)
        z.writestr("data.bin", os.urandom(size))
    return path


def metadata(path):
    """The parsed maven-metadata.xml at PATH (strict: trailing bytes of an
    older, longer version would make it fail)."""
    return ET.fromstring(read_bytes(path))


def check_checksums(top):
    """Every file under TOP has a .sha1 and a .md5 that match it; returns
    how many files were checked."""
    checked = 0
    for dirpath, _, names in os.walk(top):
        for name in names:
            if name.endswith((".sha1", ".md5")):
                continue
            data = read_bytes(os.path.join(dirpath, name))
            for ext, algo in ((".sha1", hashlib.sha1), (".md5", hashlib.md5)):
                side = os.path.join(dirpath, name + ext)
                assert os.path.exists(side), "%s has no %s" % (name, ext)
                with open(side) as f:
                    want = f.read().split()[0]
                assert want == algo(data).hexdigest(), "%s%s does not match" % (name, ext)
            checked += 1
    return checked


def maven_conf_locations(access_log):
    """The location blocks of examples/nginx/maven.conf, plus an access log."""
    with open(os.path.join(EXAMPLES, "nginx", "maven.conf")) as f:
        text = f.read()
    body = text[text.index("    location "):text.rindex("}")]
    assert "maven-metadata" in body and "autoindex on;" in body
    return "access_log %s;\n%s" % (access_log, body)


CONSUMER_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.repofs.consumer</groupId><artifactId>consumer</artifactId>
  <version>1</version><packaging>pom</packaging>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId>
    <artifactId>maven-dependency-plugin</artifactId><version>3.5.0</version>
    <executions>%s</executions>
  </plugin></plugins></build>
</project>
"""


def consumer_settings_extra(url, plugins_repo):
    """The repository under test (checksums must match, SNAPSHOT metadata
    always refetched) and the Debian copy as the plugin repository."""
    policy = "<checksumPolicy>fail</checksumPolicy><updatePolicy>always</updatePolicy>"
    return """<profiles><profile><id>t</id>
    <repositories><repository><id>repofs</id><url>%s</url>
      <releases>%s</releases><snapshots><enabled>true</enabled>%s</snapshots>
    </repository></repositories>
    <pluginRepositories><pluginRepository><id>debian-copy</id><url>file://%s</url>
      <releases><checksumPolicy>ignore</checksumPolicy></releases>
      <snapshots><enabled>false</enabled></snapshots>
    </pluginRepository></pluginRepositories>
  </profile></profiles>
  <activeProfiles><activeProfile>t</activeProfile></activeProfiles>""" % (
        url, policy, policy, plugins_repo)


def test_maven_deploy_to_mount_and_resolve_through_nginx(prefix, mount_factory, nginx_factory,
                                                         maven_plugins_repo, closed_port,
                                                         tmp_path):
    need("nginx")
    group = "org.repofs.e2e." + re.sub(r"[^a-z0-9]", "", prefix)
    jars = tmp_path / "jars"
    jars.mkdir()
    made = {}  # (version, classifier) -> bytes deployed
    for version, classifier in (("1.0", ""), ("1.0", "sources"), ("1.1", ""), ("1.1", "sources"),
                                ("snap1", ""), ("snap2", "")):
        name = "%s-%s%s.jar" % (ARTIFACT, version, "-" + classifier if classifier else "")
        made[version, classifier] = read_bytes(make_jar(str(jars / name), name))
    # maven.sh takes the packaging from the file name: the snapshots need .jar.
    for n in ("1", "2"):
        os.makedirs(str(jars / ("snap" + n)))
        os.rename(str(jars / ("lib-snap%s.jar" % n)),
                  str(jars / ("snap" + n) / "lib-1.2-SNAPSHOT.jar"))

    m = mount_factory(prefix)
    repo_url = "file://" + m.path("maven")
    settings = str(tmp_path / "settings-publish.xml")
    write_settings(settings, maven_plugins_repo, closed_port)
    publisher = maven_workdir(str(tmp_path / "publisher"), settings)
    script_env = dict(os.environ, MNT=m.dir, PLUGIN=DEPLOY)

    def publish(*args):
        out = run([os.path.join(EXAMPLES, "publish", "maven.sh"), *args], env=script_env,
                  cwd=publisher)
        assert "deployed %s to %s/maven" % (":".join(args[1:]), m.dir) in out, out

    coords = "%s:%s:" % (group, ARTIFACT)
    publish(str(jars / "lib-1.0.jar"), coords + "1.0")
    publish(str(jars / "lib-1.0-sources.jar"), coords + "1.0", "sources")
    run(["mvn", "-q", DEPLOY + ":deploy-file", "-Durl=" + repo_url,
         "-Dfile=" + str(jars / "lib-1.1.jar"), "-DgroupId=" + group, "-DartifactId=" + ARTIFACT,
         "-Dversion=1.1", "-Dpackaging=jar", "-DgeneratePom=true",
         "-Dfiles=" + str(jars / "lib-1.1-sources.jar"), "-Dclassifiers=sources", "-Dtypes=jar"],
        cwd=publisher)
    adir = m.path("maven/%s/%s" % (group.replace(".", "/"), ARTIFACT))
    snapdir = os.path.join(adir, "1.2-SNAPSHOT")
    publish(str(jars / "snap1/lib-1.2-SNAPSHOT.jar"), coords + "1.2-SNAPSHOT")
    first_snapshot_md = read_bytes(os.path.join(snapdir, "maven-metadata.xml"))
    publish(str(jars / "snap2/lib-1.2-SNAPSHOT.jar"), coords + "1.2-SNAPSHOT")

    # What Maven wrote on the mount.
    for version, classifier in (("1.0", ""), ("1.0", "sources"), ("1.1", ""), ("1.1", "sources")):
        name = "%s-%s%s.jar" % (ARTIFACT, version, "-" + classifier if classifier else "")
        assert read_bytes(os.path.join(adir, version, name)) == made[version, classifier], name
    for version in ("1.0", "1.1"):
        pom = metadata(os.path.join(adir, version, "%s-%s.pom" % (ARTIFACT, version)))
        assert pom.findtext("{http://maven.apache.org/POM/4.0.0}version") == version
    md = metadata(os.path.join(adir, "maven-metadata.xml"))
    assert (md.findtext("groupId"), md.findtext("artifactId")) == (group, ARTIFACT)
    assert [v.text for v in md.findall("versioning/versions/version")] == [
        "1.0", "1.1", "1.2-SNAPSHOT"]
    assert md.findtext("versioning/release") == "1.1"
    # Maven 3.8.7 (resolver 1.6.3) writes no <latest> for deploy-file (the
    # same on a local disk); a newer one would name the last deployed version.
    assert md.findtext("versioning/latest") in (None, "1.2-SNAPSHOT")
    assert re.fullmatch(r"\d{14}", md.findtext("versioning/lastUpdated") or "")

    snap_md = metadata(os.path.join(snapdir, "maven-metadata.xml"))
    assert snap_md.findtext("versioning/snapshot/buildNumber") == "2"
    stamp = snap_md.findtext("versioning/snapshot/timestamp")
    newest = "%s-1.2-%s-2" % (ARTIFACT, stamp)
    assert {(v.findtext("extension"), v.findtext("value"))
            for v in snap_md.findall("versioning/snapshotVersions/snapshotVersion")} == {
        ("jar", "1.2-%s-2" % stamp), ("pom", "1.2-%s-2" % stamp)}
    assert read_bytes(os.path.join(snapdir, newest + ".jar")) == made["snap2", ""]
    older = [n for n in os.listdir(snapdir) if re.fullmatch(r"lib-1\.2-[0-9.]+-1\.jar", n)]
    assert len(older) == 1, sorted(os.listdir(snapdir))
    assert read_bytes(os.path.join(snapdir, older[0])) == made["snap1", ""]
    assert first_snapshot_md != read_bytes(os.path.join(snapdir, "maven-metadata.xml"))
    # jars, poms and both metadata files (rewritten in place): 4 jars + 2 poms
    # + 2 snapshot jars + 2 snapshot poms + 2 metadata files.
    assert check_checksums(adir) == 12

    # Served by nginx with examples/nginx/maven.conf.
    access_log = str(tmp_path / "access.log")
    nginx = nginx_factory(m.path("maven"), maven_conf_locations(access_log))
    apath = "%s/%s/" % (group.replace(".", "/"), ARTIFACT)
    status, headers, body = fetch(nginx.url(apath + "maven-metadata.xml"))
    assert status == 200 and body == read_bytes(os.path.join(adir, "maven-metadata.xml"))
    assert headers.get("Cache-Control") == "no-cache", headers
    status, headers, body = fetch(nginx.url(apath + "1.0/lib-1.0.jar"))
    assert body == made["1.0", ""] and headers.get("Cache-Control") == "max-age=604800", headers

    # Resolved through nginx into a fresh local repository.
    local = str(tmp_path / "consumer-repo")
    os.makedirs(local)
    settings = str(tmp_path / "settings-consume.xml")
    write_settings(settings, local, closed_port,
                   consumer_settings_extra(nginx.url("/"), maven_plugins_repo))
    consumer = maven_workdir(str(tmp_path / "consumer"), settings)
    wanted = {"r10": "1.0", "r11": "1.1", "snap": "1.2-SNAPSHOT",
              "s10": "1.0:jar:sources", "s11": "1.1:jar:sources"}
    executions = "".join(
        "<execution><id>%s</id><configuration><artifact>%s%s</artifact></configuration>"
        "</execution>" % (eid, coords, spec) for eid, spec in wanted.items())
    with open(os.path.join(consumer, "pom.xml"), "w") as f:
        f.write(CONSUMER_POM % executions)
    out = run(["mvn", *["%s:get@%s" % (DEPENDENCY, eid) for eid in wanted]], cwd=consumer)
    assert out.count("BUILD SUCCESS") == 1 and "Checksum validation failed" not in out.replace(
        "no checksums available from debian-copy", ""), out[-4000:]

    ldir = os.path.join(local, group.replace(".", "/"), ARTIFACT)
    for version, classifier in (("1.0", ""), ("1.0", "sources"), ("1.1", ""), ("1.1", "sources")):
        name = "%s-%s%s.jar" % (ARTIFACT, version, "-" + classifier if classifier else "")
        assert read_bytes(os.path.join(ldir, version, name)) == made[version, classifier], name
        with open(os.path.join(ldir, version, "_remote.repositories")) as f:
            assert "%s>repofs=" % name in f.read()
    got_snapshot = read_bytes(os.path.join(ldir, "1.2-SNAPSHOT", "lib-1.2-SNAPSHOT.jar"))
    assert got_snapshot == made["snap2", ""], "the SNAPSHOT is not the newest deployed one"
    snap_files = os.listdir(os.path.join(ldir, "1.2-SNAPSHOT"))
    assert newest + ".jar" in snap_files and older[0] not in snap_files, snap_files
    assert read_bytes(os.path.join(ldir, "1.2-SNAPSHOT", newest + ".jar")) == made["snap2", ""]

    with open(access_log) as f:
        log = f.read()
    for path in ("1.0/lib-1.0.jar", "1.0/lib-1.0-sources.jar", "1.1/lib-1.1.jar",
                 "1.1/lib-1.1-sources.jar", "1.1/lib-1.1.jar.sha1",
                 "1.2-SNAPSHOT/maven-metadata.xml", "1.2-SNAPSHOT/%s.jar" % newest):
        assert re.search(r'"GET /%s%s HTTP/1\.1" 200 ' % (re.escape(apath), re.escape(path)),
                         log), "nginx did not serve %s:\n%s" % (path, log[-3000:])
