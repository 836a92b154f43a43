#include "core/url.h"

#include <gtest/gtest.h>

namespace bluegate {
namespace {

TEST(UrlTest, ParsesHostPortAndTarget) {
  auto u = ParseHttpUrl("https://Hooks.Example.com:8443/a/b.png?x=1#f");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b.png?x=1");
  EXPECT_EQ(u->path, "/a/b.png");
  EXPECT_TRUE(HasFileExtension(*u));
  auto v6 = ParseHttpUrl("http://[::1]:9000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->target, "/");
  EXPECT_EQ(v6->HostPort(), "[::1]:9000");
}

TEST(UrlTest, RefusesWhatIsNotAnAbsoluteHttpUrl) {
  for (const char* bad : {"", "example.com/a", "ftp://x/y", "http://", "http://:80/", "http://a b/",
                          "http://user:pw@host/", "http://host:99999/", "http://host:0/"}) {
    EXPECT_FALSE(ParseHttpUrl(bad)) << bad;
  }
}

TEST(UrlTest, FileExtensionIsOnTheLastPathSegment) {
  EXPECT_FALSE(HasFileExtension(*ParseHttpUrl("https://x.com/dir.d/file")));
  EXPECT_FALSE(HasFileExtension(*ParseHttpUrl("https://x.com/.hidden")));
  EXPECT_FALSE(HasFileExtension(*ParseHttpUrl("https://x.com/file.")));
  EXPECT_TRUE(HasFileExtension(*ParseHttpUrl("https://x.com/v.caf")));
}

TEST(UrlTest, PercentDecodingKeepsPlusInPaths) {
  EXPECT_EQ(PercentDecode("%2B1415+x", true), "+1415 x");
  EXPECT_EQ(PercentDecode("/api/v2/contacts/+1415", false), "/api/v2/contacts/+1415");
  EXPECT_EQ(PercentDecode("bad%zz%2", false), "bad%zz%2");
}

}  // namespace
}  // namespace bluegate
