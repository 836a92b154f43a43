// How a connection's answers are written: a refusal with a lingering close, a file as the body,
// a stream of server-sent events. Templates over the connection's stream (TCP, or TLS over it);
// only http_server.cc includes this header, so Beast stays in that one translation unit.
#pragma once

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_types.h"
#include "api/request_id.h"
#include "core/metrics.h"

namespace bluegate::api::answers {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The TCP stream under a connection's stream (itself, or the one under TLS).
inline beast::tcp_stream& Tcp(beast::tcp_stream& s) { return s; }
inline beast::tcp_stream& Tcp(TlsStream& s) { return beast::get_lowest_layer(s); }

inline std::string ErrorBody(std::string_view message, int code) {
  return R"({"status":"ERROR","message":")" + std::string(message) + R"(","error_message":")" +
         std::string(message) + R"(","error_code":)" + std::to_string(code) + "}";
}

// What the writers need of their server.
struct Answering {
  Metrics& metrics;
  std::chrono::milliseconds send_timeout;  // each write must make progress within it
  const std::atomic<bool>& stopping;       // the server is stopping: streams end
};

// A connection that ended in one of these went away as connections do: nothing to log.
inline bool Quiet(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor;
}

// Answers a request that cannot be served and closes the connection. Lingering close: the
// client may still be sending what we refused; closing with unread data would reset the
// connection and could destroy our answer before the client reads it, so stop sending, then
// read and discard for a short while.
template <typename Stream>
asio::awaitable<void> Refuse(const Answering& a, Stream& stream, http::status status,
                             unsigned version, std::string_view message, int code,
                             std::string_view route) {
  http::response<http::string_body> res{status, version >= 10 ? version : 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "bluegate");
  if (status == http::status::service_unavailable) res.set(http::field::retry_after, "1");
  res.set("x-request-id", RequestIdFor(std::nullopt));  // (its request was never read whole)
  res.body() = ErrorBody(message, code);
  res.keep_alive(false);
  res.prepare_payload();
  a.metrics.CountRequest(route, static_cast<int>(res.result_int()));
  boost::system::error_code ec;
  Tcp(stream).expires_after(a.send_timeout);
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  Tcp(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  Tcp(stream).expires_after(std::chrono::seconds(2));
  std::array<char, 16384> scratch;
  for (size_t drained = 0; !ec && drained < (64u << 20);) {
    drained += co_await stream.async_read_some(asio::buffer(scratch),
                                               asio::redirect_error(asio::use_awaitable, ec));
  }
}

// A file as the body, read from disk a piece at a time as the client takes it; each piece must
// go out within send_timeout. False: the connection is done.
template <typename Stream>
asio::awaitable<bool> SendFile(const Answering& a, Stream& stream, HttpResponse& out,
                               unsigned version, bool keep_alive) {
  http::response<http::file_body> res{static_cast<http::status>(out.status), version};
  beast::error_code ec;
  res.body().open(out.file_path.c_str(), beast::file_mode::scan, ec);
  if (ec) {
    co_await Refuse(a, stream, http::status::not_found, version, "No such media file", 4000,
                    out.route);
    co_return false;
  }
  res.set(http::field::content_type, out.content_type);
  res.set(http::field::server, "bluegate");
  for (const auto& [k, v] : out.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  http::response_serializer<http::file_body> sr{res};
  while (!sr.is_done()) {
    Tcp(stream).expires_after(a.send_timeout);
    co_await http::async_write_some(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  co_return keep_alive;
}

// Server-sent events: the headers, then each frame as the subscription gets it, and a comment
// every 15 s; ends when a write fails (the client went) or the server stops.
template <typename Stream>
asio::awaitable<void> StreamEvents(const Answering& a, Stream& stream, HttpResponse& out) {
  auto exec = co_await asio::this_coro::executor;
  // What the publisher's wake-up reaches, while this stream lives.
  struct Waker {
    explicit Waker(const asio::any_io_executor& e) : timer(e) {}
    asio::steady_timer timer;
    beast::tcp_stream* stream = nullptr;
    std::weak_ptr<EventSubscription> subscription;
  };
  auto waker = std::make_shared<Waker>(exec);
  waker->stream = &Tcp(stream);
  auto subscription = out.open_events([exec, weak = std::weak_ptr<Waker>(waker)] {
    asio::post(exec, [weak] {
      auto w = weak.lock();
      if (!w) return;
      w->timer.cancel();
      // Overflowed (the client is not reading, and a write may be stuck on its full socket)
      // or ended (its key was revoked): cancel now rather than wait for send_timeout.
      if (auto sub = w->subscription.lock(); sub && sub->closed()) {
        boost::system::error_code ignored;
        w->stream->socket().cancel(ignored);
      }
    });
  });
  waker->subscription = subscription;
  auto* wake = &waker->timer;
  boost::system::error_code ec;
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\nServer: bluegate\r\n";
  for (const auto& [k, v] : out.headers) {
    if (k == "x-request-id") head += "X-Request-Id: " + v + "\r\n";  // (a safe id: request_id.h)
  }
  head += "\r\n: connected\n\n";
  // Every write must finish within send_timeout: a client that stops reading is dropped.
  Tcp(stream).expires_after(a.send_timeout);
  co_await asio::async_write(stream, asio::buffer(head),
                             asio::redirect_error(asio::use_awaitable, ec));
  while (!ec && !a.stopping && !subscription->closed()) {
    std::string batch;
    for (auto& frame : subscription->Take()) batch += frame;
    if (!batch.empty()) {
      Tcp(stream).expires_after(a.send_timeout);
      co_await asio::async_write(stream, asio::buffer(batch),
                                 asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Tcp(stream).expires_never();
    wake->expires_after(std::chrono::seconds(15));
    boost::system::error_code wait_ec;
    co_await wake->async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    if (!wait_ec) {  // 15 s without an event
      static const std::string kHeartbeat = ": heartbeat\n\n";
      Tcp(stream).expires_after(a.send_timeout);
      co_await asio::async_write(stream, asio::buffer(kHeartbeat),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  out.close_events(subscription);
}

}  // namespace bluegate::api::answers
