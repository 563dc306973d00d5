#include "npm/paths.h"

#include <vector>

namespace pipy::npm {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? s.npos : slash - start));
    if (slash == std::string_view::npos) {
      return out;
    }
    start = slash + 1;
  }
}

}  // namespace

Result<NpmPath> ParseNpmPath(std::string_view rest) {
  auto not_found = [&] { return NotFound("no npm resource at '" + std::string(rest) + "'"); };
  std::vector<std::string_view> parts = Split(rest);
  for (std::string_view part : parts) {
    if (part.empty()) {
      return not_found();
    }
  }
  NpmPath out;
  std::size_t i = 1;
  if (parts[0].starts_with('@')) {
    if (parts.size() < 2) {
      return not_found();
    }
    out.name = std::string(parts[0]) + "/" + std::string(parts[1]);
    i = 2;
  } else {
    out.name = std::string(parts[0]);
  }
  const std::size_t left = parts.size() - i;
  if (left == 0) {
    out.kind = NpmPath::Kind::kPackument;
  } else if (left == 1 && parts[i] != "-" && parts[i] != "-rev") {
    out.kind = NpmPath::Kind::kVersion;
    out.version = std::string(parts[i]);
  } else if (left == 2 && parts[i] == "-") {
    out.kind = NpmPath::Kind::kTarball;
    out.file = std::string(parts[i + 1]);
  } else if (left == 2 && parts[i] == "-rev") {
    out.kind = NpmPath::Kind::kRevision;
    out.rev = std::string(parts[i + 1]);
  } else if (left == 4 && parts[i] == "-" && parts[i + 2] == "-rev") {
    out.kind = NpmPath::Kind::kTarballRevision;
    out.file = std::string(parts[i + 1]);
    out.rev = std::string(parts[i + 3]);
  } else {
    return not_found();
  }
  return out;
}

}  // namespace pipy::npm
