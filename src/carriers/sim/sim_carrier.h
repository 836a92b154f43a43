// The simulator carrier: the embedded default, needing no phone. Behaviour per SPEC.md §7: numbers
// +1 NPA 555-01XX act out every path an application must handle; any other number is delivered
// over iMessage after the configured delays.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

#include "carriers/carrier.h"
#include "core/clock.h"

namespace bluegate::carriers::sim {

struct SimSettings {
  Millis sent_delay{200};       // submit → SENT
  Millis delivered_delay{800};  // SENT → DELIVERED
  Millis read_delay{1000};      // DELIVERED → read (0107)
  Millis slow_delay{5000};      // SENT → DELIVERED for 0106
  Millis reply_delay{500};      // DELIVERED → inbound reply (0104, 0105)
};

// The behaviour a recipient's number selects.
enum class SimBehaviour {
  kDelivered,      // 0100 and every ordinary number
  kSmsOnly,        // 0101
  kFails,          // 0102
  kNeverResolves,  // 0103
  kRepliesStop,    // 0104
  kEchoes,         // 0105
  kSlow,           // 0106
  kRead,           // 0107
};
SimBehaviour BehaviourFor(std::string_view e164);

// Events go to `sink` from `io`'s threads. Thread-safe.
std::unique_ptr<Carrier> MakeSimCarrier(boost::asio::io_context& io, CarrierSink& sink,
                                        Clock& clock, const SimSettings& settings);

}  // namespace bluegate::carriers::sim
