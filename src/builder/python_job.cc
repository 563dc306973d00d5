// A Python module's build job (build_runner.h describes the steps).
#include <initializer_list>

#include "builder/dependencies.h"
#include "builder/job_steps.h"
#include "builder/module.h"
#include "python/publish.h"
#include "python/python_format.h"

namespace pipy::builder {
namespace {

// pip's installation report carries every dependency's metadata, READMEs included.
constexpr std::size_t kMaxReportBytes = 16 << 20;

class PythonJob {
 public:
  explicit PythonJob(const JobContext& context)
      : steps_(context),
        o_(context.options),
        venv_(steps_.work() / "venv"),
        dist_(steps_.work() / "dist"),
        wheels_(steps_.work() / "wheels") {
    steps_.set_env({"PATH=" + (venv_ / "bin").string() + ":" + std::string(kSystemPath),
                    "HOME=" + steps_.home().string(), "VIRTUAL_ENV=" + venv_.string(),
                    "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1",
                    "PIP_CONFIG_FILE=/dev/null",  // the host's pip configuration is not Pipy's
                    "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1"});
  }

  JobEnd Run() {
    if (std::optional<JobEnd> end = steps_.Prepare()) {
      return *end;
    }
    std::error_code ec;
    std::filesystem::create_directories(wheels_, ec);
    ModuleConfig module;
    std::optional<JobEnd> end = ReadModule(module);
    if (!end) {
      steps_.log().Write("pipy: project " + module.normalized_name + " version " +
                         module.version + "; test command: " + module.test_command + "\n");
      if (!(end = CreateVenv()) && !(end = InstallDependencies(module)) &&
          !(end = RunTests(module)) && !(end = BuildDistributions(module))) {
        end = Publish();
      }
    }
    end->project = module.normalized_name;
    end->version = module.version;
    return *end;
  }

 private:
  using StepOptions = JobSteps::StepOptions;

  std::optional<JobEnd> ReadModule(ModuleConfig& module) {
    const std::filesystem::path path = steps_.src() / "pyproject.toml";
    if (!IsPlainFile(path)) {
      return steps_.Fail("the module has no pyproject.toml");
    }
    Result<ModuleConfig> parsed = ParseModuleConfig(ReadSmallFile(path));
    if (!parsed) {
      return steps_.Fail(parsed.error().message());
    }
    module = std::move(*parsed);
    if (std::optional<JobEnd> end = steps_.CheckScope(module.normalized_name, "project")) {
      return end;
    }
    Result<bool> published =
        steps_.PublishedByOthers(python::PythonFormat(), module.normalized_name, module.version);
    if (!published) {
      return steps_.Fail("cannot read the catalog: " + published.error().message());
    }
    if (*published) {
      return steps_.Skip(module.normalized_name + " " + module.version +
                         " is already published; nothing to do (bump the version in "
                         "pyproject.toml to publish a new one)");
    }
    return std::nullopt;
  }

  // The steps that run the module's own code: in its folder, with it on PYTHONPATH.
  StepOptions ModuleStep() const {
    StepOptions options;
    options.chdir = steps_.src();
    options.env = {"PYTHONPATH=" + steps_.src().string() + ":" + (steps_.src() / "src").string()};
    return options;
  }

  StepOptions PipStep() const {
    StepOptions options;
    options.timeout = o_.step_timeout;
    return options;
  }

