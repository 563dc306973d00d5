#include "app/page_layout.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "core/escape.h"
#include "core/strings.h"

namespace pipy::app {
namespace {

// Kept tiny and inline: no external assets, so the UI works offline and behind the VPN.
constexpr std::string_view kCss = R"css(
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f23;background:#fff}
header{background:#1f3a5f;padding:.6em 1.2em}
header a{color:#fff;text-decoration:none;margin-right:1.2em;font-weight:600}
main{max-width:68em;margin:0 auto;padding:1em 1.2em}
a{color:#0b5cad}
.muted{color:#6a737d}
code,pre,.hash{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.8em;overflow:auto}
.hash{word-break:break-all}
table{border-collapse:collapse}
td,th{border-bottom:1px solid #e1e4e8;padding:.3em .6em;text-align:left;vertical-align:top}
.yanked{background:#b31d28;color:#fff;border-radius:3px;padding:0 .4em;font-size:12px}
ul.projects{list-style:none;padding:0}
ul.projects li{padding:.2em 0}
input[type=search]{font-size:15px;padding:.3em;width:20em}
.readme{border-top:1px solid #e1e4e8;margin-top:1.5em}
.build-message{border-left:4px solid #b31d28;background:#fff5f5;padding:.1em 1em;margin:0 0 1em}
.build-failed{color:#b31d28;font-weight:600}
ul.waits{margin:0;padding-left:1.2em}
)css";

}  // namespace

std::string Layout(std::string_view title, std::string_view body_html) {
  std::string out;
  out.reserve(body_html.size() + 1500);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>";
  out += HtmlEscape(title);
  out += " - pipy</title>\n<style>";
  out += kCss;
  out += "</style></head>\n<body>\n<header><nav><a href=\"/\">Projects</a>"
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
