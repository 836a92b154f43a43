// Where uploaded media live and how many bytes each account holds (media.max_account_bytes).
// An upload is kept as <data_dir>/media/a<account>/<uuid>.<ext> and served as /media/<uuid>.<ext>;
// the index of names and the counts are rebuilt from the directory on start (files directly under
// media/, from before accounts were counted, are served and belong to no account). Thread-safe.
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

  // Indexes and counts the files already in `dir`.
  void Load(const std::string& dir);

  // The path of the file served as `name`, or nullopt.
  std::optional<std::string> Locate(const std::string& name) const;
  // Records a stored upload: `name` at `path`.
  void Add(const std::string& name, std::string path);

  // Reserves room for one upload of at most `want` bytes: the bytes it may fetch (less than
  // `want` when the account is near its limit), or nullopt when the account has no room left.
  std::optional<uint64_t> Reserve(int64_t account, uint64_t want);
  // Ends a reservation: `stored` bytes were kept (0 when the upload failed).
  void Settle(int64_t account, uint64_t reserved, uint64_t stored);

  uint64_t Used(int64_t account) const;
  uint64_t max() const { return max_; }

  // The folder (under media/) of an account's uploads.
  static std::string Folder(int64_t account) { return "a" + std::to_string(account); }

 private:
  struct Usage {
    uint64_t stored = 0;
    uint64_t reserved = 0;
  };
  const uint64_t max_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Usage> by_account_;
  std::unordered_map<std::string, std::string> paths_;  // served name → file
};

}  // namespace bluegate::api
