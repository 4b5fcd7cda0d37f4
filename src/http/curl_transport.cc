#include "http/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "util/handles.h"
#include "util/log.h"
#include "util/string_util.h"

namespace repofs::http {
namespace {

using CurlEasy = std::unique_ptr<CURL, CDeleter<curl_easy_cleanup>>;
using CurlShare = std::unique_ptr<CURLSH, CDeleter<curl_share_cleanup>>;
using CurlSlist = std::unique_ptr<curl_slist, CDeleter<curl_slist_free_all>>;

// Error bodies are small XML documents; a misbehaving server must not make
// us buffer an unbounded amount of memory for one.
constexpr size_t kMaxErrorBodyBytes = 1 << 20;
constexpr long kReceiveBufferBytes = 256L * 1024;
constexpr long kUploadBufferBytes = 512L * 1024;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode rc = curl_global_init(CURL_GLOBAL_ALL);
    if (rc != CURLE_OK) {
      REPOFS_LOG(kError) << "curl_global_init failed: "
                         << curl_easy_strerror(rc);
      std::abort();
    }
  });
}

// The state of one exchange, reached from libcurl's C callbacks.
struct Exchange {
  const HttpRequest* request = nullptr;
  const BodySink* sink = nullptr;
  HttpResponse* response = nullptr;
  uint64_t read_offset = 0;
  bool sink_aborted = false;
  bool payload_failed = false;
  int payload_errno = 0;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  bool StreamToSink() const {
    return sink != nullptr && *sink && response->status >= 200 &&
           response->status < 300;
  }
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (StartsWith(line, "HTTP/")) {
    // A new status line (e.g. after an interim 1xx) starts a new header set.
    ex->response->headers.clear();
    ex->response->status = 0;
    size_t space = line.find(' ');
    if (space != std::string_view::npos) {
      auto code = ParseInt(Trim(line.substr(space + 1, 4)));
      if (code) ex->response->status = static_cast<int>(*code);
    }
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;
  ex->response->headers.push_back(
      HttpHeader{ToLower(Trim(line.substr(0, colon))),
                 std::string(Trim(line.substr(colon + 1)))});
  return bytes;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  ex->response->body_bytes += bytes;
  if (ex->StreamToSink()) {
    bool keep_going = false;
    try {
      keep_going = (*ex->sink)(std::string_view(data, bytes));
    } catch (...) {
      // Exceptions must not unwind through libcurl's C frames.
      keep_going = false;
    }
    if (!keep_going) {
      ex->sink_aborted = true;
      return 0;  // CURLE_WRITE_ERROR
    }
    return bytes;
  }
  std::string& body = ex->response->body;
  const bool is_error =
      ex->response->status < 200 || ex->response->status >= 300;
  if (is_error && body.size() + bytes > kMaxErrorBodyBytes) {
    body.append(data,
                kMaxErrorBodyBytes - std::min(body.size(), kMaxErrorBodyBytes));
  } else {
    body.append(data, bytes);
  }
  return bytes;
}

size_t OnRead(char* out, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const Payload* body = ex->request->body;
  if (body == nullptr) return 0;
  ssize_t n = body->Read(ex->read_offset, out, size * count);
  if (n < 0) {
    ex->payload_failed = true;
    ex->payload_errno = static_cast<int>(-n);
    return CURL_READFUNC_ABORT;
  }
  ex->read_offset += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

// libcurl rewinds the body when it re-sends a request on a fresh connection
// (e.g. a kept-alive connection the server had closed); reads are
// positional, so a rewind is just a new offset.
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* ex = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  ex->read_offset = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

TransportErrorKind Classify(CURLcode rc, const Exchange& ex) {
  if (ex.sink_aborted) return TransportErrorKind::kAborted;
  if (ex.payload_failed) return TransportErrorKind::kLocalIo;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportErrorKind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportErrorKind::kTimeout;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
      return TransportErrorKind::kReset;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return TransportErrorKind::kTls;
    case CURLE_WRITE_ERROR:
      return TransportErrorKind::kAborted;
    case CURLE_READ_ERROR:
      return TransportErrorKind::kLocalIo;
    default:
      return TransportErrorKind::kOther;
  }
}

// "GET http://host/path" without the query string: messages stay short and
// never carry anything but the resource name.
std::string Describe(const HttpRequest& request) {
  std::string_view url = request.url;
  size_t q = url.find('?');
  if (q != std::string_view::npos) url = url.substr(0, q);
  return request.method + " " + std::string(url);
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options);

