#include "store/postgres/coordinator.h"

#include <libpq-fe.h>
#include <sys/select.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "store/postgres/postgres_db.h"
#include "store/sql/rows.h"

namespace bluegate::store {
namespace {

// The database's clock, in ms since the epoch: leases and heartbeats are compared with it alone,
// so the nodes' clocks never need to agree.
constexpr const char* kNow = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";
constexpr const char* kChannel = "bluegate_queue";

std::string WithNow(std::string sql) {
  for (size_t at = sql.find("NOW_MS"); at != std::string::npos; at = sql.find("NOW_MS", at)) {
    sql.replace(at, 6, kNow);
  }
  return sql;
}

class PostgresCoordinator final : public Coordinator {
 public:
  PostgresCoordinator(std::string url, std::string node_id, std::string address)
      : url_(std::move(url)),
        node_id_(std::move(node_id)),
        address_(std::move(address)),
        instance_(SecureIds().RandomHex(8)),
        started_ms_(ToUnixMillis(SystemClock().Now())) {
    notifier_ = std::thread([this] { NotifyLoop(); });
  }

  ~PostgresCoordinator() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    notifier_.join();
    if (listener_.joinable()) listener_.join();
  }

  void SetAddress(std::string address) override {
    std::lock_guard lock(db_mu_);
    address_ = std::move(address);
  }

  Result<std::vector<NodeInfo>> Heartbeat(Millis ttl) override {
    return Run<std::vector<NodeInfo>>([&](Db& db) -> Result<std::vector<NodeInfo>> {
      // The row is this process's (same instance) or free to take (its heartbeat lapsed).
      Stmt beat(&db, WithNow("INSERT INTO nodes(id, instance, address, started_at, expires_at) "
                             "VALUES (?1, ?2, ?3, ?4, NOW_MS + ?5) ON CONFLICT (id) DO UPDATE SET "
                             "instance = EXCLUDED.instance, address = EXCLUDED.address, "
                             "started_at = EXCLUDED.started_at, expires_at = EXCLUDED.expires_at "
                             "WHERE nodes.instance = EXCLUDED.instance OR nodes.expires_at <= "
                             "NOW_MS RETURNING id"));
      beat.Bind(node_id_)
          .Bind(instance_)
          .Bind(address_)
          .Bind(started_ms_)
          .Bind(int64_t{ttl.count()});
      if (!beat.Step()) {
        return Error{ErrorKind::kConflict,
                     "another live node already calls itself \"" + node_id_ +
                         "\": give each node its own --node-id (or wait for the old one's "
                         "heartbeat to lapse)",
                     {},
                     {}};
      }
      beat.Reset();
      return ReadNodes(db, true);
    });
  }

  Result<std::vector<std::string>> Renew(Millis ttl) override {
    return Run<std::vector<std::string>>([&](Db& db) -> Result<std::vector<std::string>> {
      Stmt renew(&db, WithNow("UPDATE line_leases SET expires_at = NOW_MS + ?2 WHERE node_id = "
                              "?1 AND expires_at > NOW_MS RETURNING line_number"));
      renew.Bind(node_id_).Bind(int64_t{ttl.count()});
      std::vector<std::string> held;
      while (renew.Step()) held.push_back(renew.Text(0));
      std::sort(held.begin(), held.end());
      return held;
    });
  }

  Result<std::vector<std::string>> Acquire(int n, Millis ttl) override {
    return Run<std::vector<std::string>>([&](Db& db) -> Result<std::vector<std::string>> {
      // Leases of removed lines go with them.
      db.Exec("DELETE FROM line_leases WHERE line_number NOT IN (SELECT number FROM lines)");
      // Two nodes may pick the same free line: the second's insert waits for the first's row,
      // finds it live and takes nothing (the WHERE of DO UPDATE).
      Stmt take(&db, WithNow("INSERT INTO line_leases(line_number, node_id, acquired_at, "
                             "expires_at) SELECT l.number, ?1, NOW_MS, NOW_MS + ?2 FROM lines l "
                             "LEFT JOIN line_leases x ON x.line_number = l.number WHERE "
                             "x.line_number IS NULL OR x.expires_at <= NOW_MS ORDER BY random() "
                             "LIMIT ?3 ON CONFLICT (line_number) DO UPDATE SET node_id = "
                             "EXCLUDED.node_id, acquired_at = EXCLUDED.acquired_at, expires_at = "
                             "EXCLUDED.expires_at WHERE line_leases.expires_at <= "
                             "EXCLUDED.acquired_at RETURNING line_number"));
      take.Bind(node_id_).Bind(int64_t{ttl.count()}).Bind(int64_t{n});
      std::vector<std::string> got;
      while (take.Step()) got.push_back(take.Text(0));
      return got;
    });
  }

