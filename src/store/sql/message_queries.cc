// MessageQueries on SQL (store/message_queries.h).
#include <algorithm>

#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

Result<Message> SqlStore::FindMessage(int64_t account_id, std::string_view handle) {
  return Read<Message>([&](Conn& c) -> Result<Message> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom +
                        "WHERE m.handle = ? AND m.account_id = ?");
    s.Bind(handle).Bind(account_id);
    if (!s.Step()) return Error::NotFound("no message with handle " + std::string(handle));
    return ReadMessage(s);
  });
}

Result<Message> SqlStore::FindMessageById(int64_t id) {
  return Read<Message>([&](Conn& c) -> Result<Message> {
    Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom + "WHERE m.id = ?");
    s.Bind(id);
    if (!s.Step()) return Error::NotFound("no message with id " + std::to_string(id));
    return ReadMessage(s);
  });
}

// Up to kIdsPerRead ids a statement, the list padded with its first so that one prepared
// statement serves every size.
Result<std::vector<Message>> SqlStore::FindMessagesByIds(const std::vector<int64_t>& wanted) {
  constexpr size_t kIdsPerRead = 32;
  std::vector<int64_t> ids = wanted;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  static const std::string sql = [] {
    std::string s = std::string("SELECT ") + kMessageColumns + kMessageFrom + "WHERE m.id IN (?";
    for (size_t i = 1; i < kIdsPerRead; ++i) s += ",?";
    return s + ")";
  }();
  return Read<std::vector<Message>>([&](Conn& c) -> Result<std::vector<Message>> {
    std::vector<Message> out;
    for (size_t start = 0; start < ids.size(); start += kIdsPerRead) {
      Stmt& s = c.Prepare(sql);
      for (size_t i = 0; i < kIdsPerRead; ++i) {
        const size_t at = start + i;
        s.Bind(at < ids.size() ? ids[at] : ids[start]);
      }
      while (s.Step()) out.push_back(ReadMessage(s));
      s.Reset();
    }
    return out;
  });
}

Result<MessagePage> SqlStore::ListMessages(const MessageQuery& q) {
  return Read<MessagePage>([&](Conn& c) -> Result<MessagePage> {
    // With a contact on SQLite, the conversation's ids drive the query (the unary + keeps it
    // from walking the account's whole history by its created_at index instead).
    std::string where =
        q.number && !postgres_ ? " WHERE +m.account_id = ?" : " WHERE m.account_id = ?";
    std::vector<std::variant<int64_t, std::string>> args{q.account_id};
    auto add = [&](const char* clause, auto value) {
      where += clause;
      args.emplace_back(value);
    };
    if (q.number && postgres_) {
      // PostgreSQL: an index on (account_id, contact, created_at). Several nodes' transactions
      // commit out of id order, which a watermark cannot follow.
      add(" AND m.contact = ?", *q.number);
    } else if (q.number) {
      // A conversation's messages: those the indexer has filed under the contact, and the few
      // newer than its watermark (see IndexConversations).
      where +=
          " AND m.contact = ? AND m.id IN (SELECT message_id FROM conversations WHERE "
          "account_id = ? AND contact = ? UNION ALL SELECT id FROM messages WHERE id > (SELECT "
          "id FROM conversation_watermark) AND +account_id = ? AND +contact = ?)";
      args.emplace_back(*q.number);
      args.emplace_back(q.account_id);
      args.emplace_back(*q.number);
      args.emplace_back(q.account_id);
      args.emplace_back(*q.number);
    }
    if (q.line) add(" AND m.line_number = ?", *q.line);
    if (q.from_number) {
      where +=
          " AND ((m.is_outbound = 1 AND m.line_number = ?) OR (m.is_outbound = 0 AND m.contact = "
          "?))";
      args.emplace_back(*q.from_number);
      args.emplace_back(*q.from_number);
    }
    if (q.to_number) {
      where +=
          " AND ((m.is_outbound = 1 AND m.contact = ?) OR (m.is_outbound = 0 AND m.line_number = "
          "?))";
      args.emplace_back(*q.to_number);
      args.emplace_back(*q.to_number);
    }
    if (q.group_id) add(" AND m.group_id = ?", *q.group_id);
    if (q.message_type) add(" AND m.message_type = ?", *q.message_type);
    if (q.is_outbound) add(" AND m.is_outbound = ?", int64_t{*q.is_outbound ? 1 : 0});
    if (q.status) add(" AND m.status = ?", std::string(StatusName(*q.status)));
    if (q.service) add(" AND m.service = ?", std::string(ServiceName(*q.service)));
    if (q.created_gte) add(" AND m.created_at >= ?", ToUnixMillis(*q.created_gte));
    if (q.created_lte) add(" AND m.created_at <= ?", ToUnixMillis(*q.created_lte));
    if (q.updated_gte) add(" AND m.updated_at >= ?", ToUnixMillis(*q.updated_gte));
    if (q.updated_lte) add(" AND m.updated_at <= ?", ToUnixMillis(*q.updated_lte));
    auto bind_all = [&](Stmt& s) {
      for (const auto& a : args) {
        if (const auto* i = std::get_if<int64_t>(&a))
          s.Bind(*i);
        else
          s.Bind(std::get<std::string>(a));
      }
    };
    MessagePage page;
    Stmt& count = c.Prepare(std::string("SELECT COUNT(*) FROM messages m") + where);
    bind_all(count);
    count.Step();
    page.total = count.Int(0);
    const char* column =
        q.order_by == MessageQuery::Order::kUpdated ? "m.updated_at" : "m.created_at";
    const char* dir = q.descending ? " DESC" : " ASC";
    Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom + where +
                        " ORDER BY " + column + dir + ", m.id" + dir + " LIMIT ? OFFSET ?");
    bind_all(s);
    s.Bind(int64_t{q.limit}).Bind(int64_t{q.offset});
    while (s.Step()) page.data.push_back(ReadMessage(s));
    return page;
  });
}

