#include "core/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace bluegate {
namespace {

// Forwards SAX events to the document and refuses a container opened past the limit: the reader
// then stops (kParseErrorTermination) before the deeper level exists anywhere.
class DepthLimitedHandler {
 public:
  DepthLimitedHandler(rapidjson::Document& doc, size_t max_depth)
      : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return doc_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return Open() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndObject(n);
  }
  bool StartArray() { return Open() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndArray(n);
  }

  bool too_deep() const { return too_deep_; }

 private:
  bool Open() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  rapidjson::Document& doc_;
  size_t max_depth_;
  size_t depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

JsonParseResult ParseJson(std::string_view text, rapidjson::Document& doc, size_t max_depth,
                          bool allow_trailing) {
  JsonParseResult result;
  rapidjson::ParseResult parsed;
  bool too_deep = false;
  // Populate hands the document to this generator as its SAX handler and keeps the value only
  // when the generator succeeds; on failure the document's partial stack is released.
  auto generate = [&](rapidjson::Document& d) {
    DepthLimitedHandler handler(d, max_depth);
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::Reader reader;
    parsed = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                          rapidjson::kParseStopWhenDoneFlag>(ms, handler);
    too_deep = handler.too_deep();
    if (parsed && !allow_trailing) {
      // Only white space may follow the value.
      for (size_t i = ms.Tell(); i < text.size(); ++i) {
        const char c = text[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
          parsed.Set(rapidjson::kParseErrorDocumentRootNotSingular, i);
          break;
        }
      }
    }
    return !parsed.IsError();
  };
  doc.SetNull();
  doc.Populate(generate);
  if (!parsed.IsError()) return result;
  doc.SetNull();
  result.ok = false;
  result.offset = parsed.Offset();
  result.too_deep = too_deep;
  result.error = too_deep ? "nested deeper than " + std::to_string(max_depth) + " levels"
                          : std::string(rapidjson::GetParseError_En(parsed.Code()));
  result.error += " at offset " + std::to_string(result.offset);
  return result;
}

}  // namespace bluegate
