#include "core/metadata.h"

#include <algorithm>
#include <utility>

#include "core/escape.h"
#include "core/strings.h"

namespace pipy {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Splits `text` into lines at LF, CRLF or lone CR; also returns where the line after each
// one starts, so the body can be taken verbatim.
struct Line {
  std::string_view text;
  size_t next;  // offset just past this line's terminator
};

std::vector<Line> SplitLines(std::string_view text) {
  std::vector<Line> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) {
      lines.push_back({text.substr(start), text.size()});
      break;
    }
    size_t next = end + 1;
    if (text[end] == '\r' && next < text.size() && text[next] == '\n') {
      ++next;
    }
    lines.push_back({text.substr(start, end - start), next});
    start = next;
  }
  return lines;
}

std::string NormalizeNewlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

// RFC 5322 field name: printable ASCII except ':' (and, in practice, no spaces).
bool IsFieldName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

bool IsMultiLineField(std::string_view name) {
  return EqualsIgnoreCase(name, "Description") || EqualsIgnoreCase(name, "License");
}

// Removes the spec's "       |" prefix from every continuation line when all carry it, else
// the whitespace common to the non-blank ones (Python's textwrap.dedent, as setuptools reads
// back what it wrote).
std::string DeIndent(std::string_view first, const std::vector<std::string_view>& rest) {
  std::string out(TrimAsciiWhitespace(first));
  constexpr std::string_view kPipe = "       |";
  const bool piped = !rest.empty() && std::all_of(rest.begin(), rest.end(), [&](auto l) {
    return l.substr(0, kPipe.size()) == kPipe;
  });
  // The margin is the longest run of leading blanks shared by all non-blank lines; tabs and
  // spaces must match exactly.
  std::string_view margin;
  bool have_margin = false;
  if (!piped) {
    for (std::string_view l : rest) {
      size_t indent = 0;
      while (indent < l.size() && IsBlank(l[indent])) {
        ++indent;
      }
      if (indent == l.size()) {
        continue;  // blank lines do not count towards the margin
      }
      if (!have_margin) {
        margin = l.substr(0, indent);
        have_margin = true;
        continue;
      }
      size_t common = 0;
      while (common < std::min(margin.size(), indent) && l[common] == margin[common]) {
        ++common;
      }
      margin = margin.substr(0, common);
    }
  }
  for (std::string_view l : rest) {
    out.push_back('\n');
    if (piped) {
      out.append(l.substr(kPipe.size()));
    } else if (std::all_of(l.begin(), l.end(), IsBlank)) {
      // textwrap.dedent turns whitespace-only lines into empty ones.
    } else {
      out.append(l.substr(margin.size()));
    }
  }
  return std::string(TrimAsciiWhitespace(out));
}

std::string Unfold(std::string_view first, const std::vector<std::string_view>& rest) {
  std::string out(TrimAsciiWhitespace(first));
  for (std::string_view l : rest) {
    std::string_view piece = TrimAsciiWhitespace(l);
    if (piece.empty()) {
      continue;
    }
    if (!out.empty()) {
      out.push_back(' ');
    }
    out.append(piece);
  }
  return out;
}

struct RawField {
  std::string name;
  std::string_view first;
  std::vector<std::string_view> rest;
};

// Fetches the single value of a required field, rejecting absence and conflicting repeats.
Result<std::string> RequiredField(const CoreMetadata& m, std::string_view field) {
  const auto values = m.GetAll(field);
  if (values.empty() || values.front().empty()) {
    return InvalidArgument("metadata has no " + std::string(field) +
                           " field (core metadata needs Metadata-Version, Name and Version)");
  }
  for (const std::string& v : values) {
    if (v != values.front()) {
      return InvalidArgument("metadata has conflicting " + std::string(field) + " fields: '" +
                             values.front() + "' and '" + v + "'");
    }
  }
  return values.front();
}

std::size_t Utf8Chars(std::string_view text) {
  // Valid UTF-8 (checked first): every byte but a continuation byte starts a character.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::size_t FieldCap(std::string_view name) {
  if (EqualsIgnoreCase(name, "Name")) {
    return kMaxNameBytes;
  }
  if (EqualsIgnoreCase(name, "Version")) {
    return kMaxVersionBytes;
  }
  if (EqualsIgnoreCase(name, "Description")) {
    return kMaxDescriptionBytes;
  }
  if (EqualsIgnoreCase(name, "License")) {
    return kMaxLicenseBytes;
  }
  return kMaxFieldBytes;
}

