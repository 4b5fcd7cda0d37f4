// S3Client over the real libcurl transport against a loopback server: what
// actually goes on the wire (path bytes, Host, Content-Length, signature
// headers) and that connections are kept alive across S3 calls.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "../http/loopback_server.h"
#include "http/curl_transport.h"
#include "s3/s3_client.h"
#include "scripted_transport.h"

namespace repofs::s3 {
namespace {

using repofs::testing::LoopbackServer;
using repofs::testing::MakeResponse;
using repofs::testing::ServerRequest;
using repofs::testing::WriteAll;

class S3OverCurl : public ::testing::Test {
 protected:
  S3OverCurl()
      : server_([this](const ServerRequest& req, int fd) {
          std::string reply;
          {
            std::lock_guard<std::mutex> lock(mu_);
            seen_.push_back(req);
            reply = next_reply_;
          }
          return WriteAll(fd, reply);
        }) {
    S3Options options;
    options.endpoint = server_.url("");
    options.bucket = "bkt";
    options.path_style = true;
    http::CurlTransportOptions transport_options =
        http::TransportOptionsFrom(options);
    transport_options.low_speed_time_s = 2;
    client_ = std::make_unique<S3Client>(
        options, http::CreateCurlTransport(transport_options),
        std::make_shared<s3::testing::StaticCredentials>(
            Credentials{"AKID", "SECRET", "", std::nullopt}));
  }

  void Reply(std::string raw) {
    std::lock_guard<std::mutex> lock(mu_);
    next_reply_ = std::move(raw);
  }
  ServerRequest Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.back();
  }

  std::mutex mu_;
  std::vector<ServerRequest> seen_;
  std::string next_reply_ = MakeResponse(200, "");
  LoopbackServer server_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(S3OverCurl, OddKeysReachTheServerByteForByte) {
  const std::string key = "a//b/./c/../d e+f%g~\xC3\xBC";
  const std::string data = "payload";
  Payload body = Payload::FromBuffer(data);
  Reply(MakeResponse(200, "", "ETag: \"e\"\r\n"));
  auto put = client_->PutObject(key, body, {});
  ASSERT_TRUE(put.has_value()) << put.error().message;
  EXPECT_EQ(put->etag, "e");
  ServerRequest req = Last();
  EXPECT_EQ(req.method, "PUT");
  // No dot-segment removal, no slash merging, each byte encoded once.
  EXPECT_EQ(req.target, "/bkt/a//b/./c/../d%20e%2Bf%25g~%C3%BC");
  EXPECT_EQ(req.headers["host"], "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(req.headers["content-length"], "7");
  EXPECT_EQ(req.headers.count("expect"), 0u);
  EXPECT_EQ(req.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
  EXPECT_EQ(req.headers["authorization"].rfind(
                "AWS4-HMAC-SHA256 Credential=AKID/", 0),
            0u);
  EXPECT_EQ(req.body, data);
  // Exactly one Host header: ours, the one that was signed.
  int hosts = 0;
  for (const auto& name : req.header_names) hosts += name == "host";
  EXPECT_EQ(hosts, 1);
}

TEST_F(S3OverCurl, GetStreamsAndConnectionIsReused) {
  Reply(MakeResponse(206, "bcd", "Content-Range: bytes 1-3/10\r\n"));
  for (int i = 0; i < 20; ++i) {
    std::string got;
    auto r =
        client_->GetObject(GetRequest{"k", 1, 3, ""}, [&](std::string_view c) {
          got.append(c);
          return true;
        });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(got, "bcd");
    EXPECT_EQ(r->size, 10u);
  }
  EXPECT_EQ(server_.connections_accepted(), 1);
  EXPECT_EQ(client_->RequestCounts().at("GetObject"), 20u);
}

TEST_F(S3OverCurl, EmptyPostCarriesContentLengthZero) {
  Reply(MakeResponse(200,
                     "<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
                     "</InitiateMultipartUploadResult>"));
  auto id = client_->CreateMultipartUpload("k", {});
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(*id, "u1");
  ServerRequest req = Last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/bkt/k?uploads");
  EXPECT_EQ(req.headers["content-length"], "0");
}

TEST_F(S3OverCurl, ErrorBodyIsParsedNotStreamed) {
  Reply(MakeResponse(
      404, "<Error><Code>NoSuchKey</Code><Message>m</Message></Error>",
      "x-amz-request-id: RID\r\n"));
  bool called = false;
  auto r = client_->GetObject(GetRequest{"k", 0, std::nullopt, ""},
                              [&](std::string_view) {
                                called = true;
                                return true;
                              });
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(called);
  EXPECT_EQ(r.error().code, S3ErrorCode::kNoSuchKey);
  EXPECT_EQ(r.error().request_id, "RID");
}

}  // namespace
}  // namespace repofs::s3
