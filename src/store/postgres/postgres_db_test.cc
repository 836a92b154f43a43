// The libpq connection's own choices, against a real server: statements prepared once per
// connection unless marked kPlanEachTime, the session settings, the round trips it counts, and
// the array literals that the set-based statements bind, and statements sent ahead together.
#include "store/postgres/postgres_db.h"

#include <gtest/gtest.h>

#include "store/sql/statements.h"
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

TEST(PostgresDbTest, ArrayLiteralsReachTheServerAsTheValuesTheyHold) {
  testing::PostgresSchema schema;
  auto db = OpenPostgresDb(schema.url());
  const std::vector<std::optional<std::string>> texts = {
      "plain", "",         std::nullopt, "NULL",        "said \"no\"", "back\\slash\\",
      "a,b",   "{braces}", " spaced ",   "caf\xc3\xa9", "\\\"",        "line\nbreak"};
  ArrayLiteral text;
  for (const auto& t : texts) text.AddText(t);
  Stmt s(db.get(), std::string(kPlanEachTime) +
                       "SELECT v IS NULL, COALESCE(v, '') FROM unnest(CAST(? AS TEXT[])) WITH "
                       "ORDINALITY AS u(v, n) ORDER BY n");
  s.Bind(text.text());
  std::vector<std::optional<std::string>> back;
  while (s.Step()) back.push_back(s.Int(0) ? std::nullopt : std::optional(s.Text(1)));
  EXPECT_EQ(back, texts);

  ArrayLiteral ints;
  for (const auto& i : std::vector<std::optional<int64_t>>{7, std::nullopt, -3, 0}) ints.AddInt(i);
  Stmt n(db.get(), std::string(kPlanEachTime) +
                       "SELECT string_agg(COALESCE(CAST(v AS TEXT), 'null'), ' ' ORDER BY k) FROM "
                       "unnest(CAST(? AS BIGINT[])) WITH ORDINALITY AS u(v, k)");
  n.Bind(ints.text());
  ASSERT_TRUE(n.Step());
  EXPECT_EQ(n.Text(0), "7 null -3 0");
}

TEST(PostgresDbTest, StatementsSentAheadAreAnsweredTogetherInOneRoundTrip) {
  testing::PostgresSchema schema;
  auto db = OpenPostgresDb(schema.url());
  db->Exec("CREATE TABLE t(v BIGINT)");
  Stmt insert(db.get(), "INSERT INTO t(v) VALUES (?)");
  Stmt a(db.get(), "SELECT ? + 1");
  Stmt b(db.get(), "SELECT generate_series(1, ?)");
  Stmt count(db.get(), "SELECT COUNT(*) FROM t");
  insert.Reset().Bind(4).Exec();  // each prepared once (not counted below)
  a.Reset().Bind(0).Step();
  b.Reset().Bind(0).Step();
  count.Reset().Step();
  count.Reset();
  const uint64_t before = db->round_trips();
  insert.Reset().Bind(5).ExecDeferred();
  a.Reset().Bind(41).SendAhead();
  b.Reset().Bind(3).SendAhead();
  count.SendAhead();
  ASSERT_TRUE(b.Step());  // the first to be read waits for all
  EXPECT_EQ(db->round_trips(), before + 1);
  EXPECT_EQ(b.Int(0), 1);
  ASSERT_TRUE(b.Step());
  ASSERT_TRUE(b.Step());
  EXPECT_EQ(b.Int(0), 3);
  EXPECT_FALSE(b.Step());
  ASSERT_TRUE(a.Step());
  EXPECT_EQ(a.Int(0), 42);
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.Int(0), 2) << "it sees the write sent before it";
  EXPECT_EQ(db->round_trips(), before + 1);

  a.Reset().Bind(1).SendAhead();
  a.Reset().Bind(99);  // changed its mind: the answer on its way is not its
  ASSERT_TRUE(a.Step());
  EXPECT_EQ(a.Int(0), 100);
}

TEST(PostgresDbTest, AStatementSentAheadThatFailsThrowsWhenRead) {
  testing::PostgresSchema schema;
  auto db = OpenPostgresDb(schema.url());
  Stmt bad(db.get(), std::string(kPlanEachTime) + "SELECT CAST(? AS BIGINT)");
  bad.Reset().Bind("not a number").SendAhead();
  EXPECT_THROW(bad.Step(), DbError);
  Stmt fine(db.get(), "SELECT 7");
  ASSERT_TRUE(fine.Step()) << "the connection goes on";
  EXPECT_EQ(fine.Int(0), 7);
}

}  // namespace
}  // namespace bluegate::store
