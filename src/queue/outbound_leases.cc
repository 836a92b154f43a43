// Scale-out: the lines this node drives under leases, taking a line over from its previous
// holder (Adopt: what it left is reconciled and resumed) and handing one back (Release), and
// where the holder of another node's line listens.
#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "queue/outbound.h"

namespace bluegate::queue {

void Outbound::UseLeases(RemoteFn remote) {
  std::unique_lock lock(mu_);
  leased_ = true;
  remote_ = std::move(remote);
}

bool Outbound::Drives(const std::string& line) {
  std::shared_lock lock(mu_);
  return leased_ ? owned_.contains(line) : true;
}

std::vector<std::string> Outbound::Driven() {
  std::shared_lock lock(mu_);
  if (leased_) return std::vector<std::string>(owned_.begin(), owned_.end());
  std::vector<std::string> out;
  for (const auto& [number, d] : drivers_) out.push_back(number);
  std::sort(out.begin(), out.end());
  return out;
}

void Outbound::Sweep(const std::string& number) {
  auto line = FindLine(number);
  if (!line || !Drives(number)) return;
  Driver(line.value())->Rescan();
}

bool Outbound::Adopt(const std::string& number) {
  auto line = store_.directory.FindLine(number);
  if (!line.ok()) {
    spdlog::warn("line {}: cannot take it over: {}", number, line.error().message);
    return false;
  }
  {
    std::unique_lock lock(mu_);
    lines_.insert_or_assign(number, line.value());
    owned_.insert(number);
    standby_.erase(number);
  }
  auto d = Driver(line.value());
  // What the line's previous holder left: waiting messages resume, those it had handed to the
  // carrier are reconciled (resubmitted, and counted, when the carrier cannot account for them).
  // (Read after the line is marked driven here: a message that another node announces meanwhile
  // is queued too, and the store lets only one of the two copies be sent.)
  auto in_flight = store_.messages.InFlightOutbound(number);
  auto queued = store_.messages.QueuedByLine(number);
  if (!in_flight.ok() || !queued.ok()) {
    spdlog::error("line {}: cannot read its unfinished messages: {}", number,
                  (in_flight.ok() ? queued.error() : in_flight.error()).message);
    Release(number);
    return false;
  }
  for (const Message& m : in_flight.value()) d->Reconcile(ToOutbound(m), m.status);
  const store::QueuedCount waiting =
      queued->contains(number) ? queued->at(number) : store::QueuedCount{};
  d->Resume(waiting);
  spdlog::info("line {}: driven by this node ({} in flight and {} queued messages taken over)",
               number, in_flight->size(), waiting.total());
  return true;
}

void Outbound::Release(const std::string& number) {
  std::shared_ptr<LineDriver> d;
  {
    std::unique_lock lock(mu_);
    owned_.erase(number);
    if (auto it = drivers_.find(number); it != drivers_.end()) {
      d = it->second;
      drivers_.erase(it);
    }
  }
  if (!d) return;
  {
    // Kept: a carrier report already on its way may still reach it (and is ignored).
    std::unique_lock lock(mu_);
    stopped_.push_back(d);
  }
  // Bounded, so that a stopping io_context cannot hold the lease thread forever.
  auto stopped = d->Stop();
  if (!io_.stopped() && stopped.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("line {}: its driver did not stop within 5 s", number);
  }
  // Writes the driver made before it stopped (an ACCEPTED on its way) land before the next
  // holder reads the line's messages.
  store_.log.Flush();
  spdlog::info("line {}: no longer driven by this node", number);
}

void Outbound::SetHolders(std::map<std::string, std::string> holders,
                          std::map<std::string, std::string> addresses) {
  std::unique_lock lock(mu_);
  holders_ = std::move(holders);
  addresses_ = std::move(addresses);
}

std::optional<std::string> Outbound::HolderAddress(const std::string& line) {
  std::shared_lock lock(mu_);
  if (!leased_ || owned_.contains(line)) return std::nullopt;
  auto holder = holders_.find(line);
  if (holder == holders_.end()) return std::nullopt;
  auto address = addresses_.find(holder->second);
  if (address == addresses_.end()) return std::nullopt;
  return address->second;
}

std::optional<std::string> Outbound::HolderOf(const std::string& line) {
  std::shared_lock lock(mu_);
  if (!leased_) return std::nullopt;
  auto it = holders_.find(line);
  return it == holders_.end() ? "" : it->second;
}

}  // namespace bluegate::queue
