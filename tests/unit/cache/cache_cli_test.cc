// `repofs cache` core: argument parsing (exit 2 with one line), stats (also
// of a dir mounted by another process), verify with and without a progress
// bar, prune to a size, clear, and refusal of a dir in use.
#include "cache/cache_cli.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "cache/cache_admin.h"
#include "cache/version_id.h"
#include "cache_test_util.h"
#include "daemon/cache_command.h"

namespace repofs::cache {
namespace {

using testing::kKiB;
using testing::kMiB;
using testing::MakeObject;
using testing::MustOpen;
using testing::SmallOptions;
using testing::TempDir;
using testing::TestObject;

struct CliRun {
  int code;
  std::string out, err;
};

CliRun RunCli(const std::vector<std::string>& args, bool progress = false) {
  std::ostringstream out, err;
  int code = RunCacheCommandArgs(args, out, err, progress);
  return CliRun{code, out.str(), err.str()};
}

// A cache with `blocks` blocks of 64 KiB of one object, plus some lookups.
TestObject Populate(const std::string& dir, uint64_t blocks) {
  TestObject obj = MakeObject("pop", blocks * 64 * kKiB, 77);
  auto cache = MustOpen(SmallOptions(dir));
  for (uint64_t n = 0; n < blocks; ++n)
    cache->Insert(obj.ref(), n, obj.Block(n, 64 * kKiB));
  for (uint64_t n = 0; n < 3; ++n) cache->Lookup(obj.ref(), n);  // 3 hits
  cache->Lookup(MakeObject("other", 10, 1).ref(), 0);            // 1 miss
  return obj;
}

TEST(CacheCliTest, ParsesOptions) {
  auto command = ParseCacheCommand(
      {"prune", "-o", "cache_dir=/x,cache_size=2G", "-ocache_min_free=1M"});
  ASSERT_TRUE(command.has_value()) << command.error().message;
  EXPECT_EQ(command->action, CacheCommand::Action::kPrune);
  EXPECT_EQ(command->dir, "/x");
  EXPECT_EQ(command->max_bytes, 2ull << 30);
  EXPECT_EQ(command->min_free_bytes, 1ull << 20);
}

TEST(CacheCliTest, BadUsageIsOneLineAndExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"explode", "-o", "cache_dir=/x"},
      {"stats"},
      {"stats", "-o"},
      {"stats", "/x"},
      {"stats", "-o", "cache_dir=/x,colour=blue"},
      {"prune", "-o", "cache_dir=/x,cache_size=lots"},
      {"stats", "-o", "cache_dir="},
  };
  for (const auto& args : bad) {
    CliRun run = RunCli(args);
    EXPECT_EQ(run.code, 2) << ::testing::PrintToString(args);
    EXPECT_EQ(run.err.rfind("repofs cache: ", 0), 0u) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_TRUE(run.out.empty());
  }
}