Result<std::vector<Message>> SqlStore::InFlightOutbound(std::optional<std::string> line) {
  return Read<std::vector<Message>>([&](Conn& c) -> Result<std::vector<Message>> {
    // PostgreSQL files the in-flight set in a table of its own (schema.cc), SQLite in a partial
    // index on messages.
    const std::string in_flight =
        postgres_ ? " JOIN in_flight_messages f ON f.id = m.id WHERE m.is_outbound = 1"
                  : "WHERE (m.status = 'ACCEPTED' OR (m.status = 'SENT' AND m.service = "
                    "'iMessage')) AND m.is_outbound = 1";
    Stmt& s = c.Prepare(std::string("SELECT ") + kMessageColumns + kMessageFrom + in_flight +
                        (line ? " AND m.line_number = ?" : "") + " ORDER BY m.id");
    if (line) s.Bind(*line);
    std::vector<Message> out;
    while (s.Step()) out.push_back(ReadMessage(s));
    return out;
  });
}

Result<std::vector<Message>> SqlStore::QueuedPage(std::string_view line, bool new_contact,
                                                  int64_t after, int limit) {
  return Read<std::vector<Message>>([&](Conn& c) -> Result<std::vector<Message>> {
    // Walks (line_number, new_contact, id) of messages_line_queued (SQLite) or queued_messages
    // (PostgreSQL): no sort, no rows of other lines.
    Stmt& s = c.Prepare(
        postgres_
            ? std::string("SELECT ") + kMessageColumns +
                  " FROM queued_messages q JOIN messages m ON m.id = q.id JOIN accounts a ON a.id "
                  "= "
                  "m.account_id LEFT JOIN groups g ON g.id = m.group_id AND m.group_id != '' WHERE "
                  "q.line_number = ? AND q.new_contact = ? AND q.id > ? ORDER BY q.line_number, "
                  "q.new_contact, q.id LIMIT ?"
            : std::string("SELECT ") + kMessageColumns + kMessageFrom +
                  "WHERE m.line_number = ? AND m.new_contact = ? AND m.status = 'QUEUED' AND m.id "
                  "> ? ORDER BY m.line_number, m.new_contact, m.id LIMIT ?");
    s.Bind(line).Bind(int64_t{new_contact ? 1 : 0}).Bind(after).Bind(int64_t{limit});
    std::vector<Message> out;
    while (s.Step()) out.push_back(ReadMessage(s));
    return out;
  });
}

