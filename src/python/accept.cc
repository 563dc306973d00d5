#include "python/accept.h"

#include <array>
#include <string>
#include <vector>

#include "core/strings.h"

namespace pipy::python {
namespace {

struct Candidate {
  SimpleFormat format;
  std::string_view type;       // "application" or "text"
  std::string_view subtype;    // "vnd.pypi.simple.v1+json", ...
  std::string_view alias;      // the PEP 691 "latest" spelling, or empty
  int explicit_rank;           // tie-break among explicit matches (lower wins)
  int wildcard_rank;           // tie-break among wildcard-only matches (lower wins)
};

constexpr std::array<Candidate, 3> kCandidates = {{
    {SimpleFormat::kJsonV1, "application", "vnd.pypi.simple.v1+json",
     "vnd.pypi.simple.latest+json", 0, 1},
    {SimpleFormat::kHtmlV1, "application", "vnd.pypi.simple.v1+html",
     "vnd.pypi.simple.latest+html", 1, 2},
    {SimpleFormat::kHtml, "text", "html", "", 2, 0},
}};

struct MediaRange {
  std::string type;      // lowercase
  std::string subtype;   // lowercase
  int q = 1000;          // thousandths
};

// RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]. Returns thousandths or -1.
int ParseQ(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) {
    return -1;
  }
  int whole = v[0] - '0';
  if (v.size() == 1) {
    return whole * 1000;
  }
  if (v[1] != '.' || v.size() > 5) {
    return -1;
  }
  int frac = 0;
  int scale = 100;
  for (std::size_t i = 2; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') {
      return -1;
    }
    frac += (v[i] - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) {
    return -1;
  }
  return whole * 1000 + frac;
}

// Parses one media range; nullopt when it is malformed (it is then ignored).
std::optional<MediaRange> ParseRange(std::string_view text) {
  std::vector<std::string_view> pieces = SplitOutsideQuotes(text, ';');
  std::string_view media = TrimSpacesAndTabs(pieces[0]);
  std::size_t slash = media.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == media.size()) {
    return std::nullopt;
  }
  MediaRange range;
  range.type = AsciiLower(TrimSpacesAndTabs(media.substr(0, slash)));
  range.subtype = AsciiLower(TrimSpacesAndTabs(media.substr(slash + 1)));
  if (range.type == "*" && range.subtype != "*") {
    return std::nullopt;
  }
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    std::string_view param = TrimSpacesAndTabs(pieces[i]);
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    if (AsciiLower(TrimSpacesAndTabs(param.substr(0, eq))) != "q") {
      continue;  // media-type parameters (and accept-ext after q) do not change the choice
    }
    int q = ParseQ(TrimSpacesAndTabs(param.substr(eq + 1)));
    if (q < 0) {
      return std::nullopt;
    }
    range.q = q;
    break;
  }
  return range;
}

// How specifically `range` names `c`: 3 exact, 2 "type/*", 1 "*/*", 0 no match.
int Specificity(const MediaRange& range, const Candidate& c) {
  if (range.type == "*") {
    return 1;
  }
  if (range.type != c.type) {
    return 0;
  }
  if (range.subtype == "*") {
    return 2;
  }
  if (range.subtype == c.subtype || (!c.alias.empty() && range.subtype == c.alias)) {
    return 3;
  }
  return 0;
}

}  // namespace

std::string_view ContentTypeFor(SimpleFormat format) {
  switch (format) {
    case SimpleFormat::kJsonV1:
      return "application/vnd.pypi.simple.v1+json";
    case SimpleFormat::kHtmlV1:
      return "application/vnd.pypi.simple.v1+html";
    case SimpleFormat::kHtml:
      return "text/html; charset=utf-8";
  }
  return "text/html; charset=utf-8";
}

std::string_view FormatKey(SimpleFormat format) {
  switch (format) {
    case SimpleFormat::kJsonV1:
      return "json";
    case SimpleFormat::kHtmlV1:
      return "v1html";
    case SimpleFormat::kHtml:
      return "html";
  }
  return "html";
}

Result<SimpleFormat> NegotiateSimpleFormat(std::optional<std::string_view> accept) {
  if (!accept.has_value()) {
    return SimpleFormat::kHtml;
  }
  std::vector<MediaRange> ranges;
  for (std::string_view item : SplitOutsideQuotes(*accept, ',')) {
    if (TrimSpacesAndTabs(item).empty()) {
      continue;
    }
    if (std::optional<MediaRange> range = ParseRange(item)) {
      ranges.push_back(std::move(*range));
    }
  }
  if (ranges.empty()) {
    return SimpleFormat::kHtml;  // like no header: the client accepts anything
  }

  const Candidate* best = nullptr;
  int best_q = 0;
  bool best_explicit = false;
  for (const Candidate& c : kCandidates) {
    int specificity = 0;
    int q = 0;
    for (const MediaRange& range : ranges) {
      int s = Specificity(range, c);
      if (s > specificity) {
        specificity = s;
        q = range.q;
      } else if (s == specificity && s > 0 && range.q > q) {
        q = range.q;
      }
    }
    if (specificity == 0 || q == 0) {
      continue;
    }
    bool is_explicit = specificity == 3;
    bool better = false;
    if (best == nullptr || q > best_q) {
      better = true;
    } else if (q == best_q) {
      if (is_explicit != best_explicit) {
        better = is_explicit;
      } else if (is_explicit) {
        better = c.explicit_rank < best->explicit_rank;
      } else {
        better = c.wildcard_rank < best->wildcard_rank;
      }
    }
    if (better) {
      best = &c;
      best_q = q;
      best_explicit = is_explicit;
    }
  }
  if (best == nullptr) {
    return Status(StatusCode::kNotAcceptable,
                  "none of the simple API formats is acceptable (PEP 691: "
                  "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, "
                  "text/html)");
  }
  return best->format;
}

}  // namespace pipy::python
