// An HTTP/1.1 client for webhook deliveries: keep-alive connections pooled per endpoint, a bounded
// number of concurrent requests per endpoint (one slow receiver cannot take every connection), a
// timeout per request, no redirects, and the address policy checked on the resolved address that
// is then connected to.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/url.h"
#include "net/address_policy.h"

namespace bluegate::net {

struct HttpClientSettings {
  Millis timeout{15000};
  size_t max_connections_per_endpoint = 16;
  AddressPolicy policy;
  std::string user_agent = "bluegate-webhooks/0.1";
  // HTTPS: certificates are verified against the system's CAs plus, when set, this PEM bundle
  // (a private CA, or a test receiver's certificate).
  std::string ca_file;
  bool verify_tls = true;
};

struct PostResult {
  int status = 0;        // 0: no HTTP response
  std::string error;     // why there was no response, or the refusal
  bool refused = false;  // the address policy refused the target: retrying will not help
  std::optional<Millis> retry_after;
  Millis latency{0};
  std::string body;  // the response body (Call only; Post discards it)
};

// One request of any method (a carrier's REST call): the response body comes back, up to
// `max_response_bytes`.
struct HttpCall {
  std::string method = "POST";  // GET, POST, PUT, DELETE
  HttpUrl url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;               // sent as application/json unless a header says otherwise
  std::optional<Millis> timeout;  // the client's own when unset
  size_t max_response_bytes = 4 << 20;
};

struct FetchResult {
  int status = 0;                 // 0: no HTTP response
  std::string error;              // why the file was not fetched (empty on success)
  bool refused = false;           // the address policy refused the target
  bool too_large = false;         // the body (or its declared length) is over the cap
  std::optional<uint64_t> bytes;  // the body's size: written, or declared by a HEAD answer
  std::string content_type;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // POSTs `body` as application/json. `done` runs once, on an io_context thread.
  virtual void Post(const HttpUrl& url, std::vector<std::pair<std::string, std::string>> headers,
                    std::string body, std::function<void(PostResult)> done) = 0;
  // Any request, pooled like Post. `done` runs once, on an io_context thread.
  virtual void Call(HttpCall call, std::function<void(PostResult)> done) = 0;
  // GETs `url` into the file `path` as it arrives (the body is never held in memory), refusing
  // a body over `max_bytes` (too_large; the partial file is removed). Non-2xx answers are an
  // error. No redirects; the address policy applies. `done` runs once, on an io_context thread.
  virtual void Fetch(const HttpUrl& url, uint64_t max_bytes, std::string path,
                     std::function<void(FetchResult)> done) = 0;
  // HEADs `url`: the size the server declares, without the body.
  virtual void Probe(const HttpUrl& url, std::function<void(FetchResult)> done) = 0;
  // New requests use this timeout and address policy (SIGHUP); those under way keep theirs.
  // Thread-safe.
  virtual void ReplaceTargets(Millis timeout, AddressPolicy policy) = 0;
};

// Throws std::runtime_error when `settings.ca_file` cannot be read.
std::unique_ptr<HttpClient> MakeHttpClient(boost::asio::io_context& io,
                                           const HttpClientSettings& settings);

}  // namespace bluegate::net
