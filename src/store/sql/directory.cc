// Directory on SQL (store/directory.h): lines, whom they serve, and their changes.
#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

Result<Line> SqlStore::AddLine(const Line& line) {
  return AdminWrite<Line>([&](Conn& c) -> Result<Line> {
    c.db->Begin();
    Stmt& s = c.Prepare(
        "INSERT INTO lines(number, account_id, carrier, options, settings, created_at) VALUES "
        "(?,?,?,?,?,?)");
    s.Bind(line.number)
        .Bind(line.account_id)
        .Bind(line.carrier)
        .Bind(line.options_json)
        .Bind(LineSettingsJson(line.settings))
        .Bind(ToUnixMillis(clock_.Now()));
    try {
      s.Exec();
      RecordLineChange(c.db, line.number, clock_.Now());
      c.db->Exec("COMMIT");
    } catch (...) {
      c.db->ExecQuietly("ROLLBACK");
      throw;
    }
    return line;
  });
}

Result<Line> SqlStore::FindLine(std::string_view number) {
  return Read<Line>([&](Conn& c) -> Result<Line> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kLineColumns + " FROM lines WHERE number = ?");
    s.Bind(number);
    if (!s.Step()) return Error::NotFound("no line " + std::string(number));
    Line line = ReadLine(s);
    LoadSharedWith(c.db, line);
    return line;
  });
}

Result<std::vector<Line>> SqlStore::ListLines(std::optional<int64_t> account_id) {
  return Read<std::vector<Line>>([&](Conn& c) -> Result<std::vector<Line>> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kLineColumns + " FROM lines" +
                        (account_id ? " WHERE account_id = ?1 OR number IN (SELECT line_number "
                                      "FROM line_accounts WHERE account_id = ?1)"
                                    : "") +
                        " ORDER BY created_at, number");
    if (account_id) s.Bind(*account_id);
    std::vector<Line> out;
    while (s.Step()) out.push_back(ReadLine(s));
    s.Reset();
    Stmt& shared =
        c.Prepare("SELECT line_number, account_id FROM line_accounts ORDER BY account_id");
    std::unordered_map<std::string, std::vector<int64_t>> by_line;
    while (shared.Step()) by_line[shared.Text(0)].push_back(shared.Int(1));
    for (auto& l : out) {
      if (auto it = by_line.find(l.number); it != by_line.end()) l.shared_with = it->second;
    }
    return out;
  });
}

Result<Line> SqlStore::ShareLine(std::string_view number, int64_t account_id, bool share) {
  return WriteSync<Line>([this, number = std::string(number), account_id, share](
                             WriterStatements&, std::vector<Delivery>&) -> Result<Line> {
    Stmt find(writer_db_, std::string("SELECT ") + kLineColumns + " FROM lines WHERE number = ?");
    find.Bind(number);
    if (!find.Step()) return Error::NotFound("no line " + number);
    Line line = ReadLine(find);
    find.Reset();
    if (line.account_id == account_id) {
      return Error::Invalid("the account owns line " + number + "; it needs no sharing");
    }
    if (share) {
      Stmt add(writer_db_,
               "INSERT INTO line_accounts(line_number, account_id, added_at) VALUES (?, ?, ?) ON "
               "CONFLICT DO NOTHING");
      add.Bind(number).Bind(account_id).Bind(ToUnixMillis(clock_.Now())).Exec();
    } else {
      Stmt drop(writer_db_, "DELETE FROM line_accounts WHERE line_number = ? AND account_id = ?");
      drop.Bind(number).Bind(account_id).Exec();
    }
    RecordLineChange(writer_db_, number, clock_.Now());
    LoadSharedWith(writer_db_, line);
    return line;
  });
}

Result<Line> SqlStore::SetLineSettings(std::string_view number, const LineSettings& settings) {
  return UpdateLine(number, "settings", LineSettingsJson(settings));
}

Result<Line> SqlStore::SetLineOptions(std::string_view number, const std::string& options_json) {
  return UpdateLine(number, "options", options_json);
}

// Sets one JSON column of a line (`column` is a literal of ours), recorded as a line change.
Result<Line> SqlStore::UpdateLine(std::string_view number, const char* column, std::string value) {
  return WriteSync<Line>([this, number = std::string(number), column, value = std::move(value)](
                             WriterStatements&, std::vector<Delivery>&) -> Result<Line> {
    Stmt s(writer_db_, std::string("UPDATE lines SET ") + column + " = ? WHERE number = ?");
    s.Bind(value).Bind(number).Exec();
    if (s.Changes() == 0) return Error::NotFound("no line " + number);
    RecordLineChange(writer_db_, number, clock_.Now());
    Stmt load(writer_db_, std::string("SELECT ") + kLineColumns + " FROM lines WHERE number = ?");
    load.Bind(number);
    load.Step();
    Line line = ReadLine(load);
    LoadSharedWith(writer_db_, line);
    return line;
  });
}

