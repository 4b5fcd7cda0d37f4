// CurlTransport: the libcurl implementation of HttpTransport.
//
// One process-wide curl_global_init (done by the first CreateCurlTransport
// call). Each transport owns a pool of reusable easy handles; every easy
// handle keeps its own keep-alive connection, so taking the most recently
// returned handle (LIFO) reuses a warm connection, across calls and across
// threads. A CURLSH share (with mutex lock callbacks) holds the DNS cache and
// TLS session IDs for all handles of the transport. The connection cache is
// deliberately NOT shared: libcurl does not support sharing connections
// between concurrent threads (CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT).
//
// Request bodies are read from the Payload with positional reads (so a
// Payload can be reused and libcurl may rewind); Content-Length is always
// sent for PUT/POST (RGW and AWS answer 411 otherwise); "Expect:
// 100-continue" is suppressed; TCP_NODELAY is on; the URL path is sent as
// given (no dot-segment squashing: S3 keys may contain "/../").
//
// Ownership: the transport is shared (std::shared_ptr) by its users; the
// pool's handles live as long as the transport.
// Thread-safety: Perform() may be called concurrently from any thread.
#pragma once

#include <memory>
#include <string>

#include "repofs/http_transport.h"
#include "repofs/s3_options.h"

namespace repofs::http {

struct CurlTransportOptions {
  int connect_timeout_ms = 5000;
  // A transfer slower than low_speed_bytes/s for low_speed_time_s fails with
  // kTimeout (0 disables the check).
  int low_speed_time_s = 30;
  int low_speed_bytes = 1024;
  int request_timeout_ms = 0;  // whole exchange; 0 = no cap
  bool verify_tls = true;
  std::string ca_file;  // "" -> $AWS_CA_BUNDLE if set, else system default
  // Idle easy handles (and so keep-alive connections) kept for reuse.
  int max_connections = 64;
};

// The transport settings of an S3Options (timeouts, TLS, pool size).
CurlTransportOptions TransportOptionsFrom(const S3Options& s3);

// A new transport. Never returns nullptr (aborts only if libcurl cannot
// initialise at all, which means the process is out of memory).
std::shared_ptr<HttpTransport> CreateCurlTransport(
    const CurlTransportOptions& options);

}  // namespace repofs::http
