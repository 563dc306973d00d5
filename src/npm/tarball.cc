#include "npm/tarball.h"

#include <array>
#include <string_view>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/safe_archive.h"
#include "core/strings.h"
#include "npm/json_numbers.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

// The README names, most preferred first (lowercase: names are compared folded).
constexpr std::array<std::string_view, 3> kReadmeNames = {"readme.md", "readme.markdown",
                                                          "readme"};

// The preference of a member named package/<name> as the README (0 is best), or
// kReadmeNames.size() when it is none.
std::size_t ReadmeRank(std::string_view name) {
  const std::string folded = AsciiLower(name);
  for (std::size_t i = 0; i < kReadmeNames.size(); ++i) {
    if (folded == kReadmeNames[i]) {
      return i;
    }
  }
  return kReadmeNames.size();
}

// Where to cut `text` to at most `max` bytes without splitting a UTF-8 sequence: before
// the continuation bytes (10xxxxxx) that follow the cut.
std::size_t CutPoint(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return text.size();
  }
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return cut;
}

}  // namespace

Result<TarballContents> ReadTarball(const index::IndexOptions& options,
                                    const std::filesystem::path& file, bool with_readme) {
  archive::Limits limits;
  limits.max_entries = options.max_archive_entries;
  std::optional<std::string> package_json;
  std::optional<std::string> readme;
  std::size_t readme_rank = kReadmeNames.size();
  Status walked = archive::ForEachMember(
      file, archive::Type::kTarGz, limits, [&](archive::Member& member) -> Status {
        const auto& path = member.path();
        if (path.size() != 2 || path[0] != "package") {
          return Status::Ok();
        }
        if (path[1] == "package.json") {
          if (package_json) {
            return InvalidArgument("the tarball has more than one package/package.json");
          }
          if (!member.is_regular_file()) {
            return InvalidArgument("the tarball's package/package.json is not a regular file");
          }
          PIPY_ASSIGN_OR_RETURN(package_json,
                                member.Read("package/package.json", options.max_metadata_bytes));
          return Status::Ok();
        }
        if (!with_readme || !member.is_regular_file()) {
          return Status::Ok();
        }
        // Only a better-ranked name replaces what was read: among equals the first wins.
        const std::size_t rank = ReadmeRank(path[1]);
        if (rank >= readme_rank) {
          return Status::Ok();
        }
        PIPY_ASSIGN_OR_RETURN(readme,
                              member.Read("package/" + path[1], options.max_metadata_bytes));
        readme_rank = rank;
        return Status::Ok();
      });
  if (!walked.ok()) {
    return Status(walked.code(), "invalid tarball: " + walked.message());
  }
  if (!package_json) {
    return InvalidArgument("invalid tarball: it has no package/package.json");
  }
  json::error_code ec;
  json::value parsed = json::parse(*package_json, ec);
  if (ec || !parsed.is_object()) {
    return InvalidArgument("invalid tarball: package/package.json is not a JSON object");
  }
  if (!AllNumbersFinite(parsed)) {
    return InvalidArgument("invalid tarball: package/package.json has a number out of a "
                           "double's range");
  }
  TarballContents out;
  out.package_json = std::move(parsed.as_object());
  if (readme) {
    readme->resize(CutPoint(*readme, kMaxReadmeBytes));
    out.readme = std::move(readme);
  }
  return out;
}

}  // namespace pipy::npm
