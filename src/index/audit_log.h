// The audit log as the services write it: every change to the repository (publish, yank,
// tag, deprecate, takedown, token create and revoke, rebuild) and every refusal of one is
// recorded in the catalog (Catalog::AppendAudit) with the time, the caller's token name and
// address, the action, its target and its outcome. Never a secret: a token appears by name.
//
// A record is appended right after the change it describes has committed (or been
// refused), not in the change's own transaction: the catalog's write methods each own
// theirs. A crash between the two loses that one record (so may a power loss shortly after:
// on SQLite the append does not wait for a flush of its own); a failed append is logged to
// stderr and never turns a committed change into an error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "auth/principal.h"
#include "catalog/catalog.h"
#include "core/status.h"

namespace pipy::index {

// Actions, as stored and filtered on (`GET /api/audit?action=`).
inline constexpr std::string_view kAuditPublish = "publish";
// A publish by an admin of a new project whose name the upstream holds: the new-project
// (hijack) check would have refused anyone else.
inline constexpr std::string_view kAuditPublishShadowOverride = "publish.shadow_override";
inline constexpr std::string_view kAuditYank = "yank";
inline constexpr std::string_view kAuditUnyank = "unyank";
inline constexpr std::string_view kAuditDeprecate = "deprecate";
inline constexpr std::string_view kAuditTagSet = "tag.set";
inline constexpr std::string_view kAuditTagRemove = "tag.remove";
inline constexpr std::string_view kAuditRemoveRelease = "takedown.release";
inline constexpr std::string_view kAuditRemoveFile = "takedown.file";
inline constexpr std::string_view kAuditTokenCreate = "token.create";
inline constexpr std::string_view kAuditTokenRevoke = "token.revoke";
inline constexpr std::string_view kAuditRebuild = "rebuild";

// The address recorded for `pipy` subcommands run on the server's machine.
inline constexpr std::string_view kAuditCliAddress = "cli";
// The address recorded when the principal carries none (the server's own work: the builder).
inline constexpr std::string_view kAuditLocalAddress = "local";

// What one record is about.
struct AuditEvent {
  std::string_view action;
  std::string format;   // "" when the action has no format (tokens)
  std::string project;  // normalized when known
  std::string target;   // e.g. "1.0 acme_logger-1.0-py3-none-any.whl", a tag, a token name
};

// The stored outcome of `status`: "ok"; "denied: <message>" for kPermissionDenied and
// kUnauthenticated; "refused: <message>" for the caller's errors (invalid, conflict, not
// found, too large); "failed: <message>" for the server's. Messages are cut to 300 bytes.
std::string AuditOutcome(const Status& status);

// Thread-safe; the catalog must outlive it.
class AuditLog {
 public:
  // `clock`: Unix ms; empty = the system clock.
  explicit AuditLog(catalog::Catalog& catalog, std::function<std::int64_t()> clock = nullptr)
      : catalog_(catalog), clock_(std::move(clock)) {}

  // Appends a record of `event` done by `who` with `outcome` (AuditOutcome(status) unless
  // `outcome_text` is given). Never fails: see the header comment.
  void Record(const auth::Principal& who, const AuditEvent& event, const Status& status,
              std::string_view outcome_text = {}) const;

 private:
  catalog::Catalog& catalog_;
  std::function<std::int64_t()> clock_;
};

}  // namespace pipy::index
