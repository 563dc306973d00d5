// Yanking API (PEP 592 semantics): POST yanks a release with an optional reason, DELETE
// un-yanks it. Body: {"reason": "..."} (optional; an empty body means no reason).
#include <boost/json.hpp>
#include <string>

#include "app/body_reader.h"
#include "core/pep440_version.h"
#include "core/pep503.h"
#include "python/handlers.h"
#include "python/python_format.h"

namespace pipy::python {
namespace {

constexpr std::uint64_t kMaxYankBody = 64 * 1024;

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The reason from a yank request body; kInvalidArgument for anything but an empty body or
// a JSON object whose optional "reason" is a string.
Result<std::string> ParseReason(const http::RequestBody& body) {
  PIPY_ASSIGN_OR_RETURN(std::string text, app::ReadSmallBody(body, kMaxYankBody));
  if (IsBlank(text)) {
    return std::string();
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) {
    return InvalidArgument("the body is not valid JSON: " + ec.message());
  }
  if (!value.is_object()) {
    return InvalidArgument("the body must be a JSON object such as {\"reason\": \"...\"}");
  }
  const boost::json::value* reason = value.as_object().if_contains("reason");
  if (reason == nullptr || reason->is_null()) {
    return std::string();
  }
  if (!reason->is_string()) {
    return InvalidArgument("\"reason\" must be a string");
  }
  return std::string(reason->as_string());
}

}  // namespace

http::Response HandleYank(Context& ctx, const http::Request& request, bool yanked) {
  Result<auth::Principal> who = ctx.access.ForWrite(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  std::string_view name = request.param("name");
  if (!pep503::IsValidName(name)) {
    return http::ErrorResponse(NotFound("no project named \"" + std::string(name) + "\""));
  }
  std::string project = pep503::NormalizeName(name);
  Result<pep440::Version> version = pep440::Version::Parse(request.param("version"));
  if (!version) {
    return http::ErrorResponse(
        InvalidArgument("invalid version \"" + std::string(request.param("version")) + "\""));
  }
  std::string reason;
  if (yanked) {
    Result<std::string> parsed = ParseReason(request.body);
    if (!parsed) {
      return http::ErrorResponse(parsed.error());
    }
    reason = std::move(*parsed);
  }
  std::string normalized_version = version->ToString();
  Status status = ctx.index.SetYanked(*who, PythonFormat(), project, normalized_version, yanked, reason);
  if (!status.ok()) {
    return http::ErrorResponse(status);
  }
  boost::json::object out;
  out["project"] = project;
  out["version"] = normalized_version;
  out["yanked"] = yanked;
  out["reason"] = reason;
  return http::TextResponse(200, boost::json::serialize(out) + "\n", "application/json");
}

}  // namespace pipy::python
