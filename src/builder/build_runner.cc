#include "builder/build_runner.h"

#include <algorithm>
#include <fstream>
#include <iostream>

#include "auth/principal.h"
#include "builder/build_log.h"
#include "builder/module.h"

namespace pipy::builder {

using catalog::BuildJob;
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

// A pyproject.toml is small; anything past 1 MiB is not read.
std::string ReadSmallFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(1 << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
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

}  // namespace

// One job's run: its folders, its log and the steps, each returning how the job ended when
// it ended there.
class BuildRunner::Job {
 public:
  struct End {
    BuildStatus status = BuildStatus::kFailed;
    std::string message;
    bool abandoned = false;  // shutdown: leave the job running for the next start
  };

  Job(BuildRunner& runner, const BuildJob& job, const SourceEntry& source,
      const std::atomic<bool>* cancel)
      : r_(runner),
        job_(job),
        source_(source),
        cancel_(cancel),
        log_(runner.queue_, job.id, runner.options_.max_log_bytes),
        work_(runner.options_.work_dir / std::to_string(job.id)),
        src_(work_ / "src"),
        venv_(work_ / "venv"),
        dist_(work_ / "dist") {}

  ~Job() {
    std::error_code ec;
    std::filesystem::remove_all(work_, ec);
  }

  // Runs every step; `module` is filled once pyproject.toml was read.
  End Run(ModuleConfig& module) {
    log_.Write("pipy: build " + std::to_string(job_.id) + " of module \"" + job_.module +
               "\" from source \"" + job_.source + "\" at commit " + job_.commit + "\n");
    std::error_code ec;
    std::filesystem::remove_all(work_, ec);  // a previous, interrupted attempt
    std::filesystem::create_directories(work_ / "home", ec);
    if (Status s = source_.git->CheckoutFolder(job_.commit, job_.module, src_); !s.ok()) {
      return Fail("cannot check out the module: " + s.message());
    }
    std::optional<End> end = ReadModule(module);
    if (end) {
      return *end;
    }
    log_.Write("pipy: project " + module.normalized_name + " version " + module.version +
               "; test command: " + module.test_command + "\n");
    if ((end = CreateVenv()) || (end = InstallDependencies(module)) ||
        (end = RunTests(module)) || (end = BuildDistributions(module))) {
      return *end;
    }
    return Publish(module);
  }

  void Note(std::string_view text) { log_.Write(text); }
  void FlushLog() { log_.Flush(); }

 private:
  End Fail(std::string message) {
    log_.Write("pipy: failed: " + message + "\n");
    return End{BuildStatus::kFailed, std::move(message)};
  }

  std::optional<End> ReadModule(ModuleConfig& module) {
    std::error_code ec;
    std::filesystem::path path = src_ / "pyproject.toml";
    if (!std::filesystem::is_regular_file(path, ec)) {
      return Fail("the module has no pyproject.toml");
    }
    std::string text = ReadSmallFile(path);
    Result<ModuleConfig> parsed = ParseModuleConfig(text);
    if (!parsed) {
      return Fail(parsed.error().message());
    }
    module = std::move(*parsed);
    if (!auth::GlobMatch(source_.config.scope, module.normalized_name)) {
      return Fail("project \"" + module.normalized_name + "\" is outside the scope \"" +
                  source_.config.scope + "\" of source \"" + source_.config.name +
                  "\"; nothing was published");
    }
    Result<bool> published = AlreadyPublished(module);
    if (!published) {
      return Fail("cannot read the catalog: " + published.error().message());
    }
    if (*published) {
      std::string message = module.normalized_name + " " + module.version +
                            " is already published; nothing to do (bump the version in "
                            "pyproject.toml to publish a new one)";
      log_.Write("pipy: skipped: " + message + "\n");
      return End{BuildStatus::kSkipped, message};
    }
    return std::nullopt;
  }

  // True when the version has files that this job did not publish itself (a job re-run
  // after a crash finishes its own half-done publication).
  Result<bool> AlreadyPublished(const ModuleConfig& module) {
    PIPY_ASSIGN_OR_RETURN(auto files, r_.index_.catalog().ListFiles(module.normalized_name));
    for (const catalog::FileRecord& f : files) {
      if (f.version == module.version &&
          !(f.provenance && f.provenance->build_id == job_.id)) {
        return true;
      }
    }
    return false;
  }

