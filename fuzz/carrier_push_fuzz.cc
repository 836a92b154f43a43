// libFuzzer target: a BlueBubbles server's webhook event (POST /api/v2/carriers/bluebubbles/...),
// with the right token, through the carrier's event handling. The carrier's REST calls fail at
// once (no server); its reports go to a sink that drops them.
#include <utility>  // before Asio: Boost 1.74 with GCC 12 coroutines

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "carriers/bluebubbles/bluebubbles_carrier.h"

namespace {

namespace bb = bluegate::carriers::bluebubbles;

class DropSink final : public bluegate::carriers::CarrierSink {
 public:
  void OnCarrierEvent(bluegate::carriers::CarrierEvent) override {}
};

struct World {
  World() {
    spdlog::set_level(spdlog::level::off);  // every unreadable event is logged
    bb::BlueBubblesSettings settings;
    settings.url = "http://127.0.0.1:1";
    settings.password = "fuzz";
    settings.private_api = true;
    carrier = bb::MakeBlueBubblesCarrier(
        io, sink, bluegate::SystemClock(), settings, kLine,
        [](bb::HttpRequestSpec, std::function<void(bb::HttpReply)> done) {
          bb::HttpReply reply;
          reply.error = "no server";
          done(std::move(reply));
        },
        [] { return std::string("http://127.0.0.1:8080"); });
    token = bb::WebhookToken("fuzz", kLine);
    io.poll();
  }
  static constexpr const char* kLine = "+14155550100";
  boost::asio::io_context io;
  DropSink sink;
  std::unique_ptr<bluegate::carriers::Carrier> carrier;
  std::string token;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  (void)world->carrier->Push(world->token, std::string(reinterpret_cast<const char*>(data), size));
  world->io.restart();
  world->io.poll();
  return 0;
}
