// The writer engine alone, on a scripted connection: group commit, a write that fails alone, a
// transaction the server aborted, and the sticky failure.
#include "store/sql/writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <optional>

namespace bluegate::store {
namespace {

// Records what the writer runs; a scripted COMMIT may fail.
class ScriptedDb final : public Db {
 public:
  Engine engine() const override { return Engine::kSqlite; }
  std::unique_ptr<StmtImpl> Prepare(const std::string&) override { return nullptr; }
  void Exec(const std::string& sql) override {
    std::lock_guard lock(mu);
    log.push_back(sql);
    if (sql == "COMMIT" && !commit_failures.empty()) {
      const DbError::Kind kind = commit_failures.front();
      commit_failures.erase(commit_failures.begin());
      throw DbError("scripted " + sql + " failure", kind);
    }
  }
  void Begin() override {
    std::lock_guard lock(mu);
    log.push_back("BEGIN");
  }
  // Every statement and BEGIN counts as a round trip here.
  uint64_t round_trips() const override {
    std::lock_guard lock(mu);
    return log.size();
  }
  int Count(const std::string& sql) {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count(log.begin(), log.end(), sql));
  }

  mutable std::mutex mu;
  std::vector<std::string> log;
  std::vector<DbError::Kind> commit_failures;
};

class CountingHooks final : public BatchHooks {
 public:
  void BeginBatch(const std::vector<WriteKeys>& keys, bool isolate) override {
    ++batches;
    last_batch_size = keys.size();
    last_isolated = isolate;
  }
  void BeforeWrite() override {}
  void WriteFailed() override { ++failed_writes; }
  bool EndBatch() override { return true; }
  void RolledBack() override { ++rollbacks; }
  void AfterBatch(bool committed) override { committed_batches += committed; }

  std::atomic<int> batches{0}, failed_writes{0}, rollbacks{0}, committed_batches{0};
  std::atomic<size_t> last_batch_size{0};
  std::atomic<bool> last_isolated{false};
};

class WriterTest : public ::testing::Test {
 protected:
  // A write that runs `apply` and records how its batch ended.
  std::future<bool> Write(std::function<bool(bool)> apply) {
    auto done = std::make_shared<std::promise<bool>>();
    auto future = done->get_future();
    writer_.Enqueue(WriteOp{std::move(apply),
                            [this, done](WriteEnd end) {
                              {
                                std::lock_guard lock(ends_mu_);
                                ends_.push_back(end);
                              }
                              done->set_value(end == WriteEnd::kCommitted);
                            },
                            {}});
    return future;
  }
  // Holds the writer inside a first batch until the returned function is called, so that the
  // writes queued meanwhile share the next batch.
  std::function<void()> HoldTheWriter() {
    auto release = std::make_shared<std::promise<void>>();
    auto entered = std::make_shared<std::promise<void>>();
    auto gate = release->get_future().share();
    held_ = Write([entered, gate](bool) {
      entered->set_value();
      gate.wait();
      return true;
    });
    entered->get_future().wait();
    return [release] { release->set_value(); };
  }

