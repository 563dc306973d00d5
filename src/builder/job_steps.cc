#include "builder/job_steps.h"

#include <algorithm>
#include <fstream>

#include "auth/principal.h"
#include "builder/sandbox.h"

namespace pipy::builder {

using catalog::BuildStatus;

namespace {

std::string FormatDuration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 60'000 == 0 && ms > 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    out += a;
  }
  return out;
}

// The output a step's failure is explained from: its last 64 KiB.
constexpr std::size_t kMaxCapturedOutput = 64 * 1024;

}  // namespace

std::string ReadSmallFile(const std::filesystem::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string text(limit, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

bool IsPlainFile(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::symlink_status(path, ec));
}

Result<std::vector<std::filesystem::path>> OutputFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!IsPlainFile(entry.path())) {
      return InvalidArgument("the build produced " + entry.path().filename().string() +
                             ", which is not a regular file");
    }
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

BuildCredential::BuildCredential(auth::Authenticator* authenticator, std::int64_t build_id)
    : authenticator_(authenticator) {
  if (authenticator_ == nullptr) {
    return;
  }
  secret_ = auth::NewTokenSecret();
  auth::Principal reader;
  reader.token_name = "builder:" + std::to_string(build_id);
  reader.scopes = {"read"};
  authenticator_->AddInternalToken(secret_, std::move(reader));
}

void BuildCredential::Revoke() {
  if (authenticator_ != nullptr && !secret_.empty()) {
    authenticator_->RemoveInternalToken(secret_);
  }
  authenticator_ = nullptr;
}

JobSteps::JobSteps(const JobContext& context)
    : c_(context),
      log_(context.queue, context.job.id, context.options.max_log_bytes),
      work_(context.options.work_dir / std::to_string(context.job.id)),
      src_(work_ / "src"),
      home_(work_ / "home") {}

JobSteps::~JobSteps() {
  log_.Flush();
  std::error_code ec;
  std::filesystem::remove_all(work_, ec);
}

std::optional<JobEnd> JobSteps::Prepare() {
  const catalog::BuildJob& job = c_.job;
  log_.Write("pipy: build " + std::to_string(job.id) + " of the " + job.format +
             " module \"" + job.module + "\" from source \"" + job.source + "\" at commit " +
             job.commit + "\n");
  std::error_code ec;
  std::filesystem::remove_all(work_, ec);  // a previous, interrupted attempt
  std::filesystem::create_directories(home_, ec);
  if (Status s = c_.source.git->CheckoutFolder(job.commit, job.module, src_); !s.ok()) {
    return Fail("cannot check out the module: " + s.message());
  }
  return std::nullopt;
}

JobEnd JobSteps::Fail(std::string message) {
  log_.Write("pipy: failed: " + message + "\n");
  return Ended(BuildStatus::kFailed, std::move(message));
}

JobEnd JobSteps::Skip(std::string message) {
  log_.Write("pipy: skipped: " + message + "\n");
  return Ended(BuildStatus::kSkipped, std::move(message));
}

auth::Principal JobSteps::Publisher() const {
  auth::Principal builder;
  builder.anonymous = false;
  builder.token_name = "builder:" + c_.source.config.name;
  builder.scopes = {"upload:" + c_.source.config.scope};
  return builder;
}

catalog::Provenance JobSteps::Provenance() const {
  return catalog::Provenance{c_.job.source, c_.job.commit, c_.job.module, c_.job.id, "passed"};
}

std::optional<JobEnd> JobSteps::CheckScope(std::string_view name, std::string_view kind) {
  const config::SourceConfig& source = c_.source.config;
  if (auth::GlobMatch(source.scope, name)) {
    return std::nullopt;
  }
  return Fail(std::string(kind) + " \"" + std::string(name) + "\" is outside the scope \"" +
              source.scope + "\" of source \"" + source.name + "\"; nothing was published");
}

Result<bool> JobSteps::PublishedByOthers(const index::Format& format, std::string_view project,
                                         std::string_view version) {
  auto view = c_.index.GetProject(format, project);
  if (!view && view.error().code() == StatusCode::kNotFound) {
    return false;
  }
  PIPY_RETURN_IF_ERROR(view.status());
  for (const catalog::FileRecord& f : (*view)->files) {
    if (f.version == version && !PublishedByThisJob(f)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> JobSteps::SandboxedArgv(const StepOptions& options,
                                                 const std::vector<std::string>& command) const {
  SandboxSpec sandbox;
  sandbox.bwrap = c_.options.bwrap;
  sandbox.network = options.network;
  sandbox.hidden_dirs = c_.options.hidden_dirs;
  sandbox.hidden_files = c_.options.hidden_files;
  if (options.writable.empty()) {
    sandbox.writable = {work_};
  } else {
    sandbox.read_only = {work_};
    sandbox.writable = options.writable;
  }
  sandbox.chdir = options.chdir.empty() ? work_ : options.chdir;
  return SandboxArgv(sandbox, command);
}

std::optional<JobEnd> JobSteps::Step(std::string_view what,
                                     const std::vector<std::string>& command,
                                     const StepOptions& options) {
  ProcessSpec spec;
  spec.argv = SandboxedArgv(options, command);
  // A step's own entries replace the job's of the same name (a process given both would
  // see only one of them, which one being the libc's choice).
  spec.env = env_;
  for (const std::vector<std::string>* extra : {&options.env, &options.secret_env}) {
    for (const std::string& entry : *extra) {
      const std::string name = entry.substr(0, entry.find('=') + 1);
      std::erase_if(spec.env, [&](const std::string& e) { return e.starts_with(name); });
      spec.env.push_back(entry);
    }
  }
  spec.cwd = work_;
  spec.timeout = options.timeout;
  spec.memory_limit = options.memory_limit;
  spec.cancel = c_.cancel;
  log_.Write("\n$ " + Join(command) + "\n");
  std::string output;
  Result<ProcessResult> result =
      c_.processes.Run(spec, [this, &output, &options](std::string_view chunk) {
        log_.Write(chunk);
        if (options.explain) {
          output.append(chunk);
          if (output.size() > 2 * kMaxCapturedOutput) {
            output.erase(0, output.size() - kMaxCapturedOutput);
          }
        }
      });
  if (!result) {
    return Fail(std::string(what) + " could not start: " + result.error().message());
  }
  if (result->cancelled) {
    log_.Write("\npipy: interrupted by shutdown; the build will run again at the next start\n");
    JobEnd end;
    end.status = BuildStatus::kRunning;
    end.abandoned = true;
    return end;
  }
  if (result->timed_out) {
    return Fail(std::string(what) + " timed out after " + FormatDuration(options.timeout) +
                " and was killed");
  }
  if (!result->ok()) {
    std::string message =
        std::string(what) + " failed (" +
        (result->signal != 0 ? "killed by signal " + std::to_string(result->signal)
                             : "exit status " + std::to_string(result->exit_code)) +
        ")";
    std::string why = options.explain ? options.explain(output) : "";
    return Fail(why.empty() ? message : message + ": " + why);
  }
  return std::nullopt;
}

}  // namespace pipy::builder
