#include "core/keywords.h"

#include <cctype>
#include <string>

namespace bluegate {

std::optional<bool> OptOutKeyword(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.size() > 16) return std::nullopt;
  std::string upper;
  for (char c : text)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  for (std::string_view k : {"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}) {
    if (upper == k) return true;
  }
  for (std::string_view k : {"START", "UNSTOP"}) {
    if (upper == k) return false;
  }
  return std::nullopt;
}

}  // namespace bluegate
