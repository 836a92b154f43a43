// The console's files (console/ in the source tree), built into the binary by CMake
// (cmake/embed_console.cmake), so that the console needs nothing beside the binary and nothing
// from the internet.
#pragma once

#include <string_view>

namespace bluegate::api {

struct ConsoleAsset {
  std::string_view path;  // "/console/app.js"
  std::string_view content_type;
  std::string_view body;
};

// The asset at `path`, or nullptr.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

}  // namespace bluegate::api
