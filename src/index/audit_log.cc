#include "index/audit_log.h"

#include <chrono>
#include <iostream>

namespace pipy::index {

namespace {

constexpr std::size_t kMaxOutcomeMessage = 300;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string AuditOutcome(const Status& status) {
  if (status.ok()) {
    return "ok";
  }
  std::string word;
  switch (status.code()) {
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      word = "denied";
      break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kNotFound:
    case StatusCode::kTooLarge:
    case StatusCode::kNotAcceptable:
      word = "refused";
      break;
    default:
      word = "failed";
      break;
  }
  std::string message = status.message();
  if (message.size() > kMaxOutcomeMessage) {
    message.resize(kMaxOutcomeMessage);
    message += "...";
  }
  return word + ": " + message;
}

void AuditLog::Record(const auth::Principal& who, const AuditEvent& event, const Status& status,
                      std::string_view outcome_text) const {
  catalog::AuditRecord record;
  record.time_ms = clock_ ? clock_() : NowMs();
  record.token = who.token_name;
  record.address = who.address.empty() ? std::string(kAuditLocalAddress) : who.address;
  record.action = std::string(event.action);
  record.format = event.format;
  record.project = event.project;
  record.target = event.target;
  record.outcome = outcome_text.empty() ? AuditOutcome(status) : std::string(outcome_text);
  Status appended = catalog_.AppendAudit(record);
  if (!appended.ok()) {
    // The change itself is committed (or refused) already: report, do not undo.
    std::cerr << "pipy: audit: could not record " << record.action << " of '" << record.project
              << "' by '" << record.token << "': " << appended.message() << "\n";
  }
}

}  // namespace pipy::index
