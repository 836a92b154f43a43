// Account events for GET /api/v2/events (server-sent events): producers publish what happened
// (a message created, updated or received, a contact typing, a line's health), subscribers of
// that account get it as a ready SSE frame. In memory and best effort: a subscriber that is not
// connected misses events (the API's list endpoints are how a client catches up). Thread-safe;
// publishing to an account nobody listens to costs one atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"

namespace bluegate {

class EventHub;

// What one account may hold of the hub (docs/security.md; `[events]` in the config).
struct EventHubLimits {
  size_t max_streams_per_account = 100;
  // Frames waiting for one client; a client this far behind is not reading, and its stream is
  // closed (it reconnects and catches up through the list endpoints).
  size_t max_queued_frames = 1000;
};

// One connected client's queue of frames. `wake` runs (on the publishing thread) when frames
// arrive or the subscription overflows; the client then Take()s them.
class EventSubscription {
 public:
  EventSubscription(int64_t account_id, std::set<std::string> types, std::function<void()> wake,
                    size_t max_queued = 1000)
      : account_id_(account_id),
        types_(std::move(types)),
        wake_(std::move(wake)),
        max_queued_(max_queued) {}

  std::vector<std::string> Take();
  int64_t account_id() const { return account_id_; }
  // Sets who is woken when frames arrive (the connection, once it streams). Thread-safe.
  void SetWake(std::function<void()> wake);
  // True once more than max_queued frames waited: the frames were dropped and the stream must be
  // closed. Thread-safe.
  bool overflowed() const;
  // Ends the stream from outside (its key was revoked, its account disabled): the connection is
  // woken and closed. Thread-safe.
  void End();
  // Overflowed or ended: the connection must close. Thread-safe.
  bool closed() const;

 private:
  friend class EventHub;
  bool Wants(const std::string& type) const { return types_.empty() || types_.count(type) > 0; }
  void Push(const std::string& frame);

  int64_t account_id_;
  std::set<std::string> types_;  // empty: every type
  mutable std::mutex mu_;
  std::function<void()> wake_;
  size_t max_queued_;
  std::deque<std::string> frames_;
  bool overflowed_ = false;
  bool ended_ = false;
};

class EventHub {
 public:
  explicit EventHub(EventHubLimits limits = {}) : limits_(limits) {}

  // The event types a client may ask for.
  static const std::set<std::string>& Types();

  // nullptr when the account already holds max_streams_per_account subscriptions.
  std::shared_ptr<EventSubscription> Subscribe(int64_t account_id, std::set<std::string> types,
                                               std::function<void()> wake);
  const EventHubLimits& limits() const { return limits_; }
  void Unsubscribe(const std::shared_ptr<EventSubscription>& s);
  bool Listening(int64_t account_id) const;
  // `data` is a JSON value (usually an object) for the event's "data".
  void Publish(int64_t account_id, const std::string& type, const std::string& data, TimePoint at);

 private:
  EventHubLimits limits_;
  mutable std::mutex mu_;
  std::map<int64_t, std::vector<std::shared_ptr<EventSubscription>>> by_account_;
  std::atomic<size_t> subscribers_{0};
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace bluegate
