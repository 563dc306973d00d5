// Where an S3BlobStore keeps things, in one place (like the Docker registry's paths.go):
//
//   <prefix>blobs/<k>   a committed blob; k is the sha256 hex of its bytes
//
// and how a request for an object is addressed: path-style (http://host/bucket/key, what
// s3rver and MinIO answer) or virtual-host (http://bucket.host/key, AWS's default).
// Nothing is stored under <prefix> but blobs/, so a bucket can be shared with other data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::storage {

// "<prefix>blobs/<key>". Precondition: IsValidKey(key).
std::string S3ObjectKey(std::string_view prefix, std::string_view key);
// "<prefix>blobs/": what ListObjectsV2 lists.
std::string S3BlobsPrefix(std::string_view prefix);
// The blob key named by `object_key`, or nullopt when it is not "<prefix>blobs/<valid key>".
std::optional<std::string> BlobKeyFromS3Object(std::string_view prefix,
                                               std::string_view object_key);

// An endpoint split into what URLs and the signer need.
struct S3Endpoint {
  std::string scheme;     // "http" | "https"
  std::string authority;  // "host" or "host:port", as written in the endpoint
};

// Parses "http(s)://host[:port][/]". kInvalidArgument naming the endpoint otherwise (a path,
// a query, user info or another scheme).
Result<S3Endpoint> ParseS3Endpoint(std::string_view endpoint);

// One object's address: `url_prefix` + the encoded path is the URL; `host` is the Host
// header; `path` is the raw path the signer encodes (sigv4::UriEncode with '/' kept).
struct S3Address {
  std::string url_prefix;  // "http://127.0.0.1:9000" or "https://bucket.s3.amazonaws.com"
  std::string host;
  std::string path;  // "/bucket/<object key>" (path-style) or "/<object key>"
};

// The address of `object_key` in `bucket`; an empty key addresses the bucket itself
// ("/bucket" path-style, "/" virtual-host).
S3Address S3ObjectAddress(const S3Endpoint& endpoint, std::string_view bucket, bool path_style,
                          std::string_view object_key);

}  // namespace pipy::storage