Result<std::map<std::string, QueuedCount>> SqlStore::QueuedByLine(std::optional<std::string> line) {
  return Read<std::map<std::string, QueuedCount>>(
      [&](Conn& c) -> Result<std::map<std::string, QueuedCount>> {
        Stmt& s = c.Prepare(
            std::string(postgres_ ? "SELECT line_number, new_contact, COUNT(*) FROM "
                                    "queued_messages WHERE TRUE"
                                  : "SELECT line_number, new_contact, COUNT(*) FROM messages "
                                    "WHERE status = 'QUEUED'") +
            (line ? " AND line_number = ?" : "") + " GROUP BY line_number, new_contact");
        if (line) s.Bind(*line);
        std::map<std::string, QueuedCount> out;
        while (s.Step()) {
          QueuedCount& n = out[s.Text(0)];
          (s.Int(1) != 0 ? n.first : n.known) = s.Int(2);
        }
        return out;
      });
}

Result<std::vector<TimePoint>> SqlStore::NewContactStarts(std::string_view line, TimePoint since) {
  return Read<std::vector<TimePoint>>([&](Conn& c) -> Result<std::vector<TimePoint>> {
    Stmt& s = c.Prepare(
        postgres_ ? "SELECT accepted_at FROM new_contact_starts WHERE line_number = ? AND "
                    "accepted_at >= ? ORDER BY accepted_at"
                  : "SELECT accepted_at FROM messages WHERE line_number = ? AND new_contact = 1 "
                    "AND accepted_at >= ? ORDER BY accepted_at");
    s.Bind(line).Bind(ToUnixMillis(since));
    std::vector<TimePoint> out;
    while (s.Step()) out.push_back(FromUnixMillis(s.Int(0)));
    return out;
  });
}

Result<std::vector<UnroutedInbound>> SqlStore::ListUnrouted(std::optional<std::string> line,
                                                            int limit) {
  return Read<std::vector<UnroutedInbound>>([&](Conn& c) -> Result<std::vector<UnroutedInbound>> {
    Stmt& s = c.Prepare(std::string("SELECT id, line_number, contact, content, media_url, service, "
                                    "received_at FROM unrouted_inbound") +
                        (line ? " WHERE line_number = ?" : "") + " ORDER BY id DESC LIMIT ?");
    if (line) s.Bind(*line);
    s.Bind(int64_t{limit});
    std::vector<UnroutedInbound> out;
    while (s.Step()) {
      out.push_back(UnroutedInbound{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4),
                                    ServiceFromName(s.Text(5)).value_or(Service::kIMessage),
                                    FromUnixMillis(s.Int(6))});
    }
    return out;
  });
}

Result<int64_t> SqlStore::CountSmsSince(std::string_view line, TimePoint since) {
  return Read<int64_t>([&](Conn& c) -> Result<int64_t> {
    Stmt& s = c.Prepare(
        "SELECT COUNT(*) FROM messages WHERE line_number = ? AND is_outbound = 1 AND service = "
        "'SMS' AND accepted_at >= ?");
    s.Bind(line).Bind(ToUnixMillis(since));
    s.Step();
    return s.Int(0);
  });
}

Result<AnnouncedEvents> SqlStore::AnnouncedEventsSince(int64_t after, int limit) {
  return Read<AnnouncedEvents>([&](Conn& c) -> Result<AnnouncedEvents> {
    AnnouncedEvents out;
    Stmt& s = c.Prepare(
        "SELECT seq, account_id, type, data, at FROM announced_events WHERE seq > ? ORDER BY seq "
        "LIMIT ?");
    s.Bind(after).Bind(int64_t{limit});
    while (s.Step()) {
      out.events.push_back(
          AnnouncedEvent{s.Int(0), s.Int(1), s.Text(2), s.Text(3), FromUnixMillis(s.Int(4))});
    }
    Stmt& newest = c.Prepare("SELECT COALESCE(MAX(seq), 0) FROM announced_events");
    newest.Step();
    out.newest = newest.Int(0);
    return out;
  });
}

}  // namespace bluegate::store
