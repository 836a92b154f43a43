// Delivers the store's webhook deliveries (the transactional outbox): at least once, in creation
// order per (message, URL) so a receiver never sees DELIVERED before SENT, retried on the
// RetrySchedule, every attempt recorded in the store. After a restart, Start() picks up every
// delivery still pending.
#pragma once

#include <boost/asio/io_context.hpp>

#include <future>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/retry_schedule.h"
#include "net/http_client.h"
#include "store/delivery_log.h"
#include "store/message_queries.h"

namespace bluegate::webhooks {

struct DispatcherSettings {
  RetrySchedule schedule = RetrySchedule::Default();
  // Requests in flight to one endpoint (host:port) at most; the rest wait as light entries (no
  // rendered body), so one slow receiver neither takes every slot nor fills memory.
  size_t max_in_flight_per_endpoint = 32;
  // How often to look for deliveries re-queued by an admin command (`bluegate webhooks retry`).
  Millis requeue_poll{2000};
  // Attempts, and finished deliveries, older than this are deleted, checked every prune_every.
  Millis retention{std::chrono::hours(24 * 30)};
  Millis prune_every{std::chrono::hours(1)};
};

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Loads pending deliveries from the store and starts delivering, watching for re-queued ones
  // and pruning old ones.
  virtual void Start() = 0;
  // New or re-queued deliveries (the store's delivery observer, a retry request). A delivery
  // already waiting is not added twice. Thread-safe.
  virtual void Add(std::vector<store::Delivery> deliveries) = 0;
  // Deliveries known and not yet finished.
  virtual size_t backlog() const = 0;
  // Chains of deliveries that are due and waiting for, or in, an HTTP exchange, plus one while
  // finished attempts wait to be handed to the store. 0: nothing is due now, and every attempt
  // made is in the store's queue.
  virtual size_t in_progress() const = 0;
  // Re-examines what is due now; the future is ready once that is done. Timers do this by
  // themselves; a test that moves a manual clock calls it instead of waiting. Thread-safe.
  virtual std::future<void> Kick() = 0;
  // Retries scheduled from now on follow `schedule`, and pruning keeps `retention` (SIGHUP); a
  // retry already scheduled keeps its time. Thread-safe.
  virtual void ReplaceSchedule(RetrySchedule schedule, Millis retention) = 0;
};

std::unique_ptr<Dispatcher> MakeDispatcher(boost::asio::io_context& io,
                                           store::DeliveryLog& deliveries,
                                           store::MessageQueries& messages, net::HttpClient& client,
                                           Clock& clock, Metrics& metrics,
                                           const DispatcherSettings& settings);

}  // namespace bluegate::webhooks
