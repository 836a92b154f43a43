// One of the few translation units that include Beast (compile cost; see DESIGN.md).
#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include "api/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "api/http_answers.h"
#include "api/http_framing.h"
#include "api/http_tls.h"
#include "api/request_id.h"
#include "core/log_format.h"
#include "core/url.h"

namespace bluegate::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using answers::ErrorBody;
using answers::Quiet;
using answers::Tcp;

// Counts a request that holds an upload body, for as long as it lives.
class UploadSlot {
 public:
  explicit UploadSlot(std::atomic<size_t>& n) : n_(n) { n_.fetch_add(1); }
  ~UploadSlot() { n_.fetch_sub(1); }
  UploadSlot(const UploadSlot&) = delete;
  UploadSlot& operator=(const UploadSlot&) = delete;

 private:
  std::atomic<size_t>& n_;
};

// What a refused connection is told, written once without waiting (the socket may be full).
const std::string& BusyAnswer() {
  static const std::string answer = [] {
    const std::string body = ErrorBody("Too many connections; try again shortly", 5003);
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return answer;
}

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
    if (!settings_.tls_cert_file.empty()) {
      auto tls = MakeTlsContext(settings_.tls_cert_file, settings_.tls_key_file);
      if (!tls.ok()) throw std::runtime_error(tls.error().message);
      tls_ = std::move(tls).value();
    }
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

  Result<Ok> ReloadCertificate(const std::string& cert_file, const std::string& key_file) override {
    if (!CurrentTls()) {
      return Error::Invalid("this server does not serve HTTPS ([tls] was not set at start)");
    }
    auto tls = MakeTlsContext(cert_file, key_file);
    if (!tls.ok()) return tls.error();
    std::lock_guard lock(tls_mu_);
    tls_ = std::move(tls).value();  // connections already open keep the context they began with
    return Ok{};
  }

 private:
  asio::awaitable<void> Accept() {
    asio::steady_timer pause(acceptor_.get_executor());
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(
          asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        // Out of file descriptors (or another transient failure): the pending connection stays
        // in the backlog, so accepting again at once would spin. Pause, then resume.
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
            ec == asio::error::no_memory) {
          if (++descriptor_pauses_ % 100 == 1) {
            spdlog::warn("cannot accept connections ({}): pausing 100 ms", ec.message());
          }
          pause.expires_after(std::chrono::milliseconds(100));
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        continue;
      }
      std::string address = "?";
      std::string group = "?";
      if (auto remote = socket.remote_endpoint(ec); !ec) {
        address = remote.address().to_string();
        group = ConnectionGroup(remote.address());
      }
      if (!Admit(group)) {
        metrics_.CountRequest("connection_refused", 503);
        socket.non_blocking(true, ec);
        socket.write_some(asio::buffer(BusyAnswer()), ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto exec = socket.get_executor();
      if (auto tls = CurrentTls()) {
        asio::co_spawn(exec,
                       Handshake(TlsStream(beast::tcp_stream(std::move(socket)), *tls), tls,
                                 std::move(address), std::move(group)),
                       asio::detached);
      } else {
        asio::co_spawn(
            exec,
            Session(beast::tcp_stream(std::move(socket)), std::move(address), std::move(group)),
            asio::detached);
      }
    }
  }

  std::shared_ptr<asio::ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mu_);
    return tls_;
  }

  // The TLS handshake, within header_timeout, then the session over it. `tls` lives as long as
  // the connection: a reload replaces the server's context, not this one.
  asio::awaitable<void> Handshake(TlsStream stream, std::shared_ptr<asio::ssl::context> tls,
                                  std::string address, std::string group) {
    boost::system::error_code ec;
    // A TLS connection opens with a handshake record (0x16); anything else is most likely plain
    // HTTP sent to this HTTPS port, and is told so in plain HTTP rather than cut off.
    Tcp(stream).expires_after(settings_.header_timeout);
    unsigned char first = 0;
    {
      // A peek is the socket's own operation: the stream's timeout does not cover it.
      asio::steady_timer peek_deadline(stream.get_executor(), settings_.header_timeout);
      peek_deadline.async_wait([&stream](const boost::system::error_code& e) {
        boost::system::error_code ignored;
        if (!e) Tcp(stream).socket().cancel(ignored);
      });
      co_await Tcp(stream).socket().async_receive(asio::buffer(&first, 1),
                                                  tcp::socket::message_peek,
                                                  asio::redirect_error(asio::use_awaitable, ec));
      peek_deadline.cancel();
    }
    if (ec) {
      Tcp(stream).socket().close(ec);
      Leave(group);
      co_return;
    }
    if (first != 0x16) {
      co_await answers::Refuse(answering_, Tcp(stream), http::status::bad_request, 11,
                               "This port serves HTTPS: use an https:// URL", 4000,
                               "plain_http_to_https");
      Leave(group);
      co_return;
    }
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      metrics_.CountRequest("tls_handshake_failed", 400);
      Tcp(stream).socket().close(ec);
      Leave(group);
      co_return;
    }
    co_await Session(std::move(stream), std::move(address), std::move(group));
    (void)tls;
  }

  // Counts a new connection from `address` in, unless it would pass a bound.
  bool Admit(const std::string& address) {
    std::lock_guard lock(sessions_mu_);
    if (open_.load() >= settings_.max_connections) return false;
    size_t& n = per_address_[address];
    if (n >= settings_.max_connections_per_address) return false;
    ++n;
    ++open_;
    return true;
  }

  void Leave(const std::string& address) {
    std::lock_guard lock(sessions_mu_);
    if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
      per_address_.erase(it);
    }
    --open_;
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

  static HttpRequest Convert(http::request<http::string_body>& in, const std::string& address) {
    HttpRequest out;
    out.remote_address = address;
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

  // A deadline for reading a request that leaves the socket open when it passes (Beast's own
  // stream timeout closes it), so that the client can still be told 408. While it lives, the
  // connection's pending operations are cancelled when `at` comes; `fired()` then says so.
  // Runs on the connection's strand.
  class ReadDeadline {
   public:
    ReadDeadline(const std::shared_ptr<SessionState>& state,
                 std::chrono::steady_clock::time_point at)
        : timer_(state->exec), flags_(std::make_shared<Flags>()) {
      timer_.expires_at(at);
      timer_.async_wait([weak = std::weak_ptr<SessionState>(state),
                         flags = flags_](const boost::system::error_code& ec) {
        auto s = weak.lock();
        if (ec || !flags->alive || !s || !s->stream) return;
        flags->fired = true;
        boost::system::error_code ignored;
        s->stream->socket().cancel(ignored);
      });
    }
    ~ReadDeadline() {
      flags_->alive = false;
      timer_.cancel();
    }
    bool fired() const { return flags_->fired; }

   private:
    struct Flags {
      bool alive = true;   // false once this deadline is gone: a late expiry does nothing
      bool fired = false;  // it passed and cancelled the read
    };
    asio::steady_timer timer_;
    std::shared_ptr<Flags> flags_;
  };

  // `address`: the client's; `group`: what its connections are counted under (see Admit).
  template <typename Stream>
  asio::awaitable<void> Session(Stream stream, std::string address, std::string group) {
    auto state = std::make_shared<SessionState>();
    state->exec = stream.get_executor();
    state->stream = &Tcp(stream);
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
      // The head, read and scanned before Beast parses it: idle_timeout until its first byte,
      // then header_timeout for the rest.
      bool started = buffer.size() > 0;
      auto head_deadline = std::chrono::steady_clock::now() + settings_.header_timeout;
      std::optional<ReadDeadline> deadline;
      if (started) deadline.emplace(state, head_deadline);
      HeadScan scan;
      for (;;) {
        scan = ScanRequestHead(
            std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()),
            settings_.max_header_bytes, std::move(scan));
        if (scan.state != HeadState::kIncomplete) break;
        state->idle = !started;
        if (started) {
          Tcp(stream).expires_never();
        } else {
          Tcp(stream).expires_after(settings_.idle_timeout);
        }
        const size_t n = co_await stream.async_read_some(
            buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        state->idle = false;
        if (ec) break;
        buffer.commit(n);
        if (!started) {
          started = true;
          head_deadline = std::chrono::steady_clock::now() + settings_.header_timeout;
          deadline.emplace(state, head_deadline);
        }
      }
      if (ec) {
        if (deadline && deadline->fired() && !stopping_) {
          co_await answers::Refuse(answering_, stream, http::status::request_timeout, 11,
                                   "The request head did not arrive within the header timeout",
                                   4000, "timeout");
        }
        break;
      }
      if (scan.state == HeadState::kMalformed) {
        co_await answers::Refuse(answering_, stream, http::status::bad_request, 11,
                                 "Malformed HTTP request: " + scan.reason, 4000, "malformed");
        break;
      }
      if (scan.state == HeadState::kTooLarge) {
        co_await answers::Refuse(answering_, stream, http::status::request_header_fields_too_large,
                                 11, "The request head is larger than the server accepts", 4000,
                                 "too_large");
        break;
      }

      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
      // The route decides the body's bound, known once the head is read: until then the larger.
      parser.body_limit(std::max(settings_.max_body_bytes, settings_.max_upload_bytes));
      std::optional<UploadSlot> upload;
      Tcp(stream).expires_never();
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        const auto& head = parser.get();
        std::vector<std::string_view> codings;
        for (const auto& field : head) {
          if (field.name() == http::field::transfer_encoding) {
            codings.emplace_back(field.value().data(), field.value().size());
          }
        }
        if (auto bad = CheckFraming(head.version(), codings,
                                    head.find(http::field::content_length) != head.end())) {
          co_await answers::Refuse(answering_, stream, static_cast<http::status>(bad->status),
                                   head.version(), bad->message, 4000, "malformed");
          break;
        }
        const bool is_upload = head.method() == http::verb::post &&
                               head.target().starts_with("/api/upload-file") &&
                               (head.target().size() == 16 || head.target()[16] == '?');
        if (is_upload) {
          // A file upload: a larger body, held by a bounded number of requests at once.
          upload.emplace(uploads_);
          if (uploads_.load() > settings_.max_concurrent_uploads) {
            co_await answers::Refuse(
                answering_, stream, http::status::service_unavailable, head.version(),
                "Too many file uploads in progress (http.max_concurrent_uploads); "
                "retry shortly",
                5003, "overloaded");
            break;
          }
        }
        const size_t limit = is_upload ? settings_.max_upload_bytes : settings_.max_body_bytes;
        if (auto length = parser.content_length(); length && *length > limit) {
          co_await answers::Refuse(
              answering_, stream, http::status::payload_too_large, head.version(),
              "The request body is larger than the server accepts", 4000, "too_large");
          break;
        }
        parser.body_limit(limit);  // a chunked body is counted as it arrives
        if (!parser.is_done()) {
          deadline.emplace(state, std::chrono::steady_clock::now() + settings_.body_timeout);
          co_await http::async_read(stream, buffer, parser,
                                    asio::redirect_error(asio::use_awaitable, ec));
        }
      }
      const bool timed_out = deadline && deadline->fired();
      deadline.reset();
      if (timed_out && !stopping_) {
        co_await answers::Refuse(answering_, stream, http::status::request_timeout, 11,
                                 "The request body did not arrive within the body timeout", 4000,
                                 "timeout");
        break;
      }
      if (ec && (Quiet(ec) || stopping_)) break;
      if (ec) {
        const bool too_large = ec == http::error::body_limit;
        co_await answers::Refuse(
            answering_, stream,
            too_large ? http::status::payload_too_large : http::status::bad_request, 11,
            too_large ? "The request body is larger than the server accepts"
                      : "Malformed HTTP request",
            4000, too_large ? "too_large" : "malformed");
        break;
      }
      auto& req = parser.get();
      const bool keep_alive = req.keep_alive();
      const unsigned version = req.version();
      HttpRequest converted = Convert(req, address);
      converted.request_id = RequestIdFor(converted.Header("x-request-id"));
      converted.tls = std::is_same_v<Stream, TlsStream>;
      std::string request_id = converted.request_id;
      const auto answered_from = std::chrono::steady_clock::now();
      const http::verb method = req.method();
      HttpResponse out = co_await Dispatch(std::move(converted));
      upload.reset();  // the body was handed to the handler, which has taken what it keeps
      metrics_.CountRequest(out.route, out.status);
      const std::chrono::duration<double, std::milli> took =
          std::chrono::steady_clock::now() - answered_from;
      metrics_.ObserveRequest(out.route, took.count() / 1000);
      if (settings_.access_log) {
        const auto verb = http::to_string(method);
        LogRequest(RequestLogLine{request_id, std::string_view(verb.data(), verb.size()), out.route,
                                  out.status, took.count(), out.account_id});
      }
      out.headers.emplace_back("x-request-id", std::move(request_id));
      if (out.open_events) {
        co_await answers::StreamEvents(answering_, stream, out);
        break;
      }
      const bool again = keep_alive && !stopping_;
      if (!out.file_path.empty()) {
        if (!co_await answers::SendFile(answering_, stream, out, version, again)) break;
        continue;
      }
      http::response<http::string_body> res{static_cast<http::status>(out.status), version};
      res.set(http::field::content_type, out.content_type);
      res.set(http::field::server, "bluegate");
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
      res.keep_alive(again);
      res.prepare_payload();
      Tcp(stream).expires_after(settings_.send_timeout);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      // close_notify, within a short bound: a client that went away does not answer it.
      Tcp(stream).expires_after(std::chrono::seconds(1));
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
    }
    Tcp(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
    {
      std::lock_guard lock(sessions_mu_);
      state->stream = nullptr;
      sessions_.erase(id);
    }
    Leave(group);
  }

  asio::io_context& io_;
  HttpServerSettings settings_;
  Handler handler_;
  Metrics& metrics_;
  tcp::acceptor acceptor_;
  std::string local_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> uploads_{0};  // upload bodies being read or served
  uint64_t descriptor_pauses_ = 0;  // on the acceptor's strand
  std::mutex tls_mu_;
  std::shared_ptr<asio::ssl::context> tls_;  // empty: plain HTTP
  std::mutex sessions_mu_;
  std::unordered_map<std::string, size_t> per_address_;  // open connections by client address
  uint64_t next_session_ = 0;
  std::map<uint64_t, std::shared_ptr<SessionState>> sessions_;
  answers::Answering answering_{metrics_, settings_.send_timeout, stopping_};
};

}  // namespace

std::string ConnectionGroup(const asio::ip::address& a) {
  if (a.is_v4()) return a.to_string();
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return v6.to_v4().to_string();
  auto bytes = v6.to_bytes();
  for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

std::unique_ptr<HttpServer> MakeHttpServer(asio::io_context& io, const HttpServerSettings& settings,
                                           Handler handler, Metrics& metrics) {
  return std::make_unique<BeastServer>(io, settings, std::move(handler), metrics);
}

}  // namespace bluegate::api
