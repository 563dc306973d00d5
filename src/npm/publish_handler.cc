// Writing packages: `PUT /npm/<name>` (npm publish; npm deprecate's packument update),
// and npm unpublish's -rev flow (PUT of the packument without the removed versions, then
// DELETE of the tarball; DELETE of the whole package).
#include <algorithm>
#include <optional>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "app/body_reader.h"
#include "app/temp_file.h"
#include "core/digest.h"
#include "core/npm_name.h"
#include "npm/handlers.h"
#include "npm/npm_format.h"
#include "npm/paths.h"
#include "npm/publish.h"
#include "npm/publish_body.h"

namespace pipy::npm {
namespace {

// A permission refusal answered here, before the index is asked: recorded in the audit log
// as the index records its own.
http::Response Denied(Context& ctx, const auth::Principal& who, std::string_view action,
                      const std::string& name, std::string target, Status denial) {
  ctx.index.audit().Record(
      who, index::AuditEvent{action, std::string(catalog::kNpm), name, std::move(target)},
      denial);
  return NpmError(std::move(denial));
}

namespace json = boost::json;

// The tarball's temp file and its digests, fed as the body's base64 decodes.
struct TarballSink {
  app::TempFile file;
  Digest sha1{Digest::Algorithm::kSha1};
  Digest sha512{Digest::Algorithm::kSha512};
  std::uint64_t size = 0;

