#include "queue/leases.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

namespace bluegate::queue {
namespace {

int64_t SteadyNow() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

}  // namespace

LeaseKeeper::LeaseKeeper(store::Coordinator& coordinator, store::MessageLog& log,
                         store::DeliveryLog& deliveries, Outbound& outbound, DispatchFn dispatch,
                         LeaseSettings settings)
    : coordinator_(coordinator),
      log_(log),
      deliveries_(deliveries),
      outbound_(outbound),
      dispatch_(std::move(dispatch)),
      settings_(settings) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Start() {
  connection_losses_ = log_.ConnectionLosses();
  auto nodes = coordinator_.Heartbeat(settings_.ttl);
  if (!nodes.ok() && nodes.error().kind == ErrorKind::kConflict) {
    throw std::runtime_error(nodes.error().message);
  }
  coordinator_.Listen([this](const std::string& line, int64_t id) { outbound_.Deliver(id, line); },
                      [this](int64_t id) {
                        // Announced before the message itself, so its first statuses go out
                        // before the ones this node's queue adds.
                        auto pending = deliveries_.PendingDeliveriesOf(id);
                        if (pending.ok() && !pending->empty()) {
                          dispatch_(std::move(pending).value());
                        }
                      });
  Round();
  loop_ = std::thread([this] { Loop(); });
  watchdog_ = std::thread([this] { Watchdog(); });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (watchdog_.joinable()) watchdog_.join();
  std::lock_guard hold(lines_mu_);
  const auto driven = outbound_.Driven();
  for (const auto& line : driven) outbound_.Release(line);
  if (!driven.empty()) (void)coordinator_.Release(driven);
}

void LeaseKeeper::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, settings_.renew, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    Round();
    lock.lock();
  }
}

void LeaseKeeper::Watchdog() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    if (SteadyNow() > safe_until_.load() && !outbound_.Driven().empty()) {
      ReleaseAllLocally("its leases could not be renewed for " +
                        std::to_string((settings_.ttl - settings_.renew).count()) + " ms");
    }
    lock.lock();
  }
}

void LeaseKeeper::ReleaseAllLocally(const std::string& why) {
  std::lock_guard hold(lines_mu_);
  const auto driven = outbound_.Driven();
  if (driven.empty()) return;
  spdlog::warn("this node stops driving its {} lines: {}", driven.size(), why);
  for (const auto& line : driven) outbound_.Release(line);
}

void LeaseKeeper::Round() {
  // Before the renewal is sent: the database's lease runs from a later instant, so this node's
  // deadline always falls before it (by `renew` at least).
  const int64_t sent = SteadyNow();
  const int64_t safe =
      sent +
      std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.ttl - settings_.renew).count();

  // Writes were lost with a connection: what the queues here hold may no longer match the store.
  // Every line is stopped and taken up again from the store (its lease is kept).
  if (const uint64_t losses = log_.ConnectionLosses(); losses != connection_losses_) {
    connection_losses_ = losses;
    ReleaseAllLocally("the store lost its database connection; resuming from the store");
  }

  auto nodes = coordinator_.Heartbeat(settings_.ttl);
  if (!nodes.ok()) {
    spdlog::warn("lease round skipped: {}", nodes.error().message);
    return;
  }
  auto held = coordinator_.Renew(settings_.ttl);
  if (!held.ok()) {
    spdlog::warn("lease round skipped: {}", held.error().message);
    return;
  }
  safe_until_.store(safe);

  // The store's writer is still reconnecting: lines are taken up once it can write again.
  if (!log_.healthy()) return;

  std::lock_guard hold(lines_mu_);
  std::set<std::string> leased(held->begin(), held->end());
  // Driven here without a lease (it lapsed): stop. Leased without being driven (after a loss of
  // the connection): take up again.
  for (const auto& line : outbound_.Driven()) {
    if (!leased.contains(line)) outbound_.Release(line);
  }
  for (const auto& line : leased) {
    if (!outbound_.Drives(line)) outbound_.Adopt(line);
  }

  auto lines = coordinator_.CountLines();
  if (lines.ok()) {
    const int64_t live = std::max<int64_t>(1, static_cast<int64_t>(nodes->size()));
    const int64_t share = (lines.value() + live - 1) / live;
    const int64_t have = static_cast<int64_t>(leased.size());
    if (have > share) {
      // A node joined: give lines up, each stopped here before its lease goes.
      std::vector<std::string> give(std::prev(leased.end(), have - share), leased.end());
      for (const auto& line : give) outbound_.Release(line);
      if (auto r = coordinator_.Release(give); !r.ok()) {
        spdlog::warn("cannot give up leases: {}", r.error().message);
      } else {
        spdlog::info("gave up {} lines for the {} live nodes to share", give.size(), live);
      }
    } else if (have < share) {
      auto got = coordinator_.Acquire(static_cast<int>(share - have), settings_.ttl);
      if (got.ok()) {
        for (const auto& line : got.value()) {
          if (!outbound_.Adopt(line)) (void)coordinator_.Release({line});
        }
      }
    }
  }

  if (auto leases = coordinator_.Leases(); leases.ok()) {
    std::map<std::string, std::string> holders;
    for (const auto& l : leases.value()) {
      if (l.live) holders.emplace(l.line, l.node_id);
    }
    std::map<std::string, std::string> addresses;
    for (const auto& n : nodes.value()) addresses.emplace(n.id, n.address);
    outbound_.SetHolders(std::move(holders), std::move(addresses));
  }

  // Now and then, messages whose announcement was lost (their node died between its commit and
  // the NOTIFY) are found in the store. (Those already waiting here are not queued twice.)
  if (++rounds_ % kSweepEvery == 0) {
    for (const auto& line : outbound_.Driven()) outbound_.Sweep(line);
  }

  // Webhook deliveries of nodes that went away (and of admin commands): one node each.
  for (;;) {
    auto orphans = coordinator_.ClaimOrphanDeliveries(1000);
    if (!orphans.ok() || orphans->empty()) break;
    const size_t n = orphans->size();
    spdlog::info("took over {} webhook deliveries of nodes that went away", n);
    dispatch_(std::move(orphans).value());
    if (n < 1000) break;
  }
}

}  // namespace bluegate::queue
