// The one JSON parser for input that comes from outside the process (API bodies, carrier pushes
// and replies, stored JSON columns): RapidJSON's iterative reader, so nesting never grows the
// machine stack, and a depth limit, so a hostile document cannot build a tree whose destruction
// or traversal recurses deeply. Every entry point parses through ParseJson; nothing calls
// rapidjson::Document::Parse directly.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace bluegate {

// The deepest nesting accepted (objects and arrays count one level each). Sendblue's documents
// are at most four levels deep; 64 leaves room for carriers' replies.
inline constexpr size_t kMaxJsonDepth = 64;

struct JsonParseResult {
  bool ok = true;
  bool too_deep = false;  // refused for nesting deeper than the limit
  size_t offset = 0;      // where the error was found
  std::string error;      // "Missing a name for object member at offset 12", or the depth limit

  explicit operator bool() const { return ok; }
};

// Parses `text` (UTF-8, validated) into `doc`. On failure `doc` is left null and the result says
// why and where. Trailing data after the value is refused unless `allow_trailing`.
JsonParseResult ParseJson(std::string_view text, rapidjson::Document& doc,
                          size_t max_depth = kMaxJsonDepth, bool allow_trailing = false);

}  // namespace bluegate
