#include "npm/publish_body.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <boost/json/serialize.hpp>

#include "core/base64.h"

namespace pipy::npm {
namespace {

// A reader over `text` handing out at most `chunk` bytes at a time.
ChunkReader ReaderOf(const std::string& text, std::size_t chunk) {
  auto at = std::make_shared<std::size_t>(0);
  return [&text, chunk, at](char* buf, std::size_t n) -> Result<std::size_t> {
    std::size_t take = std::min({n, chunk, text.size() - *at});
    std::copy_n(text.data() + *at, take, buf);
    *at += take;
    return take;
  };
}

std::string Body(const std::string& tarball, const std::string& extra = "") {
  return R"({"_id":"@acme/log","name":"@acme/log","dist-tags":{"latest":"1.0.0"},)"
         R"("versions":{"1.0.0":{"name":"@acme/log","version":"1.0.0","data":"kept"}},)"
         R"("_attachments":{"@acme/log-1.0.0.tgz":{"content_type":"application/octet-stream",)"
         R"("data":")" +
         Base64Encode(tarball) + R"(","length":)" + std::to_string(tarball.size()) + "}" +
         extra + "}}";
}

struct Parsed {
  Result<PublishBody> body;
  std::string sunk;
};

Parsed Parse(const std::string& text, std::size_t chunk = 65536, BodyLimits limits = {}) {
  Parsed out{InvalidArgument("unset"), ""};
  out.body = ParsePublishBody(
      ReaderOf(text, chunk),
      [&out](std::string_view bytes) {
        out.sunk.append(bytes);
        return Status::Ok();
      },
      limits);
  return out;
}

TEST(PublishBodyTest, TheTarballStreamsToTheSinkAndTheRestIsTheDocument) {
  std::string tarball(100'000, '\0');
  for (std::size_t i = 0; i < tarball.size(); ++i) {
    tarball[i] = static_cast<char>(i * 7 + i / 300);
  }
  const std::string text = Body(tarball);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{65536}}) {
    Parsed p = Parse(text, chunk);
    ASSERT_TRUE(p.body) << chunk << ": " << p.body.error().ToString();
    EXPECT_EQ(p.sunk, tarball) << chunk;
    EXPECT_EQ(p.body->attachment_bytes, tarball.size());
    ASSERT_EQ(p.body->attachments, std::vector<std::string>{"@acme/log-1.0.0.tgz"});
    const auto& doc = p.body->document;
    EXPECT_EQ(doc.at("name").as_string(), "@acme/log");
    // Only _attachments.<name>.data is diverted: a "data" key elsewhere stays.
    EXPECT_EQ(doc.at("versions").at("1.0.0").at("data").as_string(), "kept");
    const auto& attachment = doc.at("_attachments").at("@acme/log-1.0.0.tgz").as_object();
    EXPECT_FALSE(attachment.contains("data"));
    EXPECT_EQ(attachment.at("length").as_int64(), 100'000);
  }
}

TEST(PublishBodyTest, ABodyWithoutAttachmentIsADocument) {
  Parsed p = Parse(R"({"name":"x","versions":{"1.0.0":{"deprecated":"old"}}})", 5);
  ASSERT_TRUE(p.body) << p.body.error().ToString();
  EXPECT_TRUE(p.body->attachments.empty());
  EXPECT_TRUE(p.sunk.empty());
  EXPECT_EQ(p.body->document.at("versions").at("1.0.0").at("deprecated").as_string(), "old");
}

void ExpectRefused(const std::string& text, StatusCode code, std::string_view needle,
                   BodyLimits limits = {}) {
  for (std::size_t chunk : {std::size_t{2}, std::size_t{65536}}) {
    Parsed p = Parse(text, chunk, limits);
    ASSERT_FALSE(p.body) << text.substr(0, 80);
    EXPECT_EQ(p.body.error().code(), code) << p.body.error().ToString();
    EXPECT_NE(p.body.error().message().find(needle), std::string::npos)
        << p.body.error().message();
  }
}

TEST(PublishBodyTest, MalformedBodiesAreRefused) {
  ExpectRefused("{\"name\":", StatusCode::kInvalidArgument, "not valid JSON");
  ExpectRefused("{\"name\":\"x\"} trailing", StatusCode::kInvalidArgument, "not valid JSON");
  ExpectRefused("[1,2]", StatusCode::kInvalidArgument, "must be a JSON object");
  ExpectRefused("\"text\"", StatusCode::kInvalidArgument, "must be a JSON object");
  ExpectRefused("", StatusCode::kInvalidArgument, "not valid JSON");
  EXPECT_TRUE(Parse("{\"name\":\"x\"}  \n").body) << "trailing whitespace is fine";
}

