#include "api/auth.h"

#include <gtest/gtest.h>

namespace bluegate::api {
namespace {

TEST(AuthTest, AChosenSecretIsKeptAsAnScryptHash) {
  const std::string hash = Authenticator::HashChosenSecret("salt", "benchsecret");
  EXPECT_TRUE(hash.starts_with("scrypt$16384$8$1$")) << hash;
  EXPECT_EQ(hash.find("benchsecret"), std::string::npos);
  EXPECT_TRUE(Authenticator::Matches("salt", hash, "benchsecret"));
  EXPECT_FALSE(Authenticator::Matches("salt", hash, "benchsecreT"));
  EXPECT_FALSE(Authenticator::Matches("other", hash, "benchsecret")) << "salted";
}

TEST(AuthTest, AGeneratedSecretStaysAnHmacAndBothFormsAreRead) {
  const std::string hash = Authenticator::HashSecret("salt", "0123abcd");
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_TRUE(Authenticator::Matches("salt", hash, "0123abcd"));
  EXPECT_FALSE(Authenticator::Matches("salt", hash, "0123abce"));
}

TEST(AuthTest, MalformedOrExcessiveStoredParametersNeverMatch) {
  EXPECT_FALSE(Authenticator::Matches("s", "scrypt$x$8$1$00", "a"));
  EXPECT_FALSE(Authenticator::Matches("s", "scrypt$16384$8$1", "a"));
  EXPECT_FALSE(Authenticator::Matches("s", "scrypt$1073741824$8$1$00", "a")) << "too costly";
  EXPECT_FALSE(Authenticator::Matches("s", "", "a"));
}

}  // namespace
}  // namespace bluegate::api
