// Message statuses (SPEC.md §3) and the rule that a status never moves backwards.
#pragma once

#include <optional>
#include <string_view>

namespace bluegate {

enum class Status {
  kRegistered,
  kPending,
  kQueued,
  kAccepted,
  kSent,
  kDelivered,
  kDeclined,
  kError,
  kReceived,
};

enum class Service { kIMessage, kSms };

std::string_view StatusName(Status s);  // "QUEUED"
std::optional<Status> StatusFromName(std::string_view name);
std::string_view ServiceName(Service s);  // "iMessage", "SMS"
std::optional<Service> ServiceFromName(std::string_view name);

// True when `s` ends the message's lifecycle whatever comes later. SENT is final only for SMS,
// which has no delivery confirmation.
bool IsFinal(Status s, Service service);

// Whether a message in `from` may move to `to`. Forward moves along
// REGISTERED → PENDING → QUEUED → ACCEPTED → SENT → DELIVERED are allowed (skipping is allowed: a
// carrier may report DELIVERED without SENT), DECLINED and ERROR are reachable from any
// non-final status, and nothing leaves a final status.
// `receipt`: the report is the carrier's delivery receipt, which moves an SMS on from SENT (its
// final status otherwise) to DELIVERED or ERROR.
bool CanTransition(Status from, Status to, Service service, bool receipt = false);

}  // namespace bluegate
