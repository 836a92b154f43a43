// One of the few translation units that include Beast (compile cost; see DESIGN.md).
#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include "webhooks/http_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <deque>
#include <map>
#include <mutex>

namespace bluegate::webhooks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;

struct Request {
  HttpUrl url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::function<void(PostResult)> done;
};

struct Endpoint {
  explicit Endpoint(asio::io_context& io) : strand(asio::make_strand(io)) {}
  Strand strand;
  std::deque<Request> waiting;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle;
  size_t active = 0;
};

std::optional<Millis> ParseRetryAfter(std::string_view v) {
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || seconds < 0) return std::nullopt;
  return Millis(seconds * 1000);
}

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(asio::io_context& io, const HttpClientSettings& settings)
      : io_(io), settings_(settings) {}

  void Post(const HttpUrl& url, std::vector<std::pair<std::string, std::string>> headers,
            std::string body, std::function<void(PostResult)> done) override {
    if (url.tls) {
      PostResult r;
      r.error = "https webhook targets are not supported yet";
      r.refused = true;
      done(std::move(r));
      return;
    }
    std::shared_ptr<Endpoint> ep = EndpointFor(url.HostPort());
    asio::post(ep->strand, [this, ep,
                            req = Request{url, std::move(headers), std::move(body),
                                          std::move(done)}]() mutable {
      ep->waiting.push_back(std::move(req));
      Drain(ep);
    });
  }

 private:
  std::shared_ptr<Endpoint> EndpointFor(const std::string& key) {
    std::lock_guard lock(mu_);
    auto& ep = endpoints_[key];
    if (!ep) ep = std::make_shared<Endpoint>(io_);
    return ep;
  }

  // On ep->strand.
  void Drain(const std::shared_ptr<Endpoint>& ep) {
    while (!ep->waiting.empty() &&
           (!ep->idle.empty() || ep->active < settings_.max_connections_per_endpoint)) {
      Request req = std::move(ep->waiting.front());
      ep->waiting.pop_front();
      std::unique_ptr<beast::tcp_stream> conn;
      if (!ep->idle.empty()) {
        conn = std::move(ep->idle.back());
        ep->idle.pop_back();
      }
      ++ep->active;
      asio::co_spawn(ep->strand, Exchange(ep, std::move(conn), std::move(req)), asio::detached);
    }
  }

  asio::awaitable<std::unique_ptr<beast::tcp_stream>> Connect(const HttpUrl& url,
                                                              std::string& error, bool& refused) {
    tcp::resolver resolver(co_await asio::this_coro::executor);
    boost::system::error_code ec;
    auto results = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      error = "cannot resolve " + url.host + ": " + ec.message();
      co_return nullptr;
    }
    std::vector<tcp::endpoint> allowed;
    std::string reason;
    for (const auto& entry : results) {
      std::string why = RefusalReason(entry.endpoint().address(), settings_.policy);
      if (why.empty()) {
        allowed.push_back(entry.endpoint());
      } else {
        reason = why;
      }
    }
    if (allowed.empty()) {
      error = "refused: " + url.host + " resolves to a " + reason +
              " (see webhooks.allow_loopback / allow_private)";
      refused = true;
      co_return nullptr;
    }
    auto stream = std::make_unique<beast::tcp_stream>(co_await asio::this_coro::executor);
    stream->expires_after(settings_.timeout);
    co_await stream->async_connect(allowed, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      error = "cannot connect to " + url.HostPort() + ": " + ec.message();
      co_return nullptr;
    }
    stream->socket().set_option(tcp::no_delay(true));
    co_return stream;
  }

  asio::awaitable<void> Exchange(std::shared_ptr<Endpoint> ep,
                                 std::unique_ptr<beast::tcp_stream> conn, Request req) {
    const auto start = std::chrono::steady_clock::now();
    PostResult result;
    http::request<http::string_body> msg{http::verb::post, req.url.target, 11};
    msg.set(http::field::host, req.url.port == 80 ? req.url.host : req.url.HostPort());
    msg.set(http::field::user_agent, settings_.user_agent);
    msg.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : req.headers) msg.set(k, v);
    msg.keep_alive(true);
    msg.body() = std::move(req.body);
    msg.prepare_payload();

    // A pooled connection may have been closed by the receiver while idle: try a fresh one once.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = co_await Connect(req.url, result.error, result.refused);
        if (!conn) break;
      }
      boost::system::error_code ec;
      conn->expires_after(settings_.timeout);
      co_await http::async_write(*conn, msg, asio::redirect_error(asio::use_awaitable, ec));
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      if (!ec)
        co_await http::async_read(*conn, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        conn.reset();
        if (reused && ec != beast::error::timeout) continue;
        result.error = ec == beast::error::timeout
                           ? "timed out after " + std::to_string(settings_.timeout.count()) + " ms"
                           : ec.message();
        break;
      }
      auto& res = parser.get();
      result.status = static_cast<int>(res.result_int());
      result.error.clear();
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        result.retry_after =
            ParseRetryAfter(std::string_view(it->value().data(), it->value().size()));
      }
      if (res.keep_alive()) {
        conn->expires_never();
        ep->idle.push_back(std::move(conn));
      }
      break;
    }
    result.latency = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
    --ep->active;
    req.done(std::move(result));
    Drain(ep);
  }

  asio::io_context& io_;
  HttpClientSettings settings_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeHttpClient(asio::io_context& io,
                                           const HttpClientSettings& settings) {
  return std::make_unique<BeastHttpClient>(io, settings);
}

}  // namespace bluegate::webhooks
