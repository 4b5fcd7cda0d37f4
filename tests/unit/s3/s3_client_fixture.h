// The S3ClientTest fixture: an S3Client (path-style, bucket "bkt" at
// http://127.0.0.1:7480, fixed clock 2015-08-30T12:36:00Z) over a
// ScriptedTransport.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "s3/s3_client.h"
#include "scripted_transport.h"

namespace repofs::s3 {

using testing::Fail;
using testing::FixedClock;
using testing::Ok;
using testing::Reply;
using testing::ScriptedTransport;
using testing::SentRequest;
using testing::StaticCredentials;
using testing::Status;

inline const auto kNow =
    std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30

class S3ClientTest : public ::testing::Test {
 protected:
  S3ClientTest() : clock_(kNow) {
    options_.endpoint = "http://127.0.0.1:7480";
    options_.bucket = "bkt";
    options_.path_style = true;
  }

  S3Client& client() {
    if (!client_) {
      client_ = std::make_unique<S3Client>(
          options_, transport_,
          std::make_shared<StaticCredentials>(
              Credentials{"AKID", "SECRETKEY", session_token_, std::nullopt},
              credentials_fail_),
          clock_);
    }
    return *client_;
  }

  static std::string H(const SentRequest& r, std::string_view name) {
    const std::string* v = r.Header(name);
    return v ? *v : "<missing>";
  }

  static void ExpectSigned(const SentRequest& r) {
    EXPECT_EQ(H(r, "authorization")
                  .rfind("AWS4-HMAC-SHA256 "
                         "Credential=AKID/20150830/us-east-1/s3/aws4_request",
                         0),
              0u)
        << H(r, "authorization");
    EXPECT_EQ(H(r, "x-amz-date"), "20150830T123600Z");
    EXPECT_NE(H(r, "x-amz-content-sha256"), "<missing>");
    EXPECT_EQ(H(r, "host"), "127.0.0.1:7480");
  }

  S3Options options_;
  std::string session_token_;
  bool credentials_fail_ = false;
  FixedClock clock_;
  std::shared_ptr<ScriptedTransport> transport_ =
      std::make_shared<ScriptedTransport>();
  std::unique_ptr<S3Client> client_;
};

inline Reply HeadReply(uint64_t size, std::vector<HttpHeader> headers) {
  Reply r;
  r.headers = std::move(headers);
  r.headers.push_back({"content-length", std::to_string(size)});
  return r;
}

}  // namespace repofs::s3
