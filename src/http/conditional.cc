#include "http/conditional.h"

#include "core/strings.h"

namespace pipy::http {
namespace {

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
  if (TrimSpacesAndTabs(rest) == "*") {
    return true;
  }
  // Entity tags are quoted and cannot contain '"', so splitting on ',' outside quotes is
  // the same as splitting on every ',' that follows a closing quote. (No backslash escapes:
  // '\' is an ordinary etagc byte.)
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
    std::string_view tag = TrimSpacesAndTabs(rest.substr(0, comma));
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

}  // namespace pipy::http
