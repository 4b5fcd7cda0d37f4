// The FUSE layer through the real kernel: a Filesystem over a
// FakeObjectClient mounted with FuseServer at a temporary directory, used
// with ordinary syscalls, then unmounted with fusermount3 -u (always, also
// when a test fails). Skipped when /dev/fuse cannot be used.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "fs/filesystem.h"
#include "fuse/fuse_server.h"
#include "s3/fake_object_client.h"

namespace repofs::fuse {
namespace {

bool IsMounted(const std::string& mountpoint) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    if (line.find(" " + mountpoint + " ") != std::string::npos) return true;
  }
  return false;
}

class FuseMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "/dev/fuse is not usable here";
    }
    char dir_template[] = "/tmp/repofs-fuse-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    mountpoint_ = dir_template;
    fake_ = std::make_shared<FakeObjectClient>();
    fake_->PutForTest("hello.txt", "hello, world\n");
    std::string big(3 * 1024 * 1024 + 5, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
    big_ = big;
    fake_->PutForTest("pool/main/big.deb", big_);
    fake_->PutForTest("pool/main/small.deb", "x",
                      {{"mode", "33261"}, {"mtime", "1600000000"}});
    fake_->PutForTest("dists/stable", "bookworm", {{"mode", "41471"}});
    fake_->PutForTest("dists/bookworm/InRelease", "release");
    fake_->PutForTest("with space/a+b%c.txt", "odd");

    small_ = std::string(4096, '\0');
    for (size_t i = 0; i < small_.size(); ++i) {
      small_[i] = static_cast<char>('a' + (i * 7 + i / 64) % 26);
    }
    fake_->PutForTest("f4k", small_);

    FsOptions options;
    options.uid = getuid();
    options.gid = getgid();
    options.read_only = ReadOnly();
    fs_ = std::make_unique<fs::Filesystem>(fake_, options);
    FuseMountOptions mount;
    mount.mountpoint = mountpoint_;
    mount.fsname = "repofs:test,bucket";
    mount.read_only = ReadOnly();
    mount.max_threads = 4;
    auto server = FuseServer::Mount(mount);
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    loop_ = std::thread([this] { run_status_ = server_->Run(*fs_); });
  }

  void TearDown() override {
    if (mountpoint_.empty()) return;
    if (IsMounted(mountpoint_)) {
      std::string cmd = "fusermount3 -u " + mountpoint_ + " 2>/dev/null";
      if (std::system(cmd.c_str()) != 0) {
        cmd = "fusermount3 -u -z " + mountpoint_;
        EXPECT_EQ(std::system(cmd.c_str()), 0);
      }
    }
    if (loop_.joinable()) loop_.join();
    EXPECT_EQ(run_status_, 0);
    server_.reset();
    fs_.reset();
    EXPECT_FALSE(IsMounted(mountpoint_));
    rmdir(mountpoint_.c_str());
  }

  // `ro` mount + FsOptions::read_only (the no-open mode) when true.
  virtual bool ReadOnly() const { return false; }

  std::string Path(const std::string& rel) const {
    return mountpoint_ + "/" + rel;
  }
  // The server's request counts once every open file was released and
  // nothing arrived for 100 ms (bounded: 5 s). In no-open mode (ReadOnly())
  // there are no RELEASEs to wait for.
  std::map<std::string, uint64_t> WaitQuiet() {
    auto counts = server_->RequestCounts();
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto now = server_->RequestCounts();
      if (now == counts && (ReadOnly() || now["open"] == now["release"])) {
        break;
      }
      counts = now;
    }
    return counts;
  }

  // One nginx-style request: open(O_RDONLY|O_NONBLOCK), fstat, read to EOF
  // (sendfile reads the page cache), close. Returns the bytes read.
  std::string Serve(const std::string& rel) {
    std::string body;
    int fd = open(Path(rel).c_str(), O_RDONLY | O_NONBLOCK);
    EXPECT_GE(fd, 0) << rel << ": " << strerror(errno);
    if (fd < 0) return body;
    struct stat st {};
    EXPECT_EQ(fstat(fd, &st), 0);
    body.resize(static_cast<size_t>(st.st_size) + 1);
    size_t done = 0;
    for (int guard = 0; guard < 100000; ++guard) {
      ssize_t n = pread(fd, body.data() + done, body.size() - done, done);
      EXPECT_GE(n, 0) << strerror(errno);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
      if (done == body.size()) body.resize(body.size() * 2);
    }
    close(fd);
    body.resize(done);
    return body;
  }

  uint64_t Count(const std::string& op) const {
    auto counts = fake_->RequestCounts();
    return counts.count(op) ? counts[op] : 0;
  }

  std::string mountpoint_;
  std::string big_;
  std::string small_;  // "f4k": the 4 KiB file of the nginx benchmark
  std::shared_ptr<FakeObjectClient> fake_;
  std::unique_ptr<fs::Filesystem> fs_;
  std::unique_ptr<FuseServer> server_;
  std::thread loop_;
  int run_status_ = -1;
};

