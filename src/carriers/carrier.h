// The Carrier extension point: what a line needs from whatever actually carries its messages
// (the simulator, an SMPP SMSC, a BlueBubbles server). Implementations live in subfolders and are
// built by app/wiring.cc.
//
// Carriers never retry on their own: they report what happened and the line queue's retry policy
// decides. `done` callbacks and CarrierSink events may run on any thread; receivers post them to
// the owning line's strand.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"

namespace bluegate::carriers {

struct OutboundMessage {
  int64_t message_id = 0;
  std::string handle;
  std::string line;  // E.164 of the sending line
  std::string to;    // E.164 of the recipient
  std::string content;
  std::string media_url;
  std::string send_style;          // empty when the message goes as SMS
  std::optional<Service> service;  // what the lookup said reaches `to`, when known
  std::string group_id;            // a group message: `to` is empty; these get it
  std::vector<std::string> participants;
  int64_t account_id = 0;  // the sender's account (whose media holds a compressed copy)
};

// What reaches an address from a line (GET /api/evaluate-service, the SMS fallback).
struct LookupResult {
  std::optional<Service> service;  // nullopt: the carrier cannot tell now (retry later)
  std::string detail;              // why not, for the error message
};

// Something shown to a contact that is not a message.
struct Signal {
  enum class Kind { kTypingStart, kTypingStop, kMarkRead, kReaction };
  Kind kind = Kind::kTypingStart;
  std::string line;             // E.164 of the line
  std::string to;               // E.164 of the contact
  std::string message_handle;   // kReaction: the message reacted to
  std::string reaction;         // kReaction: love, like, dislike, laugh, emphasize, question
  Millis max_duration{60'000};  // kTypingStart: the bubble stops by itself after this
};

enum class SubmitOutcome {
  kAccepted,      // the carrier took it; status reports follow through the sink
  kRejected,      // refused permanently: the message fails (10001)
  kThrottled,     // over the carrier's rate: retry after `retry_after`
  kDisconnected,  // no connection: retry once connected
  kUnknown,       // no answer: it may have gone out; reconcile before any re-send
};

struct SubmitResult {
  SubmitOutcome outcome = SubmitOutcome::kAccepted;
  std::string detail;  // what the carrier said, for error_detail and logs
  Millis retry_after{0};
};

// A line's health as its carrier sees it (GET /api/v2/lines/state).
enum class LineHealth {
  kOnline,    // sending normally
  kDegraded,  // sending, but slowly or with failures (throttled, flapping)
  kOffline,   // cannot send (connection lost, account blocked)
};
std::string_view LineHealthName(LineHealth h);  // "ONLINE", "DEGRADED", "OFFLINE"

struct CarrierEvent {
  enum class Kind { kStatus, kRead, kInbound, kHealth, kTyping };
  Kind kind = Kind::kStatus;
  TimePoint at{};
  std::string line;
  // kStatus, kRead: which message.
  int64_t message_id = 0;
  std::string handle;
  Status status = Status::kSent;
  std::optional<MessageError> error;
  std::optional<Service> service;
  std::optional<bool> was_downgraded;
  bool receipt = false;  // kStatus from a delivery receipt: moves an SMS on from SENT
  // kInbound: the contact's message to the line (in a group the line is in, with group_id and
  // the group's participants).
  std::string from;
  std::string content;
  std::string media_url;
  std::string group_id;
  std::vector<std::string> participants;
  // kTyping: whether the contact `from` is typing to the line.
  bool is_typing = false;
  // kHealth: the line's new state, and why (shown in the line_blocked webhook).
  LineHealth health = LineHealth::kOnline;
  std::string reason;
};

// What a carrier knows of a message whose fate the gateway lost track of.
struct ReconcileResult {
  Status status = Status::kSent;  // the furthest status the message reached
  std::optional<Service> service;
  std::optional<bool> was_downgraded;
  std::optional<MessageError> error;
};

// A line's health as a carrier last reported it: the event to send when it changes.
class HealthState {
 public:
  std::optional<CarrierEvent> Change(const std::string& line, TimePoint at, LineHealth health,
                                     std::string reason) {
    if (health == last_) return std::nullopt;
    last_ = health;
    CarrierEvent e;
    e.kind = CarrierEvent::Kind::kHealth;
    e.at = at;
    e.line = line;
    e.health = health;
    e.reason = std::move(reason);
    return e;
  }

 private:
  LineHealth last_ = LineHealth::kOnline;  // what the line's driver assumes until told
};

class CarrierSink {
 public:
  virtual ~CarrierSink() = default;
  virtual void OnCarrierEvent(CarrierEvent event) = 0;
};

class Carrier {
 public:
  virtual ~Carrier() = default;
  virtual void Submit(OutboundMessage m, std::function<void(SubmitResult)> done) = 0;
  // For a message whose submit outcome is unknown (a timeout, a crash mid-send): what became of
  // it if the carrier can tell, nullopt if it cannot (then the queue re-submits a message that was
  // never confirmed, and counts it).
  virtual void Reconcile(OutboundMessage m,
                         std::function<void(std::optional<ReconcileResult>)> done) = 0;
  // Which service reaches `address` (E.164 or an email) from this line.
  virtual void Lookup(std::string address, std::function<void(LookupResult)> done) = 0;
  // Shows a typing bubble, a read receipt or a reaction to a contact. kRejected when the carrier
  // cannot (SMS has none of them), kDisconnected when it cannot now.
  virtual void Send(Signal s, std::function<void(Result<Ok>)> done) = 0;
  virtual std::string_view name() const = 0;
  // How many units of the line's rate the message uses (an SMS carrier: its segments).
  virtual int Segments(const OutboundMessage&) const { return 1; }
  // Whether the carrier sends iMessage at all (an SMS it sends is then a fallback: downgraded).
  virtual bool CarriesIMessage() const { return true; }
  // Events the carrier's own server posts to the gateway (BlueBubbles' webhooks, at
  // /api/v2/carriers/<carrier>/<line>); `token` is the one the URL carried. kNotFound for a
  // carrier that takes none, kUnauthenticated for a wrong token.
  virtual Result<Ok> Push(std::string_view token, std::string body) {
    (void)token;
    (void)body;
    return Error::NotFound("this line's carrier takes no events");
  }
};

inline std::string_view LineHealthName(LineHealth h) {
  switch (h) {
    case LineHealth::kOnline:
      return "ONLINE";
    case LineHealth::kDegraded:
      return "DEGRADED";
    case LineHealth::kOffline:
      return "OFFLINE";
  }
  return "UNKNOWN";
}

}  // namespace bluegate::carriers
