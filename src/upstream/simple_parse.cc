#include "upstream/simple_parse.h"

#include <boost/json.hpp>
#include <map>

#include "core/strings.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {
namespace {

bool IsTagSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Appends the UTF-8 encoding of `cp`; false for values that are not scalar values.
bool AppendUtf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return false;
  }
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return true;
}

// Decodes one reference starting after '&' ("amp;" ...). Returns the characters consumed
// (0 when it is not a reference this decoder knows).
std::size_t DecodeReference(std::string_view rest, std::string& out) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
  for (const auto& [name, c] : kNamed) {
    if (rest.starts_with(name)) {
      out += c;
      return name.size();
    }
  }
  if (rest.empty() || rest[0] != '#') {
    return 0;
  }
  bool hex = rest.size() > 1 && (rest[1] == 'x' || rest[1] == 'X');
  std::size_t i = hex ? 2 : 1;
  unsigned long cp = 0;
  std::size_t digits = 0;
  for (; i < rest.size() && digits < 8; ++i, ++digits) {
    int v = HexDigitValue(rest[i]);
    if (v < 0 || (!hex && v > 9)) {
      break;
    }
    cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(v);
  }
  if (digits == 0 || i >= rest.size() || rest[i] != ';') {
    return 0;
  }
  return AppendUtf8(out, cp) ? i + 1 : 0;
}

struct Anchor {
  std::map<std::string, std::string> attributes;  // lowercase name -> unescaped value
  std::string text;                               // unescaped, trimmed
};

// Parses the attributes of a tag starting at `i` (just after the tag name) up to '>'.
// Returns the position after '>' (or the end of input).
std::size_t ParseAttributes(std::string_view html, std::size_t i,
                            std::map<std::string, std::string>& attributes) {
  while (i < html.size()) {
    while (i < html.size() && (IsTagSpace(html[i]) || html[i] == '/')) {
      ++i;
    }
    if (i >= html.size()) {
      return i;
    }
    if (html[i] == '>') {
      return i + 1;
    }
    std::size_t name_start = i;
    while (i < html.size() && !IsTagSpace(html[i]) && html[i] != '=' && html[i] != '>' &&
           html[i] != '/') {
      ++i;
    }
    std::string name = AsciiLower(html.substr(name_start, i - name_start));
    while (i < html.size() && IsTagSpace(html[i])) {
      ++i;
    }
    std::string value;
    if (i < html.size() && html[i] == '=') {
      ++i;
      while (i < html.size() && IsTagSpace(html[i])) {
        ++i;
      }
      if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
        char quote = html[i++];
        std::size_t end = html.find(quote, i);
        if (end == std::string_view::npos) {
          end = html.size();
        }
        value = HtmlUnescape(html.substr(i, end - i));
        i = end < html.size() ? end + 1 : end;
      } else {
        std::size_t start = i;
        while (i < html.size() && !IsTagSpace(html[i]) && html[i] != '>') {
          ++i;
        }
        value = HtmlUnescape(html.substr(start, i - start));
      }
    }
    if (!name.empty()) {
      attributes.emplace(std::move(name), std::move(value));  // the first one wins
    }
  }
  return i;
}

std::vector<Anchor> FindAnchors(std::string_view html) {
  std::vector<Anchor> anchors;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    if (html.substr(i).starts_with("<!--")) {
      std::size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    bool is_anchor = i + 2 < html.size() && (html[i + 1] == 'a' || html[i + 1] == 'A') &&
                     (IsTagSpace(html[i + 2]) || html[i + 2] == '>');
    if (!is_anchor) {
      ++i;
      continue;
    }
    Anchor anchor;
    i = ParseAttributes(html, i + 2, anchor.attributes);
    std::size_t text_end = html.find('<', i);
    if (text_end == std::string_view::npos) {
      text_end = html.size();
    }
    anchor.text = std::string(TrimAsciiWhitespace(HtmlUnescape(html.substr(i, text_end - i))));
    i = text_end;
    anchors.push_back(std::move(anchor));
  }
  return anchors;
}

// "sha256=<hex>" -> the lowercase hex; anything else -> "".
std::string Sha256FromHashSpec(std::string_view spec) {
  constexpr std::string_view kPrefix = "sha256=";
  if (!StartsWithIgnoreCase(spec, kPrefix)) {
    return "";
  }
  return AsciiLower(spec.substr(kPrefix.size()));
}

// PEP 658 / 714 attribute or key: "true", or "<hashname>=<hex>" (only sha256 is kept).
void ApplyMetadataSpec(std::string_view spec, UpstreamFile& file) {
  if (spec.empty() || EqualsIgnoreCase(spec, "false")) {
    return;
  }
  file.has_metadata = true;
  file.metadata_sha256 = Sha256FromHashSpec(spec);
}