  std::vector<std::string> Pip(std::initializer_list<std::string> args) const {
    // -I: neither the working folder nor PYTHON* variables put anything before pip's own
    // modules on sys.path.
    std::vector<std::string> argv = {(venv_ / "bin" / "python").string(), "-I", "-m", "pip"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  std::optional<JobEnd> CreateVenv() {
    // Debian's pip from the system site packages installs into the venv; not copying pip
    // in saves ~2 s per build.
    return steps_.Step("creating the virtual environment",
                       {o_.python, "-I", "-m", "venv", "--system-site-packages",
                        "--without-pip", venv_.string()},
                       PipStep());
  }

  // Why resolving the dependencies failed, from pip's output.
  std::string ExplainResolveFailure(std::string_view output) const {
    if (!o_.index_refusal.empty()) {
      return o_.index_refusal;
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
  std::optional<JobEnd> InstallDependencies(const ModuleConfig& module) {
    std::vector<std::string> requirements = module.dependencies;
    requirements.insert(requirements.end(), module.test_dependencies.begin(),
                        module.test_dependencies.end());
    if (requirements.empty()) {
      steps_.log().Write("\npipy: no dependencies to install\n");
      return std::nullopt;
    }
    BuildCredential credential(o_.authenticator, steps_.context().job.id);
    StepOptions online = PipStep();
    online.network = true;
    online.writable = {steps_.home()};
    // The credential reaches pip through its environment, so it never appears in the
    // (readable) build log, and only in these two steps.
    const std::string& url = o_.index_url;
    const std::string& secret = credential.secret();
    online.secret_env = {"PIP_INDEX_URL=" +
                         (secret.empty() ? url : IndexUrlWithCredential(url, secret))};
    if (std::string host = LoopbackHttpsHost(url); !host.empty()) {
      online.env.push_back("PIP_TRUSTED_HOST=" + host);  // see LoopbackHttpsHost
    }
    online.explain = [this](std::string_view output) { return ExplainResolveFailure(output); };
    const std::filesystem::path report = steps_.home() / "install-report.json";
    std::vector<std::string> resolve =
        Pip({"install", "--dry-run", "--only-binary=:all:", "--report", report.string()});
    resolve.insert(resolve.end(), requirements.begin(), requirements.end());
    if (std::optional<JobEnd> end = steps_.Step("resolving the dependencies", resolve, online)) {
      return end;
    }
    Result<std::vector<std::string>> pins =
        PinsFromInstallReport(ReadSmallFile(report, kMaxReportBytes));
    if (!pins) {
      return steps_.Fail("resolving the dependencies: " + pins.error().message());
    }
    if (pins->empty()) {
      steps_.log().Write("\npipy: every dependency is already installed on this machine\n");
      return std::nullopt;
    }
    std::vector<std::string> download =
        Pip({"download", "--no-deps", "--only-binary=:all:", "--dest", wheels_.string()});
    download.insert(download.end(), pins->begin(), pins->end());
    online.writable = {steps_.home(), wheels_};
    if (std::optional<JobEnd> end =
            steps_.Step("downloading the dependencies", download, online)) {
      return end;
    }
    credential.Revoke();
    std::vector<std::string> install =
        Pip({"install", "--no-index", "--find-links", wheels_.string(), "--only-binary=:all:",
             "--no-build-isolation"});
    install.insert(install.end(), requirements.begin(), requirements.end());
    return steps_.Step("installing the dependencies", install, PipStep());
  }

  std::optional<JobEnd> RunTests(const ModuleConfig& module) {
    StepOptions options = ModuleStep();
    options.timeout = o_.timeout;
    options.memory_limit = o_.memory_limit;
    return steps_.Step("the tests", {"/bin/sh", "-c", module.test_command}, options);
  }

  std::optional<JobEnd> BuildDistributions(const ModuleConfig& module) {
    std::vector<std::string> command = {(venv_ / "bin" / "python").string(), "-m", "build",
                                        "--no-isolation"};
    if (NeedsSkipDependencyCheck(module)) {
      command.push_back("-x");
    }
    command.insert(command.end(), {"--outdir", dist_.string(), steps_.src().string()});
    StepOptions options = ModuleStep();
    options.timeout = o_.step_timeout;
    return steps_.Step("building the sdist and wheel", command, options);
  }

  JobEnd Publish() {
    Result<std::vector<std::filesystem::path>> files = OutputFiles(dist_);
    if (!files) {
      return steps_.Fail(files.error().message());
    }
    if (files->empty()) {
      return steps_.Fail("the build produced no distribution");
    }
    const auth::Principal builder = steps_.Publisher();
    std::string published;
    for (const std::filesystem::path& file : *files) {
      python::DistributionUpload upload;
      upload.file = file;
      upload.filename = file.filename().string();
      upload.uploader = builder.token_name;
      upload.file_is_disposable = true;  // the build's own output, removed with its folder
      upload.provenance = steps_.Provenance();
      Result<catalog::FileRecord> existing =
          python::FindDistributionFile(steps_.context().index, upload.filename);
      if (existing && steps_.PublishedByThisJob(*existing)) {
        steps_.log().Write("pipy: " + upload.filename + " was already published by this build\n");
        continue;
      }
      Result<index::PublishResult> result =
          python::PublishDistribution(steps_.context().index, builder, upload);
      if (!result) {
        return steps_.Fail("publishing " + upload.filename + ": " + result.error().message());
      }
      steps_.log().Write("pipy: published " + upload.filename + "\n");
      published += (published.empty() ? "" : ", ") + upload.filename;
    }
    steps_.log().Write("pipy: passed\n");
    return Ended(catalog::BuildStatus::kPassed, "tests passed; published " + published);
  }

  JobSteps steps_;
  const RunnerOptions& o_;
  const std::filesystem::path venv_;
  const std::filesystem::path dist_;
  const std::filesystem::path wheels_;  // the downloaded dependencies
};

}  // namespace

JobEnd RunPythonJob(const JobContext& context) { return PythonJob(context).Run(); }

}  // namespace pipy::builder
