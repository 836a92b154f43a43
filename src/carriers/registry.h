// Every carrier this build drives, in one table: its name, how a line's options for it are
// checked, and how one is made. The CLI and the config checks go through it (CheckLineOptions),
// and so does app/wiring.cc when it starts a line (MakeLineCarrier): adding a carrier is adding a
// row to registry.cc.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "carriers/bluebubbles/bluebubbles_carrier.h"
#include "carriers/carrier.h"
#include "carriers/options.h"
#include "carriers/sim/sim_carrier.h"
#include "core/clock.h"
#include "core/result.h"
#include "net/http_client.h"

namespace bluegate::carriers {

// What carriers are made with: the process's io_context, clock and HTTP clients, and what the
// app provides.
struct CarrierEnv {
  boost::asio::io_context& io;
  Clock& clock;
  sim::SimSettings sim;
  // The servers an operator named (a BlueBubbles Mac, often on the LAN), outside the webhook
  // address policy.
  net::HttpClient& server_http;
  // URLs an API caller named (an attachment's), under the media address policy.
  net::HttpClient& media_http;
  std::function<std::string()> public_url;  // where this gateway's API is reached
};

struct CarrierKind {
  std::string_view name;
  // Checks a line's options (keys and values) for this carrier.
  Result<Ok> (*check)(const CarrierOptions& options);
  // The carrier of `line`, or why it cannot be made (its options do not parse).
  Result<std::unique_ptr<Carrier>> (*make)(CarrierEnv& env, CarrierSink& sink,
                                           const CarrierOptions& options, const std::string& line);
};

const std::vector<CarrierKind>& CarrierKinds();

// Checks `options` for `carrier`; an unknown carrier is refused with the valid names.
Result<Ok> CheckLineOptions(std::string_view carrier, const CarrierOptions& options);

// The carrier of `line`, or why it cannot be made (an unknown carrier, options that do not parse).
Result<std::unique_ptr<Carrier>> MakeLineCarrier(std::string_view carrier, CarrierEnv& env,
                                                 CarrierSink& sink, const CarrierOptions& options,
                                                 const std::string& line);

}  // namespace bluegate::carriers
