// Backups of the embedded database: what a backup holds (a snapshot and its files), what a restore
// refuses (a damaged, foreign, newer or hostile file; a target that exists), and what a check says.
#include "store/sqlite/sqlite_backup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "store/sql/db.h"
#include "store/sqlite/sqlite_db.h"
#include "testing/temp_dir.h"

namespace bluegate::store {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

class SqliteBackupTest : public ::testing::Test {
 protected:
  SqliteBackupTest() : dir_("sqlite-backup") {
    SqliteOpen open;
    open.path = db_path_;
    db_ = OpenSqliteDb(open);
    MigrateSqlite(*db_);
    db_->Exec("CREATE TABLE t(v TEXT)");
  }
  void Write(int from, int to) {
    Stmt insert(db_.get(), "INSERT INTO t(v) VALUES (?)");
    db_->Exec("BEGIN");
    for (int i = from; i < to; ++i) insert.Reset().Bind("row " + std::to_string(i)).Exec();
    db_->Exec("COMMIT");
  }
  std::unique_ptr<Db> Open(const std::string& path) {
    SqliteOpen open;
    open.path = path;
    return OpenSqliteDb(open);
  }
  int64_t Count(Db& db, const std::string& sql) {
    Stmt q(&db, sql);
    return q.Step() ? q.Int(0) : -1;
  }
  // A backup with one row changed by `sql`, as a hostile or damaged file would have it.
  std::string Tampered(const std::string& sql) {
    const std::string file = dir_.File("tampered.bgbackup");
    EXPECT_TRUE(BackupSqlite(db_path_, media_, file).ok());
    Open(file)->Exec(sql);
    return file;
  }

  testing::TempDir dir_;
  const std::string db_path_ = dir_.File("bluegate.db");
  const std::string media_ = dir_.File("media");
  const std::string backup_ = dir_.File("copy.bgbackup");
  const std::string restored_ = dir_.File("restored/bluegate.db");
  const std::string restored_media_ = dir_.File("restored/media");
  std::unique_ptr<Db> db_;
};

TEST_F(SqliteBackupTest, ARestoreHoldsWhatWasCommittedBeforeTheBackupAndItsFiles) {
  Write(0, 500);
  Spit(media_ + "/a1/photo.jpg", std::string(3 << 20, 'j'));  // more than one chunk
  Spit(media_ + "/old.png", "png bytes");
  Spit(media_ + "/.hidden", "not media");
  Spit(media_ + "/a1/bad name!.jpg", "not a name uploads make");
  fs::create_symlink("/etc/passwd", media_ + "/a1/link.jpg");

  auto summary = BackupSqlite(db_path_, media_, backup_);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  Write(500, 600);  // after the backup: not in it
  EXPECT_EQ(summary->files, 2u);
  EXPECT_EQ(summary->file_bytes, (3u << 20) + 9);
  EXPECT_EQ(summary->files_skipped, 2u) << "the dot file and the odd name; links are not followed";
  EXPECT_FALSE(fs::exists(backup_ + ".partial"));
  EXPECT_FALSE(fs::exists(backup_ + "-wal")) << "one file";

  fs::create_directories(fs::path(restored_).parent_path());
  auto restored = RestoreSqlite(backup_, restored_, restored_media_);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(restored->files, 2u);
  EXPECT_EQ(restored->schema_version, summary->schema_version);
  EXPECT_EQ(Slurp(restored_media_ + "/a1/photo.jpg"), std::string(3 << 20, 'j'));
  EXPECT_EQ(Slurp(restored_media_ + "/old.png"), "png bytes");
  EXPECT_FALSE(fs::exists(restored_media_ + "/a1/link.jpg"));
  EXPECT_FALSE(fs::exists(restored_media_ + "/.hidden"));
  auto copy = Open(restored_);
  EXPECT_EQ(Count(*copy, "SELECT COUNT(*) FROM t"), 500);
  EXPECT_EQ(Count(*copy, "SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE 'bluegate_backup%'"),
            0)
      << "the backup's own tables are gone";
  Stmt mode(copy.get(), "PRAGMA journal_mode");
  ASSERT_TRUE(mode.Step());
  EXPECT_EQ(mode.Text(0), "wal");
}

TEST_F(SqliteBackupTest, ABackupNeverOverwritesAFile) {
  Spit(backup_, "an older backup");
  auto summary = BackupSqlite(db_path_, media_, backup_);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(Slurp(backup_), "an older backup");
}

TEST_F(SqliteBackupTest, ARestoreRefusesAnExistingDatabase) {
  ASSERT_TRUE(BackupSqlite(db_path_, media_, backup_).ok());
  Write(0, 3);
  auto r = RestoreSqlite(backup_, db_path_, media_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(Count(*db_, "SELECT COUNT(*) FROM t"), 3) << "untouched";
}

TEST_F(SqliteBackupTest, ARestoreRefusesWhatIsNotABackup) {
  Spit(dir_.File("notes.txt"), std::string(8192, 'x'));
  auto text = RestoreSqlite(dir_.File("notes.txt"), restored_, restored_media_);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message.find("not a database"), std::string::npos) << text.error().message;

  auto database = RestoreSqlite(db_path_, restored_, restored_media_);  // a database, not a backup
  ASSERT_FALSE(database.ok());
  EXPECT_NE(database.error().message.find("is not a bluegate backup"), std::string::npos)
      << database.error().message;
  EXPECT_FALSE(fs::exists(restored_));
}

TEST_F(SqliteBackupTest, ARestoreRefusesAFileNamedOutsideItsFolder) {
  Spit(media_ + "/a1/photo.jpg", "jpeg");
  for (const char* path : {"../evil.jpg", "/tmp/evil.jpg", "a1/../../evil.jpg", "a1/b/c.jpg"}) {
    SCOPED_TRACE(path);
    const std::string file =
        Tampered(std::string("UPDATE bluegate_backup_files SET path = '") + path + "'");
    auto r = RestoreSqlite(file, restored_, restored_media_);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("names a file outside its folder"), std::string::npos);
    EXPECT_FALSE(fs::exists(restored_));
    EXPECT_FALSE(fs::exists(restored_media_));
    EXPECT_FALSE(fs::exists(dir_.File("evil.jpg")));
    fs::remove(file);
  }
}

