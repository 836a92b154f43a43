// The HTTP/1.1 server (Boost.Beast), over TCP or TLS: keep-alive, strict framing (http_framing.h),
// a body cap answered with 413, idle, header, body and send timeouts, bounded connections (in total
// and per client address), and a graceful stop. It knows nothing of bluegate's API: every request
// goes to one Handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <memory>
#include <string>

#include "api/http_types.h"
#include "core/metrics.h"
#include "core/result.h"

namespace bluegate::api {

struct HttpServerSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 * 1024;              // a larger request head gets 431
  std::chrono::milliseconds idle_timeout{60000};    // a kept-alive connection waiting for a request
  std::chrono::milliseconds header_timeout{10000};  // from a request's first byte to its blank line
  std::chrono::milliseconds body_timeout{30000};    // for the whole body
  std::chrono::milliseconds send_timeout{30000};    // a response making no progress is dropped
  // Past either bound a new connection gets 503 with Retry-After and is closed at once.
  size_t max_connections = 10000;
  size_t max_connections_per_address = 256;
  // POST /api/upload-file carries its file in the body (multipart/form-data): up to this many
  // bytes, held in memory while the request is served, by at most this many requests at once
  // (another gets 503 with Retry-After).
  size_t max_upload_bytes = 25ull << 20;
  size_t max_concurrent_uploads = 4;
  // One log line per answer (core/log_format.h): request id, method, route, status, duration.
  bool access_log = false;
  // PEM files: when set, every connection is HTTPS (TLS 1.2 or 1.3, api/http_tls.h).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Binds and starts accepting. Throws std::runtime_error when the address cannot be bound.
  virtual void Start() = 0;
  virtual std::string local_address() const = 0;  // "127.0.0.1:8080"
  // Stops accepting; connections close after their current response. Thread-safe.
  virtual void Stop() = 0;
  virtual size_t open_connections() const = 0;
  // Reads a TLS certificate and key (the same files again, or others): new connections use them,
  // open ones keep theirs. On an error (named file, what is wrong) the current ones stay.
  // Thread-safe.
  virtual Result<Ok> ReloadCertificate(const std::string& cert_file,
                                       const std::string& key_file) = 0;
};

// What a client's connections are counted under for max_connections_per_address: its IPv4
// address, or its IPv6 /64 (one subscriber usually holds a whole /64, so counting single IPv6
// addresses would bound nothing). An IPv4-mapped address counts as its IPv4 address.
std::string ConnectionGroup(const boost::asio::ip::address& a);

std::unique_ptr<HttpServer> MakeHttpServer(boost::asio::io_context& io,
                                           const HttpServerSettings& settings, Handler handler,
                                           Metrics& metrics);

}  // namespace bluegate::api
