// Scale-out: the lines this node drives, by lease (docs/scale-out.md). Every `renew` the keeper
// records the node alive, renews the leases it holds, and moves towards a fair share of the lines
// (ceil(lines / live nodes)): it takes free or lapsed lines when it has fewer, and gives lines
// up when it has more (a node joined). A line is stopped here before its lease is given up, and a
// lease that cannot be renewed is given up locally `renew` before it lapses in the database, so
// no two nodes ever drive one line at once. It also claims the webhook deliveries of nodes that
// went away, and passes on the messages other nodes accepted for lines driven here.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "queue/outbound.h"
#include "store/coordinator.h"
#include "store/delivery_log.h"
#include "store/message_log.h"

namespace bluegate::queue {

struct LeaseSettings {
  Millis ttl{10000};   // a lease lasts this long past its last renewal
  Millis renew{2000};  // renewed (and rebalanced) this often; at most ttl / 3
};

class LeaseKeeper {
 public:
  using DispatchFn = std::function<void(std::vector<store::Delivery>)>;
  LeaseKeeper(store::Coordinator& coordinator, store::MessageLog& log,
              store::DeliveryLog& deliveries, Outbound& outbound, DispatchFn dispatch,
              LeaseSettings settings);
  ~LeaseKeeper();

  // Takes this node's first share of lines (returns after the first round, so that a node that
  // starts serving already drives lines), then keeps at it on a thread of its own. Throws when
  // another live node has this node's id.
  void Start();
  // Stops every line driven here, gives their leases up (the other nodes take them at their next
  // round instead of after the lease time), and marks the node gone.
  void Stop();

 private:
  void Loop();
  void Round();
  // Stops driving lines whose lease may have lapsed (renewals failing for ttl - renew).
  void Watchdog();
  void ReleaseAllLocally(const std::string& why);

  store::Coordinator& coordinator_;
  store::MessageLog& log_;
  store::DeliveryLog& deliveries_;
  Outbound& outbound_;
  DispatchFn dispatch_;
  LeaseSettings settings_;

  std::mutex lines_mu_;  // one Adopt/Release sequence at a time (the loop's, or the watchdog's)
  uint64_t connection_losses_ = 0;
  static constexpr uint64_t kSweepEvery = 10;  // rounds between sweeps for QUEUED messages
  uint64_t rounds_ = 0;
  // Leases are safe to use until then (steady clock, ns since its epoch).
  std::atomic<int64_t> safe_until_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread loop_;
  std::thread watchdog_;
};

}  // namespace bluegate::queue
