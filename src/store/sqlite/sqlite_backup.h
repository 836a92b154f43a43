// Backups of the embedded database, taken while the server runs, and their restore and check.
//
// A backup is one SQLite file: the database as of one snapshot (SQLite's online backup API, read
// beside the server's writer without holding it back; see backup_lock.h for the checkpointer),
// plus two tables of its own: bluegate_backup (what made it, and when) and bluegate_backup_files
// (the files under a folder, such as the media, as blobs). A restore writes the database without
// those tables and puts the files back; a check runs SQLite's integrity check on either.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace bluegate::store {

struct BackupSummary {
  int64_t schema_version = 0;
  uint64_t database_bytes = 0;  // the database's pages, without the files
  uint64_t files = 0;
  uint64_t file_bytes = 0;
  uint64_t files_skipped = 0;  // removed, or changed size, while the backup read them
};

// Writes a backup of the database at `db_path` with the regular files under `files_dir` (those
// directly in it and one folder down; a missing folder has none) to `dest`, a new file: written
// beside it as `dest`.partial and renamed when complete and synced. kConflict when `dest` exists.
Result<BackupSummary> BackupSqlite(const std::string& db_path, const std::string& files_dir,
                                   const std::string& dest);

// Checks the backup `from` whole (integrity, its own tables, a schema this binary can run, file
// names that stay inside their folder), then writes its database to `db_path` (which must not
// exist) and its files under `files_dir`. On failure, what it wrote is removed.
Result<BackupSummary> RestoreSqlite(const std::string& from, const std::string& db_path,
                                    const std::string& files_dir);

struct CheckReport {
  std::vector<std::string> problems;  // empty: the database is sound
  bool backup = false;                // the file is a backup (bluegate backup)
  int64_t schema_version = 0;
  int64_t this_binary_schema = 0;  // what this bluegate migrates to
  uint64_t database_bytes = 0;
  uint64_t wal_bytes = 0;
  int64_t accounts = 0, lines = 0, messages = 0, queued = 0;
  uint64_t files = 0;  // a backup's files
};

// Runs SQLite's integrity and foreign key checks on `path` (a data directory's database, or a
// backup) and counts what it holds. `live`: the database may be served right now (its snapshot is
// read under the backup lock). kNotFound when there is no such file.
Result<CheckReport> CheckSqlite(const std::string& path, bool live);

}  // namespace bluegate::store
