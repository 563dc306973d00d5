#include "storage/s3_xml.h"

#include "core/escape.h"

#include <cstdint>

#include "core/strings.h"

namespace pipy::storage::xml {
namespace {

bool IsNameEnd(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Skips a comment, processing instruction, CDATA section or declaration starting at `pos`
// (which holds '<'); returns the index just past it, or npos when `pos` starts none.
std::size_t SkipSpecial(std::string_view doc, std::size_t pos) {
  struct Kind {
    std::string_view open, close;
  };
  static constexpr Kind kKinds[] = {
      {"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}, {"<!", ">"}};
  for (const Kind& kind : kKinds) {
    if (doc.substr(pos, kind.open.size()) == kind.open) {
      std::size_t end = doc.find(kind.close, pos + kind.open.size());
      return end == std::string_view::npos ? doc.size() : end + kind.close.size();
    }
  }
  return std::string_view::npos;
}

// A tag starting at `pos` ('<'): its name, whether it closes (</x>) or is self-closing
// (<x/>), and the index past its '>'.
struct Tag {
  std::string_view name;
  bool closing = false;
  bool self_closing = false;
  std::size_t end = 0;
};

std::optional<Tag> ReadTag(std::string_view doc, std::size_t pos) {
  Tag tag;
  std::size_t i = pos + 1;
  if (i < doc.size() && doc[i] == '/') {
    tag.closing = true;
    ++i;
  }
  std::size_t name_start = i;
  while (i < doc.size() && !IsNameEnd(doc[i])) {
    ++i;
  }
  tag.name = doc.substr(name_start, i - name_start);
  // Attribute values may hold '>' only inside quotes.
  char quote = 0;
  for (; i < doc.size(); ++i) {
    char c = doc[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      tag.self_closing = i > pos && doc[i - 1] == '/';
      tag.end = i + 1;
      return tag;
    }
  }
  return std::nullopt;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the entity `name` (between '&' and ';'); false when it is not one.
bool DecodeEntity(std::string_view name, std::string& out) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for (const auto& [n, c] : kNamed) {
    if (name == n) {
      out.push_back(c);
      return true;
    }
  }
  if (name.size() < 2 || name[0] != '#') {
    return false;
  }
  bool hex = name[1] == 'x' || name[1] == 'X';
  std::string_view digits = name.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) {
    return false;
  }
  std::uint32_t cp = 0;
  for (char c : digits) {
    int v = hex ? HexDigitValue(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
    if (v < 0) {
      return false;
    }
    cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
  }
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  AppendUtf8(out, cp);
  return true;
}

}  // namespace

std::vector<std::string_view> Elements(std::string_view doc, std::string_view tag) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  // Depth of nested same-name elements inside the current match; contents start there.
  int depth = 0;
  std::size_t contents_start = 0;
  while ((pos = doc.find('<', pos)) != std::string_view::npos) {
    std::size_t skipped = SkipSpecial(doc, pos);
    if (skipped != std::string_view::npos) {
      pos = skipped;
      continue;
    }
    std::optional<Tag> t = ReadTag(doc, pos);
    if (!t.has_value()) {
      break;
    }
    if (t->name == tag) {
      if (t->closing) {
        if (depth > 0 && --depth == 0) {
          out.push_back(doc.substr(contents_start, pos - contents_start));
        }
      } else if (t->self_closing) {
        if (depth == 0) {
          out.push_back(std::string_view());
        }
      } else if (depth++ == 0) {
        contents_start = t->end;
      }
    }
    pos = t->end;
  }
  return out;
}

std::optional<std::string> Text(std::string_view doc, std::string_view tag) {
  std::vector<std::string_view> found = Elements(doc, tag);
  if (found.empty()) {
    return std::nullopt;
  }
  return Decode(found.front());
}

std::string Decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    if (raw.substr(i, 9) == "<![CDATA[") {
      std::size_t end = raw.find("]]>", i + 9);
      std::size_t stop = end == std::string_view::npos ? raw.size() : end;
      out.append(raw.substr(i + 9, stop - i - 9));
      i = end == std::string_view::npos ? raw.size() : end + 3;
      continue;
    }
    if (raw[i] == '&') {
      std::size_t semi = raw.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 12 &&
          DecodeEntity(raw.substr(i + 1, semi - i - 1), out)) {
        i = semi + 1;
        continue;
      }
    }
    out.push_back(raw[i]);
    ++i;
  }
  return out;
}

std::string Escape(std::string_view text) {
  // XML's five predefined entities; &#39; for the apostrophe is valid XML as well.
  return HtmlEscape(text);
}

}  // namespace pipy::storage::xml
