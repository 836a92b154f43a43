// WebhookConfigs on SQL (store/webhook_configs.h).
#include "store/sql/sql_store_impl.h"

namespace bluegate::store {

WebhookConfig SqlStore::LoadWebhooks(Db* db, int64_t account_id) {
  WebhookConfig config;
  for (const char* type : kWebhookTypes) config.by_type[type];
  Stmt secret(db, "SELECT webhook_secret FROM accounts WHERE id = ?");
  secret.Bind(account_id);
  if (secret.Step() && !secret.IsNull(0)) config.global_secret = secret.Text(0);
  Stmt rows(db,
            "SELECT type, url, secret, sendblue_numbers, plain, disabled_at FROM account_webhooks "
            "WHERE account_id = ? ORDER BY type, position");
  rows.Bind(account_id);
  while (rows.Step()) {
    WebhookEntry e;
    e.url = rows.Text(1);
    e.secret = rows.OptText(2);
    if (!rows.IsNull(3)) {
      std::vector<std::string> numbers;
      const std::string list = rows.Text(3);
      for (size_t start = 0; start <= list.size();) {
        const size_t comma = list.find(',', start);
        const std::string n =
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!n.empty()) numbers.push_back(n);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      e.sendblue_numbers = std::move(numbers);
    }
    e.plain = rows.Int(4) != 0;
    if (!rows.IsNull(5)) e.disabled_at = FromUnixMillis(rows.Int(5));
    config.by_type[rows.Text(0)].push_back(std::move(e));
  }
  return config;
}

void SqlStore::InsertWebhook(Db* db, int64_t account_id, const std::string& type,
                             const WebhookEntry& e, int64_t position) {
  Stmt s(db,
         "INSERT INTO account_webhooks(account_id, type, url, secret, sendblue_numbers, plain, "
         "position) VALUES (?,?,?,?,?,?,?) ON CONFLICT(account_id, type, url) DO UPDATE SET "
         "secret = excluded.secret, sendblue_numbers = excluded.sendblue_numbers, plain = "
         "excluded.plain, disabled_at = NULL");
  std::optional<std::string> numbers;
  if (e.sendblue_numbers) {
    numbers = std::string();
    for (const auto& n : *e.sendblue_numbers) *numbers += (numbers->empty() ? "" : ",") + n;
  }
  s.Bind(account_id)
      .Bind(type)
      .Bind(e.url)
      .Bind(e.secret)
      .Bind(numbers)
      .Bind(e.plain)
      .Bind(position);
  s.Exec();
}

void SqlStore::SetGlobalSecret(Db* db, int64_t account_id,
                               const std::optional<std::string>& secret) {
  Stmt s(db, "UPDATE accounts SET webhook_secret = ? WHERE id = ?");
  s.Bind(secret).Bind(account_id).Exec();
}

Result<WebhookConfig> SqlStore::GetWebhooks(int64_t account_id) {
  return Read<WebhookConfig>(
      [&](Conn& c) -> Result<WebhookConfig> { return LoadWebhooks(c.db, account_id); });
}

Result<WebhookConfig> SqlStore::AddWebhooks(int64_t account_id, const std::string& type,
                                            std::vector<WebhookEntry> entries,
                                            std::optional<std::string> global_secret) {
  return WriteSync<WebhookConfig>(
      [this, account_id, type, entries = std::move(entries), global_secret](
          WriterStatements& st, std::vector<Delivery>&) -> Result<WebhookConfig> {
        Stmt next(writer_db_,
                  "SELECT COALESCE(MAX(position), 0) + 1 FROM account_webhooks WHERE account_id "
                  "= ? AND type = ?");
        next.Bind(account_id).Bind(type);
        next.Step();
        int64_t position = next.Int(0);
        for (const auto& e : entries) InsertWebhook(writer_db_, account_id, type, e, position++);
        if (global_secret) SetGlobalSecret(writer_db_, account_id, global_secret);
        hooks_cache_.erase(account_id);
        st.bump_webhooks_epoch.Reset().Exec();
        return LoadWebhooks(writer_db_, account_id);
      });
}

Result<WebhookConfig> SqlStore::ReplaceWebhooks(int64_t account_id, WebhookConfig config) {
  return WriteSync<WebhookConfig>(
      [this, account_id, config = std::move(config)](
          WriterStatements& st, std::vector<Delivery>&) -> Result<WebhookConfig> {
        Stmt clear(writer_db_, "DELETE FROM account_webhooks WHERE account_id = ?");
        clear.Bind(account_id).Exec();
        for (const auto& [type, entries] : config.by_type) {
          int64_t position = 1;
          for (const auto& e : entries) InsertWebhook(writer_db_, account_id, type, e, position++);
        }
        SetGlobalSecret(writer_db_, account_id, config.global_secret);
        hooks_cache_.erase(account_id);
        st.bump_webhooks_epoch.Reset().Exec();
        return LoadWebhooks(writer_db_, account_id);
      });
}

Result<WebhookConfig> SqlStore::DeleteWebhooks(int64_t account_id, const std::string& type,
                                               std::vector<std::string> urls) {
  return WriteSync<WebhookConfig>(
      [this, account_id, type, urls = std::move(urls)](
          WriterStatements& st, std::vector<Delivery>&) -> Result<WebhookConfig> {
        Stmt del(writer_db_,
                 "DELETE FROM account_webhooks WHERE account_id = ? AND type = ? AND url = ?");
        for (const auto& url : urls) del.Reset().Bind(account_id).Bind(type).Bind(url).Exec();
        hooks_cache_.erase(account_id);
        st.bump_webhooks_epoch.Reset().Exec();
        return LoadWebhooks(writer_db_, account_id);
      });
}

}  // namespace bluegate::store