Result<LineRemoval> SqlStore::RemoveLine(std::string_view number, QueuedOnRemoval queued,
                                         std::optional<std::string> move_to) {
  return WriteSync<LineRemoval>(
      [this, number = std::string(number), queued, move_to = std::move(move_to)](
          WriterStatements& st, std::vector<Delivery>& created) -> Result<LineRemoval> {
        contact_cache_.clear();  // its contacts move or come unbound
        st.bump_contacts_epoch.Reset().Exec();
        Stmt line(writer_db_, "SELECT account_id FROM lines WHERE number = ?");
        line.Bind(number);
        if (!line.Step()) return Error::NotFound("no line " + number);
        const int64_t account_id = line.Int(0);
        if (queued == QueuedOnRemoval::kMove) {
          Stmt target(writer_db_, "SELECT account_id FROM lines WHERE number = ?");
          target.Bind(move_to.value_or(""));
          if (!move_to || *move_to == number || !target.Step() || target.Int(0) != account_id) {
            return Error::Invalid("the queued messages of " + number +
                                  " can only move to another line of the same account");
          }
        }
        std::vector<int64_t> waiting;
        // (PostgreSQL files the queued set in a table of its own: schema.cc.)
        Stmt q(writer_db_, postgres_ ? "SELECT id FROM queued_messages WHERE line_number = ?"
                                     : "SELECT id FROM messages WHERE line_number = ? AND status = "
                                       "'QUEUED'");
        q.Bind(number);
        while (q.Step()) waiting.push_back(q.Int(0));
        LineRemoval out;
        if (!waiting.empty() && queued == QueuedOnRemoval::kRefuse) {
          return Error{ErrorKind::kConflict,
                       std::to_string(waiting.size()) + " messages wait in QUEUED on line " +
                           number + "; say whether to fail them or move them to another line",
                       ErrorCode::kValidation,
                       {}};
        }
        const TimePoint now = clock_.Now();
        if (queued == QueuedOnRemoval::kMove) {
          Stmt move(writer_db_,
                    postgres_ ? "UPDATE messages SET line_number = ?1 WHERE id IN (SELECT id "
                                "FROM queued_messages WHERE line_number = ?2)"
                              : "UPDATE messages SET line_number = ?1 WHERE line_number = ?2 AND "
                                "status = 'QUEUED'");
          move.Bind(*move_to).Bind(number).Exec();
          out.moved = move.Changes();
          Stmt rebind(writer_db_,
                      "UPDATE contacts SET line_number = ?1, bound_at = ?3 WHERE line_number = ?2 "
                      "AND account_id = ?4");
          rebind.Bind(*move_to).Bind(number).Bind(ToUnixMillis(now)).Bind(account_id).Exec();
          out.contacts_rebound = rebind.Changes();
        } else {
          for (int64_t id : waiting) {
            TransitionRequest r;
            r.message_id = id;
            r.to = Status::kError;
            r.at = now;
            r.error =
                MessageError{ErrorCode::kFailedToSend,
                             "The line " + number + " was removed before the message was sent",
                             "line_removed", std::nullopt};
            r.source = "line-removed";
            auto applied = ApplyTransition(st, r, created);
            if (applied.ok() && applied->applied) ++out.failed;
          }

          Stmt unbind(writer_db_,
                      "UPDATE contacts SET line_number = NULL, bound_at = NULL WHERE line_number = "
                      "? AND account_id = ?");
          unbind.Bind(number).Bind(account_id).Exec();
          out.contacts_rebound = unbind.Changes();
        }
        Stmt unshare(writer_db_, "DELETE FROM line_accounts WHERE line_number = ?");
        unshare.Bind(number).Exec();
        Stmt del(writer_db_, "DELETE FROM lines WHERE number = ?");
        del.Bind(number).Exec();
        RecordLineChange(writer_db_, number, now);
        ForgetRoutes(number);
        return out;
      });
}

Result<std::pair<std::vector<std::string>, int64_t>> SqlStore::LineChangesSince(int64_t since) {
  using Out = std::pair<std::vector<std::string>, int64_t>;
  return Read<Out>([&](Conn& c) -> Result<Out> {
    Stmt& s = c.Prepare("SELECT seq, number FROM line_changes WHERE seq > ? ORDER BY seq");
    s.Bind(since);
    Out out{{}, since};
    while (s.Step()) {
      out.second = s.Int(0);
      out.first.push_back(s.Text(1));
    }
    return out;
  });
}

}  // namespace bluegate::store
