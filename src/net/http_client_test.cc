#include "net/http_client.h"

#include <gtest/gtest.h>

#include <optional>

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

}  // namespace
}  // namespace bluegate::net
