#include "net/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <optional>
#include <string>
#include <thread>

namespace bluegate::net {
namespace {

// Runs one Post to a loopback port nothing listens on and returns its result.
PostResult PostWith(std::vector<std::pair<std::string, std::string>> headers,
                    std::string target = "/cb") {
  boost::asio::io_context io;
  HttpClientSettings settings;
  settings.policy.allow_loopback = true;
  settings.timeout = Millis(2000);
  auto client = MakeHttpClient(io, settings);
  HttpUrl url = *ParseHttpUrl("http://127.0.0.1:9/cb");
  url.target = std::move(target);
  std::optional<PostResult> out;
  client->Post(url, std::move(headers), "{}", [&out](PostResult r) { out = std::move(r); });
  io.run();
  return *out;
}

TEST(HttpClientTest, NeverWritesAHeaderValueThatCouldEndItsHeader) {
  auto r = PostWith({{"sb-signing-secret", "abc\r\nHost: evil.example"}});
  EXPECT_TRUE(r.refused);
  EXPECT_NE(r.error.find("CR, LF"), std::string::npos) << r.error;
  r = PostWith({{"x-ok", "fine"}}, "/cb\r\nX-Injected: 1");
  EXPECT_TRUE(r.refused) << "nor a request target";
}

TEST(HttpClientTest, ASafeRequestIsAttempted) {
  auto r = PostWith({{"sb-signing-secret", "whsec_abc"}});
  EXPECT_FALSE(r.refused) << "it went to the network (and found nothing listening)";
  EXPECT_EQ(r.status, 0);
}

// What reached a loopback server that read one request (headers and a body of `body_bytes`) and
// answered 200 with the connection closed.
std::string RequestOnTheWire(HttpCall call, size_t body_bytes) {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  asio::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  std::string seen;
  std::thread server([&] {
    tcp::socket s = acceptor.accept();
    char chunk[4096];
    for (;;) {
      const size_t end = seen.find("\r\n\r\n");
      if (end != std::string::npos && seen.size() >= end + 4 + body_bytes) break;
      boost::system::error_code ec;
      const size_t n = s.read_some(asio::buffer(chunk), ec);
      if (ec) break;
      seen.append(chunk, n);
    }
    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                            "Connection: close\r\n\r\nok")));
  });
  asio::io_context io;
  HttpClientSettings settings;
  settings.policy.allow_loopback = true;
  settings.user_agent = "bluegate-test/1";
  auto client = MakeHttpClient(io, settings);
  HttpUrl url = *ParseHttpUrl("http://127.0.0.1:" + std::to_string(port) + call.url.target);
  call.url = url;
  std::optional<PostResult> out;
  client->Call(std::move(call), [&out](PostResult r) { out = std::move(r); });
  io.run();
  server.join();
  EXPECT_TRUE(out && out->status == 200) << (out ? out->error : "no result");
  const std::string host = "127.0.0.1:" + std::to_string(port);
  if (auto at = seen.find(host); at != std::string::npos) seen.replace(at, host.size(), "HOST");
  return seen;
}

TEST(HttpClientTest, APostGoesOutAsOneWellFormedRequest) {
  HttpCall call;
  call.method = "POST";
  call.url.target = "/cb?x=1";
  call.headers = {{"webhook-id", "msg_7"}};
  call.body = R"({"status":"SENT"})";
  EXPECT_EQ(RequestOnTheWire(call, call.body.size()),
            "POST /cb?x=1 HTTP/1.1\r\nHost: HOST\r\nUser-Agent: bluegate-test/1\r\n"
            "Content-Type: application/json\r\nwebhook-id: msg_7\r\nContent-Length: 17\r\n\r\n"
            R"({"status":"SENT"})");
}

TEST(HttpClientTest, AHeaderTheCallerGivesReplacesTheDefaultAndFramingIsTheClients) {
  HttpCall call;
  call.method = "POST";
  call.url.target = "/upload";
  call.headers = {
      {"content-type", "image/png"}, {"content-length", "999"}, {"connection", "close"}};
  call.body = "PNG";
  EXPECT_EQ(RequestOnTheWire(call, 3),
            "POST /upload HTTP/1.1\r\nHost: HOST\r\nUser-Agent: bluegate-test/1\r\n"
            "content-type: image/png\r\nContent-Length: 3\r\n\r\nPNG");
  HttpCall get;
  get.method = "GET";
  get.url.target = "/api/ping";
  EXPECT_EQ(RequestOnTheWire(get, 0),
            "GET /api/ping HTTP/1.1\r\nHost: HOST\r\nUser-Agent: bluegate-test/1\r\n\r\n")
      << "a GET without a body has neither a type nor a length";
}

}  // namespace
}  // namespace bluegate::net
