// The SMS compression service: its bound on work at once, where the copy goes and how the
// account's media count it, and a fetch that fails. Fetches are held by the test (a fake client);
// the compression itself runs for real on the pool.
#include "app/media_shrinker.h"

#include <gtest/gtest.h>
#include <vips/vips8>

#include <filesystem>
#include <future>

#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace bluegate::app {
namespace {

using bluegate::testing::FakeHttpClient;
using bluegate::testing::TempDir;

struct Held {
  std::string path;
  std::function<void(net::FetchResult)> done;
};

class MediaShrinkerTest : public ::testing::Test {
 protected:
  MediaShrinkerTest() : dir_("shrinker"), quota_(1ull << 30) {
    http_.SetFetcher([this](std::string path, std::function<void(net::FetchResult)> done) {
      held_.push_back({std::move(path), std::move(done)});
    });
  }
  void Make(size_t max_pending) {
    shrinker_ = std::make_unique<MediaShrinker>(
        MediaShrinkerSettings{
            dir_.File("media"), 1, max_pending, [] { return std::string("http://gw.test"); }, {}},
        http_, quota_, metrics_);
  }
  // Asks for a copy; the future holds the answer.
  std::future<Result<std::string>> Ask(const std::string& handle, uint64_t limit = 50'000) {
    auto promise = std::make_shared<std::promise<Result<std::string>>>();
    auto answer = promise->get_future();
    shrinker_->Shrink(queue::ShrinkRequest{1, handle, 7, "http://cdn.test/a.png", limit, nullptr},
                      [promise](Result<std::string> r) { promise->set_value(std::move(r)); });
    return answer;
  }
  // Answers a held fetch with a noisy PNG written where the shrinker asked.
  void Deliver(size_t i) {
    vips::VImage noise = vips::VImage::gaussnoise(400, 300).cast(VIPS_FORMAT_UCHAR);
    noise.pngsave(held_.at(i).path.c_str());
    held_.at(i).done(net::FetchResult{200, "", false, false,
                                      std::filesystem::file_size(held_[i].path), "image/png"});
  }

  TempDir dir_;
  FakeHttpClient http_;
  api::MediaQuota quota_;
  Metrics metrics_;
  std::vector<Held> held_;
  std::unique_ptr<MediaShrinker> shrinker_;
};

TEST_F(MediaShrinkerTest, MoreThanMaxPendingAnswersOverloadedUntilOneEnds) {
  Make(2);
  auto a = Ask("a");
  auto b = Ask("b");
  auto c = Ask("c");
  ASSERT_EQ(c.wait_for(std::chrono::seconds(0)), std::future_status::ready)
      << "the third is answered at once";
  auto busy = c.get();
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().kind, ErrorKind::kOverloaded);
  EXPECT_EQ(busy.error().retry_after, std::chrono::seconds(2));
  EXPECT_EQ(held_.size(), 2u) << "nothing fetched for it";
  held_[0].done(net::FetchResult{0, "connection refused", false, false, {}, {}});
  auto failed = a.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kRejected);
  EXPECT_EQ(failed.error().message, "it could not be fetched: connection refused");
  auto d = Ask("d");
  EXPECT_EQ(held_.size(), 3u) << "a place came free";
  held_[1].done(net::FetchResult{0, "x", false, false, {}, {}});
  held_[2].done(net::FetchResult{0, "x", false, true, {}, {}});
  EXPECT_EQ(d.get().error().message, "it is over 100 MB");
  EXPECT_FALSE(b.get().ok());
}

TEST_F(MediaShrinkerTest, TheCopyIsTheAccountsMediaAndTheScratchFileGoes) {
  Make(4);
  auto answer = Ask("0f1e2d3c-aaaa-bbbb-cccc-000000000001");
  ASSERT_EQ(held_.size(), 1u);
  const std::string scratch = held_[0].path;
  EXPECT_EQ(std::filesystem::path(scratch).parent_path(), dir_.File("media"));
  Deliver(0);
  auto url = answer.get();
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(*url, "http://gw.test/media/0f1e2d3c-aaaa-bbbb-cccc-000000000001-sms.jpg");
  const std::string copy = dir_.File("media/a7/0f1e2d3c-aaaa-bbbb-cccc-000000000001-sms.jpg");
  ASSERT_TRUE(std::filesystem::exists(copy));
  EXPECT_LE(std::filesystem::file_size(copy), 50'000u);
  EXPECT_EQ(quota_.Used(7), std::filesystem::file_size(copy));
  EXPECT_EQ(quota_.Locate("0f1e2d3c-aaaa-bbbb-cccc-000000000001-sms.jpg"), copy);
  EXPECT_FALSE(std::filesystem::exists(scratch));
  EXPECT_EQ(metrics_.MediaCompressions(true), 1u);
}

TEST_F(MediaShrinkerTest, WhatTheSizeCheckDownloadedIsCompressedWithoutFetchingItAgain) {
  Make(4);
  std::filesystem::create_directories(dir_.File("media"));
  const std::string downloaded = dir_.File("media/.size-check-test");
  vips::VImage::gaussnoise(400, 300).cast(VIPS_FORMAT_UCHAR).pngsave(downloaded.c_str());
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  auto answer = promise->get_future();
  shrinker_->Shrink(queue::ShrinkRequest{1, "h2", 7, "http://cdn.test/a.png", 50'000,
                                         std::make_shared<queue::DownloadedMedia>(downloaded)},
                    [promise](Result<std::string> r) { promise->set_value(std::move(r)); });
  auto url = answer.get();
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(*url, "http://gw.test/media/h2-sms.jpg");
  EXPECT_TRUE(held_.empty()) << "no second fetch";
  EXPECT_FALSE(std::filesystem::exists(downloaded)) << "the download is deleted once read";
}

TEST_F(MediaShrinkerTest, AFullAccountGetsNoCopy) {
  quota_.Settle(7, 0, (1ull << 30) - 10'000);  // the account holds nearly all it may
  Make(4);
  auto answer = Ask("h");
  Deliver(0);
  auto r = answer.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("media.max_account_bytes"), std::string::npos);
  EXPECT_EQ(metrics_.MediaCompressions(false), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("media/a7"))) << "nothing written for it";
}

}  // namespace
}  // namespace bluegate::app
