// The builder's HTTP surface (routes registered on the HTTP router):
//   POST /hooks/git/{source}      GitHub-style push webhook (X-Hub-Signature-256): 202 and an
//                                 immediate fetch; 202 and nothing for a replayed delivery
//                                 (the same X-GitHub-Delivery, or the same body); 401 for a
//                                 missing or wrong signature and, identically, for an
//                                 unknown source or one without a webhook_secret; 403
//                                 outside the allowlist
//   GET  /api/builds              builds as a JSON array, newest first (?before=ID&limit=N)
//   GET  /api/builds/{id}         one build as JSON
//   GET  /api/builds/{id}/log     its log as text/plain (?offset=N for the part after N bytes)
//   POST /api/builds              admin: {"source", "module", "commit"?, "format"?} enqueues a
//                                 rebuild (202). "format" is "python" or "npm" (anything else
//                                 400); without it the folder's only module is built, and a
//                                 folder holding both gets 400 asking which
//   GET  /builds                  the builds page (newest first)
//   GET  /builds/{id}             one build with its log, the builds it waited for and the
//                                 one that blocked it
// Reads go through app::Access::ForRead. A build's JSON has id, source, module, format
// ("python" or "npm"), project, version, commit, status, message, log_url, log_bytes,
// created_at, started_at, finished_at (RFC 3339 UTC, null until the build got there),
// waits_for (the ids of the builds of the same commit it waited for, ascending; [] when none)
// and blocked_by (for a build skipped because a dependency failed, that failed build's id;
// null otherwise).
#pragma once

#include "app/access.h"
#include "builder/builder.h"
#include "catalog/build_queue.h"
#include "http/router.h"

namespace pipy::builder {

// `builder` may be null (no sources configured): the lists still answer, the webhook
// answers 401 and rebuilds 404. Everything passed must outlive the router.
void RegisterRoutes(http::Router& router, catalog::BuildQueue& queue, Builder* builder,
                    const app::Access& access);

}  // namespace pipy::builder
