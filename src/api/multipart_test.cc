#include "api/multipart.h"

#include <gtest/gtest.h>

namespace bluegate::api {
namespace {

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n"
    "\r\n"
    "hello\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"photo \\\"1\\\".png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\r\n--Xy not a boundary\r\n"
    "--XyZ--\r\n";

TEST(MultipartTest, ThePartsOfAFormComeBackWithTheirNamesAndBytes) {
  auto parts = ParseMultipart(kBody, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "note");
  EXPECT_EQ((*parts)[0].data, "hello");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "photo \"1\".png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, "\x89PNG\r\n--Xy not a boundary") << "bytes as sent, CRLFs and all";
}

TEST(MultipartTest, TheBoundaryComesFromTheContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=XyZ").value(), "XyZ");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b\"").value(),
            "a b");
  EXPECT_FALSE(MultipartBoundary("application/json").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=\"open").ok());
}

TEST(MultipartTest, MalformedBodiesAreRefusedSayingWhy) {
  auto why = [](const std::string& body) {
    auto r = ParseMultipart(body, "B");
    return r.ok() ? std::string("parsed") : r.error().message;
  };
  EXPECT_NE(why("no boundary at all").find("no multipart boundary"), std::string::npos);
  EXPECT_NE(why("--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nnever closed")
                .find("not closed"),
            std::string::npos);
  EXPECT_NE(why("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--").find("no Content-Disposition"),
            std::string::npos);
  EXPECT_NE(why("--B\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--B--")
                .find("not form-data"),
            std::string::npos);
  EXPECT_NE(why("--B\r\n" + std::string(9000, 'h') + "\r\n\r\nx\r\n--B--").find("head"),
            std::string::npos);
  std::string many;
  for (int i = 0; i < 17; ++i) many += "--B\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n";
  many += "--B--";
  EXPECT_NE(why(many).find("more than 16 parts"), std::string::npos);
  EXPECT_EQ(why("--B--"), "parsed") << "an empty form";
}

}  // namespace
}  // namespace bluegate::api
