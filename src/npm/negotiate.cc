#include "npm/negotiate.h"

#include <cstdlib>
#include <string>

#include "core/strings.h"

namespace pipy::npm {
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

// The q of one media range ("type/sub; q=0.8; x=y"), 1 when absent, 0 when malformed.
double QualityOf(std::string_view params) {
  double q = 1.0;
  std::size_t start = 0;
  while (start < params.size()) {
    std::size_t end = params.find(';', start);
    std::string_view param = Trim(params.substr(start, end == params.npos ? params.npos
                                                                           : end - start));
    if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      std::string value(param.substr(2));
      char* rest = nullptr;
      q = std::strtod(value.c_str(), &rest);
      if (rest == value.c_str() || *rest != '\0' || q < 0 || q > 1) {
        return 0;
      }
    }
    if (end == params.npos) {
      break;
    }
    start = end + 1;
  }
  return q;
}

}  // namespace

bool WantsAbbreviated(std::optional<std::string_view> accept) {
  if (!accept) {
    return false;
  }
  double abbreviated = 0;
  double full = 0;
  std::size_t start = 0;
  const std::string_view header = *accept;
  while (start <= header.size()) {
    std::size_t end = header.find(',', start);
    std::string_view range =
        Trim(header.substr(start, end == header.npos ? header.npos : end - start));
    std::size_t semi = range.find(';');
    std::string type = AsciiLower(Trim(range.substr(0, semi)));
    double q = QualityOf(semi == range.npos ? std::string_view() : range.substr(semi + 1));
    if (type == "application/vnd.npm.install-v1+json") {
      abbreviated = std::max(abbreviated, q);
    } else if (type == "application/json") {
      full = std::max(full, q);
    }
    if (end == header.npos) {
      break;
    }
    start = end + 1;
  }
  // A tie goes to the abbreviated form: a client that names it means it.
  return abbreviated > 0 && abbreviated >= full;
}

}  // namespace pipy::npm
