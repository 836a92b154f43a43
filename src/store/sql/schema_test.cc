// The schema is written once (store/sql/schema.h): each engine's frozen history must end where
// the schema begins, and the two engines must hold the same tables and columns but for the named
// differences. A test here fails when someone changes one and not the other.
#include "store/sql/schema.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "store/postgres/postgres_db.h"
#include "store/sqlite/sqlite_db.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"

namespace bluegate::store {
namespace {

// What a migrated database holds, as text that two databases of one engine can be compared by:
// every table's columns (name, type, nullability, default, key), its indexes (columns and
// condition) and the rows of the two one-row tables.
using Description = std::map<std::string, std::string>;

std::string Collapse(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  return out;
}

Description DescribeSqlite(Db& db) {
  Description d;
  Stmt tables(&db,
              "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
              "'sqlite_%' ORDER BY name");
  std::vector<std::string> names;
  while (tables.Step()) {
    names.push_back(tables.Text(0));
    d["table " + tables.Text(0) + " without rowid"] =
        tables.Text(1).find("WITHOUT ROWID") != std::string::npos ? "yes" : "no";
  }
  for (const auto& t : names) {
    Stmt cols(&db, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('" + t +
                       "') ORDER BY name");
    while (cols.Step()) {
      d["column " + t + "." + cols.Text(0)] = cols.Text(1) + " notnull=" + cols.Text(2) +
                                              " default=" + cols.Text(3) + " pk=" + cols.Text(4);
    }
  }
  Stmt indexes(&db,
               "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
               "NULL ORDER BY name");
  while (indexes.Step()) {
    std::string sql = Collapse(indexes.Text(2));
    d["index " + indexes.Text(0)] = indexes.Text(1) + ": " + sql.substr(sql.find('('));
  }
  return d;
}

Description DescribePostgres(Db& db) {
  Description d;
  Stmt cols(&db,
            "SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, ''), "
            "is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
            "ORDER BY table_name, column_name");
  while (cols.Step()) {
    d["column " + cols.Text(0) + "." + cols.Text(1)] = cols.Text(2) + " nullable=" + cols.Text(3) +
                                                       " default=" + cols.Text(4) +
                                                       " identity=" + cols.Text(5);
  }
  Stmt indexes(&db,
               "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = "
               "current_schema() ORDER BY indexname");
  while (indexes.Step()) {
    const std::string def = indexes.Text(2);
    d["index " + indexes.Text(0)] = indexes.Text(1) + ": " + def.substr(def.find(" USING "));
  }
  return d;
}

void ExpectSameRows(Db& a, Db& b) {
  for (const char* q : {"SELECT id FROM conversation_watermark",
                        "SELECT name || '=' || value FROM store_epochs ORDER BY name"}) {
    Stmt x(&a, q), y(&b, q);
    std::string xs, ys;
    while (x.Step()) xs += x.Text(0) + ";";
    while (y.Step()) ys += y.Text(0) + ";";
    EXPECT_EQ(xs, ys) << q;
    EXPECT_FALSE(xs.empty()) << q;
  }
}

// The legacy history run from an empty database, as an older bluegate would have, then the
// changes written once since.
void RunHistory(Db& db, std::span<const char* const> history, const char* version_table) {
  db.Exec(version_table);
  db.Begin();
  for (const char* step : history) db.Exec(step);
  for (const char* step : SharedMigrations()) db.Exec(RenderSchema(step, db.engine()));
  db.Exec("COMMIT");
}

void ExpectSame(const Description& history, const Description& fresh) {
  for (const auto& [k, v] : history) {
    auto it = fresh.find(k);
    if (it == fresh.end()) {
      ADD_FAILURE() << "the schema lacks " << k << " (" << v << ")";
    } else {
      EXPECT_EQ(v, it->second) << k;
    }
  }
  for (const auto& [k, v] : fresh) {
    if (!history.contains(k)) ADD_FAILURE() << "the history lacks " << k << " (" << v << ")";
  }
}

TEST(SchemaTest, SqlitesHistoryEndsWhereTheSchemaBegins) {
  testing::TempDir dir("schema");
  SqliteOpen a_open, b_open;
  a_open.path = dir.File("history.db");
  b_open.path = dir.File("fresh.db");
  auto history = OpenSqliteDb(a_open);
  RunHistory(*history, SqliteLegacyMigrations(),
             "CREATE TABLE schema_version(version INTEGER NOT NULL)");
  auto fresh = OpenSqliteDb(b_open);
  MigrateSqlite(*fresh);
  ExpectSame(DescribeSqlite(*history), DescribeSqlite(*fresh));
  ExpectSameRows(*history, *fresh);
  Stmt v(fresh.get(), "SELECT MAX(version) FROM schema_version");
  v.Step();
  EXPECT_EQ(v.Int(0),
            static_cast<int64_t>(SqliteLegacyMigrations().size() + SharedMigrations().size()))
      << "a new database is recorded where the history ends, then each shared change";
}

TEST(SchemaTest, PostgresHistoryEndsWhereTheSchemaBegins) {
  testing::PostgresSchema a, b;
  auto history = OpenPostgresDb(a.url());
  RunHistory(*history, PostgresLegacyMigrations(),
             "CREATE TABLE schema_version(version BIGINT NOT NULL)");
  auto fresh = OpenPostgresDb(b.url());
  MigratePostgres(*fresh);
  ExpectSame(DescribePostgres(*history), DescribePostgres(*fresh));
  ExpectSameRows(*history, *fresh);
}

TEST(SchemaTest, BothEnginesHoldTheSameTablesAndColumnsButTheNamedDifferences) {
  testing::TempDir dir("schema");
  SqliteOpen open;
  open.path = dir.File("fresh.db");
  auto sqlite = OpenSqliteDb(open);
  MigrateSqlite(*sqlite);
  testing::PostgresSchema schema;
  auto postgres = OpenPostgresDb(schema.url());
  MigratePostgres(*postgres);
  auto columns = [](const Description& d) {
    std::set<std::string> out;
    for (const auto& [k, v] : d) {
      if (k.rfind("column ", 0) == 0) out.insert(k);
    }
    return out;
  };
  std::set<std::string> expected = columns(DescribeSqlite(*sqlite));
  for (const char* only : {"column line_leases.acquired_at", "column line_leases.expires_at",
                           "column line_leases.line_number", "column line_leases.node_id",
                           "column nodes.address", "column nodes.expires_at", "column nodes.id",
                           "column nodes.instance", "column nodes.started_at"}) {
    expected.insert(only);  // scale-out's tables (schema.h's named differences)
  }
  for (const char* only : {"column in_flight_messages.id", "column new_contact_starts.accepted_at",
                           "column new_contact_starts.id", "column new_contact_starts.line_number",
                           "column queued_messages.id", "column queued_messages.line_number",
                           "column queued_messages.new_contact"}) {
    expected.insert(only);  // the sets PostgreSQL files beside messages, for HOT status changes
  }
  EXPECT_EQ(columns(DescribePostgres(*postgres)), expected);
}

// A status change on PostgreSQL is a HOT update only while no index of messages names a column
// that the change sets.
TEST(SchemaTest, NoIndexOfMessagesNamesAColumnAStatusChangeSets) {
  testing::PostgresSchema schema;
  auto db = OpenPostgresDb(schema.url());
  MigratePostgres(*db);
  Stmt indexes(db.get(),
               "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND "
               "tablename = 'messages'");
  int seen = 0;
  while (indexes.Step()) {
    ++seen;
    for (const char* column : {"status", "service", "accepted_at", "updated_at", "error_code",
                               "was_downgraded", "read_at"}) {
      EXPECT_EQ(indexes.Text(1).find(column), std::string::npos)
          << indexes.Text(0) << " names " << column << ": " << indexes.Text(1);
    }
  }
  EXPECT_GE(seen, 4);
  Stmt options(db.get(),
               "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = "
               "'messages'::regclass");
  ASSERT_TRUE(options.Step());
  EXPECT_EQ(options.Text(0), "fillfactor=80");
}

TEST(SchemaTest, PostgresOnlyStepsAreLeftOutOfSqlite) {
  const char* step = "A;\n{postgres_only}\nB;\n{end_postgres_only}\nC;";
  EXPECT_EQ(RenderSchema(step, Engine::kSqlite), "A;\n\nC;");
  EXPECT_EQ(RenderSchema(step, Engine::kPostgres), "A;\n\nB;\n\nC;");
  EXPECT_THROW(RenderSchema("{postgres_only} B;", Engine::kSqlite), std::logic_error);
}

TEST(SchemaTest, TheDialectsWordsAreFilledIn) {
  EXPECT_EQ(RenderSchema("a {int}, b {id}){without_rowid}; '{}'", Engine::kSqlite),
            "a INTEGER, b INTEGER PRIMARY KEY) WITHOUT ROWID; '{}'");
  EXPECT_EQ(RenderSchema("a {int}, b {id}){without_rowid}; '{}'", Engine::kPostgres),
            "a BIGINT, b BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY); '{}'");
}

}  // namespace
}  // namespace bluegate::store
