#include "webhooks/signing.h"

#include <gtest/gtest.h>

namespace bluegate::webhooks {
namespace {

// The test vector published with the Standard Webhooks specification.
TEST(SigningTest, MatchesTheStandardWebhooksTestVector) {
  EXPECT_EQ(
      StandardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(SigningTest, UnsignedDeliveriesCarryOnlyIdAndTimestamp) {
  auto h = DeliveryHeaders("", "msg_1", 1700000000, "{}");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"webhook-id", "msg_1"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"webhook-timestamp", "1700000000"}));
}

TEST(SigningTest, SignedDeliveriesCarrySendbluesHeaderToo) {
  auto h = DeliveryHeaders("s3cret", "msg_1", 1700000000, "{}");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[2].first, "sb-signing-secret");
  EXPECT_EQ(h[2].second, "s3cret");
  EXPECT_EQ(h[3].second, StandardSignature("s3cret", "msg_1", 1700000000, "{}"));
}

TEST(SigningTest, Base64RoundTrips) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(Base64Decode(Base64(s)), s);
  }
}

}  // namespace
}  // namespace bluegate::webhooks