  std::vector<std::string> Env(const std::string& pythonpath) const {
    return {"PATH=" + (venv_ / "bin").string() + ":/usr/local/bin:/usr/bin:/bin",
            "HOME=" + (work_ / "home").string(),
            "VIRTUAL_ENV=" + venv_.string(),
            "LANG=C.UTF-8",
            "PYTHONDONTWRITEBYTECODE=1",
            "PYTHONUNBUFFERED=1",
            "PIP_DISABLE_PIP_VERSION_CHECK=1",
            "PIP_NO_INPUT=1",
            "PYTHONPATH=" + pythonpath};
  }

  // bubblewrap: no network, read-only root, a private /tmp, only the work folder writable.
  std::vector<std::string> Sandboxed(std::vector<std::string> command) const {
    std::vector<std::string> argv = {r_.options_.bwrap, "--unshare-net", "--unshare-pid",
                                     "--die-with-parent", "--ro-bind", "/", "/",
                                     "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                                     "--bind", work_.string(), work_.string(),
                                     "--chdir", src_.string(), "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

  // Runs one command, its output into the log. nullopt when it succeeded; otherwise how the
  // job ends, with `what` naming the step.
  // Runs one step; `secret_env` ("NAME=value" entries) is passed to it but never logged.
  std::optional<End> Step(std::string_view what, std::vector<std::string> argv,
                          std::chrono::milliseconds timeout, std::uint64_t memory_limit,
                          std::vector<std::string> secret_env = {}) {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.env = Env(src_.string() + ":" + (src_ / "src").string());
    spec.env.insert(spec.env.end(), secret_env.begin(), secret_env.end());
    spec.cwd = src_;
    spec.timeout = timeout;
    spec.memory_limit = memory_limit;
    spec.cancel = cancel_;
    log_.Write("\n$ " + Join(spec.argv) + "\n");
    Result<ProcessResult> result =
        r_.processes_.Run(spec, [this](std::string_view chunk) { log_.Write(chunk); });
    if (!result) {
      return Fail(std::string(what) + " could not start: " + result.error().message());
    }
    if (result->cancelled) {
      log_.Write("\npipy: interrupted by shutdown; the build will run again at the next start\n");
      return End{BuildStatus::kRunning, "", true};
    }
    if (result->timed_out) {
      return Fail(std::string(what) + " timed out after " + FormatDuration(timeout) +
                  " and was killed");
    }
    if (!result->ok()) {
      return Fail(std::string(what) + " failed (" +
                  (result->signal != 0 ? "killed by signal " + std::to_string(result->signal)
                                       : "exit status " + std::to_string(result->exit_code)) +
                  ")");
    }
    return std::nullopt;
  }

  std::optional<End> CreateVenv() {
    return Step("creating the virtual environment",
                // Debian's pip from the system site packages installs into the venv; not
                // copying pip in saves ~2 s per build.
                {r_.options_.python, "-m", "venv", "--system-site-packages", "--without-pip",
                 venv_.string()},
                r_.options_.step_timeout, 0);
  }

  std::optional<End> InstallDependencies(const ModuleConfig& module) {
    std::vector<std::string> requirements = module.dependencies;
    requirements.insert(requirements.end(), module.test_dependencies.begin(),
                        module.test_dependencies.end());
    if (requirements.empty()) {
      log_.Write("\npipy: no dependencies to install\n");
      return std::nullopt;
    }
    std::vector<std::string> argv = {(venv_ / "bin" / "python").string(), "-m", "pip",
                                     "install", "--no-build-isolation"};
    argv.insert(argv.end(), requirements.begin(), requirements.end());
    // The index URL carries this server's internal read credential: given to pip through
    // its environment, so it never appears in the (readable) build log, and only to this
    // step, never to the module's own code.
    return Step("installing the dependencies", std::move(argv), r_.options_.step_timeout, 0,
                {"PIP_INDEX_URL=" + r_.options_.index_url});
  }

  std::optional<End> RunTests(const ModuleConfig& module) {
    return Step("the tests",
                Sandboxed({"/bin/sh", "-c", module.test_command}),
                r_.options_.timeout, r_.options_.memory_limit);
  }

  std::optional<End> BuildDistributions(const ModuleConfig& module) {
    std::vector<std::string> command = {(venv_ / "bin" / "python").string(), "-m", "build",
                                        "--no-isolation"};
    if (NeedsSkipDependencyCheck(module)) {
      command.push_back("-x");
    }
    command.insert(command.end(), {"--outdir", dist_.string(), src_.string()});
    return Step("building the sdist and wheel", Sandboxed(std::move(command)),
                r_.options_.step_timeout, 0);
  }

  End Publish(const ModuleConfig& module) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dist_, ec)) {
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return Fail("the build produced no distribution");
    }
    auth::Principal builder;
    builder.anonymous = false;
    builder.token_name = "builder:" + source_.config.name;
    builder.scopes = {"upload:" + source_.config.scope};
    std::string published;
    for (const std::filesystem::path& file : files) {
      index::PythonUpload upload;
      upload.file = file;
      upload.filename = file.filename().string();
      upload.uploader = builder.token_name;
      upload.file_is_disposable = true;  // the build's own output, removed with its folder
      upload.provenance =
          catalog::Provenance{job_.source, job_.commit, job_.module, job_.id, "passed"};
      Result<catalog::FileRecord> existing = r_.index_.FindFile(upload.filename);
      if (existing && existing->provenance && existing->provenance->build_id == job_.id) {
        log_.Write("pipy: " + upload.filename + " was already published by this build\n");
        continue;
      }
      Result<index::PublishResult> result = r_.index_.PublishPython(builder, upload);
      if (!result) {
        return Fail("publishing " + upload.filename + ": " + result.error().message());
      }
      log_.Write("pipy: published " + upload.filename + "\n");
      published += (published.empty() ? "" : ", ") + upload.filename;
    }
    log_.Write("pipy: passed\n");
    return End{BuildStatus::kPassed, "tests passed; published " + published};
  }

