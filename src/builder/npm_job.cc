// An npm module's build job (build_runner.h describes the steps).
#include <fstream>

#include "builder/dependencies.h"
#include "builder/job_steps.h"
#include "builder/npm_module.h"
#include "core/npm_name.h"
#include "core/semver.h"
#include "npm/npm_format.h"
#include "npm/publish.h"
#include "npm/tarball.h"

namespace pipy::builder {
namespace {

// The environment variable the install step's .npmrc reads the build credential from.
constexpr std::string_view kTokenVariable = "PIPY_BUILD_NPM_TOKEN";

// "//host:port/path/" of a registry URL: the key npm files the registry's credential under.
std::string NerfDart(std::string_view url) {
  std::size_t scheme = url.find("://");
  std::string out = "//" + std::string(scheme == std::string_view::npos ? url : url.substr(scheme + 3));
  if (!out.ends_with('/')) {
    out += '/';
  }
  return out;
}

class NpmJob {
 public:
  explicit NpmJob(const JobContext& context)
      : steps_(context),
        o_(context.options),
        dist_(steps_.work() / "dist"),
        npmrc_(steps_.home() / "npmrc"),
        install_npmrc_(steps_.home() / "npmrc-install") {
    // npm reads only these configuration files: never the host's global or user one.
    steps_.set_env({"PATH=" + (steps_.src() / "node_modules" / ".bin").string() + ":" +
                        std::string(kSystemPath),
                    "HOME=" + steps_.home().string(), "LANG=C.UTF-8",
                    "npm_config_userconfig=" + npmrc_.string(),
                    "npm_config_globalconfig=" + (steps_.home() / "npmrc-global").string(),
                    "npm_config_cache=" + (steps_.home() / "npm-cache").string(),
                    "npm_config_update_notifier=false", "npm_config_fund=false",
                    "npm_config_audit=false", "NO_UPDATE_NOTIFIER=1"});
  }

  JobEnd Run() {
    if (std::optional<JobEnd> end = steps_.Prepare()) {
      return *end;
    }
    NpmModuleConfig module;
    std::optional<JobEnd> end = ReadModule(module);
    if (!end) {
      steps_.log().Write("pipy: package " + module.name + " version " + module.version +
                         "; test command: " + module.test_command + "\n");
      if (!(end = WriteConfig()) && !(end = InstallDependencies(module)) &&
          !(end = RunTests(module)) && !(end = Pack())) {
        end = Publish(module);
      }
    }
    end->project = module.name;
    end->version = module.version;
    return *end;
  }

 private:
  using StepOptions = JobSteps::StepOptions;

  std::optional<JobEnd> ReadModule(NpmModuleConfig& module) {
    const std::filesystem::path path = steps_.src() / "package.json";
    if (!IsPlainFile(path)) {
      return steps_.Fail("the module has no package.json");
    }
    Result<NpmModuleConfig> parsed = ParseNpmModule(ReadSmallFile(path));
    if (!parsed) {
      return steps_.Fail(parsed.error().message());
    }
    if (parsed->is_private) {
      return steps_.Fail("package.json says \"private\": true, so it is not a module to "
                         "publish");
    }
    module = std::move(*parsed);
    if (std::optional<JobEnd> end = steps_.CheckScope(module.name, "package")) {
      return end;
    }
    Result<bool> published =
        steps_.PublishedByOthers(npm::NpmFormat(), module.name, module.version);
    if (!published) {
      return steps_.Fail("cannot read the catalog: " + published.error().message());
    }
    if (*published) {
      return steps_.Skip(module.name + " " + module.version +
                         " is already published; nothing to do (bump the version in "
                         "package.json to publish a new one)");
    }
    if (module.test_command.empty()) {
      return steps_.Fail(std::string(kNoTestScriptMessage));
    }
    return std::nullopt;
  }

  // Pipy's registry for every step; the credential only in the install step's copy, read
  // from its environment (npm expands ${VAR} in .npmrc), so it is never in a file or a log.
  std::optional<JobEnd> WriteConfig() {
    std::string common = "registry=" + o_.npm_registry_url + "\n" +
                         // a lockfile's resolved URLs name whatever registry its author
                         // used: every tarball comes from Pipy
                         "replace-registry-host=always\n";
    if (!LoopbackHttpsHost(o_.npm_registry_url).empty()) {
      common += "strict-ssl=false\n";  // Pipy itself over loopback: see LoopbackHttpsHost
    }
    std::ofstream plain(npmrc_, std::ios::binary | std::ios::trunc);
    plain << common;
    std::ofstream global(steps_.home() / "npmrc-global", std::ios::binary | std::ios::trunc);
    std::ofstream install(install_npmrc_, std::ios::binary | std::ios::trunc);
    install << common;
    if (o_.authenticator != nullptr) {
      install << NerfDart(o_.npm_registry_url) << ":_authToken=${" << kTokenVariable << "}\n";
    }
    plain.close();
    global.close();
    install.close();
    if (!plain || !global || !install) {
      return steps_.Fail("cannot write the npm configuration of the build");
    }
    return std::nullopt;
  }

