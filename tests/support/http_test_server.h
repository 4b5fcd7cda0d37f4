// HttpTestServer: a small threaded HTTP/1.1 server on 127.0.0.1 for tests
// that exercise a real HttpTransport (curl) against scripted answers.
//
//   repofs::test::HttpTestServer server([](const TestRequest& req) {
//     if (req.path == "/x") return TestResponse::Text(200, "hello");
//     return TestResponse::Text(404, "");
//   });
//   std::string url = server.BaseUrl() + "/x";   // http://127.0.0.1:<port>
//   ...
//   ASSERT_EQ(server.Requests().size(), 1u);
//
// Include as "support/http_test_server.h"; link `test_support_dep`.
//
// What it does:
//  - Binds 127.0.0.1 on an ephemeral port (port 0) at construction; serves
//    until Stop() or destruction. One thread accepts, one thread per
//    connection.
//  - Parses request line and headers (names lower-cased); reads the body by
//    Content-Length or "Transfer-Encoding: chunked"; answers
//    "Expect: 100-continue" with "100 Continue" before reading the body.
//  - Keep-alive: many requests per connection, until the client closes, a
//    request says "Connection: close", or a response sets `close`.
//  - Normal responses: status line, the handler's headers, then
//    Content-Length (added unless the handler set one) and the body; for HEAD
//    the body is not sent (Content-Length still describes it).
//  - Raw mode, per request: if the handler returns a TestResponse whose
//    `raw` is set, nothing is sent automatically; `raw` gets a RawConnection
//    to Write() arbitrary bytes (a partial status line, a body shorter than
//    its Content-Length, garbage...) and optionally Reset() the connection
//    (TCP RST). After `raw` returns the connection is closed. Helpers:
//    TestResponse::Reset() (RST without answering), TestResponse::Truncated()
//    (headers announce N bytes, fewer are sent, then close),
//    TestResponse::RawBytes() (send bytes, then close).
//  - Every request (also raw-mode ones) is recorded in arrival order; see
//    Requests(). Each records which connection it came on, so tests can check
//    keep-alive reuse.
//
// Thread-safety: the handler runs on connection threads, possibly
// concurrently; it must be thread-safe. SetHandler(), Requests(),
// ConnectionCount() and Stop() may be called from any thread. Malformed
// requests get "400 Bad Request" and the connection is closed. Limits: 64 KiB
// of headers, 256 MiB of body per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "repofs/http_transport.h"

namespace repofs::test {

struct TestRequest {
  std::string method;                // "GET"
  std::string target;                // path with query, as sent: "/a/b?x=1"
  std::string path;                  // target up to '?'
  std::string query;                 // after '?', "" if none (not decoded)
  std::vector<HttpHeader> headers;   // names lower-cased, arrival order
  std::string body;                  // de-chunked
  uint64_t connection_id = 0;        // 1, 2, ... in accept order
  uint64_t index_on_connection = 0;  // 0 for the first request of a connection

  // The first header named `name` (lower-case), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// A connection in raw mode. Writes go straight to the socket.
class RawConnection {
 public:
  explicit RawConnection(int fd) : fd_(fd) {}
  // Writes all of `bytes`; false if the peer is gone.
  bool Write(std::string_view bytes);
  // Aborts the connection with a TCP RST (SO_LINGER 0 + close). Further
  // writes fail.
  void Reset();
  bool is_reset() const { return fd_ < 0; }
  // The underlying socket (e.g. to sleep between writes); -1 after Reset().
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct TestResponse {
  int status = 200;
  std::vector<HttpHeader> headers;  // sent as given, in order
  std::string body;
  bool close = false;  // send "Connection: close" and close afterwards
  // Raw mode (see the file comment): when set, everything above is ignored.
  std::function<void(RawConnection&)> raw;

  static TestResponse Text(int status, std::string body,
                           std::string content_type = "text/plain");
  // Sends `bytes` verbatim, then closes.
  static TestResponse RawBytes(std::string bytes);
  // Closes with a TCP RST without answering.
  static TestResponse Reset();
  // A response announcing `announced_length` body bytes but sending only
  // `partial_body`, then closing (or resetting, if `reset`).
  static TestResponse Truncated(int status, uint64_t announced_length,
                                std::string partial_body, bool reset = false);
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

class HttpTestServer {
 public:
  // Starts serving at once; aborts the test binary if it cannot bind.
  explicit HttpTestServer(TestHandler handler);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string BaseUrl() const;

  // Replaces the handler for requests parsed from now on.
  void SetHandler(TestHandler handler);
  // All requests received so far, in arrival order.
  std::vector<TestRequest> Requests() const;
  // Connections accepted so far.
  uint64_t ConnectionCount() const;
  // Stops accepting, closes every connection, joins all threads.
  // Idempotent.
  void Stop();

 private:
  struct Connection;
  void AcceptLoop();
  void Serve(Connection* conn);
  TestHandler CurrentHandler() const;
  void ReapFinished();

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written by Stop() to wake AcceptLoop
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;

  // Lock order: mu_ is a leaf (never held while calling the handler or doing
  // socket I/O).
  mutable std::mutex mu_;
  TestHandler handler_;                             // GUARDED_BY(mu_)
  std::vector<TestRequest> requests_;               // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Connection>> conns_;  // GUARDED_BY(mu_)
  uint64_t connection_count_ = 0;                   // GUARDED_BY(mu_)
};

}  // namespace repofs::test