// Found by the npm_publish_body fuzzer: Boost.JSON reads 0e390 as NaN (and 1e400 as
// infinity), which would be stored in the manifest and served back as "NaN", breaking
// the packument for every client. Refused however the body arrives.
TEST(PublishBodyTest, NumbersOutOfADoublesRangeAreRefused) {
  for (const char* body : {"{\"_Adittme\":0e-9,\":*27ridtme\":0e-9,\":*2e%e*\":0e390}",
                           "{\"name\":\"x\",\"n\":1e400}", "{\"a\":[-1e999]}"}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{65536}}) {
      Parsed p = Parse(body, chunk);
      ASSERT_FALSE(p.body) << body << " in chunks of " << chunk;
      EXPECT_EQ(p.body.error().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(p.body.error().message().find("out of a double's range"), std::string::npos)
          << p.body.error().message();
    }
  }
  EXPECT_TRUE(Parse("{\"name\":\"x\",\"n\":1.5e300,\"z\":0e-9}").body);
}

TEST(PublishBodyTest, OneAttachmentOfValidBase64) {
  ExpectRefused(Body("abc", R"(,"second.tgz":{"data":"YWJj"})"), StatusCode::kInvalidArgument,
                "exactly one attachment");
  ExpectRefused(Body("abc", R"(,"second.tgz":{"length":3})"), StatusCode::kInvalidArgument,
                "exactly one attachment");
  ExpectRefused(R"({"_attachments":{"a.tgz":{"data":"YW=j"}}})", StatusCode::kInvalidArgument,
                "not valid base64");
  ExpectRefused(R"({"_attachments":{"a.tgz":{"data":"YWJ"}}})", StatusCode::kInvalidArgument,
                "not valid base64");
  ExpectRefused(R"({"_attachments":{"a.tgz":{"data":12}}})", StatusCode::kInvalidArgument,
                "must be a base64 string");
}

TEST(PublishBodyTest, LimitsHoldWhileStreaming) {
  BodyLimits limits;
  limits.max_attachment_bytes = 1000;
  Parsed fits = Parse(Body(std::string(1000, 'x')), 100, limits);
  EXPECT_TRUE(fits.body) << fits.body.error().ToString();
  ExpectRefused(Body(std::string(1001, 'x')), StatusCode::kTooLarge, "larger than the limit",
                limits);
  BodyLimits small_doc;
  small_doc.max_document_bytes = 100;
  ExpectRefused("{\"readme\":\"" + std::string(200, 'r') + "\"}", StatusCode::kTooLarge,
                "publish document", small_doc);
  // The tarball does not count against the document's limit.
  BodyLimits doc_1k;
  doc_1k.max_document_bytes = 1000;
  Parsed big_tarball = Parse(Body(std::string(5000, 'x')), 100, doc_1k);
  EXPECT_TRUE(big_tarball.body) << big_tarball.body.error().ToString();
  EXPECT_EQ(big_tarball.sunk.size(), 5000u);
}

TEST(PublishBodyTest, EveryValueCountsAgainstTheDocumentLimit) {
  // A million zeros are a million JSON nodes in memory, though they are two bytes each.
  BodyLimits limits;
  limits.max_document_bytes = 64 * 1024;
  std::string zeros = "{\"x\":[";
  for (int i = 0; i < 10'000; ++i) {
    zeros += i == 0 ? "0" : ",0";
  }
  zeros += "]}";
  ExpectRefused(zeros, StatusCode::kTooLarge, "publish document", limits);
  std::string nulls = "{\"x\":[null";
  for (int i = 0; i < 10'000; ++i) {
    nulls += ",true,null,\"\"";
  }
  nulls += "]}";
  ExpectRefused(nulls, StatusCode::kTooLarge, "publish document", limits);
}

TEST(PublishBodyTest, RepeatedKeysAndMisplacedDataAreRefused) {
  // Two _attachments would let the parser and a later reader see different documents.
  const std::string twice =
      R"({"_attachments":{"a.tgz":{"data":"YWJj"}},"_attachments":{}})";
  ExpectRefused(twice, StatusCode::kInvalidArgument, "repeats the key '_attachments'");
  ExpectRefused(R"({"name":"a","name":"b"})", StatusCode::kInvalidArgument, "repeats the key");
  ExpectRefused(R"({"_attachments":{"a.tgz":{"data":{}}}})", StatusCode::kInvalidArgument,
                "must be a base64 string");
  ExpectRefused(R"({"_attachments":{"a.tgz":{"data":["YWJj"]}}})",
                StatusCode::kInvalidArgument, "must be a base64 string");
  // "data" in an _attachments array is not an attachment: kept as a string, nothing sunk.
  Parsed in_array = Parse(R"({"_attachments":[{"data":"YWJj"}]})");
  ASSERT_TRUE(in_array.body) << in_array.body.error().ToString();
  EXPECT_TRUE(in_array.sunk.empty());
  EXPECT_TRUE(in_array.body->attachments.empty());
  EXPECT_EQ(in_array.body->document.at("_attachments").at(0).at("data").as_string(), "YWJj");
}

TEST(PublishBodyTest, SinkErrorsStopTheParse) {
  const std::string text = Body("tarball bytes");
  auto body = ParsePublishBody(ReaderOf(text, 4), [](std::string_view) {
    return InsufficientStorage("disk full");
  });
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), StatusCode::kInsufficientStorage);
}

}  // namespace
}  // namespace pipy::npm
