// WriteFiles: the registry of files open for writing and their handles.
#include "fs/write_files.h"

#include <gtest/gtest.h>

namespace repofs::fs {
namespace {

TEST(WriteFilesTest, LastHandleUnregistersTheFile) {
  WriteFiles files;
  auto file = files.Insert(std::make_shared<OpenFile>(7, nullptr));
  const uint64_t a = files.AddHandle(file, true);
  const uint64_t b = files.AddHandle(file, false);
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, 0u);
  EXPECT_EQ(files.HandleCount(7), 2u);
  std::shared_ptr<OpenFile> last;
  ASSERT_TRUE(files.Remove(a, &last));
  EXPECT_FALSE(last) << "b still holds it";
  ASSERT_TRUE(files.Remove(b, &last));
  EXPECT_EQ(last, file);
  EXPECT_FALSE(files.Find(7));
  EXPECT_EQ(files.HandleCount(7), 0u);
}

// An open that found the file just before its last handle went away (a
// close racing the next open) must not hang a handle on the dropped file:
// its changes would be lost, and the inode's handle count would stay one
// too high, so no later RELEASE would see its file's last handle go.
TEST(WriteFilesTest, AddHandleRefusesAFileReleasedSinceItWasFound) {
  WriteFiles files;
  auto file = files.Insert(std::make_shared<OpenFile>(7, nullptr));
  const uint64_t fh = files.AddHandle(file, true);
  std::shared_ptr<OpenFile> found = files.Find(7);  // the racing open
  std::shared_ptr<OpenFile> last;
  files.Remove(fh, &last);  // the close
  ASSERT_EQ(last, file);
  EXPECT_EQ(files.AddHandle(found, true), 0u);
  EXPECT_EQ(files.HandleCount(7), 0u);
  EXPECT_FALSE(files.Find(7));

  // The open's next round registers a new file, and counts right.
  auto fresh = files.Insert(std::make_shared<OpenFile>(7, nullptr));
  EXPECT_NE(fresh, found);
  const uint64_t again = files.AddHandle(fresh, true);
  ASSERT_NE(again, 0u);
  EXPECT_EQ(files.HandleCount(7), 1u);
  ASSERT_TRUE(files.Remove(again, &last));
  EXPECT_EQ(last, fresh);
}

}  // namespace
}  // namespace repofs::fs
