// ObjectReader::Read with a ReadView (bytes left in the read-ahead blocks,
// written to the kernel from there) and ObjectReader::Streaming (whether a
// read belongs to the reader rather than to the block cache).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "prefetch_test_util.h"

namespace repofs::prefetch {
namespace {

using testing::Expected;
using testing::kKiB;
using testing::kMiB;
using testing::MakeBody;

class ReaderViewTest : public ::testing::Test {
 protected:
  ObjectVersion Put(uint64_t size) {
    body_ = MakeBody(size, 7);
    return testing::PutObject(*fake_, "key", body_);
  }
  void MakeContext(const ReadaheadOptions& options) {
    context_ = std::make_unique<ReadaheadContext>(fake_, options, 4);
  }
  // Reads through a view; returns the bytes the view's pieces describe.
  std::string ViewRead(ObjectReader& reader, uint64_t offset, size_t len,
                       ReadView* view, std::string* out) {
    out->assign(len, '\0');
    view->Clear();
    Result<size_t> got = reader.Read(offset, len, out->data(), view);
    if (!got.has_value()) return "<error>" + got.error().message;
    std::string bytes;
    for (std::string_view piece : view->pieces) bytes.append(piece);
    EXPECT_EQ(bytes.size(), *got);
    return bytes;
  }

  std::shared_ptr<FakeObjectClient> fake_ =
      std::make_shared<FakeObjectClient>();
  std::string body_;
  std::unique_ptr<ReadaheadContext> context_;
};

TEST_F(ReaderViewTest, PiecesAreTheBytesAndPointIntoHeldBlocks) {
  ObjectVersion version = Put(5 * kMiB + 300);
  MakeContext(ReadaheadOptions{});
  ObjectReader reader(*context_, version);
  ReadView view;
  std::string out;
  // Unaligned reads across block boundaries, then the short last one.
  for (uint64_t offset = 100; offset < version.size; offset += 700 * kKiB) {
    const size_t len = 1 * kMiB;
    ASSERT_EQ(ViewRead(reader, offset, len, &view, &out),
              Expected(body_, offset, len))
        << "at " << offset;
    ASSERT_FALSE(view.holds.empty());
    for (std::string_view piece : view.pieces) {
      // Left in the blocks, not copied into `out`.
      EXPECT_TRUE(piece.data() < out.data() ||
                  piece.data() >= out.data() + out.size());
    }
  }
  // The view keeps its blocks alive after the reader moved on and closed.
  const std::string expected = Expected(body_, 4 * kMiB, 4096);
  ASSERT_EQ(ViewRead(reader, 4 * kMiB, 4096, &view, &out), expected);
  ReadaheadStats stats = context_->Stats();
  EXPECT_GT(stats.buffered_bytes, 0u);  // held by the view
  view.Clear();
}

TEST_F(ReaderViewTest, UnbufferedReadsFillTheCallersBuffer) {
  ObjectVersion version = Put(3 * kMiB);
  ReadaheadOptions options;
  options.memory_limit = 0;  // nothing can be buffered: reads go direct
  MakeContext(options);
  ObjectReader reader(*context_, version);
  ReadView view;
  std::string out;
  ASSERT_EQ(ViewRead(reader, 10, 2 * kMiB, &view, &out),
            Expected(body_, 10, 2 * kMiB));
  EXPECT_TRUE(view.holds.empty());
  ASSERT_EQ(view.pieces.size(), 1u);
  EXPECT_EQ(view.pieces[0].data(), out.data());
}

TEST_F(ReaderViewTest, FailedReadLeavesAnEmptyView) {
  ObjectVersion version = Put(2 * kMiB);
  MakeContext(ReadaheadOptions{});
  fake_->PutForTest("key", MakeBody(2 * kMiB, 8));  // replaced: 412
  ObjectReader reader(*context_, version);
  ReadView view;
  std::string out(4096, '\0');
  Result<size_t> got = reader.Read(0, out.size(), out.data(), &view);
  ASSERT_FALSE(got.has_value());
  EXPECT_TRUE(view.pieces.empty());
  EXPECT_TRUE(view.holds.empty());
}

TEST_F(ReaderViewTest, StreamingCoversTheWindowOnly) {
  ObjectVersion version = Put(64 * kMiB);
  MakeContext(ReadaheadOptions{});  // 8 MiB requests
  ObjectReader reader(*context_, version);
  EXPECT_FALSE(reader.Streaming(0, 128 * kKiB));  // nothing read yet
  std::string out(128 * kKiB, '\0');
  ASSERT_TRUE(reader.Read(0, out.size(), out.data()).has_value());
  // The first request's chunk is buffered or on the way...
  EXPECT_TRUE(reader.Streaming(128 * kKiB, 128 * kKiB));
  EXPECT_TRUE(reader.Streaming(7 * kMiB, 1 * kMiB));
  // ...a range far ahead of the window is not.
  EXPECT_FALSE(reader.Streaming(60 * kMiB, 1 * kMiB));
  EXPECT_FALSE(reader.Streaming(version.size, 10));  // at EOF
}

}  // namespace
}  // namespace repofs::prefetch
