#include "auth/principal.h"

#include <algorithm>

namespace pipy::auth {

namespace {
constexpr std::string_view kUploadPrefix = "upload:";
}  // namespace

bool Principal::IsAdmin() const {
  for (const auto& scope : scopes) {
    if (scope == "admin") {
      return true;
    }
  }
  return false;
}

bool Principal::CanUpload(std::string_view normalized_project) const {
  for (const auto& scope : scopes) {
    if (scope == "admin") {
      return true;
    }
    if (scope.starts_with(kUploadPrefix) &&
        GlobMatch(std::string_view(scope).substr(kUploadPrefix.size()), normalized_project)) {
      return true;
    }
  }
  return false;
}

// Iterative glob with single-star backtracking: linear in practice, no recursion, so a
// hostile pattern cannot blow the stack.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

bool IsValidScope(std::string_view scope) {
  if (scope == "read" || scope == "admin") {
    return true;
  }
  if (!scope.starts_with(kUploadPrefix) || scope.size() == kUploadPrefix.size()) {
    return false;
  }
  // The glob matches normalized names, which are lowercase in every format and have no
  // spaces: a glob with either could never match anything.
  std::string_view glob = scope.substr(kUploadPrefix.size());
  return std::none_of(glob.begin(), glob.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == ' ' || c == '\t' || c == '\n' || c == '\r';
  });
}

}  // namespace pipy::auth
