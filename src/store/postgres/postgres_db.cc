#include "store/postgres/postgres_db.h"

#include <libpq-fe.h>

#include <charconv>
#include <deque>
#include <iterator>
#include <unordered_map>
#include <vector>

namespace bluegate::store {
namespace {

constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// SQLite's placeholders to PostgreSQL's: `?N` becomes `$N`, a bare `?` the next number after the
// largest so far (SQLite's rule). Quoted text is left alone.
std::string TranslatePlaceholders(const std::string& sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int largest = 0;
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (quoted || c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
    int n = 0;
    if (j > i + 1) {
      std::from_chars(sql.data() + i + 1, sql.data() + j, n);
    } else {
      n = largest + 1;
    }
    largest = std::max(largest, n);
    out += '$' + std::to_string(n);
    i = j - 1;
  }
  *count = largest;
  return out;
}

DbError Failure(PGconn* conn, const PGresult* res, const std::string& context) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.empty()) message = PQerrorMessage(conn);
  const std::string code = state ? state : "";
  DbError::Kind kind = DbError::Kind::kOther;
  if (PQstatus(conn) == CONNECTION_BAD || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0) {
    kind = DbError::Kind::kConnection;
  } else if (code.rfind("40", 0) == 0) {
    kind = DbError::Kind::kAborted;
  } else if (code == "23505") {
    kind = DbError::Kind::kUnique;
  } else if (code.rfind("23", 0) == 0 || code.rfind("22", 0) == 0) {
    kind = DbError::Kind::kConstraint;
  }
  return DbError(context + message + (code.empty() ? "" : " (SQLSTATE " + code + ")"), kind);
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresDb;

// A statement prepared on the server under a name, the first time it runs, with the parameter
// types of that first run (an integer or text; NULL lets the server infer).
struct Prepared {
  std::string name;
  std::string sql;  // with $N placeholders
  int params = 0;
  bool ready = false;      // prepared on the server
  bool each_time = false;  // kPlanEachTime: never prepared, planned with its values each run
};

class PostgresStmt final : public StmtImpl {
 public:
  PostgresStmt(PostgresDb* db, Prepared* p) : db_(db), p_(p) {}
  ~PostgresStmt() override;
  void Reset() override {
    values_.clear();
    types_.clear();
    result_.reset();
    row_ = -1;
    ++sending_;  // an answer still on its way is no longer this statement's
    sent_ = false;
  }
  void BindInt(int64_t v) override {
    values_.emplace_back(std::to_string(v));
    types_.push_back(kInt8Oid);
  }
  void BindText(std::string_view v) override {
    values_.emplace_back(std::string(v));
    types_.push_back(kTextOid);
  }
  void BindNull() override {
    values_.emplace_back(std::nullopt);
    types_.push_back(0);
  }
  bool Step() override;
  void ExecDeferred() override;
  void SendAhead() override;
  // The answer to what it sent ahead (`sending`: which sending), as the pipeline's sync read it.
  void Answered(uint64_t sending, ResultPtr r) {
    if (sending != sending_ || !sent_) return;
    result_ = std::move(r);
    row_ = -1;
  }
  int64_t Int(int col) const override {
    const char* v = PQgetvalue(result_.get(), row_, col);
    if (v[0] == 't' && v[1] == '\0') return 1;  // a boolean expression's result
    if (v[0] == 'f' && v[1] == '\0') return 0;
    int64_t out = 0;
    std::from_chars(v, v + PQgetlength(result_.get(), row_, col), out);
    return out;
  }
  bool IsNull(int col) const override { return PQgetisnull(result_.get(), row_, col) != 0; }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_.get(), row_, col), PQgetlength(result_.get(), row_, col));
  }
  int64_t Changes() const override {
    const char* n = result_ ? PQcmdTuples(result_.get()) : "";
    int64_t out = 0;
    std::from_chars(n, n + std::char_traits<char>::length(n), out);
    return out;
  }
  int64_t LastInsertId() const override {
    throw DbError("LastInsertId is SQLite's: on PostgreSQL take the id from the sequence");
  }

 private:
  PostgresDb* db_;
  Prepared* p_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  ResultPtr result_;
  int row_ = -1;
  uint64_t sending_ = 0;  // counts Reset()s: which sending ahead an answer belongs to
  bool sent_ = false;     // sent ahead, its answer not yet read
};

class PostgresDb final : public Db {
 public:
  explicit PostgresDb(const std::string& url) : url_(url) { Connect(); }
  ~PostgresDb() override { PQfinish(conn_); }

