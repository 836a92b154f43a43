// The console (issue #17): its pages and files under /console/, sign-in and sign-out, and the
// session cookie that stands for an API key on the API's own routes (Api::AdoptSession).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/console_assets.h"
#include "api/http_errors.h"
#include "api/request_decoding.h"

namespace bluegate::api {
namespace {

constexpr std::string_view kCookie = "bluegate_session";

// Every console answer: no script but the console's own, no framing, no sniffing.
void Harden(HttpResponse& r) {
  r.headers.emplace_back("content-security-policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "img-src 'self' data: blob: https: http:; media-src 'self' https: http:; "
                         "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                         "base-uri 'none'");
  r.headers.emplace_back("x-frame-options", "DENY");
  r.headers.emplace_back("x-content-type-options", "nosniff");
  r.headers.emplace_back("referrer-policy", "same-origin");
  r.headers.emplace_back("cache-control", "no-store");
}

HttpResponse Redirect(std::string location) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "See " + location + "\n";
  r.headers.emplace_back("location", std::move(location));
  Harden(r);
  return r;
}

std::string SessionCookie(const std::string& value, int64_t max_age_s, bool secure) {
  return std::string(kCookie) + "=" + value +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s) +
         (secure ? "; Secure" : "");
}

// A sign-in form posted from another site is refused: its Origin (when the browser sends one)
// must be this server's.
bool SameOrigin(const HttpRequest& req) {
  auto origin = req.Header("origin");
  if (!origin || *origin == "null") return !origin.has_value();
  auto host = req.Header("host");
  if (!host) return false;
  return *origin == std::string(req.tls ? "https://" : "http://") + std::string(*host);
}

HttpResponse Forbidden(std::string message) {
  HttpResponse r = ErrorResponse(Error::Invalid(std::move(message)));
  r.status = 403;
  return r;
}

}  // namespace

std::optional<HttpResponse> Api::AdoptSession(HttpRequest& req) {
  if (req.Header("sb-api-key-id")) return std::nullopt;  // keys win over a cookie
  auto cookies = req.Header("cookie");
  if (!cookies) return std::nullopt;
  const std::string id = CookieValue(*cookies, kCookie);
  if (id.empty()) return std::nullopt;
  auto session = sessions_.Find(id);
  if (!session) {
    return ErrorResponse(Error{ErrorKind::kUnauthenticated,
                               "The console session has ended; sign in again",
                               std::nullopt,
                               {}});
  }
  const bool reads = req.method == "GET" || req.method == "HEAD";
  if (!reads && !ConsoleSessions::CsrfMatches(*session, req.Header("x-csrf-token").value_or(""))) {
    return Forbidden(
        "x-csrf-token: missing or wrong; a console change must carry the session's token");
  }
  if (session->operator_view) {
    return Forbidden(
        "An operator's console session has no account; the API needs an account's key");
  }
  req.headers.emplace_back("sb-api-key-id", session->key_id);
  req.headers.emplace_back("sb-api-secret-key", session->secret);
  return std::nullopt;
}

bool Api::HandleConsole(HttpRequest& req, Responder& respond) {
  const std::string& path = req.path;
  const std::string& method = req.method;
  if (path != "/" && path != "/console" && !path.starts_with("/console/")) return false;
  auto answer = [&respond](HttpResponse r, const char* route) {
    r.route = route;
    respond(std::move(r));
  };
  if (!ctx_.console_enabled) {
    answer(ErrorResponse(Error::NotFound("No route for " + method + " " + path +
                                         " (the console is off: [console] enabled)")),
           "/console");
    return true;
  }
  if (method == "GET" && (path == "/" || path == "/console")) {
    answer(Redirect("/console/"), "/console");
    return true;
  }
  if (method == "POST" && path == "/console/login") {
    answer(Login(req), "/console/login");
    return true;
  }
  if (path == "/console/session") {
    answer(SessionInfo(req), "/console/session");
    return true;
  }
  if (path.starts_with("/console/operator/")) {
    const std::string id = CookieValue(req.Header("cookie").value_or(""), kCookie);
    auto session = id.empty() ? std::nullopt : sessions_.Find(id);
    HttpResponse r;
    if (!session || !session->operator_view) {
      r = ErrorResponse(Error{ErrorKind::kUnauthenticated,
                              "Sign in to the console with the operator token first",
                              std::nullopt,
                              {}});
    } else if (method != "GET" &&
               !ConsoleSessions::CsrfMatches(*session, req.Header("x-csrf-token").value_or(""))) {
      r = Forbidden(
          "x-csrf-token: missing or wrong; a console change must carry the session's token");
    } else {
      r = HandleOperator(req, *session);
    }
    Harden(r);
    answer(std::move(r), "/console/operator");
    return true;
  }
  if (method == "POST" && path == "/console/logout") {
    HttpResponse r = JsonResponse(200, R"({"status":"OK"})");
    const std::string id = CookieValue(req.Header("cookie").value_or(""), kCookie);
    auto session = id.empty() ? std::nullopt : sessions_.Find(id);
    if (session &&
        !ConsoleSessions::CsrfMatches(*session, req.Header("x-csrf-token").value_or(""))) {
      r = Forbidden("x-csrf-token: missing or wrong; signing out needs the session's token");
    } else {
      if (session) sessions_.Close(id);
      r.headers.emplace_back("set-cookie", SessionCookie("", 0, req.tls));
    }
    Harden(r);
    answer(std::move(r), "/console/logout");
    return true;
  }
  if (method != "GET" && method != "HEAD") {
    answer(ErrorResponse(Error::NotFound("No route for " + method + " " + path)), "/console");
    return true;
  }
  // Every page of the single-page console is its index; files are served by name.
  const ConsoleAsset* asset = FindConsoleAsset(path);
  if (!asset && path.find('.') == std::string::npos) asset = FindConsoleAsset("/console/");
  if (!asset) {
    answer(ErrorResponse(Error::NotFound("No console file " + path)), "/console/{file}");
    return true;
  }
  HttpResponse r;
  r.content_type = std::string(asset->content_type);
  r.body = std::string(asset->body);
  Harden(r);
  answer(std::move(r), "/console/{file}");
  return true;
}

