// An HttpClient that answers from a script instead of the network, and records every request.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "net/http_client.h"

namespace bluegate::testing {

class FakeHttpClient final : public net::HttpClient {
 public:
  struct Request {
    std::string url;  // host:port + target
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int status;  // what it was answered; 0: no connection
  };

  // The status to answer a request with; 0 means the connection failed. Default: 200.
  void SetAnswer(std::function<int(const Request&)> answer) {
    std::lock_guard lock(mu_);
    answer_ = std::move(answer);
  }

  void Post(const HttpUrl& url, std::vector<std::pair<std::string, std::string>> headers,
            std::string body, std::function<void(net::PostResult)> done) override {
    net::PostResult r;
    {
      std::lock_guard lock(mu_);
      Request p{url.HostPort() + url.target, std::move(headers), std::move(body), 0};
      p.status = answer_ ? answer_(p) : 200;
      r.status = p.status;
      if (r.status == 0) r.error = "connection refused";
      posts_.push_back(std::move(p));
    }
    done(std::move(r));
  }

  void Call(net::HttpCall call, std::function<void(net::PostResult)> done) override {
    Post(call.url, std::move(call.headers), std::move(call.body), std::move(done));
  }

  // The dispatcher's tests fetch nothing.
  // What Fetch does instead of failing: given the file's path and the caller's `done`.
  using Fetcher = std::function<void(std::string path, std::function<void(net::FetchResult)>)>;
  void SetFetcher(Fetcher f) {
    std::lock_guard lock(mu_);
    fetcher_ = std::move(f);
  }

  void Fetch(const HttpUrl&, uint64_t, std::string path,
             std::function<void(net::FetchResult)> done) override {
    Fetcher f;
    {
      std::lock_guard lock(mu_);
      f = fetcher_;
    }
    if (f) return f(std::move(path), std::move(done));
    done(net::FetchResult{0, "the fake client fetches nothing", false, false, {}, {}});
  }
  void Probe(const HttpUrl&, std::function<void(net::FetchResult)> done) override {
    done(net::FetchResult{0, "the fake client fetches nothing", false, false, {}, {}});
  }
  void ReplaceTargets(Millis, net::AddressPolicy) override {}

  std::vector<Request> posts() const {
    std::lock_guard lock(mu_);
    return posts_;
  }

 private:
  mutable std::mutex mu_;
  std::function<int(const Request&)> answer_;
  std::vector<Request> posts_;
  Fetcher fetcher_;
};

}  // namespace bluegate::testing
