// Opt-out keywords of SPEC.md §6.
#pragma once

#include <optional>
#include <string_view>

namespace bluegate {

// true: the text opts the sender out (STOP, UNSUBSCRIBE, CANCEL, END, QUIT); false: back in
// (START, UNSTOP); nullopt: neither. Case and surrounding white space are ignored; the keyword
// must be the whole message.
std::optional<bool> OptOutKeyword(std::string_view text);

}  // namespace bluegate