HttpResponse Api::Login(const HttpRequest& req) {
  if (!SameOrigin(req)) {
    HttpResponse r = Forbidden("Sign-in refused: the form was posted from another site");
    Harden(r);
    return r;
  }
  auto form = ParseQuery(req.body);
  if (form.contains("operator_token")) {
    const std::string& given = form["operator_token"];
    const std::string& want = ctx_.console_operator_token;
    if (throttle_.Blocked(req.remote_address, "operator")) {
      return Redirect("/console/?error=throttled");
    }
    if (want.empty() || given.size() != want.size() ||
        CRYPTO_memcmp(given.data(), want.data(), want.size()) != 0) {
      throttle_.Failed(req.remote_address, "operator");
      return Redirect(want.empty() ? "/console/?error=no_operator" : "/console/?error=operator");
    }
    const ConsoleSession s = sessions_.Open("", "", /*operator_view=*/true);
    HttpResponse r = Redirect("/console/");
    const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(ctx_.console.max_age);
    r.headers.emplace_back("set-cookie", SessionCookie(s.id, max_age.count(), req.tls));
    return r;
  }
  const std::string key_id = form["key_id"];
  const std::string secret = form["secret"];
  if (key_id.empty() || secret.empty()) return Redirect("/console/?error=missing");
  if (throttle_.Blocked(req.remote_address, key_id)) return Redirect("/console/?error=throttled");
  HttpRequest probe;
  probe.headers = {{"sb-api-key-id", key_id}, {"sb-api-secret-key", secret}};
  auto principal = auth_.Authenticate(probe);
  if (!principal.ok()) {
    throttle_.Failed(req.remote_address, key_id);
    return Redirect("/console/?error=credentials");
  }
  if (!principal->refused.empty()) return Redirect("/console/?error=refused");
  const ConsoleSession s = sessions_.Open(key_id, secret);
  HttpResponse r = Redirect("/console/");
  const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(ctx_.console.max_age);
  r.headers.emplace_back("set-cookie", SessionCookie(s.id, max_age.count(), req.tls));
  return r;
}

HttpResponse Api::SessionInfo(HttpRequest& req) {
  HttpResponse r;
  const std::string id = CookieValue(req.Header("cookie").value_or(""), kCookie);
  auto session = id.empty() ? std::nullopt : sessions_.Find(id);
  if (session && session->operator_view) {
    r = JsonResponse(200, R"({"status":"OK","signed_in":true,"operator":true,"csrf_token":")" +
                              session->csrf + "\"}");
    Harden(r);
    return r;
  }
  HttpRequest probe;
  if (session) {
    probe.headers = {{"sb-api-key-id", session->key_id}, {"sb-api-secret-key", session->secret}};
  }
  auto principal = session ? auth_.Authenticate(probe) : Result<Principal>(Error{});
  if (!session || !principal.ok() || !principal->refused.empty()) {
    if (session) sessions_.Close(id);
    // 200 either way: the page asks this to learn whether to show the sign-in form.
    r = JsonResponse(200, R"({"status":"OK","signed_in":false})");
  } else {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto field = [&w](const char* k, const std::string& v) {
      w.Key(k);
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    field("status", "OK");
    w.Key("signed_in");
    w.Bool(true);
    field("email", principal->account.email);
    field("plan", principal->account.plan);
    field("key_id", session->key_id);
    field("csrf_token", session->csrf);
    w.EndObject();
    r = JsonResponse(200, std::string(buf.GetString(), buf.GetSize()));
  }
  Harden(r);
  return r;
}

}  // namespace bluegate::api