  Engine engine() const override { return Engine::kPostgres; }
  uint64_t round_trips() const override { return round_trips_; }

  std::unique_ptr<StmtImpl> Prepare(const std::string& sql) override {
    auto& slot = prepared_[sql];
    if (!slot) {
      slot = std::make_unique<Prepared>();
      slot->name = "s" + std::to_string(prepared_.size());
      slot->sql = TranslatePlaceholders(sql, &slot->params);
      slot->each_time = sql.starts_with(kPlanEachTime);
    }
    return std::make_unique<PostgresStmt>(this, slot.get());
  }

  void Exec(const std::string& sql) override {
    Sync();
    ReconnectIfBroken();
    ++round_trips_;
    ResultPtr res(PQexec(conn_, sql.c_str()));
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw Failure(conn_, res.get(), "");
    }
  }

  // A BEGIN that finds the connection dropped (the server restarted since it was last used) is
  // sent again on a new one: nothing had started.
  void Begin() override {
    try {
      Exec("BEGIN");
    } catch (const DbError& e) {
      if (e.kind != DbError::Kind::kConnection) throw;
      Exec("BEGIN");
    }
  }

  // Sends a statement without waiting for its result (libpq's pipeline mode): a batch of inserts
  // costs one round trip instead of one each.
  void Send(Prepared& p, const std::vector<std::optional<std::string>>& values,
            const std::vector<Oid>& types, PostgresStmt* awaiting = nullptr, uint64_t sending = 0) {
    if (static_cast<int>(values.size()) != p.params) {
      throw DbError("statement takes " + std::to_string(p.params) + " parameters, given " +
                    std::to_string(values.size()) + ": " + p.sql);
    }
    if (!p.ready && !p.each_time) Prepare(p, types);  // (waits: once per statement and connection)
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1) {
      throw Failure(conn_, nullptr, "cannot pipeline: ");
    }
    std::vector<const char*> args(values.size());
    for (size_t i = 0; i < values.size(); ++i) args[i] = values[i] ? values[i]->c_str() : nullptr;
    const int sent = p.each_time ? PQsendQueryParams(conn_, p.sql.c_str(), p.params, types.data(),
                                                     args.data(), nullptr, nullptr, 0)
                                 : PQsendQueryPrepared(conn_, p.name.c_str(), p.params, args.data(),
                                                       nullptr, nullptr, 0);
    if (sent != 1) {
      throw Failure(conn_, nullptr, "");
    }
    awaited_.push_back({awaiting, sending});
    // Results are read now and then, so that neither side's socket buffer fills while the other
    // waits on it.
    if (++in_flight_ >= 256) Sync();
  }

  // A statement going away is told nothing more.
  void Forget(const PostgresStmt* s) {
    for (auto& a : awaited_) {
      if (a.stmt == s) a.stmt = nullptr;
    }
  }

  void Sync() override {
    if (!conn_ || PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) return;
    in_flight_ = 0;
    ++round_trips_;  // everything sent since the last wait, answered at once
    std::optional<DbError> first;
    const bool synced = PQpipelineSync(conn_) == 1;
    if (!synced) first = Failure(conn_, nullptr, "");
    // Each query's result (then a NULL) up to the sync point's own; after an error, the server
    // skips the rest (PIPELINE_ABORTED) and the first error is the one thrown.
    while (synced) {
      PGresult* raw = PQgetResult(conn_);
      if (!raw) {
        if (PQstatus(conn_) != CONNECTION_OK) {
          if (!first) first = Failure(conn_, nullptr, "");
          break;
        }
        continue;
      }
      ResultPtr r(raw);
      const auto status = PQresultStatus(r.get());
      if (status == PGRES_PIPELINE_SYNC) break;
      // Each query sent answers once (then a NULL, skipped above), in the order sent.
      Awaited to{};
      if (!awaited_.empty()) {
        to = awaited_.front();
        awaited_.pop_front();
      }
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (to.stmt) to.stmt->Answered(to.sending, std::move(r));
        continue;
      }
      if (status == PGRES_PIPELINE_ABORTED) continue;
      if (!first) first = Failure(conn_, r.get(), "");
    }
    awaited_.clear();
    if (PQexitPipelineMode(conn_) != 1) {
      // The connection is in no state to go on: it goes (the next use makes a new one), and
      // the transaction with it.
      std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      if (!first) {
        first = DbError("the database connection was left in a pipeline: " + why,
                        DbError::Kind::kConnection);
      }
    }
    if (first) throw *first;
  }

  ResultPtr Run(Prepared& p, const std::vector<std::optional<std::string>>& values,
                const std::vector<Oid>& types) {
    Sync();
    const bool idle = !conn_ || PQtransactionStatus(conn_) == PQTRANS_IDLE;
    try {
      return RunOnce(p, values, types);
    } catch (const DbError& e) {
      // A connection the server dropped while idle (it restarted) is found out on its next use:
      // a read outside a transaction is simply run again on a new connection.
      if (e.kind != DbError::Kind::kConnection || !idle || p.sql.rfind("SELECT", 0) != 0) throw;
      PQfinish(conn_);
      conn_ = nullptr;
      return RunOnce(p, values, types);
    }
  }

  ResultPtr RunOnce(Prepared& p, const std::vector<std::optional<std::string>>& values,
                    const std::vector<Oid>& types) {
    ReconnectIfBroken();
    if (static_cast<int>(values.size()) != p.params) {
      throw DbError("statement takes " + std::to_string(p.params) + " parameters, given " +
                    std::to_string(values.size()) + ": " + p.sql);
    }
    std::vector<const char*> args(values.size());
    for (size_t i = 0; i < values.size(); ++i) args[i] = values[i] ? values[i]->c_str() : nullptr;
    ++round_trips_;
    ResultPtr res;
    if (p.each_time) {
      res.reset(PQexecParams(conn_, p.sql.c_str(), p.params, types.data(), args.data(), nullptr,
                             nullptr, 0));
    } else {
      if (!p.ready) Prepare(p, types);
      res.reset(PQexecPrepared(conn_, p.name.c_str(), p.params, args.data(), nullptr, nullptr, 0));
    }
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw Failure(conn_, res.get(), "");
    }
    return res;
  }

 private:
  void Connect() {
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn_);
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError("cannot connect to " + RedactDatabaseUrl(url_) + ": " + msg,
                    DbError::Kind::kConnection);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    // Statements are prepared once per connection, often while their tables are still small: the
    // generic plan kept for them would then be a sequential scan of what grows into millions of
    // rows (until autovacuum's next ANALYZE). Every lookup here has its index; use it.
    // And no JIT: the short statements here cost well under a millisecond each, but with
    // sequential scans priced out of the plan every estimate is far above jit_above_cost, so the
    // server would compile each one with LLVM (milliseconds of its CPU) on every execution.
    ResultPtr set(PQexec(conn_, "SET enable_seqscan = off; SET jit = off"));
  }

  void Prepare(Prepared& p, const std::vector<Oid>& types) {
    Sync();
    ReconnectIfBroken();
    ++round_trips_;
    ResultPtr prep(PQprepare(conn_, p.name.c_str(), p.sql.c_str(), p.params, types.data()));
    if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) {
      throw Failure(conn_, prep.get(), "prepare failed in: " + p.sql + ": ");
    }
    p.ready = true;
  }

  // A connection lost (the server restarted) is made again on next use; its prepared statements
  // went with it.
  void ReconnectIfBroken() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return;
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    for (auto& [sql, p] : prepared_) p->ready = false;
    Connect();
  }

  std::string url_;
  PGconn* conn_ = nullptr;
  int in_flight_ = 0;  // deferred statements not yet read back
  struct Awaited {
    PostgresStmt* stmt = nullptr;  // sent ahead: told its answer; null: a deferred write
    uint64_t sending = 0;
  };
  std::deque<Awaited> awaited_;  // what was sent since the last sync, in order
  uint64_t round_trips_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Prepared>> prepared_;
};

PostgresStmt::~PostgresStmt() {
  if (sent_) db_->Forget(this);
}

void PostgresStmt::ExecDeferred() {
  db_->Send(*p_, values_, types_);
  result_.reset();
}

void PostgresStmt::SendAhead() {
  result_.reset();
  db_->Send(*p_, values_, types_, this, sending_);
  sent_ = true;
}

bool PostgresStmt::Step() {
  if (!result_ && sent_) {
    db_->Sync();  // (throws the first error of what was sent, this statement's included)
    sent_ = false;
    if (!result_) throw DbError("no answer to a statement sent ahead: " + p_->sql);
  }
  if (!result_) {
    result_ = db_->Run(*p_, values_, types_);
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_.get());
}

}  // namespace

std::unique_ptr<Db> OpenPostgresDb(const std::string& url) {
  return std::make_unique<PostgresDb>(url);
}

}  // namespace bluegate::store
