// Which packument a client asked for (npm registry docs, "Package metadata"): the
// abbreviated one when `Accept` prefers application/vnd.npm.install-v1+json, with
// q-values honoured; the full one otherwise (no header, application/json, */*). Pure.
#pragma once

#include <optional>
#include <string_view>

namespace pipy::npm {

bool WantsAbbreviated(std::optional<std::string_view> accept);

}  // namespace pipy::npm