TEST_F(FuseMountTest, StatReadListThroughTheKernel) {
  struct stat st {};
  ASSERT_EQ(stat(Path("hello.txt").c_str(), &st), 0) << strerror(errno);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 13);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  const uint64_t heads = Count("HeadObject");
  struct stat again {};
  ASSERT_EQ(stat(Path("hello.txt").c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, st.st_ino);
  EXPECT_EQ(Count("HeadObject"), heads) << "kernel caches the entry";

  std::ifstream in(Path("hello.txt"));
  std::stringstream body;
  body << in.rdbuf();
  EXPECT_EQ(body.str(), "hello, world\n");

  // A 3 MiB file read with pread in 1 MiB + odd chunks: full length always.
  int fd = open(Path("pool/main/big.deb").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::string got(big_.size(), '\0');
  size_t done = 0;
  while (done < got.size()) {
    ssize_t n = pread(fd, got.data() + done, 1000003, done);
    ASSERT_GT(n, 0);
    done += n;
  }
  EXPECT_EQ(pread(fd, got.data(), 10, done), 0);
  close(fd);
  EXPECT_TRUE(got == big_);

  // readdir (READDIRPLUS) inode numbers agree with stat.
  DIR* dir = opendir(Path("pool/main").c_str());
  ASSERT_NE(dir, nullptr);
  std::map<std::string, ino_t> listed;
  while (dirent* e = readdir(dir)) listed[e->d_name] = e->d_ino;
  closedir(dir);
  ASSERT_EQ(listed.size(), 4u);
  struct stat small {};
  ASSERT_EQ(stat(Path("pool/main/small.deb").c_str(), &small), 0);
  EXPECT_EQ(listed["small.deb"], small.st_ino);
  EXPECT_EQ(small.st_mode, S_IFREG | 0755u);
  EXPECT_EQ(small.st_mtime, 1600000000);

  char target[64] = {};
  ASSERT_EQ(readlink(Path("dists/stable").c_str(), target, sizeof(target)), 8);
  EXPECT_STREQ(target, "bookworm");
  std::ifstream via_link(Path("dists/stable/InRelease"));
  std::string release;
  via_link >> release;
  EXPECT_EQ(release, "release");

  ASSERT_EQ(stat(Path("with space/a+b%c.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 3);
}

// What a warm nginx request costs: open(O_RDONLY|O_NONBLOCK), fstat, read
// (sendfile), close. After the first request only OPEN and RELEASE reach
// the daemon: entries and attributes are cached for metadata_ttl, pages
// are kept (keep_cache), close sends no FLUSH (noflush), and no S3 request
// is made.
TEST_F(FuseMountTest, WarmRequestCostsOnlyOpenAndRelease) {
  auto serve = [&](const std::string& rel, size_t expect) {
    int fd = open(Path(rel).c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(fd, 0);
    struct stat st {};
    ASSERT_EQ(fstat(fd, &st), 0);
    ASSERT_EQ(static_cast<size_t>(st.st_size), expect);
    std::string buf(expect + 1, '\0');
    size_t done = 0;
    while (done < expect) {
      ssize_t n = pread(fd, buf.data() + done, 1 << 20, done);
      ASSERT_GT(n, 0);
      done += n;
    }
    close(fd);
  };
  // Another process dropping cached pages (drop_caches by a cold-read
  // benchmark on this machine, reclaim) forces READs now and then: require
  // one clean window out of a few. Without keep_cache every open would drop
  // the pages and every attempt would READ the whole file 50 times.
  bool measured = false;
  for (int attempt = 0; attempt < 5 && !measured; ++attempt) {
    serve("pool/main/big.deb", big_.size());  // cold: fills the page cache
    // After READs the kernel marks atime stale (unless the mount is "ro"),
    // so the next fstat costs one GETATTR; warm requests after that do not.
    serve("pool/main/big.deb", big_.size());
    // RELEASE (and async read-ahead) reach the daemon after close()
    // returns: let the previous requests land outside the window.
    const auto before = WaitQuiet();
    const auto s3_before = fake_->RequestCounts();
    for (int i = 0; i < 50; ++i) serve("pool/main/big.deb", big_.size());
    auto after = WaitQuiet();
    const auto s3_after = fake_->RequestCounts();
    for (const auto& [op, n] : before) after[op] -= n;
    EXPECT_EQ(after["open"], 50u);
    EXPECT_EQ(after["release"], 50u);
    EXPECT_EQ(after["flush"], 0u) << "noflush";
    EXPECT_EQ(after["lookup"], 0u) << "entry_timeout";
    if (after["read"] != 0) {
      std::cerr << "attempt " << attempt << ": " << after["read"]
                << " READs (pages dropped by someone?), retrying\n";
      continue;
    }
    measured = true;
    EXPECT_EQ(after["getattr"], 0u) << "attr_timeout";
    EXPECT_EQ(s3_after, s3_before) << "no S3 request";
  }
  EXPECT_TRUE(measured) << "READs in every window: keep_cache broken?";
  // The kernel may read ahead up to 1 MiB (bdi read_ahead_kb raised).
  struct stat mnt {};
  ASSERT_EQ(stat(mountpoint_.c_str(), &mnt), 0);
  std::ifstream ra("/sys/class/bdi/" + std::to_string(major(mnt.st_dev)) + ":" +
                   std::to_string(minor(mnt.st_dev)) + "/read_ahead_kb");
  int kb = 0;
  ASSERT_TRUE(ra >> kb) << "no bdi for the mount";
  if (getuid() == 0) {
    EXPECT_EQ(kb, 1024) << "raised in INIT (root only)";
  }
}

TEST_F(FuseMountTest, ErrorsAndRefusals) {
  struct stat st {};
  EXPECT_EQ(stat(Path("missing").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(link(Path("hello.txt").c_str(), Path("h2").c_str()), -1);
  EXPECT_EQ(errno, EPERM);
  char value[16];
  EXPECT_EQ(getxattr(Path("hello.txt").c_str(), "security.capability", value,
                     sizeof(value)),
            -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_EQ(setxattr(Path("hello.txt").c_str(), "user.x", "1", 1, 0), -1);
  EXPECT_EQ(errno, EOPNOTSUPP);
  struct statvfs vfs {};
  ASSERT_EQ(statvfs(mountpoint_.c_str(), &vfs), 0);
  EXPECT_EQ(vfs.f_namemax, 255u);
  EXPECT_GT(vfs.f_bavail, 0u);
  std::ifstream mounts("/proc/mounts");
  std::string all((std::istreambuf_iterator<char>(mounts)),
                  std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("repofs:test,bucket " + mountpoint_ + " fuse.repofs"),
            std::string::npos);
}

// A read-write mount keeps OPEN/RELEASE (the write path needs per-handle
// state): no-open mode is for read-only mounts only.
TEST_F(FuseMountTest, ReadWriteMountStillOpensAndReleases) {
  EXPECT_EQ(Serve("f4k"), small_);
  EXPECT_EQ(Serve("f4k"), small_);
  auto counts = WaitQuiet();
  EXPECT_EQ(counts["open"], 2u);
  EXPECT_EQ(counts["release"], 2u);
  EXPECT_EQ(fs_->OpenFileCount(), 0u);
  EXPECT_EQ(fs_->InodeReaderCount(), 0u) << "reads went through handles";
}

// `ro` mount: the kernel's no-open mode.
class FuseReadOnlyMountTest : public FuseMountTest {
 protected:
  bool ReadOnly() const override { return true; }
};

// The first OPEN is answered ENOSYS; after that the kernel opens files by
// itself (keep_cache), never sends OPEN or RELEASE, and READs arrive with
// fh 0 (Filesystem::ReadInode): byte-exact, directories still work.
TEST_F(FuseReadOnlyMountTest, NoOpenModeReadsByInode) {
  EXPECT_EQ(Serve("f4k"), small_);
  EXPECT_TRUE(Serve("pool/main/big.deb") == big_);
  // 3 MiB read in odd-sized preads at odd offsets, all with fh 0.
  int fd = open(Path("pool/main/big.deb").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::string got(big_.size(), '\0');
  size_t done = 0;
  for (int guard = 0; guard < 1000 && done < got.size(); ++guard) {
    ssize_t n = pread(fd, got.data() + done, 777777, done);
    ASSERT_GT(n, 0);
    done += n;
  }
  close(fd);
  EXPECT_TRUE(got == big_);
  EXPECT_EQ(Serve("hello.txt"), "hello, world\n");

  DIR* dir = opendir(Path("pool/main").c_str());  // OPENDIR as before
  ASSERT_NE(dir, nullptr);
  int entries = 0;
  while (readdir(dir) != nullptr) ++entries;
  closedir(dir);
  EXPECT_EQ(entries, 4);

  EXPECT_EQ(open(Path("hello.txt").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EROFS);

  auto counts = WaitQuiet();
  EXPECT_GE(counts["open"], 1u) << "the first OPEN, answered ENOSYS";
  EXPECT_LE(counts["open"], 2u) << "later opens never reach the daemon";
  EXPECT_EQ(counts["release"], 0u);
  EXPECT_LE(counts["flush"], 1u) << "FLUSH answered ENOSYS once";
  EXPECT_GT(counts["read"], 0u);
  EXPECT_EQ(counts["opendir"], 1u);
  EXPECT_EQ(counts["releasedir"], 1u);
  EXPECT_EQ(fs_->OpenFileCount(), 0u) << "no handles in no-open mode";
  EXPECT_GE(fs_->InodeReaderCount(), 2u) << "per-inode readers served READs";
}

// A `ro` mount refuses every modification with EROFS.
TEST_F(FuseReadOnlyMountTest, WritesRefused) {
  EXPECT_EQ(open(Path("hello.txt").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(open(Path("new.txt").c_str(), O_WRONLY | O_CREAT, 0644), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(mkdir(Path("d").c_str(), 0755), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(unlink(Path("hello.txt").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
}

// A read-write mount over the fake store: create, write, close, read back.
TEST_F(FuseMountTest, WritesReachTheStoreAtClose) {
  int fd = open(Path("new.txt").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
  ASSERT_GE(fd, 0) << strerror(errno);
  ASSERT_EQ(write(fd, "written", 7), 7);
  EXPECT_FALSE(fake_->BodyForTest("new.txt").has_value()) << "not before close";
  ASSERT_EQ(close(fd), 0);
  EXPECT_EQ(fake_->BodyForTest("new.txt").value_or(""), "written");
  EXPECT_EQ(Serve("new.txt"), "written");
  struct stat st {};
  ASSERT_EQ(stat(Path("new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 7);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

// What a warm nginx request costs on a `ro` mount: nothing. open, fstat,
// read (page cache, keep_cache), close send no request at all: no OPEN /
// RELEASE (no-open mode), no FLUSH (ENOSYS once), no LOOKUP / GETATTR
// (entry and attr timeouts, no atime on ro), and no S3 request.
TEST_F(FuseReadOnlyMountTest, WarmRequestCostsNoRoundTrip) {
  // As in WarmRequestCostsOnlyOpenAndRelease: pages dropped by another
  // process force READs now and then; require one clean window.
  bool measured = false;
  for (int attempt = 0; attempt < 5 && !measured; ++attempt) {
    ASSERT_EQ(Serve("f4k"), small_);  // cold (first: OPEN/FLUSH -> ENOSYS)
    ASSERT_EQ(Serve("f4k"), small_);
    const auto before = WaitQuiet();
    const auto s3_before = fake_->RequestCounts();
    int exact = 0;
    for (int i = 0; i < 200; ++i) exact += Serve("f4k") == small_ ? 1 : 0;
    const auto after = WaitQuiet();
    const auto s3_after = fake_->RequestCounts();
    EXPECT_EQ(exact, 200) << "byte-exact content";
    std::map<std::string, uint64_t> sent;
    for (const auto& [op, n] : after) {
      auto it = before.find(op);
      uint64_t delta = n - (it == before.end() ? 0 : it->second);
      if (delta != 0) sent[op] = delta;
    }
    if (sent.size() == 1 && sent.count("read")) {
      std::cerr << "attempt " << attempt << ": " << sent["read"]
                << " READs (pages dropped by someone?), retrying\n";
      continue;
    }
    measured = true;
    EXPECT_TRUE(sent.empty()) << "requests in 200 warm cycles: " << [&] {
      std::string all;
      for (const auto& [op, n] : sent) all += op + "=" + std::to_string(n) + " ";
      return all;
    }();
    EXPECT_EQ(s3_after, s3_before) << "no S3 request";
  }
  EXPECT_TRUE(measured) << "READs in every window: keep_cache broken?";
  EXPECT_EQ(fs_->OpenFileCount(), 0u);
}

TEST(FuseServerTest, MissingMountpoint) {
  FuseMountOptions options;
  options.mountpoint = "/nonexistent/repofs-mnt";
  auto server = FuseServer::Mount(options);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().errno_value, ENOENT);
  EXPECT_EQ(server.error().message,
            "mountpoint /nonexistent/repofs-mnt: No such file or directory");
}

}  // namespace
}  // namespace repofs::fuse
