// Who is calling, and what their token's scopes allow.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pipy::auth {

// Scopes (DESIGN.md): "read", "upload:<glob>" over normalized project names (npm names as
// "@scope/name"), "admin" (everything). Any valid token may read.
struct Principal {
  bool anonymous = true;
  // A credential this process made for itself (a build's read credential, "builder:<id>"):
  // valid only in this process and only while that build downloads its dependencies.
  // Subject to the address allowlist like any token.
  bool internal = false;
  std::string token_name;            // empty when anonymous
  // The client's address ("10.0.0.7", "::1") when the principal comes from a request
  // (app::Access fills it), for the audit log; "" otherwise.
  std::string address;
  std::vector<std::string> scopes;

  bool IsAdmin() const;
  // True for any authenticated token.
  bool CanRead() const { return !anonymous; }
  // True when an "upload:<glob>" scope matches `normalized_project`, or admin.
  bool CanUpload(std::string_view normalized_project) const;
};

// Shell-style glob: '*' matches any run of characters (including none), '?' one character;
// everything else literally. Used for upload scopes and source scopes.
bool GlobMatch(std::string_view pattern, std::string_view text);

// True when `scope` is one of the accepted forms, with a non-empty glob after "upload:"
// that could match a normalized name (no uppercase letters, no whitespace).
bool IsValidScope(std::string_view scope);
// What IsValidScope's refusal tells the user about globs.
inline constexpr std::string_view kScopeGlobHint =
    "a glob matches normalized names, lowercase, e.g. upload:acme-* or upload:@acme/*";

}  // namespace pipy::auth
