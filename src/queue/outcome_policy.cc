#include "queue/outcome_policy.h"

#include <string>

namespace bluegate::queue {

SubmitDecision DecideSubmit(const carriers::SubmitResult& result, Millis reconnect_backoff) {
  using carriers::SubmitOutcome;
  using Action = SubmitDecision::Action;
  switch (result.outcome) {
    case SubmitOutcome::kAccepted:
      return {Action::kAwaitReport, Millis(0), std::nullopt};
    case SubmitOutcome::kRejected:
      return {Action::kFail, Millis(0),
              MessageError{ErrorCode::kFailedToSend, "The carrier refused the message",
                           "carrier_rejected",
                           result.detail.empty() ? std::nullopt : std::optional(result.detail)}};
    case SubmitOutcome::kThrottled:
      return {Action::kRequeue,
              result.retry_after.count() > 0 ? result.retry_after : reconnect_backoff,
              std::nullopt};
    case SubmitOutcome::kDisconnected:
      return {Action::kRequeue, reconnect_backoff, std::nullopt};
    case SubmitOutcome::kUnknown:
      return {Action::kReconcile, Millis(0), std::nullopt};
  }
  return {Action::kReconcile, Millis(0), std::nullopt};
}

ReconcileDecision DecideReconcile(const std::optional<carriers::ReconcileResult>& result,
                                  Status seen) {
  ReconcileDecision d;
  if (result) {
    if (result->status == Status::kDelivered && seen == Status::kAccepted) {
      d.reports.push_back(Status::kSent);
    }
    d.reports.push_back(result->status);
    return d;
  }
  // Seen SENT: it went out; only its final report is missing, and a re-send would duplicate it.
  d.resubmit = seen == Status::kAccepted;
  return d;
}

std::optional<MessageError> MediaTooLarge(std::optional<uint64_t> bytes, Service service) {
  const bool sms = service == Service::kSms;
  const uint64_t limit = sms ? kSmsMediaLimit : kIMessageMediaLimit;
  if (!bytes || *bytes <= limit) return std::nullopt;
  return MessageError{ErrorCode::kFailedToSend,
                      "The attachment is " + std::to_string(*bytes) + " bytes, over the " +
                          std::to_string(limit / (1024 * 1024)) + " MB " +
                          (sms ? "SMS" : "iMessage") + " limit",
                      "media_too_large", std::nullopt};
}

}  // namespace bluegate::queue
