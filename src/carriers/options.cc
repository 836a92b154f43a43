#include "carriers/options.h"

#include <charconv>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "carriers/registry.h"
#include "core/json.h"

namespace bluegate::carriers {
namespace {

const std::vector<OptionSpec> kNone;

const std::vector<OptionSpec> kSmpp = {
    {"host", true, "the SMSC's host name or address"},
    {"port", false, "the SMSC's port (default 2775)"},
    {"system_id", true, "the account's system_id (at most 15 characters)"},
    {"password", true, "the account's password (at most 8 characters)"},
    {"system_type", false, "system_type sent in the bind, when the SMSC asks for one"},
    {"address_range", false, "address_range sent in the bind (MO messages wanted)"},
    {"tls", false, "true: connect over TLS (default false)"},
    {"tls_verify", false, "false: accept any certificate (default true)"},
    {"ca_file", false, "PEM file of the authorities to trust for TLS"},
    {"window", false, "submit_sm sent before their responses come back, 1-1000 (default 10)"},
    {"throughput", false, "segments per second at most on the bind (default 0: no limit)"},
    {"source_ton", false, "type of number of the line's address (default 1, international)"},
    {"source_npi", false, "numbering plan of the line's address (default 1, E.164)"},
    {"dest_ton", false, "type of number of recipients (default 1, international)"},
    {"dest_npi", false, "numbering plan of recipients (default 1, E.164)"},
    {"receipts", false, "false: do not ask for delivery receipts (default true)"},
    {"enquire_link", false, "idle time before an enquire_link, e.g. 30s (default)"},
    {"response_timeout", false, "wait for a response this long, e.g. 10s (default)"},
    {"on_unknown", false, "a submit with no response: resubmit (default) or fail (ERROR 10002)"},
};

const std::vector<OptionSpec> kBlueBubbles = {
    {"url", true, "the BlueBubbles server, e.g. http://192.168.1.20:1234"},
    {"password", true, "the server's password (sent as its API requires, never logged)"},
    {"private_api", false, "true: the server runs the Private API (effects, typing, reactions)"},
    {"webhook_url", false,
     "where the server sends events (default <public_url>/api/v2/carriers/bluebubbles/<line>)"},
    {"poll_interval", false, "how often unfinished messages are checked, e.g. 30s (default)"},
    {"send_timeout", false, "how long a send may take before it is unknown, e.g. 60s (default)"},
};

std::string KeyList(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const auto& s : specs) out += (out.empty() ? "" : ", ") + s.key;
  return out.empty() ? "none" : out;
}

}  // namespace

const std::vector<std::string>& CarrierNames() {
  // The names of registry.cc's table, in its order.
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& kind : CarrierKinds()) names.emplace_back(kind.name);
    return names;
  }();
  return kNames;
}

const std::vector<OptionSpec>& OptionSpecs(std::string_view carrier) {
  if (carrier == "smpp") return kSmpp;
  if (carrier == "bluebubbles") return kBlueBubbles;
  return kNone;
}

Result<Ok> CheckCarrierOptions(std::string_view carrier, const CarrierOptions& options) {
  bool known = false;
  std::string names;
  for (const auto& n : CarrierNames()) {
    known = known || n == carrier;
    names += (names.empty() ? "" : ", ") + n;
  }
  if (!known) {
    return Error::Invalid("carrier \"" + std::string(carrier) + "\" is not available; valid " +
                          "carriers: " + names);
  }
  const auto& specs = OptionSpecs(carrier);
  for (const auto& [key, value] : options) {
    bool found = false;
    for (const auto& s : specs) found = found || s.key == key;
    if (!found) {
      return Error::Invalid("unknown option \"" + key + "\" for carrier " + std::string(carrier) +
                            " (valid options: " + KeyList(specs) + ")");
    }
  }
  std::string missing;
  for (const auto& s : specs) {
    if (s.required && !options.contains(s.key)) missing += (missing.empty() ? "" : ", ") + s.key;
  }
  if (!missing.empty()) {
    std::string required;
    for (const auto& s : specs) {
      if (s.required) required += (required.empty() ? "" : ", ") + s.key;
    }
    return Error::Invalid("carrier " + std::string(carrier) + " needs option(s) " + missing +
                          " (required: " + required + "; valid options: " + KeyList(specs) + ")");
  }
  return Ok{};
}

Result<std::pair<std::string, std::string>> ParseOptionArgument(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Error::Invalid("--option \"" + std::string(arg) + "\" must be KEY=VALUE");
  }
  return std::pair{std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

std::string OptionsToJson(const CarrierOptions& options) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : options) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<CarrierOptions> OptionsFromJson(std::string_view json) {
  CarrierOptions out;
  if (json.empty()) return out;
  rapidjson::Document d;
  if (!ParseJson(json, d) || !d.IsObject()) {
    return Error::Invalid("the line's stored carrier options are not a JSON object");
  }
  for (const auto& m : d.GetObject()) {
    if (m.value.IsString()) {
      out[m.name.GetString()] = m.value.GetString();
    } else if (m.value.IsBool()) {
      out[m.name.GetString()] = m.value.GetBool() ? "true" : "false";
    } else if (m.value.IsInt64()) {
      out[m.name.GetString()] = std::to_string(m.value.GetInt64());
    }
  }
  return out;
}

Result<bool> BoolOption(const CarrierOptions& o, const std::string& key, bool fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (it->second == "true" || it->second == "1" || it->second == "yes") return true;
  if (it->second == "false" || it->second == "0" || it->second == "no") return false;
  return Error::Invalid("option " + key + " must be true or false, not \"" + it->second + "\"");
}

Result<int64_t> IntOption(const CarrierOptions& o, const std::string& key, int64_t fallback,
                          int64_t min, int64_t max) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    return Error::Invalid("option " + key + " must be a whole number from " + std::to_string(min) +
                          " to " + std::to_string(max) + ", not \"" + s + "\"");
  }
  return v;
}

Result<Millis> DurationOption(const CarrierOptions& o, const std::string& key, Millis fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  int64_t seconds = 0;
  const std::string& s = it->second;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
      ec == std::errc() && p == s.data() + s.size() && seconds > 0) {
    return Millis(seconds * 1000);
  }
  if (auto d = ParseDuration(s); d && d->count() > 0) return *d;
  return Error::Invalid("option " + key +
                        " must be a duration such as \"10s\" or \"500ms\", not \"" + s + "\"");
}

std::string StringOption(const CarrierOptions& o, const std::string& key, std::string fallback) {
  auto it = o.find(key);
  return it == o.end() ? std::move(fallback) : it->second;
}

}  // namespace bluegate::carriers
