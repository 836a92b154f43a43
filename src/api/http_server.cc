// One of the few translation units that include Beast (compile cost; see DESIGN.md).
#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include "api/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>

#include "core/url.h"

namespace bluegate::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kTooLarge =
    R"({"status":"ERROR","message":"The request body is larger than the server accepts","error_code":4000})";
constexpr const char* kBadRequest =
    R"({"status":"ERROR","message":"Malformed HTTP request","error_code":4000})";

class BeastServer final : public HttpServer {
 public:
  BeastServer(asio::io_context& io, const HttpServerSettings& settings, Handler handler,
              Metrics& metrics)
      : io_(io),
        settings_(settings),
        handler_(std::move(handler)),
        metrics_(metrics),
        acceptor_(asio::make_strand(io)) {}

  void Start() override {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(settings_.host, ec);
    if (ec) throw std::runtime_error("cannot listen on " + settings_.host + ": not an IP address");
    tcp::endpoint ep(addr, settings_.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + settings_.host + ":" +
                               std::to_string(settings_.port) + ": " + ec.message());
    }
    acceptor_.listen(asio::socket_base::max_listen_connections);
    const auto local = acceptor_.local_endpoint();
    local_ = (local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                      : local.address().to_string()) +
             ":" + std::to_string(local.port());
    asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached);
  }

  std::string local_address() const override { return local_; }

  void Stop() override {
    stopping_ = true;
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
    });
    // Keep-alive connections waiting for their next request are closed now; the others close
    // after their current response.
    std::lock_guard lock(sessions_mu_);
    for (const auto& [id, state] : sessions_) {
      asio::post(state->exec, [state] {
        if (state->idle && state->stream) state->stream->socket().close();
      });
    }
  }

  size_t open_connections() const override { return open_.load(); }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(
          asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        continue;  // a transient failure (fd limit): keep accepting
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto exec = socket.get_executor();
      asio::co_spawn(exec, Session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  // Hands the request to the handler and waits for its answer, which may come from another
  // thread (the store's writer): the answer is posted back to this connection's strand, stored,
  // and wakes the coroutine by cancelling a timer that never expires on its own.
  asio::awaitable<HttpResponse> Dispatch(HttpRequest req) {
    auto exec = co_await asio::this_coro::executor;
    struct Pending {
      explicit Pending(const asio::any_io_executor& e)
          : wake(e, asio::steady_timer::time_point::max()) {}
      asio::steady_timer wake;
      std::optional<HttpResponse> response;
    };
    auto pending = std::make_shared<Pending>(exec);
    handler_(std::move(req), [exec, pending](HttpResponse res) mutable {
      asio::post(exec, [pending, res = std::move(res)]() mutable {
        pending->response = std::move(res);
        pending->wake.cancel();
      });
    });
    while (!pending->response) {
      boost::system::error_code ec;
      co_await pending->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    HttpResponse out = std::move(*pending->response);
    co_return out;
  }

  static HttpRequest Convert(http::request<http::string_body>& in) {
    HttpRequest out;
    out.method = std::string(in.method_string());
    std::string_view target(in.target().data(), in.target().size());
    const size_t q = target.find('?');
    out.path = PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
    if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
    for (const auto& field : in) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    out.body = std::move(in.body());
    return out;
  }

  // What Stop() needs to know of a connection; touched only on the connection's strand.
  struct SessionState {
    asio::any_io_executor exec;
    beast::tcp_stream* stream = nullptr;
    bool idle = false;  // waiting for the next request
  };

  asio::awaitable<void> Session(beast::tcp_stream stream) {
    ++open_;
    auto state = std::make_shared<SessionState>();
    state->exec = stream.get_executor();
    state->stream = &stream;
    uint64_t id;
    {
      std::lock_guard lock(sessions_mu_);
      id = next_session_++;
      sessions_.emplace(id, state);
    }
    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      if (stopping_) break;
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(settings_.max_body_bytes);
      stream.expires_after(settings_.idle_timeout);
      state->idle = buffer.size() == 0;
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      state->idle = false;
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::eof ||
          ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
          (ec && stopping_)) {
        break;
      }
      if (ec) {
        const bool too_large = ec == http::error::body_limit;
        http::response<http::string_body> res{
            too_large ? http::status::payload_too_large : http::status::bad_request, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = too_large ? kTooLarge : kBadRequest;
        res.keep_alive(false);
        res.prepare_payload();
        metrics_.CountRequest(too_large ? "too_large" : "malformed",
                              static_cast<int>(res.result_int()));
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        // Lingering close: the client may still be sending the body we refused. Closing with
        // unread data would reset the connection and could destroy our answer before the
        // client reads it, so stop sending, then read and discard for a short while.
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream.expires_after(std::chrono::seconds(2));
        std::array<char, 16384> scratch;
        for (size_t drained = 0; drained < (64u << 20);) {
          const size_t n = co_await stream.async_read_some(
              asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
          if (ec) break;
          drained += n;
        }
        break;
      }
      auto& req = parser.get();
      const bool keep_alive = req.keep_alive();
      const unsigned version = req.version();
      HttpResponse out = co_await Dispatch(Convert(req));
      metrics_.CountRequest(out.route, out.status);
      if (out.open_events) {
        co_await StreamEvents(stream, out);
        break;
      }

      http::response<http::string_body> res{static_cast<http::status>(out.status), version};
      res.set(http::field::content_type, out.content_type);
      res.set(http::field::server, "bluegate");
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
      res.keep_alive(keep_alive && !stopping_);
      res.prepare_payload();
      stream.expires_after(settings_.idle_timeout);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    {
      std::lock_guard lock(sessions_mu_);
      state->stream = nullptr;
      sessions_.erase(id);
    }
    --open_;
  }

  // Server-sent events: the headers, then each frame as the subscription gets it, and a comment
  // every 15 s; ends when a write fails (the client went) or the server stops.
  asio::awaitable<void> StreamEvents(beast::tcp_stream& stream, HttpResponse& out) {
    auto exec = co_await asio::this_coro::executor;
    auto wake = std::make_shared<asio::steady_timer>(exec);
    auto subscription = out.open_events([exec, weak = std::weak_ptr<asio::steady_timer>(wake)] {
      asio::post(exec, [weak] {
        if (auto t = weak.lock()) t->cancel();
      });
    });
    boost::system::error_code ec;
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nServer: bluegate\r\n\r\n: connected\n\n";
    stream.expires_never();
    co_await asio::async_write(stream.socket(), asio::buffer(head),
                               asio::redirect_error(asio::use_awaitable, ec));
    while (!ec && !stopping_) {
      std::string batch;
      for (auto& frame : subscription->Take()) batch += frame;
      if (!batch.empty()) {
        co_await asio::async_write(stream.socket(), asio::buffer(batch),
                                   asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      wake->expires_after(std::chrono::seconds(15));
      boost::system::error_code wait_ec;
      co_await wake->async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
      if (!wait_ec) {  // 15 s without an event
        static const std::string kHeartbeat = ": heartbeat\n\n";
        co_await asio::async_write(stream.socket(), asio::buffer(kHeartbeat),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    out.close_events(subscription);
  }

  asio::io_context& io_;
  HttpServerSettings settings_;
  Handler handler_;
  Metrics& metrics_;
  tcp::acceptor acceptor_;
  std::string local_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::mutex sessions_mu_;
  uint64_t next_session_ = 0;
  std::map<uint64_t, std::shared_ptr<SessionState>> sessions_;
};

}  // namespace

std::unique_ptr<HttpServer> MakeHttpServer(asio::io_context& io, const HttpServerSettings& settings,
                                           Handler handler, Metrics& metrics) {
  return std::make_unique<BeastServer>(io, settings, std::move(handler), metrics);
}

}  // namespace bluegate::api
