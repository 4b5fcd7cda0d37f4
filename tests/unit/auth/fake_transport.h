// FakeTransport: an in-process HttpTransport for provider tests. A handler
// maps each request to a response or a transport error; every request is
// recorded (method, url, headers). Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "repofs/http_transport.h"

namespace repofs::test {

class FakeTransport final : public HttpTransport {
 public:
  using Handler =
      std::function<Result<HttpResponse, TransportError>(const HttpRequest&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse, TransportError> Perform(const HttpRequest& request,
                                               const BodySink*) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Recorded r{request.method, request.url, request.headers};
      requests_.push_back(std::move(r));
    }
    return handler_(request);
  }

  struct Recorded {
    std::string method;
    std::string url;
    std::vector<HttpHeader> headers;
    const std::string* Header(const std::string& name) const {
      for (const auto& h : headers) {
        if (h.name == name) return &h.value;
      }
      return nullptr;
    }
  };
  std::vector<Recorded> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  static HttpResponse Response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body_bytes = body.size();
    r.body = std::move(body);
    return r;
  }
  static TransportError Failure(TransportErrorKind kind, std::string message) {
    return TransportError{kind, std::move(message)};
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<Recorded> requests_;  // GUARDED_BY(mu_)
};

}  // namespace repofs::test
