// The store suite's fixture: a store on SQLite (over the failing VFS) or on a PostgreSQL
// schema of its own, with an account and a line, and helpers to accept and move messages.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/sql/db.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/failing_vfs.h"
#include "testing/manual_clock.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"

namespace bluegate::store::testing_support {

class StoreFixture : public ::testing::Test {
 protected:
  explicit StoreFixture(Engine engine) : engine_(engine) {}
  void SetUp() override {
    if (engine_ == Engine::kPostgres) schema_ = std::make_unique<testing::PostgresSchema>();
    Open();
    account_ = store_->CreateAccount("a@example.com", "blue").value();
    ASSERT_TRUE(store_->AddLine(Line{"+12125550199", account_.id, "sim", "{}", {}}).ok());
    store_->SetDeliveryObserver([this](std::vector<Delivery> ds) {
      std::lock_guard lock(mu_);
      for (auto& d : ds) observed_.push_back(d);
    });
  }
  void TearDown() override {
    testing::SetVfsFailing(false);
    store_.reset();
    schema_.reset();
  }
  void Open() {
    if (engine_ == Engine::kPostgres) {
      PostgresSettings s;
      s.url = schema_->url();
      s.max_unrouted_per_line = max_unrouted_;
      store_ = MakePostgresStore(s, clock_);
      return;
    }
    SqliteSettings s;
    s.path = dir_.File("test.db");
    s.vfs = testing::RegisterFailingVfs();
    s.full_disk_retry = Millis(20);
    s.max_pending = max_pending_;
    s.max_unrouted_per_line = max_unrouted_;
    store_ = MakeSqliteStore(s, clock_);
  }

  Message NewMessage(std::string handle, std::string callback = "") {
    Message m;
    m.handle = std::move(handle);
    m.account_id = account_.id;
    m.line_number = "+12125550199";
    m.contact = "+14155550100";
    m.content = "hi";
    m.status = Status::kQueued;
    m.status_callback = std::move(callback);
    m.date_created = clock_.Now();
    m.date_updated = clock_.Now();
    return m;
  }

  Result<Message> Accept(Message m, AcceptPolicy policy = {}) {
    std::promise<Result<Message>> p;
    store_->Accept(std::move(m), policy, [&p](Result<Message> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  Result<TransitionOutcome> Move(int64_t id, Status to,
                                 std::optional<Service> service = std::nullopt) {
    TransitionRequest r;
    r.message_id = id;
    r.to = to;
    r.at = clock_.Now();
    r.service = service;
    r.source = "test";
    std::promise<Result<TransitionOutcome>> p;
    store_->Transition(std::move(r),
                       [&p](Result<TransitionOutcome> o) { p.set_value(std::move(o)); });
    return p.get_future().get();
  }

  Engine engine_;
  std::unique_ptr<testing::PostgresSchema> schema_;
  size_t max_pending_ = 100'000;
  int64_t max_unrouted_ = 10'000;
  testing::TempDir dir_{"store-test"};
  testing::ManualClock clock_;
  std::unique_ptr<Store> store_;
  Account account_;
  std::mutex mu_;
  std::vector<Delivery> observed_;
};

// A store test run once for each engine: derive a suite from it, then
//   INSTANTIATE_TEST_SUITE_P(Engines, Suite, EveryEngine(), EngineName);
class EngineStoreTest : public StoreFixture, public ::testing::WithParamInterface<Engine> {
 protected:
  EngineStoreTest() : StoreFixture(GetParam()) {}
};

inline ::testing::internal::ParamGenerator<Engine> EveryEngine() {
  return ::testing::Values(Engine::kSqlite, Engine::kPostgres);
}

inline std::string EngineName(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
}

}  // namespace bluegate::store::testing_support
