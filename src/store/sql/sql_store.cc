// The SQL store: its construction, health, housekeeping, and MakeSqlStore.
#include "store/sql/sql_store_impl.h"

#include <spdlog/spdlog.h>

namespace bluegate::store {

SqlStore::SqlStore(SqlEngine engine, Clock& clock) : engine_(std::move(engine)), clock_(clock) {
  writer_owned_ = engine_.connect(32768);
  writer_db_ = writer_owned_.get();
  postgres_ = writer_db_->engine() == Engine::kPostgres;
  node_id_ = engine_.node_id;
  engine_.migrate(*writer_db_);
  stmts_ = std::make_unique<WriterStatements>(writer_db_);
  if (engine_.housekeeping) housekeeping_db_ = engine_.connect(2000);
  BatchHooks& hooks = *this;
  writer_ = std::make_unique<Writer>(
      *writer_db_, hooks,
      WriterSettings{engine_.max_batch, engine_.full_disk_retry, Millis(250), engine_.max_pending,
                     engine_.lazy_commit_delay});
  if (housekeeping_db_) housekeeper_ = std::thread([this] { HousekeepingLoop(); });
}

SqlStore::~SqlStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  housekeeping_cv_.notify_all();
  writer_->Stop();
  if (housekeeper_.joinable()) housekeeper_.join();
  housekeeping_db_.reset();
  stmts_.reset();
  writer_owned_.reset();
  readers_.clear();
}

bool SqlStore::healthy() const { return writer_->healthy(); }

uint64_t SqlStore::ConnectionLosses() const { return writer_->ConnectionLosses(); }
WriteStats SqlStore::Stats() const { return writer_->Stats(); }

void SqlStore::Flush() { writer_->Flush(); }

// This process's node in webhook_deliveries.owner (NULL for a process that is no node).
std::optional<std::string> SqlStore::OwnNode() const {
  return node_id_.empty() ? std::nullopt : std::optional<std::string>(node_id_);
}

void SqlStore::HousekeepingLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    housekeeping_cv_.wait_for(lock, std::chrono::milliseconds(100));
    lock.unlock();
    try {
      engine_.housekeeping(*housekeeping_db_);
    } catch (const DbError& e) {
      spdlog::warn("store housekeeping failed (retried): {}", e.what());
    }
    lock.lock();
  }
}

std::string_view DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kDisabled:
      return "disabled";
    case DeliveryState::kSuperseded:
      return "superseded";
  }
  return "pending";
}

std::optional<DeliveryState> DeliveryStateFromName(std::string_view name) {
  for (auto s : {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kFailed,
                 DeliveryState::kDisabled, DeliveryState::kSuperseded}) {
    if (DeliveryStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::unique_ptr<Store> MakeSqlStore(SqlEngine engine, Clock& clock) {
  return std::make_unique<SqlStore>(std::move(engine), clock);
}

}  // namespace bluegate::store
