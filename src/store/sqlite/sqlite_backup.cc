#include "store/sqlite/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <utility>

#include "store/sql/schema.h"
#include "store/sqlite/backup_lock.h"
#include "store/sqlite/sqlite_db.h"

namespace bluegate::store {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "1";
constexpr size_t kChunk = 1 << 20;  // bytes moved between a file and its blob at a time

// The schema version this binary migrates a database to.
int64_t ThisBinarySchema() {
  return static_cast<int64_t>(SqliteLegacyMigrations().size() + SharedMigrations().size());
}

struct Handle {
  Handle(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      throw std::runtime_error("cannot open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db, 5000);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { sqlite3_close_v2(db); }
  void Exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      throw std::runtime_error(msg);
    }
  }
  sqlite3* db = nullptr;
};

class Query {
 public:
  Query(const Handle& h, const char* sql) : db_(h.db) {
    if (sqlite3_prepare_v2(db_, sql, -1, &s_, nullptr) != SQLITE_OK) Fail();
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() { sqlite3_finalize(s_); }
  Query& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool Step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) Fail();
    sqlite3_reset(s_);
    return false;
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : "";
  }

 private:
  [[noreturn]] void Fail() { throw std::runtime_error(sqlite3_errmsg(db_)); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

int64_t OneInt(const Handle& h, const char* sql) {
  Query q(h, sql);
  return q.Step() ? q.Int(0) : 0;
}

bool HasTable(const Handle& h, const std::string& name) {
  Query q(h, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
  return q.Bind(1, name).Step();
}

// Copies every page of `from` into `to` as of one snapshot of `from`.
void CopyPages(const Handle& from, const Handle& to) {
  sqlite3_backup* b = sqlite3_backup_init(to.db, "main", from.db, "main");
  if (!b) throw std::runtime_error(sqlite3_errmsg(to.db));
  int rc = SQLITE_OK;
  for (int tries = 0; tries < 500; ++tries) {  // a busy source (its WAL being recovered): wait
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(10);
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) throw std::runtime_error(std::string("copying: ") + sqlite3_errstr(rc));
}

// A file's name in a backup: NAME or FOLDER/NAME, each of [A-Za-z0-9._-], not starting with a dot.
bool SafeFilePath(const std::string& path) {
  auto part_ok = [](std::string_view p) {
    return !p.empty() && p.size() <= 255 && p[0] != '.' &&
           std::all_of(p.begin(), p.end(), [](char c) {
             return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
           });
  };
  const auto slash = path.find('/');
  if (slash == std::string::npos) return part_ok(path);
  return part_ok(std::string_view(path).substr(0, slash)) &&
         part_ok(std::string_view(path).substr(slash + 1));
}

std::vector<std::string> ListFiles(const std::string& dir, uint64_t& skipped) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  auto visit = [&](const fs::directory_entry& entry, const std::string& rel, auto& self,
                   int depth) -> void {
    std::error_code e;
    if (entry.is_symlink(e)) return;
    if (entry.is_regular_file(e)) {
      if (SafeFilePath(rel)) {
        out.push_back(rel);
      } else {
        ++skipped;
      }
      return;
    }
    if (depth > 0 || !entry.is_directory(e)) return;
    for (const auto& child : fs::directory_iterator(entry.path(), e)) {
      self(child, rel + "/" + child.path().filename().string(), self, depth + 1);
    }
  };
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    visit(entry, entry.path().filename().string(), visit, 0);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Adds one file as a blob; false when it vanished or changed size while read (the row is undone).
bool AddFile(const Handle& out, Query& insert, const std::string& path, const std::string& rel,
             BackupSummary& summary) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return false;
  insert.Bind(1, rel).Bind(2, static_cast<int64_t>(size)).Step();
  const sqlite3_int64 row = sqlite3_last_insert_rowid(out.db);
  sqlite3_blob* blob = nullptr;
  if (sqlite3_blob_open(out.db, "main", "bluegate_backup_files", "bytes", row, 1, &blob) !=
      SQLITE_OK) {
    throw std::runtime_error(sqlite3_errmsg(out.db));
  }
  std::string buf(kChunk, '\0');
  off_t at = 0;
  bool whole = true;
  while (at < size) {
    const ssize_t n = ::pread(fd, buf.data(), std::min<off_t>(kChunk, size - at), at);
    if (n <= 0) {
      whole = false;
      break;
    }
    if (sqlite3_blob_write(blob, buf.data(), static_cast<int>(n), static_cast<int>(at)) !=
        SQLITE_OK) {
      sqlite3_blob_close(blob);
      throw std::runtime_error(sqlite3_errmsg(out.db));
    }
    at += n;
  }
  sqlite3_blob_close(blob);
  if (!whole) {
    Query undo(out, "DELETE FROM bluegate_backup_files WHERE rowid = ?");
    undo.Bind(1, static_cast<int64_t>(row)).Step();
    return false;
  }
  ++summary.files;
  summary.file_bytes += static_cast<uint64_t>(size);
  return true;
}

void SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Renames a complete, synced file into place and syncs its folder, so the name survives a crash.
void Publish(const std::string& partial, const std::string& dest) {
  SyncPath(partial, O_RDONLY);
  fs::rename(partial, dest);
  const std::string parent = fs::path(dest).parent_path().string();
  SyncPath(parent.empty() ? "." : parent, O_RDONLY | O_DIRECTORY);
}

int64_t SchemaVersionOf(const Handle& h) {
  if (!HasTable(h, "schema_version")) return 0;
  return OneInt(h, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
}

Error Conflict(std::string message) {
  return Error{ErrorKind::kConflict, std::move(message), std::nullopt, {}};
}

}  // namespace

Result<BackupSummary> BackupSqlite(const std::string& db_path, const std::string& files_dir,
                                   const std::string& dest) {
  std::error_code ec;
  if (!fs::exists(db_path, ec)) return Error::NotFound("there is no database at " + db_path);
  if (fs::exists(dest, ec)) return Conflict(dest + " already exists: back up to a new file");
  const std::string partial = dest + ".partial";
  fs::remove(partial, ec);
  BackupSummary summary;
  try {
    {
      Handle out(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      {
        Handle source(db_path, SQLITE_OPEN_READWRITE);
        const BackupLock reading = BackupLock::Shared(db_path);
        CopyPages(source, out);
      }
      summary.schema_version = SchemaVersionOf(out);
      if (summary.schema_version == 0) {
        throw std::runtime_error(db_path + " is not a bluegate database");
      }
      summary.database_bytes = static_cast<uint64_t>(OneInt(out, "PRAGMA page_count")) *
                               static_cast<uint64_t>(OneInt(out, "PRAGMA page_size"));
      // One file, with no WAL beside it.
      out.Exec(
          "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL; BEGIN;"
          "CREATE TABLE bluegate_backup(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
          "CREATE TABLE bluegate_backup_files(path TEXT PRIMARY KEY, bytes BLOB NOT NULL);");
      Query about(out, "INSERT INTO bluegate_backup(key, value) VALUES (?, ?)");
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      about.Bind(1, std::string("format")).Bind(2, std::string(kFormat)).Step();
      about.Bind(1, std::string("schema_version"))
          .Bind(2, std::to_string(summary.schema_version))
          .Step();
      about.Bind(1, std::string("created_at_ms")).Bind(2, std::to_string(now)).Step();
      Query insert(out, "INSERT INTO bluegate_backup_files(path, bytes) VALUES (?, zeroblob(?))");
      for (const auto& rel : ListFiles(files_dir, summary.files_skipped)) {
        if (!AddFile(out, insert, files_dir + "/" + rel, rel, summary)) ++summary.files_skipped;
      }
      out.Exec("COMMIT");
    }
    Publish(partial, dest);
  } catch (const std::exception& e) {
    fs::remove(partial, ec);
    return Error::Storage("backup of " + db_path + " failed: " + e.what());
  }
  return summary;
}

Result<BackupSummary> RestoreSqlite(const std::string& from, const std::string& db_path,
                                    const std::string& files_dir) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return Error::NotFound("there is no backup at " + from);
  if (fs::exists(db_path, ec))
    return Conflict(db_path + " already exists: restore into a new data directory");
  BackupSummary summary;
  const std::string partial = db_path + ".partial";
  std::vector<std::string> written;
  try {
    Handle in(from, SQLITE_OPEN_READONLY);
    {
      Query check(in, "PRAGMA integrity_check(1)");
      const std::string verdict = check.Step() ? check.Text(0) : "no answer";
      if (verdict != "ok") return Error::Invalid(from + " is damaged: " + verdict);
    }
    if (!HasTable(in, "bluegate_backup") || !HasTable(in, "bluegate_backup_files")) {
      return Error::Invalid(from + " is not a bluegate backup (one made by bluegate backup)");
    }
    {
      Query format(in, "SELECT value FROM bluegate_backup WHERE key = 'format'");
      if (!format.Step() || format.Text(0) != kFormat) {
        return Error::Invalid(from + " was made by a newer bluegate: restore it with that one");
      }
    }
    summary.schema_version = SchemaVersionOf(in);
    if (summary.schema_version > ThisBinarySchema()) {
      return Error::Invalid(from + " holds schema version " +
                            std::to_string(summary.schema_version) +
                            ", newer than this bluegate's (" + std::to_string(ThisBinarySchema()) +
                            "): restore it with that one");
    }
    std::vector<std::pair<int64_t, std::string>> files;
    {
      Query list(in, "SELECT rowid, path FROM bluegate_backup_files ORDER BY path");
      while (list.Step()) {
        files.emplace_back(list.Int(0), list.Text(1));
        if (!SafeFilePath(files.back().second)) {
          return Error::Invalid(from + " names a file outside its folder; nothing was restored");
        }
      }
    }
    fs::remove(partial, ec);
    {
      Handle out(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      CopyPages(in, out);
      out.Exec(
          "DROP TABLE bluegate_backup_files; DROP TABLE bluegate_backup; VACUUM;"
          "PRAGMA journal_mode=WAL;");
      summary.database_bytes = static_cast<uint64_t>(OneInt(out, "PRAGMA page_count")) *
                               static_cast<uint64_t>(OneInt(out, "PRAGMA page_size"));
    }
    std::string buf(kChunk, '\0');
    for (const auto& [row, rel] : files) {
      const fs::path target = fs::path(files_dir) / rel;
      fs::create_directories(target.parent_path());
      const int fd =
          ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) throw std::runtime_error("cannot create " + target.string());
      written.push_back(target.string());
      sqlite3_blob* blob = nullptr;
      bool ok = sqlite3_blob_open(in.db, "main", "bluegate_backup_files", "bytes", row, 0, &blob) ==
                SQLITE_OK;
      const int size = ok ? sqlite3_blob_bytes(blob) : 0;
      for (int at = 0; ok && at < size;) {
        const int n = std::min<int>(kChunk, size - at);
        ok = sqlite3_blob_read(blob, buf.data(), n, at) == SQLITE_OK &&
             ::write(fd, buf.data(), static_cast<size_t>(n)) == n;
        at += n;
      }
      sqlite3_blob_close(blob);
      ok = ok && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) throw std::runtime_error("cannot write " + target.string());
      ++summary.files;
      summary.file_bytes += static_cast<uint64_t>(size);
    }
    Publish(partial, db_path);
  } catch (const std::exception& e) {
    fs::remove(partial, ec);
    for (const auto& path : written) {
      fs::remove(path, ec);
      fs::remove(fs::path(path).parent_path(), ec);  // a folder it made, once empty
    }
    fs::remove(files_dir, ec);  // only when empty
    return Error::Storage("restore from " + from + " failed: " + e.what());
  }
  return summary;
}

Result<CheckReport> CheckSqlite(const std::string& path, bool live) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Error::NotFound("there is no database at " + path);
  CheckReport report;
  report.this_binary_schema = ThisBinarySchema();
  report.database_bytes = fs::file_size(path, ec);
  if (const auto wal = fs::file_size(path + "-wal", ec); !ec) report.wal_bytes = wal;
  try {
    std::optional<BackupLock> reading;
    if (live) reading.emplace(BackupLock::Shared(path));
    Handle db(path, live ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
    db.Exec("BEGIN");  // one snapshot for every count
    {
      Query check(db, "PRAGMA integrity_check(20)");
      while (check.Step()) {
        if (check.Text(0) != "ok") report.problems.push_back("integrity: " + check.Text(0));
      }
    }
    {
      Query keys(db, "PRAGMA foreign_key_check");
      int64_t broken = 0;
      std::string first;
      while (keys.Step()) {
        if (broken++ == 0) first = keys.Text(0);
      }
      if (broken > 0) {
        report.problems.push_back(std::to_string(broken) +
                                  " rows point at rows that do not exist (foreign keys), the "
                                  "first in table " +
                                  first);
      }
    }
    report.schema_version = SchemaVersionOf(db);
    if (report.schema_version == 0) {
      report.problems.push_back("not a bluegate database: it has no schema_version table");
      return report;
    }
    if (report.schema_version > report.this_binary_schema) {
      report.problems.push_back("schema version " + std::to_string(report.schema_version) +
                                " is newer than this bluegate's (" +
                                std::to_string(report.this_binary_schema) + ")");
    }
    report.backup = HasTable(db, "bluegate_backup_files");
    if (report.backup) {
      report.files =
          static_cast<uint64_t>(OneInt(db, "SELECT COUNT(*) FROM bluegate_backup_files"));
    }
    report.accounts = OneInt(db, "SELECT COUNT(*) FROM accounts");
    report.lines = OneInt(db, "SELECT COUNT(*) FROM lines");
    report.messages = OneInt(db, "SELECT COUNT(*) FROM messages");
    report.queued = OneInt(db, "SELECT COUNT(*) FROM messages WHERE status = 'QUEUED'");
    db.Exec("COMMIT");
  } catch (const std::exception& e) {
    report.problems.push_back(e.what());
  }
  return report;
}

}  // namespace bluegate::store