  BuildRunner& r_;
  const BuildJob job_;
  const SourceEntry& source_;
  const std::atomic<bool>* cancel_;
  BuildLog log_;
  const std::filesystem::path work_;
  const std::filesystem::path src_;
  const std::filesystem::path venv_;
  const std::filesystem::path dist_;
};

BuildRunner::BuildRunner(RunnerOptions options, catalog::BuildQueue& queue, index::Index& index,
                         ProcessRunner& processes, Clock& clock,
                         std::map<std::string, SourceEntry> sources,
                         std::function<void(catalog::BuildStatus)> on_finished)
    : options_(std::move(options)),
      queue_(queue),
      index_(index),
      processes_(processes),
      clock_(clock),
      sources_(std::move(sources)),
      on_finished_(std::move(on_finished)) {}

Status BuildRunner::RunJob(const BuildJob& job, const std::atomic<bool>* cancel) {
  catalog::BuildResult result;
  ModuleConfig module;
  auto source = sources_.find(job.source);
  if (source == sources_.end() || source->second.git == nullptr) {
    std::string message = "source \"" + job.source + "\" is not configured on this server";
    (void)queue_.AppendLog(job.id, "pipy: failed: " + message + "\n", options_.max_log_bytes);
    result.status = BuildStatus::kFailed;
    result.message = message;
  } else {
    Job run(*this, job, source->second, cancel);
    Job::End end = run.Run(module);
    run.FlushLog();
    if (end.abandoned) {
      return Status::Ok();
    }
    result.status = end.status;
    result.message = std::move(end.message);
  }
  result.project = module.normalized_name;
  result.version = module.version;
  result.finished_ms = clock_.NowMs();
  PIPY_RETURN_IF_ERROR(queue_.Finish(job.id, result));
  if (on_finished_) {
    on_finished_(result.status);
  }
  return Status::Ok();
}

Result<bool> BuildRunner::RunNext(std::string_view runner_id, const std::atomic<bool>* cancel) {
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, queue_.ClaimNext(runner_id, clock_.NowMs()));
  if (!job) {
    return false;
  }
  PIPY_RETURN_IF_ERROR(RunJob(*job, cancel));
  return true;
}

RunnerPool::RunnerPool(BuildRunner& runner, std::string node_id, int concurrency)
    : runner_(runner), node_id_(std::move(node_id)), concurrency_(std::max(concurrency, 1)) {}

RunnerPool::~RunnerPool() { Stop(); }

void RunnerPool::Start() {
  cancel_ = false;
  for (int i = 0; i < concurrency_; ++i) {
    threads_.emplace_back([this, i] { Loop(node_id_ + "/" + std::to_string(i)); });
  }
}

void RunnerPool::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  wake_.notify_all();
}

void RunnerPool::Stop() {
  cancel_ = true;
  wake_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
  threads_.clear();
}

void RunnerPool::Loop(std::string runner_id) {
  while (!cancel_) {
    Result<bool> ran = runner_.RunNext(runner_id, &cancel_);
    if (!ran) {
      std::cerr << "pipy: builder " << runner_id << ": " << ran.error().message() << std::endl;
    }
    if (ran && *ran) {
      continue;
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return cancel_ || notified_; });
    notified_ = false;
  }
}

}  // namespace pipy::builder
