#include "http/curl_transport.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "loopback_server.h"

namespace repofs::http {
namespace {

using repofs::testing::LoopbackServer;
using repofs::testing::MakeResponse;
using repofs::testing::ResetConnection;
using repofs::testing::ServerRequest;
using repofs::testing::WriteAll;

CurlTransportOptions FastOptions() {
  CurlTransportOptions o;
  o.connect_timeout_ms = 2000;
  o.low_speed_time_s = 1;
  o.low_speed_bytes = 100;
  o.max_connections = 8;
  return o;
}

HttpRequest Get(const std::string& url) {
  HttpRequest r;
  r.method = "GET";
  r.url = url;
  return r;
}

TEST(CurlTransport, StreamsBodyToSinkAndCollectsHeaders) {
  const std::string body(300000, 'x');
  LoopbackServer server([&](const ServerRequest& req, int fd) {
    EXPECT_EQ(req.target, "/a%20b/c?x=1");
    return WriteAll(
        fd,
        MakeResponse(200, body, "ETag: \"abc\"\r\nX-Amz-Meta-Foo:  bar \r\n"));
  });
  auto transport = CreateCurlTransport(FastOptions());
  std::string received;
  int chunks = 0;
  BodySink sink = [&](std::string_view chunk) {
    received.append(chunk);
    ++chunks;
    return true;
  };
  auto r = transport->Perform(Get(server.url("/a%20b/c?x=1")), &sink);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(received, body);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->body_bytes, body.size());
  EXPECT_GE(chunks, 1);
  ASSERT_NE(r->Header("etag"), nullptr);
  EXPECT_EQ(*r->Header("etag"), "\"abc\"");
  ASSERT_NE(r->Header("x-amz-meta-foo"), nullptr);
  EXPECT_EQ(*r->Header("x-amz-meta-foo"), "bar");
}

TEST(CurlTransport, CollectsErrorBodyInsteadOfStreaming) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    return WriteAll(fd,
                    MakeResponse(404, "<Error><Code>NoSuchKey</Code></Error>"));
  });
  auto transport = CreateCurlTransport(FastOptions());
  bool sink_called = false;
  BodySink sink = [&](std::string_view) {
    sink_called = true;
    return true;
  };
  auto r = transport->Perform(Get(server.url("/k")), &sink);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(sink_called);
  EXPECT_EQ(r->body, "<Error><Code>NoSuchKey</Code></Error>");
}

TEST(CurlTransport, CollectsBodyWithoutSink) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    return WriteAll(fd, MakeResponse(200, "<ListBucketResult/>"));
  });
  auto transport = CreateCurlTransport(FastOptions());
  auto r = transport->Perform(Get(server.url("/")), nullptr);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "<ListBucketResult/>");
}

TEST(CurlTransport, ReusesConnectionsAcrossSequentialCalls) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    return WriteAll(fd, MakeResponse(200, "ok"));
  });
  auto transport = CreateCurlTransport(FastOptions());
  for (int i = 0; i < 50; ++i) {
    HttpRequest req = Get(server.url("/k" + std::to_string(i)));
    if (i % 3 == 1) req.method = "HEAD";
    auto r = transport->Perform(req, nullptr);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->status, 200);
  }
  EXPECT_EQ(server.requests_served(), 50);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(CurlTransport, ReusesConnectionsAcrossThreads) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    return WriteAll(fd, MakeResponse(200, "ok"));
  });
  auto transport = CreateCurlTransport(FastOptions());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = transport->Perform(Get(server.url("/")), nullptr);
        if (!r.has_value() || r->status != 200) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.requests_served(), kThreads * kPerThread);
  // At most one connection per concurrently active thread.
  EXPECT_LE(server.connections_accepted(), kThreads);
}

