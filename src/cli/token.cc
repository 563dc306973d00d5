#include <iostream>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "auth/token_lifecycle.h"
#include "cli/commands.h"
#include "core/timestamp.h"
#include "index/audit_log.h"

namespace pipy::cli {

namespace {

// Opens the repository or reports why not; nullopt means "exit 1".
std::optional<Repository> OpenOrReport(const config::Config& config) {
  auto repo = OpenRepository(config);
  if (!repo) {
    std::cerr << "pipy: " << repo.error().message() << "\n";
    return std::nullopt;
  }
  return std::move(*repo);
}

// Records a token change made from this command line: no token, address "cli".
void AuditCli(catalog::Catalog& catalog, std::string_view action, std::string target,
              const Status& status) {
  auth::Principal cli;
  cli.anonymous = false;
  cli.address = std::string(index::kAuditCliAddress);
  index::AuditLog(catalog).Record(cli, index::AuditEvent{action, "", "", std::move(target)},
                                  status);
}

// RFC 3339, or "never" for 0 (no expiry, not used yet).
std::string TimeOrNever(std::int64_t ms) { return ms == 0 ? "never" : FormatUtcTimestamp(ms, 3); }

}  // namespace

int TokenCreate(const config::Config& config, const std::string& name,
                const std::vector<std::string>& scopes, const std::string& expires) {
  // Argument errors first (exit 2), before the repository is opened.
  if (Status s = auth::CheckTokenName(name); !s.ok()) {
    std::cerr << "pipy: --name: " << s.message() << "\n";
    return 2;
  }
  for (const auto& scope : scopes) {
    if (!auth::IsValidScope(scope)) {
      std::cerr << "pipy: invalid scope '" << scope << "' (use read, upload:<glob> or admin; "
                << auth::kScopeGlobHint << ")\n";
      return 2;
    }
  }
  std::int64_t lifetime_ms = 0;
  if (!expires.empty()) {
    auto parsed = auth::ParseTokenLifetime(expires);
    if (!parsed) {
      std::cerr << "pipy: --expires: " << parsed.error().message() << "\n";
      return 2;
    }
    lifetime_ms = *parsed;
  }
  auto repo = OpenOrReport(config);
  if (!repo) {
    return 1;
  }
  auto issued = auth::IssueToken(*repo->catalog, name, scopes, lifetime_ms, auth::WallClockMs());
  std::string target = name + " (";
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    target += (i == 0 ? "" : " ") + scopes[i];
  }
  AuditCli(*repo->catalog, index::kAuditTokenCreate, target + ")", issued.status());
  if (!issued) {
    std::cerr << "pipy: " << issued.error().message() << "\n";
    return 1;
  }
  std::cerr << "created token '" << name << "'";
  if (issued->record.expires_ms != 0) {
    std::cerr << ", expiring at " << FormatUtcTimestamp(issued->record.expires_ms, 3);
  }
  std::cerr << "; it is shown once, store it now:\n";
  std::cout << issued->secret << std::endl;
  return 0;
}

// One line per token, tab-separated: name, scopes (comma-separated), state (active, revoked
// or expired), created, expires, last used; times in RFC 3339 or "never".
int TokenList(const config::Config& config) {
  auto repo = OpenOrReport(config);
  if (!repo) {
    return 1;
  }
  auto tokens = repo->catalog->ListTokens();
  if (!tokens) {
    std::cerr << "pipy: " << tokens.error().message() << "\n";
    return 1;
  }
  const std::int64_t now = auth::WallClockMs();
  for (const auto& token : *tokens) {
    std::cout << token.name << "\t";
    for (std::size_t i = 0; i < token.scopes.size(); ++i) {
      std::cout << (i ? "," : "") << token.scopes[i];
    }
    const bool expired = token.expires_ms != 0 && now >= token.expires_ms;
    std::cout << "\t"
              << (token.revoked ? "revoked"
                  : expired     ? "expired"
                                : "active")
              << "\t" << TimeOrNever(token.created_ms) << "\t" << TimeOrNever(token.expires_ms)
              << "\t" << TimeOrNever(token.last_used_ms) << "\n";
  }
  return 0;
}

int TokenRevoke(const config::Config& config, const std::string& name) {
  auto repo = OpenOrReport(config);
  if (!repo) {
    return 1;
  }
  Status revoked = repo->catalog->RevokeToken(name);
  AuditCli(*repo->catalog, index::kAuditTokenRevoke, name, revoked);
  if (!revoked.ok()) {
    std::cerr << "pipy: " << revoked.message() << "\n";
    return 1;
  }
  std::cout << "revoked token '" << name << "'\n";
  return 0;
}

}  // namespace pipy::cli
