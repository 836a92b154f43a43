// bluegate backup | restore | check: the embedded database and its media, copied while the server
// runs, put back into a new data directory, and checked (store/sqlite/sqlite_backup.h).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/cli_command.h"
#include "store/sqlite/sqlite_backup.h"

namespace bluegate::app {
namespace {

namespace fs = std::filesystem;

Error Conflict(std::string message) {
  return Error{ErrorKind::kConflict, std::move(message), std::nullopt, {}};
}

std::string Bytes(uint64_t n) {
  char out[32];
  if (n < 1024) {
    std::snprintf(out, sizeof out, "%llu bytes", static_cast<unsigned long long>(n));
  } else if (n < (1u << 20)) {
    std::snprintf(out, sizeof out, "%.1f KiB", static_cast<double>(n) / 1024);
  } else if (n < (1ull << 30)) {
    std::snprintf(out, sizeof out, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  } else {
    std::snprintf(out, sizeof out, "%.2f GiB", static_cast<double>(n) / (1 << 30));
  }
  return out;
}

// The embedded database only: on PostgreSQL the server's own tools do this.
Result<Config> Embedded(const CommonOptions& common, const char* what) {
  Config c = Load(common);
  if (c.clustered()) {
    return Error::Invalid(std::string(what) + " works on the embedded SQLite database; this " +
                          "configuration keeps its data in PostgreSQL (" + Where(c) +
                          "): use pg_dump or point-in-time recovery (docs/operations.md)");
  }
  return c;
}

// Whether a `bluegate serve` holds the data directory (its serve.lock).
bool Served(const std::string& data_dir) {
  const std::string path = data_dir + "/serve.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

struct BackupOptions {
  CommonOptions common;
  std::string to;
};

Result<int> Backup(const BackupOptions& o) {
  auto c = Embedded(o.common, "backup");
  if (!c.ok()) return c.error();
  // The backup holds what the data directory does (key hashes, webhook secrets): private too.
  ::umask(0077);
  const auto start = std::chrono::steady_clock::now();
  auto r = store::BackupSqlite(c->database_path(), c->data_dir + "/media", o.to);
  if (!r.ok()) return r.error();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("backed up %s to %s in %.2f s\n", c->data_dir.c_str(), o.to.c_str(), seconds);
  std::cout << "database: " << Bytes(r->database_bytes) << ", schema version " << r->schema_version
            << "\n"
            << "media:    " << r->files << " files, " << Bytes(r->file_bytes);
  if (r->files_skipped > 0) {
    std::cout << " (" << r->files_skipped
              << " skipped: removed or changed while read, or not named as uploads are)";
  }
  std::cout << "\nrestore it with: bluegate restore --from " << o.to << " --data-dir NEW_DIR\n";
  return 0;
}

struct RestoreOptions {
  CommonOptions common;
  std::string from;
};

Result<int> Restore(const RestoreOptions& o) {
  auto c = Embedded(o.common, "restore");
  if (!c.ok()) return c.error();
  const std::string& dir = c->data_dir;
  std::error_code ec;
  if (Served(dir)) {
    return Conflict("a bluegate server is running on " + dir +
                    ": restore into a new data directory, then serve that one");
  }
  const bool existed = fs::exists(dir, ec);
  if (existed && !fs::is_empty(dir, ec)) {
    return Conflict(dir + " is not empty: restore into a new or empty data directory");
  }
  PrivateDataDir(dir);
  auto r = store::RestoreSqlite(o.from, c->database_path(), dir + "/media");
  if (!r.ok()) {
    if (!existed) fs::remove(dir, ec);  // the restore removed what it wrote; only when empty
    return r.error();
  }
  std::cout << "restored " << o.from << " into " << dir << "\n"
            << "database: " << Bytes(r->database_bytes) << ", schema version " << r->schema_version
            << "\n"
            << "media:    " << r->files << " files, " << Bytes(r->file_bytes) << "\n"
            << "start it with: bluegate serve --data-dir " << dir << "\n";
  return 0;
}

struct CheckOptions {
  CommonOptions common;
  std::string from;
};

Result<int> Check(const CheckOptions& o) {
  std::string path;
  bool live = false;
  if (!o.from.empty()) {
    path = o.from;
  } else {
    auto c = Embedded(o.common, "check");
    if (!c.ok()) return c.error();
    path = c->database_path();
    live = true;
  }
  auto r = store::CheckSqlite(path, live);
  if (!r.ok()) return r.error();
  if (!r->problems.empty()) {
    std::cout << path << ": " << r->problems.size() << " problem"
              << (r->problems.size() == 1 ? "" : "s") << "\n";
    for (const auto& p : r->problems) std::cout << "  " << p << "\n";
    return Error::Invalid("the check of " + path + " found " + std::to_string(r->problems.size()) +
                          " problems; restore the latest sound backup (docs/operations.md)");
  }
  std::cout << path << ": ok" << (r->backup ? " (a backup)" : "") << "\n"
            << "schema version " << r->schema_version
            << " (this bluegate: " << r->this_binary_schema
            << (r->schema_version < r->this_binary_schema ? "; serve migrates it on start" : "")
            << ")\n"
            << "database " << Bytes(r->database_bytes);
  if (!r->backup) std::cout << ", WAL " << Bytes(r->wal_bytes);
  std::cout << "\naccounts " << r->accounts << ", lines " << r->lines << ", messages "
            << r->messages << " (" << r->queued << " queued)\n";
  if (r->backup) std::cout << "media files " << r->files << "\n";
  return 0;
}

}  // namespace

void AddBackupCommands(CLI::App& app, Command& chosen) {
  auto [backup, b] = AddCommand<BackupOptions>(
      &app, "backup",
      "Write a consistent copy of the data directory's database and media to one file, while "
      "serve runs",
      chosen, Backup);
  backup->add_option("--to", b->to, "The backup file to write (it must not exist)")->required();
  auto [restore, r] = AddCommand<RestoreOptions>(
      &app, "restore",
      "Restore a backup into a new or empty data directory (refused while a server runs on it)",
      chosen, Restore);
  restore->add_option("--from", r->from, "The backup file (made by bluegate backup)")->required();
  auto [check, c] = AddCommand<CheckOptions>(
      &app, "check",
      "Check the data directory's database (or a backup, with --from): integrity, schema, counts",
      chosen, Check);
  check->add_option("--from", c->from, "Check this backup file instead of the data directory");
}

}  // namespace bluegate::app
