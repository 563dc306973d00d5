#include "http/wire.h"

#include <fmt/format.h>

#include <ctime>
#include <iterator>

namespace pipy::http {

namespace {

bool IsServerOwned(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") ||
         EqualsIgnoreCase(name, "Transfer-Encoding") || EqualsIgnoreCase(name, "Connection") ||
         EqualsIgnoreCase(name, "Server") || EqualsIgnoreCase(name, "Date") ||
         EqualsIgnoreCase(name, "X-Content-Type-Options");
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsToken(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

std::string_view HttpDateNow() {
  thread_local std::time_t cached_second = 0;
  thread_local char buf[64] = {};
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return buf;
}

void AppendResponseHead(std::string& out, const Response& response,
                        std::optional<std::uint64_t> content_length, bool chunked,
                        ConnectionHeader connection) {
  out += "HTTP/1.1 ";
  fmt::format_to(std::back_inserter(out), "{} ", response.status);
  if (response.reason.empty() || HasLineBreakOrNul(response.reason)) {
    out += ReasonPhrase(response.status);
  } else {
    out += response.reason;
  }
  out += "\r\n";
  for (const Header& h : response.headers) {
    if (IsServerOwned(h.name) || !IsToken(h.name) || HasLineBreakOrNul(h.value)) {
      continue;
    }
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  // nosniff on every answer: a browser never runs an uploaded file as script or style.
  out += "Server: pipy\r\nX-Content-Type-Options: nosniff\r\nDate: ";
  out += HttpDateNow();
  out += "\r\n";
  if (content_length.has_value()) {
    fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", *content_length);
  } else if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (connection == ConnectionHeader::kClose) {
    out += "Connection: close\r\n";
  } else if (connection == ConnectionHeader::kKeepAlive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

}  // namespace pipy::http