  Result<Ok> Release(const std::vector<std::string>& lines) override {
    return Run<Ok>([&](Db& db) -> Result<Ok> {
      Stmt drop(&db, "DELETE FROM line_leases WHERE node_id = ? AND line_number = ?");
      for (const auto& line : lines) drop.Reset().Bind(node_id_).Bind(line).Exec();
      return Ok{};
    });
  }

  Result<int64_t> CountLines() override {
    return Run<int64_t>([&](Db& db) -> Result<int64_t> {
      Stmt count(&db, "SELECT COUNT(*) FROM lines");
      count.Step();
      return count.Int(0);
    });
  }

  Result<std::vector<NodeInfo>> Nodes() override {
    return Run<std::vector<NodeInfo>>(
        [&](Db& db) -> Result<std::vector<NodeInfo>> { return ReadNodes(db, false); });
  }

  Result<std::vector<LeaseInfo>> Leases() override {
    return Run<std::vector<LeaseInfo>>([&](Db& db) -> Result<std::vector<LeaseInfo>> {
      Stmt rows(&db, WithNow("SELECT line_number, node_id, acquired_at, expires_at, expires_at > "
                             "NOW_MS FROM line_leases ORDER BY line_number"));
      std::vector<LeaseInfo> out;
      while (rows.Step()) {
        out.push_back(LeaseInfo{rows.Text(0), rows.Text(1), FromUnixMillis(rows.Int(2)),
                                FromUnixMillis(rows.Int(3)), rows.Int(4) != 0});
      }
      return out;
    });
  }

  Result<std::optional<std::string>> HolderAddress(const std::string& line) override {
    return Run<std::optional<std::string>>([&](Db& db) -> Result<std::optional<std::string>> {
      Stmt q(&db, WithNow("SELECT n.address FROM line_leases l JOIN nodes n ON n.id = "
                          "l.node_id WHERE l.line_number = ? AND l.expires_at > NOW_MS AND "
                          "n.id != ?"));
      q.Bind(line).Bind(node_id_);
      if (!q.Step()) return std::optional<std::string>();
      return std::optional<std::string>(q.Text(0));
    });
  }

  Result<std::vector<Delivery>> ClaimOrphanDeliveries(int limit) override {
    return Run<std::vector<Delivery>>([&](Db& db) -> Result<std::vector<Delivery>> {
      // SKIP LOCKED: nodes claiming at once take different rows, and none waits for another.
      Stmt claim(&db, WithNow(std::string("UPDATE webhook_deliveries SET owner = ?1 WHERE id IN "
                                          "(SELECT d.id FROM webhook_deliveries d WHERE d.state = "
                                          "'pending' AND (d.owner IS NULL OR NOT EXISTS (SELECT 1 "
                                          "FROM nodes n WHERE n.id = d.owner AND n.expires_at > "
                                          "NOW_MS)) ORDER BY d.id LIMIT ?2 FOR UPDATE SKIP "
                                          "LOCKED) RETURNING ") +
                              kDeliveryColumns));
      claim.Bind(node_id_).Bind(int64_t{limit});
      std::vector<Delivery> out;
      while (claim.Step()) {
        out.push_back(ReadDelivery(claim));
        out.back().owner = node_id_;
      }
      std::sort(out.begin(), out.end(),
                [](const Delivery& a, const Delivery& b) { return a.id < b.id; });
      return out;
    });
  }

  void Notify(const std::string& line, int64_t message_id) override {
    Send("q " + std::to_string(message_id) + " " + line);
  }

  void NotifyDeliveries(const std::string& owner, int64_t message_id) override {
    Send("d " + std::to_string(message_id) + " " + owner);
  }

  void Listen(std::function<void(const std::string&, int64_t)> on_queued,
              std::function<void(int64_t)> on_deliveries) override {
    on_queued_ = std::move(on_queued);
    on_deliveries_ = std::move(on_deliveries);
    listener_ = std::thread([this] { ListenLoop(); });
  }

 private:
  void Send(std::string item) {
    {
      std::lock_guard lock(mu_);
      outgoing_.push_back(std::move(item));
    }
    cv_.notify_one();
  }

  std::vector<NodeInfo> ReadNodes(Db& db, bool alive_only) {
    Stmt rows(&db, WithNow(std::string("SELECT id, address, started_at, expires_at, expires_at > "
                                       "NOW_MS FROM nodes") +
                           (alive_only ? " WHERE expires_at > NOW_MS" : "") + " ORDER BY id"));
    std::vector<NodeInfo> out;
    while (rows.Step()) {
      out.push_back(NodeInfo{rows.Text(0), rows.Text(1), FromUnixMillis(rows.Int(2)),
                             FromUnixMillis(rows.Int(3)), rows.Int(4) != 0});
    }
    return out;
  }

