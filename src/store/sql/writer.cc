#include "store/sql/writer.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace bluegate::store {

Writer::Writer(Db& db, BatchHooks& hooks, WriterSettings settings)
    : db_(db), hooks_(hooks), settings_(settings), thread_([this] { Loop(); }) {}

Writer::~Writer() { Stop(); }

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Writer::Enqueue(WriteOp op) {
  WriteEnd refused = WriteEnd::kFailed;
  {
    std::lock_guard lock(mu_);
    if (!failed_ && !disconnected_ && !full_) {
      if (pending_.size() < settings_.max_pending) {
        ++enqueued_;
        if (pending_.empty()) first_pending_at_ = std::chrono::steady_clock::now();
        if (!op.lazy) ++eager_pending_;
        pending_.push_back(std::move(op));
        cv_.notify_one();
        return;
      }
      refused = WriteEnd::kOverloaded;
    }
  }
  op.finish(refused);  // fail fast, outside the lock
}

bool Writer::healthy() const {
  std::lock_guard lock(mu_);
  return !failed_ && !disconnected_ && !full_;
}

WriteStats Writer::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

uint64_t Writer::ConnectionLosses() const {
  std::lock_guard lock(mu_);
  return connection_losses_;
}

void Writer::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_;
  ++flushers_;
  cv_.notify_one();  // lazy writes waiting for company go now
  flushed_cv_.wait(lock, [&] { return finished_ >= target; });
  --flushers_;
}

void Writer::Loop() {
  std::vector<WriteOp> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (disconnected_) {
        // The server went away: try again now and then; writes meanwhile fail fast.
        cv_.wait_for(lock, settings_.reconnect_every, [&] { return stopping_; });
        if (stopping_ && pending_.empty()) return;
        lock.unlock();
        const bool back = Reconnect();
        lock.lock();
        if (back) {
          disconnected_ = false;
          spdlog::info("the database is reachable again; writes resume");
        }
      }
      if (full_) {
        // The disk was full: SQLite rolled the transaction back, so nothing is lost or
        // half-written. Writes fail fast meanwhile; after full_disk_retry the next batch tries
        // again (and finds out whether there is room).
        cv_.wait_for(lock, settings_.full_disk_retry, [&] { return stopping_; });
        if (stopping_ && pending_.empty()) return;
        full_ = false;
      }
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty() || disconnected_; });
      if (pending_.empty() && stopping_) return;
      if (pending_.empty()) continue;
      if (eager_pending_ == 0 && settings_.lazy_delay.count() > 0) {
        // Only lazy writes: let the next moments' share their commit.
        cv_.wait_until(lock, first_pending_at_ + settings_.lazy_delay, [&] {
          return stopping_ || eager_pending_ > 0 || flushers_ > 0 ||
                 pending_.size() >= settings_.max_batch;
        });
      }
      const size_t n = std::min(pending_.size(), settings_.max_batch);
      batch.clear();
      for (size_t i = 0; i < n; ++i) {
        if (!pending_.front().lazy) --eager_pending_;
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      if (!pending_.empty()) first_pending_at_ = std::chrono::steady_clock::now();
    }
    bool committed = false;
    const auto started = std::chrono::steady_clock::now();
    if (healthy()) {
      // Optimistically without savepoints; if one write fails on its own (a constraint), the
      // batch is rolled back and run again with a savepoint around each write, so that only that
      // write fails. A transaction the server aborted (a deadlock with another node) is simply
      // run again: nothing of it landed.
      committed = RunBatch(batch, /*isolate=*/false);
      for (int retry = 0; !committed && aborted_ && retry < 5; ++retry) {
        committed = RunBatch(batch, /*isolate=*/false);
      }
      if (!committed && healthy()) {
        committed = RunBatch(batch, /*isolate=*/true);
        std::lock_guard lock(mu_);
        ++stats_.isolated_batches;
      }
    }
    const auto busy = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    hooks_.AfterBatch(committed);
    for (auto& op : batch) op.finish(committed ? WriteEnd::kCommitted : WriteEnd::kFailed);
    {
      std::lock_guard lock(mu_);
      finished_ += batch.size();
      stats_.commits += committed ? 1 : 0;
      stats_.writes += committed ? batch.size() : 0;
      stats_.round_trips = db_.round_trips();
      stats_.busy_us += static_cast<uint64_t>(busy.count());
    }
    flushed_cv_.notify_all();
  }
}

bool Writer::RunBatch(std::vector<WriteOp>& batch, bool isolate) {
  aborted_ = false;
  try {
    db_.Begin();
    std::vector<WriteKeys> keys;
    keys.reserve(batch.size());
    for (const auto& op : batch) keys.push_back(op.keys);
    hooks_.BeginBatch(keys, isolate);
    for (auto& op : batch) {
      if (isolate) db_.Exec("SAVEPOINT op");
      hooks_.BeforeWrite();
      if (!op.apply(isolate)) {
        hooks_.WriteFailed();
        if (!isolate) {
          db_.ExecQuietly("ROLLBACK");
          return false;
        }
        db_.Exec("ROLLBACK TO op");
      }
      if (isolate) db_.Exec("RELEASE op");
    }
    if (!hooks_.EndBatch()) {
      db_.ExecQuietly("ROLLBACK");
      hooks_.RolledBack();
      return false;  // run again with each write isolated: the one at fault fails alone
    }
    db_.Sync();  // the batch's pipelined writes
    db_.Exec("COMMIT");
    if (was_full_) {
      was_full_ = false;
      spdlog::info("the disk has room again; writes resume");
    }
    return true;
  } catch (const DbError& e) {
    db_.ExecQuietly("ROLLBACK");
    hooks_.RolledBack();
    if (e.kind == DbError::Kind::kAborted) {
      aborted_ = true;
      return false;
    }
    // A pipelined write that failed on its own, found out after its op: the batch runs again
    // with each write isolated (and waited for), so that only that one fails.
    if (e.OnlyThisWrite() && !isolate) return false;
    std::lock_guard lock(mu_);
    if (e.kind == DbError::Kind::kFull) {
      full_ = true;
      if (!was_full_) {
        spdlog::error("the disk is full ({}); writes answer 503 until there is room again",
                      e.what());
      }
      was_full_ = true;
    } else if (e.kind == DbError::Kind::kConnection) {
      // The commit's fate is unknown: its writers are told it failed (503), and whoever keeps
      // state beside the store (the line leases) learns of the loss through ConnectionLosses().
      disconnected_ = true;
      ++connection_losses_;
      spdlog::error("lost the database connection ({}); writes fail until it is back", e.what());
    } else {
      failed_ = true;  // sticky
      spdlog::error("a commit failed ({}); the store refuses writes until restarted", e.what());
    }
    return false;
  }
}

bool Writer::Reconnect() {
  try {
    db_.Exec("SELECT 1");  // a lost connection is made again on use
    hooks_.RolledBack();
    return true;
  } catch (const DbError&) {
    return false;
  }
}

}  // namespace bluegate::store
