// Publishing a Python distribution (twine's upload, `pipy import`, the builder): the wheel
// and sdist rules on top of the neutral Index::Publish. The filename must be a valid wheel
// (PEP 427) or sdist (PEP 625 / legacy) name; declared name and version, when given, agree
// with it; the archive opens under the index's limits, and a wheel's one
// *.dist-info/METADATA (an sdist's PKG-INFO, when present) names the same project and
// version and is valid core metadata. The wheel's METADATA is stored as its own blob for
// PEP 658. Everything else — permissions, the new-project check, immutability, tombstones,
// the one commit — is Index::Publish's.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "auth/principal.h"
#include "catalog/catalog.h"
#include "core/status.h"
#include "index/index.h"

namespace pipy::python {

// A wheel or an sdist in a local file.
struct DistributionUpload {
  // The bytes; the caller owns and deletes the file (if it still exists: see below).
  std::filesystem::path file;
  // The file is a private temp copy: a publish may move it into the blob store instead
  // of copying it. Leave false for files that must stay where they are (imports).
  bool file_is_disposable = false;
  std::string filename;              // as uploaded, e.g. "acme_logger-1.0-py3-none-any.whl"
  std::string declared_name;         // twine's `name` field; empty = trust the filename
  std::string declared_version;      // twine's `version` field; empty = trust the filename
  std::string declared_sha256;       // twine's `sha256_digest`; empty = not sent
  std::string declared_filetype;     // twine's `filetype` ("bdist_wheel", "sdist"); empty = not sent
  std::string declared_pyversion;    // twine's `pyversion` ("source" for an sdist); empty = not sent
  std::string uploader;              // recorded as the file's uploader
  std::optional<catalog::Provenance> provenance;  // set by the builder; stored with the file
};

// Validates and publishes one distribution on behalf of `who` (see above). An identical
// existing file is a successful no-op; other bytes under an existing filename, or a
// tombstoned name, are kAlreadyExists. Nothing is stored on error.
Result<index::PublishResult> PublishDistribution(index::Index& index, const auth::Principal& who,
                                                 const DistributionUpload& upload);

// The catalog row of a distribution file, found by its filename alone (which names its
// project); kNotFound for a name that is no distribution filename or no stored file.
Result<catalog::FileRecord> FindDistributionFile(index::Index& index, std::string_view filename);

}  // namespace pipy::python
