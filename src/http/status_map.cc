// The one Status-to-HTTP table (core/status.h points here) and error responses built on it.
#include "http/message.h"

namespace pipy::http {

namespace {

constexpr std::size_t kMaxReasonChars = 200;

std::vector<std::string>& ServerFolders() {
  static std::vector<std::string> folders;
  return folders;
}

// Characters that end a path token in a message.
bool EndsPath(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\'' || c == '"' || c == ')' || c == ',' ||
         c == ':' || c == ';';
}

// True when an absolute path starts at `i`: a '/' at the start of a word, followed by a
// path character (so URLs, "a/b" and a lone "/" are left alone).
bool PathStartsAt(std::string_view m, std::size_t i) {
  if (m[i] != '/' || i + 1 >= m.size()) {
    return false;
  }
  if (i > 0 && !(EndsPath(m[i - 1]) || m[i - 1] == '(' || m[i - 1] == '=')) {
    return false;
  }
  char next = m[i + 1];
  return (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
         (next >= '0' && next <= '9') || next == '.' || next == '_' || next == '-';
}

}  // namespace

std::string SanitizeReason(std::string_view message) {
  std::string out;
  out.reserve(std::min(message.size(), kMaxReasonChars));
  for (char c : message) {
    if (out.size() >= kMaxReasonChars) {
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n' || u == '\t') {
      out.push_back(' ');
    } else if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      out.push_back('?');
    }
  }
  return out;
}

void SetServerFolders(std::vector<std::string> folders) {
  std::erase_if(folders, [](const std::string& f) { return f.size() < 2; });
  ServerFolders() = std::move(folders);
}

std::string RedactServerPaths(std::string_view m, int http_status) {
  std::string out;
  out.reserve(m.size());
  std::size_t i = 0;
  while (i < m.size()) {
    bool redact = false;
    for (const std::string& folder : ServerFolders()) {
      if (m.substr(i).starts_with(folder)) {
        redact = true;
        break;
      }
    }
    if (!redact && http_status >= 500) {
      redact = PathStartsAt(m, i);
    }
    if (!redact) {
      out.push_back(m[i++]);
      continue;
    }
    out += "[server path]";
    while (i < m.size() && !EndsPath(m[i])) {
      ++i;
    }
  }
  return out;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kNotAcceptable: return 406;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kInternal: return 500;
    case StatusCode::kDataLoss: return 500;
    case StatusCode::kBadGateway: return 502;
    case StatusCode::kInsufficientStorage: return 507;
    case StatusCode::kTooManyRequests: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  const int http_status = HttpStatusFor(status.code());
  std::string message = RedactServerPaths(status.message(), http_status);
  Response r = TextResponse(http_status, message + "\n");
  r.reason = SanitizeReason(message);
  if (r.status == 401) {
    // Clients such as pip only send credentials after a challenge (RFC 7617).
    r.SetHeader("WWW-Authenticate", "Basic realm=\"pipy\"");
  }
  if (r.status == 429) {
    // Every limit that answers 429 this way counts over one minute.
    r.SetHeader("Retry-After", "60");
  }
  return r;
}

}  // namespace pipy::http
