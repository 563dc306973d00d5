// The body of a download (a distribution file or a metadata file), shared by python/ and
// the upstream proxy (upstream/file_proxy.cc).
#pragma once

#include "core/status.h"
#include "http/message.h"
#include "index/index.h"

namespace pipy::app {

// A 200 response carrying `content`: small blobs from the index's memory (shared, no
// copy), local ones by sendfile, others streamed from their reader. Headers are the
// caller's.
Result<http::Response> BlobResponse(index::Index::BlobContent content);

}  // namespace pipy::app
