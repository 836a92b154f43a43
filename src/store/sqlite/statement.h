// Thin RAII over SQLite's C API for the SQLite store's files: prepared statements with chained
// binds, and errors as exceptions inside the store (the store turns them into Result values at its
// public boundary).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bluegate::store {

struct DbError : std::runtime_error {
  explicit DbError(const std::string& what, int rc = SQLITE_ERROR)
      : std::runtime_error(what), code(rc) {}
  // Constraint and data errors belong to one write; anything else (I/O, full disk, corruption)
  // means the transaction's fate is unknown.
  bool OnlyThisWrite() const {
    const int primary = code & 0xff;
    return primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_TOOBIG ||
           primary == SQLITE_RANGE;
  }
  int code;
};

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) !=
        SQLITE_OK) {
      throw DbError(std::string("prepare failed: ") + sqlite3_errmsg(db) + " in: " + sql);
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    idx_ = 0;
    return *this;
  }
  Stmt& Bind(int64_t v) {
    sqlite3_bind_int64(s_, ++idx_, v);
    return *this;
  }
  Stmt& Bind(int v) {
    sqlite3_bind_int(s_, ++idx_, v);
    return *this;
  }
  Stmt& Bind(bool v) {
    sqlite3_bind_int(s_, ++idx_, v ? 1 : 0);
    return *this;
  }
  Stmt& Bind(std::string_view v) {
    sqlite3_bind_text(s_, ++idx_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Stmt& Bind(const char* v) { return Bind(std::string_view(v)); }
  Stmt& BindNull() {
    sqlite3_bind_null(s_, ++idx_);
    return *this;
  }
  template <typename T>
  Stmt& Bind(const std::optional<T>& v) {
    return v ? Bind(*v) : BindNull();
  }

  // true: a row is ready; false: done. Throws on error.
  bool Step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw DbError(sqlite3_errmsg(db_), sqlite3_extended_errcode(db_));
  }
  void Exec() {
    while (Step()) {
    }
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col))
             : std::string();
  }
  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int idx_ = 0;
};

inline void ExecSql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw DbError(msg);
  }
}

}  // namespace bluegate::store
