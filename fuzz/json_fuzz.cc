// libFuzzer target: any bytes through the one JSON parser (core/json.h), at the default depth
// limit and a small one; what parses is written back out (the tree is walked).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (size_t depth : {bluegate::kMaxJsonDepth, size_t{3}}) {
    rapidjson::Document doc;
    if (!bluegate::ParseJson(input, doc, depth)) continue;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
  }
  return 0;
}
