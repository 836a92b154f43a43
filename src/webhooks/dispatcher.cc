#include "webhooks/dispatcher.h"

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "core/message_json.h"
#include "core/text.h"
#include "webhooks/signing.h"

namespace bluegate::webhooks {
namespace {

namespace asio = boost::asio;

// Chains whose messages one read fetches for the sends about to start at an endpoint.
constexpr size_t kReadAhead = 32;

// Deliveries to one URL about one message go one at a time, in order.
using Key = std::pair<int64_t, std::string>;

// What the dispatcher keeps of one delivery while it waits: the URL, secret and kind live once
// on the chain, so a large backlog stays small in memory.
struct Pending {
  int64_t id = 0;
  int64_t message_id = 0;
  Status status = Status::kQueued;
  int attempts = 0;
  TimePoint event_at{};
  TimePoint next_attempt_at{};
  std::string payload;  // non-message events only
};

struct Chain {
  std::vector<Pending> deliveries;  // oldest first; rarely more than a message's six
  std::string endpoint;             // host:port, for pacing
  std::string secret;
  std::string kind;  // "status_callback", "outbound", "receive"
  bool in_flight = false;
  bool scheduled = false;  // waiting for its head's due time
  bool ready = false;      // in its endpoint's ready queue
  // The message as last read for this chain, kept only while the chain goes from one delivery
  // straight to the next (never while it waits), so that a message's statuses in a row cost one
  // read and a waiting backlog stays light.
  std::unique_ptr<Message> latest;  // a pointer: a chain is small while it has none
};

struct Endpoint {
  size_t in_flight = 0;
  std::deque<Key> ready;
  bool pump_posted = false;  // a Pump waits on the strand
};

class OutboxDispatcher final : public Dispatcher {
 public:
  OutboxDispatcher(asio::io_context& io, store::DeliveryLog& deliveries,
                   store::MessageQueries& messages, net::HttpClient& client, Clock& clock,
                   Metrics& metrics, const DispatcherSettings& settings)
      : io_(io),
        strand_(asio::make_strand(io)),
        timer_(strand_),
        poll_timer_(strand_),
        prune_timer_(strand_),
        store_(deliveries),
        messages_(messages),
        client_(client),
        clock_(clock),
        metrics_(metrics),
        settings_(settings) {}
  // The io_context has stopped: what was attempted last still reaches the store.
  ~OutboxDispatcher() override { FlushAttempts(); }

  void Start() override {
    auto pending = store_.PendingDeliveries();
    if (!pending.ok()) {
      spdlog::error("cannot load pending webhook deliveries: {}", pending.error().message);
      return;
    }
    if (!pending->empty()) spdlog::info("resuming {} pending webhook deliveries", pending->size());
    Add(std::move(pending).value());
    asio::post(strand_, [this] {
      PollRequeued();
      SchedulePrune();
    });
  }

  void ReplaceSchedule(RetrySchedule schedule, Millis retention) override {
    asio::post(strand_, [this, schedule = std::move(schedule), retention]() mutable {
      settings_.schedule = std::move(schedule);
      settings_.retention = retention;
    });
  }

  void Add(std::vector<store::Delivery> deliveries) override {
    asio::post(strand_, [this, ds = std::move(deliveries)]() mutable {
      for (auto& d : ds) {
        if (!known_.insert(d.id).second) continue;
        backlog_.fetch_add(1, std::memory_order_relaxed);
        // Message events to one URL are ordered per message; other events stand alone.
        Key key{d.message_id != 0 ? d.message_id : -d.id, d.url};
        if (gone_.contains(key)) {
          Skip(d.id, clock_.Now());
          continue;
        }
        auto& chain = chains_[key];
        if (chain.endpoint.empty()) {
          auto url = ParseHttpUrl(d.url);
          chain.endpoint = url ? url->HostPort() : "invalid";
        }
        chain.secret = d.secret;
        chain.kind = d.kind;
        // A newer status behind a failed one that waits for its retry replaces it at once.
        const bool behind_failure = key.first > 0 && !chain.deliveries.empty() &&
                                    !chain.in_flight && chain.deliveries.front().attempts > 0;
        if (behind_failure) SupersedeWaiting(key, chain, chain.deliveries.size());
        chain.deliveries.push_back(Pending{d.id, d.message_id, d.status, d.attempts, d.event_at,
                                           d.next_attempt_at, std::move(d.payload)});
        if (chain.deliveries.size() == 1) Ready(key, chain);
      }
    });
  }

