// The BlueBubbles carrier: iMessage through a BlueBubbles server on a Mac, over its REST API.
// Sends are synchronous on the server (it answers once Messages has sent); outcomes come back as
// the server's webhooks (new-message, updated-message, message-send-error, typing-indicator),
// which the carrier registers itself, and because webhooks are fire-and-forget, a poll of
// POST /api/v1/message/query catches what a lost webhook would have said. A send whose answer
// never came is looked for by its tempGuid (our message handle) before anything is re-sent.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

#include "carriers/carrier.h"
#include "carriers/options.h"
#include "core/clock.h"
#include "core/result.h"
#include "net/http_client.h"

namespace bluegate::carriers::bluebubbles {

struct HttpReply {
  int status = 0;     // 0: no HTTP answer
  std::string body;   // the answer's body
  std::string error;  // why there was no answer
  bool timed_out = false;
};
struct HttpRequestSpec {
  std::string method;
  std::string url;
  std::string body;
  std::string content_type;  // empty: application/json
  Millis timeout{15'000};
  size_t max_response_bytes = 4 << 20;
  // A URL an API caller gave (an attachment's): fetched under the media address policy, never
  // from the private network the carrier's server may live on.
  bool untrusted = false;
};
// One HTTP call (to the server, or for an attachment's bytes); HttpOver() makes it from the
// process's HTTP clients, a test may give its own.
using HttpFn = std::function<void(HttpRequestSpec, std::function<void(HttpReply)> done)>;

// Calls to the server through `server`; untrusted ones (attachments an API caller named) through
// `media`, whose address policy applies. Both must outlive the carrier.
HttpFn HttpOver(net::HttpClient& server, net::HttpClient& media);

struct BlueBubblesSettings {
  std::string url;  // the server, without a trailing slash
  std::string password;
  bool private_api = false;  // effects, typing indicators, read receipts, reactions
  std::string webhook_url;   // empty: <public_url>/api/v2/carriers/bluebubbles/<line>?token=...
  Millis poll_interval{30'000};
  Millis send_timeout{60'000};
  Millis request_timeout{15'000};  // every call but a send
  // How long an unanswered send is looked for before a re-send: 10 s, or twice send_timeout
  // when that is shorter.
  Millis unknown_search{10'000};
};

Result<BlueBubblesSettings> ParseBlueBubblesSettings(const CarrierOptions& options);

// The token in the webhook URL the carrier registers: derived from the password and the line, so
// it survives restarts and needs no storage, and no one without the password can forge events.
std::string WebhookToken(const std::string& password, const std::string& line);

// Apple's effect identifier for a Sendblue send_style ("slam", "confetti"...), or "".
std::string EffectId(std::string_view send_style);

std::unique_ptr<Carrier> MakeBlueBubblesCarrier(boost::asio::io_context& io, CarrierSink& sink,
                                                Clock& clock, BlueBubblesSettings settings,
                                                std::string line, HttpFn http,
                                                std::function<std::string()> public_url);

}  // namespace bluegate::carriers::bluebubbles
