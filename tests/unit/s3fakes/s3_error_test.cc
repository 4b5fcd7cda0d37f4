#include "repofs/s3_error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string>

namespace repofs {
namespace {

constexpr S3ErrorCode kAllCodes[] = {
    S3ErrorCode::kNoSuchKey,
    S3ErrorCode::kNoSuchBucket,
    S3ErrorCode::kNoSuchUpload,
    S3ErrorCode::kAccessDenied,
    S3ErrorCode::kInvalidAccessKeyId,
    S3ErrorCode::kSignatureDoesNotMatch,
    S3ErrorCode::kExpiredToken,
    S3ErrorCode::kPreconditionFailed,
    S3ErrorCode::kInvalidRange,
    S3ErrorCode::kEntityTooSmall,
    S3ErrorCode::kEntityTooLarge,
    S3ErrorCode::kInvalidRequest,
    S3ErrorCode::kNotImplemented,
    S3ErrorCode::kConflict,
    S3ErrorCode::kSlowDown,
    S3ErrorCode::kServerError,
    S3ErrorCode::kRequestTimeout,
    S3ErrorCode::kNetwork,
    S3ErrorCode::kTimeout,
    S3ErrorCode::kTruncatedBody,
    S3ErrorCode::kMalformedResponse,
    S3ErrorCode::kAborted,
    S3ErrorCode::kLocalIo,
    S3ErrorCode::kCredentials,
    S3ErrorCode::kUnknown,
};

TEST(S3ErrorTest, CodeNamesAreTheS3NamesAndUnique) {
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kNoSuchKey), "NoSuchKey");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kNoSuchBucket), "NoSuchBucket");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kSignatureDoesNotMatch),
               "SignatureDoesNotMatch");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kSlowDown), "SlowDown");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kPreconditionFailed),
               "PreconditionFailed");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kNetwork), "Network");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kTimeout), "Timeout");
  EXPECT_STREQ(ErrorCodeName(S3ErrorCode::kEntityTooSmall), "EntityTooSmall");
  std::set<std::string> names;
  for (S3ErrorCode code : kAllCodes) {
    std::string name = ErrorCodeName(code);
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
  }
}

TEST(S3ErrorTest, ToErrnoFollowsTheHeader) {
  EXPECT_EQ(ToErrno(S3ErrorCode::kNoSuchKey), ENOENT);
  EXPECT_EQ(ToErrno(S3ErrorCode::kNoSuchBucket), ENOENT);
  EXPECT_EQ(ToErrno(S3ErrorCode::kNoSuchUpload), ENOENT);
  EXPECT_EQ(ToErrno(S3ErrorCode::kAccessDenied), EACCES);
  EXPECT_EQ(ToErrno(S3ErrorCode::kInvalidAccessKeyId), EACCES);
  EXPECT_EQ(ToErrno(S3ErrorCode::kSignatureDoesNotMatch), EACCES);
  EXPECT_EQ(ToErrno(S3ErrorCode::kExpiredToken), EACCES);
  EXPECT_EQ(ToErrno(S3ErrorCode::kCredentials), EACCES);
  EXPECT_EQ(ToErrno(S3ErrorCode::kPreconditionFailed), ESTALE);
  EXPECT_EQ(ToErrno(S3ErrorCode::kEntityTooLarge), EFBIG);
  EXPECT_EQ(ToErrno(S3ErrorCode::kNotImplemented), ENOTSUP);
  EXPECT_EQ(ToErrno(S3ErrorCode::kInvalidRange), EINVAL);
  EXPECT_EQ(ToErrno(S3ErrorCode::kTimeout), ETIMEDOUT);
  EXPECT_EQ(ToErrno(S3ErrorCode::kAborted), ECANCELED);
  for (S3ErrorCode code :
       {S3ErrorCode::kEntityTooSmall, S3ErrorCode::kInvalidRequest,
        S3ErrorCode::kConflict, S3ErrorCode::kSlowDown,
        S3ErrorCode::kServerError, S3ErrorCode::kRequestTimeout,
        S3ErrorCode::kNetwork, S3ErrorCode::kTruncatedBody,
        S3ErrorCode::kMalformedResponse, S3ErrorCode::kLocalIo,
        S3ErrorCode::kUnknown}) {
    EXPECT_EQ(ToErrno(code), EIO) << ErrorCodeName(code);
  }
}

TEST(S3ErrorTest, RetryableCodes) {
  std::set<S3ErrorCode> retryable = {
      S3ErrorCode::kSlowDown,       S3ErrorCode::kServerError,
      S3ErrorCode::kRequestTimeout, S3ErrorCode::kNetwork,
      S3ErrorCode::kTimeout,        S3ErrorCode::kTruncatedBody,
      S3ErrorCode::kExpiredToken};
  for (S3ErrorCode code : kAllCodes) {
    S3Error error{code, 0, "", "", ""};
    EXPECT_EQ(error.retryable(), retryable.count(code) == 1)
        << ErrorCodeName(code);
  }
}

TEST(S3ErrorTest, ToErrorIsOneLineWithCodeStatusAndMessage) {
  Error e = ToError(S3Error{S3ErrorCode::kNoSuchKey, 404, "NoSuchKey",
                            "The specified key does not exist.", "req1"});
  EXPECT_EQ(e.errno_value, ENOENT);
  EXPECT_EQ(e.message,
            "NoSuchKey (HTTP 404): The specified key does not exist.");

  Error multi = ToError(S3Error{S3ErrorCode::kServerError, 500, "InternalError",
                                "line one\nline two\r\n", ""});
  EXPECT_EQ(multi.errno_value, EIO);
  EXPECT_EQ(multi.message.find('\n'), std::string::npos);
  EXPECT_EQ(multi.message.find('\r'), std::string::npos);
  EXPECT_EQ(multi.message.rfind("ServerError (HTTP 500): line one", 0), 0u);

  // No HTTP response: no status in the message.
  Error reset =
      ToError(S3Error{S3ErrorCode::kNetwork, 0, "", "connection reset", ""});
  EXPECT_EQ(reset.message, "Network: connection reset");
  // Without a message the S3 code is the detail.
  Error bare = ToError(
      S3Error{S3ErrorCode::kAccessDenied, 403, "AllAccessDisabled", "", ""});
  EXPECT_EQ(bare.message, "AccessDenied (HTTP 403): AllAccessDisabled");
  EXPECT_EQ(bare.errno_value, EACCES);
}

}  // namespace
}  // namespace repofs
