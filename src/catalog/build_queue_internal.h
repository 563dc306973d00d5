// What every BuildQueue implementation shares: the checks on a NewBuild and the spelling of
// the waits_for list as the databases return it. Not part of the public contract.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "catalog/build_queue.h"
#include "core/status.h"

namespace pipy::catalog::internal {

// kInvalidArgument unless `build` names a source, a module and a commit, its format is
// "python" or "npm", and its finished_as (when set) is failed or skipped. Does not look at
// waits_for: whether those jobs exist is the database's to say.
Status CheckNewBuild(const NewBuild& build);

// `ids` ascending, each once.
std::vector<std::int64_t> SortedUnique(std::vector<std::int64_t> ids);

// "3,1,2" (group_concat / string_agg of build_waits.waits_for, in any order; "" for none)
// -> {1, 2, 3}.
std::vector<std::int64_t> ParseIdList(std::string_view csv);

}  // namespace pipy::catalog::internal
