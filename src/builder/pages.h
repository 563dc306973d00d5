// The builder's HTML pages (pure renderers, in the web UI's layout: app/page_layout.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "catalog/build_queue.h"

namespace pipy::builder {

inline constexpr int kBuildsPerPage = 100;

// The builds list, newest first: status, format, module, project and version, commit, times,
// and a link to each build's page; for a build that waited for others, how many; for a
// blocked one, a link to the build that blocked it. Uses nothing but `jobs` (no per-row
// look-ups). A "next" link when the page is full (`page_size` jobs).
std::string RenderBuildsPage(const std::vector<catalog::BuildJob>& jobs, int page_size);
// One build: its fields, its log, a link to each build it waited for and to the one that
// blocked it (module and status taken from `related`, keyed by id; an id missing there is
// shown bare), and the message of a failed or skipped build above everything else.
// Refreshes itself while queued or running.
std::string RenderBuildPage(const catalog::BuildJob& job,
                            const std::map<std::int64_t, catalog::BuildJob>& related,
                            const std::string& log);

}  // namespace pipy::builder
