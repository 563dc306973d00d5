// The one Status-to-HTTP table (core/status.h points here) and error responses built on it.
#include "http/message.h"

namespace pipy::http {

namespace {

constexpr std::size_t kMaxReasonChars = 200;

// A reason phrase must be one line of visible text (RFC 9112 section 4: reason-phrase is
// HTAB / SP / VCHAR / obs-text). We keep printable ASCII only so no client chokes on it.
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

}  // namespace

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
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  Response r = TextResponse(HttpStatusFor(status.code()), status.message() + "\n");
  r.reason = SanitizeReason(status.message());
  if (r.status == 401) {
    // Clients such as pip only send credentials after a challenge (RFC 7617).
    r.SetHeader("WWW-Authenticate", "Basic realm=\"pipy\"");
  }
  return r;
}

}  // namespace pipy::http
