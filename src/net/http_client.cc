// One of the few translation units that include Beast (compile cost; see DESIGN.md).
#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include "net/http_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>

#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include "core/text.h"

namespace bluegate::net {
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
  http::verb method = http::verb::post;
  std::optional<Millis> timeout;
  size_t max_response_bytes = 64 * 1024;
  bool keep_body = false;
};

// A pooled connection: plain TCP, or TLS over TCP.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

struct Endpoint {
  explicit Endpoint(asio::io_context& io) : strand(asio::make_strand(io)) {}
  Strand strand;
  std::deque<Request> waiting;
  std::vector<std::unique_ptr<Connection>> idle;
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
      : io_(io),
        settings_(settings),
        targets_(std::make_shared<const Targets>(Targets{settings.timeout, settings.policy})),
        ssl_ctx_(asio::ssl::context::tls_client) {
    ssl_ctx_.set_default_verify_paths();
    if (!settings_.ca_file.empty()) {
      boost::system::error_code ec;
      ssl_ctx_.load_verify_file(settings_.ca_file, ec);
      if (ec) {
        throw std::runtime_error("webhooks.ca_file " + settings_.ca_file + ": " + ec.message());
      }
    }
    ssl_ctx_.set_verify_mode(settings_.verify_tls ? asio::ssl::verify_peer
                                                  : asio::ssl::verify_none);
  }

  void Post(const HttpUrl& url, std::vector<std::pair<std::string, std::string>> headers,
            std::string body, std::function<void(PostResult)> done) override {
    Request req;
    req.url = url;
    req.headers = std::move(headers);
    req.body = std::move(body);
    req.done = std::move(done);
    Enqueue(std::move(req));
  }

  void Call(HttpCall call, std::function<void(PostResult)> done) override {
    Request req;
    req.url = std::move(call.url);
    req.headers = std::move(call.headers);
    req.body = std::move(call.body);
    req.done = std::move(done);
    req.method = http::string_to_verb(call.method);
    if (req.method == http::verb::unknown) req.method = http::verb::get;
    req.timeout = call.timeout;
    req.max_response_bytes = call.max_response_bytes;
    req.keep_body = true;
    Enqueue(std::move(req));
  }

