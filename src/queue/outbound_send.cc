// The send path: the line a message goes from, and its way into the store and the line's queue.
#include <algorithm>

#include "core/message_json.h"
#include "core/send_request.h"
#include "queue/outbound.h"

namespace bluegate::queue {

Result<store::Line> Outbound::LineFor(int64_t account_id, const std::string& contact,
                                      const std::string& named) {
  // Route mapping (SPEC.md §6): a contact stays with the line it first talked to. A send that
  // names its line is checked against the bindings known here; the store checks it again as it
  // stores the message (and binds a new contact), without a read on this thread first.
  auto route =
      named.empty()
          ? store_.contacts.FindRoute(account_id, contact)
          : Result<std::optional<std::string>>(store_.contacts.KnownRoute(account_id, contact));
  if (!route.ok()) return route.error();
  std::string number = named;
  if (number.empty()) {
    if (route.value()) {
      number = *route.value();
    } else {
      auto pooled = PoolLine(account_id);
      if (!pooled.ok()) return pooled.error();
      number = std::move(pooled).value();
    }
  } else if (route.value() && *route.value() != number) {
    return BoundToAnotherLine(contact, *route.value());
  }
  auto line = FindLineServing(number, account_id);
  if (!line) {
    return Error::Invalid("from_number " + number +
                          " is not a line of this account (GET /api/lines lists them)");
  }
  if (line->held) {
    return Error{ErrorKind::kConflict,
                 "from_number " + number +
                     " is on hold: the account that owns it is disabled, so it takes no sends",
                 ErrorCode::kValidation,
                 {}};
  }
  return std::move(line).value();
}

// For a contact bound to no line when from_number is omitted: the account's line with the most
// new-contact capacity left now, then the one with the shortest queue.
Result<std::string> Outbound::PoolLine(int64_t account_id) {
  auto lines = store_.directory.ListLines(account_id);
  if (!lines.ok()) return lines.error();
  if (lines->empty()) return Error::Invalid("this account has no lines to send from");
  const std::string* best = nullptr;
  std::pair<int, size_t> best_load{0, 0};  // (-remaining, queued): smaller is better
  for (const auto& l : lines.value()) {
    const std::pair<int, size_t> load{-NewContactsRemaining(l), QueueDepth(l.number)};
    if (!best || load < best_load) {
      best = &l.number;
      best_load = load;
    }
  }
  return *best;
}

void Outbound::Submit(const store::Line& line, Message m, bool verification,
                      std::function<void(Result<Message>)> done) {
  if (auto reserved = Reserve(line); !reserved.ok()) return done(reserved.error());
  const LineLimits limits = LimitsFor(line);
  store::AcceptPolicy policy;
  policy.new_contact_after = limits.new_contact_after;
  policy.verified_only = limits.shared;
  policy.verification = verification;
  store_.log.Accept(
      std::move(m), policy,
      [this, line_number = line.number, done = std::move(done)](Result<Message> stored) {
        if (!stored.ok()) {
          // Nothing was stored: give the queue place back.
          CancelReservation(line_number);
          return done(std::move(stored));
        }
        const Message& msg = stored.value();
        metrics_.CountStatus(Status::kRegistered);
        metrics_.CountStatus(Status::kPending);
        metrics_.CountStatus(msg.status);
        if (msg.status == Status::kQueued) {
          Enqueue(msg);
        } else {
          CancelReservation(msg.line_number);
        }
        if (settings_.events) {
          settings_.events->Publish(msg.account_id, "message.created", RenderMessageJson(msg),
                                    msg.date_created);
        }
        done(std::move(stored));
      });
}

Result<Ok> Outbound::Reserve(const store::Line& line) {
  // Another node's line: its queue is there; the store takes the message and that node hears.
  if (!Drives(line.number)) return Ok{};
  auto driver = Driver(line);
  if (driver->TryReserve()) return Ok{};
  // A place opens when the next waiting message leaves; the queue knows when that is due.
  Millis wait{1000};
  if (const int64_t next = driver->next_out_ms(); next > 0) {
    wait = std::max(wait, Millis(next - ToUnixMillis(clock_.Now())));
  }
  return Error{ErrorKind::kThrottled,
               "The queue of line " + line.number + " is full (" +
                   std::to_string(driver->limits().queue_capacity) +
                   " messages waiting); retry later",
               ErrorCode::kRateLimitExceeded, wait};
}

void Outbound::CancelReservation(const std::string& line) {
  if (!Drives(line)) return;
  if (auto d = ExistingDriver(line)) d->Unreserve();
}

void Outbound::Enqueue(const Message& m) {
  if (!Drives(m.line_number)) {
    if (remote_) remote_(m.line_number, m.id);
    return;
  }
  auto d = ExistingDriver(m.line_number);
  if (!d) return;  // Reserve() always creates the driver first
  d->Enqueue(QueuedMessage{ToOutbound(m), false, m.new_contact});
}

}  // namespace bluegate::queue
