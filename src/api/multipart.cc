#include "api/multipart.h"

#include <algorithm>
#include <cctype>

namespace bluegate::api {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `key` in "type; a=b; key="v"" (quoted or a token), or nullopt.
std::optional<std::string> Param(std::string_view header, std::string_view key) {
  size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    const size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view name = Trim(header.substr(i, eq - i));
    size_t j = eq + 1;
    std::string value;
    if (j < header.size() && header[j] == '"') {
      ++j;
      while (j < header.size() && header[j] != '"') {
        if (header[j] == '\\' && j + 1 < header.size()) ++j;
        value += header[j++];
      }
      if (j >= header.size()) return std::nullopt;  // an unclosed quote
      ++j;
    } else {
      while (j < header.size() && header[j] != ';') value += header[j++];
      value = std::string(Trim(value));
    }
    if (IEquals(name, key)) return value;
    i = header.find(';', j);
  }
  return std::nullopt;
}

bool SafeText(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  if (!IEquals(Trim(content_type.substr(0, semi)), "multipart/form-data")) {
    return Error::Invalid("the body must be multipart/form-data (a form with a file field)");
  }
  auto boundary = Param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70 || !SafeText(*boundary)) {
    return Error::Invalid(
        "the multipart/form-data Content-Type needs a boundary of 1 to 70 "
        "characters");
  }
  return *boundary;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  size_t pos = body.starts_with(delimiter) ? 0 : body.find(next_delimiter);
  if (pos == std::string_view::npos) return Error::Invalid("the body holds no multipart boundary");
  if (pos != 0) pos += 2;  // past the preamble's CRLF
  std::vector<MultipartPart> parts;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return parts;  // the closing delimiter
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n")
      return Error::Invalid("a multipart boundary line is malformed");
    pos += 2;
    if (parts.size() == limits.max_parts) {
      return Error::Invalid("the body has more than " + std::to_string(limits.max_parts) +
                            " parts");
    }
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos || head_end - pos > limits.max_head_bytes) {
      return Error::Invalid("a multipart part's head is malformed or larger than " +
                            std::to_string(limits.max_head_bytes) + " bytes");
    }
    MultipartPart part;
    bool disposed = false;
    for (size_t line = pos; line < head_end;) {
      size_t end = body.find("\r\n", line);
      if (end == std::string_view::npos || end > head_end) end = head_end;
      const std::string_view header = body.substr(line, end - line);
      line = end + 2;
      const size_t colon = header.find(':');
      if (colon == std::string_view::npos || !SafeText(header)) {
        return Error::Invalid("a multipart part's header is malformed");
      }
      const std::string_view name = Trim(header.substr(0, colon));
      const std::string_view value = Trim(header.substr(colon + 1));
      if (IEquals(name, "Content-Disposition")) {
        if (!IEquals(Trim(value.substr(0, value.find(';'))), "form-data")) {
          return Error::Invalid("a multipart part is not form-data");
        }
        auto field = Param(value, "name");
        if (!field) return Error::Invalid("a multipart part has no name");
        part.name = *field;
        part.filename = Param(value, "filename").value_or("");
        disposed = true;
      } else if (IEquals(name, "Content-Type")) {
        part.content_type = std::string(value);
      }
    }
    if (!disposed) return Error::Invalid("a multipart part has no Content-Disposition");
    const size_t data_start = head_end + 4;
    const size_t data_end = body.find(next_delimiter, data_start);
    if (data_end == std::string_view::npos) return Error::Invalid("a multipart part is not closed");
    part.data = body.substr(data_start, data_end - data_start);
    parts.push_back(std::move(part));
    pos = data_end + 2;
  }
}

}  // namespace bluegate::api
