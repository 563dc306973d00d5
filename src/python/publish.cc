#include "python/publish.h"

#include <utility>

#include "core/filename.h"
#include "core/metadata.h"
#include "core/pep440_specifier.h"
#include "core/pep440_version.h"
#include "core/pep503.h"
#include "python/attributes.h"
#include "python/distribution.h"
#include "python/python_format.h"

namespace pipy::python {
namespace {

// The parts of a distribution filename that the rest of publishing needs.
struct ParsedFilename {
  std::string project;  // normalized
  pep440::Version version;
  bool wheel = false;
  bool zip = false;  // legacy .zip sdist
};

Result<ParsedFilename> ParseDistributionFilename(std::string_view filename) {
  if (filename.size() > 255) {
    return InvalidArgument("filename is too long");
  }
  if (filename.ends_with(".whl")) {
    auto wheel = ParseWheelFilename(filename);
    if (!wheel) {
      return wheel.error();
    }
    return ParsedFilename{wheel->name, wheel->version, true, false};
  }
  auto sdist = ParseSdistFilename(filename);
  if (!sdist) {
    return sdist.error();
  }
  return ParsedFilename{sdist->name, sdist->version, false, sdist->is_zip};
}

// Checks that the metadata inside the archive names the same project and version as the
// filename; `what` is "METADATA" or "PKG-INFO" for the message.
Status CheckMetadataAgrees(const CoreMetadata& metadata, const ParsedFilename& parsed,
                           std::string_view what) {
  if (pep503::NormalizeName(metadata.name) != parsed.project) {
    return InvalidArgument(std::string(what) + " names project '" + metadata.name +
                           "' but the filename is for '" + parsed.project + "'");
  }
  auto version = pep440::Version::Parse(metadata.version);
  if (!version || *version != parsed.version) {
    return InvalidArgument(std::string(what) + " has version '" + metadata.version +
                           "' but the filename has '" + parsed.version.ToString() + "'");
  }
  if (!metadata.requires_python.empty() &&
      !pep440::SpecifierSet::Parse(metadata.requires_python)) {
    return InvalidArgument(std::string(what) + " has an invalid Requires-Python '" +
                           metadata.requires_python + "'");
  }
  return Status::Ok();
}

// The archive opens, its METADATA / PKG-INFO agrees with the filename, and its fields fill
// the request; a wheel's METADATA is kept to be served on its own (PEP 658).
Status Inspect(const ParsedFilename& parsed, const index::IndexOptions& options,
               index::PublishRequest& r) {
  DistributionLimits limits;
  limits.max_metadata_bytes = options.max_metadata_bytes;
  limits.archive_limits.max_entries = options.max_archive_entries;
  std::optional<std::string> metadata_text;
  if (parsed.wheel) {
    PIPY_ASSIGN_OR_RETURN(metadata_text, ReadWheelMetadata(r.file, limits));
  } else {
    PIPY_ASSIGN_OR_RETURN(metadata_text, ReadSdistPkgInfo(r.file, parsed.zip, limits));
  }
  if (!metadata_text) {
    return Status::Ok();
  }
  auto metadata = ParseCoreMetadata(*metadata_text);
  std::string_view what = parsed.wheel ? "METADATA" : "PKG-INFO";
  if (!metadata) {
    return InvalidArgument(std::string(what) + " is not valid core metadata: " +
                           metadata.error().message());
  }
  PIPY_RETURN_IF_ERROR(CheckMetadataAgrees(*metadata, parsed, what));
  r.release.display_name = metadata->name;
  r.release.summary = metadata->summary;
  r.release.description = metadata->description;
  if (!metadata->description_content_type.empty()) {
    r.release.attributes[std::string(kDescriptionContentType)] =
        metadata->description_content_type;
  }
  if (!metadata->requires_python.empty()) {
    r.release.attributes[std::string(kRequiresPython)] = metadata->requires_python;
    r.attributes[std::string(kRequiresPython)] = metadata->requires_python;
  }
  if (parsed.wheel) {
    r.extra_blobs.push_back({std::string(kMetadataSha256), std::move(*metadata_text)});
  }
  return Status::Ok();
}

}  // namespace

Result<index::PublishResult> PublishDistribution(index::Index& index, const auth::Principal& who,
                                                 const DistributionUpload& upload) {
  auto parsed_or = ParseDistributionFilename(upload.filename);
  if (!parsed_or) {
    return InvalidArgument("invalid distribution filename '" + upload.filename +
                           "': " + parsed_or.error().message());
  }
  const ParsedFilename parsed = *parsed_or;

  if (!upload.declared_name.empty()) {
    if (!pep503::IsValidName(upload.declared_name) ||
        pep503::NormalizeName(upload.declared_name) != parsed.project) {
      return InvalidArgument("the filename '" + upload.filename + "' is for project '" +
                             parsed.project + "' but the form names '" + upload.declared_name +
                             "'");
    }
  }
  if (!upload.declared_version.empty()) {
    auto declared = pep440::Version::Parse(upload.declared_version);
    if (!declared || *declared != parsed.version) {
      return InvalidArgument("the filename '" + upload.filename + "' has version '" +
                             parsed.version.ToString() + "' but the form says '" +
                             upload.declared_version + "'");
    }
  }

  // The form's kind of file must be the filename's (Warehouse refuses a mismatch too).
  const std::string_view kind = parsed.wheel ? "bdist_wheel" : "sdist";
  if (!upload.declared_filetype.empty() && upload.declared_filetype != kind) {
    return InvalidArgument("the filename '" + upload.filename + "' is " +
                           (parsed.wheel ? "a wheel (filetype bdist_wheel)"
                                         : "an sdist (filetype sdist)") +
                           " but the form says filetype '" + upload.declared_filetype + "'");
  }
  if (!upload.declared_pyversion.empty() &&
      (upload.declared_pyversion == "source") != !parsed.wheel) {
    return InvalidArgument(
        "the form's pyversion '" + upload.declared_pyversion + "' does not fit '" +
        upload.filename + "': " +
        (parsed.wheel ? "a wheel names its Python tag" : "an sdist's pyversion is 'source'"));
  }

  index::PublishRequest request;
  request.project = parsed.project;
  request.version = parsed.version.ToString();
  request.filename = upload.filename;
  request.file = upload.file;
  request.file_is_disposable = upload.file_is_disposable;
  request.declared_sha256 = upload.declared_sha256;
  request.attributes[std::string(kPackageType)] = parsed.wheel ? "bdist_wheel" : "sdist";
  request.release.display_name =
      upload.declared_name.empty() ? parsed.project : upload.declared_name;
  request.uploader = upload.uploader;
  request.provenance = upload.provenance;
  const index::IndexOptions& options = index.options();
  request.inspect = [parsed, &options](index::PublishRequest& r) {
    return Inspect(parsed, options, r);
  };
  return index.Publish(who, PythonFormat(), std::move(request));
}

Result<catalog::FileRecord> FindDistributionFile(index::Index& index, std::string_view filename) {
  // On the download path: a wheel's project is its first "-"-separated field (PEP 427
  // escapes "-" in names), so a stored wheel is found without parsing the whole name (a
  // name that is no valid wheel finds nothing, since only valid ones are stored). An sdist
  // name ("acme-logger-1.0.tar.gz") needs the full parse.
  if (filename.ends_with(".whl")) {
    const std::string_view name = filename.substr(0, filename.find('-'));
    if (name.size() == filename.size() || !pep503::IsValidName(name)) {
      return NotFound("no file named '" + std::string(filename) + "'");
    }
    return index.FindFile(PythonFormat(), pep503::NormalizeName(name), filename);
  }
  auto parsed = ParseDistributionFilename(filename);
  if (!parsed) {
    return NotFound("no file named '" + std::string(filename) + "'");
  }
  return index.FindFile(PythonFormat(), parsed->project, filename);
}

}  // namespace pipy::python
