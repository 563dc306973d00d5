// The streaming reader behind S3BlobStore::Open (internal to storage/).
//
// One GET per reader, driven through libcurl's multi interface so that Read() pulls bytes
// as the caller wants them: memory stays bounded (what one socket read delivers) and no
// thread is needed. A transfer that breaks mid-blob is resumed with "Range: bytes=N-"
// (bounded by the client's attempt count).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/blob_store.h"
#include "storage/s3_client.h"

namespace pipy::storage {

// Opens `object_key` for reading: kNotFound when absent, the mapped S3 error otherwise.
// The bytes must hash to `sha256` (the blob's key): when they do not, the Read that would
// return the last of them fails with kUnavailable instead, so no reader ever sees a wrong
// blob end as if it were whole. `resumed` (may be null) is incremented for each Range
// request after a break.
Result<std::unique_ptr<BlobReader>> OpenS3Reader(S3Client& client, std::string object_key,
                                                 std::string sha256,
                                                 std::atomic<std::uint64_t>* resumed);

}  // namespace pipy::storage
