// The contacts table as the SDK's `contacts` resource sees it: profile fields, tags and custom
// variables beside the opt-out, verification and line binding that messages maintain. Internal to
// the SQL store: each function runs on the connection it is given, inside the caller's
// transaction, and throws DbError on a database failure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/sql/db.h"
#include "store/store.h"

namespace bluegate::store::contacts {

// A random (version 4) UUID: a contact's immutable identity.
std::string NewContactId();

struct Written {
  Contact contact;
  bool created = false;  // a new contact (or a deleted one back): fire contact_created
};

// Creates or updates one contact as `mode` says (kConflict / kNotFound when it forbids).
Result<Written> Write(Db* db, int64_t account_id, const std::string& number,
                      const ContactFields& fields, ContactWrite mode, TimePoint now);

std::optional<Contact> Find(Db* db, int64_t account_id, std::string_view number);
std::vector<Contact> List(Db* db, const ContactQuery& q);
int64_t Count(Db* db, int64_t account_id);
int64_t Delete(Db* db, int64_t account_id, const std::vector<std::string>& numbers_or_ids,
               TimePoint now);

// The contact_created webhook payload.
std::string CreatedEventJson(const Contact& c);

}  // namespace bluegate::store::contacts
