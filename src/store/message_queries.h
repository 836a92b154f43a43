// The MessageQueries role of the store: reading messages.
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

// GET /api/v2/messages: every filter the SDK sends. Unset fields do not filter.
struct MessageQuery {
  int64_t account_id = 0;
  std::optional<std::string> number;       // the contact
  std::optional<std::string> from_number;  // the sender (line for outbound, contact for inbound)
  std::optional<std::string> to_number;    // the recipient
  std::optional<std::string> line;         // sendblue_number
  std::optional<std::string> group_id;
  std::optional<std::string> message_type;
  std::optional<bool> is_outbound;
  std::optional<Status> status;
  std::optional<Service> service;
  std::optional<TimePoint> created_gte, created_lte, updated_gte, updated_lte;
  enum class Order { kCreated, kUpdated } order_by = Order::kCreated;
  bool descending = true;
  int limit = 50;
  int offset = 0;
};

struct MessagePage {
  std::vector<Message> data;
  int64_t total = 0;
};

// A message to a shared line from a number no account registered (RecordSharedInbound): kept
// for the operator, never lost.
struct UnroutedInbound {
  int64_t id = 0;
  std::string line;
  std::string from;
  std::string content;
  std::string media_url;
  Service service = Service::kIMessage;
  TimePoint at{};
};

// An account event (an /api/v2/events frame) that a process with no event stream of its own (an
// admin command) wrote for a running server to publish (MessageLog::SetEventObserver).
struct AnnouncedEvent {
  int64_t seq = 0;
  int64_t account_id = 0;
  std::string type;
  std::string data;
  TimePoint at{};
};

struct AnnouncedEvents {
  std::vector<AnnouncedEvent> events;  // in the order they were written
  int64_t newest = 0;                  // the newest event's seq (0 when there is none)
};

// A line's QUEUED messages: to known contacts, and first messages to new ones.
struct QueuedCount {
  int64_t known = 0;
  int64_t first = 0;
  int64_t total() const { return known + first; }
};

// Reads of messages: one message, history and search, and what a restart or a line's new holder
// must pick up. Synchronous and thread-safe.
class MessageQueries {
 public:
  virtual ~MessageQueries() = default;
  virtual Result<Message> FindMessage(int64_t account_id, std::string_view handle) = 0;
  virtual Result<Message> FindMessageById(int64_t id) = 0;
  // The messages with these ids that exist, once each, in no particular order: one read for
  // many (the webhook dispatcher reads ahead for the deliveries it is about to send). By
  // default, one FindMessageById each (callers pass distinct ids for it).
  virtual Result<std::vector<Message>> FindMessagesByIds(const std::vector<int64_t>& ids) {
    std::vector<Message> out;
    for (int64_t id : ids) {
      auto m = FindMessageById(id);
      if (m.ok()) {
        out.push_back(std::move(m).value());
      } else if (m.error().kind != ErrorKind::kNotFound) {
        return m.error();
      }
    }
    return out;
  }
  virtual Result<MessagePage> ListMessages(const MessageQuery& q) = 0;

  // Outbound messages in flight that a restart (or a line's new holder) must reconcile, oldest
  // first: ACCEPTED (handed to a carrier, outcome unknown) and SENT over iMessage (awaiting
  // delivery). With `line`, only that line's. QUEUED messages stay in the store: each line pages
  // them in (QueuedPage).
  virtual Result<std::vector<Message>> InFlightOutbound(
      std::optional<std::string> line = std::nullopt) = 0;

  // Up to `limit` of the line's QUEUED messages with an id above `after`, by id: those that start
  // a conversation when `new_contact`, else those to known contacts. A line's queue holds a
  // window of what it sends next and pages the rest in with this.
  virtual Result<std::vector<Message>> QueuedPage(std::string_view line, bool new_contact,
                                                  int64_t after, int limit) = 0;

  // QUEUED messages, by line (only `line`'s, when given).
  virtual Result<std::map<std::string, QueuedCount>> QueuedByLine(
      std::optional<std::string> line = std::nullopt) = 0;

  // How many outbound SMS the line handed its carrier from `since` on (restores its daily SMS
  // allowance after a restart). Reads the line's messages: asked only of lines with a limit.
  virtual Result<int64_t> CountSmsSince(std::string_view line, TimePoint since) = 0;

  // Inbound messages that reached no account, newest first (of one line, when given).
  virtual Result<std::vector<UnroutedInbound>> ListUnrouted(std::optional<std::string> line,
                                                            int limit) = 0;

  // When the line's new-contact messages were handed to its carrier, from `since` on, oldest
  // first: restores the line's new-contact window after a restart.
  virtual Result<std::vector<TimePoint>> NewContactStarts(std::string_view line,
                                                          TimePoint since) = 0;

  // Up to `limit` announced events written after `after` (a seq), oldest first, and the newest
  // seq stored (a server starting takes it, so that it publishes only what follows).
  virtual Result<AnnouncedEvents> AnnouncedEventsSince(int64_t after, int limit) = 0;
};

}  // namespace bluegate::store
