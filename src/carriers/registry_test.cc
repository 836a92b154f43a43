#include "carriers/registry.h"

#include <gtest/gtest.h>

#include "testing/fake_http_client.h"

namespace bluegate::carriers {
namespace {

TEST(RegistryTest, EveryCarrierIsARowOfTheTable) {
  std::vector<std::string> names;
  for (const auto& kind : CarrierKinds()) names.emplace_back(kind.name);
  EXPECT_EQ(names, (std::vector<std::string>{"sim", "smpp", "bluebubbles"}));
  EXPECT_EQ(CarrierNames(), names) << "the CLI's list of carriers is the table's";
}

TEST(RegistryTest, OptionsAreCheckedByTheirCarriersRow) {
  EXPECT_TRUE(CheckLineOptions("sim", {}).ok());
  EXPECT_FALSE(CheckLineOptions("sim", {{"host", "x"}}).ok()) << "sim takes no options";
  auto smpp = CheckLineOptions("smpp", {{"system_id", "acme"}});
  ASSERT_FALSE(smpp.ok());
  EXPECT_NE(smpp.error().message.find("host"), std::string::npos) << smpp.error().message;
  EXPECT_TRUE(CheckLineOptions("smpp", {{"host", "smsc.example"}, {"system_id", "acme"},
                                        {"password", "pw"}})
                  .ok());
  auto unknown = CheckLineOptions("carrier-pigeon", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("bluebubbles"), std::string::npos)
      << "names the carriers that exist: " << unknown.error().message;
}

TEST(RegistryTest, AnUnknownCarrierIsNotMade) {
  boost::asio::io_context io;
  testing::FakeHttpClient http;
  CarrierEnv env{io, SystemClock(), {}, http, http, nullptr};
  struct Sink final : CarrierSink {
    void OnCarrierEvent(CarrierEvent) override {}
  } sink;
  auto made = MakeLineCarrier("carrier-pigeon", env, sink, {}, "+14155550100");
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().message.find("no carrier \"carrier-pigeon\""), std::string::npos);
  auto sim = MakeLineCarrier("sim", env, sink, {}, "+14155550100");
  ASSERT_TRUE(sim.ok());
  EXPECT_EQ(sim.value()->name(), "sim");
}

}  // namespace
}  // namespace bluegate::carriers
