#include "api/media_quota.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <utility>

namespace bluegate::api {

void MediaQuota::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::lock_guard lock(mu_);
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::error_code e;
    if (entry.is_regular_file(e)) {
      paths_[name] = entry.path().string();
      continue;
    }
    int64_t account = 0;
    auto [p, err] = std::from_chars(name.data() + 1, name.data() + name.size(), account);
    if (name.size() < 2 || name[0] != 'a' || err != std::errc() || p != name.data() + name.size() ||
        !entry.is_directory(e)) {
      continue;
    }
    for (const auto& file : fs::directory_iterator(entry.path(), e)) {
      std::error_code size_ec;
      const auto size = file.file_size(size_ec);
      if (size_ec) continue;
      by_account_[account].stored += size;
      paths_[file.path().filename().string()] = file.path().string();
    }
  }
}

std::optional<std::string> MediaQuota::Locate(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = paths_.find(name);
  if (it == paths_.end()) return std::nullopt;
  return it->second;
}

void MediaQuota::Add(const std::string& name, std::string path) {
  std::lock_guard lock(mu_);
  paths_[name] = std::move(path);
}

std::optional<uint64_t> MediaQuota::Reserve(int64_t account, uint64_t want) {
  std::lock_guard lock(mu_);
  Usage& u = by_account_[account];
  const uint64_t held = u.stored + u.reserved;
  if (held >= max_) return std::nullopt;
  const uint64_t grant = std::min(want, max_ - held);
  u.reserved += grant;
  return grant;
}

void MediaQuota::Settle(int64_t account, uint64_t reserved, uint64_t stored) {
  std::lock_guard lock(mu_);
  Usage& u = by_account_[account];
  u.reserved -= std::min(u.reserved, reserved);
  u.stored += stored;
}

std::optional<MediaQuota::Slot> MediaQuota::Claim(int64_t account, const std::string& dir,
                                                  uint64_t want, uint64_t at_least) {
  const auto grant = Reserve(account, want);
  if (!grant) return std::nullopt;
  if (*grant < at_least) {
    Settle(account, *grant, 0);
    return std::nullopt;
  }
  std::string folder = dir + "/" + Folder(account);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  return Slot(*this, account, *grant, std::move(folder));
}

MediaQuota::Slot::Slot(Slot&& other) noexcept
    : quota_(std::exchange(other.quota_, nullptr)),
      account_(other.account_),
      allowed_(other.allowed_),
      folder_(std::move(other.folder_)) {}

MediaQuota::Slot::~Slot() {
  if (quota_) quota_->Settle(account_, allowed_, 0);
}

void MediaQuota::Slot::Keep(const std::string& name, uint64_t bytes) {
  if (!quota_) return;
  quota_->Settle(account_, allowed_, bytes);
  quota_->Add(name, folder_ + "/" + name);
  quota_ = nullptr;
}

uint64_t MediaQuota::Used(int64_t account) const {
  std::lock_guard lock(mu_);
  auto it = by_account_.find(account);
  return it == by_account_.end() ? 0 : it->second.stored;
}

}  // namespace bluegate::api
