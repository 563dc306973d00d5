// The builder's HTML pages (pure renderers, in the web UI's layout: app/page_layout.h).
#pragma once

#include <string>
#include <vector>

#include "catalog/build_queue.h"

namespace pipy::builder {

inline constexpr int kBuildsPerPage = 100;

// The builds list, newest first: status, module, project and version, commit, times, and a
// link to each build's page. A "next" link when the page is full (`page_size` jobs).
std::string RenderBuildsPage(const std::vector<catalog::BuildJob>& jobs, int page_size);
// One build: its fields and its log; refreshes itself while queued or running.
std::string RenderBuildPage(const catalog::BuildJob& job, const std::string& log);

}  // namespace pipy::builder
