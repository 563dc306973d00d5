// The npm format's small parsers on every line of the input (at most 16 lines):
//   - ParseNpmPath: what it accepts rebuilds to the same path; a name is never empty, never
//     holds "//", and is "@scope/name" or has no '/';
//   - npm_name::Validate: an accepted name is 1..214 bytes of [a-z0-9._-] (plus "@scope/"),
//     has no "." / ".." segment nor one starting with '.' or '_', Split() reassembles it,
//     it is its own packument path, and TarballFilename() of it is a safe file name that
//     parses back from its tarball path;
//   - semver::Version::Parse: an accepted version is its own canonical spelling, Parse of
//     ToString() and of Key() round-trips, Key() has no '+'; precedence is a weak order
//     (antisymmetric, transitive, == exactly when the keys match) over the lines' versions.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/npm_name.h"
#include "core/semver.h"
#include "fuzz/fuzz_check.h"
#include "npm/paths.h"

namespace {

using pipy::fuzz::Check;
using pipy::npm::NpmPath;
using pipy::semver::Version;

constexpr std::size_t kMaxLines = 16;
constexpr std::size_t kMaxPairs = 8;  // names and versions taken into the pairwise checks
constexpr std::string_view kFileChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-";

std::vector<std::string_view> Lines(std::string_view input) {
  std::vector<std::string_view> lines;
  while (lines.size() < kMaxLines) {
    std::size_t nl = input.find('\n');
    lines.push_back(input.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    input.remove_prefix(nl + 1);
  }
  return lines;
}

std::string Rebuild(const NpmPath& p) {
  switch (p.kind) {
    case NpmPath::Kind::kPackument:
      return p.name;
    case NpmPath::Kind::kVersion:
      return p.name + "/" + p.version;
    case NpmPath::Kind::kTarball:
      return p.name + "/-/" + p.file;
    case NpmPath::Kind::kRevision:
      return p.name + "/-rev/" + p.rev;
    case NpmPath::Kind::kTarballRevision:
      return p.name + "/-/" + p.file + "/-rev/" + p.rev;
  }
  return "";
}

// A path segment: non-empty, no '/'.
bool IsSegment(std::string_view s) { return !s.empty() && s.find('/') == s.npos; }

void CheckPath(std::string_view line) {
  auto parsed = pipy::npm::ParseNpmPath(line);
  if (!parsed) {
    Check(parsed.error().code() == pipy::StatusCode::kNotFound, "a bad path is kNotFound");
    return;
  }
  const NpmPath& p = *parsed;
  Check(!p.name.empty(), "a parsed path's name is not empty");
  Check(p.name.find("//") == std::string::npos, "a parsed path's name has no '//'");
  if (p.name.front() == '@') {
    std::size_t slash = p.name.find('/');
    Check(slash != std::string::npos && IsSegment(p.name.substr(0, slash)) &&
              IsSegment(p.name.substr(slash + 1)),
          "a scoped path name is @scope/name");
  } else {
    Check(IsSegment(p.name), "an unscoped path name has no '/'");
  }
  Check(Rebuild(p) == line, "a parsed path rebuilds to itself");
  const bool has_version = p.kind == NpmPath::Kind::kVersion;
  const bool has_file =
      p.kind == NpmPath::Kind::kTarball || p.kind == NpmPath::Kind::kTarballRevision;
  const bool has_rev =
      p.kind == NpmPath::Kind::kRevision || p.kind == NpmPath::Kind::kTarballRevision;
  Check(has_version ? IsSegment(p.version) && p.version != "-" && p.version != "-rev"
                    : p.version.empty(),
        "version is a segment exactly for kVersion");
  Check(has_file ? IsSegment(p.file) : p.file.empty(), "file is a segment exactly for tarballs");
  Check(has_rev ? IsSegment(p.rev) : p.rev.empty(), "rev is a segment exactly for revisions");
}

// A segment of a valid name: [a-z0-9._-]+, not "." or "..", not starting with '.' or '_'.
bool IsNamePart(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.front() != '.' && s.front() != '_' &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == s.npos;
}

bool CheckName(std::string_view name) {
  pipy::Status valid = pipy::npm_name::Validate(name);
  if (!valid.ok()) {
    Check(valid.code() == pipy::StatusCode::kInvalidArgument, "a bad name is kInvalidArgument");
    return false;
  }
  Check(!name.empty() && name.size() <= pipy::npm_name::kMaxNameLength,
        "a valid name is 1..214 bytes");
  Check(name.find("//") == name.npos && name.front() != '-', "a valid name's shape");
  auto parts = pipy::npm_name::Split(name);
  const char* begin = name.data();
  const char* end = name.data() + name.size();
  Check(parts.basename.data() >= begin && parts.basename.data() + parts.basename.size() <= end,
        "Split's views point into the name");
  if (name.front() == '@') {
    Check(!parts.scope.empty(), "a scoped name splits into a scope");
    Check(IsNamePart(parts.scope) && IsNamePart(parts.basename),
          "a valid scoped name's parts are [a-z0-9._-]+ and no dot segments");
    Check(std::string("@") + std::string(parts.scope) + "/" + std::string(parts.basename) == name,
          "Split reassembles a scoped name");
  } else {
    Check(parts.scope.empty(), "an unscoped name has no scope");
    Check(IsNamePart(name), "a valid unscoped name is [a-z0-9._-]+ and no dot segment");
    Check(parts.basename == name, "Split reassembles an unscoped name");
  }
  auto path = pipy::npm::ParseNpmPath(name);
  Check(path && path->kind == NpmPath::Kind::kPackument && path->name == name,
        "a valid name is its own packument path");
  return true;
}

bool CheckVersion(std::string_view text, std::vector<Version>& versions) {
  auto parsed = Version::Parse(text);
  if (!parsed) {
    Check(parsed.error().code() == pipy::StatusCode::kInvalidArgument,
          "a bad version is kInvalidArgument");
    return false;
  }
  const Version& v = *parsed;
  Check(text.size() <= pipy::semver::kMaxVersionLength, "a version is at most 256 bytes");
  Check(v.major() < (1ull << 53) && v.minor() < (1ull << 53) && v.patch() < (1ull << 53),
        "numbers are at most 2^53 - 1");
  const std::string canonical = v.ToString();
  Check(canonical == text, "a parsed version is its own canonical spelling");
  auto again = Version::Parse(canonical);
  Check(again && *again == v && again->ToString() == canonical, "Parse(ToString()) round-trips");
  const std::string key = v.Key();
  Check(key.find('+') == std::string::npos, "Key() has no '+'");
  Check(key == text.substr(0, text.find('+')), "Key() is the text without its build");
  auto keyed = Version::Parse(key);
  Check(keyed && *keyed == v && keyed->ToString() == key && keyed->build().empty(),
        "Parse(Key()) is the same release");
  Check(v.IsPrerelease() == (key.find('-') != std::string::npos),
        "a prerelease is one whose key has '-'");
  Check(!(v < v) && v == v, "a version equals itself");
  if (versions.size() < kMaxPairs) {
    versions.push_back(v);
  }
  return true;
}

void CheckTarballName(std::string_view name, const Version& v) {
  const std::string version = v.ToString();
  const std::string file = pipy::npm_name::TarballFilename(name, version);
  const std::string basename(pipy::npm_name::Split(name).basename);
  Check(file == basename + "-" + version + ".tgz", "TarballFilename is <basename>-<version>.tgz");
  Check(file.find_first_not_of(kFileChars) == std::string::npos,
        "a tarball file name is [A-Za-z0-9._+-]+");
  auto path = pipy::npm::ParseNpmPath(std::string(name) + "/-/" + file);
  Check(path && path->kind == NpmPath::Kind::kTarball && path->name == name && path->file == file,
        "a tarball path parses back to its name and file");
}

void CheckOrder(const std::vector<Version>& versions) {
  for (const Version& a : versions) {
    for (const Version& b : versions) {
      const bool lt = a < b;
      const bool gt = b < a;
      const bool eq = a == b;
      Check(!(lt && gt), "a < b excludes b < a");
      Check(lt + gt + eq == 1, "exactly one of <, ==, >");
      Check(eq == (b == a), "== is symmetric");
      Check(eq == (a.Key() == b.Key()), "== exactly when the keys match");
      for (const Version& c : versions) {
        if (lt && b < c) {
          Check(a < c, "< is transitive");
        }
        if (eq) {
          Check((a <=> c) == (b <=> c), "equal versions compare alike");
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> names;
  std::vector<Version> versions;
  for (std::string_view line : Lines(input)) {
    CheckPath(line);
    if (CheckName(line) && names.size() < kMaxPairs) {
      names.push_back(line);
    }
    CheckVersion(line, versions);
  }
  for (std::string_view name : names) {
    for (const Version& v : versions) {
      CheckTarballName(name, v);
    }
  }
  CheckOrder(versions);
  return 0;
}