  Result<HttpResponse, TransportError> Perform(const HttpRequest& request,
                                               const BodySink* sink) override;

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user);
  static void Unlock(CURL*, curl_lock_data data, void* user);

  CurlEasy Acquire();
  void Release(CurlEasy handle);
  CurlEasy NewHandle() const;
  CurlSlist BuildHeaders(const HttpRequest& request) const;
  static void SetMethod(CURL* h, const HttpRequest& request, Exchange* ex);

  const CurlTransportOptions options_;
  std::string ca_file_;
  // One mutex per curl_lock_data kind (libcurl asks for one at a time).
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks_;
  CurlShare share_;
  std::mutex pool_mu_;          // leaf lock; never held across network I/O
  std::vector<CurlEasy> idle_;  // GUARDED_BY(pool_mu_); back = most recent
};

CurlTransport::CurlTransport(CurlTransportOptions options)
    : options_(std::move(options)) {
  ca_file_ = options_.ca_file;
  if (ca_file_.empty()) {
    // Read once at construction, before any request thread exists.
    const char* env =
        std::getenv("AWS_CA_BUNDLE");  // NOLINT(concurrency-mt-unsafe)
    if (env != nullptr) ca_file_ = env;
  }
  share_.reset(curl_share_init());
  if (!share_) std::abort();
  curl_share_setopt(share_.get(), CURLSHOPT_LOCKFUNC, &CurlTransport::Lock);
  curl_share_setopt(share_.get(), CURLSHOPT_UNLOCKFUNC, &CurlTransport::Unlock);
  curl_share_setopt(share_.get(), CURLSHOPT_USERDATA, this);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

void CurlTransport::Lock(CURL*, curl_lock_data data, curl_lock_access,
                         void* user) {
  auto* self = static_cast<CurlTransport*>(user);
  self->share_locks_[static_cast<size_t>(data) % CURL_LOCK_DATA_LAST].lock();
}

void CurlTransport::Unlock(CURL*, curl_lock_data data, void* user) {
  auto* self = static_cast<CurlTransport*>(user);
  self->share_locks_[static_cast<size_t>(data) % CURL_LOCK_DATA_LAST].unlock();
}

// Options that never change between requests are set once per handle.
CurlEasy CurlTransport::NewHandle() const {
  CurlEasy handle(curl_easy_init());
  if (!handle) std::abort();
  CURL* h = handle.get();
  curl_easy_setopt(h, CURLOPT_SHARE, share_.get());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // S3 keys may contain "/./" or "/../"; they must reach the server as is.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout_ms));
  if (options_.low_speed_time_s > 0) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options_.low_speed_time_s));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
                     static_cast<long>(options_.low_speed_bytes));
  }
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(options_.request_timeout_ms));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!ca_file_.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
  curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &OnSeek);
  return handle;
}

CurlEasy CurlTransport::Acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!idle_.empty()) {
      CurlEasy handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return NewHandle();
}

void CurlTransport::Release(CurlEasy handle) {
  std::unique_lock<std::mutex> lock(pool_mu_);
  if (idle_.size() <
      static_cast<size_t>(std::max(options_.max_connections, 1))) {
    idle_.push_back(std::move(handle));
    return;
  }
  lock.unlock();
  handle.reset();  // closes its connection outside the lock
}

