#include "store/sql/contacts.h"

#include <random>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/account_events.h"
#include "core/json.h"
#include "store/sql/db.h"

namespace bluegate::store::contacts {
namespace {

constexpr const char* kColumns =
    "contact_id, number, COALESCE(first_name, ''), COALESCE(last_name, ''), "
    "COALESCE(company_name, ''), COALESCE(assigned_to_email, ''), tags, custom_variables, "
    "line_number, opted_out, verified_at IS NOT NULL, created_at, updated_at";

std::vector<std::string> ParseTags(const std::string& json) {
  std::vector<std::string> out;
  rapidjson::Document d;
  if (json.empty() || !ParseJson(json, d) || !d.IsArray()) return out;
  for (const auto& v : d.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

std::map<std::string, std::string> ParseVariables(const std::string& json) {
  std::map<std::string, std::string> out;
  rapidjson::Document d;
  if (json.empty() || !ParseJson(json, d) || !d.IsObject()) return out;
  for (const auto& m : d.GetObject()) {
    if (m.value.IsString()) {
      out.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                  std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  return out;
}

std::string TagsJson(const std::vector<std::string>& tags) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& t : tags) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string VariablesJson(const std::map<std::string, std::string>& vars) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : vars) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Contact ReadContact(const Stmt& s) {
  Contact c;
  c.contact_id = s.Text(0);
  c.number = s.Text(1);
  c.first_name = s.Text(2);
  c.last_name = s.Text(3);
  c.company_name = s.Text(4);
  c.assigned_to_email = s.Text(5);
  c.tags = ParseTags(s.Text(6));
  c.custom_variables = ParseVariables(s.Text(7));
  c.line = s.OptText(8);
  c.opted_out = s.Int(9) != 0;
  c.verified = s.Int(10) != 0;
  c.created_at = FromUnixMillis(s.Int(11));
  c.updated_at = FromUnixMillis(s.Int(12));
  return c;
}

}  // namespace

std::string NewContactId() {
  // Contact ids identify; they guard nothing, so a seeded PRNG is enough.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

std::optional<Contact> Find(Db* db, int64_t account_id, std::string_view number) {
  Stmt s(db, std::string("SELECT ") + kColumns +
                 " FROM contacts WHERE account_id = ? AND number = ? AND deleted_at IS NULL");
  s.Bind(account_id).Bind(number);
  if (!s.Step()) return std::nullopt;
  return ReadContact(s);
}

Result<Written> Write(Db* db, int64_t account_id, const std::string& number,
                      const ContactFields& fields, ContactWrite mode, TimePoint now) {
  const int64_t at = ToUnixMillis(now);
  Stmt existing(db,
                "SELECT deleted_at IS NOT NULL, custom_variables FROM contacts WHERE account_id = "
                "? AND number = ?");
  existing.Bind(account_id).Bind(number);
  const bool row = existing.Step();
  const bool live = row && existing.Int(0) == 0;
  const std::string old_vars = row && live ? existing.Text(1) : std::string();
  if (mode == ContactWrite::kCreate && live) {
    return Error{ErrorKind::kConflict,
                 "a contact with number " + number + " already exists",
                 ErrorCode::kValidation,
                 {}};
  }
  if (mode == ContactWrite::kUpdate && !live) {
    return Error::NotFound("no contact with number " + number);
  }
  Written out;
  if (!row) {
    Stmt ins(db,
             "INSERT INTO contacts(account_id, number, opted_out, created_at, updated_at, "
             "contact_id) VALUES (?1, ?2, 0, ?3, ?3, ?4)");
    ins.Bind(account_id).Bind(number).Bind(at).Bind(NewContactId()).Exec();
    out.created = true;
  } else if (!live) {
    // A deleted contact comes back as a new one; its opt-out and binding never left.
    Stmt revive(db,
                "UPDATE contacts SET deleted_at = NULL, contact_id = ?1, created_at = ?2, "
                "updated_at = ?2 WHERE account_id = ?3 AND number = ?4");
    revive.Bind(NewContactId()).Bind(at).Bind(account_id).Bind(number).Exec();
    out.created = true;
  }
  std::optional<std::string> vars;
  if (!fields.custom_variables.empty()) {
    auto merged = ParseVariables(old_vars);
    for (const auto& [k, v] : fields.custom_variables) merged[k] = v;
    vars = VariablesJson(merged);
  }
  std::optional<std::string> tags;
  if (fields.tags) tags = TagsJson(*fields.tags);
  Stmt update(
      db,
      "UPDATE contacts SET first_name = COALESCE(?1, first_name), "
      "last_name = COALESCE(?2, last_name), company_name = COALESCE(?3, company_name), "
      "assigned_to_email = COALESCE(?4, assigned_to_email), tags = COALESCE(?5, tags), "
      "custom_variables = COALESCE(?6, custom_variables), "
      "opted_out = COALESCE(?7, opted_out), "
      "bound_at = CASE WHEN CAST(?8 AS TEXT) IS NOT NULL AND line_number IS DISTINCT FROM ?8 "
      "THEN ?9 "
      "ELSE bound_at END, line_number = COALESCE(?8, line_number), updated_at = ?9 "
      "WHERE account_id = ?10 AND number = ?11");
  update.Bind(fields.first_name)
      .Bind(fields.last_name)
      .Bind(fields.company_name)
      .Bind(fields.assigned_to_email)
      .Bind(tags)
      .Bind(vars)
      .Bind(fields.opted_out)
      .Bind(fields.line)
      .Bind(at)
      .Bind(account_id)
      .Bind(number)
      .Exec();
  out.contact = *Find(db, account_id, number);
  return out;
}

std::vector<Contact> List(Db* db, const ContactQuery& q) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM contacts WHERE account_id = ? AND deleted_at IS NULL";
  if (q.contact_id) sql += " AND contact_id = ?";
  if (q.number) sql += " AND number = ?";
  if (q.created_gte) sql += " AND created_at >= ?";
  const char* column = "created_at";
  switch (q.order_by) {
    case ContactQuery::Order::kCreated:
      break;
    case ContactQuery::Order::kUpdated:
      column = "updated_at";
      break;
    case ContactQuery::Order::kNumber:
      column = "number";
      break;
    case ContactQuery::Order::kFirstName:
      column = "COALESCE(first_name, '')";
      break;
    case ContactQuery::Order::kLastName:
      column = "COALESCE(last_name, '')";
      break;
  }
  const char* dir = q.descending ? " DESC" : " ASC";
  sql += std::string(" ORDER BY ") + column + dir + ", number" + dir + " LIMIT ? OFFSET ?";
  Stmt s(db, sql);
  s.Bind(q.account_id);
  if (q.contact_id) s.Bind(*q.contact_id);
  if (q.number) s.Bind(*q.number);
  if (q.created_gte) s.Bind(ToUnixMillis(*q.created_gte));
  s.Bind(int64_t{q.limit}).Bind(int64_t{q.offset});
  std::vector<Contact> out;
  while (s.Step()) out.push_back(ReadContact(s));
  return out;
}

int64_t Count(Db* db, int64_t account_id) {
  Stmt s(db, "SELECT COUNT(*) FROM contacts WHERE account_id = ? AND deleted_at IS NULL");
  s.Bind(account_id);
  s.Step();
  return s.Int(0);
}

int64_t Delete(Db* db, int64_t account_id, const std::vector<std::string>& numbers_or_ids,
               TimePoint now) {
  Stmt s(db,
         "UPDATE contacts SET deleted_at = ?1, updated_at = ?1, first_name = NULL, "
         "last_name = NULL, company_name = NULL, assigned_to_email = NULL, tags = NULL, "
         "custom_variables = NULL WHERE account_id = ?2 AND (number = ?3 OR contact_id = ?3) "
         "AND deleted_at IS NULL");
  int64_t n = 0;
  for (const auto& key : numbers_or_ids) {
    s.Reset().Bind(ToUnixMillis(now)).Bind(account_id).Bind(key).Exec();
    n += s.Changes();
  }
  return n;
}

std::string CreatedEventJson(const Contact& c) {
  return ContactCreatedJson(c.number, c.line.value_or(""), c.contact_id, c.created_at);
}

}  // namespace bluegate::store::contacts