std::string LastPathSegment(std::string_view url) {
  std::size_t end = url.find_first_of("?#");
  std::string_view path = url.substr(0, end);
  std::size_t slash = path.rfind('/');
  std::string_view segment = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string out;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size() && HexDigitValue(segment[i + 1]) >= 0 &&
        HexDigitValue(segment[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(segment[i + 1]) * 16 + HexDigitValue(segment[i + 2]));
      i += 2;
    } else {
      out += segment[i];
    }
  }
  return out;
}

std::string_view JsonString(const boost::json::object& obj, std::string_view key) {
  const boost::json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return {};
  }
  return v->get_string();
}

}  // namespace

bool IsSimpleJson(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  return EqualsIgnoreCase(TrimAsciiWhitespace(type), "application/vnd.pypi.simple.v1+json");
}

std::string HtmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      std::size_t used = DecodeReference(text.substr(i + 1), out);
      if (used > 0) {
        i += used;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

UpstreamProject ParseProjectHtml(std::string_view html, std::string_view page_url,
                                 std::string_view normalized_name) {
  UpstreamProject project;
  project.name = std::string(normalized_name);
  for (Anchor& anchor : FindAnchors(html)) {
    auto href = anchor.attributes.find("href");
    if (href == anchor.attributes.end() || href->second.empty()) {
      continue;
    }
    auto url = ResolveUrl(page_url, href->second);
    if (!url) {
      continue;
    }
    UpstreamFile file;
    file.url = std::move(*url);
    file.filename = anchor.text.empty() ? LastPathSegment(file.url) : anchor.text;
    file.sha256 = Sha256FromHashSpec(UrlFragment(href->second));
    auto& attrs = anchor.attributes;
    if (auto it = attrs.find("data-requires-python"); it != attrs.end()) {
      file.requires_python = it->second;
    }
    if (auto it = attrs.find("data-yanked"); it != attrs.end()) {
      file.yanked = true;
      file.yanked_reason = it->second;
    }
    if (auto it = attrs.find("data-core-metadata"); it != attrs.end()) {
      ApplyMetadataSpec(it->second, file);
    } else if (auto old = attrs.find("data-dist-info-metadata"); old != attrs.end()) {
      ApplyMetadataSpec(old->second, file);
    }
    project.files.push_back(std::move(file));
  }
  return project;
}

Result<UpstreamProject> ParseProjectJson(std::string_view json, std::string_view page_url,
                                         std::string_view normalized_name) {
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(boost::json::string_view(json.data(), json.size()),
                                               ec);
  if (ec || !root.is_object()) {
    return InvalidArgument("the upstream's JSON page does not parse");
  }
  const boost::json::value* files = root.as_object().if_contains("files");
  if (files == nullptr || !files->is_array()) {
    return InvalidArgument("the upstream's JSON page has no \"files\" array");
  }
  UpstreamProject project;
  project.name = std::string(normalized_name);
  for (const boost::json::value& entry : files->as_array()) {
    if (!entry.is_object()) {
      continue;
    }
    const boost::json::object& obj = entry.as_object();
    std::string_view filename = JsonString(obj, "filename");
    std::string_view href = JsonString(obj, "url");
    if (filename.empty() || href.empty()) {
      continue;
    }
    auto url = ResolveUrl(page_url, href);
    if (!url) {
      continue;
    }
    UpstreamFile file;
    file.filename = std::string(filename);
    file.url = std::move(*url);
    if (const auto* hashes = obj.if_contains("hashes"); hashes && hashes->is_object()) {
      file.sha256 = AsciiLower(JsonString(hashes->as_object(), "sha256"));
    }
    file.requires_python = std::string(JsonString(obj, "requires-python"));
    if (const auto* yanked = obj.if_contains("yanked")) {
      if (yanked->is_bool()) {
        file.yanked = yanked->get_bool();
      } else if (yanked->is_string()) {
        file.yanked = true;
        file.yanked_reason = std::string(yanked->get_string());
      }
    }
    const boost::json::value* metadata = obj.if_contains("core-metadata");
    if (metadata == nullptr) {
      metadata = obj.if_contains("dist-info-metadata");
    }
    if (metadata != nullptr) {
      if (metadata->is_bool()) {
        file.has_metadata = metadata->get_bool();
      } else if (metadata->is_object()) {
        file.has_metadata = true;
        file.metadata_sha256 = AsciiLower(JsonString(metadata->as_object(), "sha256"));
      }
    }
    if (const auto* size = obj.if_contains("size")) {
      if (size->is_uint64()) {
        file.size = size->get_uint64();
      } else if (size->is_int64() && size->get_int64() >= 0) {
        file.size = static_cast<std::uint64_t>(size->get_int64());
      }
    }
    file.upload_time = std::string(JsonString(obj, "upload-time"));
    project.files.push_back(std::move(file));
  }
  return project;
}

}  // namespace pipy::upstream
