// One line's waiting messages and the limits that pace them. Pure and single-threaded: the line's
// strand owns it, and tests drive it with a manual clock.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "carriers/carrier.h"
#include "core/clock.h"
#include "core/new_contact_window.h"
#include "core/token_bucket.h"

namespace bluegate::queue {

struct LineLimits {
  double burst_per_second = 10;                     // <= 0: unlimited
  size_t queue_capacity = 1500;                     // messages waiting in QUEUED at most
  Millis resolve_timeout{std::chrono::minutes(5)};  // ACCEPTED with no carrier report → 10002
  NewContactLimits new_contacts;                    // pacing of first messages to contacts
  Millis new_contact_after = kNewContactAfter;      // silence after which a contact is new again
  bool shared = false;  // a shared (free-plan) line: sends only to verified contacts
  Millis lookup_ttl{std::chrono::hours(24)};  // how long a service lookup is trusted
  // SMS the line hands its carrier per day from 03:00 New York; past it an SMS ends in ERROR
  // SMS_LIMIT_REACHED. 0: no limit.
  int sms_per_day = 0;
  // QUEUED messages of each kind (to known contacts, first messages) held in memory; the rest
  // wait in the store and are paged in, in order, as the window empties.
  size_t queue_window = 1000;
  // Messages taken from the queue and not yet handed to the carrier (being marked ACCEPTED,
  // looked up, checked for media, or waiting for the carrier's answer to the submit); the next
  // leave the queue as these go. Keeps a line with a backlog from pouring it all into memory.
  size_t send_window = 1000;
  // The line's owner is disabled: nothing leaves the queue (the store keeps it) until released.
  bool held = false;
};

struct QueuedMessage {
  carriers::OutboundMessage message;
  bool already_accepted = false;  // recovered in flight: submit without a new ACCEPTED
  bool new_contact = false;       // starts a conversation: paced by the new-contact limits
  int segments = 1;  // what the carrier sends it as (SMS segments): each counts against the burst
};

class LineQueue {
 public:
  explicit LineQueue(const LineLimits& limits);

  // New limits from now on: the burst bucket starts full, started contacts still count.
  void SetLimits(const LineLimits& limits);
  // Counts new contacts started before this queue existed (see NewContactWindow::Seed).
  void SeedNewContacts(const std::vector<TimePoint>& starts) { new_contacts_.Seed(starts); }
  // Takes every waiting message out, in queue order (the line is going away).
  std::deque<QueuedMessage> TakeAll();

  // Behind the waiting messages of its kind; the two kinds leave in message id order.
  void Push(QueuedMessage m);
  // For a message that must go again before the others (the carrier was busy or unreachable).
  void PushFront(QueuedMessage m);
  // Holds every message back until `until` (the carrier asked to slow down).
  void PauseUntil(TimePoint until) { paused_until_ = until; }

  struct Empty {};
  // The next message allowed to go at `now` (consuming a rate token, and a new-contact slot for a
  // first message), the time at which one will be, or Empty. Messages to known contacts are not
  // held up behind first messages waiting for a new-contact slot.
  std::variant<QueuedMessage, TimePoint, Empty> Next(TimePoint now);

  size_t size() const { return known_.size() + first_.size(); }
  // Messages waiting of one kind: first messages (`first`) or to known contacts.
  size_t waiting(bool first) const { return first ? first_.size() : known_.size(); }
  const NewContactWindow& new_contacts() const { return new_contacts_; }

 private:
  // Messages to known contacts and first messages, each in queue order; `seq` orders the two (the
  // message id, the order the store accepted them in; below every id for a message going again),
  // so Next() is O(1) however many first messages wait for a slot.
  struct Waiting {
    int64_t seq;
    QueuedMessage m;
  };
  std::deque<Waiting> known_;
  std::deque<Waiting> first_;
  int64_t front_seq_ = 0;  // the next PushFront gets this minus one and counts down
  TokenBucket burst_;
  NewContactWindow new_contacts_;
  TimePoint paused_until_{};
};

}  // namespace bluegate::queue
