#include "core/send_request.h"

#include "core/url.h"

namespace bluegate {
namespace {

constexpr std::string_view kSendStyles[] = {
    "celebration", "shooting_star", "fireworks", "lasers", "love", "confetti", "balloons",
    "spotlight",   "echo",          "invisible", "gentle", "loud", "slam"};

}  // namespace

bool IsSendStyle(std::string_view style) {
  for (auto s : kSendStyles) {
    if (s == style) return true;
  }
  return false;
}

Error BoundToAnotherLine(const std::string& contact, const std::string& bound_line) {
  return Error::Invalid("number " + contact + " is bound to line " + bound_line +
                        " (the first message between them bound them): send from " + bound_line +
                        ", or omit from_number");
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

Result<ValidSend> ValidateSend(const SendRequest& req, const PhoneNumbers& phones) {
  if (!req.unsupported.empty()) {
    return Error{ErrorKind::kInvalidArgument,
                 req.unsupported.front() + " is not supported by bluegate yet",
                 ErrorCode::kValidation,
                 {}};
  }
  ValidSend out;
  if (!req.number || req.number->empty()) {
    return Error::Invalid("number is required: the recipient's phone number in E.164 format");
  }
  auto contact = phones.Normalize(*req.number, "number");
  if (!contact.ok()) return contact.error();
  out.contact = std::move(contact).value();

  if (req.from_number && !req.from_number->empty()) {
    auto line = phones.Normalize(*req.from_number, "from_number");
    if (!line.ok()) return line.error();
    out.line = std::move(line).value();
  }

  const bool has_content = req.content && !req.content->empty();
  const bool has_media = req.media_url && !req.media_url->empty();
  if (!has_content && !has_media) {
    return Error::Invalid("content or media_url is required: a message needs text, media or both");
  }
  if (has_content) {
    const size_t chars = Utf8Length(*req.content);
    if (chars > kMaxContentChars) {
      return Error::Invalid("content is too long: " + std::to_string(chars) +
                            " characters, the limit is " + std::to_string(kMaxContentChars));
    }
    out.content = *req.content;
  }
  if (has_media) {
    auto url = ParseHttpUrl(*req.media_url);
    if (!url) return Error::Invalid("media_url must be an http or https URL");
    if (!HasFileExtension(*url)) {
      return Error::Invalid(
          "media_url must end in a file extension (such as .jpg, .png, .mp4 or .caf) so the "
          "recipient's device knows the file type");
    }
    out.media_url = *req.media_url;
  }
  if (req.send_style && !req.send_style->empty()) {
    if (!IsSendStyle(*req.send_style)) {
      return Error::Invalid(
          "send_style \"" + *req.send_style +
          "\" is not one of celebration, shooting_star, fireworks, lasers, love, confetti, "
          "balloons, spotlight, echo, invisible, gentle, loud, slam");
    }
    out.send_style = *req.send_style;
  }
  if (req.status_callback && !req.status_callback->empty()) {
    if (!ParseHttpUrl(*req.status_callback)) {
      return Error::Invalid("status_callback must be an http or https URL");
    }
    out.status_callback = *req.status_callback;
  }
  return out;
}

}  // namespace bluegate
