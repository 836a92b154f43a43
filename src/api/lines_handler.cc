// GET /api/lines, GET /account, GET /api/v2/lines/state, GET /api/v2/lines/usage and
// GET /api/v2/nodes.
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"

#include <map>
#include <set>

namespace bluegate::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The lines endpoints' shared shape: {"status":"OK", <head>, "<key>":[one entry per line]}.
template <typename Head, typename Each>
void RespondPerLine(ApiContext& ctx, const Principal& principal, const Responder& respond,
                    const char* key, Head head, Each each) {
  auto lines = ctx.store.directory.ListLines(principal.account.id);
  if (!lines.ok()) return respond(ErrorResponse(lines.error()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  head(w);
  w.Key(key);
  w.StartArray();
  for (const auto& l : lines.value()) each(w, l);
  w.EndArray();
  w.EndObject();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

void HandleListLines(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                     Responder respond) {
  RespondPerLine(
      ctx, principal, respond, "numbers", [](JsonWriter&) {},
      [](JsonWriter& w, const store::Line& l) { w.String(l.number.c_str()); });
}

void HandleAccount(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                   Responder respond) {
  RespondPerLine(
      ctx, principal, respond, "lines",
      [&principal](JsonWriter& w) {
        w.Key("email");
        w.String(principal.account.email.c_str());
        w.Key("plan");
        w.String(principal.account.plan.c_str());
      },
      [](JsonWriter& w, const store::Line& l) { w.String(l.number.c_str()); });
}

namespace {

std::string NodeName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "bluegate";
  return std::string("bluegate@") + host;
}

void WriteUsage(JsonWriter& w, const char* key, const NewContactWindow::Usage& u, bool limited) {
  w.Key(key);
  w.StartObject();
  w.Key("used");
  w.Int(u.used);
  w.Key("limit");
  if (limited)
    w.Int(u.limit);
  else
    w.Null();
  w.Key("remaining");
  if (limited)
    w.Int(u.remaining);
  else
    w.Null();
  const std::string next = FormatIso8601(u.next_slot_at);
  const std::string resets = FormatIso8601(u.resets_at);
  w.Key("nextSlotAt");
  w.String(next.c_str());
  w.Key("resetsAt");
  w.String(resets.c_str());
  w.EndObject();
}

}  // namespace

void HandleLinesState(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                      Responder respond) {
  static const std::string host = NodeName();
  const std::string& node = ctx.node_id.empty() ? host : ctx.node_id;
  const std::string now = FormatIso8601(ctx.clock.Now());
  RespondPerLine(
      ctx, principal, respond, "data",
      [&now](JsonWriter& w) {
        w.Key("snapshot_at");
        w.String(now.c_str());
      },
      [&ctx, &node](JsonWriter& w, const store::Line& l) {
        const auto state = ctx.outbound.StateOf(l);
        const std::string changed = FormatIso8601(state.changed_at);
        // Scale-out: the node holding the line's lease (none between holders).
        const auto holder = ctx.outbound.HolderOf(l.number);
        w.StartObject();
        w.Key("sendblue_number");
        w.String(l.number.c_str());
        // The line's driver on its node: one per line (the official CLI tells line events apart
        // by it), naming the node first.
        w.Key("worker_id");
        if (holder && holder->empty()) {
          w.Null();
        } else {
          w.String(((holder ? *holder : node) + "/" + l.number).c_str());
        }
        w.Key("assignment");
        w.String(holder && holder->empty() ? "unassigned" : "assigned");
        w.Key("status");
        w.String(carriers::LineHealthName(state.health).data());
        w.Key("status_changed_at");
        w.String(changed.c_str());
        w.Key("degraded_since");
        if (state.health == carriers::LineHealth::kOnline) {
          w.Null();
        } else {
          w.String(changed.c_str());
        }
        w.Key("effective_until");
        w.Null();
        // bluegate's own (the console's lines page): the carrier and what waits in the queue.
        w.Key("carrier");
        w.String(l.carrier.c_str());
        w.Key("queue_depth");
        w.Uint64(ctx.outbound.QueueDepth(l.number));
        w.EndObject();
      });
}

void HandleLinesUsage(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                      Responder respond) {
  RespondPerLine(
      ctx, principal, respond, "data", [](JsonWriter&) {},
      [&ctx](JsonWriter& w, const store::Line& l) {
        const auto usage = ctx.outbound.NewContactUsage(l);
        w.StartObject();
        w.Key("sendblue_number");
        w.String(l.number.c_str());
        WriteUsage(w, "daily", usage.daily, usage.limits.per_day > 0);
        WriteUsage(w, "hourly", usage.hourly, usage.limits.per_hour > 0);
        w.EndObject();
      });
}

// The nodes sharing the database and the account's lines each one drives. One node alone
// (SQLite) answers for itself.
void HandleNodes(ApiContext& ctx, const Principal& principal, const HttpRequest&,
                 Responder respond) {
  auto lines = ctx.store.directory.ListLines(principal.account.id);
  if (!lines.ok()) return respond(ErrorResponse(lines.error()));
  std::vector<store::NodeInfo> nodes;
  std::map<std::string, std::vector<std::string>> held;  // node → the account's lines
  std::set<std::string> mine;
  for (const auto& l : lines.value()) mine.insert(l.number);
  if (ctx.nodes) {
    auto n = ctx.nodes();
    if (!n.ok()) return respond(ErrorResponse(n.error()));
    nodes = std::move(n).value();
    auto leases = ctx.leases();
    if (!leases.ok()) return respond(ErrorResponse(leases.error()));
    for (const auto& lease : leases.value()) {
      if (lease.live && mine.contains(lease.line)) held[lease.node_id].push_back(lease.line);
    }
  } else {
    store::NodeInfo self;
    self.id = NodeName();
    self.alive = true;
    nodes.push_back(self);
    held[self.id].assign(mine.begin(), mine.end());
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("node_id");
  w.String(ctx.node_id.empty() ? NodeName().c_str() : ctx.node_id.c_str());
  w.Key("data");
  w.StartArray();
  for (const auto& n : nodes) {
    w.StartObject();
    w.Key("node_id");
    w.String(n.id.c_str());
    w.Key("address");
    if (n.address.empty()) {
      w.Null();
    } else {
      w.String(n.address.c_str());
    }
    w.Key("alive");
    w.Bool(n.alive);
    w.Key("started_at");
    if (ctx.nodes) {
      w.String(FormatIso8601(n.started_at).c_str());
    } else {
      w.Null();
    }
    w.Key("heartbeat_expires_at");
    if (ctx.nodes) {
      w.String(FormatIso8601(n.expires_at).c_str());
    } else {
      w.Null();
    }
    w.Key("lines");
    w.StartArray();
    for (const auto& line : held[n.id]) w.String(line.c_str());
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  respond(JsonResponse(200, std::string(buf.GetString(), buf.GetSize())));
}

}  // namespace bluegate::api
