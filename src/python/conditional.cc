#include "python/conditional.h"

namespace pipy::python {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view StripWeak(std::string_view tag) {
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') {
    tag.remove_prefix(2);
  }
  return tag;
}

}  // namespace

bool IfNoneMatchMatches(std::optional<std::string_view> if_none_match, std::string_view etag) {
  if (!if_none_match.has_value() || etag.empty()) {
    return false;
  }
  std::string_view wanted = StripWeak(etag);
  std::string_view rest = *if_none_match;
  if (Trim(rest) == "*") {
    return true;
  }
  // Entity tags are quoted and cannot contain '"', so splitting on ',' outside quotes is
  // the same as splitting on every ',' that follows a closing quote.
  while (!rest.empty()) {
    std::size_t comma = std::string_view::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '"') {
        quoted = !quoted;
      } else if (rest[i] == ',' && !quoted) {
        comma = i;
        break;
      }
    }
    std::string_view tag = Trim(rest.substr(0, comma));
    if (!tag.empty() && StripWeak(tag) == wanted) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace pipy::python
