#include "python/distribution.h"

#include <set>
#include <string_view>
#include <vector>

#include "core/safe_archive.h"

namespace pipy::python {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string JoinSet(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += out.empty() ? "" : ", ";
    out += n;
  }
  return out;
}

archive::Limits MemberLimits(const DistributionLimits& limits, bool strict_names) {
  archive::Limits out = limits.archive_limits;
  out.strict_names = strict_names;
  return out;
}

}  // namespace

// PEP 427: "{distribution}-{version}.dist-info/" holds METADATA (core metadata, PEP 566).
Result<std::string> ReadWheelMetadata(const std::filesystem::path& wheel,
                                      const DistributionLimits& limits) {
  std::set<std::string> dist_infos;
  std::optional<std::string> metadata;
  std::string metadata_dir;
  Status walked = archive::ForEachMember(
      wheel, archive::Type::kZip, MemberLimits(limits, /*strict_names=*/true),
      [&](archive::Member& member) -> Status {
        const std::vector<std::string>& parts = member.path();
        if (!EndsWith(parts[0], ".dist-info")) {
          return Status::Ok();
        }
        if (parts.size() > 1 || member.is_directory()) {
          dist_infos.insert(parts[0]);
        }
        if (parts.size() != 2 || parts[1] != "METADATA") {
          return Status::Ok();
        }
        if (metadata.has_value()) {
          if (metadata_dir != parts[0]) {
            return Status::Ok();  // a second .dist-info: refused once the walk is done
          }
          return InvalidArgument("wheel has more than one " + metadata_dir + "/METADATA member");
        }
        metadata_dir = parts[0];
        if (!member.is_regular_file()) {
          return InvalidArgument("wheel's .dist-info/METADATA is not a regular file");
        }
        PIPY_ASSIGN_OR_RETURN(metadata, member.Read("METADATA", limits.max_metadata_bytes));
        return Status::Ok();
      });
  PIPY_RETURN_IF_ERROR(walked);
  if (dist_infos.size() > 1) {
    return InvalidArgument("wheel has more than one .dist-info directory: " +
                           JoinSet(dist_infos));
  }
  if (!metadata.has_value()) {
    return InvalidArgument("wheel has no .dist-info/METADATA");
  }
  return std::move(*metadata);
}

// The sdist format (PEP 517/625, packaging.python.org "Source distribution format"): a
// single top-level "{name}-{version}" folder holding PKG-INFO.
Result<std::optional<std::string>> ReadSdistPkgInfo(const std::filesystem::path& sdist, bool zip,
                                                     const DistributionLimits& limits) {
  std::set<std::string> tops;
  std::optional<std::string> pkg_info;
  Status walked = archive::ForEachMember(
      sdist, zip ? archive::Type::kZip : archive::Type::kTarGz,
      MemberLimits(limits, /*strict_names=*/false), [&](archive::Member& member) -> Status {
        const std::vector<std::string>& parts = member.path();
        tops.insert(parts[0]);
        if (tops.size() > 1) {
          return InvalidArgument("sdist has more than one top-level entry: " + JoinSet(tops));
        }
        if (parts.size() != 2 || parts[1] != "PKG-INFO") {
          return Status::Ok();
        }
        if (pkg_info.has_value()) {
          return InvalidArgument("sdist has more than one PKG-INFO member");
        }
        if (!member.is_regular_file()) {
          return InvalidArgument("sdist's PKG-INFO is not a regular file");
        }
        PIPY_ASSIGN_OR_RETURN(pkg_info, member.Read("PKG-INFO", limits.max_metadata_bytes));
        return Status::Ok();
      });
  PIPY_RETURN_IF_ERROR(walked);
  return pkg_info;
}

}  // namespace pipy::python
