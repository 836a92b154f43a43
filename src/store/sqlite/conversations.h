// SQLite only: a conversation's messages are found through the conversations table, filed in
// slices on the writer thread after its batches. An index on messages(contact) would be updated
// at a random place by every accept, dirtying one page per message in each commit; filed in
// batches sorted by contact, each conversation's page is written once per slice instead.
// (PostgreSQL indexes messages(account_id, contact, created_at) and files nothing.)
// MessageQueries::ListMessages reads the table, and the few newer messages past its watermark.
#pragma once

#include "core/clock.h"
#include "store/sql/db.h"

namespace bluegate::store {

class ConversationFiler {
 public:
  explicit ConversationFiler(Clock& clock) : clock_(clock) {}
  // Files the next slice (up to 200,000 messages) in a transaction of its own, unless one was
  // filed in the last half second. A failure is logged and retried at a later call. Call on the
  // writer's connection, outside a transaction.
  void MaybeFile(Db& db);

 private:
  Clock& clock_;
  TimePoint last_{};
};

}  // namespace bluegate::store
