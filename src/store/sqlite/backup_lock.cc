#include "store/sqlite/backup_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bluegate::store {

std::string BackupLockPath(const std::string& db_path) { return db_path + "-backup.lock"; }

BackupLock BackupLock::Shared(const std::string& db_path) {
  const std::string path = BackupLockPath(db_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_SH) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err));
  }
  return BackupLock(fd);
}

std::optional<BackupLock> BackupLock::TryExclusive(const std::string& db_path) {
  const std::string path = BackupLockPath(db_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return std::nullopt;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return BackupLock(fd);
}

BackupLock::~BackupLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace bluegate::store
