// HttpTransport: one HTTP/1.1 exchange at a time per call, over a shared pool
// of keep-alive connections (the libcurl implementation lives in src/http/).
//
// The transport knows nothing about S3 or signing: the caller passes a fully
// formed request (URL, all headers including Authorization) and gets the
// status, headers and either a streamed or a collected body. It does not
// retry; s3::RetryingObjectClient owns retries because every attempt needs a
// fresh signature.
//
// Thread-safety: Perform() may be called concurrently from any number of
// threads; connections are reused across threads.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "repofs/payload.h"
#include "repofs/result.h"

namespace repofs {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;                  // "GET", "PUT", "HEAD", ...
  std::string url;                     // absolute, already percent-encoded
  std::vector<HttpHeader> headers;     // sent as given (plus Content-Length)
  const Payload* body = nullptr;       // nullptr: no body
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;     // names lower-cased, in arrival order
  std::string body;                    // collected when not streamed to a sink
  uint64_t body_bytes = 0;             // bytes received (streamed or not)

  // The first header named `name` (lower-case), or nullptr.
  const std::string* Header(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.name == name) return &h.value;
    }
    return nullptr;
  }
};

enum class TransportErrorKind {
  kConnect,   // refused, unreachable, DNS
  kTimeout,   // connect timeout, or slower than the low-speed limit
  kReset,     // connection reset / closed mid-exchange / partial body
  kTls,       // certificate or handshake failure
  kAborted,   // the body sink returned false
  kLocalIo,   // reading the request payload failed
  kOther,
};

struct TransportError {
  TransportErrorKind kind = TransportErrorKind::kOther;
  std::string message;  // one line; never contains request headers
};

// Receives the response body when the status is 2xx. Return false to abort.
using BodySink = std::function<bool(std::string_view chunk)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Performs `request`. If `sink` is non-null and the response status is
  // 2xx, body bytes are passed to it as they arrive (response.body stays
  // empty); otherwise the body is collected into response.body. A received
  // HTTP response of any status is success at this layer; errors are only
  // failures to complete the exchange (including a body shorter than its
  // Content-Length, reported as kReset).
  virtual Result<HttpResponse, TransportError> Perform(
      const HttpRequest& request, const BodySink* sink) = 0;
};

}  // namespace repofs
