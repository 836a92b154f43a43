#include "api/http_errors.h"

#include <gtest/gtest.h>

namespace bluegate::api {
namespace {

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(HttpErrorsTest, EachKindHasItsStatusAndCode) {
  struct Case {
    Error e;
    int status;
    std::string body;
  };
  const Case cases[] = {
      {Error::Invalid("number is required"), 400,
       R"({"status":"ERROR","message":"number is required","error_message":"number is required","error_code":4000})"},
      {Error{ErrorKind::kBlocked, "blocked", std::nullopt, {}}, 400,
       R"({"status":"ERROR","message":"blocked","error_message":"blocked","error_code":4002})"},
      {Error{ErrorKind::kUnauthenticated, "who?", std::nullopt, {}}, 401,
       R"({"status":"ERROR","message":"who?","error_message":"who?","error_code":null})"},
      {Error::NotFound("no such message"), 404,
       R"({"status":"ERROR","message":"no such message","error_message":"no such message","error_code":null})"},
      {Error{ErrorKind::kThrottled, "full", std::nullopt, std::chrono::milliseconds(1500)}, 429,
       R"({"status":"ERROR","message":"full","error_message":"full","error_code":4001})"},
      {Error::Storage("disk"), 503,
       R"({"status":"ERROR","message":"disk","error_message":"disk","error_code":5003})"},
      {Error::Internal("bug"), 500,
       R"({"status":"ERROR","message":"bug","error_message":"bug","error_code":5000})"},
      {Error{ErrorKind::kNotImplemented, "later", std::nullopt, {}}, 501,
       R"({"status":"ERROR","message":"later","error_message":"later","error_code":null})"},
  };
  for (const auto& c : cases) {
    const HttpResponse r = ErrorResponse(c.e);
    EXPECT_EQ(r.status, c.status) << c.e.message;
    EXPECT_EQ(r.body, c.body);
  }
}

TEST(HttpErrorsTest, ThrottlingAndOverloadSayWhenToRetry) {
  EXPECT_EQ(HeaderOf(ErrorResponse(Error{ErrorKind::kThrottled, "full", std::nullopt,
                                         std::chrono::milliseconds(1500)}),
                     "Retry-After"),
            "2");
  EXPECT_EQ(HeaderOf(ErrorResponse(Error::Storage("disk")), "Retry-After"), "5");
  EXPECT_EQ(HeaderOf(ErrorResponse(Error::Invalid("x")), "Retry-After"), "");
}

}  // namespace
}  // namespace bluegate::api
