// How every catalog backend stores a token's scopes: one space-separated text column. No
// scope ("read", "upload:<glob>", "admin") contains whitespace (AddToken checks), and both
// backends must agree so `pipy migrate` copies tokens as they are.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pipy::catalog {

std::string JoinScopes(const std::vector<std::string>& scopes);
// The inverse of JoinScopes; empty pieces (doubled spaces) are skipped.
std::vector<std::string> SplitScopes(std::string_view joined);

}  // namespace pipy::catalog
