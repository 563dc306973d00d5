// twine's upload API (the "legacy" PyPI upload: POST multipart/form-data with
// :action=file_upload; see warehouse's forklift). The file part is streamed to a temp file,
// then published through the same index call as every other publisher, so the validation
// (filename, metadata, digest, permissions, immutability) lives in one place.
#include <string>

#include "app/body_reader.h"
#include "app/temp_file.h"
#include "core/strings.h"
#include "python/handlers.h"
#include "python/multipart.h"
#include "python/publish.h"

namespace pipy::python {
namespace {

std::filesystem::path TempDir(const PythonOptions& options) {
  if (!options.tmp_dir.empty()) {
    return options.tmp_dir;
  }
  std::error_code ignored;
  return std::filesystem::temp_directory_path(ignored);
}

Result<index::PublishResult> Publish(Context& ctx, const http::Request& request,
                                     const auth::Principal& who) {
  std::optional<std::string_view> content_type = request.header("content-type");
  if (!content_type.has_value()) {
    return InvalidArgument("an upload needs Content-Type multipart/form-data");
  }
  PIPY_ASSIGN_OR_RETURN(std::string boundary, BoundaryFromContentType(*content_type));
  PIPY_ASSIGN_OR_RETURN(ChunkReader reader, app::OpenBodyReader(request.body));
  PIPY_ASSIGN_OR_RETURN(app::TempFile file, app::TempFile::Create(TempDir(ctx.options)));
  FileSink sink = [&file](std::string_view data) { return file.Write(data); };
  PIPY_ASSIGN_OR_RETURN(MultipartForm form, ParseMultipart(boundary, reader, sink, "content"));

  std::string_view action = form.Get(":action").value_or("");
  if (action != "file_upload") {
    return InvalidArgument("unsupported :action \"" + std::string(action) +
                           "\"; only file_upload is supported");
  }
  if (!form.has_file) {
    return InvalidArgument("the upload has no \"content\" file part");
  }
  if (form.file_name.empty()) {
    return InvalidArgument("the \"content\" part has no filename");
  }
  if (form.file_name.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
    return InvalidArgument("invalid filename \"" + form.file_name + "\"");
  }
  PIPY_RETURN_IF_ERROR(file.Close());

  DistributionUpload upload;
  upload.file = file.path();
  upload.filename = form.file_name;
  upload.declared_name = std::string(form.Get("name").value_or(""));
  upload.declared_version = std::string(form.Get("version").value_or(""));
  upload.declared_sha256 = AsciiLower(form.Get("sha256_digest").value_or(""));
  upload.declared_filetype = std::string(form.Get("filetype").value_or(""));
  upload.declared_pyversion = std::string(form.Get("pyversion").value_or(""));
  upload.uploader = who.token_name;
  upload.file_is_disposable = true;  // our own temp copy of the content part
  return PublishDistribution(ctx.index, who, upload);
  // `file` is removed here, whatever the outcome.
}

}  // namespace

http::Response HandleUpload(Context& ctx, const http::Request& request) {
  Result<auth::Principal> who = ctx.access.ForWrite(request);
  if (!who) {
    return http::ErrorResponse(who.error());
  }
  Result<index::PublishResult> result = Publish(ctx, request, *who);
  if (!result) {
    ctx.metrics.Increment("pipy_uploads_total", "result", "rejected");
    return http::ErrorResponse(result.error());
  }
  bool created = result->outcome == catalog::AddFileOutcome::kCreated;
  ctx.metrics.Increment("pipy_uploads_total", "result", created ? "created" : "identical");
  return http::TextResponse(200, "OK\n");
}

}  // namespace pipy::python
