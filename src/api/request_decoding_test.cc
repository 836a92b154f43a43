#include "api/request_decoding.h"

#include <gtest/gtest.h>

namespace bluegate::api {
namespace {

HttpRequest Req(std::string body, std::string content_type = "application/json") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/send-message";
  r.headers.emplace_back("content-type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

TEST(RequestDecodingTest, JsonFieldsAndTheLegacyCamelCaseCallback) {
  auto r = DecodeSendRequest(
      Req(R"({"number":"+1","from_number":"+2","content":"c","statusCallback":"http://x/y"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->number, "+1");
  EXPECT_EQ(r->status_callback, "http://x/y");
  auto both =
      DecodeSendRequest(Req(R"({"status_callback":"http://a/","statusCallback":"http://b/"})"));
  EXPECT_EQ(both->status_callback, "http://a/") << "the documented name wins";
}

TEST(RequestDecodingTest, WrongTypesNameTheField) {
  auto r = DecodeSendRequest(Req(R"({"content":5})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "content must be a string");
  auto n = DecodeSendRequest(Req(R"({"content":null,"number":"+1"})"));
  ASSERT_TRUE(n.ok()) << "null is absent";
  EXPECT_FALSE(n->content);
}

TEST(RequestDecodingTest, MalformedJsonSaysWhere) {
  auto r = DecodeSendRequest(Req(R"({"number":)"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Malformed JSON body"), std::string::npos);
  EXPECT_NE(r.error().message.find("offset 10"), std::string::npos);
  EXPECT_FALSE(DecodeSendRequest(Req("\"\xff\"")).ok()) << "invalid UTF-8 is refused";
}

TEST(RequestDecodingTest, FormBodiesDecodePlusesInNumbersAsPlus) {
  auto r = DecodeSendRequest(Req("number=+14155550100&from_number=%2B12125550199&content=a+b%21",
                                 "application/x-www-form-urlencoded"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->number, "+14155550100");
  EXPECT_EQ(r->from_number, "+12125550199");
  EXPECT_EQ(r->content, "a b!");
}

TEST(RequestDecodingTest, CurlsDefaultFormLabelOnJsonIsForgiven) {
  auto r = DecodeSendRequest(Req(R"({"number":"+1"})", "application/x-www-form-urlencoded"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->number, "+1");
}

TEST(RequestDecodingTest, UnsupportedSendblueFieldsAreNoted) {
  auto r = DecodeSendRequest(Req(R"({"reply_to":{"message_handle":"x"}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unsupported, std::vector<std::string>{"reply_to"});
}

TEST(RequestDecodingTest, QueryPhonesAcceptBothEncodingsOfPlus) {
  auto q = ParseQuery("number=%2B14155550100&other=+14155550100&handle=a%20b");
  EXPECT_EQ(q["number"], "+14155550100");
  EXPECT_EQ(NormalizeQueryPhone(q["other"]), "+14155550100");
  EXPECT_EQ(q["handle"], "a b");
}

}  // namespace
}  // namespace bluegate::api
