// The WAL under constant writes: a passive checkpoint copies it but never starts it over; past
// the limit the checkpoint does, unless a reader holds an old snapshot (then the next round), and
// not at all while a backup holds its lock.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "store/sql/db.h"
#include "store/sqlite/backup_lock.h"
#include "store/sqlite/sqlite_db.h"
#include "testing/temp_dir.h"

namespace bluegate::store {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest() : dir_("checkpoint") {
    SqliteOpen open;
    open.path = dir_.File("c.db");
    writer_ = OpenSqliteDb(open);
    writer_->Exec("PRAGMA wal_autocheckpoint=0; CREATE TABLE t(v TEXT)");
    checkpointer_ = OpenSqliteDb(open);
    reader_ = OpenSqliteDb(open);
  }
  void Write(int rows) {
    Stmt insert(writer_.get(), "INSERT INTO t(v) VALUES (?)");
    writer_->Exec("BEGIN");
    for (int i = 0; i < rows; ++i) insert.Reset().Bind(std::string(1000, 'x')).Exec();
    writer_->Exec("COMMIT");
  }
  uint64_t WalFile() const { return std::filesystem::file_size(dir_.File("c.db-wal")); }

  testing::TempDir dir_;
  std::unique_ptr<Db> writer_, checkpointer_, reader_;
};

TEST_F(CheckpointTest, APassiveCheckpointLeavesTheWalAndOnePastTheLimitStartsItOver) {
  Write(4000);  // about 4 MB of frames
  auto passive = CheckpointSqlite(*checkpointer_, 0);
  EXPECT_FALSE(passive.restarted);
  EXPECT_GT(passive.wal_bytes, 3u << 20);
  auto under = CheckpointSqlite(*checkpointer_, 64u << 20);
  EXPECT_FALSE(under.restarted) << "under the limit: passive only";
  auto past = CheckpointSqlite(*checkpointer_, 1u << 20);
  EXPECT_TRUE(past.restarted);
  EXPECT_EQ(past.wal_bytes, 0u);
  const uint64_t file = WalFile();
  Write(10);
  EXPECT_LT(CheckpointSqlite(*checkpointer_, 0).wal_bytes, 1u << 20) << "the WAL started over";
  EXPECT_EQ(WalFile(), file) << "the file is reused from its start, not grown";
  Stmt count(reader_.get(), "SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.Int(0), 4010) << "everything was copied into the database first";
}

TEST_F(CheckpointTest, AReaderOnAnOldSnapshotDelaysTheRestartWithoutBlockingIt) {
  Write(1000);
  reader_->Exec("BEGIN");
  Stmt count(reader_.get(), "SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.Step());  // the reader's snapshot holds the WAL
  Write(3000);
  auto held = CheckpointSqlite(*checkpointer_, 1u << 20);
  EXPECT_FALSE(held.restarted) << "it waited briefly and gave up";
  count.Reset();
  reader_->Exec("COMMIT");
  Write(10);
  EXPECT_TRUE(CheckpointSqlite(*checkpointer_, 1u << 20).restarted) << "the next round";
}

TEST_F(CheckpointTest, WhileABackupReadsTheRestartIsSkipped) {
  const std::string db = dir_.File("c.db");
  Write(3000);
  {
    const BackupLock backup = BackupLock::Shared(db);
    EXPECT_FALSE(BackupLock::TryExclusive(db)) << "held";
    auto skipped = CheckpointSqlite(*checkpointer_, 1u << 20, db);
    EXPECT_FALSE(skipped.restarted);
    EXPECT_TRUE(skipped.backup_running);
    EXPECT_GT(skipped.wal_bytes, 1u << 20) << "the WAL grows meanwhile";
    const BackupLock second = BackupLock::Shared(db);  // readers share it
  }
  auto after = CheckpointSqlite(*checkpointer_, 1u << 20, db);
  EXPECT_TRUE(after.restarted) << "the backup is done";
  EXPECT_FALSE(after.backup_running);
}

}  // namespace
}  // namespace bluegate::store
