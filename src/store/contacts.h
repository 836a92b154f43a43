// The Contacts role of the store: contacts, routes and groups.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/message.h"
#include "core/result.h"

namespace bluegate::store {

// A contact of an account (the SDK's `contacts` resource). The row also carries the recipient's
// opt-out, verification and line binding, which messages keep up to date.
struct Contact {
  std::string contact_id;  // immutable identity (a UUID), new when a deleted contact returns
  std::string number;      // E.164
  std::string first_name;
  std::string last_name;
  std::string company_name;
  std::string assigned_to_email;
  std::vector<std::string> tags;
  std::map<std::string, std::string> custom_variables;
  std::optional<std::string> line;  // the line the contact is bound to (sendblue_number)
  bool opted_out = false;
  bool verified = false;  // the contact has written to one of the account's lines
  TimePoint created_at{};
  TimePoint updated_at{};
};

// The fields a contact write sets; an unset field is left as it is.
struct ContactFields {
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> company_name;
  std::optional<std::string> assigned_to_email;
  std::optional<std::vector<std::string>> tags;         // replaces the tags
  std::map<std::string, std::string> custom_variables;  // merged into the existing ones
  std::optional<std::string> line;  // binds (or re-binds) the contact to this line
  std::optional<bool> opted_out;
};

enum class ContactWrite {
  kCreate,          // a contact with this number must not exist (kConflict)
  kCreateOrUpdate,  // creates it, or updates the existing one
  kUpdate,          // it must exist (kNotFound)
};

struct ContactQuery {
  int64_t account_id = 0;
  std::optional<std::string> contact_id;
  std::optional<std::string> number;
  std::optional<TimePoint> created_gte;
  enum class Order {
    kCreated,
    kUpdated,
    kNumber,
    kFirstName,
    kLastName
  } order_by = Order::kCreated;
  bool descending = true;
  int limit = 100;
  int offset = 0;
};

// A group conversation on one line (POST /api/send-group-message).
struct Group {
  std::string id;  // group_id: a UUID
  int64_t account_id = 0;
  std::string line;
  std::vector<std::string> participants;  // E.164, sorted
  std::string display_name;
  TimePoint created_at{};
  TimePoint updated_at{};
};

// An account's contacts, their routes (SPEC.md §6: the first message between a contact and a line
// binds them) and its group conversations. Synchronous and thread-safe; contact writes go through
// the writer, like messages, since messages bind and opt out contacts. A created contact fires the
// account's contact_created webhooks.
class Contacts {
 public:
  virtual ~Contacts() = default;

  // The line `contact` is bound to in the account, if any.
  virtual Result<std::optional<std::string>> FindRoute(int64_t account_id,
                                                       std::string_view contact) = 0;

  // The binding as this process already knows it, without asking the database (nullopt: not
  // known to be bound). Accept checks the binding again, atomically, so a send that names its
  // line needs no more than this up front.
  virtual std::optional<std::string> KnownRoute(int64_t account_id, std::string_view contact) = 0;

  // Drops this process's cached routes to `line` (it was removed or its contacts moved, perhaps
  // by another process).
  virtual void ForgetRoutes(std::string_view line) = 0;
  virtual Result<Contact> WriteContact(int64_t account_id, const std::string& number,
                                       const ContactFields& fields, ContactWrite mode) = 0;

  // Creates or updates each, all or none.
  virtual Result<std::vector<Contact>> WriteContacts(
      int64_t account_id, const std::vector<std::pair<std::string, ContactFields>>& batch) = 0;

  virtual Result<Contact> FindContact(int64_t account_id, std::string_view number) = 0;
  virtual Result<std::vector<Contact>> ListContacts(const ContactQuery& q) = 0;
  virtual Result<int64_t> CountContacts(int64_t account_id) = 0;

  // Deletes the contacts named by number or contact_id; returns how many went. The recipient's
  // opt-out and line binding survive the contact: deleting a contact never lets a message
  // reach someone who said STOP, nor moves them to another line.
  virtual Result<int64_t> DeleteContacts(int64_t account_id,
                                         const std::vector<std::string>& numbers_or_ids) = 0;

  // The account's group on `line` with exactly these participants, created (with `new_id`) when
  // there is none: a second send to the same people continues their group.
  virtual Result<Group> FindOrCreateGroup(int64_t account_id, const std::string& line,
                                          std::vector<std::string> participants,
                                          const std::string& new_id) = 0;

  virtual Result<Group> FindGroup(int64_t account_id, std::string_view id) = 0;

  // Adds or removes one participant (kInvalidArgument below 2 or above 25 participants).
  virtual Result<Group> ModifyGroup(int64_t account_id, std::string_view id, bool add,
                                    const std::string& number) = 0;
};

}  // namespace bluegate::store
