// The small SQL surface the store is written against, with one implementation per engine:
// SQLite (store/sqlite/sqlite_db.cc) and PostgreSQL over libpq (store/postgres/postgres_db.cc).
// The store's logic, transactions and group commit are shared (store/sql/sql_store.cc); an engine
// supplies connections, prepared statements, its schema migrations and its dialect's few words.
//
// SQL is written once, with SQLite's placeholders (`?` and `?N`); the PostgreSQL connection
// rewrites them to `$N`. Booleans are stored as integers on both engines. Errors are exceptions
// inside the store, which turns them into Result values at its public boundary.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bluegate::store {

struct DbError : std::runtime_error {
  enum class Kind {
    kConstraint,  // a constraint or data error: it belongs to one write, the rest may go on
    kUnique,      // a unique key already held (a kind of constraint error)
    kConnection,  // the server is unreachable: the transaction's fate is unknown, reconnect
    kAborted,     // the server aborted the transaction (deadlock, serialization): run it again
    kFull,        // the disk is full: the transaction was rolled back; later ones may succeed
    kOther,       // I/O, corruption, a bug: the transaction's fate is unknown
  };
  explicit DbError(const std::string& what, Kind k = Kind::kOther)
      : std::runtime_error(what), kind(k) {}
  bool OnlyThisWrite() const { return kind == Kind::kConstraint || kind == Kind::kUnique; }
  Kind kind;
};

// One prepared statement's engine side. Parameters are bound in order, then Step() runs it.
class StmtImpl {
 public:
  virtual ~StmtImpl() = default;
  virtual void Reset() = 0;  // clears parameters and any result
  virtual void BindInt(int64_t v) = 0;
  virtual void BindText(std::string_view v) = 0;
  virtual void BindNull() = 0;
  virtual bool Step() = 0;  // true: a row is ready; false: done
  // Runs a statement whose result nobody reads (an INSERT or UPDATE). An engine may send it
  // without waiting (PostgreSQL pipelines it); its error then surfaces at the connection's next
  // wait: another statement, Db::Sync, or COMMIT.
  virtual void ExecDeferred() {
    while (Step()) {
    }
  }
  // Sends a query whose rows Step() will read, so that several go in one round trip: an engine
  // may send it now without waiting (PostgreSQL pipelines it), and its first Step() then waits
  // for the answers of everything sent so far. By default Step() simply runs it.
  virtual void SendAhead() {}
  virtual int64_t Int(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual int64_t Changes() const = 0;  // rows the last INSERT/UPDATE/DELETE touched
  // The rowid the connection's last INSERT assigned (SQLite). Cheaper than RETURNING, which
  // SQLite runs through a temporary table. PostgreSQL callers take ids from the sequence first.
  virtual int64_t LastInsertId() const = 0;
};

enum class Engine { kSqlite, kPostgres };

// Begins a statement that PostgreSQL plans with its values every time it runs, instead of once
// per connection. For the writer's batch probes of contacts: a plan cached while the table was
// small can take contacts_created (account_id, created_at), as cheap then as the primary key,
// and keep it when the table has grown, reading every contact of the account for each probe.
inline constexpr std::string_view kPlanEachTime = "/* plan each time */ ";

class Db {
 public:
  virtual ~Db() = default;
  virtual Engine engine() const = 0;
  // A statement on this connection (engines may cache the server-side preparation by text).
  virtual std::unique_ptr<StmtImpl> Prepare(const std::string& sql) = 0;
  // Runs one or more statements without parameters or results.
  virtual void Exec(const std::string& sql) = 0;
  // Like Exec, ignoring failure (a ROLLBACK after an error).
  void ExecQuietly(const std::string& sql) noexcept {
    try {
      Exec(sql);
    } catch (...) {
    }
  }
  // Starts a write transaction (SQLite takes the write lock at once).
  virtual void Begin() = 0;
  // Waits for every deferred statement, throwing the first one's error.
  virtual void Sync() {}
  // Round trips to a database server on this connection so far (0 for an embedded engine).
  virtual uint64_t round_trips() const { return 0; }
};

// A statement bound and stepped through chained calls:
//   Stmt s(db, "SELECT x FROM t WHERE id = ?"); s.Bind(id); while (s.Step()) use(s.Int(0));
class Stmt {
 public:
  Stmt(Db* db, const std::string& sql) : impl_(db->Prepare(sql)) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Reset() {
    impl_->Reset();
    return *this;
  }
  Stmt& Bind(int64_t v) {
    impl_->BindInt(v);
    return *this;
  }
  Stmt& Bind(int v) { return Bind(int64_t{v}); }
  Stmt& Bind(bool v) { return Bind(int64_t{v ? 1 : 0}); }
  Stmt& Bind(std::string_view v) {
    impl_->BindText(v);
    return *this;
  }
  Stmt& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Stmt& Bind(const char* v) { return Bind(std::string_view(v)); }
  Stmt& BindNull() {
    impl_->BindNull();
    return *this;
  }
  template <typename T>
  Stmt& Bind(const std::optional<T>& v) {
    return v ? Bind(*v) : BindNull();
  }

  bool Step() { return impl_->Step(); }
  void Exec() {
    while (Step()) {
    }
  }
  void ExecDeferred() { impl_->ExecDeferred(); }
  Stmt& SendAhead() {
    impl_->SendAhead();
    return *this;
  }
  int64_t Int(int col) const { return impl_->Int(col); }
  bool IsNull(int col) const { return impl_->IsNull(col); }
  std::string Text(int col) const { return impl_->Text(col); }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }
  int64_t Changes() const { return impl_->Changes(); }
  int64_t LastInsertId() const { return impl_->LastInsertId(); }

 private:
  std::unique_ptr<StmtImpl> impl_;
};

}  // namespace bluegate::store
