// How many bytes of uploaded media each account holds (media.max_account_bytes). Uploads are kept
// as <data_dir>/media/a<account>-<uuid>.<ext>, so the count is rebuilt from the directory on start.
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace bluegate::api {

class MediaQuota {
 public:
  explicit MediaQuota(uint64_t max_account_bytes) : max_(max_account_bytes) {}

  // Counts the files already in `dir` (names as above; others belong to no account).
  void Load(const std::string& dir);

  // Reserves room for one upload of at most `want` bytes: the bytes it may fetch (less than
  // `want` when the account is near its limit), or nullopt when the account has no room left.
  std::optional<uint64_t> Reserve(int64_t account, uint64_t want);
  // Ends a reservation: `stored` bytes were kept (0 when the upload failed).
  void Settle(int64_t account, uint64_t reserved, uint64_t stored);

  uint64_t Used(int64_t account) const;
  uint64_t max() const { return max_; }

  // The file name prefix of an account's uploads.
  static std::string Prefix(int64_t account) { return "a" + std::to_string(account) + "-"; }

 private:
  struct Usage {
    uint64_t stored = 0;
    uint64_t reserved = 0;
  };
  const uint64_t max_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Usage> by_account_;
};

}  // namespace bluegate::api
