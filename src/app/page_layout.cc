#include "app/page_layout.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "app/static_assets.h"
#include "core/escape.h"
#include "core/strings.h"

namespace pipy::app {

std::string Layout(std::string_view title, std::string_view body_html) {
  std::string out;
  out.reserve(body_html.size() + 1500);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>";
  out += HtmlEscape(title);
  out += " - pipy</title>\n<link rel=\"stylesheet\" href=\"";
  out += Stylesheet().path;
  out += "\"></head>\n<body>\n<header><nav><a href=\"/\">Projects</a>"
         "<a href=\"/builds\">Builds</a><a href=\"/help\">Help</a></nav></header>\n<main>\n";
  out += body_html;
  out += "\n</main>\n</body></html>\n";
  return out;
}

std::string FormatSize(std::uint64_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  // Round first, so 1023.96 KiB shows as "1.0 MiB" rather than "1024.0 KiB".
  while (value >= 1023.95 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", value, kUnits[unit]);
  return buf;
}

std::string FormatUtc(std::int64_t epoch_ms) {
  if (epoch_ms <= 0) {
    return "-";
  }
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) {
    return "-";
  }
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string EncodePathSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                      (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      AppendHexByte(out, u, HexCase::kUpper);
    }
  }
  return out;
}

}  // namespace pipy::app