  ScriptedDb db_;
  CountingHooks hooks_;
  std::mutex ends_mu_;
  std::vector<WriteEnd> ends_;
  Writer writer_{db_, hooks_, WriterSettings{4096, Millis(1000), Millis(250), 100}};
  std::future<bool> held_;
};

TEST_F(WriterTest, WritesQueuedTogetherShareOneTransaction) {
  auto release = HoldTheWriter();
  std::vector<std::future<bool>> writes;
  for (int i = 0; i < 100; ++i) writes.push_back(Write([](bool) { return true; }));
  release();
  for (auto& w : writes) EXPECT_TRUE(w.get());
  EXPECT_TRUE(held_.get());
  EXPECT_EQ(db_.Count("COMMIT"), 2) << "the held write's batch, then one for the other 100";
  EXPECT_EQ(hooks_.last_batch_size, 100u);
}

TEST_F(WriterTest, ItsStatsCountCommittedTransactionsTheirWritesAndRoundTrips) {
  auto release = HoldTheWriter();
  std::vector<std::future<bool>> writes;
  for (int i = 0; i < 100; ++i) writes.push_back(Write([](bool) { return true; }));
  release();
  writer_.Flush();
  WriteStats s = writer_.Stats();
  EXPECT_EQ(s.commits, 2u);
  EXPECT_EQ(s.writes, 101u);
  EXPECT_EQ(s.round_trips, 4u) << "BEGIN and COMMIT, twice";
  EXPECT_EQ(s.isolated_batches, 0u);
  db_.commit_failures = {DbError::Kind::kAborted};
  EXPECT_TRUE(Write([](bool) { return true; }).get());
  writer_.Flush();
  s = writer_.Stats();
  EXPECT_EQ(s.commits, 3u) << "a transaction run again after the server aborted it commits once";
  EXPECT_EQ(s.writes, 102u);
  EXPECT_EQ(s.round_trips, db_.round_trips());
}

TEST_F(WriterTest, PastMaxPendingAWriteIsRefusedAtOnceAsOverloaded) {
  auto release = HoldTheWriter();
  std::vector<std::future<bool>> waiting;
  for (int i = 0; i < 100; ++i) waiting.push_back(Write([](bool) { return true; }));
  std::atomic<bool> ran{false};
  EXPECT_FALSE(Write([&](bool) { return ran = true; }).get()) << "told at once, before the batch";
  {
    std::lock_guard lock(ends_mu_);
    ASSERT_EQ(ends_.size(), 1u);
    EXPECT_EQ(ends_.back(), WriteEnd::kOverloaded);
  }
  release();
  for (auto& w : waiting) EXPECT_TRUE(w.get());
  EXPECT_FALSE(ran);
  EXPECT_TRUE(writer_.healthy()) << "overload is not a failure of the store";
  EXPECT_TRUE(Write([](bool) { return true; }).get()) << "room again";
}

TEST_F(WriterTest, AWriteThatFailsAloneIsRolledBackAloneAndTheOthersCommit) {
  auto release = HoldTheWriter();
  std::atomic<int> runs_of_bad{0}, runs_of_good{0};
  auto good1 = Write([&](bool) { return ++runs_of_good, true; });
  auto bad = Write([&](bool) { return ++runs_of_bad, false; });
  auto good2 = Write([&](bool) { return ++runs_of_good, true; });
  release();
  EXPECT_TRUE(good1.get());
  EXPECT_TRUE(bad.get()) << "the batch committed; the write's own result tells its failure";
  EXPECT_TRUE(good2.get());
  EXPECT_EQ(runs_of_bad, 2) << "once in the optimistic attempt, once isolated";
  EXPECT_TRUE(hooks_.last_isolated);
  EXPECT_EQ(db_.Count("ROLLBACK TO op"), 1) << "only the failing write was undone";
  EXPECT_EQ(db_.Count("SAVEPOINT op"), 3);
  EXPECT_EQ(hooks_.failed_writes, 2);
  writer_.Flush();
  EXPECT_EQ(writer_.Stats().isolated_batches, 1u);
}

TEST_F(WriterTest, ATransactionTheServerAbortedRunsAgain) {
  db_.commit_failures = {DbError::Kind::kAborted};
  std::atomic<int> runs{0};
  EXPECT_TRUE(Write([&](bool) { return ++runs, true; }).get());
  EXPECT_EQ(runs, 2);
  EXPECT_TRUE(writer_.healthy());
  EXPECT_GE(hooks_.rollbacks, 1);
}

TEST_F(WriterTest, ACommitWhoseFateIsUnknownFailsEveryLaterWrite) {
  db_.commit_failures = {DbError::Kind::kOther};
  EXPECT_FALSE(Write([](bool) { return true; }).get());
  EXPECT_FALSE(writer_.healthy());
  std::atomic<bool> ran{false};
  EXPECT_FALSE(Write([&](bool) { return ran = true; }).get());
  EXPECT_FALSE(ran) << "refused without running: the store fails closed";
  writer_.Flush();
  EXPECT_FALSE(writer_.healthy()) << "sticky";
}

TEST_F(WriterTest, ALostConnectionIsCountedForWhatKeepsStateBesideTheStore) {
  db_.commit_failures = {DbError::Kind::kConnection};
  EXPECT_FALSE(Write([](bool) { return true; }).get());
  EXPECT_EQ(writer_.ConnectionLosses(), 1u);
}

// Lazy writes (recorded webhook attempts), on a writer whose lazy delay is an hour: nothing in
// these tests may wait for it.
class LazyWriterTest : public ::testing::Test {
 protected:
  std::future<bool> Write(bool lazy) {
    auto done = std::make_shared<std::promise<bool>>();
    auto future = done->get_future();
    WriteOp op{[](bool) { return true; },
               [done](WriteEnd end) { done->set_value(end == WriteEnd::kCommitted); },
               {}};
    op.lazy = lazy;
    writer_->Enqueue(std::move(op));
    return future;
  }

  ScriptedDb db_;
  CountingHooks hooks_;
  std::unique_ptr<Writer> writer_ = std::make_unique<Writer>(
      db_, hooks_, WriterSettings{4096, Millis(1000), Millis(250), 100, std::chrono::hours(1)});
};

TEST_F(LazyWriterTest, LazyWritesShareTheCommitOfTheNextWriteThatIsNot) {
  auto a = Write(true);
  auto b = Write(true);
  // (Not a timing test: with an hour's delay, a lazy write alone is never committed this soon.)
  EXPECT_EQ(a.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "alone, lazy writes wait";
  auto eager = Write(false);
  EXPECT_TRUE(eager.get());
  EXPECT_TRUE(a.get());
  EXPECT_TRUE(b.get());
  EXPECT_EQ(db_.Count("COMMIT"), 1) << "the two lazy writes waited for the third";
  EXPECT_EQ(hooks_.last_batch_size, 3u);
}

TEST_F(LazyWriterTest, FlushAndStopDoNotWaitForTheLazyDelay) {
  auto a = Write(true);
  writer_->Flush();
  EXPECT_TRUE(a.get());
  EXPECT_EQ(db_.Count("COMMIT"), 1);
  auto b = Write(true);
  writer_->Stop();
  EXPECT_TRUE(b.get()) << "committed on the way out, not dropped";
  EXPECT_EQ(db_.Count("COMMIT"), 2);
}

TEST(LazyWriterDelayTest, ALazyWriteAloneIsCommittedAfterItsDelay) {
  ScriptedDb db;
  CountingHooks hooks;
  Writer writer(db, hooks, WriterSettings{4096, Millis(1000), Millis(250), 100, Millis(1)});
  auto done = std::make_shared<std::promise<bool>>();
  auto future = done->get_future();
  WriteOp op{[](bool) { return true; },
             [done](WriteEnd end) { done->set_value(end == WriteEnd::kCommitted); },
             {}};
  op.lazy = true;
  writer.Enqueue(std::move(op));
  EXPECT_TRUE(future.get()) << "no other write came; it went alone";
  EXPECT_EQ(db.Count("COMMIT"), 1);
}

}  // namespace
}  // namespace bluegate::store