TEST(CacheCliTest, StatsReportsSizeBlocksObjectsAndHitRatio) {
  TempDir tmp;
  Populate(tmp.cache_dir(), 10);
  CliRun run = RunCli({"stats", "-o", "cache_dir=" + tmp.cache_dir()});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("(655360 bytes;"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("blocks:     10 of 64.0 KiB"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("objects:    1\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("hit ratio:  75.0% (3 hits, 1 misses)"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("in use"), std::string::npos);
}

TEST(CacheCliTest, StatsOfAMissingCacheFails) {
  TempDir tmp;
  CliRun run = RunCli({"stats", "-o", "cache_dir=" + tmp.path() + "/none"});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("no repofs cache in"), std::string::npos);
}

TEST(CacheCliTest, VerifyFindsBadBlocksWithProgressOnlyWhenAsked) {
  TempDir tmp;
  TestObject obj = Populate(tmp.cache_dir(), 200);
  CliRun quiet = RunCli({"verify", "-o", "cache_dir=" + tmp.cache_dir()});
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "verified 200 blocks: 0 bad (dropped)\n");
  EXPECT_TRUE(quiet.err.empty());
  // Corrupt one block.
  std::string hex = VersionId::Of(obj.key, obj.etag).Hex();
  std::string path = tmp.cache_dir() + "/data/" + hex.substr(0, 2) + "/" + hex;
  FILE* f = fopen(path.c_str(), "r+");
  ASSERT_NE(f, nullptr);
  fseek(f, 7 * 64 * 1024 + 5, SEEK_SET);
  fputc('!', f);
  fclose(f);
  CliRun bar = RunCli({"verify", "-o", "cache_dir=" + tmp.cache_dir()}, true);
  ASSERT_EQ(bar.code, 0) << bar.err;
  EXPECT_EQ(bar.out, "verified 200 blocks: 1 bad (dropped)\n");
  EXPECT_NE(bar.err.find("\rverify ["), std::string::npos);
  EXPECT_NE(bar.err.find("100% (200/200 blocks)"), std::string::npos);
  // The dir kept its 64 KiB block size (block_size was not guessed).
  auto stats = ReadCacheStats(tmp.cache_dir());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->block_size, 64 * kKiB);
  EXPECT_EQ(stats->blocks, 199u);
}

TEST(CacheCliTest, PruneToASizeAndClear) {
  TempDir tmp;
  Populate(tmp.cache_dir(), 32);  // 2 MiB
  CliRun prune = RunCli(
      {"prune", "-o", "cache_dir=" + tmp.cache_dir() + ",cache_size=1M"});
  ASSERT_EQ(prune.code, 0) << prune.err;
  auto stats = ReadCacheStats(tmp.cache_dir());
  ASSERT_TRUE(stats.has_value());
  EXPECT_LE(stats->bytes, 1 * kMiB);
  EXPECT_GT(stats->blocks, 0u);
  CliRun clear = RunCli({"clear", "-o", "cache_dir=" + tmp.cache_dir()});
  ASSERT_EQ(clear.code, 0) << clear.err;
  stats = ReadCacheStats(tmp.cache_dir());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->blocks, 0u);
  EXPECT_EQ(stats->disk_bytes, 0u);
}

TEST(CacheCliTest, MountedDirAllowsStatsAndRefusesTheRest) {
  TempDir tmp;
  Populate(tmp.cache_dir(), 4);
  int ready[2], stop[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(stop), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // "the mount"
    auto cache = BlockCache::Open(SmallOptions(tmp.cache_dir()));
    char c = cache.has_value() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(stop[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  std::string pid = std::to_string(child);
  CliRun stats = RunCli({"stats", "-o", "cache_dir=" + tmp.cache_dir()});
  EXPECT_EQ(stats.code, 0) << stats.err;
  EXPECT_NE(stats.out.find("(in use by pid " + pid + ")"), std::string::npos)
      << stats.out;
  EXPECT_NE(stats.out.find("blocks:     4 "), std::string::npos);
  for (const char* verb : {"verify", "prune", "clear"}) {
    CliRun run = RunCli({verb, "-o", "cache_dir=" + tmp.cache_dir()});
    EXPECT_EQ(run.code, 1) << verb;
    EXPECT_EQ(run.err, "repofs cache: cache dir " + tmp.cache_dir() +
                           " is in use by another repofs (pid " + pid + ")\n");
  }
  ASSERT_EQ(write(stop[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  // Nothing was cleared behind the mount's back.
  auto after = ReadCacheStats(tmp.cache_dir());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->blocks, 4u);
  for (int fd : {ready[0], ready[1], stop[0], stop[1]}) close(fd);
}

TEST(CacheCliTest, DaemonEntryPointRejectsBadUsage) {
  ::testing::internal::CaptureStderr();
  int code = RunCacheCommand({"frobnicate"});
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err.rfind("repofs cache: unknown subcommand", 0), 0u) << err;
}

}  // namespace
}  // namespace repofs::cache
