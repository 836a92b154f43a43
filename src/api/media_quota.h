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

  // Room reserved for one file of an account (Claim): the folder it is written in and the bytes
  // it may hold. Keep() makes the file the account's media, served by its name; a slot dropped
  // without Keep() gives its room back (the caller removes what it wrote).
  class Slot {
   public:
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&&) = delete;
    ~Slot();
    const std::string& folder() const { return folder_; }
    uint64_t allowed() const { return allowed_; }
    // The file folder()/name, of `bytes`, is the account's, served as /media/<name>.
    void Keep(const std::string& name, uint64_t bytes);

   private:
    friend class MediaQuota;
    Slot(MediaQuota& quota, int64_t account, uint64_t allowed, std::string folder)
        : quota_(&quota), account_(account), allowed_(allowed), folder_(std::move(folder)) {}
    MediaQuota* quota_;  // null once kept or moved from
    int64_t account_;
    uint64_t allowed_;
    std::string folder_;
  };

  // Room for one file of `account` in its folder under `dir` (created): at most `want` bytes,
  // fewer when the account is near its limit; nullopt when fewer than `at_least` are left.
  std::optional<Slot> Claim(int64_t account, const std::string& dir, uint64_t want,
                            uint64_t at_least = 1);

  // Counts `stored` bytes as the account's, with no file (tests: an account near its limit).
  void Settle(int64_t account, uint64_t reserved, uint64_t stored);

  uint64_t Used(int64_t account) const;
  uint64_t max() const { return max_; }

  // The folder (under media/) of an account's uploads.
  static std::string Folder(int64_t account) { return "a" + std::to_string(account); }

 private:
  std::optional<uint64_t> Reserve(int64_t account, uint64_t want);

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
