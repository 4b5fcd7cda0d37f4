#include "support/http_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "util/string_util.h"

namespace repofs::test {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr uint64_t kMaxBodyBytes = 256ull << 20;
constexpr int kPollMs = 1000;  // backstop; Stop() wakes pollers at once

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 416:
      return "Range Not Satisfiable";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool HasHeader(const std::vector<HttpHeader>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (ToLower(h.name) == name) return true;
  }
  return false;
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

const std::string* TestRequest::Header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

bool RawConnection::Write(std::string_view bytes) {
  return fd_ >= 0 && WriteAll(fd_, bytes);
}

void RawConnection::Reset() {
  if (fd_ < 0) return;
  // With a zero linger time, close() (done by the server right after the raw
  // callback returns) sends RST instead of FIN.
  linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  fd_ = -1;
}

TestResponse TestResponse::Text(int status, std::string body,
                                std::string content_type) {
  TestResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.push_back({"Content-Type", std::move(content_type)});
  return r;
}

TestResponse TestResponse::RawBytes(std::string bytes) {
  TestResponse r;
  r.raw = [bytes = std::move(bytes)](RawConnection& c) { c.Write(bytes); };
  return r;
}

TestResponse TestResponse::Reset() {
  TestResponse r;
  r.raw = [](RawConnection& c) { c.Reset(); };
  return r;
}

TestResponse TestResponse::Truncated(int status, uint64_t announced_length,
                                     std::string partial_body, bool reset) {
  TestResponse r;
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) +
      "\r\nContent-Length: " + std::to_string(announced_length) + "\r\n\r\n";
  r.raw = [head = std::move(head), body = std::move(partial_body),
           reset](RawConnection& c) {
    c.Write(head);
    c.Write(body);
    if (reset) c.Reset();
  };
  return r;
}

// ---------------------------------------------------------------------------

struct HttpTestServer::Connection {
  int fd = -1;  // GUARDED_BY(server mu_) for closing; the thread reads/writes
  uint64_t id = 0;
  std::thread thread;
  std::atomic<bool> done{false};
  std::string buf;  // bytes received and not yet consumed
};

namespace {

// Reads from the connection until `buf` holds more bytes. False on EOF,
// error, or stop.
bool ReadMore(int fd, std::string& buf, const std::atomic<bool>& stopping) {
  char chunk[16 * 1024];
  for (;;) {
    if (stopping) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, kPollMs);
    if (rc < 0 && errno != EINTR) return false;
    if (rc <= 0) continue;
    if (stopping) return false;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

// Takes exactly `n` bytes from the stream into `out`.
bool ReadExact(int fd, std::string& buf, uint64_t n, std::string& out,
               const std::atomic<bool>& stopping) {
  while (buf.size() < n) {
    if (!ReadMore(fd, buf, stopping)) return false;
  }
  out.append(buf, 0, n);
  buf.erase(0, n);
  return true;
}

// Takes one CRLF-terminated line (without the CRLF).
bool ReadLine(int fd, std::string& buf, std::string& line,
              const std::atomic<bool>& stopping) {
  size_t eol;
  while ((eol = buf.find("\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeaderBytes || !ReadMore(fd, buf, stopping)) {
      return false;
    }
  }
  line = buf.substr(0, eol);
  buf.erase(0, eol + 2);
  return true;
}

bool ReadChunkedBody(int fd, std::string& buf, std::string& body,
                     const std::atomic<bool>& stopping) {
  for (int chunks = 0; chunks < 1'000'000; ++chunks) {
    std::string line;
    if (!ReadLine(fd, buf, line, stopping)) return false;
    char* end = nullptr;
    unsigned long long size = std::strtoull(line.c_str(), &end, 16);
    if (end == line.c_str() || body.size() + size > kMaxBodyBytes) return false;
    if (size == 0) {
      // Trailers until the empty line.
      for (int i = 0; i < 100; ++i) {
        if (!ReadLine(fd, buf, line, stopping)) return false;
        if (line.empty()) return true;
      }
      return false;
    }
    std::string crlf;
    if (!ReadExact(fd, buf, size, body, stopping) ||
        !ReadExact(fd, buf, 2, crlf, stopping) || crlf != "\r\n") {
      return false;
    }
  }
  return false;
}

enum class ParseResult { kOk, kClosed, kBad };

// Parses request line and headers from the stream; answers 100-continue;
// reads the body.
ParseResult ReadRequest(int fd, std::string& buf, TestRequest& req,
                        const std::atomic<bool>& stopping) {
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeaderBytes) return ParseResult::kBad;
    if (!ReadMore(fd, buf, stopping)) {
      return buf.empty() ? ParseResult::kClosed : ParseResult::kBad;
    }
  }
  std::string head = buf.substr(0, end);
  buf.erase(0, end + 4);
  std::vector<std::string> lines = Split(head, '\n');
  std::vector<std::string> parts = Split(Trim(lines[0]), ' ');
  if (parts.size() != 3 || !StartsWith(parts[2], "HTTP/1.")) {
    return ParseResult::kBad;
  }
  req.method = parts[0];
  req.target = parts[1];
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) return ParseResult::kBad;
    req.headers.push_back({ToLower(Trim(lines[i].substr(0, colon))),
                           std::string(Trim(lines[i].substr(colon + 1)))});
  }
  const std::string* expect = req.Header("expect");
  if (expect != nullptr && ToLower(*expect) == "100-continue") {
    if (!WriteAll(fd, "HTTP/1.1 100 Continue\r\n\r\n"))
      return ParseResult::kBad;
  }
  const std::string* te = req.Header("transfer-encoding");
  if (te != nullptr && ToLower(*te).find("chunked") != std::string::npos) {
    return ReadChunkedBody(fd, buf, req.body, stopping) ? ParseResult::kOk
                                                        : ParseResult::kBad;
  }
  if (const std::string* cl = req.Header("content-length")) {
    auto n = ParseInt(*cl);
    if (!n || *n < 0 || static_cast<uint64_t>(*n) > kMaxBodyBytes) {
      return ParseResult::kBad;
    }
    if (!ReadExact(fd, buf, static_cast<uint64_t>(*n), req.body, stopping)) {
      return ParseResult::kBad;
    }
  }
  return ParseResult::kOk;
}

