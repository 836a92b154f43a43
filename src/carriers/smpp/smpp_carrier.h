// The SMPP 3.4 carrier: one ESME bind (transceiver) per line to an SMSC. Messages go out as
// submit_sm (GSM 03.38 or UCS-2, long ones concatenated) with up to `window` awaiting their
// responses; delivery receipts and phones' messages come back as deliver_sm. Connection loss,
// refused binds and throttling are reported as line health, never as failed messages.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

#include "carriers/carrier.h"
#include "carriers/options.h"
#include "core/clock.h"
#include "core/result.h"

namespace bluegate::carriers::smpp {

// What becomes of a message whose submit_sm got no response (it may or may not have gone out).
enum class OnUnknown {
  kResubmit,  // send it again (the phone may get it twice; counted in bluegate_carrier_resubmits)
  kFail,      // ERROR 10002: the application decides
};

struct SmppSettings {
  std::string host;
  uint16_t port = 2775;
  std::string system_id;
  std::string password;
  std::string system_type;
  std::string address_range;
  bool tls = false;
  bool tls_verify = true;
  std::string ca_file;
  int window = 10;
  double throughput = 0;  // segments per second; 0: no limit
  uint8_t source_ton = 1;
  uint8_t source_npi = 1;
  uint8_t dest_ton = 1;
  uint8_t dest_npi = 1;
  bool receipts = true;
  Millis enquire_link{30'000};
  Millis response_timeout{10'000};
  OnUnknown on_unknown = OnUnknown::kResubmit;
  Millis reconnect_min{1000};    // backoff after a lost connection or refused bind, doubling...
  Millis reconnect_max{30'000};  // ...up to this
  Millis throttle_min{250};      // pause after ESME_RTHROTTLED / ESME_RMSGQFUL, doubling...
  Millis throttle_max{8000};     // ...up to this
  Millis mo_part_timeout{std::chrono::minutes(2)};  // a long MO still missing parts
};

// The settings in a line's options (see carriers/options.h for the keys); a value out of range
// is refused with a message naming the key.
Result<SmppSettings> ParseSmppSettings(const CarrierOptions& options);

// Connects at once and keeps the bind up for as long as the carrier lives. Events go to `sink`
// from `io`'s threads.
std::unique_ptr<Carrier> MakeSmppCarrier(boost::asio::io_context& io, CarrierSink& sink,
                                         Clock& clock, SmppSettings settings, std::string line);

}  // namespace bluegate::carriers::smpp
