#include "builder/build_runner.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <iostream>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "builder/build_log.h"
#include "builder/dependencies.h"
#include "builder/module.h"
#include "builder/sandbox.h"
#include "python/publish.h"
#include "python/python_format.h"

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

// A pyproject.toml is small; anything past `limit` (1 MiB) is not read.
std::string ReadSmallFile(const std::filesystem::path& path, std::size_t limit = 1 << 20) {
  std::ifstream in(path, std::ios::binary);
  std::string text(limit, '\0');
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

// The output a step's failure is explained from: its last 64 KiB.
constexpr std::size_t kMaxCapturedOutput = 64 * 1024;

// pip's installation report carries every dependency's metadata, READMEs included.
constexpr std::size_t kMaxReportBytes = 16 << 20;

// A build's read credential: registered with the authenticator while it lives (only
// during the downloads), so a leaked copy is worthless once they are done.
class BuildCredential {
 public:
  BuildCredential(auth::Authenticator* authenticator, std::int64_t build_id)
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
  ~BuildCredential() { Revoke(); }
  BuildCredential(const BuildCredential&) = delete;
  BuildCredential& operator=(const BuildCredential&) = delete;

  // Empty when there is no authenticator (reads are then anonymous).
  const std::string& secret() const { return secret_; }
  void Revoke() {
    if (authenticator_ != nullptr && !secret_.empty()) {
      authenticator_->RemoveInternalToken(secret_);
    }
    authenticator_ = nullptr;
  }

 private:
  auth::Authenticator* authenticator_;
  std::string secret_;
};

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
        dist_(work_ / "dist"),
        home_(work_ / "home"),
        wheels_(work_ / "wheels") {}

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
    std::filesystem::create_directories(home_, ec);
    std::filesystem::create_directories(wheels_, ec);
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
    // Not through a symlink: the checkout's links may point anywhere on this machine.
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path, ec))) {
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
    auto view = r_.index_.GetProject(python::PythonFormat(), module.normalized_name);
    if (!view && view.error().code() == StatusCode::kNotFound) {
      return false;
    }
    PIPY_RETURN_IF_ERROR(view.status());
    for (const catalog::FileRecord& f : (*view)->files) {
      if (f.version == module.version &&
          !(f.provenance && f.provenance->build_id == job_.id)) {
        return true;
      }
    }
    return false;
  }

  // How one step runs. Every step is sandboxed (sandbox.h); by default it may write the
  // whole work folder and has no network.
  struct StepOptions {
    std::chrono::milliseconds timeout{0};
    std::uint64_t memory_limit = 0;
    bool network = false;      // only the steps that download from Pipy
    bool module_code = false;  // runs in the module's folder with it on PYTHONPATH
    // When not empty: only these are writable, the rest of the work folder is read-only.
    std::vector<std::filesystem::path> writable;
    // "NAME=value" entries passed to the step but never logged (the index credential).
    std::vector<std::string> secret_env;
    // Given the step's output when it fails; a non-empty answer says why in the message.
    std::function<std::string(std::string_view output)> explain;
  };

  // The whole environment of a step: nothing of the server's own (its secrets) is passed.
  std::vector<std::string> Env(const StepOptions& options) const {
    std::vector<std::string> env = {
        "PATH=" + (venv_ / "bin").string() + ":/usr/local/bin:/usr/bin:/bin",
        "HOME=" + home_.string(),
        "VIRTUAL_ENV=" + venv_.string(),
        "LANG=C.UTF-8",
        "PYTHONDONTWRITEBYTECODE=1",
        "PYTHONUNBUFFERED=1",
        "PIP_CONFIG_FILE=/dev/null",  // the host's pip configuration is not Pipy's
        "PIP_DISABLE_PIP_VERSION_CHECK=1",
        "PIP_NO_INPUT=1"};
    if (options.module_code) {
      env.push_back("PYTHONPATH=" + src_.string() + ":" + (src_ / "src").string());
    }
    env.insert(env.end(), options.secret_env.begin(), options.secret_env.end());
    return env;
  }

  std::vector<std::string> Sandboxed(const StepOptions& options,
                                     const std::vector<std::string>& command) const {
    SandboxSpec sandbox;
    sandbox.bwrap = r_.options_.bwrap;
    sandbox.network = options.network;
    sandbox.hidden_dirs = r_.options_.hidden_dirs;
    sandbox.hidden_files = r_.options_.hidden_files;
    if (options.writable.empty()) {
      sandbox.writable = {work_};
    } else {
      sandbox.read_only = {work_};
      sandbox.writable = options.writable;
    }
    sandbox.chdir = options.module_code ? src_ : work_;
    return SandboxArgv(sandbox, command);
  }

  // Runs one step in the sandbox, its output into the log. nullopt when it succeeded;
  // otherwise how the job ends, with `what` naming the step.
  std::optional<End> Step(std::string_view what, const std::vector<std::string>& command,
                          const StepOptions& options) {
    ProcessSpec spec;
    spec.argv = Sandboxed(options, command);
    spec.env = Env(options);
    spec.cwd = work_;
    spec.timeout = options.timeout;
    spec.memory_limit = options.memory_limit;
    spec.cancel = cancel_;
    log_.Write("\n$ " + Join(command) + "\n");
    std::string output;
    Result<ProcessResult> result =
        r_.processes_.Run(spec, [this, &output, &options](std::string_view chunk) {
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
      return End{BuildStatus::kRunning, "", true};
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

  StepOptions PipStep() const {
    StepOptions options;
    options.timeout = r_.options_.step_timeout;
    return options;
  }

  std::vector<std::string> Pip(std::initializer_list<std::string> args) const {
    // -I: neither the working folder nor PYTHON* variables put anything before pip's own
    // modules on sys.path.
    std::vector<std::string> argv = {(venv_ / "bin" / "python").string(), "-I", "-m", "pip"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  std::optional<End> CreateVenv() {
    // Debian's pip from the system site packages installs into the venv; not copying pip
    // in saves ~2 s per build.
    return Step("creating the virtual environment",
                {r_.options_.python, "-I", "-m", "venv", "--system-site-packages",
                 "--without-pip", venv_.string()},
                PipStep());
  }

  // Why resolving the dependencies failed, from pip's output.
  std::string ExplainResolveFailure(std::string_view output) const {
    if (!r_.options_.index_refusal.empty()) {
      return r_.options_.index_refusal;
    }
    std::string missing = MissingDistribution(output);
    if (missing.empty()) {
      return "";
    }
    return "Pipy installs build dependencies from wheels only, and found no wheel of \"" +
           missing + "\" on this server (a project that has only an sdist, or none at all, " +
           "cannot be a dependency of a built module)";
  }

  // Three steps, so that no code of a dependency ever runs where the index credential is:
  //   1. resolve (pip install --dry-run --only-binary=:all: --report): wheels only, so pip
  //      runs no package code (no setup.py, no build backend); Debian's own packages count
  //      as installed; network, the credential, only the home folder writable;
  //   2. download what step 1 would install (pip download --no-deps --only-binary=:all:);
  //      then the credential is revoked;
  //   3. install from those wheels with no index, no network and no credential.
  std::optional<End> InstallDependencies(const ModuleConfig& module) {
    std::vector<std::string> requirements = module.dependencies;
    requirements.insert(requirements.end(), module.test_dependencies.begin(),
                        module.test_dependencies.end());
    if (requirements.empty()) {
      log_.Write("\npipy: no dependencies to install\n");
      return std::nullopt;
    }
    BuildCredential credential(r_.options_.authenticator, job_.id);
    StepOptions online = PipStep();
    online.network = true;
    online.writable = {home_};
    // The credential reaches pip through its environment, so it never appears in the
    // (readable) build log, and only in these two steps.
    const std::string& url = r_.options_.index_url;
    const std::string& secret = credential.secret();
    online.secret_env = {"PIP_INDEX_URL=" +
                         (secret.empty() ? url : IndexUrlWithCredential(url, secret))};
    online.explain = [this](std::string_view output) { return ExplainResolveFailure(output); };
    const std::filesystem::path report = home_ / "install-report.json";
    std::vector<std::string> resolve =
        Pip({"install", "--dry-run", "--only-binary=:all:", "--report", report.string()});
    resolve.insert(resolve.end(), requirements.begin(), requirements.end());
    if (std::optional<End> end = Step("resolving the dependencies", resolve, online)) {
      return end;
    }
    Result<std::vector<std::string>> pins =
        PinsFromInstallReport(ReadSmallFile(report, kMaxReportBytes));
    if (!pins) {
      return Fail("resolving the dependencies: " + pins.error().message());
    }
    if (pins->empty()) {
      log_.Write("\npipy: every dependency is already installed on this machine\n");
      return std::nullopt;
    }
    std::vector<std::string> download =
        Pip({"download", "--no-deps", "--only-binary=:all:", "--dest", wheels_.string()});
    download.insert(download.end(), pins->begin(), pins->end());
    online.writable = {home_, wheels_};
    if (std::optional<End> end = Step("downloading the dependencies", download, online)) {
      return end;
    }
    credential.Revoke();
    std::vector<std::string> install =
        Pip({"install", "--no-index", "--find-links", wheels_.string(), "--only-binary=:all:",
             "--no-build-isolation"});
    install.insert(install.end(), requirements.begin(), requirements.end());
    return Step("installing the dependencies", install, PipStep());
  }

  std::optional<End> RunTests(const ModuleConfig& module) {
    StepOptions options;
    options.timeout = r_.options_.timeout;
    options.memory_limit = r_.options_.memory_limit;
    options.module_code = true;
    return Step("the tests", {"/bin/sh", "-c", module.test_command}, options);
  }

  std::optional<End> BuildDistributions(const ModuleConfig& module) {
    std::vector<std::string> command = {(venv_ / "bin" / "python").string(), "-m", "build",
                                        "--no-isolation"};
    if (NeedsSkipDependencyCheck(module)) {
      command.push_back("-x");
    }
    command.insert(command.end(), {"--outdir", dist_.string(), src_.string()});
    StepOptions options = PipStep();
    options.module_code = true;
    return Step("building the sdist and wheel", command, options);
  }

  End Publish(const ModuleConfig& module) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dist_, ec)) {
      // The sandboxed build wrote this folder: a symlink could point at a file of the
      // server's own, which must never be published.
      if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) {
        return Fail("the build produced " + entry.path().filename().string() +
                    ", which is not a regular file");
      }
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
      python::DistributionUpload upload;
      upload.file = file;
      upload.filename = file.filename().string();
      upload.uploader = builder.token_name;
      upload.file_is_disposable = true;  // the build's own output, removed with its folder
      upload.provenance =
          catalog::Provenance{job_.source, job_.commit, job_.module, job_.id, "passed"};
      Result<catalog::FileRecord> existing = python::FindDistributionFile(r_.index_, upload.filename);
      if (existing && existing->provenance && existing->provenance->build_id == job_.id) {
        log_.Write("pipy: " + upload.filename + " was already published by this build\n");
        continue;
      }
      Result<index::PublishResult> result = python::PublishDistribution(r_.index_, builder, upload);
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
  const std::filesystem::path home_;    // HOME: pip's cache and the resolver's report
  const std::filesystem::path wheels_;  // the downloaded dependencies
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