  // Two steps, so that no code of a dependency ever runs where the registry credential is:
  //   1. `npm ci` (with a lockfile) or `npm install`, --ignore-scripts: network, the
  //      credential, only the module's folder and the home folder writable;
  //   2. `npm rebuild`: the dependencies' install scripts, with no network and no credential.
  std::optional<JobEnd> InstallDependencies(const NpmModuleConfig& module) {
    const bool locked = IsPlainFile(steps_.src() / "package-lock.json") ||
                        IsPlainFile(steps_.src() / "npm-shrinkwrap.json");
    if (!locked && module.dependencies.empty() && module.dev_dependencies.empty()) {
      steps_.log().Write("\npipy: no dependencies to install\n");
      return std::nullopt;
    }
    BuildCredential credential(o_.authenticator, steps_.context().job.id);
    StepOptions online;
    online.timeout = o_.step_timeout;
    online.network = true;
    online.chdir = steps_.src();
    online.writable = {steps_.src(), steps_.home()};
    online.env = {"npm_config_userconfig=" + install_npmrc_.string()};
    if (!credential.secret().empty()) {
      online.secret_env = {std::string(kTokenVariable) + "=" + credential.secret()};
    }
    online.explain = [this](std::string_view) { return o_.index_refusal; };
    std::vector<std::string> install = {"npm", locked ? "ci" : "install", "--ignore-scripts",
                                        "--no-audit", "--no-fund", "--include=dev"};
    if (std::optional<JobEnd> end =
            steps_.Step("installing the dependencies", install, online)) {
      return end;
    }
    credential.Revoke();
    StepOptions offline;
    offline.timeout = o_.step_timeout;
    offline.chdir = steps_.src();
    offline.env = {"npm_config_offline=true"};
    return steps_.Step("running the dependencies' install scripts", {"npm", "rebuild"},
                       offline);
  }

  std::optional<JobEnd> RunTests(const NpmModuleConfig& module) {
    StepOptions options;
    options.timeout = o_.timeout;
    options.memory_limit = o_.memory_limit;
    options.chdir = steps_.src();
    options.env = {"npm_config_offline=true"};
    return steps_.Step("the tests", {"/bin/sh", "-c", module.test_command}, options);
  }

  // `npm pack` runs the module's prepack/prepare scripts, offline like its tests.
  std::optional<JobEnd> Pack() {
    std::error_code ec;
    std::filesystem::create_directories(dist_, ec);
    StepOptions options;
    options.timeout = o_.step_timeout;
    options.memory_limit = o_.memory_limit;
    options.chdir = steps_.src();
    options.env = {"npm_config_offline=true"};
    return steps_.Step("packing the tarball",
                       {"npm", "pack", "--pack-destination", dist_.string()}, options);
  }

  JobEnd Publish(const NpmModuleConfig& module) {
    Result<std::vector<std::filesystem::path>> files = OutputFiles(dist_);
    if (!files) {
      return steps_.Fail(files.error().message());
    }
    if (files->size() != 1 || files->front().extension() != ".tgz") {
      return steps_.Fail("npm pack produced " + std::to_string(files->size()) +
                         " files instead of one .tgz");
    }
    index::Index& index = steps_.context().index;
    // What was tested and checked is the package.json at the commit; a prepack script that
    // rewrote it would publish another name or version than the build record says.
    Result<npm::TarballContents> packed = npm::ReadTarball(index.options(), files->front(), false);
    if (!packed) {
      return steps_.Fail("npm pack produced an unusable tarball: " + packed.error().message());
    }
    const boost::json::value* packed_name = packed->package_json.if_contains("name");
    const boost::json::value* packed_version = packed->package_json.if_contains("version");
    auto parsed = packed_version != nullptr && packed_version->is_string()
                      ? semver::Version::Parse(std::string_view(packed_version->as_string()))
                      : Result<semver::Version>(InvalidArgument("no version"));
    if (packed_name == nullptr || !packed_name->is_string() ||
        packed_name->as_string() != module.name || !parsed || parsed->Key() != module.version) {
      return steps_.Fail("npm pack's package.json does not name " + module.name + "@" +
                         module.version + " (a prepack script changed it?); nothing was "
                         "published");
    }
    const std::string filename = npm_name::TarballFilename(module.name, module.version);
    Result<catalog::FileRecord> existing = index.FindFile(npm::NpmFormat(), module.name, filename);
    if (existing && steps_.PublishedByThisJob(*existing)) {
      steps_.log().Write("pipy: " + module.name + "@" + module.version +
                         " was already published by this build\n");
    } else {
      npm::PackedTarball tarball;
      tarball.file = files->front();
      tarball.file_is_disposable = true;  // the build's own output, removed with its folder
      tarball.provenance = steps_.Provenance();
      Result<npm::PublishOutcome> result =
          npm::PublishPackedTarball(index, steps_.Publisher(), tarball);
      if (!result) {
        return steps_.Fail("publishing " + module.name + "@" + module.version + ": " +
                           result.error().message());
      }
      steps_.log().Write("pipy: published " + module.name + "@" + module.version + "\n");
    }
    steps_.log().Write("pipy: passed\n");
    return Ended(catalog::BuildStatus::kPassed,
                 "tests passed; published " + module.name + "@" + module.version);
  }

  JobSteps steps_;
  const RunnerOptions& o_;
  const std::filesystem::path dist_;
  const std::filesystem::path npmrc_;          // every step's npm configuration
  const std::filesystem::path install_npmrc_;  // the install step's: with the credential
};

}  // namespace

JobEnd RunNpmJob(const JobContext& context) { return NpmJob(context).Run(); }

}  // namespace pipy::builder
