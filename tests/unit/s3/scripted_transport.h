// ScriptedTransport: an in-process HttpTransport for S3Client tests. Each
// Perform() records the request (with a copy of its body) and answers with
// the next scripted reply; a 2xx body is streamed to the sink in small
// chunks, exactly as the real transport does. Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "repofs/clock.h"
#include "repofs/credentials.h"
#include "repofs/http_transport.h"

namespace repofs::s3::testing {

struct Reply {
  int status = 200;
  std::vector<HttpHeader> headers;
  std::string body;
  // Set to fail the exchange instead (after streaming `body` to the sink).
  std::optional<TransportErrorKind> error;
  // When set, the body reported as received (body_bytes) differs.
  std::optional<uint64_t> body_bytes;
};

inline Reply Ok(std::string body = "", std::vector<HttpHeader> headers = {}) {
  Reply r;
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.headers.push_back({"content-length", std::to_string(r.body.size())});
  return r;
}

inline Reply Status(int status, std::string body = "",
                    std::vector<HttpHeader> headers = {}) {
  Reply r = Ok(std::move(body), std::move(headers));
  r.status = status;
  return r;
}

inline Reply Fail(TransportErrorKind kind) {
  Reply r;
  r.error = kind;
  return r;
}

struct SentRequest {
  std::string method;
  std::string url;
  std::vector<HttpHeader> headers;
  std::string body;
  bool had_body = false;

  const std::string* Header(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.name == name) return &h.value;
    }
    return nullptr;
  }
};

class ScriptedTransport final : public HttpTransport {
 public:
  void Push(Reply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(std::move(reply));
  }

  Result<HttpResponse, TransportError> Perform(const HttpRequest& request,
                                               const BodySink* sink) override {
    Reply reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      SentRequest sent{request.method, request.url, request.headers, "", false};
      if (request.body != nullptr) {
        sent.had_body = true;
        sent.body.resize(request.body->size());
        if (request.body->Read(0, sent.body.data(), sent.body.size()) < 0) {
          return TransportError{TransportErrorKind::kLocalIo, "read failed"};
        }
      }
      sent_.push_back(std::move(sent));
      if (replies_.empty()) {
        return TransportError{TransportErrorKind::kOther, "no scripted reply"};
      }
      reply = std::move(replies_.front());
      replies_.pop_front();
    }
    HttpResponse response;
    response.status = reply.status;
    response.headers = reply.headers;
    bool stream =
        sink != nullptr && *sink && reply.status >= 200 && reply.status < 300;
    for (size_t at = 0; at < reply.body.size(); at += 7) {
      std::string_view chunk = std::string_view(reply.body).substr(at, 7);
      if (stream) {
        if (!(*sink)(chunk))
          return TransportError{TransportErrorKind::kAborted, "sink"};
      } else {
        response.body.append(chunk);
      }
    }
    response.body_bytes = reply.body_bytes.value_or(reply.body.size());
    if (reply.error) return TransportError{*reply.error, "scripted failure"};
    return response;
  }

  std::vector<SentRequest> Sent() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  SentRequest Last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_.empty() ? SentRequest{} : sent_.back();
  }
  size_t Pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<Reply> replies_;
  std::vector<SentRequest> sent_;
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now) : now_(now) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point();
  }
  void SleepFor(std::chrono::nanoseconds) const override {}

 private:
  std::chrono::system_clock::time_point now_;
};

class StaticCredentials final : public CredentialsProvider {
 public:
  explicit StaticCredentials(Credentials creds, bool fail = false)
      : creds_(std::move(creds)), fail_(fail) {}
  Result<Credentials> GetCredentials() override {
    if (fail_) return Error{EACCES, "no credentials in environment"};
    return creds_;
  }
  std::string Describe() const override { return "static"; }

 private:
  Credentials creds_;
  bool fail_;
};

}  // namespace repofs::s3::testing
