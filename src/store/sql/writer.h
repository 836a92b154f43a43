// The store's write path, which knows no table: one thread owns the write connection and commits
// queued writes in batches (group commit: one transaction and one fsync serve up to max_batch
// callers). A write is a function run inside its batch's transaction; the store's BatchHooks say
// what a batch does besides its writes (reads to prefetch, caches to drop, observers to tell).
//
// Failures, by DbError kind:
// - a write that fails alone (a constraint): the batch is rolled back and run again with a
//   savepoint around each write, so that only that write fails;
// - a transaction the server aborted (a deadlock with another node): run again, up to 5 times;
// - a lost connection: writes fail fast until the connection is back (tried every 250 ms);
// - a full disk (SQLite rolled the transaction back): writes fail fast for full_disk_retry, then
//   the next batch tries again;
// - anything else: the commit's fate is unknown, so the writer fails closed: every later write
//   fails until restart (LevelDB's sticky background error).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/message_log.h"
#include "store/sql/db.h"

namespace bluegate::store {

// What a write will read, so that a batch can read it for all its writes at once (opaque to the
// writer; BatchHooks::BeginBatch gets every write's).
struct WriteKeys {
  int64_t message_id = 0;  // a transition's message
  int64_t account_id = 0;  // an accept's contact
  std::string contact;
  std::string line;  // an accept's line
};

// How a write ended, as its `finish` is told.
enum class WriteEnd {
  kCommitted,   // its batch committed (the write's own result says whether it succeeded)
  kFailed,      // its batch did not commit, or the writer was unhealthy
  kOverloaded,  // refused at once: max_pending writes were already waiting
};

struct WriteOp {
  // Runs inside the batch's transaction; false: this write failed and is rolled back (with
  // `alone`, only it: a savepoint isolates it, and it must wait for its own deferred statements).
  std::function<bool(bool alone)> apply;
  // Told once how it ended: on the writer thread, or at once on the caller's when refused.
  std::function<void(WriteEnd)> finish;
  WriteKeys keys;
  // No caller waits on it (a webhook's recorded attempt): while only lazy writes wait, the writer
  // gives others up to WriterSettings::lazy_delay to share their commit.
  bool lazy = false;
};

// What a batch does besides its writes. Called on the writer thread.
class BatchHooks {
 public:
  virtual ~BatchHooks() = default;
  // In the batch's transaction, before its first write (`isolate`: each write has a savepoint).
  // May throw DbError like a write.
  virtual void BeginBatch(const std::vector<WriteKeys>& keys, bool isolate) = 0;
  // Before each write, and after one failed (its effects on the hooks' state are dropped).
  virtual void BeforeWrite() = 0;
  virtual void WriteFailed() = 0;
  // After the last write, before COMMIT; false: roll back and run the batch again with each write
  // isolated. May throw DbError.
  virtual bool EndBatch() = 0;
  // The transaction was rolled back or the connection made again: anything cached from it is
  // suspect.
  virtual void RolledBack() = 0;
  // After each batch, committed or not, before its writes are told.
  virtual void AfterBatch(bool committed) = 0;
};

struct WriterSettings {
  size_t max_batch = 4096;       // writes per transaction at most
  Millis full_disk_retry{1000};  // see above
  Millis reconnect_every{250};
  // Writes waiting at most; past it a write is refused at once (the server is overloaded: the
  // API answers 503 / 5003) rather than queue without end.
  size_t max_pending = 100'000;
  // How long lazy writes alone wait for company before they are committed
  // (store.lazy_commit_delay): a moment's few attempts then share one commit and one fsync with the
  // next moments' instead of taking one each. 0: at once. Flush() and Stop() do not wait for it.
  Millis lazy_delay{10};
};

class Writer {
 public:
  // Starts the writer thread on `db` (the writer's connection, which nothing else uses while the
  // writer runs). `db` and `hooks` must outlive Stop().
  Writer(Db& db, BatchHooks& hooks, WriterSettings settings);
  ~Writer();  // Stop()
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues a write. While the writer is unhealthy it fails at once (kFailed), and with
  // max_pending writes waiting it is refused (kOverloaded), both on the caller's thread.
  // Thread-safe.
  void Enqueue(WriteOp op);
  // False after a sticky failure, while the connection is lost, while the disk is full.
  bool healthy() const;
  uint64_t ConnectionLosses() const;
  WriteStats Stats() const;
  // Blocks until every write queued before the call is committed (or failed).
  void Flush();
  // Finishes what is queued, then stops the thread. Idempotent.
  void Stop();

 private:
  void Loop();
  // One transaction for the whole batch; whether it committed. Without `isolate`, a write failing
  // on its own aborts the attempt (false, still healthy); with it, that write alone is rolled
  // back to its savepoint. Sets aborted_, or the unhealthy states, from what failed.
  bool RunBatch(std::vector<WriteOp>& batch, bool isolate);
  bool Reconnect();

  Db& db_;
  BatchHooks& hooks_;
  const WriterSettings settings_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  std::deque<WriteOp> pending_;
  bool stopping_ = false;
  bool failed_ = false;        // sticky
  bool disconnected_ = false;  // a database server unreachable
  bool full_ = false;          // the disk was full at the last commit
  uint64_t connection_losses_ = 0;
  uint64_t enqueued_ = 0;
  size_t eager_pending_ = 0;  // writes in pending_ that are not lazy
  std::chrono::steady_clock::time_point first_pending_at_{};  // when pending_ last became non-empty
  int flushers_ = 0;                                          // Flush() calls waiting
  uint64_t finished_ = 0;
  WriteStats stats_;
  // Writer thread only.
  bool was_full_ = false;  // logged once per episode
  bool aborted_ = false;   // the last attempt was aborted by the server
  std::thread thread_;
};

}  // namespace bluegate::store
