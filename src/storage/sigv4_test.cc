#include "storage/sigv4.h"

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace pipy::storage::sigv4 {
namespace {

// The aws-sig-v4-test-suite's signer (docs.aws.amazon.com/general/latest/gr/
// signature-v4-test-suite.html): its example key, region, service and 2015-08-30T12:36:00Z.
const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope kSuiteScope{"us-east-1", "service"};
constexpr std::int64_t kSuiteTime = 1440938160;
constexpr std::string_view kSuitePrefix =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

// The S3 documentation's examples ("Signature Calculations for the Authorization Header",
// "Authenticating Requests: Using Query Parameters"): examplebucket, 2013-05-24T00:00:00Z.
const Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE",
                                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const Scope kS3Scope{"us-east-1", "s3"};
constexpr std::int64_t kS3DocTime = 1369353600;

Request SuiteRequest(std::string method, std::string path, Pairs query = {},
                     Pairs headers = {}) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}};
  for (auto& h : headers) {
    r.headers.push_back(std::move(h));
  }
  return r;
}

std::string SuiteAuthorization(std::string_view signed_headers, std::string_view signature) {
  return std::string(kSuitePrefix) + "SignedHeaders=" + std::string(signed_headers) +
         ", Signature=" + std::string(signature);
}

TEST(SigV4SuiteTest, GetVanillaEveryStep) {
  Request r = SuiteRequest("GET", "/");
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            SuiteAuthorization("host;x-amz-date",
                               "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4SuiteTest, GetVanillaQueryOrderKeyCaseSortsTheQuery) {
  Request r = SuiteRequest("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}});
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_EQ(s.canonical_request.substr(0, s.canonical_request.find("\nhost")),
            "GET\n/\nParam1=value1&Param2=value2");
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4SuiteTest, PostXWwwFormUrlencodedSignsContentTypeAndBody) {
  Request r = SuiteRequest("POST", "/", {},
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  r.payload_hash = Sha256Hex("Param1=value1");
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_EQ(s.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(s.authorization,
            SuiteAuthorization("content-type;host;x-amz-date",
                               "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4SuiteTest, GetUtf8EncodesThePathOnceWithUppercaseHex) {
  Request r = SuiteRequest("GET", "/\xE1\x88\xB4");
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_NE(s.canonical_request.find("GET\n/%E1%88%B4\n"), std::string::npos);
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102");
  EXPECT_EQ(s.signature, "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4SuiteTest, GetSpaceEncodesTheSpaceAsPercent20) {
  Request r = SuiteRequest("GET", "/example space/");
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_NE(s.canonical_request.find("GET\n/example%20space/\n"), std::string::npos);
  EXPECT_EQ(s.signature, "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
}

TEST(SigV4SuiteTest, GetUnreservedLeavesUnreservedCharactersAlone) {
  Request r = SuiteRequest("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_EQ(s.signature, "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST(SigV4SuiteTest, GetVanillaUtf8QueryEncodesTheName) {
  Request r = SuiteRequest("GET", "/", {{"\xE1\x88\xB4", "bar"}});
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_NE(s.canonical_request.find("GET\n/\n%E1%88%B4=bar\n"), std::string::npos);
  EXPECT_EQ(s.signature, "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
}

TEST(SigV4SuiteTest, GetHeaderValueTrimCollapsesInnerSpaces) {
  Request r = SuiteRequest("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}});
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_NE(s.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n"),
            std::string::npos);
  EXPECT_EQ(s.authorization,
            SuiteAuthorization("host;my-header1;my-header2;x-amz-date",
                               "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST(SigV4SuiteTest, GetHeaderKeyDuplicateJoinsValuesInOrder) {
  Request r = SuiteRequest("GET", "/", {},
                           {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}});
  Signed s = SignHeaders(r, kSuiteCredentials, kSuiteScope, kSuiteTime);
  EXPECT_NE(s.canonical_request.find("my-header1:value2,value2,value1\n"), std::string::npos);
  EXPECT_EQ(s.signature, "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea");
}

TEST(SigV4SuiteTest, PostStsHeaderAfterSignsTheSessionToken) {
  Credentials with_token = kSuiteCredentials;
  with_token.session_token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"
      "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"
      "DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+s"
      "cqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  Request r = SuiteRequest("POST", "/");
  Signed s = SignHeaders(r, with_token, kSuiteScope, kSuiteTime);
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6");
  EXPECT_EQ(s.authorization,
            SuiteAuthorization("host;x-amz-date;x-amz-security-token",
                               "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
}

TEST(SigV4S3DocTest, GetObjectWithRange) {
  Request r;
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", std::string(kEmptyPayloadHash)}};
  Signed s = SignHeaders(r, kS3DocCredentials, kS3Scope, kS3DocTime);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3DocTest, PutObjectEncodesTheDollarInTheKey) {
  std::string hash = Sha256Hex("Welcome to Amazon S3.");
  ASSERT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request r;
  r.method = "PUT";
  r.path = "/test$file.text";
  r.payload_hash = hash;
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-content-sha256", hash},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  Signed s = SignHeaders(r, kS3DocCredentials, kS3Scope, kS3DocTime);
  EXPECT_NE(s.canonical_request.find("PUT\n/test%24file.text\n"), std::string::npos);
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3DocTest, GetBucketListingWithQuery) {
  Request r;
  r.path = "/";
  r.query = {{"max-keys", "2"}, {"prefix", "J"}};
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", std::string(kEmptyPayloadHash)}};
  Signed s = SignHeaders(r, kS3DocCredentials, kS3Scope, kS3DocTime);
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3DocTest, PresignedGetUrl) {
  Request r;
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  r.payload_hash = std::string(kUnsignedPayload);
  std::string query;
  Signed s = Presign(r, kS3DocCredentials, kS3Scope, kS3DocTime, 86400, &query);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
            "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4Test, PresignClampsTheExpiryToSevenDays) {
  Request r;
  r.headers = {{"host", "h"}};
  std::string query;
  Presign(r, kS3DocCredentials, kS3Scope, kS3DocTime, 10'000'000, &query);
  EXPECT_NE(query.find("X-Amz-Expires=604800&"), std::string::npos) << query;
}

TEST(SigV4Test, UriEncodeKeepsSlashesOnlyWhenAsked) {
  EXPECT_EQ(UriEncode("a b/c+d=e&f~g", false), "a%20b/c%2Bd%3De%26f~g");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b%2Fc");
  EXPECT_EQ(UriEncode("\xff", true), "%FF");
}

TEST(SigV4Test, CanonicalQuerySortsByEncodedNameThenValue) {
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"a", "z"}, {"a", "y"}, {"uploads", ""}}),
            "a=y&a=z&b=2&uploads=");
  EXPECT_EQ(CanonicalQueryString({{"continuation-token", "1/x+y=="}}),
            "continuation-token=1%2Fx%2By%3D%3D");
}

TEST(SigV4Test, AmzDateFormatsUtc) {
  EXPECT_EQ(AmzDate(kSuiteTime), "20150830T123600Z");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
}

}  // namespace
}  // namespace pipy::storage::sigv4
