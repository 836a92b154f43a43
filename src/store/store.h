// The Store: everything bluegate knows, durably. Start reading here for the data model; the
// schema in prose is docs/schema.md.
//
// The store is cut by who uses it; each role is a small interface of its own, and each component
// is handed only the roles it uses (app/wiring.cc):
//   message_log.h      accept, transition, inbound, read receipts, account events, commit
//                      observers, health, flush (the queue, the API's sends)
//   delivery_log.h     webhook deliveries and their attempts (the dispatcher, the delivery log)
//   accounts.h         accounts and their API keys (auth, admin commands)
//   directory.h        lines and whom they serve (admin commands, the queue's line cache)
//   contacts.h         contacts, routes and groups
//   webhook_configs.h  account webhook configuration
//   message_queries.h  one message, history, what a restart picks up
// Writes that carry messages (MessageLog, and DeliveryLog::RecordAttempts) are asynchronous and
// group-committed; reads and admin calls are synchronous and thread-safe.
#pragma once

#include "store/accounts.h"
#include "store/contacts.h"
#include "store/delivery_log.h"
#include "store/directory.h"
#include "store/message_log.h"
#include "store/message_queries.h"
#include "store/webhook_configs.h"

namespace bluegate::store {

// A whole store: every role, as one implementation provides them (store/sql/ on SQLite or
// PostgreSQL). Only the wiring and the admin commands hold one; everything else takes a role.
class Store : public Accounts,
              public MessageLog,
              public DeliveryLog,
              public Directory,
              public Contacts,
              public WebhookConfigs,
              public MessageQueries {
 public:
  ~Store() override = default;
};

}  // namespace bluegate::store