  size_t backlog() const override { return backlog_.load(std::memory_order_relaxed); }

 private:
  // The chain's head may go now or later. On strand_.
  void Ready(const Key& key, Chain& chain) {
    if (chain.in_flight || chain.scheduled || chain.ready || chain.deliveries.empty()) return;
    const TimePoint due = chain.deliveries.front().next_attempt_at;
    if (due <= clock_.Now()) {
      chain.ready = true;
      ++in_progress_;
      Endpoint& ep = endpoints_[chain.endpoint];
      // Behind more than its endpoint's next sends it waits as a light entry.
      if (ep.ready.size() + ep.in_flight >= settings_.max_in_flight_per_endpoint) {
        chain.latest.reset();
      }
      ep.ready.push_back(key);
      SchedulePump(chain.endpoint, ep);
    } else {
      chain.latest.reset();
      chain.scheduled = true;
      waiting_.emplace(due, key);
      ArmTimer();
    }
  }

  void ArmTimer() {
    if (waiting_.empty()) return;
    const TimePoint earliest = waiting_.begin()->first;
    if (timer_armed_ && earliest >= timer_due_) return;
    timer_armed_ = true;
    timer_due_ = earliest;
    timer_.expires_after(
        std::max(Millis(0), std::chrono::duration_cast<Millis>(earliest - clock_.Now())));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      timer_armed_ = false;
      WakeDue();
    });
  }

