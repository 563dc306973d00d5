// Distribution files and their PEP 658 / 714 core-metadata files. URLs carry the sha256,
// so a file's bytes never change under its URL: served immutable, by sendfile when the
// blob is a local file, streamed otherwise, or redirected to the store (presigned URL).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "app/blob_response.h"
#include "http/conditional.h"
#include "python/attributes.h"
#include "python/handlers.h"
#include "python/publish.h"

namespace pipy::python {
namespace {

constexpr std::string_view kMetadataSuffix = ".metadata";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string ContentTypeForFile(std::string_view filename, bool metadata) {
  if (metadata) {
    return "text/plain; charset=utf-8";
  }
  if (EndsWith(filename, ".tar.gz")) {
    return "application/gzip";
  }
  return "application/octet-stream";  // wheels and legacy .zip sdists
}

Status NoSuchFile(std::string_view filename) {
  return NotFound("no file \"" + std::string(filename) + "\" at this URL");
}

}  // namespace

http::Response ServeFile(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForRead(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  std::string_view sha256 = request.param("sha256");
  std::string_view requested = request.param("filename");
  bool metadata = EndsWith(requested, kMetadataSuffix);
  std::string_view filename =
      metadata ? requested.substr(0, requested.size() - kMetadataSuffix.size()) : requested;

  Result<catalog::FileRecord> file = FindDistributionFile(ctx.index, filename);
  if (!file) {
    return http::ErrorResponse(file.error().code() == StatusCode::kNotFound ? NoSuchFile(requested)
                                                                            : file.error());
  }
  if (file->sha256 != sha256) {
    return http::ErrorResponse(NoSuchFile(requested));
  }
  const std::string key(metadata ? MetadataSha256(*file) : file->sha256);
  if (key.empty()) {
    return http::ErrorResponse(NotFound("\"" + file->filename + "\" has no metadata file"));
  }

  std::string etag = "\"" + key + "\"";
  http::Response response;
  if (http::IfNoneMatchMatches(request.header("if-none-match"), etag)) {
    response.status = 304;
  } else if (std::optional<std::string> url = ctx.index.DirectUrl(key)) {
    // A presigned URL expires: the redirect itself must not be cached for long.
    response.status = 302;
    response.SetHeader("Location", *url);
    response.SetHeader("Cache-Control", "private, max-age=60");
    return response;
  } else {
    Result<index::Index::BlobContent> content = ctx.index.ReadBlobForServing(key);
    if (!content) {
      return http::ErrorResponse(content.error());
    }
    Result<http::Response> body = app::BlobResponse(std::move(*content));
    if (!body) {
      return http::ErrorResponse(body.error());
    }
    response = std::move(*body);
    response.SetHeader("Content-Type", ContentTypeForFile(file->filename, metadata));
  }
  response.SetHeader("ETag", etag);
  response.SetHeader("Cache-Control", std::string(kImmutable));
  return response;
}

}  // namespace pipy::python
