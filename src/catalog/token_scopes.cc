#include "catalog/token_scopes.h"

namespace pipy::catalog {

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& scope : scopes) {
    if (!out.empty()) {
      out += ' ';
    }
    out += scope;
  }
  return out;
}

std::vector<std::string> SplitScopes(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    std::size_t space = joined.find(' ');
    std::string_view scope = joined.substr(0, space);
    if (!scope.empty()) {
      out.emplace_back(scope);
    }
    joined = space == std::string_view::npos ? std::string_view() : joined.substr(space + 1);
  }
  return out;
}

}  // namespace pipy::catalog
