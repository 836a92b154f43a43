// What the nodes of a scale-out deployment agree on, through the PostgreSQL database they share
// (no consensus of our own: rows, row locks and LISTEN/NOTIFY; see docs/scale-out.md):
//   - nodes:       each node's heartbeat (a row it renews; a node whose row expired is gone);
//   - line_leases: which node drives which line, until when (the database's clock decides);
//   - deliveries:  webhook deliveries whose node is gone are claimed by one live node
//                  (FOR UPDATE SKIP LOCKED);
//   - bluegate_queue notifications: a message accepted on one node for a line another node
//                  drives reaches that node at once.
// Each call runs on connections of the coordinator's own, never the store's writer. Blocking;
// call from the lease thread, not from an io_context. The PostgreSQL implementation is
// store/postgres/coordinator.h (MakeCoordinator).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace bluegate::store {

struct NodeInfo {
  std::string id;
  std::string address;  // where its API listens
  TimePoint started_at{};
  TimePoint expires_at{};  // its heartbeat lapses then
  bool alive = false;
};

struct LeaseInfo {
  std::string line;
  std::string node_id;
  TimePoint acquired_at{};
  TimePoint expires_at{};
  bool live = false;  // false: lapsed, free for any node to take
};

class Coordinator {
 public:
  virtual ~Coordinator() = default;

  // Where this node's API listens (before the first Heartbeat).
  virtual void SetAddress(std::string address) = 0;
  // Records this node alive until the database's now + `ttl`, and returns the live nodes, this
  // one included, ordered by id. kConflict when another live node already has this node's id.
  virtual Result<std::vector<NodeInfo>> Heartbeat(Millis ttl) = 0;
  // Extends this node's unexpired leases to now + `ttl`; returns the lines it still holds.
  virtual Result<std::vector<std::string>> Renew(Millis ttl) = 0;
  // Takes up to `n` lines that no node holds (never leased, released, or lapsed).
  virtual Result<std::vector<std::string>> Acquire(int n, Millis ttl) = 0;
  // Gives up these leases (the lines were stopped first).
  virtual Result<Ok> Release(const std::vector<std::string>& lines) = 0;
  // How many lines exist.
  virtual Result<int64_t> CountLines() = 0;
  virtual Result<std::vector<NodeInfo>> Nodes() = 0;
  virtual Result<std::vector<LeaseInfo>> Leases() = 0;
  // The API address of the node holding `line`'s live lease, when that is another node.
  virtual Result<std::optional<std::string>> HolderAddress(const std::string& line) = 0;
  // Pending deliveries whose node is gone (or that no node wrote: admin commands, retries),
  // now this node's to dispatch; each is claimed by exactly one node.
  virtual Result<std::vector<Delivery>> ClaimOrphanDeliveries(int limit) = 0;

  // Tells the node driving `line` that message `message_id` waits for it (sent in the
  // background, batched, in order with NotifyDeliveries). Thread-safe.
  virtual void Notify(const std::string& line, int64_t message_id) = 0;
  // Tells node `owner` that message `message_id` has webhook deliveries for it to dispatch.
  virtual void NotifyDeliveries(const std::string& owner, int64_t message_id) = 0;
  // Starts listening, on a thread of its own: `on_queued(line, message_id)` for each message
  // another node accepted, `on_deliveries(message_id)` for each message with deliveries that are
  // now this node's (a node's own notifications are not echoed to it).
  virtual void Listen(std::function<void(const std::string&, int64_t)> on_queued,
                      std::function<void(int64_t)> on_deliveries) = 0;
};

}  // namespace bluegate::store
