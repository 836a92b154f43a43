// The message object of SPEC.md §2 as JSON: every key always present. One renderer serves the API
// responses and every webhook, so they cannot drift apart.
#pragma once

#include <string>

#include "core/message.h"

namespace bluegate {

std::string RenderMessageJson(const Message& m);

}  // namespace bluegate
