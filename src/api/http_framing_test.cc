#include "api/http_framing.h"

#include <gtest/gtest.h>

namespace bluegate::api {
namespace {

HeadScan Scan(std::string_view s) { return ScanRequestHead(s, 16 * 1024); }

TEST(HttpFramingTest, FindsTheEndOfAWellFormedHead) {
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Tab:\tv\r\n\r\n";
  auto r = Scan(head + "NEXT");
  EXPECT_EQ(r.state, HeadState::kComplete);
  EXPECT_EQ(r.end, head.size());
}

TEST(HttpFramingTest, SkipsEmptyLinesBeforeTheRequestLine) {
  auto r = Scan("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.state, HeadState::kComplete);
}

TEST(HttpFramingTest, WaitsForTheRestOfAHead) {
  EXPECT_EQ(Scan("GET / HTTP/1.1\r\nHost: a\r").state, HeadState::kIncomplete);
  EXPECT_EQ(Scan("GET / HTTP/1.1\r\nHost: a\r\n").state, HeadState::kIncomplete);
  EXPECT_EQ(Scan("").state, HeadState::kIncomplete);
}

TEST(HttpFramingTest, RefusesObsFoldBareLineEndsAndControlCharacters) {
  using namespace std::string_view_literals;
  for (std::string_view bad :
       {"GET / HTTP/1.1\r\nX-A: b\r\n  folded\r\n\r\n"sv, "GET / HTTP/1.1\r\n\tX: b\r\n\r\n"sv,
        "GET / HTTP/1.1\nHost: a\n\n"sv, "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"sv,
        "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"sv, "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"sv}) {
    auto r = Scan(bad);
    EXPECT_EQ(r.state, HeadState::kMalformed) << bad;
    EXPECT_FALSE(r.reason.empty());
  }
}

TEST(HttpFramingTest, GoesOnFromWhereItStoppedAsBytesArrive) {
  const std::string head = "\r\nGET /healthz HTTP/1.1\r\nHost: a\r\nX: b\r\n\r\nNEXT";
  HeadScan scan;
  for (size_t n = 1; n <= head.size(); ++n) {
    scan = ScanRequestHead(std::string_view(head).substr(0, n), 16 * 1024, scan);
    if (scan.state != HeadState::kIncomplete) break;
    EXPECT_LE(scan.resume, n) << "never past what it was given";
  }
  EXPECT_EQ(scan.state, HeadState::kComplete);
  EXPECT_EQ(scan.end, head.size() - 4);
  // Byte by byte, a fold is still seen.
  const std::string folded = "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n";
  scan = HeadScan{};
  for (size_t n = 1; n <= folded.size() && scan.state == HeadState::kIncomplete; ++n) {
    scan = ScanRequestHead(std::string_view(folded).substr(0, n), 16 * 1024, scan);
  }
  EXPECT_EQ(scan.state, HeadState::kMalformed);
}

TEST(HttpFramingTest, SaysWhenAHeadIsTooLarge) {
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), 64).state,
            HeadState::kTooLarge);
}

TEST(HttpFramingTest, AcceptsChunkedAloneInHttp11) {
  EXPECT_FALSE(CheckFraming(11, {"chunked"}, false));
  EXPECT_FALSE(CheckFraming(11, {" Chunked "}, false));
  EXPECT_FALSE(CheckFraming(11, {}, true));
  EXPECT_FALSE(CheckFraming(10, {}, true));
}

TEST(HttpFramingTest, RefusesEveryOtherTransferEncoding) {
  auto r = CheckFraming(11, {"chunked, identity"}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << "chunked must be final";
  r = CheckFraming(11, {"gzip, chunked"}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501) << "a coding bluegate does not implement";
  r = CheckFraming(11, {"gzip", "chunked"}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501);
  r = CheckFraming(11, {"chunked", "chunked"}, false);
  ASSERT_TRUE(r);
  r = CheckFraming(11, {"identity"}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = CheckFraming(11, {""}, false);
  ASSERT_TRUE(r);
}

TEST(HttpFramingTest, RefusesTransferEncodingWithContentLengthOrInHttp10) {
  auto r = CheckFraming(11, {"chunked"}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = CheckFraming(10, {"chunked"}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace bluegate::api