  // Moves every chain whose head is due to its endpoint's ready queue. On strand_.
  void WakeDue() {
    const TimePoint now = clock_.Now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      Key key = waiting_.begin()->second;
      waiting_.erase(waiting_.begin());
      auto it = chains_.find(key);
      if (it == chains_.end()) continue;
      it->second.scheduled = false;
      Ready(key, it->second);
    }
    ArmTimer();
  }

 public:
  std::future<void> Kick() override {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    asio::post(strand_, [this, done] {
      timer_armed_ = false;
      timer_.cancel();
      WakeDue();
      done->set_value();
    });
    return future;
  }

  size_t in_progress() const override { return in_progress_.load() + (unrecorded_.load() ? 1 : 0); }

 private:
  // Pumps the endpoint once the strand's current handler is done: the chains a batch of new
  // deliveries (or one timer) makes ready start together, and read their messages together
  // (ReadAhead).
  void SchedulePump(const std::string& name, Endpoint& ep) {
    if (ep.pump_posted) return;
    ep.pump_posted = true;
    asio::post(strand_, [this, name] {
      auto it = endpoints_.find(name);
      if (it == endpoints_.end()) return;
      it->second.pump_posted = false;
      Pump(name, it->second);
    });
  }

  // Starts as many ready deliveries to this endpoint as its in-flight cap allows.
  void Pump(const std::string& name, Endpoint& ep) {
    while (ep.in_flight < settings_.max_in_flight_per_endpoint && !ep.ready.empty()) {
      Key key = std::move(ep.ready.front());
      ep.ready.pop_front();
      auto it = chains_.find(key);
      if (it == chains_.end()) {
        --in_progress_;
        continue;
      }
      it->second.ready = false;
      ++ep.in_flight;
      if (NeedsRead(it->second)) ReadAhead(it->second, ep);
      Send(key, it->second);
    }
    if (ep.in_flight == 0 && ep.ready.empty()) endpoints_.erase(name);
  }

  // Whether the chain's head is about its message and the last read of it is older than the
  // head's event (statuses come in order, so a read that saw the event serves).
  static bool NeedsRead(const Chain& chain) {
    if (chain.deliveries.empty()) return false;
    const Pending& d = chain.deliveries.front();
    return d.payload.empty() && d.message_id > 0 &&
           (!chain.latest || chain.latest->date_updated < d.event_at);
  }

  // Reads the message of `chain`, about to be sent, together with those of the next chains in
  // its endpoint's ready queue that will need theirs: one read for up to kReadAhead sends
  // instead of one each. Only the next kReadAhead entries are looked at, however long the queue
  // (a backlog of events that carry their own payload costs nothing here), and what is read
  // waits on those chains; a read that fails leaves each to read its own as it goes.
  void ReadAhead(Chain& chain, Endpoint& ep) {
    std::vector<Chain*> readers{&chain};
    std::vector<int64_t> ids{chain.deliveries.front().message_id};
    for (size_t i = 0; i < ep.ready.size() && i + 1 < kReadAhead; ++i) {
      auto it = chains_.find(ep.ready[i]);
      if (it == chains_.end() || !NeedsRead(it->second)) continue;
      readers.push_back(&it->second);
      ids.push_back(it->second.deliveries.front().message_id);
    }
    auto found = messages_.FindMessagesByIds(ids);
    if (!found.ok()) return;
    std::unordered_map<int64_t, const Message*> by_id;
    for (const Message& m : *found) by_id.emplace(m.id, &m);
    for (Chain* c : readers) {
      auto it = by_id.find(c->deliveries.front().message_id);
      if (it != by_id.end()) c->latest = std::make_unique<Message>(*it->second);
    }
  }

  void Send(const Key& key, Chain& chain) {
    chain.in_flight = true;
    const Pending& d = chain.deliveries.front();
    auto url = ParseHttpUrl(key.second);
    std::string body;
    if (url && !d.payload.empty()) {
      body = d.payload;
    } else if (url) {
      if (NeedsRead(chain)) {
        auto m = messages_.FindMessageById(d.message_id);
        if (m.ok()) {
          chain.latest = std::make_unique<Message>(std::move(m).value());
        } else {
          chain.latest.reset();
        }
      }
      if (chain.latest) body = RenderAt(*chain.latest, d);
    }
    if (!url || body.empty()) {
      net::PostResult r;
      r.error = url ? "the message no longer exists" : "not an http(s) URL";
      r.refused = true;
      // Not from inside Pump(): it may be iterating this endpoint's queue.
      asio::post(strand_, [this, key, r = std::move(r)] { Finish(key, r); });
      return;
    }
    const int64_t timestamp = ToUnixMillis(clock_.Now()) / 1000;
    auto headers = DeliveryHeaders(chain.secret, "msg_" + std::to_string(d.id), timestamp, body);
    client_.Post(*url, std::move(headers), std::move(body), [this, key](net::PostResult r) {
      asio::post(strand_, [this, key, r = std::move(r)] { Finish(key, r); });
    });
  }

  // The message as it was when the event happened.
  static std::string RenderAt(Message m, const Pending& d) {
    if (m.status != d.status) {
      m.status = d.status;
      m.date_updated = d.event_at;
      if (d.status != Status::kError && d.status != Status::kDeclined) m.error.reset();
      if (d.status == Status::kRegistered || d.status == Status::kPending ||
          d.status == Status::kQueued || d.status == Status::kAccepted) {
        m.was_downgraded.reset();
        m.date_read.reset();
      }
    }
    return RenderMessageJson(m);
  }

  // Attempts go to the store together, once the strand's current handlers are done: a moment's
  // finished deliveries are one write for the store's writer, not one each. In order, so a
  // delivery's attempts are recorded in the order they were made. On strand_.
  void Record(store::DeliveryAttempt a) {
    attempts_.push_back(std::move(a));
    if (attempts_.size() > 1) return;  // a flush is on its way
    unrecorded_.store(true);
    asio::post(strand_, [this] { FlushAttempts(); });
  }

  void FlushAttempts() {
    if (attempts_.empty()) return;
    store_.RecordAttempts(std::exchange(attempts_, {}), [](Result<Ok>) {});
    unrecorded_.store(false);
  }

  // A delivery to an endpoint that answered 410 for this message: recorded, never sent.
  // Deliveries an admin command re-queued in the store; the API's retry adds them directly too.
  void PollRequeued() {
    poll_timer_.expires_after(settings_.requeue_poll);
    poll_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      auto found = store_.RequeuedSince(requeue_mark_);
      if (found.ok()) {
        requeue_mark_ = found->second;
        if (!found->first.empty()) Add(std::move(found->first));
      }
      PollRequeued();
    });
  }

  void SchedulePrune() {
    prune_timer_.expires_after(settings_.prune_every);
    prune_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      // Off the strand: pruning waits for the store's writer.
      asio::post(io_, [this, retention = settings_.retention] {
        auto n = store_.PruneDeliveries(clock_.Now() - retention);
        if (n.ok() && n.value() > 0)
          spdlog::info("pruned {} old webhook delivery records", n.value());
        asio::post(strand_, [this] { SchedulePrune(); });
      });
    });
  }

  // Records the chain's first `n` waiting deliveries as superseded (a newer status of the
  // message goes instead) and takes them off the chain and its timer. Not while it is in flight.
  void SupersedeWaiting(const Key& key, Chain& chain, size_t n) {
    if (chain.scheduled) {
      const TimePoint due = chain.deliveries.front().next_attempt_at;
      for (auto [it, end] = waiting_.equal_range(due); it != end; ++it) {
        if (it->second == key) {
          waiting_.erase(it);
          break;
        }
      }
      chain.scheduled = false;
    }
    SupersedeRange(chain, 0, n);
  }

  // Records the chain's deliveries [first, last) as superseded and takes them off it.
  void SupersedeRange(Chain& chain, size_t first, size_t last) {
    if (first >= last) return;
    const TimePoint now = clock_.Now();
    for (size_t i = first; i < last; ++i) {
      CloseUnsent(chain.deliveries[i].id, now, store::DeliveryState::kSuperseded,
                  "not sent: a newer status of the message was due");
    }
    chain.deliveries.erase(chain.deliveries.begin() + static_cast<ptrdiff_t>(first),
                           chain.deliveries.begin() + static_cast<ptrdiff_t>(last));
  }

  // A delivery that will never be sent (superseded, or its endpoint answered 410), recorded.
  void CloseUnsent(int64_t delivery_id, TimePoint now, store::DeliveryState state,
                   std::string why) {
    known_.erase(delivery_id);
    store::DeliveryAttempt skip;
    skip.delivery_id = delivery_id;
    skip.at = now;
    skip.error = std::move(why);
    skip.new_state = state;
    Record(std::move(skip));
    if (state == store::DeliveryState::kSuperseded) metrics_.CountWebhook("superseded");
    backlog_.fetch_sub(1, std::memory_order_relaxed);
  }

  void Skip(int64_t delivery_id, TimePoint now) {
    CloseUnsent(delivery_id, now, store::DeliveryState::kDisabled,
                "not sent: the endpoint answered 410 Gone earlier");
  }

  void Finish(const Key& key, const net::PostResult& r) {
    auto it = chains_.find(key);
    if (it == chains_.end()) return;
    Chain& chain = it->second;
    chain.in_flight = false;
    const std::string endpoint = chain.endpoint;
    FinishDelivery(key, it, r);
    auto ep = endpoints_.find(endpoint);
    if (ep != endpoints_.end()) {
      --ep->second.in_flight;
      Pump(endpoint, ep->second);
    }
    --in_progress_;
  }

  void FinishDelivery(const Key& key, std::map<Key, Chain>::iterator it, const net::PostResult& r) {
    Chain& chain = it->second;
    Pending& d = chain.deliveries.front();
    const std::string& url = key.second;
    const TimePoint now = clock_.Now();
    store::DeliveryAttempt a;
    a.delivery_id = d.id;
    a.at = now;
    a.http_status = r.status;
    a.latency = r.latency;
    a.error = r.error;
    a.first_try_success = d.attempts == 0 && r.status >= 200 && r.status < 300;
    const int attempts = d.attempts + 1;
    bool done = true;
    if (r.status >= 200 && r.status < 300) {
      a.new_state = store::DeliveryState::kDelivered;
      metrics_.CountWebhook("delivered");
      const std::chrono::duration<double> late = now - d.event_at;
      metrics_.ObserveWebhook(chain.kind, late.count());
    } else if (r.status == 410) {
      a.new_state = store::DeliveryState::kDisabled;
      metrics_.CountWebhook("disabled");
      if (chain.kind == "status_callback") {
        a.error = "the receiver answered 410 Gone: this callback is disabled for the message";
        spdlog::warn("status_callback {} answered 410: no more deliveries for message {}",
                     ForLog(url), d.message_id);
      } else {
        // An account webhook that answers 410 is switched off for the account (PUT or POST it
        // again to switch it back on).
        a.error = "the receiver answered 410 Gone: this " + chain.kind + " webhook is disabled";
        a.disable_endpoint = true;
        a.url = url;
        a.message_id = d.message_id;
        spdlog::warn("{} webhook {} answered 410 Gone: disabled for the account", chain.kind,
                     ForLog(url));
      }
    } else if (auto next = r.refused ? std::nullopt
                                     : settings_.schedule.NextAttempt(attempts, now, r.retry_after);
               next && key.first > 0 && chain.deliveries.size() > 1) {
      // Newer statuses of the message wait behind this one: the newest goes now, in its place
      // and in that of every status between (a receiver never gets an older one after it).
      a.new_state = store::DeliveryState::kSuperseded;
      a.error = (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error) +
                "; not retried: a newer status of the message went instead";
      metrics_.CountWebhook("superseded");
      SupersedeRange(chain, 1, chain.deliveries.size() - 1);
    } else if (next) {
      a.new_state = store::DeliveryState::kPending;
      a.next_attempt_at = *next;
      d.attempts = attempts;
      d.next_attempt_at = *next;
      done = false;
      metrics_.CountWebhook("retry");
    } else {
      a.new_state = store::DeliveryState::kFailed;
      metrics_.CountWebhook("failed");
      // The URL is a tenant's and the error may quote a receiver: neither may forge a log line.
      spdlog::warn("webhook {} for message {} failed for good after {} attempts: {}", ForLog(url),
                   d.message_id, attempts,
                   r.error.empty() ? "HTTP " + std::to_string(r.status) : ForLog(r.error));
    }
    const bool disable_rest = a.new_state == store::DeliveryState::kDisabled;
    Record(std::move(a));
    if (done) {
      known_.erase(d.id);
      chain.deliveries.erase(chain.deliveries.begin());
      backlog_.fetch_sub(1, std::memory_order_relaxed);
      if (disable_rest) {
        gone_.insert(key);
        for (const Pending& rest : chain.deliveries) Skip(rest.id, now);
        chain.deliveries.clear();
      }
    }
    if (chain.deliveries.empty()) {
      chains_.erase(it);
      return;
    }
    Ready(key, chain);
  }

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  asio::steady_timer poll_timer_;
  asio::steady_timer prune_timer_;
  int64_t requeue_mark_ = 0;
  std::unordered_set<int64_t> known_;  // ids of the deliveries in chains_
  bool timer_armed_ = false;
  TimePoint timer_due_{};
  store::DeliveryLog& store_;
  store::MessageQueries& messages_;
  net::HttpClient& client_;
  Clock& clock_;
  Metrics& metrics_;
  DispatcherSettings settings_;
  std::map<Key, Chain> chains_;
  std::map<std::string, Endpoint> endpoints_;
  std::set<Key> gone_;  // answered 410; the store also stops writing deliveries for these
  std::multimap<TimePoint, Key> waiting_;
  std::atomic<size_t> backlog_{0};
  std::atomic<size_t> in_progress_{0};            // chains ready or in flight
  std::vector<store::DeliveryAttempt> attempts_;  // made, not yet handed to the store
  std::atomic<bool> unrecorded_{false};           // attempts_ waits for its flush
};

}  // namespace

std::unique_ptr<Dispatcher> MakeDispatcher(asio::io_context& io, store::DeliveryLog& deliveries,
                                           store::MessageQueries& messages, net::HttpClient& client,
                                           Clock& clock, Metrics& metrics,
                                           const DispatcherSettings& settings) {
  return std::make_unique<OutboxDispatcher>(io, deliveries, messages, client, clock, metrics,
                                            settings);
}

}  // namespace bluegate::webhooks
