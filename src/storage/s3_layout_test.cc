#include "storage/s3_layout.h"

#include <gtest/gtest.h>

#include "storage/s3_blob_store.h"

namespace pipy::storage {
namespace {

const std::string kKey(64, 'a');

TEST(S3LayoutTest, ObjectKeysLiveUnderPrefixBlobs) {
  EXPECT_EQ(S3ObjectKey("", kKey), "blobs/" + kKey);
  EXPECT_EQ(S3ObjectKey("team/pipy/", kKey), "team/pipy/blobs/" + kKey);
  EXPECT_EQ(BlobKeyFromS3Object("team/pipy/", "team/pipy/blobs/" + kKey), kKey);
  EXPECT_EQ(BlobKeyFromS3Object("team/pipy/", "other/blobs/" + kKey), std::nullopt);
  EXPECT_EQ(BlobKeyFromS3Object("", "blobs/" + kKey + "x"), std::nullopt);
  EXPECT_EQ(BlobKeyFromS3Object("", "blobs/README"), std::nullopt);
}

TEST(S3LayoutTest, PathStyleAddressesPutTheBucketInThePath) {
  auto endpoint = ParseS3Endpoint("http://127.0.0.1:9000/");
  ASSERT_TRUE(endpoint.has_value()) << endpoint.error().ToString();
  S3Address a = S3ObjectAddress(*endpoint, "pipy", true, "p/blobs/" + kKey);
  EXPECT_EQ(a.url_prefix, "http://127.0.0.1:9000");
  EXPECT_EQ(a.host, "127.0.0.1:9000");
  EXPECT_EQ(a.path, "/pipy/p/blobs/" + kKey);
  EXPECT_EQ(S3ObjectAddress(*endpoint, "pipy", true, "").path, "/pipy");
}

TEST(S3LayoutTest, VirtualHostAddressesPutTheBucketInTheHost) {
  auto endpoint = ParseS3Endpoint("https://S3.eu-west-1.amazonaws.com");
  ASSERT_TRUE(endpoint.has_value());
  S3Address a = S3ObjectAddress(*endpoint, "acme-pipy", false, "blobs/" + kKey);
  EXPECT_EQ(a.url_prefix, "https://acme-pipy.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.host, "acme-pipy.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(a.path, "/blobs/" + kKey);
  EXPECT_EQ(S3ObjectAddress(*endpoint, "acme-pipy", false, "").path, "/");
}

TEST(S3LayoutTest, EndpointsThatAreNotSchemeAndAuthorityAreRefused) {
  for (std::string_view bad : {"127.0.0.1:9000", "ftp://h", "http://", "http://h/path",
                               "http://u@h", "http://h?x", "https://h h"}) {
    auto endpoint = ParseS3Endpoint(bad);
    EXPECT_FALSE(endpoint.has_value()) << bad;
    if (!endpoint.has_value()) {
      EXPECT_EQ(endpoint.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(S3LayoutTest, ParsesBothS3TimeFormats) {
  EXPECT_EQ(ParseS3Time("2024-05-01T12:00:00.000Z"), 1714564800);
  EXPECT_EQ(ParseS3Time("Wed, 01 May 2024 12:00:00 GMT"), 1714564800);
  EXPECT_EQ(ParseS3Time("yesterday"), std::nullopt);
}

}  // namespace
}  // namespace pipy::storage