// The caps of metadata.h, on one field as written and as unfolded.
Status CheckFieldLimits(const RawField& raw, std::string_view value) {
  if (EqualsIgnoreCase(raw.name, "Summary")) {
    if (!raw.rest.empty()) {
      return InvalidArgument("Summary must be a single line (it has continuation lines)");
    }
    const std::size_t chars = Utf8Chars(value);
    if (chars > kMaxSummaryChars) {
      return InvalidArgument("Summary is " + std::to_string(chars) +
                             " characters long; the limit is " + std::to_string(kMaxSummaryChars));
    }
    return Status::Ok();
  }
  const std::size_t cap = FieldCap(raw.name);
  if (value.size() > cap) {
    return InvalidArgument("field " + raw.name.substr(0, 80) + " is " +
                           std::to_string(value.size()) + " bytes long; the limit is " +
                           std::to_string(cap) + " bytes");
  }
  return Status::Ok();
}

std::string FirstOrEmpty(const CoreMetadata& m, std::string_view field) {
  auto it = m.fields.find(field);
  return it == m.fields.end() ? std::string() : it->second;
}

}  // namespace

bool FieldNameLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return AsciiLower(x) < AsciiLower(y); });
}

std::vector<std::string> CoreMetadata::GetAll(std::string_view field) const {
  std::vector<std::string> out;
  auto [begin, end] = fields.equal_range(field);
  for (auto it = begin; it != end; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<CoreMetadata> ParseCoreMetadata(std::string_view text) {
  if (!IsValidUtf8(text)) {
    return InvalidArgument("metadata is not valid UTF-8");
  }
  std::vector<RawField> raw;
  size_t body_start = text.size();
  for (const Line& line : SplitLines(text)) {
    if (line.text.empty()) {
      body_start = line.next;
      break;
    }
    if (IsBlank(line.text.front())) {
      if (raw.empty()) {
        return InvalidArgument("metadata starts with an indented line; expected 'Name: value'");
      }
      raw.back().rest.push_back(line.text);
      continue;
    }
    const size_t colon = line.text.find(':');
    if (colon == std::string_view::npos || !IsFieldName(line.text.substr(0, colon))) {
      // Python's email parser treats this as the first line of the body.
      body_start = static_cast<size_t>(line.text.data() - text.data());
      break;
    }
    raw.push_back({std::string(line.text.substr(0, colon)), line.text.substr(colon + 1), {}});
  }

  CoreMetadata m;
  for (RawField& f : raw) {
    std::string value =
        IsMultiLineField(f.name) ? DeIndent(f.first, f.rest) : Unfold(f.first, f.rest);
    PIPY_RETURN_IF_ERROR(CheckFieldLimits(f, value));
    m.fields.emplace(std::move(f.name), std::move(value));
  }
  PIPY_ASSIGN_OR_RETURN(m.metadata_version, RequiredField(m, "Metadata-Version"));
  PIPY_ASSIGN_OR_RETURN(m.name, RequiredField(m, "Name"));
  PIPY_ASSIGN_OR_RETURN(m.version, RequiredField(m, "Version"));
  m.summary = FirstOrEmpty(m, "Summary");
  m.description_content_type = FirstOrEmpty(m, "Description-Content-Type");
  m.requires_python = FirstOrEmpty(m, "Requires-Python");
  m.requires_dist = m.GetAll("Requires-Dist");
  m.provides_extra = m.GetAll("Provides-Extra");
  const std::string body = NormalizeNewlines(text.substr(std::min(body_start, text.size())));
  m.description = body.empty() ? FirstOrEmpty(m, "Description") : body;
  if (m.description.size() > kMaxDescriptionBytes) {
    return InvalidArgument("the description (README) is " + std::to_string(m.description.size()) +
                           " bytes long; the limit is " + std::to_string(kMaxDescriptionBytes) +
                           " bytes");
  }
  return m;
}

}  // namespace pipy
