// LoopbackServer: a tiny threaded HTTP/1.1 server on 127.0.0.1:<ephemeral>
// for transport tests. It parses each request (request line, headers, a
// Content-Length body) on a kept-alive connection and hands it to a handler
// that writes whatever raw bytes it wants to the socket -- a well-formed
// response, half a body, a reset, or nothing at all.
//
// Ownership: the server owns its listening socket, the accepted sockets and
// one thread per connection; the destructor stops and joins them all.
// Thread-safety: handlers run on connection threads, concurrently.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace repofs::testing {

struct ServerRequest {
  std::string method;
  std::string target;                          // path and query as sent
  std::map<std::string, std::string> headers;  // lower-cased names
  std::vector<std::string> header_names;       // lower-cased, in order
  std::string body;
};

// Writes a complete response; `extra` holds full header lines ("A: b\r\n").
inline std::string MakeResponse(int status, const std::string& body,
                                const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra + "\r\n" + body;
}

inline bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Closes `fd` with an RST instead of a FIN.
inline void ResetConnection(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  ::shutdown(fd, SHUT_RD);
}

class LoopbackServer {
 public:
  // Returns true to keep the connection open for the next request.
  using Handler = std::function<bool(const ServerRequest&, int fd)>;

  // Raw mode: called once per accepted connection before any parsing;
  // return false to close the connection without reading a request.
  using RawHandler = std::function<bool(int fd)>;

  explicit LoopbackServer(Handler handler, RawHandler raw = nullptr)
      : handler_(std::move(handler)), raw_(std::move(raw)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~LoopbackServer() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections_accepted() const { return accepted_.load(); }
  int requests_served() const { return requests_.load(); }
  bool stopping() const { return stop_.load(); }

  // Sleeps up to `d`, returning early when the server stops.
  void SleepUnlessStopping(std::chrono::milliseconds d) const {
    auto end = std::chrono::steady_clock::now() + d;
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ++accepted_;
      std::lock_guard<std::mutex> lock(mu_);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Reads until `buf` holds `want` bytes; false on EOF, error or stop.
  bool ReadMore(int fd, std::string* buf) {
    char chunk[16384];
    for (;;) {
      if (stop_) return false;
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r == 0) continue;
      if (r < 0) return false;
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return false;
      buf->append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  bool ReadRequest(int fd, std::string* buf, ServerRequest* req) {
    size_t end;
    while ((end = buf->find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(fd, buf)) return false;
    }
    std::string head = buf->substr(0, end);
    buf->erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    size_t s1 = first.find(' ');
    size_t s2 = first.rfind(' ');
    req->method = first.substr(0, s1);
    req->target = first.substr(s1 + 1, s2 - s1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(c));
        size_t v = line.find_first_not_of(' ', colon + 1);
        req->headers[name] = v == std::string::npos ? "" : line.substr(v);
        req->header_names.push_back(name);
      }
      pos = next + 2;
    }
    size_t length = 0;
    auto it = req->headers.find("content-length");
    if (it != req->headers.end()) length = std::stoul(it->second);
    while (buf->size() < length) {
      if (!ReadMore(fd, buf)) return false;
    }
    req->body = buf->substr(0, length);
    buf->erase(0, length);
    return true;
  }

  void Serve(int fd) {
    std::string buf;
    if (raw_ && !raw_(fd)) {
      ::close(fd);
      return;
    }
    for (int i = 0; i < 100000 && !stop_; ++i) {
      ServerRequest req;
      if (!ReadRequest(fd, &buf, &req)) break;
      ++requests_;
      if (!handler_(req, fd)) break;
    }
    ::close(fd);
  }

  Handler handler_;
  RawHandler raw_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> threads_;  // GUARDED_BY(mu_)
};

}  // namespace repofs::testing
