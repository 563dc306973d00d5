#include <chrono>
#include <iostream>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "cli/commands.h"

namespace pipy::cli {

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Opens the repository or reports why not; nullopt means "exit 1".
std::optional<Repository> OpenOrReport(const config::Config& config) {
  auto repo = OpenRepository(config);
  if (!repo) {
    std::cerr << "pipy: " << repo.error().message() << "\n";
    return std::nullopt;
  }
  return std::move(*repo);
}

}  // namespace

int TokenCreate(const config::Config& config, const std::string& name,
                const std::vector<std::string>& scopes) {
  if (name.empty()) {
    std::cerr << "pipy: --name must not be empty\n";
    return 2;
  }
  for (const auto& scope : scopes) {
    if (!auth::IsValidScope(scope)) {
      std::cerr << "pipy: invalid scope '" << scope
                << "' (use read, upload:<glob> or admin)\n";
      return 2;
    }
  }
  auto repo = OpenOrReport(config);
  if (!repo) {
    return 1;
  }
  std::string secret = auth::NewTokenSecret();
  catalog::TokenRecord token;
  token.name = name;
  token.hash = auth::HashTokenSecret(secret);
  token.scopes = scopes;
  token.created_ms = NowMs();
  Status added = repo->catalog->AddToken(token);
  if (!added.ok()) {
    std::cerr << "pipy: " << added.message() << "\n";
    return 1;
  }
  std::cerr << "created token '" << name << "'; it is shown once, store it now:\n";
  std::cout << secret << std::endl;
  return 0;
}

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
  for (const auto& token : *tokens) {
    std::cout << token.name << "\t";
    for (std::size_t i = 0; i < token.scopes.size(); ++i) {
      std::cout << (i ? "," : "") << token.scopes[i];
    }
    std::cout << "\t" << (token.revoked ? "revoked" : "active") << "\n";
  }
  return 0;
}

int TokenRevoke(const config::Config& config, const std::string& name) {
  auto repo = OpenOrReport(config);
  if (!repo) {
    return 1;
  }
  Status revoked = repo->catalog->RevokeToken(name);
  if (!revoked.ok()) {
    std::cerr << "pipy: " << revoked.message() << "\n";
    return 1;
  }
  std::cout << "revoked token '" << name << "'\n";
  return 0;
}

}  // namespace pipy::cli
