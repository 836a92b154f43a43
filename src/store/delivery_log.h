// The DeliveryLog role of the store: webhook deliveries and their attempts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"

namespace bluegate::store {

// kSuperseded: not delivered because a newer status of the same message went to the URL first
// (a failed delivery does not hold the message's later ones back; docs/webhooks.md).
enum class DeliveryState { kPending, kDelivered, kFailed, kDisabled, kSuperseded };
std::string_view DeliveryStateName(DeliveryState s);
std::optional<DeliveryState> DeliveryStateFromName(std::string_view name);

// One webhook delivery: one event (a message at a status) to one URL.
// One webhook delivery: one event to one URL. A message event (message_id set) is rendered from
// the message when sent; any other event (line_assigned, contact_created, ...) carries its JSON
// `payload` and has message_id 0.
struct Delivery {
  int64_t id = 0;
  int64_t message_id = 0;
  std::string kind;  // "status_callback", or the account webhook type ("outbound", "receive", ...)
  std::string url;
  // The signing secret (empty: unsigned). Not stored with the delivery: read from its webhook's
  // configuration (its own secret, else the account's global one) whenever it is loaded.
  std::string secret;
  Status status = Status::kQueued;  // the status a message event announces
  TimePoint event_at{};
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::string payload;  // non-message events only
  // Scale-out: the node that dispatches it, when not this process. A message's deliveries are
  // dispatched by the node driving its line, so that one node tells its whole story in order.
  std::string owner;
};

struct DeliveryAttempt {
  int64_t delivery_id = 0;
  TimePoint at{};
  int http_status = 0;  // 0: no HTTP response (timeout, connection error)
  Millis latency{0};
  std::string error;
  DeliveryState new_state = DeliveryState::kPending;
  std::optional<TimePoint> next_attempt_at;  // for kPending
  // A first attempt that succeeded is fully told by the delivery row itself (attempts = 1,
  // last_http_status, last_latency_ms, updated_at), so it writes no webhook_attempts row.
  bool first_try_success = false;
  // The receiver answered 410 to an account webhook: disable that URL for the message's account.
  bool disable_endpoint = false;
  std::string url;         // with disable_endpoint
  int64_t message_id = 0;  // with disable_endpoint
};

// The webhook delivery log (GET /api/v2/webhooks/deliveries, `bluegate webhooks list`).
struct DeliveryQuery {
  std::optional<int64_t> account_id;  // nullopt: every account (the admin CLI)
  std::optional<std::string> message_handle;
  std::optional<std::string> url;
  std::optional<DeliveryState> state;
  int limit = 50;
  int offset = 0;
};

struct AttemptRecord {
  TimePoint at{};
  int http_status = 0;  // 0: no HTTP response
  Millis latency{0};
  std::string error;
};

struct DeliveryRecord {
  Delivery delivery;
  std::string message_handle;
  DeliveryState state = DeliveryState::kPending;
  TimePoint updated_at{};
  std::vector<AttemptRecord> attempt_log;  // oldest first
};

struct DeliveryPage {
  std::vector<DeliveryRecord> data;
  int64_t total = 0;
};

// The webhook outbox as the dispatcher and the delivery log see it: what is due, each attempt's
// record, re-queues and pruning. Deliveries are created by MessageLog writes, in the same
// transaction as the change they announce. RecordAttempt is asynchronous and group-committed (see
// message_log.h); the rest is synchronous and thread-safe.
class DeliveryLog {
 public:
  virtual ~DeliveryLog() = default;

  // Records webhook delivery attempts and the deliveries' new states, in order, as one write of
  // the group commit (the dispatcher gathers those of a moment: one writer op, not one each). A
  // lazy write: alone, it waits up to store.lazy_commit_delay for others to share its commit.
  virtual void RecordAttempts(std::vector<DeliveryAttempt> attempts,
                              std::function<void(Result<Ok>)> done) = 0;
  void RecordAttempt(DeliveryAttempt a, std::function<void(Result<Ok>)> done) {
    std::vector<DeliveryAttempt> one;
    one.push_back(std::move(a));
    RecordAttempts(std::move(one), std::move(done));
  }

  // Deliveries still due, in creation order.
  // On PostgreSQL, only this node's (see Delivery::owner; others' are claimed when their node
  // goes).
  virtual Result<std::vector<Delivery>> PendingDeliveries() = 0;

  // The message's deliveries still due that are this node's to dispatch.
  virtual Result<std::vector<Delivery>> PendingDeliveriesOf(int64_t message_id) = 0;
  virtual Result<std::vector<Delivery>> DeliveriesForMessage(int64_t message_id) = 0;
  virtual Result<DeliveryPage> ListDeliveries(const DeliveryQuery& q) = 0;

  // Makes a finished (or waiting) delivery due now, as a fresh series of attempts, and marks it
  // re-queued so that a running server picks it up even when an admin command did this. The
  // delivery must belong to `account_id` when one is given.
  virtual Result<Delivery> RequeueDelivery(std::optional<int64_t> account_id,
                                           int64_t delivery_id) = 0;

  // Pending deliveries re-queued after `since` (ms since the epoch), with the newest mark.
  virtual Result<std::pair<std::vector<Delivery>, int64_t>> RequeuedSince(int64_t since) = 0;

  // Deletes attempts older than `cutoff`, and finished deliveries last touched before it.
  // Returns how many rows went.
  virtual Result<int64_t> PruneDeliveries(TimePoint cutoff) = 0;
};

}  // namespace bluegate::store
