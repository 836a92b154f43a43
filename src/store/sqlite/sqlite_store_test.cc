// The store's behaviour, once for each engine: every TEST_P runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include <filesystem>
#include <future>

#include "store/postgres/postgres_store.h"
#include "store/sql/db.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/failing_vfs.h"
#include "testing/manual_clock.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"

#include "store/sql/store_fixture.h"

namespace bluegate::store {
namespace {

using testing_support::StoreFixture;

// SQLite alone: a disk that fails under it (an injected VFS).
class SqliteStoreTest : public StoreFixture {
 protected:
  SqliteStoreTest() : StoreFixture(Engine::kSqlite) {}
};

TEST_F(SqliteStoreTest, ConcurrentWritesShareCommits) {
  // With synchronous=FULL every commit syncs: if each of these writes committed alone, there
  // would be at least kN syncs.
  constexpr int kN = 2000;
  const uint64_t before = testing::VfsSyncs();
  std::vector<std::promise<Result<Message>>> ps(kN);
  for (int i = 0; i < kN; ++i) {
    store_->Accept(NewMessage("grouped-" + std::to_string(i)), {},
                   [&ps, i](Result<Message> r) { ps[i].set_value(std::move(r)); });
  }
  for (auto& p : ps) ASSERT_TRUE(p.get_future().get().ok());
  const uint64_t syncs = testing::VfsSyncs() - before;
  EXPECT_GT(syncs, 0u) << "the writes were synced";
  EXPECT_LT(syncs, static_cast<uint64_t>(kN) / 10) << "one sync serves a batch of writes";
}

TEST_F(SqliteStoreTest, AWriteOverTheQueueBoundIsRefusedAsOverloadedAndNothingIsHalfStored) {
  max_pending_ = 8;
  store_.reset();
  Open();
  constexpr int kN = 2000;
  std::vector<std::promise<Result<Message>>> ps(kN);
  for (int i = 0; i < kN; ++i) {
    store_->Accept(NewMessage("flood-" + std::to_string(i)), {},
                   [&ps, i](Result<Message> r) { ps[i].set_value(std::move(r)); });
  }
  int stored = 0, overloaded = 0;
  for (int i = 0; i < kN; ++i) {
    auto r = ps[i].get_future().get();
    const bool found = store_->FindMessage(account_.id, "flood-" + std::to_string(i)).ok();
    if (r.ok()) {
      ++stored;
      EXPECT_TRUE(found);
      continue;
    }
    EXPECT_EQ(r.error().kind, ErrorKind::kOverloaded) << r.error().message;
    EXPECT_EQ(r.error().code, ErrorCode::kServerRateExceeded) << "503 / 5003";
    EXPECT_NE(r.error().message.find("store.max_queued_writes"), std::string::npos);
    EXPECT_FALSE(found) << "a refused write left nothing";
    ++overloaded;
  }
  EXPECT_GT(overloaded, 0) << "2,000 writes at once against a bound of 8";
  EXPECT_GT(stored, 0);
  EXPECT_TRUE(store_->healthy()) << "overload is not a failure";
}

TEST_F(SqliteStoreTest, AFullDiskRefusesWritesWhileItLastsAndTheStoreResumesByItself) {
  ASSERT_TRUE(Accept(NewMessage("before")).ok());
  testing::SetVfsFull(true);
  auto during = Accept(NewMessage("during"));
  ASSERT_FALSE(during.ok());
  EXPECT_EQ(during.error().kind, ErrorKind::kStorageFailure);
  EXPECT_EQ(during.error().code, ErrorCode::kServerRateExceeded) << "503 / 5003";
  EXPECT_FALSE(store_->healthy()) << "/readyz fails while the disk is full";
  testing::SetVfsFull(false);
  // The writer tries again after full_disk_retry (20 ms here): wait for it to say so.
  for (int i = 0; i < 500 && !store_->healthy(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(store_->healthy()) << "no restart needed";
  auto after = Accept(NewMessage("after"));
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_TRUE(store_->healthy());
  EXPECT_TRUE(store_->FindMessage(account_.id, "before").ok()) << "what was acknowledged stays";
  EXPECT_FALSE(store_->FindMessage(account_.id, "during").ok()) << "what was refused is not there";
}

TEST_F(SqliteStoreTest, ACommitFailureIsStickyAndNothingMoreIsAcknowledged) {
  ASSERT_TRUE(Accept(NewMessage("before")).ok());
  testing::SetVfsFailing(true);
  auto failed = Accept(NewMessage("during"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kStorageFailure);
  EXPECT_FALSE(store_->healthy());
  testing::SetVfsFailing(false);
  // The disk works again, but the store cannot know what the failed commit left: it stays closed.
  auto after = Accept(NewMessage("after"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().kind, ErrorKind::kStorageFailure);
  store_.reset();
  Open();
  EXPECT_TRUE(store_->healthy()) << "a restart recovers from the journal";
  EXPECT_TRUE(store_->FindMessage(account_.id, "before").ok());
  EXPECT_FALSE(store_->FindMessage(account_.id, "during").ok());
  EXPECT_TRUE(Accept(NewMessage("after-restart")).ok());
}

}  // namespace
}  // namespace bluegate::store
