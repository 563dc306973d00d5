#include "storage/s3_layout.h"

#include <cassert>

#include "core/strings.h"
#include "storage/blob_store.h"

namespace pipy::storage {

std::string S3BlobsPrefix(std::string_view prefix) { return std::string(prefix) + "blobs/"; }

std::string S3ObjectKey(std::string_view prefix, std::string_view key) {
  assert(IsValidKey(key));
  return S3BlobsPrefix(prefix) + std::string(key);
}

std::optional<std::string> BlobKeyFromS3Object(std::string_view prefix,
                                               std::string_view object_key) {
  std::string blobs = S3BlobsPrefix(prefix);
  if (object_key.substr(0, blobs.size()) != blobs) {
    return std::nullopt;
  }
  std::string_view key = object_key.substr(blobs.size());
  if (!IsValidKey(key)) {
    return std::nullopt;
  }
  return std::string(key);
}

Result<S3Endpoint> ParseS3Endpoint(std::string_view endpoint) {
  auto invalid = [&] {
    return InvalidArgument("[storage] endpoint \"" + std::string(endpoint) +
                           "\" is not http(s)://host[:port]");
  };
  S3Endpoint out;
  std::string_view rest;
  if (StartsWithIgnoreCase(endpoint, "http://")) {
    out.scheme = "http";
    rest = endpoint.substr(7);
  } else if (StartsWithIgnoreCase(endpoint, "https://")) {
    out.scheme = "https";
    rest = endpoint.substr(8);
  } else {
    return invalid();
  }
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return invalid();
  }
  out.authority = AsciiLower(rest);
  return out;
}

S3Address S3ObjectAddress(const S3Endpoint& endpoint, std::string_view bucket, bool path_style,
                          std::string_view object_key) {
  S3Address out;
  if (path_style) {
    out.host = endpoint.authority;
    out.path = "/" + std::string(bucket);
    if (!object_key.empty()) {
      out.path += "/" + std::string(object_key);
    }
  } else {
    out.host = std::string(bucket) + "." + endpoint.authority;
    out.path = "/" + std::string(object_key);
  }
  out.url_prefix = endpoint.scheme + "://" + out.host;
  return out;
}

}  // namespace pipy::storage
