// The "no hijack of public names" rule: a new internal project whose name exists upstream
// would shadow the public project for everyone installing through Pipy, so creating it
// needs an `admin` token or a match in [upstream] allow_shadowing.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "core/status.h"

namespace pipy::upstream {

// How the messages name things: Python's "project" on the upstream "index", set in
// "[upstream]"; npm's "package" on the upstream "registry", set in "[npm]".
struct UpstreamWords {
  std::string_view thing = "project";
  std::string_view where = "index";
  std::string_view section = "[upstream]";
};
inline constexpr UpstreamWords kNpmWords{"package", "registry", "[npm]"};

// Decides whether `who` may create the internal project `normalized` (which does not exist
// yet). Admins and names matching an `allow_shadowing` glob pass without asking the
// upstream; otherwise `exists_upstream` is asked: true -> kAlreadyExists (409) with a
// message explaining dependency confusion; an error -> kUnavailable (fail closed: the name
// is not created while the upstream cannot tell).
Status DecideNewProject(const auth::Principal& who, std::string_view normalized,
                        const std::vector<std::string>& allow_shadowing,
                        const std::function<Result<bool>()>& exists_upstream,
                        const UpstreamWords& words = {});

}  // namespace pipy::upstream
