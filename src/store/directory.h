// The Directory role of the store: lines, whom they serve, and their changes.
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

// A line's own limits and policy, set by `bluegate lines set` and stored with the line. An unset
// field takes the configuration's value for the line ([lines] and [lines.overrides."+1..."]).
struct LineSettings {
  std::optional<double> burst_per_second;
  std::optional<int64_t> queue_capacity;
  std::optional<int64_t> new_contacts_per_day;
  std::optional<int64_t> new_contacts_per_hour;
  std::optional<Millis> new_contact_after;  // silence after which a contact is new again
  std::optional<Millis> resolve_timeout;
  std::optional<bool> shared;  // a shared (free-plan) line sends only to verified contacts

  bool empty() const {
    return !burst_per_second && !queue_capacity && !new_contacts_per_day &&
           !new_contacts_per_hour && !new_contact_after && !resolve_timeout && !shared;
  }
};

struct Line {
  std::string number;        // E.164
  int64_t account_id = 0;    // the owner
  std::string carrier;       // "sim"
  std::string options_json;  // carrier settings, "{}" when none
  LineSettings settings;
  // A shared (free-plan) line's other accounts, which send from it and hear the contacts they
  // registered (`bluegate lines attach`).
  std::vector<int64_t> shared_with = {};
  // Its owner's account is disabled (`bluegate accounts disable`): it takes no sends, and what
  // waits in its queue stays there until the account is enabled again.
  bool held = false;

  // Whether `account` sends from this line: its owner, or an account it is shared with.
  bool Serves(int64_t account) const {
    if (account == account_id) return true;
    for (int64_t a : shared_with) {
      if (a == account) return true;
    }
    return false;
  }
};

// What becomes of the messages waiting in QUEUED on a line that is removed.
enum class QueuedOnRemoval {
  kRefuse,  // remove nothing if any message waits (the caller asks the operator)
  kFail,    // they end in ERROR 10001, their callbacks told
  kMove,    // they move, with the line's contacts, to another line of the same account
};

struct LineRemoval {
  int64_t failed = 0;            // queued messages that ended in ERROR
  int64_t moved = 0;             // queued messages moved to the other line
  int64_t contacts_rebound = 0;  // contacts bound to the other line (kMove) or unbound
};

// The lines accounts send from. Synchronous and thread-safe; writes go through short
// transactions of their own (an admin command in another process writes the same way), so a
// running server sees them at once.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual Result<Line> AddLine(const Line& line) = 0;
  virtual Result<Line> FindLine(std::string_view number) = 0;

  // All lines, or those an account sends from (its own, and shared lines it is attached to).
  virtual Result<std::vector<Line>> ListLines(std::optional<int64_t> account_id) = 0;

  // Replaces the line's own settings.
  virtual Result<Line> SetLineSettings(std::string_view number, const LineSettings& settings) = 0;

  // Attaches `account_id` to a line (`share`), or detaches it: an attached account sends from the
  // line and hears the contacts it registered. Callers attach only to shared lines (the line's
  // settings or the configuration say so; the store knows only the first). kInvalidArgument for
  // the line's owner; recorded as a line change.
  virtual Result<Line> ShareLine(std::string_view number, int64_t account_id, bool share) = 0;
  // Replaces the line's carrier options (a JSON object of strings; see carriers/options.h).
  virtual Result<Line> SetLineOptions(std::string_view number, const std::string& options_json) = 0;

  // Removes a line in one transaction, with its queued messages handled as `queued` says
  // (`move_to` for kMove: another line of the same account). kRefuse with messages waiting is
  // kConflict and changes nothing. Messages already handed to the carrier are left to finish.
  virtual Result<LineRemoval> RemoveLine(std::string_view number, QueuedOnRemoval queued,
                                         std::optional<std::string> move_to) = 0;

  // Lines added, changed or removed after change `since` (0: from the start), by any process,
  // with the newest change's number.
  virtual Result<std::pair<std::vector<std::string>, int64_t>> LineChangesSince(int64_t since) = 0;
};

}  // namespace bluegate::store
