#include "daemon/config.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace repofs::daemon {
namespace {

Result<Config> Parse(std::vector<std::string> args, bool helper = false) {
  return ParseMountArgs(args, helper);
}

TEST(Config, BucketAndPrefix) {
  auto c = Parse({"artifacts:/repos/debian/", "/mnt"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->bucket, "artifacts");
  EXPECT_EQ(c->prefix, "repos/debian/");
  EXPECT_EQ(c->fs.prefix, "repos/debian/");
  EXPECT_EQ(c->s3.bucket, "artifacts");
  EXPECT_EQ(c->mountpoint, "/mnt");
  EXPECT_EQ(c->fsname, "repofs:artifacts:/repos/debian/");
  auto plain = Parse({"artifacts", "/mnt"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->prefix, "");
}

TEST(Config, BadBucketAndUsage) {
  EXPECT_FALSE(Parse({"Bad_Bucket!", "/mnt"}));
  auto usage = Parse({"bucket"});
  ASSERT_FALSE(usage);
  EXPECT_NE(usage.error().message.find("usage:"), std::string::npos);
  EXPECT_FALSE(Parse({"bucket:/a//b", "/mnt"}));
}

TEST(Config, EveryOptionParses) {
  auto c = Parse({"b-1", "/mnt", "-o",
                  "endpoint=http://127.0.0.1:7480,region=eu-west-1,path_style,"
                  "profile=p,credentials_file=/etc/repofs/creds,ca_file=/ca.pem,"
                  "no_verify_tls,storage_class=STANDARD_IA,sse=aws:kms,sse_kms_key_id=k,"
                  "sign_payload,connect_timeout=2s,request_timeout=1m,low_speed_time=10,"
                  "low_speed_limit=100,max_retries=3,max_connections=16,uid=33,gid=34,"
                  "umask=027,file_mode=0640,dir_mode=0750,allow_other,default_permissions,"
                  "ro,metadata_ttl=500ms,negative_ttl=2,attr_source=list,head_parallelism=8,"
                  "readahead_initial=256k,readahead_max=32M,readahead_request_size=4M,"
                  "readahead_parallelism=4,readahead_memory=1G,fuse_threads=8,"
                  "transfer_threads=12,fsname=web,log_level=debug",
                  "-f"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->s3.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(c->s3.region, "eu-west-1");
  EXPECT_TRUE(c->s3.path_style);
  EXPECT_EQ(c->credentials.profile, "p");
  EXPECT_EQ(c->credentials.credentials_file, "/etc/repofs/creds");
  EXPECT_EQ(c->s3.ca_file, "/ca.pem");
  EXPECT_FALSE(c->s3.verify_tls);
  EXPECT_EQ(c->s3.storage_class, "STANDARD_IA");
  EXPECT_EQ(c->s3.sse, "aws:kms");
  EXPECT_EQ(c->s3.sse_kms_key_id, "k");
  EXPECT_TRUE(c->s3.sign_payload);
  EXPECT_EQ(c->s3.connect_timeout_ms, 2000);
  EXPECT_EQ(c->s3.request_timeout_ms, 60000);
  EXPECT_EQ(c->s3.low_speed_time_s, 10);
  EXPECT_EQ(c->s3.low_speed_bytes, 100);
  EXPECT_EQ(c->s3.max_retries, 3);
  EXPECT_EQ(c->s3.max_connections, 16);
  EXPECT_EQ(c->fs.uid, 33u);
  EXPECT_EQ(c->fs.gid, 34u);
  EXPECT_EQ(c->fs.umask, 027u);
  EXPECT_EQ(c->fs.file_mode, 0640u);
  EXPECT_EQ(c->fs.dir_mode, 0750u);
  EXPECT_TRUE(c->allow_other);
  EXPECT_TRUE(c->default_permissions);
  EXPECT_TRUE(c->fs.read_only);
  EXPECT_EQ(c->fs.metadata_ttl.count(), 500);
  EXPECT_EQ(c->fs.negative_ttl.count(), 2000);
  EXPECT_EQ(c->fs.attr_source, AttrSource::kList);
  EXPECT_EQ(c->fs.head_parallelism, 8);
  EXPECT_EQ(c->fs.readahead.initial, 256u << 10);
  EXPECT_EQ(c->fs.readahead.max, 32u << 20);
  EXPECT_EQ(c->fs.readahead.request_size, 4u << 20);
  EXPECT_EQ(c->fs.readahead.parallelism, 4);
  EXPECT_EQ(c->fs.readahead.memory_limit, 1ull << 30);
  EXPECT_EQ(c->fuse_threads, 8);
  EXPECT_EQ(c->transfer_threads, 12);
  EXPECT_EQ(c->fsname, "web");
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_TRUE(c->foreground);
}

TEST(Config, BadOptionsHaveOneLineMessages) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bogus", "unknown option 'bogus'"},
      {"uid=-1", "option 'uid'"},
      {"umask=999", "option 'umask'"},
      {"metadata_ttl=soon", "option 'metadata_ttl'"},
      {"readahead_max=0", "option 'readahead_max'"},
      {"attr_source=xattr", "attr_source must be head or list"},
      {"sse=des", "sse must be"},
      {"endpoint=", "option 'endpoint': needs a value"},
      {"allow_other=yes", "option 'allow_other': option takes no value"},
      {"log_level=loud", "log_level must be"},
      {"max_connections=0", "option 'max_connections'"},
  };
  for (const auto& [opt, expected] : cases) {
    auto c = Parse({"bucket", "/mnt", "-o", opt});
    ASSERT_FALSE(c) << opt;
    EXPECT_NE(c.error().message.find(expected), std::string::npos)
        << opt << " -> " << c.error().message;
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(c.error().errno_value, EINVAL);
  }
}

TEST(Config, FstabOptionsAreIgnoredAndHelperFlagsWork) {
  auto c = Parse({"bucket:/p", "/srv/repo", "-s", "-n", "-o",
                  "rw,_netdev,nofail,noauto,x-systemd.automount,x-systemd.requires=network-online.target,"
                  "defaults,nosuid,nodev,noatime,allow_other"},
                 /*helper=*/true);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->allow_other);
  EXPECT_FALSE(c->fake_mount);
  EXPECT_FALSE(c->foreground);
  auto fake = Parse({"bucket", "/srv/repo", "-f"}, /*helper=*/true);
  ASSERT_TRUE(fake);
  EXPECT_TRUE(fake->fake_mount);
  EXPECT_FALSE(Parse({"bucket", "/srv/repo", "-s"}, /*helper=*/false));
}

TEST(Config, DebugImpliesForeground) {
  auto c = Parse({"bucket", "/mnt", "-d"});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->foreground);
  EXPECT_TRUE(c->debug);
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
}

TEST(Config, Durations) {
  EXPECT_EQ(ParseDurationMs("30").value(), 30000);
  EXPECT_EQ(ParseDurationMs("30s").value(), 30000);
  EXPECT_EQ(ParseDurationMs("250ms").value(), 250);
  EXPECT_EQ(ParseDurationMs("5m").value(), 300000);
  EXPECT_EQ(ParseDurationMs("1h").value(), 3600000);
  EXPECT_FALSE(ParseDurationMs("-1"));
  EXPECT_FALSE(ParseDurationMs("1d"));
}

}  // namespace
}  // namespace repofs::daemon

namespace repofs::daemon {
namespace {

std::string ReadFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

// A documented option that does not work is a bug, and so is an option
// users cannot find: every accepted option appears in --help, README and man page.
TEST(Config, EveryOptionIsDocumentedEverywhere) {
  const std::string readme = ReadFile(REPOFS_SOURCE_DIR "/README.md");
  const std::string man = ReadFile(REPOFS_SOURCE_DIR "/docs/repofs.8");
  const std::string help = OptionsHelp();
  ASSERT_FALSE(readme.empty());
  ASSERT_FALSE(man.empty());
  for (const std::string& name : OptionNames()) {
    EXPECT_NE(help.find(name), std::string::npos) << name << " missing from --help";
    EXPECT_NE(readme.find("`" + name), std::string::npos) << name << " missing from README";
    std::string man_name;
    for (char c : name) {
      if (c == '_') man_name += "_";  // roff keeps underscores
      else man_name += c;
    }
    EXPECT_NE(man.find(man_name), std::string::npos) << name << " missing from repofs.8";
  }
}

}  // namespace
}  // namespace repofs::daemon