  void Enqueue(Request req) {
    // Nothing that could end a header or the request line is ever written to a connection that
    // other accounts' requests share (the API refuses such values when they are stored).
    bool safe = IsHeaderSafe(req.url.target) && IsHeaderSafe(req.url.host);
    for (const auto& [k, v] : req.headers) safe = safe && IsHeaderSafe(k) && IsHeaderSafe(v);
    if (!safe) {
      PostResult refused;
      refused.refused = true;
      refused.error = "refused: a header or the URL contains CR, LF or another control character";
      asio::post(io_, [done = std::move(req.done), refused = std::move(refused)]() mutable {
        done(std::move(refused));
      });
      return;
    }
    std::shared_ptr<Endpoint> ep =
        EndpointFor((req.url.tls ? "https://" : "http://") + req.url.HostPort());
    asio::post(ep->strand, [this, ep, req = std::move(req)]() mutable {
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
      std::unique_ptr<Connection> conn;
      if (!ep->idle.empty()) {
        conn = std::move(ep->idle.back());
        ep->idle.pop_back();
      }
      ++ep->active;
      asio::co_spawn(ep->strand, Exchange(ep, std::move(conn), std::move(req)), asio::detached);
    }
  }

  asio::awaitable<std::unique_ptr<Connection>> Connect(const HttpUrl& url, std::string& error,
                                                       bool& refused) {
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
      std::string why = RefusalReason(entry.endpoint().address(), Current()->policy);
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
    stream->expires_after(Current()->timeout);
    co_await stream->async_connect(allowed, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      error = "cannot connect to " + url.HostPort() + ": " + ec.message();
      co_return nullptr;
    }
    stream->socket().set_option(tcp::no_delay(true));
    auto conn = std::make_unique<Connection>();
    if (!url.tls) {
      conn->plain = std::move(stream);
      co_return conn;
    }
    conn->tls =
        std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), ssl_ctx_);
    // SNI, and the certificate must name the host we asked for.
    SSL_set_tlsext_host_name(conn->tls->native_handle(), url.host.c_str());
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
    co_await conn->tls->async_handshake(asio::ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      error = "TLS handshake with " + url.HostPort() + " failed: " + ec.message();
      co_return nullptr;
    }
    co_return conn;
  }

  // The request as it goes on the wire, in one buffer: what Beast's serializer would write,
  // without its per-exchange machinery (a tenth of the server's time with a callback on every
  // message). Every part was checked by Enqueue: no CR, LF or other control character. A header
  // the caller gives replaces the default of that name.
  std::string Wire(const Request& req) const {
    auto given = [&req](const char* name) {
      for (const auto& [k, v] : req.headers) {
        if (beast::iequals(k, name)) return true;
      }
      return false;
    };
    const bool default_port = req.url.port == (req.url.tls ? 443 : 80);
    const bool has_body = req.method != http::verb::get || !req.body.empty();
    std::string w;
    w.reserve(256 + req.body.size());
    const beast::string_view verb = http::to_string(req.method);
    w.append(verb.data(), verb.size()).append(" ").append(req.url.target).append(" HTTP/1.1\r\n");
    if (!given("host")) {
      w.append("Host: ").append(default_port ? req.url.host : req.url.HostPort()).append("\r\n");
    }
    if (!given("user-agent")) w.append("User-Agent: ").append(settings_.user_agent).append("\r\n");
    if (has_body && !given("content-type")) w.append("Content-Type: application/json\r\n");
    for (const auto& [k, v] : req.headers) {
      if (beast::iequals(k, "content-length") || beast::iequals(k, "connection")) continue;
      w.append(k).append(": ").append(v).append("\r\n");
    }
    if (has_body)
      w.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
    w.append("\r\n").append(req.body);
    return w;
  }

  template <typename Stream>
  static asio::awaitable<boost::system::error_code> RoundTrip(
      Stream& stream, const std::string& wire, beast::flat_buffer& buffer,
      http::response_parser<http::string_body>& parser) {
    boost::system::error_code ec;
    co_await asio::async_write(stream, asio::buffer(wire),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return ec;
  }

  asio::awaitable<void> Exchange(std::shared_ptr<Endpoint> ep, std::unique_ptr<Connection> conn,
                                 Request req) {
    const auto start = std::chrono::steady_clock::now();
    PostResult result;
    const Millis timeout = req.timeout.value_or(Current()->timeout);
    const std::string wire = Wire(req);

    // A pooled connection may have been closed by the receiver while idle: try a fresh one once.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = co_await Connect(req.url, result.error, result.refused);
        if (!conn) break;
      }
      conn->tcp().expires_after(timeout);
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(req.max_response_bytes);
      // (if/else, not ?: — GCC 12 miscompiles co_await inside a conditional expression)
      boost::system::error_code ec;
      if (conn->tls) {
        ec = co_await RoundTrip(*conn->tls, wire, buffer, parser);
      } else {
        ec = co_await RoundTrip(*conn->plain, wire, buffer, parser);
      }
      if (ec) {
        conn.reset();
        if (reused && ec != beast::error::timeout) continue;
        result.error = ec == beast::error::timeout
                           ? "timed out after " + std::to_string(timeout.count()) + " ms"
                           : ec.message();
        break;
      }
      auto& res = parser.get();
      result.status = static_cast<int>(res.result_int());
      result.error.clear();
      if (req.keep_body) result.body = std::move(res.body());
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        result.retry_after =
            ParseRetryAfter(std::string_view(it->value().data(), it->value().size()));
      }
      if (res.keep_alive()) {
        conn->tcp().expires_never();
        ep->idle.push_back(std::move(conn));
      }
      break;
    }
    result.latency = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
    --ep->active;
    req.done(std::move(result));
    Drain(ep);
  }

  void Fetch(const HttpUrl& url, uint64_t max_bytes, std::string path,
             std::function<void(FetchResult)> done) override {
    asio::co_spawn(asio::make_strand(io_),
                   Download(url, max_bytes, std::move(path), /*head=*/false, std::move(done)),
                   asio::detached);
  }

  void Probe(const HttpUrl& url, std::function<void(FetchResult)> done) override {
    asio::co_spawn(asio::make_strand(io_), Download(url, 0, "", /*head=*/true, std::move(done)),
                   asio::detached);
  }

  void ReplaceTargets(Millis timeout, AddressPolicy policy) override {
    auto next = std::make_shared<const Targets>(Targets{timeout, std::move(policy)});
    std::lock_guard lock(targets_mu_);
    targets_ = std::move(next);
  }

 private:
  // One GET (into a file) or HEAD on a connection of its own: media are fetched rarely, and a
  // large body must not hold a pooled webhook connection.
  asio::awaitable<void> Download(HttpUrl url, uint64_t max_bytes, std::string path, bool head,
                                 std::function<void(FetchResult)> done) {
    FetchResult result;
    auto conn = co_await Connect(url, result.error, result.refused);
    if (!conn) {
      done(std::move(result));
      co_return;
    }
    http::request<http::empty_body> msg{head ? http::verb::head : http::verb::get, url.target, 11};
    const bool default_port = url.port == (url.tls ? 443 : 80);
    msg.set(http::field::host, default_port ? url.host : url.HostPort());
    msg.set(http::field::user_agent, settings_.user_agent);
    msg.keep_alive(false);
    const Millis timeout = Current()->timeout;
    conn->tcp().expires_after(timeout);
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    if (head) {
      http::response_parser<http::empty_body> parser;
      parser.skip(true);
      // (if/else, not ?: — GCC 12 miscompiles co_await inside a conditional expression)
      if (conn->tls) {
        ec = co_await HeadTrip(*conn->tls, msg, buffer, parser);
      } else {
        ec = co_await HeadTrip(*conn->plain, msg, buffer, parser);
      }
      if (!ec) {
        auto& res = parser.get();
        result.status = static_cast<int>(res.result_int());
        if (auto it = res.find(http::field::content_length); it != res.end()) {
          uint64_t n = 0;
          const auto v = it->value();
          if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) {
            result.bytes = n;
          }
        }
        result.content_type = std::string(res[http::field::content_type]);
        if (result.status < 200 || result.status >= 300) {
          result.error = "the server answered HTTP " + std::to_string(result.status);
        }
      } else {
        result.error = ec == beast::error::timeout ? "timed out" : ec.message();
      }
      done(std::move(result));
      co_return;
    }
    http::response_parser<http::file_body> parser;
    parser.body_limit(max_bytes);
    parser.get().body().open(path.c_str(), beast::file_mode::write, ec);
    if (ec) {
      result.error = "cannot write " + path + ": " + ec.message();
      done(std::move(result));
      co_return;
    }
    if (conn->tls) {
      ec = co_await GetTrip(*conn->tls, msg, buffer, parser, max_bytes);
    } else {
      ec = co_await GetTrip(*conn->plain, msg, buffer, parser, max_bytes);
    }
    parser.get().body().close();
    if (ec == http::error::body_limit) {
      result.too_large = true;
      result.error = "the file is over " + std::to_string(max_bytes) + " bytes";
    } else if (ec) {
      result.error = ec == beast::error::timeout
                         ? "timed out after " + std::to_string(timeout.count()) + " ms"
                         : ec.message();
    } else {
      auto& res = parser.get();
      result.status = static_cast<int>(res.result_int());
      result.content_type = std::string(res[http::field::content_type]);
      if (result.status < 200 || result.status >= 300) {
        result.error = "the server answered HTTP " + std::to_string(result.status);
      } else {
        std::error_code size_ec;
        result.bytes = std::filesystem::file_size(path, size_ec);
        if (*result.bytes > max_bytes) {
          result.too_large = true;
          result.error = "the file is over " + std::to_string(max_bytes) + " bytes";
        }
      }
    }
    if (!result.error.empty()) {
      std::error_code rm;
      std::filesystem::remove(path, rm);
    }
    done(std::move(result));
  }

  template <typename Stream, typename Parser>
  static asio::awaitable<boost::system::error_code> HeadTrip(Stream& stream,
                                                             http::request<http::empty_body>& msg,
                                                             beast::flat_buffer& buffer,
                                                             Parser& parser) {
    boost::system::error_code ec;
    co_await http::async_write(stream, msg, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return ec;
  }

  // The header first, so that a declared length over the cap ends the exchange before any of
  // the body is read; then the body in pieces, counted as it lands in the file.
  template <typename Stream, typename Parser>
  static asio::awaitable<boost::system::error_code> GetTrip(Stream& stream,
                                                            http::request<http::empty_body>& msg,
                                                            beast::flat_buffer& buffer,
                                                            Parser& parser, uint64_t max_bytes) {
    boost::system::error_code ec;
    co_await http::async_write(stream, msg, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    if (auto length = parser.content_length(); length && *length > max_bytes) {
      co_return boost::system::error_code(http::error::body_limit);
    }
    uint64_t received = 0;
    while (!parser.is_done()) {
      const size_t n = co_await http::async_read_some(
          stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return ec;
      received += n;
      // (chunked bodies carry framing: allow for it here; the file's size is checked after)
      if (received > max_bytes + 64 * 1024) {
        co_return boost::system::error_code(http::error::body_limit);
      }
    }
    co_return ec;
  }

  struct Targets {
    Millis timeout;
    AddressPolicy policy;
  };
  std::shared_ptr<const Targets> Current() {
    std::lock_guard lock(targets_mu_);
    return targets_;
  }

  asio::io_context& io_;
  HttpClientSettings settings_;  // timeout and policy: Current()
  std::mutex targets_mu_;
  std::shared_ptr<const Targets> targets_;
  asio::ssl::context ssl_ctx_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeHttpClient(asio::io_context& io,
                                           const HttpClientSettings& settings) {
  return std::make_unique<BeastHttpClient>(io, settings);
}

}  // namespace bluegate::net