  Status Write(std::string_view bytes) {
    sha1.Update(bytes);
    sha512.Update(bytes);
    size += bytes.size();
    return file.Write(bytes);
  }
};

std::string OkBody(std::string_view name) {
  return json::serialize(json::object{{"ok", true}, {"id", name}});
}

// The body's versions object, or an error.
Result<const json::object*> VersionsOf(const json::object& doc) {
  const json::value* versions = doc.if_contains("versions");
  if (versions == nullptr || !versions->is_object()) {
    return InvalidArgument("the body has no 'versions' object");
  }
  return &versions->as_object();
}

std::string DeprecationOf(const json::object& version) {
  const json::value* d = version.if_contains("deprecated");
  return d != nullptr && d->is_string() ? std::string(d->as_string()) : std::string();
}

// The packument update of npm deprecate and of npm unpublish (`revision` set): existing
// versions may change only their `deprecated` field; versions missing from the body are
// removed (only with a revision, and only by an admin); the body's dist-tags are applied
// with a revision.
http::Response UpdatePackage(Context& ctx, const http::Request& request,
                             const auth::Principal& who, const std::string& name,
                             const PublishBody& body, const std::optional<std::string>& revision) {
  Result<std::string> registry_url = RegistryUrl(ctx, request);
  if (!registry_url) {
    return NpmError(registry_url.error());
  }
  Result<PackumentInput> current = LoadPackage(ctx, name, *registry_url);
  if (!current) {
    return NpmError(current.error().code() == StatusCode::kNotFound
                        ? InvalidArgument("the publish has no tarball attachment")
                        : current.error());
  }
  if (revision && *revision != Revision(*current)) {
    return NpmError(AlreadyExists("the package changed since revision " + *revision +
                                  "; fetch it again"));
  }
  Result<const json::object*> sent = VersionsOf(body.document);
  if (!sent) {
    return NpmError(sent.error());
  }
  std::vector<std::pair<std::string, std::string>> deprecations;
  std::vector<std::string> removals;
  for (const PackumentVersion& version : current->versions) {
    const std::string& v = version.release.version;
    const json::value* given = (*sent)->if_contains(v);
    if (given == nullptr) {
      if (!revision) {
        return NpmError(InvalidArgument("version " + v +
                                        " is missing from the body (use npm unpublish)"));
      }
      removals.push_back(v);
      continue;
    }
    if (!given->is_object()) {
      return NpmError(InvalidArgument("version " + v + " must be an object"));
    }
    json::object mine = VersionObject(*current, version);
    json::object theirs = given->as_object();
    mine.erase("deprecated");
    theirs.erase("deprecated");
    if (mine != theirs) {
      return NpmError(InvalidArgument("version " + v +
                                      " may change only its 'deprecated' field here"));
    }
    std::string message = DeprecationOf(given->as_object());
    if (message != version.release.deprecated) {
      deprecations.emplace_back(v, std::move(message));
    }
  }
  for (const auto& entry : **sent) {
    if (FindVersion(*current, std::string(entry.key())) == nullptr) {
      return NpmError(InvalidArgument("version " + std::string(entry.key()) +
                                      " is new: publish it with its tarball"));
    }
  }
  // Everything is checked before anything changes: an update is applied whole or not at all.
  if (!removals.empty() && !who.IsAdmin()) {
    return Denied(ctx, who, index::kAuditRemoveRelease, name, removals.front(),
                  PermissionDenied("unpublishing needs an admin token"));
  }
  std::vector<std::pair<std::string, std::string>> tag_changes;
  if (revision) {
    const json::value* tags = body.document.if_contains("dist-tags");
    if (tags != nullptr && tags->is_object()) {
      for (const auto& [tag, target] : tags->as_object()) {
        Status valid = ValidateTagName(tag);
        if (!valid.ok()) {
          return NpmError(valid);
        }
        if (!target.is_string() ||
            std::find(removals.begin(), removals.end(), target.as_string()) != removals.end() ||
            FindVersion(*current, std::string(target.as_string())) == nullptr) {
          return NpmError(InvalidArgument("dist-tag '" + std::string(tag) +
                                          "' must name a version the package keeps"));
        }
        auto it = current->tags.find(std::string(tag));
        if (it == current->tags.end() || it->second != target.as_string()) {
          tag_changes.emplace_back(std::string(tag), std::string(target.as_string()));
        }
      }
    }
  }
  for (const auto& [version, message] : deprecations) {
    Status s = ctx.index.SetDeprecated(who, NpmFormat(), name, version, message);
    if (!s.ok()) {
      return NpmError(s);
    }
  }
  for (const std::string& version : removals) {
    Status s = ctx.index.RemoveRelease(who, NpmFormat(), name, version);
    if (!s.ok()) {
      return NpmError(s);
    }
  }
  for (const auto& [tag, version] : tag_changes) {
    Status s = ctx.index.SetTag(who, NpmFormat(), name, tag, version);
    if (!s.ok()) {
      return NpmError(s);
    }
  }
  return JsonResponse(200, OkBody(name));
}

// Every version of the package removed (tombstoned); the packument is 404 afterwards.
http::Response RemovePackage(Context& ctx, const http::Request& request,
                             const auth::Principal& who, const std::string& name,
                             const std::string& revision) {
  if (!who.IsAdmin()) {
    return Denied(ctx, who, index::kAuditRemoveRelease, name, "",
                  PermissionDenied("unpublishing needs an admin token"));
  }
  Result<std::string> registry_url = RegistryUrl(ctx, request);
  if (!registry_url) {
    return NpmError(registry_url.error());
  }
  Result<PackumentInput> current = LoadPackage(ctx, name, *registry_url);
  if (!current) {
    return NpmError(current.error());
  }
  if (revision != Revision(*current)) {
    return NpmError(AlreadyExists("the package changed since revision " + revision +
                                  "; fetch it again"));
  }
  for (const PackumentVersion& version : current->versions) {
    Status s = ctx.index.RemoveRelease(who, NpmFormat(), name, version.release.version);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      return NpmError(s);
    }
  }
  return JsonResponse(200, OkBody(name));
}

// The tarball's release removed; already gone (the -rev PUT before it removed it) is fine.
// A tarball still there is removed only at the revision the client saw.
http::Response RemoveTarball(Context& ctx, const http::Request& request,
                             const auth::Principal& who, const NpmPath& path) {
  if (!who.IsAdmin()) {
    return Denied(ctx, who, index::kAuditRemoveRelease, path.name, path.file,
                  PermissionDenied("unpublishing needs an admin token"));
  }
  Result<catalog::FileRecord> file = ctx.index.FindFile(NpmFormat(), path.name, path.file);
  if (file && path.kind == NpmPath::Kind::kTarballRevision) {
    Result<std::string> registry_url = RegistryUrl(ctx, request);
    if (!registry_url) {
      return NpmError(registry_url.error());
    }
    Result<PackumentInput> current = LoadPackage(ctx, path.name, *registry_url);
    if (current && Revision(*current) != path.rev) {
      return NpmError(AlreadyExists("the package changed since revision " + path.rev +
                                    "; fetch it again"));
    }
  }
  if (!file) {
    if (file.error().code() != StatusCode::kNotFound) {
      return NpmError(file.error());
    }
    auto exists = ctx.index.HasProject(NpmFormat(), path.name);
    if (!exists) {
      return NpmError(exists.error());
    }
    return *exists ? JsonResponse(200, OkBody(path.name))
                   : NpmError(NotFound("no package named '" + path.name + "'"));
  }
  Status s = ctx.index.RemoveRelease(who, NpmFormat(), path.name, file->version);
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    return NpmError(s);
  }
  return JsonResponse(200, OkBody(path.name));
}

}  // namespace

