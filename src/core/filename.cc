#include "core/filename.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/pep503.h"
#include "core/strings.h"

namespace pipy {
namespace {

// NAME_MAX of every common file system: no client can save a longer file, and the length
// bounds everything parsed out of a name.
constexpr size_t kMaxFilenameBytes = 255;
// A compressed tag set expands to the product of its three fields; real wheels have a few
// dozen tags at most. Without a bound, a 255-byte name like "a-1-a.a.a...-a.a...-a.a....whl"
// expands to tens of thousands of tags, each an allocation, on every upload and upstream page.
constexpr size_t kMaxWheelTags = 256;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Printable(std::string_view filename) {
  std::string out;
  for (char c : filename) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      AppendHexByte(out, u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status Invalid(std::string_view kind, std::string_view filename, std::string_view why) {
  return InvalidArgument("invalid " + std::string(kind) + " filename '" + Printable(filename) +
                         "': " + std::string(why));
}

// The rules shared by every stored filename: it must be a plain, visible, ASCII file name that
// cannot escape a directory or hide as a dot-file.
Status CheckPlainFilename(std::string_view kind, std::string_view filename) {
  if (filename.empty()) {
    return Invalid(kind, filename, "empty");
  }
  if (filename.front() == '.') {
    return Invalid(kind, filename, "must not start with '.'");
  }
  if (filename.size() > kMaxFilenameBytes) {
    return Invalid(kind, filename.substr(0, 64),
                   "longer than " + std::to_string(kMaxFilenameBytes) + " bytes");
  }
  for (char c : filename) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\') {
      return Invalid(kind, filename, "must not contain a path separator");
    }
    if (u <= 0x20 || u >= 0x7f) {
      return Invalid(kind, filename, "must contain only printable ASCII characters, no spaces");
    }
  }
  return Status::Ok();
}

bool IsTagChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Splits one PEP 425 tag field ("py2.py3") into lowercase items; false if any item is empty
// or holds a character outside [A-Za-z0-9_].
bool SplitTagField(std::string_view field, std::vector<std::string>& out) {
  for (std::string_view item : SplitAscii(field, '.')) {
    if (item.empty() || !std::all_of(item.begin(), item.end(), IsTagChar)) {
      return false;
    }
    std::string lower(item);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    out.push_back(std::move(lower));
  }
  return true;
}

}  // namespace

Result<WheelFilename> ParseWheelFilename(std::string_view filename) {
  constexpr std::string_view kKind = "wheel";
  PIPY_RETURN_IF_ERROR(CheckPlainFilename(kKind, filename));
  if (!EndsWith(filename, ".whl")) {
    return Invalid(kKind, filename, "must end with .whl");
  }
  const auto parts = SplitAscii(filename.substr(0, filename.size() - 4), '-');
  if (parts.size() != 5 && parts.size() != 6) {
    return Invalid(kKind, filename, "expected name-version[-build]-python-abi-platform.whl");
  }
  const std::string_view name_part = parts[0];
  if (name_part.find("__") != std::string_view::npos || !pep503::IsValidName(name_part)) {
    return Invalid(kKind, filename,
                   "the name part must be a valid project name with runs of '-', '_' and '.' "
                   "written as one '_' (PEP 427)");
  }
  WheelFilename out;
  out.name = pep503::NormalizeName(name_part);
  auto version = pep440::Version::Parse(parts[1]);
  if (!version.has_value()) {
    return Invalid(kKind, filename, version.error().message());
  }
  out.version = *std::move(version);
  if (parts.size() == 6) {
    const std::string_view build = parts[2];
    if (build.empty() || build.front() < '0' || build.front() > '9') {
      return Invalid(kKind, filename, "the build tag must start with a digit");
    }
    out.build_tag = std::string(build);
  }
  std::vector<std::string> pythons;
  std::vector<std::string> abis;
  std::vector<std::string> platforms;
  const size_t t = parts.size() - 3;
  if (!SplitTagField(parts[t], pythons) || !SplitTagField(parts[t + 1], abis) ||
      !SplitTagField(parts[t + 2], platforms)) {
    return Invalid(kKind, filename, "malformed compatibility tags (PEP 425)");
  }
  // Each field has at most kMaxFilenameBytes / 2 items, so the product cannot overflow.
  if (pythons.size() * abis.size() * platforms.size() > kMaxWheelTags) {
    return Invalid(kKind, filename,
                   "the compatibility tags expand to more than " +
                       std::to_string(kMaxWheelTags) + " tags");
  }
  for (const auto& py : pythons) {
    for (const auto& abi : abis) {
      for (const auto& plat : platforms) {
        out.tags.push_back(py + "-" + abi + "-" + plat);
      }
    }
  }
  std::sort(out.tags.begin(), out.tags.end());
  out.tags.erase(std::unique(out.tags.begin(), out.tags.end()), out.tags.end());
  return out;
}

Result<SdistFilename> ParseSdistFilename(std::string_view filename) {
  constexpr std::string_view kKind = "sdist";
  PIPY_RETURN_IF_ERROR(CheckPlainFilename(kKind, filename));
  SdistFilename out;
  std::string_view stem;
  if (EndsWith(filename, ".tar.gz")) {
    stem = filename.substr(0, filename.size() - 7);
  } else if (EndsWith(filename, ".zip")) {
    stem = filename.substr(0, filename.size() - 4);
    out.is_zip = true;
  } else {
    return Invalid(kKind, filename, "must end with .tar.gz (or the legacy .zip)");
  }
  const size_t dash = stem.rfind('-');
  if (dash == std::string_view::npos) {
    return Invalid(kKind, filename, "expected name-version.tar.gz");
  }
  const std::string_view name_part = stem.substr(0, dash);
  if (!pep503::IsValidName(name_part)) {
    return Invalid(kKind, filename, "the name part is not a valid project name");
  }
  out.name = pep503::NormalizeName(name_part);
  auto version = pep440::Version::Parse(stem.substr(dash + 1));
  if (!version.has_value()) {
    return Invalid(kKind, filename, version.error().message());
  }
  out.version = *std::move(version);
  return out;
}

}  // namespace pipy
