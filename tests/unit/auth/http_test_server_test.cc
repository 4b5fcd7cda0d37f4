// HttpTestServer itself, driven by a plain socket client (no curl), so the
// fake server others reuse is known to speak HTTP/1.1 correctly.
#include "support/http_test_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "util/handles.h"
#include "util/string_util.h"

namespace repofs::test {
namespace {

UniqueFd Connect(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  EXPECT_EQ(
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

void Send(int fd, const std::string& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// Reads until the peer closes (or 5 s pass). Sets *reset on ECONNRESET.
std::string ReadToClose(int fd, bool* reset = nullptr) {
  std::string out;
  char buf[4096];
  for (int i = 0; i < 500; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && reset != nullptr) *reset = errno == ECONNRESET;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Reads one response: head, then Content-Length bytes of body.
std::string ReadResponse(int fd, std::string& pending) {
  char buf[4096];
  for (int i = 0; i < 500; ++i) {
    size_t end = pending.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t length = 0;
      size_t cl = ToLower(pending.substr(0, end)).find("content-length: ");
      if (cl != std::string::npos) length = std::stoul(pending.substr(cl + 16));
      if (pending.size() >= end + 4 + length) {
        std::string resp = pending.substr(0, end + 4 + length);
        pending.erase(0, end + 4 + length);
        return resp;
      }
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
  }
  return "";
}

TestResponse Echo(const TestRequest& req) {
  TestResponse r =
      TestResponse::Text(200, req.method + " " + req.target + " " + req.body);
  r.headers.push_back(
      {"X-Seen-Header", req.Header("x-test") ? *req.Header("x-test") : ""});
  return r;
}

TEST(HttpTestServer, KeepAliveSeveralRequestsOnOneConnection) {
  HttpTestServer server(Echo);
  EXPECT_TRUE(server.BaseUrl().starts_with("http://127.0.0.1:"));
  EXPECT_NE(server.port(), 0);
  UniqueFd fd = Connect(server.port());
  std::string pending;
  Send(fd.get(), "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Test: One\r\n\r\n");
  std::string r1 = ReadResponse(fd.get(), pending);
  EXPECT_TRUE(r1.starts_with("HTTP/1.1 200 OK\r\n")) << r1;
  EXPECT_NE(r1.find("X-Seen-Header: One\r\n"), std::string::npos);
  EXPECT_TRUE(r1.ends_with("\r\n\r\nGET /a?x=1 ")) << r1;
  // Content-Length body, then a pipelined pair.
  Send(fd.get(),
       "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
       "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_TRUE(ReadResponse(fd.get(), pending).ends_with("PUT /b hello"));
  EXPECT_TRUE(ReadResponse(fd.get(), pending).ends_with("POST /c hi"));

  auto reqs = server.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(server.ConnectionCount(), 1u);
  EXPECT_EQ(reqs[0].path, "/a");
  EXPECT_EQ(reqs[0].query, "x=1");
  ASSERT_NE(reqs[0].Header("x-test"), nullptr);  // names lower-cased
  EXPECT_EQ(*reqs[0].Header("x-test"), "One");
  EXPECT_EQ(reqs[1].body, "hello");
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].connection_id, 1u);
    EXPECT_EQ(reqs[i].index_on_connection, i);
  }
}

TEST(HttpTestServer, ChunkedBodyAndExpectContinue) {
  HttpTestServer server(Echo);
  UniqueFd fd = Connect(server.port());
  std::string pending;
  Send(fd.get(),
       "PUT /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
  EXPECT_TRUE(
      ReadResponse(fd.get(), pending).ends_with("PUT /chunked hello world"));
  Send(fd.get(),
       "PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
       "Content-Length: 3\r\n\r\n");
  // The interim answer comes before we send the body.
  std::string interim;
  char buf[64];
  for (int i = 0; i < 500 && interim.find("\r\n\r\n") == std::string::npos;
       ++i) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0) break;
    interim.append(buf, static_cast<size_t>(n));
  }
  EXPECT_TRUE(interim.starts_with("HTTP/1.1 100 Continue\r\n\r\n")) << interim;
  pending = interim.substr(interim.find("\r\n\r\n") + 4);
  Send(fd.get(), "abc");
  EXPECT_TRUE(ReadResponse(fd.get(), pending).ends_with("PUT /e abc"));
}

TEST(HttpTestServer, HeadHasLengthButNoBodyAndCloseIsHonoured) {
  HttpTestServer server([](const TestRequest& req) {
    TestResponse r = TestResponse::Text(200, "0123456789");
    r.close = req.path == "/last";
    return r;
  });
  UniqueFd fd = Connect(server.port());
  Send(fd.get(),
       "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /last HTTP/1.1\r\nHost: "
       "h\r\n\r\n");
  std::string all = ReadToClose(fd.get());  // ends because of `close`
  size_t second = all.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << all;
  std::string head_resp = all.substr(0, second);
  EXPECT_NE(head_resp.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_TRUE(head_resp.ends_with("\r\n\r\n"));  // no body after HEAD
  EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(all.ends_with("0123456789"));
}

TEST(HttpTestServer, RawModeBytesTruncationAndReset) {
  HttpTestServer server([](const TestRequest& req) {
    if (req.path == "/raw") return TestResponse::RawBytes("HTTP/1.1 20");
    if (req.path == "/short")
      return TestResponse::Truncated(200, 100, "only-this");
    if (req.path == "/reset") return TestResponse::Reset();
    TestResponse r;
    r.raw = [](RawConnection& c) {
      c.Write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
      c.Reset();
      EXPECT_TRUE(c.is_reset());
      EXPECT_FALSE(c.Write("cd"));
    };
    return r;
  });
  {
    UniqueFd fd = Connect(server.port());
    Send(fd.get(), "GET /raw HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(ReadToClose(fd.get()), "HTTP/1.1 20");
  }
  {
    UniqueFd fd = Connect(server.port());
    Send(fd.get(), "GET /short HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string got = ReadToClose(fd.get());
    EXPECT_NE(got.find("Content-Length: 100\r\n\r\nonly-this"),
              std::string::npos);
    EXPECT_TRUE(got.ends_with("only-this"));
  }
  {
    UniqueFd fd = Connect(server.port());
    Send(fd.get(), "GET /reset HTTP/1.1\r\nHost: h\r\n\r\n");
    bool reset = false;
    EXPECT_EQ(ReadToClose(fd.get(), &reset), "");
    EXPECT_TRUE(reset);
  }
  {
    UniqueFd fd = Connect(server.port());
    Send(fd.get(), "GET /partial-then-reset HTTP/1.1\r\nHost: h\r\n\r\n");
    bool reset = false;
    std::string got = ReadToClose(fd.get(), &reset);
    EXPECT_TRUE(reset || got.ends_with("ab")) << got;
    EXPECT_EQ(got.find("cd"), std::string::npos);
  }
  EXPECT_EQ(server.Requests().size(), 4u);  // raw-mode requests are recorded
}

TEST(HttpTestServer, MalformedRequestGets400AndHandlerCanBeSwapped) {
  std::atomic<int> calls{0};
  HttpTestServer server([&](const TestRequest&) {
    ++calls;
    return TestResponse::Text(200, "one");
  });
  {
    UniqueFd fd = Connect(server.port());
    Send(fd.get(), "NONSENSE\r\n\r\n");
    EXPECT_TRUE(ReadToClose(fd.get()).starts_with("HTTP/1.1 400 Bad Request"));
  }
  EXPECT_EQ(calls.load(), 0);
  server.SetHandler(
      [](const TestRequest&) { return TestResponse::Text(404, ""); });
  UniqueFd fd = Connect(server.port());
  std::string pending;
  Send(fd.get(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_TRUE(
      ReadResponse(fd.get(), pending).starts_with("HTTP/1.1 404 Not Found"));
  server.Stop();
  server.Stop();  // idempotent
  EXPECT_EQ(server.ConnectionCount(), 2u);
}

TEST(HttpTestServer, StopClosesIdleKeepAliveConnections) {
  auto server = std::make_unique<HttpTestServer>(Echo);
  UniqueFd fd = Connect(server->port());
  std::string pending;
  Send(fd.get(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_FALSE(ReadResponse(fd.get(), pending).empty());
  server.reset();  // must not hang on the idle connection
  EXPECT_EQ(ReadToClose(fd.get()), "");
}

}  // namespace
}  // namespace repofs::test
