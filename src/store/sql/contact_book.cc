// Contacts on SQL (store/contacts.h): contact writes and reads, routes and groups. The contacts
// table itself is contacts.cc.
#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

// Bindings never change once made, so bound routes are cached (the writer adds the ones it
// makes); an unbound contact is looked up each time until it is bound.
std::optional<std::string> SqlStore::KnownRoute(int64_t account_id, std::string_view contact) {
  std::lock_guard lock(routes_mu_);
  auto it = routes_.find(std::to_string(account_id) + "/" + std::string(contact));
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<std::string>> SqlStore::FindRoute(int64_t account_id,
                                                       std::string_view contact) {
  std::string key = std::to_string(account_id) + "/" + std::string(contact);
  {
    std::lock_guard lock(routes_mu_);
    if (auto it = routes_.find(key); it != routes_.end()) return std::optional(it->second);
  }
  auto found = Read<std::optional<std::string>>([&](Conn& c) -> Result<std::optional<std::string>> {
    Stmt& s = c.Prepare("SELECT line_number FROM contacts WHERE account_id = ? AND number = ?");
    s.Bind(account_id).Bind(contact);
    if (!s.Step()) return std::optional<std::string>();
    return s.OptText(0);
  });
  if (found.ok() && found.value()) RememberRoute(std::move(key), *found.value());
  return found;
}

void SqlStore::RememberRoute(std::string key, const std::string& line) {
  std::lock_guard lock(routes_mu_);
  if (routes_.size() >= 1'000'000) routes_.clear();
  routes_.emplace(std::move(key), line);
}

Group SqlStore::ReadGroup(Db* db, const std::string& id) {
  Stmt s(db,
         "SELECT id, account_id, line_number, members, display_name, created_at, updated_at "
         "FROM groups WHERE id = ?");
  s.Bind(id);
  Group g;
  if (!s.Step()) return g;
  g.id = s.Text(0);
  g.account_id = s.Int(1);
  g.line = s.Text(2);
  const std::string members = s.Text(3);
  for (size_t start = 0; start < members.size();) {
    const size_t comma = members.find(',', start);
    const size_t end = comma == std::string::npos ? members.size() : comma;
    g.participants.push_back(members.substr(start, end - start));
    start = end + 1;
  }
  g.display_name = s.Text(4);
  g.created_at = FromUnixMillis(s.Int(5));
  g.updated_at = FromUnixMillis(s.Int(6));
  return g;
}

Result<Group> SqlStore::FindOrCreateGroup(int64_t account_id, const std::string& line,
                                          std::vector<std::string> participants,
                                          const std::string& new_id) {
  std::sort(participants.begin(), participants.end());
  participants.erase(std::unique(participants.begin(), participants.end()), participants.end());
  const std::string members = *ParticipantsText(participants);
  return WriteSync<Group>([&](WriterStatements&, std::vector<Delivery>&) -> Result<Group> {
    Stmt find(writer_db_,
              "SELECT id FROM groups WHERE account_id = ? AND line_number = ? AND members = ?");
    find.Bind(account_id).Bind(line).Bind(members);
    if (find.Step()) return ReadGroup(writer_db_, find.Text(0));
    const int64_t now = ToUnixMillis(clock_.Now());
    Stmt ins(writer_db_,
             "INSERT INTO groups(id, account_id, line_number, members, created_at, updated_at) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
    ins.Bind(new_id).Bind(account_id).Bind(line).Bind(members).Bind(now).Exec();
    return ReadGroup(writer_db_, new_id);
  });
}

Result<Group> SqlStore::FindGroup(int64_t account_id, std::string_view id) {
  return Read<Group>([&](Conn& c) -> Result<Group> {
    Group g = ReadGroup(c.db, std::string(id));
    if (g.id.empty() || g.account_id != account_id) {
      return Error::NotFound("no group with group_id " + std::string(id));
    }
    return g;
  });
}

Result<Group> SqlStore::ModifyGroup(int64_t account_id, std::string_view id, bool add,
                                    const std::string& number) {
  return WriteSync<Group>([&](WriterStatements&, std::vector<Delivery>&) -> Result<Group> {
    Group g = ReadGroup(writer_db_, std::string(id));
    if (g.id.empty() || g.account_id != account_id) {
      return Error::NotFound("no group with group_id " + std::string(id));
    }
    auto& p = g.participants;
    const auto it = std::find(p.begin(), p.end(), number);
    const bool member = it != p.end();
    if (!add && !member) return Error::Invalid("number " + number + " is not in group " + g.id);
    if (add && !member) p.push_back(number);
    if (!add) p.erase(it);
    if (p.size() < 2) return Error::Invalid("a group keeps at least 2 participants");
    if (p.size() > 25) return Error::Invalid("a group holds at most 25 participants");
    std::sort(p.begin(), p.end());
    Stmt up(writer_db_, "UPDATE groups SET members = ?, updated_at = ? WHERE id = ?");
    up.Bind(*ParticipantsText(p)).Bind(ToUnixMillis(clock_.Now())).Bind(g.id).Exec();
    return ReadGroup(writer_db_, g.id);
  });
}

void SqlStore::ForgetRoutes(std::string_view line) {
  {
    std::lock_guard lock(routes_mu_);
    std::erase_if(routes_, [line](const auto& kv) { return kv.second == line; });
  }
  contacts_stale_.store(true, std::memory_order_release);
}

Result<Contact> SqlStore::WriteContact(int64_t account_id, const std::string& number,
                                       const ContactFields& fields, ContactWrite mode) {
  return WriteSync<Contact>(
      [&](WriterStatements& st, std::vector<Delivery>& created) -> Result<Contact> {
        auto w = contacts::Write(writer_db_, account_id, number, fields, mode, clock_.Now());
        if (!w.ok()) return w.error();
        st.bump_contacts_epoch.Reset().Exec();
        AfterContactWrite(st, account_id, w.value(), created);
        return w->contact;
      });
}

Result<std::vector<Contact>> SqlStore::WriteContacts(
    int64_t account_id, const std::vector<std::pair<std::string, ContactFields>>& batch) {
  return WriteSync<std::vector<Contact>>(
      [&](WriterStatements& st, std::vector<Delivery>& created) -> Result<std::vector<Contact>> {
        std::vector<Contact> out;
        st.bump_contacts_epoch.Reset().Exec();
        for (const auto& [number, fields] : batch) {
          auto w = contacts::Write(writer_db_, account_id, number, fields,
                                   ContactWrite::kCreateOrUpdate, clock_.Now());
          if (!w.ok()) return w.error();  // rolls back the whole batch: all or none
          AfterContactWrite(st, account_id, w.value(), created);
          out.push_back(w->contact);
        }
        return out;
      });
}

Result<Contact> SqlStore::FindContact(int64_t account_id, std::string_view number) {
  return Read<Contact>([&](Conn& c) -> Result<Contact> {
    auto found = contacts::Find(c.db, account_id, number);
    if (!found) return Error::NotFound("no contact with number " + std::string(number));
    return *found;
  });
}

Result<std::vector<Contact>> SqlStore::ListContacts(const ContactQuery& q) {
  return Read<std::vector<Contact>>(
      [&](Conn& c) -> Result<std::vector<Contact>> { return contacts::List(c.db, q); });
}

Result<int64_t> SqlStore::CountContacts(int64_t account_id) {
  return Read<int64_t>(
      [&](Conn& c) -> Result<int64_t> { return contacts::Count(c.db, account_id); });
}

Result<int64_t> SqlStore::DeleteContacts(int64_t account_id,
                                         const std::vector<std::string>& numbers_or_ids) {
  return WriteSync<int64_t>([&](WriterStatements& st, std::vector<Delivery>&) -> Result<int64_t> {
    contact_cache_.clear();  // keys may be contact ids
    st.bump_contacts_epoch.Reset().Exec();
    return contacts::Delete(writer_db_, account_id, numbers_or_ids, clock_.Now());
  });
}

}  // namespace bluegate::store