TEST_F(SqliteBackupTest, ARestoreRefusesANewerSchema) {
  const std::string file = Tampered("INSERT INTO schema_version(version) VALUES (9999)");
  auto r = RestoreSqlite(file, restored_, restored_media_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("newer than this bluegate"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(fs::exists(restored_));
}

TEST_F(SqliteBackupTest, ACheckCountsASoundDatabaseAndABackup) {
  db_->Exec(
      "INSERT INTO accounts(id, email, plan, created_at) VALUES (1, 'a@example.com', 'blue', 0)");
  auto live = CheckSqlite(db_path_, true);
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->problems.empty()) << live->problems.front();
  EXPECT_FALSE(live->backup);
  EXPECT_EQ(live->accounts, 1);
  EXPECT_EQ(live->schema_version, live->this_binary_schema);

  Spit(media_ + "/x.jpg", "jpeg");
  ASSERT_TRUE(BackupSqlite(db_path_, media_, backup_).ok());
  auto backup = CheckSqlite(backup_, false);
  ASSERT_TRUE(backup.ok());
  EXPECT_TRUE(backup->problems.empty());
  EXPECT_TRUE(backup->backup);
  EXPECT_EQ(backup->files, 1u);
  EXPECT_EQ(backup->accounts, 1);

  EXPECT_EQ(CheckSqlite(dir_.File("none.db"), false).error().kind, ErrorKind::kNotFound);
}

TEST_F(SqliteBackupTest, ACheckFindsADamagedPage) {
  Write(0, 5000);
  ASSERT_TRUE(BackupSqlite(db_path_, media_, backup_).ok());
  {
    std::fstream f(backup_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 20);
    f << std::string(4096, '\xff');
  }
  auto report = CheckSqlite(backup_, false);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->problems.empty());
  auto r = RestoreSqlite(backup_, restored_, restored_media_);
  ASSERT_FALSE(r.ok()) << "a damaged backup is not restored";
  EXPECT_FALSE(fs::exists(restored_));
}

}  // namespace
}  // namespace bluegate::store
