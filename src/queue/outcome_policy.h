// The retry policy for carrier outcomes, as pure functions: what a line does with a message after
// its carrier answered a submit or a reconcile, and whether an attachment fits its service. The
// line driver (line_driver.h) carries the decisions out; these say what they are.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "carriers/carrier.h"
#include "core/clock.h"
#include "core/message.h"

namespace bluegate::queue {

// Media limits per service (SPEC §6); an attachment over its service's limit fails with 10001.
inline constexpr uint64_t kSmsMediaLimit = 5ull * 1024 * 1024;
inline constexpr uint64_t kIMessageMediaLimit = 100ull * 1024 * 1024;

// What follows a carrier's answer to Submit.
struct SubmitDecision {
  enum class Action {
    kAwaitReport,  // the carrier took it: its reports (or the resolve timeout) finish it
    kFail,         // refused for good: ERROR with `error`
    kRequeue,      // back to the front of the line's queue; the line pauses `pause`
    kReconcile,    // it may have gone out: ask the carrier before any re-send
  };
  Action action = Action::kAwaitReport;
  Millis pause{0};
  std::optional<MessageError> error;
};

// Throttled waits as long as the carrier asked (or `reconnect_backoff` when it did not say);
// disconnected waits `reconnect_backoff`. Every retry is the same decision: a message waits in
// the queue as long as it takes (no attempt limit; SPEC's resolve timeout starts at ACCEPTED's
// hand-over to the carrier, not in the queue).
SubmitDecision DecideSubmit(const carriers::SubmitResult& result, Millis reconnect_backoff);

// What follows a reconcile of a message last seen at `seen` (ACCEPTED: handed to the carrier,
// never confirmed; SENT: sent, its final report missing).
struct ReconcileDecision {
  // Statuses to record, in order (DELIVERED of a message seen ACCEPTED is told after SENT, so
  // that the callbacks' story stays whole).
  std::vector<Status> reports;
  bool resubmit = false;  // the carrier cannot account for a message never confirmed sent
};

ReconcileDecision DecideReconcile(const std::optional<carriers::ReconcileResult>& result,
                                  Status seen);

// The error an attachment of `bytes` (nullopt: its size could not be told) meets on `service`,
// or nullopt when it may go.
std::optional<MessageError> MediaTooLarge(std::optional<uint64_t> bytes, Service service);

}  // namespace bluegate::queue
