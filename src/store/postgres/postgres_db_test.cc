// The libpq connection's own choices, against a real server: statements prepared once per
// connection unless marked kPlanEachTime, the session settings, and the round trips it counts.
#include "store/postgres/postgres_db.h"

#include <gtest/gtest.h>

#include "testing/postgres.h"

namespace bluegate::store {
namespace {

int64_t Prepared(Db& db, const std::string& like) {
  Stmt s(&db, std::string(kPlanEachTime) +
                  "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE ?");
  s.Bind(like);
  EXPECT_TRUE(s.Step());
  return s.Int(0);
}

TEST(PostgresDbTest, AStatementMarkedPlanEachTimeIsPlannedWithItsValuesNeverPrepared) {
  testing::PostgresSchema schema;
  auto db = OpenPostgresDb(schema.url());
  Stmt cached(db.get(), "SELECT 1 WHERE ? = 1");
  Stmt each(db.get(), std::string(kPlanEachTime) + "SELECT 2 WHERE ? = 2");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(cached.Reset().Bind(1).Step());
    EXPECT_TRUE(each.Reset().Bind(2).Step());
    EXPECT_EQ(each.Int(0), 2);
  }
  EXPECT_EQ(Prepared(*db, "SELECT 1 WHERE%"), 1) << "prepared once, on first use";
  EXPECT_EQ(Prepared(*db, "%SELECT 2 WHERE%"), 0);
}

TEST(PostgresDbTest, ItsSessionsScanByIndexWithoutJitAndCountTheirRoundTrips) {
  testing::PostgresSchema schema;
  auto db = OpenPostgresDb(schema.url());
  for (const char* setting : {"jit", "enable_seqscan"}) {
    Stmt show(db.get(), std::string(kPlanEachTime) + "SELECT current_setting(?)");
    show.Bind(setting);
    ASSERT_TRUE(show.Step());
    EXPECT_EQ(show.Text(0), "off") << setting;
  }
  const uint64_t before = db->round_trips();
  Stmt s(db.get(), "SELECT 3 WHERE ? = 3");
  s.Bind(3).Step();
  EXPECT_EQ(db->round_trips(), before + 2) << "the preparation, then the run";
  s.Reset().Bind(3).Step();
  EXPECT_EQ(db->round_trips(), before + 3);
  db->Exec("SELECT 4");
  EXPECT_EQ(db->round_trips(), before + 4);
}

}  // namespace
}  // namespace bluegate::store
