// multipart/form-data bodies (RFC 7578), as POST /api/upload-file receives them. Pure and
// iterative: one pass over the body, bounded parts and part heads; fuzzed (fuzz/multipart_fuzz.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bluegate::api {

struct MultipartPart {
  std::string name;          // Content-Disposition's name
  std::string filename;      // its filename, when given
  std::string content_type;  // the part's Content-Type, when given
  std::string_view data;     // into the body
};

struct MultipartLimits {
  size_t max_parts = 16;
  size_t max_head_bytes = 8 * 1024;  // one part's header lines
};

// The boundary a `multipart/form-data; boundary=...` Content-Type names (1 to 70 characters, as
// RFC 2046 allows), or kInvalidArgument saying what is wrong.
Result<std::string> MultipartBoundary(std::string_view content_type);

// The parts of `body`, in order, or kInvalidArgument saying what is wrong (no first boundary, a
// part head too large or malformed, a part not closed, too many parts).
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits = {});

}  // namespace bluegate::api
