// Parsing the JSON body of `PUT /npm/<name>` (npm publish, and the packument updates of
// npm deprecate and unpublish) as it streams in: the document is built in memory except
// the attachments' base64 `data`, which is decoded on the fly and handed to a sink (the
// tarball's temp file and its digests). Memory stays bounded by the document's own limit
// whatever the tarball's size. Pure: the body comes from a ChunkReader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/status.h"

namespace pipy::npm {

// Fills up to n bytes of `buf` with the next bytes of the body; returns how many, 0 at the
// end (app/body_reader.h's reader has this type).
using ChunkReader = std::function<Result<std::size_t>(char* buf, std::size_t n)>;
// Receives an attachment's decoded bytes, in order.
using AttachmentSink = std::function<Status(std::string_view bytes)>;

struct BodyLimits {
  std::uint64_t max_attachment_bytes = 512ull * 1024 * 1024;  // decoded; kTooLarge above
  // Everything but the attachments' data (manifests, READMEs): kTooLarge above.
  std::uint64_t max_document_bytes = 16ull * 1024 * 1024;
};

struct PublishBody {
  // The document; each attachment keeps its other fields (content_type, length) but no
  // "data".
  boost::json::object document;
  std::vector<std::string> attachments;  // names, in body order
  std::uint64_t attachment_bytes = 0;    // decoded bytes handed to the sink
};

// kInvalidArgument for a body that is not one JSON object, for invalid base64 in an
// attachment's data, for a second attachment (one publish carries one tarball) or an
// attachment whose data is not a string; kTooLarge over a limit; the sink's and the
// reader's errors as they are.
Result<PublishBody> ParsePublishBody(const ChunkReader& read, const AttachmentSink& sink,
                                     const BodyLimits& limits = {});

}  // namespace pipy::npm