  // Runs `fn` on the coordinator's connection, made (again) when missing or lost.
  template <typename T, typename Fn>
  Result<T> Run(Fn fn) {
    std::lock_guard lock(db_mu_);
    try {
      if (!db_) db_ = OpenPostgresDb(url_);
      return fn(*db_);
    } catch (const DbError& e) {
      if (e.kind == DbError::Kind::kConnection) db_.reset();
      return Error::Storage(std::string("the database: ") + e.what());
    }
  }

  // Sends queued notifications, many per statement: one round trip for a burst of accepts.
  void NotifyLoop() {
    std::unique_ptr<Db> db;
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !outgoing_.empty(); });
      if (outgoing_.empty() && stopping_) return;
      std::vector<std::string> batch;
      batch.swap(outgoing_);
      lock.unlock();
      // Payloads stay under PostgreSQL's 8000-byte limit.
      std::vector<std::string> payloads;
      std::string payload = node_id_;
      for (const auto& item : batch) {
        if (payload.size() + item.size() + 1 > 7000) {
          payloads.push_back(std::move(payload));
          payload = node_id_;
        }
        payload += ";" + item;
      }
      payloads.push_back(std::move(payload));
      for (int attempt = 0; attempt < 2; ++attempt) {
        try {
          if (!db) db = OpenPostgresDb(url_);
          Stmt notify(db.get(), std::string("SELECT pg_notify('") + kChannel + "', ?)");
          for (const auto& p : payloads) notify.Reset().Bind(p).Exec();
          break;
        } catch (const DbError& e) {
          db.reset();
          // The owner finds the message anyway when it next takes the line over; until then
          // it waits in QUEUED.
          if (attempt == 1) spdlog::warn("cannot notify the nodes of new messages: {}", e.what());
        }
      }
      lock.lock();
    }
  }

  void ListenLoop() {
    PGconn* conn = nullptr;
    auto reset = [&conn] {
      if (conn) PQfinish(conn);
      conn = nullptr;
    };
    while (!stopping()) {
      if (!conn) {
        conn = PQconnectdb(url_.c_str());
        if (PQstatus(conn) != CONNECTION_OK) {
          reset();
          std::unique_lock lock(mu_);
          cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
          continue;
        }
        PGresult* r = PQexec(conn, (std::string("LISTEN ") + kChannel).c_str());
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
          reset();
          continue;
        }
      }
      const int fd = PQsocket(conn);
      fd_set fds;
      FD_ZERO(&fds);
      FD_SET(fd, &fds);
      timeval tv{0, 200'000};  // looks at stopping() five times a second
      if (select(fd + 1, &fds, nullptr, nullptr, &tv) < 0 || !PQconsumeInput(conn)) {
        reset();
        continue;
      }
      while (PGnotify* n = PQnotifies(conn)) {
        Deliver(n->extra);
        PQfreemem(n);
      }
    }
    reset();
  }

  // "<origin node>;q <message id> <line>;d <message id> <owner>;..." — a node's own
  // notifications are not for it.
  void Deliver(std::string_view payload) {
    const size_t first = payload.find(';');
    if (first == std::string_view::npos || payload.substr(0, first) == node_id_) return;
    for (size_t start = first + 1; start < payload.size();) {
      size_t end = payload.find(';', start);
      if (end == std::string_view::npos) end = payload.size();
      const std::string_view item = payload.substr(start, end - start);
      const size_t space = item.find(' ', 2);
      int64_t id = 0;
      if (item.size() > 2 && space != std::string_view::npos) {
        std::from_chars(item.data() + 2, item.data() + space, id);
        const std::string_view arg = item.substr(space + 1);
        if (id > 0 && item[0] == 'q') on_queued_(std::string(arg), id);
        if (id > 0 && item[0] == 'd' && arg == node_id_) on_deliveries_(id);
      }
      start = end + 1;
    }
  }

  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  std::string url_;
  std::string node_id_;
  std::string address_;
  std::string instance_;  // this process, among those that ever had this node id
  int64_t started_ms_;

  std::mutex db_mu_;
  std::unique_ptr<Db> db_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::string> outgoing_;
  std::thread notifier_;
  std::thread listener_;
  std::function<void(const std::string&, int64_t)> on_queued_;
  std::function<void(int64_t)> on_deliveries_;
};

}  // namespace

std::unique_ptr<Coordinator> MakeCoordinator(const std::string& url, const std::string& node_id,
                                             const std::string& address) {
  return std::make_unique<PostgresCoordinator>(url, node_id, address);
}

}  // namespace bluegate::store