TEST(CurlTransport, SendsPayloadWithContentLengthAndNoExpect) {
  std::vector<ServerRequest> seen;
  std::mutex mu;
  LoopbackServer server([&](const ServerRequest& req, int fd) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(req);
    }
    return WriteAll(fd, MakeResponse(200, ""));
  });
  auto transport = CreateCurlTransport(FastOptions());
  const std::string data(200000, 'p');
  Payload payload = Payload::FromBuffer(data);
  HttpRequest put;
  put.method = "PUT";
  put.url = server.url("/obj");
  put.headers = {{"x-amz-meta-a", "1"}, {"Content-Type", "text/plain"}};
  put.body = &payload;
  // The same Payload twice: reads are positional.
  for (int i = 0; i < 2; ++i) {
    auto r = transport->Perform(put, nullptr);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  HttpRequest post;  // an empty POST still carries Content-Length: 0
  post.method = "POST";
  post.url = server.url("/obj?uploads");
  ASSERT_TRUE(transport->Perform(post, nullptr).has_value());
  HttpRequest del;
  del.method = "DELETE";
  del.url = server.url("/obj");
  ASSERT_TRUE(transport->Perform(del, nullptr).has_value());

  ASSERT_EQ(seen.size(), 4u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(seen[i].method, "PUT");
    EXPECT_EQ(seen[i].body, data);
    EXPECT_EQ(seen[i].headers["content-length"], "200000");
    EXPECT_EQ(seen[i].headers.count("expect"), 0u);
    EXPECT_EQ(seen[i].headers.count("transfer-encoding"), 0u);
    EXPECT_EQ(seen[i].headers["x-amz-meta-a"], "1");
    EXPECT_EQ(seen[i].headers["content-type"], "text/plain");
  }
  EXPECT_EQ(seen[2].method, "POST");
  EXPECT_EQ(seen[2].target, "/obj?uploads");
  EXPECT_EQ(seen[2].headers["content-length"], "0");
  EXPECT_EQ(seen[3].method, "DELETE");
}

TEST(CurlTransport, FilePayload) {
  char path[] = "/tmp/repofs_http_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  std::string data = "0123456789abcdefghij";
  ASSERT_EQ(::write(fd, data.data(), data.size()), ssize_t(data.size()));
  std::string got;
  LoopbackServer server([&](const ServerRequest& req, int cfd) {
    got = req.body;
    return WriteAll(cfd, MakeResponse(200, ""));
  });
  auto transport = CreateCurlTransport(FastOptions());
  Payload payload = Payload::FromFile(fd, 5, 10);
  HttpRequest put;
  put.method = "PUT";
  put.url = server.url("/f");
  put.body = &payload;
  auto r = transport->Perform(put, nullptr);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(got, "56789abcde");

  // A payload longer than its file fails locally with kLocalIo.
  Payload too_long = Payload::FromFile(fd, 0, 100);
  put.body = &too_long;
  auto bad = transport->Perform(put, nullptr);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, TransportErrorKind::kLocalIo)
      << bad.error().message;
  ::close(fd);
}

TEST(CurlTransport, ResetMidBodyIsReset) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                     std::string(1000, 'a'));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ResetConnection(fd);
    return false;
  });
  auto transport = CreateCurlTransport(FastOptions());
  BodySink sink = [](std::string_view) { return true; };
  auto r = transport->Perform(Get(server.url("/")), &sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kReset) << r.error().message;
}

TEST(CurlTransport, ShortBodyIsReset) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" +
                     std::string(50, 'a'));
    return false;  // orderly close (FIN) after 50 of 100 bytes
  });
  auto transport = CreateCurlTransport(FastOptions());
  uint64_t delivered = 0;
  BodySink sink = [&](std::string_view c) {
    delivered += c.size();
    return true;
  };
  auto r = transport->Perform(Get(server.url("/")), &sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kReset) << r.error().message;
  EXPECT_LE(delivered, 50u);
}

TEST(CurlTransport, ClosedPortIsConnectError) {
  int port;
  {
    LoopbackServer server([](const ServerRequest&, int) { return false; });
    port = server.port();
  }  // the listener is closed now
  auto transport = CreateCurlTransport(FastOptions());
  auto r = transport->Perform(
      Get("http://127.0.0.1:" + std::to_string(port) + "/"), nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kConnect) << r.error().message;
}

TEST(CurlTransport, StalledServerTimesOutWithinLowSpeedTime) {
  LoopbackServer* self = nullptr;
  LoopbackServer server([&](const ServerRequest&, int fd) {
    WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc");
    self->SleepUnlessStopping(std::chrono::seconds(10));
    return false;
  });
  self = &server;
  auto transport = CreateCurlTransport(FastOptions());  // 100 B/s for 1 s
  BodySink sink = [](std::string_view) { return true; };
  auto start = std::chrono::steady_clock::now();
  auto r = transport->Perform(Get(server.url("/")), &sink);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kTimeout) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(4));
}