std::string SerializeHead(const TestRequest& req, const TestResponse& resp) {
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                    ReasonPhrase(resp.status) + "\r\n";
  for (const auto& h : resp.headers) out += h.name + ": " + h.value + "\r\n";
  const bool bodiless = resp.status == 204 || resp.status == 304 ||
                        (resp.status >= 100 && resp.status < 200);
  if (!bodiless && !HasHeader(resp.headers, "content-length")) {
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
  }
  if (resp.close && !HasHeader(resp.headers, "connection")) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  if (req.method != "HEAD" && !bodiless) out += resp.body;
  return out;
}

}  // namespace

HttpTestServer::HttpTestServer(TestHandler handler)
    : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
          0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
          0) {
    std::fprintf(stderr, "HttpTestServer: cannot listen on 127.0.0.1: %s\n",
                 std::strerror(errno));
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "HttpTestServer: pipe2: %s\n", std::strerror(errno));
    std::abort();
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

HttpTestServer::~HttpTestServer() { Stop(); }

std::string HttpTestServer::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void HttpTestServer::SetHandler(TestHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

TestHandler HttpTestServer::CurrentHandler() const {
  std::lock_guard<std::mutex> lock(mu_);
  return handler_;
}

std::vector<TestRequest> HttpTestServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

uint64_t HttpTestServer::ConnectionCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connection_count_;
}

void HttpTestServer::AcceptLoop() {
  while (!stopping_) {
    ReapFinished();
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(p, 2, kPollMs) <= 0 || stopping_) continue;
    if ((p[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->id = ++connection_count_;
    Connection* raw = conn.get();
    conn->thread = std::thread([this, raw] { Serve(raw); });
    conns_.push_back(std::move(conn));
  }
}

void HttpTestServer::ReapFinished() {
  std::vector<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->done) {
        finished.push_back(std::move(*it));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) c->thread.join();
}

void HttpTestServer::Serve(Connection* conn) {
  const int fd = conn->fd;
  for (uint64_t index = 0; !stopping_; ++index) {
    TestRequest req;
    ParseResult parsed = ReadRequest(fd, conn->buf, req, stopping_);
    if (parsed == ParseResult::kClosed) break;
    if (parsed == ParseResult::kBad) {
      WriteAll(fd,
               "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
               "Connection: close\r\n\r\n");
      break;
    }
    req.connection_id = conn->id;
    req.index_on_connection = index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    TestHandler handler = CurrentHandler();
    TestResponse resp = handler ? handler(req) : TestResponse::Text(500, "");
    if (resp.raw) {
      RawConnection raw(fd);
      resp.raw(raw);
      break;
    }
    if (!WriteAll(fd, SerializeHead(req, resp))) break;
    const std::string* connection = req.Header("connection");
    if (resp.close || (connection && ToLower(*connection) == "close")) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ::close(conn->fd);
  conn->fd = -1;
  conn->done = true;
}

void HttpTestServer::Stop() {
  if (stopping_.exchange(true)) return;
  // The pipe stays readable, waking the accept loop's poll at once;
  // connection threads are woken by shutdown() below.
  char byte = 0;
  while (::write(wake_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::vector<std::unique_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Wake threads blocked in poll/recv at once rather than after kPollMs.
    for (auto& c : conns_) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
    conns.swap(conns_);
  }
  for (auto& c : conns) c->thread.join();
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

}  // namespace repofs::test
