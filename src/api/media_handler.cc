// POST /api/upload-media-object (a file fetched once from the app's URL), POST /api/upload-file
// (a file sent in a multipart/form-data body) and GET /media/{file}: files kept under
// <data_dir>/media and served back at the URL the upload returns.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/api.h"
#include "api/http_errors.h"
#include "api/multipart.h"
#include "api/request_decoding.h"
#include "core/url.h"

namespace bluegate::api {
namespace {

// The file extension of the URL's path, lowercased: letters and digits only, 1 to 8 of them.
std::optional<std::string> ExtensionOf(const HttpUrl& url) {
  std::string path = url.target.substr(0, url.target.find_first_of("?#"));
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return std::nullopt;
  std::string ext = path.substr(dot + 1);
  if (ext.empty() || ext.size() > 8) return std::nullopt;
  for (char& c : ext) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return ext;
}

std::string ContentTypeFor(std::string_view ext) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},     {"png", "image/png"},
      {"gif", "image/gif"},  {"heic", "image/heic"},     {"webp", "image/webp"},
      {"mp4", "video/mp4"},  {"mov", "video/quicktime"}, {"caf", "audio/x-caf"},
      {"m4a", "audio/mp4"},  {"mp3", "audio/mpeg"},      {"pdf", "application/pdf"},
      {"vcf", "text/vcard"}, {"txt", "text/plain"}};
  for (const auto& [e, t] : kTypes) {
    if (e == ext) return std::string(t);
  }
  return "application/octet-stream";
}

HttpResponse InvalidMediaUrl(const std::string& why) {
  return ErrorResponse(Error::Invalid("Invalid media URL: " + why));
}

HttpResponse AccountMediaFull(const MediaQuota& quota) {
  return ErrorResponse(Error{ErrorKind::kTooLarge,
                             "This account's uploaded media already take " +
                                 std::to_string(quota.max()) +
                                 " bytes (media.max_account_bytes); no more can be stored",
                             ErrorCode::kValidation,
                             {}});
}

// An upload's answer: where the file is served, and (upload-file) how large it is.
HttpResponse Uploaded(int status, const std::string& id, const std::string& url,
                      std::optional<uint64_t> bytes) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String("OK");
  w.Key("message");
  w.String("File uploaded successfully");
  w.Key("mediaObjectId");
  w.String(id.c_str());
  w.Key("media_url");
  w.String(url.c_str());
  if (bytes) {
    w.Key("bytes");
    w.Uint64(*bytes);
  }
  w.EndObject();
  return JsonResponse(status, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace

void HandleUploadMedia(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                       Responder respond) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return respond(ErrorResponse(body.error()));
  auto it = body->FindMember("media_url");
  if (it == body->MemberEnd() || !it->value.IsString()) {
    return respond(InvalidMediaUrl("media_url is required: the http(s) URL of the file"));
  }
  const std::string text(it->value.GetString(), it->value.GetStringLength());
  auto url = ParseHttpUrl(text);
  if (!url) return respond(InvalidMediaUrl("\"" + text + "\" is not an http or https URL"));
  auto ext = ExtensionOf(*url);
  if (!ext) {
    return respond(InvalidMediaUrl("its path must end in a file extension, such as .jpg or .caf"));
  }
  if (!ctx.media.fetch) {
    return respond(ErrorResponse(
        Error{ErrorKind::kNotImplemented, "media uploads are not configured", std::nullopt, {}}));
  }
  MediaQuota& quota = *ctx.media.quota;
  auto slot = quota.Claim(principal.account.id, ctx.media.dir, ctx.media.max_bytes);
  if (!slot) return respond(AccountMediaFull(quota));
  const std::string id = ctx.ids.NewUuid();
  const std::string file = id + "." + *ext;
  const std::string path = slot->folder() + "/" + file;
  const std::string public_url = ctx.media.public_url() + "/media/" + file;
  const uint64_t allowed = slot->allowed();
  ctx.media.fetch(*url, allowed, path,
                  [respond, id, public_url, file,
                   slot = std::make_shared<MediaQuota::Slot>(std::move(*slot))](MediaFetchResult r) {
                    if (!r.error.empty()) return respond(InvalidMediaUrl(r.error));
                    slot->Keep(file, r.bytes);
                    respond(Uploaded(201, id, public_url, std::nullopt));
                  });
}

void HandleUploadFile(ApiContext& ctx, const Principal& principal, const HttpRequest& req,
                      Responder respond) {
  auto boundary = MultipartBoundary(req.Header("content-type").value_or(""));
  if (!boundary.ok()) return respond(ErrorResponse(boundary.error()));
  auto parts = ParseMultipart(req.body, boundary.value());
  if (!parts.ok()) return respond(ErrorResponse(parts.error()));
  const MultipartPart* file = nullptr;
  for (const auto& p : parts.value()) {
    if (p.name == "file") file = &p;
  }
  if (!file) return respond(ErrorResponse(Error::Invalid("file is required: the form field")));
  if (file->data.size() > ctx.media.max_bytes) {
    return respond(
        ErrorResponse(Error{ErrorKind::kTooLarge,
                            "file is larger than " + std::to_string(ctx.media.max_bytes) + " bytes",
                            ErrorCode::kValidation,
                            {}}));
  }
  // The extension comes from the file's name (or none); the name itself is not kept.
  HttpUrl named;
  named.target = "/" + file->filename;
  const std::string ext = ExtensionOf(named).value_or("bin");
  MediaQuota& quota = *ctx.media.quota;
  const uint64_t size = file->data.size();
  auto slot = quota.Claim(principal.account.id, ctx.media.dir, size, size);
  if (!slot) return respond(AccountMediaFull(quota));
  const std::string id = ctx.ids.NewUuid();
  const std::string name = id + "." + ext;
  const std::string path = slot->folder() + "/" + name;
  {
    std::ofstream out(path, std::ios::binary);
    out.write(file->data.data(), static_cast<std::streamsize>(size));
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
      return respond(ErrorResponse(Error::Storage("the file could not be stored")));
    }
  }
  slot->Keep(name, size);
  const std::string public_url = ctx.media.public_url() + "/media/" + name;
  respond(Uploaded(200, id, public_url, file->data.size()));
}

HttpResponse ServeMedia(ApiContext& ctx, std::string_view file) {
  // Only the names uploads create: a UUID, a dot, an extension.
  const bool safe =
      !file.empty() && file.size() <= 64 &&
      std::all_of(file.begin(), file.end(),
                  [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
                  }) &&
      file.find("..") == std::string_view::npos;
  if (!safe) return ErrorResponse(Error::NotFound("no media " + std::string(file)));
  const auto path = ctx.media.quota->Locate(std::string(file));
  std::error_code ec;
  if (!path || !std::filesystem::is_regular_file(*path, ec)) {
    return ErrorResponse(Error::NotFound("no media " + std::string(file)));
  }
  // Streamed from disk by the server, a piece at a time (never read whole into memory).
  HttpResponse r;
  r.status = 200;
  r.file_path = *path;
  const size_t dot = file.rfind('.');
  r.content_type = ContentTypeFor(dot == std::string_view::npos ? "" : file.substr(dot + 1));
  return r;
}

}  // namespace bluegate::api
