// Carrier settings of a line, as `--option KEY=VALUE` on `bluegate lines add|set` and as the same
// keys under the line in the config file. Each carrier names its keys here, so that the CLI, the
// config file and the server check them alike and say which keys are valid.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace bluegate::carriers {

using CarrierOptions = std::map<std::string, std::string>;

struct OptionSpec {
  std::string key;
  bool required = false;
  std::string help;  // what it is, with its default
};

// The carriers this build drives: "sim", "smpp", "bluebubbles".
const std::vector<std::string>& CarrierNames();
// The keys `carrier` takes; empty for an unknown carrier.
const std::vector<OptionSpec>& OptionSpecs(std::string_view carrier);

// Checks `options` for `carrier`: an unknown carrier, an unknown key or a missing required key is
// refused with a message that lists what is valid. Values are checked by the carrier's settings
// parser (see ParseSmppSettings, ParseBlueBubblesSettings) through CheckCarrierOptions.
Result<Ok> CheckCarrierOptions(std::string_view carrier, const CarrierOptions& options);

// "KEY=VALUE" as given on the command line.
Result<std::pair<std::string, std::string>> ParseOptionArgument(std::string_view arg);

// The options kept with a line (a JSON object of strings) and back.
std::string OptionsToJson(const CarrierOptions& options);
Result<CarrierOptions> OptionsFromJson(std::string_view json);

// Option values: "true"/"false", whole numbers in a range, durations ("10s", "500ms", or seconds).
Result<bool> BoolOption(const CarrierOptions& o, const std::string& key, bool fallback);
Result<int64_t> IntOption(const CarrierOptions& o, const std::string& key, int64_t fallback,
                          int64_t min, int64_t max);
Result<Millis> DurationOption(const CarrierOptions& o, const std::string& key, Millis fallback);
std::string StringOption(const CarrierOptions& o, const std::string& key,
                         std::string fallback = "");

}  // namespace bluegate::carriers
