// The shared-credentials INI parser and the profile source.
#include "auth/profile_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "temp_dir.h"

namespace repofs::auth {
namespace {

using repofs::test::TempDir;

TEST(ParseIni, SectionsKeysCommentsAndSpaces) {
  IniFile ini = ParseIni(
      "# leading comment\n"
      "; another\n"
      "orphan = ignored\n"
      "[default]\n"
      "aws_access_key_id=AKIDDEFAULT\n"
      "  AWS_Secret_Access_Key   =   sec/ret+key==   \n"
      "\n"
      "[ work ]   # comment after a section\n"
      "aws_access_key_id = AKIDWORK ; inline comment\n"
      "aws_secret_access_key = s#not-a-comment\n"
      "region = eu-west-1\r\n"
      "not a key value line\n"
      "[default]\n"
      "aws_session_token = tok\n");
  ASSERT_EQ(ini.size(), 2u);
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AKIDDEFAULT");
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "sec/ret+key==");
  EXPECT_EQ(ini["default"]["aws_session_token"], "tok");  // merged section
  EXPECT_EQ(ini["work"]["aws_access_key_id"], "AKIDWORK");
  EXPECT_EQ(ini["work"]["aws_secret_access_key"], "s#not-a-comment");
  EXPECT_EQ(ini["work"]["region"], "eu-west-1");
  EXPECT_EQ(ini["work"].count("not a key value line"), 0u);
  EXPECT_EQ(ini.count(""), 0u);
}

TEST(ParseIni, NestedPropertiesIgnoredAndLastKeyWins) {
  IniFile ini = ParseIni(
      "[p]\n"
      "s3 =\n"
      "  max_concurrent_requests = 10\n"
      "  aws_access_key_id = NESTED\n"
      "aws_access_key_id = FIRST\n"
      "aws_access_key_id = SECOND\n"
      "[broken\n"
      "aws_access_key_id = IGNORED\n");
  EXPECT_EQ(ini["p"]["aws_access_key_id"], "SECOND");
  EXPECT_EQ(ini["p"].count("max_concurrent_requests"), 0u);
  EXPECT_EQ(ini.count("broken"), 0u);
}

TEST(ParseIni, EmptyAndCommentOnly) {
  EXPECT_TRUE(ParseIni("").empty());
  EXPECT_TRUE(ParseIni("# only\n; comments\n").empty());
  EXPECT_TRUE(ParseIni("[s]\n")["s"].empty());
}

TEST(ProfileSource, ReadsProfileWithAndWithoutToken) {
  TempDir dir;
  std::string path = dir.Write("credentials",
                               "[default]\naws_access_key_id = AKID1\n"
                               "aws_secret_access_key = SECRET1\n"
                               "[temp]\naws_access_key_id = AKID2\n"
                               "aws_secret_access_key = SECRET2\n"
                               "aws_session_token = TOKEN2\n");
  auto def = MakeProfileSource(path, "default", false)->Fetch();
  ASSERT_TRUE(def.has_value()) << def.error().message;
  EXPECT_EQ(def->access_key_id, "AKID1");
  EXPECT_EQ(def->secret_access_key, "SECRET1");
  EXPECT_EQ(def->session_token, "");
  EXPECT_FALSE(def->expiration.has_value());
  auto temp = MakeProfileSource(path, "temp", true)->Fetch();
  ASSERT_TRUE(temp.has_value());
  EXPECT_EQ(temp->session_token, "TOKEN2");
  EXPECT_EQ(MakeProfileSource(path, "temp", true)->Describe(),
            "profile temp in " + path);
}

TEST(ProfileSource, ImplicitMissingFileOrProfileIsAbsent) {
  TempDir dir;
  std::string path = dir.Write("credentials",
                               "[other]\naws_access_key_id=A\n"
                               "aws_secret_access_key=S\n"
                               "[empty]\nregion=x\n");
  auto no_file =
      MakeProfileSource(dir.path() + "/nope", "default", false)->Fetch();
  ASSERT_FALSE(no_file.has_value());
  EXPECT_EQ(no_file.error().errno_value, ENOENT);
  EXPECT_NE(no_file.error().message.find("no such file"), std::string::npos);
  auto no_profile = MakeProfileSource(path, "default", false)->Fetch();
  ASSERT_FALSE(no_profile.has_value());
  EXPECT_EQ(no_profile.error().errno_value, ENOENT);
  auto no_keys = MakeProfileSource(path, "empty", false)->Fetch();
  ASSERT_FALSE(no_keys.has_value());
  EXPECT_EQ(no_keys.error().errno_value, ENOENT);
}

TEST(ProfileSource, ExplicitProblemsAreErrorsNamingFileAndProfile) {
  TempDir dir;
  std::string path = dir.Write("creds",
                               "[other]\naws_access_key_id=A\n"
                               "aws_secret_access_key=S\n");
  for (auto [file, profile] :
       {std::pair<std::string, std::string>{dir.path() + "/missing", "default"},
        {path, "default"}}) {
    auto r = MakeProfileSource(file, profile, true)->Fetch();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().errno_value, EACCES);
    EXPECT_NE(r.error().message.find(file), std::string::npos);
    EXPECT_NE(r.error().message.find("profile " + profile), std::string::npos);
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(ProfileSource, PartialKeysAreAnErrorEvenWhenImplicit) {
  TempDir dir;
  std::string path = dir.Write("creds",
                               "[a]\naws_access_key_id = AKID\n"
                               "[b]\naws_secret_access_key = VERYSECRET\n");
  auto a = MakeProfileSource(path, "a", false)->Fetch();
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().errno_value, EACCES);
  EXPECT_NE(a.error().message.find("aws_secret_access_key is missing"),
            std::string::npos);
  auto b = MakeProfileSource(path, "b", false)->Fetch();
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().errno_value, EACCES);
  EXPECT_EQ(b.error().message.find("VERYSECRET"), std::string::npos);
}

TEST(ProfileSource, UnreadableFileIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads mode-000 files";
  TempDir dir;
  std::string path = dir.Write("creds",
                               "[default]\naws_access_key_id=A\n"
                               "aws_secret_access_key=S\n");
  ::chmod(path.c_str(), 0);
  auto r = MakeProfileSource(path, "default", false)->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, EACCES);
  EXPECT_NE(r.error().message.find("cannot read"), std::string::npos);
}

TEST(ProfileSource, DirectoryInsteadOfFileIsAnError) {
  TempDir dir;
  auto r = MakeProfileSource(dir.path(), "default", false)->Fetch();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().errno_value, EACCES);
  EXPECT_NE(r.error().message.find(dir.path()), std::string::npos);
}

}  // namespace
}  // namespace repofs::auth