TEST(CurlTransport, RequestTimeoutCapsTheExchange) {
  LoopbackServer* self = nullptr;
  LoopbackServer server([&](const ServerRequest&, int) {
    self->SleepUnlessStopping(std::chrono::seconds(10));
    return false;
  });
  self = &server;
  CurlTransportOptions o = FastOptions();
  o.low_speed_time_s = 0;
  o.request_timeout_ms = 300;
  auto transport = CreateCurlTransport(o);
  auto start = std::chrono::steady_clock::now();
  auto r = transport->Perform(Get(server.url("/")), nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(CurlTransport, TlsHandshakeFailureIsTls) {
  // A server that answers the ClientHello with plain text.
  LoopbackServer server(
      [](const ServerRequest&, int) { return false; },
      [](int fd) {
        WriteAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return false;
      });
  auto transport = CreateCurlTransport(FastOptions());
  auto r = transport->Perform(
      Get("https://127.0.0.1:" + std::to_string(server.port()) + "/"), nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kTls) << r.error().message;
}

TEST(CurlTransport, AbortingSinkIsAborted) {
  LoopbackServer server([](const ServerRequest&, int fd) {
    return WriteAll(fd, MakeResponse(200, std::string(500000, 'z')));
  });
  auto transport = CreateCurlTransport(FastOptions());
  BodySink sink = [](std::string_view) { return false; };
  auto r = transport->Perform(Get(server.url("/")), &sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, TransportErrorKind::kAborted) << r.error().message;
  // The transport still works afterwards (the handle went back to the pool).
  BodySink ok = [](std::string_view) { return true; };
  auto again = transport->Perform(Get(server.url("/")), &ok);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->body_bytes, 500000u);
}

TEST(CurlTransport, ErrorMessagesNeverContainRequestHeaders) {
  int port;
  {
    LoopbackServer server([](const ServerRequest&, int) { return false; });
    port = server.port();
  }
  auto transport = CreateCurlTransport(FastOptions());
  HttpRequest req =
      Get("http://127.0.0.1:" + std::to_string(port) + "/key?X-Secret-Query=1");
  req.headers.push_back(
      {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET"});
  auto r = transport->Perform(req, nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find("AKIDSECRET"), std::string::npos);
  EXPECT_EQ(r.error().message.find("X-Secret-Query"), std::string::npos);
  EXPECT_NE(r.error().message.find("GET http://127.0.0.1"), std::string::npos);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST(CurlTransport, HeadReportsHeadersWithoutBody) {
  LoopbackServer server([](const ServerRequest& req, int fd) {
    EXPECT_EQ(req.method, "HEAD");
    return WriteAll(fd,
                    "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n"
                    "Last-Modified: Sun, 30 Aug 2015 12:36:00 GMT\r\n\r\n");
  });
  auto transport = CreateCurlTransport(FastOptions());
  HttpRequest req = Get(server.url("/k"));
  req.method = "HEAD";
  auto r = transport->Perform(req, nullptr);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  ASSERT_NE(r->Header("content-length"), nullptr);
  EXPECT_EQ(*r->Header("content-length"), "12345");
  EXPECT_EQ(r->body_bytes, 0u);
}

TEST(CurlTransport, OptionsFromS3Options) {
  S3Options s3;
  s3.connect_timeout_ms = 1;
  s3.low_speed_time_s = 2;
  s3.low_speed_bytes = 3;
  s3.request_timeout_ms = 4;
  s3.verify_tls = false;
  s3.ca_file = "/ca";
  s3.max_connections = 5;
  CurlTransportOptions o = TransportOptionsFrom(s3);
  EXPECT_EQ(o.connect_timeout_ms, 1);
  EXPECT_EQ(o.low_speed_time_s, 2);
  EXPECT_EQ(o.low_speed_bytes, 3);
  EXPECT_EQ(o.request_timeout_ms, 4);
  EXPECT_FALSE(o.verify_tls);
  EXPECT_EQ(o.ca_file, "/ca");
  EXPECT_EQ(o.max_connections, 5);
}

}  // namespace
}  // namespace repofs::http