CurlSlist CurlTransport::BuildHeaders(const HttpRequest& request) const {
  curl_slist* list = nullptr;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) std::abort();
    list = next;
  };
  for (const HttpHeader& header : request.headers) {
    // Content-Length comes from the payload size; a second one would be a
    // protocol error.
    if (ToLower(header.name) == "content-length") continue;
    // "Name;" is libcurl's syntax for a header with an empty value.
    append(header.value.empty() ? header.name + ";"
                                : header.name + ": " + header.value);
  }
  // RGW and AWS handle Expect: 100-continue, but it costs a round trip per
  // upload; suppress it.
  append("Expect:");
  return CurlSlist(list);
}

void CurlTransport::SetMethod(CURL* h, const HttpRequest& request,
                              Exchange* ex) {
  // HTTPGET resets NOBODY and UPLOAD left over from the handle's last use.
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, static_cast<char*>(nullptr));
  const std::string& method = request.method;
  const bool has_body =
      request.body != nullptr || method == "PUT" || method == "POST";
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    // UPLOAD sends Content-Length from INFILESIZE (also "0" for an empty
    // POST, which S3 requires).
    const curl_off_t size =
        request.body ? static_cast<curl_off_t>(request.body->size()) : 0;
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
    if (method != "PUT")
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_easy_setopt(h, CURLOPT_READDATA, ex);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, ex);
}

Result<HttpResponse, TransportError> CurlTransport::Perform(
    const HttpRequest& request, const BodySink* sink) {
  HttpResponse response;
  Exchange ex;
  ex.request = &request;
  ex.sink = sink;
  ex.response = &response;

  CurlEasy handle = Acquire();
  CURL* h = handle.get();
  CurlSlist headers = BuildHeaders(request);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ex.error_buffer.data());
  SetMethod(h, request, &ex);

  CURLcode rc = curl_easy_perform(h);
  // Detach per-call pointers before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  Release(std::move(handle));

  if (rc != CURLE_OK) {
    TransportError error;
    error.kind = Classify(rc, ex);
    std::string detail = ex.error_buffer.data();
    error.message = Describe(request) + ": " + curl_easy_strerror(rc);
    if (error.kind == TransportErrorKind::kLocalIo) {
      error.message +=
          std::string(": reading the request body: ") +
          std::error_code(ex.payload_errno, std::generic_category()).message();
    } else if (!detail.empty()) {
      error.message += ": " + detail;
    }
    return error;
  }
  // libcurl reports a body cut short by a closed connection as
  // CURLE_PARTIAL_FILE; re-check here so no short body can pass as complete.
  if (request.method != "HEAD" && response.status >= 200 &&
      response.status != 204 && response.status != 304) {
    const std::string* length = response.Header("content-length");
    auto expected = length ? ParseInt(*length) : std::nullopt;
    if (expected && static_cast<uint64_t>(*expected) != response.body_bytes) {
      return TransportError{TransportErrorKind::kReset,
                            Describe(request) + ": body has " +
                                std::to_string(response.body_bytes) +
                                " bytes, Content-Length says " + *length};
    }
  }
  return response;
}

}  // namespace

CurlTransportOptions TransportOptionsFrom(const S3Options& s3) {
  CurlTransportOptions options;
  options.connect_timeout_ms = s3.connect_timeout_ms;
  options.low_speed_time_s = s3.low_speed_time_s;
  options.low_speed_bytes = s3.low_speed_bytes;
  options.request_timeout_ms = s3.request_timeout_ms;
  options.verify_tls = s3.verify_tls;
  options.ca_file = s3.ca_file;
  options.max_connections = s3.max_connections;
  return options;
}

std::shared_ptr<HttpTransport> CreateCurlTransport(
    const CurlTransportOptions& options) {
  GlobalInitOnce();
  return std::make_shared<CurlTransport>(options);
}

}  // namespace repofs::http
