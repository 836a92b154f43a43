// An in-memory MessageLog and MessageQueries for unit tests of what writes through the store (the
// line driver): messages by id, every write asked for in order, and transitions applied by
// CanTransition as the SQL store applies them. Writes complete at once on the calling thread.
// With `failing` set it is a failing store: every write fails as one that cannot commit does
// (kStorageFailure, nothing changes) and healthy() is false.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/message_log.h"
#include "store/message_queries.h"

namespace bluegate::testing {

class FakeMessageLog final : public store::MessageLog, public store::MessageQueries {
 public:
  struct Event {
    int64_t account_id;
    std::string type;
    std::string payload;
  };

  // Stores `m` as it is (an id is given when it has none); returns the id.
  int64_t Add(Message m) {
    std::lock_guard lock(mu_);
    if (m.id == 0) m.id = next_id_++;
    const int64_t id = m.id;
    messages_[id] = std::move(m);
    return id;
  }
  Message Get(int64_t id) const {
    std::lock_guard lock(mu_);
    return messages_.at(id);
  }
  // Every transition asked for, applied or not, in order.
  std::vector<store::TransitionRequest> transitions() const {
    std::lock_guard lock(mu_);
    return transitions_;
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  void set_failing(bool failing) {
    std::lock_guard lock(mu_);
    failing_ = failing;
  }

  void Accept(Message m, store::AcceptPolicy, std::function<void(Result<Message>)> done) override {
    if (Failing()) return done(Refused());
    m.status = Status::kQueued;
    m.id = 0;
    const int64_t id = Add(m);
    done(Get(id));
  }

  void Transition(store::TransitionRequest r,
                  std::function<void(Result<store::TransitionOutcome>)> done) override {
    std::unique_lock lock(mu_);
    if (failing_) {
      lock.unlock();
      return done(Refused());
    }
    transitions_.push_back(r);
    auto it = messages_.find(r.message_id);
    if (it == messages_.end()) {
      lock.unlock();
      return done(Error::NotFound("no message with id " + std::to_string(r.message_id)));
    }
    Message& m = it->second;
    store::TransitionOutcome out;
    out.applied = CanTransition(m.status, r.to, m.service, r.receipt) &&
                  (!r.expect_line || *r.expect_line == m.line_number);
    if (out.applied) {
      m.status = r.to;
      m.error = r.error;
      if (r.service) m.service = *r.service;
      if (r.was_downgraded) m.was_downgraded = r.was_downgraded;
      m.date_updated = r.at;
    }
    out.status = m.status;
    out.line = m.line_number;
    lock.unlock();
    done(out);
  }

  void MarkRead(int64_t message_id, TimePoint at,
                std::function<void(Result<Message>)> done) override {
    done(Change(message_id, [at](Message& m) {
      if (!m.date_read) m.date_read = at;
    }));
  }

  void ReplaceMedia(int64_t message_id, std::string media_url,
                    std::function<void(Result<Ok>)> done) override {
    auto changed = Change(message_id, [&media_url](Message& m) {
      if (m.original_media_url.empty()) m.original_media_url = m.media_url;
      m.media_url = std::move(media_url);
    });
    if (!changed.ok()) return done(changed.error());
    done(Ok{});
  }

  void RecordInbound(Message m, std::function<void(Result<Message>)> done) override {
    if (Failing()) return done(Refused());
    m.is_outbound = false;
    m.status = Status::kReceived;
    m.id = 0;
    const int64_t id = Add(m);
    done(Get(id));
  }

  void RecordSharedInbound(Message m, std::vector<int64_t> accounts,
                           std::function<void(Result<std::vector<Message>>)> done) override {
    if (Failing()) return done(Refused());
    std::vector<Message> out;
    for (int64_t account : accounts) {
      Message copy = m;
      copy.account_id = account;
      copy.is_outbound = false;
      copy.status = Status::kReceived;
      copy.id = 0;
      out.push_back(Get(Add(copy)));
    }
    done(std::move(out));
  }

  void RecordEvent(int64_t account_id, std::string type, std::string payload,
                   std::optional<std::string>, std::function<void(Result<Ok>)> done) override {
    {
      std::lock_guard lock(mu_);
      if (!failing_) events_.push_back(Event{account_id, std::move(type), std::move(payload)});
    }
    if (Failing()) return done(Refused());
    done(Ok{});
  }

  void SetDeliveryObserver(std::function<void(std::vector<store::Delivery>)>) override {}
  void SetEventObserver(
      std::function<bool(int64_t)>,
      std::function<void(int64_t, const std::string&, const std::string&, TimePoint)>) override {}
  bool healthy() const override { return !Failing(); }
  void Flush() override {}

  Result<Message> FindMessage(int64_t account_id, std::string_view handle) override {
    std::lock_guard lock(mu_);
    for (const auto& [id, m] : messages_) {
      if (m.account_id == account_id && m.handle == handle) return m;
    }
    return Error::NotFound("no message " + std::string(handle));
  }
  Result<Message> FindMessageById(int64_t id) override {
    std::lock_guard lock(mu_);
    auto it = messages_.find(id);
    if (it == messages_.end()) return Error::NotFound("no message with id " + std::to_string(id));
    return it->second;
  }
  Result<store::MessagePage> ListMessages(const store::MessageQuery& q) override {
    std::lock_guard lock(mu_);
    store::MessagePage page;
    for (const auto& [id, m] : messages_) {
      if (m.account_id == q.account_id) page.data.push_back(m);
    }
    page.total = static_cast<int64_t>(page.data.size());
    return page;
  }
  Result<std::vector<Message>> InFlightOutbound(std::optional<std::string> line) override {
    std::lock_guard lock(mu_);
    std::vector<Message> out;
    for (const auto& [id, m] : messages_) {
      const bool in_flight = m.status == Status::kAccepted ||
                             (m.status == Status::kSent && m.service == Service::kIMessage);
      if (m.is_outbound && in_flight && (!line || m.line_number == *line)) out.push_back(m);
    }
    return out;
  }
  Result<std::vector<Message>> QueuedPage(std::string_view line, bool new_contact, int64_t after,
                                          int limit) override {
    std::lock_guard lock(mu_);
    ++queued_pages_;
    std::vector<Message> out;
    for (auto it = messages_.upper_bound(after);
         it != messages_.end() && std::ssize(out) < limit; ++it) {
      const Message& m = it->second;
      if (m.line_number == line && m.status == Status::kQueued && m.new_contact == new_contact) {
        out.push_back(m);
      }
    }
    return out;
  }
  Result<std::map<std::string, store::QueuedCount>> QueuedByLine(
      std::optional<std::string> line) override {
    std::lock_guard lock(mu_);
    std::map<std::string, store::QueuedCount> out;
    for (const auto& [id, m] : messages_) {
      if (m.status != Status::kQueued || (line && m.line_number != *line)) continue;
      auto& n = out[m.line_number];
      ++(m.new_contact ? n.first : n.known);
    }
    return out;
  }
  // How many QueuedPage reads were asked for.
  int queued_pages() const {
    std::lock_guard lock(mu_);
    return queued_pages_;
  }
  Result<std::vector<store::UnroutedInbound>> ListUnrouted(std::optional<std::string>,
                                                           int) override {
    return std::vector<store::UnroutedInbound>{};
  }
  Result<int64_t> CountSmsSince(std::string_view, TimePoint) override { return int64_t{0}; }
  Result<std::vector<TimePoint>> NewContactStarts(std::string_view, TimePoint) override {
    return std::vector<TimePoint>{};
  }
  Result<int64_t> PruneMessages(TimePoint cutoff) override {
    std::lock_guard lock(mu_);
    prune_cutoffs_.push_back(cutoff);
    return int64_t{0};
  }
  std::vector<TimePoint> PruneCutoffs() const {
    std::lock_guard lock(mu_);
    return prune_cutoffs_;
  }
  Result<store::AnnouncedEvents> AnnouncedEventsSince(int64_t, int) override {
    return store::AnnouncedEvents{};
  }

 private:
  // Applies `edit` to a stored message under the lock: the message afterwards, or refused when
  // failing or unknown. The caller's `done` runs after the lock is released.
  template <typename Edit>
  Result<Message> Change(int64_t message_id, Edit edit) {
    std::lock_guard lock(mu_);
    if (failing_ || !messages_.contains(message_id)) return Refused();
    Message& m = messages_[message_id];
    edit(m);
    return m;
  }

  bool Failing() const {
    std::lock_guard lock(mu_);
    return failing_;
  }
  static Error Refused() {
    return Error::Storage("the store could not commit; the request was not stored");
  }

  mutable std::mutex mu_;
  std::vector<TimePoint> prune_cutoffs_;
  int queued_pages_ = 0;
  int64_t next_id_ = 1;
  std::map<int64_t, Message> messages_;
  std::vector<store::TransitionRequest> transitions_;
  std::vector<Event> events_;
  bool failing_ = false;
};

}  // namespace bluegate::testing
