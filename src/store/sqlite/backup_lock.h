// The lock a long reader of an SQLite database (a backup, a check) holds while its snapshot is
// open: <db>-backup.lock, an flock beside the database. The server's checkpointer restarts the
// WAL only while it holds the lock exclusively, so a long reader never makes it wait with the
// writer held back (it skips the restart until the reader is done, and the WAL grows meanwhile),
// and a reader starting its snapshot waits for a restart in progress, not the other way round.
#pragma once

#include <optional>
#include <string>

namespace bluegate::store {

std::string BackupLockPath(const std::string& db_path);

class BackupLock {
 public:
  // Held shared, waiting for a checkpoint's restart to finish. Throws std::runtime_error when the
  // lock file cannot be opened.
  static BackupLock Shared(const std::string& db_path);
  // Held exclusively, or nullopt at once when a reader holds it (or it cannot be opened).
  static std::optional<BackupLock> TryExclusive(const std::string& db_path);

  BackupLock(BackupLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  BackupLock& operator=(BackupLock&&) = delete;
  ~BackupLock();

 private:
  explicit BackupLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace bluegate::store