http::Response HandlePut(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForWrite(request);
  if (!who) {
    return NpmError(who.error());
  }
  Result<NpmPath> path = ParseNpmPath(request.param("path"));
  if (!path) {
    return NpmError(path.error());
  }
  if (path->kind != NpmPath::Kind::kPackument && path->kind != NpmPath::Kind::kRevision) {
    return NpmError(NotFound("nothing to PUT at this URL"));
  }
  Status valid = npm_name::Validate(path->name);
  if (!valid.ok()) {
    return NpmError(InvalidArgument("invalid package name: " + valid.message()));
  }
  if (!who->CanUpload(path->name)) {
    return Denied(ctx, *who, index::kAuditPublish, path->name, "",
                  PermissionDenied("token '" + who->token_name +
                                   "' may not publish to package '" + path->name + "'"));
  }
  Result<app::TempFile> temp = app::TempFile::Create(ctx.options.tmp_dir);
  if (!temp) {
    return NpmError(temp.error());
  }
  TarballSink sink{std::move(*temp)};
  Result<app::ChunkReader> reader = app::OpenBodyReader(request.body);
  if (!reader) {
    return NpmError(reader.error());
  }
  BodyLimits limits;
  limits.max_attachment_bytes = ctx.options.max_upload_bytes;
  Result<PublishBody> body = ParsePublishBody(
      *reader, [&sink](std::string_view bytes) { return sink.Write(bytes); }, limits);
  if (!body) {
    return NpmError(body.error());
  }
  Status closed = sink.file.Close();
  if (!closed.ok()) {
    return NpmError(closed);
  }
  if (path->kind == NpmPath::Kind::kRevision) {
    if (!body->attachments.empty()) {
      return NpmError(InvalidArgument("an unpublish carries no attachment"));
    }
    return UpdatePackage(ctx, request, *who, path->name, *body, path->rev);
  }
  if (body->attachments.empty()) {
    return UpdatePackage(ctx, request, *who, path->name, *body, std::nullopt);
  }
  ReceivedTarball tarball{sink.file.path(), sink.size, sink.sha1.Hex(),
                          Sha512Integrity(sink.sha512.Raw())};
  Result<PublishOutcome> published = PublishVersion(ctx.index, *who, path->name, *body, tarball);
  if (!published) {
    ctx.metrics.Increment("pipy_uploads_total", "result", "rejected");
    return NpmError(published.error());
  }
  const bool created = published->result.outcome == catalog::AddFileOutcome::kCreated;
  ctx.metrics.Increment("pipy_uploads_total", "result", created ? "created" : "identical");
  return JsonResponse(created ? 201 : 200, OkBody(path->name));
}

http::Response HandleDelete(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForWrite(request);
  if (!who) {
    return NpmError(who.error());
  }
  std::string_view rest = request.param("path");
  Result<NpmPath> path = ParseNpmPath(rest);
  // npm builds the tarball's DELETE from the pathname of dist.tarball, joined to the
  // registry URL, so the "npm/" of our layout comes twice: /npm/npm/<name>/-/<file>/-rev/<r>.
  if (!path && rest.starts_with("npm/")) {
    Result<NpmPath> inner = ParseNpmPath(rest.substr(4));
    if (inner && inner->kind == NpmPath::Kind::kTarballRevision) {
      path = std::move(inner);
    }
  }
  if (!path) {
    return NpmError(path.error());
  }
  if (!npm_name::Validate(path->name).ok()) {
    return NpmError(NotFound("no package named '" + path->name.substr(0, 220) + "'"));
  }
  if (path->kind == NpmPath::Kind::kRevision) {
    return RemovePackage(ctx, request, *who, path->name, path->rev);
  }
  if (path->kind == NpmPath::Kind::kTarballRevision || path->kind == NpmPath::Kind::kTarball) {
    return RemoveTarball(ctx, request, *who, *path);
  }
  return NpmError(NotFound("nothing to DELETE at this URL"));
}

}  // namespace pipy::npm
