// The HTTP/1.1 server (Boost.Beast): keep-alive, a body cap answered with 413, header and idle
// timeouts, and a graceful stop. It knows nothing of bluegate's API: every request goes to one
// Handler.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

#include "api/http_types.h"
#include "core/metrics.h"

namespace bluegate::api {

struct HttpServerSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{60};
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
};

std::unique_ptr<HttpServer> MakeHttpServer(boost::asio::io_context& io,
                                           const HttpServerSettings& settings, Handler handler,
                                           Metrics& metrics);

}  // namespace bluegate::api
