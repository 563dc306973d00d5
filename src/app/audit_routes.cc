#include "app/audit_routes.h"

#include <time.h>

#include <boost/json.hpp>
#include <charconv>
#include <optional>
#include <string>

#include "core/timestamp.h"

namespace pipy::app {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte (kept as written when
// malformed).
std::string FormDecode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// A decimal integer making up all of `text`, or nullopt.
std::optional<std::int64_t> WholeInt(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.front() == '+') {
    return std::nullopt;
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// `n` digits at `text[*pos]`, advancing; -1 when they are not all digits.
int Digits(std::string_view text, std::size_t& pos, std::size_t n) {
  if (pos + n > text.size()) {
    return -1;
  }
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') {
      return -1;
    }
    value = value * 10 + (c - '0');
  }
  pos += n;
  return value;
}

bool Expect(std::string_view text, std::size_t& pos, std::string_view chars) {
  if (pos < text.size() && chars.find(text[pos]) != std::string_view::npos) {
    ++pos;
    return true;
  }
  return false;
}

std::optional<std::int64_t> ParseRfc3339(std::string_view text) {
  std::size_t pos = 0;
  struct tm tm = {};
  int year = Digits(text, pos, 4);
  if (year < 0 || !Expect(text, pos, "-")) {
    return std::nullopt;
  }
  int month = Digits(text, pos, 2);
  if (month < 1 || month > 12 || !Expect(text, pos, "-")) {
    return std::nullopt;
  }
  int day = Digits(text, pos, 2);
  if (day < 1 || day > 31 || !Expect(text, pos, "Tt ")) {
    return std::nullopt;
  }
  int hour = Digits(text, pos, 2);
  if (hour < 0 || hour > 23 || !Expect(text, pos, ":")) {
    return std::nullopt;
  }
  int minute = Digits(text, pos, 2);
  if (minute < 0 || minute > 59 || !Expect(text, pos, ":")) {
    return std::nullopt;
  }
  int second = Digits(text, pos, 2);
  if (second < 0 || second > 60) {
    return std::nullopt;
  }
  std::int64_t ms = 0;
  if (Expect(text, pos, ".")) {
    std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
  }
  std::int64_t offset_minutes = 0;
  if (!Expect(text, pos, "Zz")) {
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
      return std::nullopt;
    }
    const int sign = text[pos++] == '-' ? -1 : 1;
    int oh = Digits(text, pos, 2);
    if (oh < 0 || oh > 23 || !Expect(text, pos, ":")) {
      return std::nullopt;
    }
    int om = Digits(text, pos, 2);
    if (om < 0 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::int64_t seconds = static_cast<std::int64_t>(timegm(&tm)) - offset_minutes * 60;
  return seconds * 1000 + ms;
}

http::Response Json(int status, const boost::json::value& value) {
  http::Response response =
      http::TextResponse(status, boost::json::serialize(value) + "\n", "application/json");
  response.SetHeader("Cache-Control", "no-store");  // the log grows at any time
  return response;
}

http::Response List(catalog::Catalog& catalog, const http::Request& request) {
  Result<catalog::AuditQuery> query = ParseAuditQuery(request.query);
  if (!query) {
    return http::ErrorResponse(query.error());
  }
  const std::int64_t limit = query->limit;
  query->limit = limit + 1;  // one more tells whether there is a next page
  auto records = catalog.ListAudit(*query);
  if (!records) {
    return http::ErrorResponse(records.error());
  }
  boost::json::value next_cursor = nullptr;
  if (static_cast<std::int64_t>(records->size()) > limit) {
    records->resize(static_cast<std::size_t>(limit));
    next_cursor = boost::json::string(std::to_string(records->back().id));
  }
  boost::json::array out;
  for (const catalog::AuditRecord& record : *records) {
    out.push_back(AuditRecordJson(record));
  }
  boost::json::object body;
  body["records"] = std::move(out);
  body["next_cursor"] = std::move(next_cursor);
  return Json(200, body);
}

}  // namespace

Result<std::int64_t> ParseAuditTime(std::string_view text) {
  if (auto seconds = WholeInt(text)) {
    if (*seconds > 253'402'300'799) {  // past 9999-12-31: surely not seconds
      return InvalidArgument("since: " + std::string(text) + " is too far in the future");
    }
    return *seconds * 1000;
  }
  if (auto ms = ParseRfc3339(text)) {
    return *ms;
  }
  return InvalidArgument(
      "since must be Unix seconds or an RFC 3339 time such as "
      "2026-12-03T12:00:00Z, not \"" +
      std::string(text) + "\"");
}

Result<catalog::AuditQuery> ParseAuditQuery(std::string_view query_string) {
  catalog::AuditQuery query;
  query.limit = kDefaultAuditLimit;
  while (!query_string.empty()) {
    std::size_t amp = query_string.find('&');
    std::string_view pair = query_string.substr(0, amp);
    query_string =
        amp == std::string_view::npos ? std::string_view() : query_string.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    std::size_t eq = pair.find('=');
    const std::string key = FormDecode(pair.substr(0, eq));
    const std::string value =
        eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
    if (key == "project") {
      query.project = value;
    } else if (key == "token") {
      query.token = value;
    } else if (key == "action") {
      query.action = value;
    } else if (key == "since") {
      if (value.empty()) {
        continue;
      }
      PIPY_ASSIGN_OR_RETURN(query.since_ms, ParseAuditTime(value));
    } else if (key == "limit") {
      auto limit = WholeInt(value);
      if (!limit || *limit < 1 || *limit > kMaxAuditLimit) {
        return InvalidArgument("limit must be a whole number from 1 to " +
                               std::to_string(kMaxAuditLimit));
      }
      query.limit = *limit;
    } else if (key == "cursor") {
      if (value.empty()) {
        continue;
      }
      auto cursor = WholeInt(value);
      if (!cursor || *cursor < 1) {
        return InvalidArgument("cursor must be a next_cursor from an earlier answer");
      }
      query.before_id = *cursor;
    } else {
      return InvalidArgument("unknown parameter \"" + key +
                             "\"; known: project, token, action, since, limit, cursor");
    }
  }
  return query;
}

boost::json::object AuditRecordJson(const catalog::AuditRecord& record) {
  boost::json::object out;
  out["time"] = FormatUtcTimestamp(record.time_ms, 3);
  out["token"] = record.token;
  out["address"] = record.address;
  out["action"] = record.action;
  out["format"] = record.format;
  out["project"] = record.project;
  out["target"] = record.target;
  out["outcome"] = record.outcome;
  return out;
}

void RegisterAuditRoutes(http::Router& router, catalog::Catalog& catalog, const Access& access) {
  // A catalog round trip (a network one with PostgreSQL): blocking.
  router.Add("GET", "/api/audit",
             {.name = "api_audit", .guard = access.AdminGuard(), .blocking = true},
             [&catalog](http::Request& request) { return List(catalog, request); });
}

}  // namespace pipy::app
