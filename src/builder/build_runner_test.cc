// The build runner's logic with a fake process runner (which "builds" real distributions
// with the test dist builder), a real git repository, a real index and SQLite queue.
#include "builder/build_runner.h"

#include <gtest/gtest.h>

#include <fstream>

#include "builder/test_repo.h"
#include "catalog/factory.h"
#include "catalog/sqlite_build_queue.h"
#include "python/publish.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::builder {
namespace {

using catalog::BuildStatus;
using testing::TestRepo;

struct FakeClock : Clock {
  std::int64_t NowMs() override { return 5'000; }
};

// The command a sandboxed step runs: what follows bwrap's "--".
std::vector<std::string> Inner(const ProcessSpec& spec) {
  auto dashes = std::find(spec.argv.begin(), spec.argv.end(), "--");
  if (spec.argv.empty() || spec.argv[0] != "bwrap" || dashes == spec.argv.end()) {
    return {};
  }
  return std::vector<std::string>(dashes + 1, spec.argv.end());
}

bool Has(const std::vector<std::string>& argv, std::string_view arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

// True when argv holds `a` immediately followed by `b` (and `c`, when given).
bool HasSequence(const std::vector<std::string>& argv, std::string_view a, std::string_view b,
                 std::string_view c = "") {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == a && argv[i + 1] == b &&
        (c.empty() || (i + 2 < argv.size() && argv[i + 2] == c))) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> EnvValue(const ProcessSpec& spec, std::string_view name) {
  std::string prefix = std::string(name) + "=";
  for (const std::string& e : spec.env) {
    if (e.starts_with(prefix)) {
      return e.substr(prefix.size());
    }
  }
  return std::nullopt;
}

// Records every command. The resolver writes a report installing `resolved`, answering
// `resolve_result`; "the tests" answer with `test_result`; `python -m build` writes a wheel
// and an sdist of `name`/`version` into its --outdir. `on_run` sees each spec as it runs.
class FakeProcesses : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec& spec, const OutputSink& sink) override {
    specs.push_back(spec);
    if (on_run) {
      on_run(spec);
    }
    const std::vector<std::string> argv = Inner(spec);
    if (argv.empty()) {
      return ProcessResult{1, 0, false, false};  // not sandboxed: refuse to "run" it
    }
    if (Has(argv, "/bin/sh")) {  // the test command
      sink(test_output);
      return test_result;
    }
    if (Has(argv, "--dry-run")) {
      sink(resolve_output);
      auto report = std::find(argv.begin(), argv.end(), "--report");
      std::ofstream out(*(report + 1));
      out << R"({"version": "1", "install": [)";
      for (std::size_t i = 0; i < resolved.size(); ++i) {
        out << (i ? "," : "") << R"({"is_direct": false, "metadata": {"name": ")"
            << resolved[i].first << R"(", "version": ")" << resolved[i].second << R"("}})";
      }
      out << "]}";
      return resolve_result;
    }
    if (Has(argv, "build")) {
      auto out = std::find(argv.begin(), argv.end(), "--outdir");
      std::filesystem::path dir = *(out + 1);
      std::filesystem::create_directories(dir);
      pipy::testing::MakeWheel(dir, name, version);
      pipy::testing::MakeSdist(dir, name, version);
      sink("Successfully built\n");
    }
    return ProcessResult{0, 0, false, false};
  }

  // The first spec whose sandboxed command holds `arg`.
  const ProcessSpec* Find(std::string_view arg) const {
    for (const ProcessSpec& spec : specs) {
      if (Has(Inner(spec), arg)) {
        return &spec;
      }
    }
    return nullptr;
  }

  std::vector<ProcessSpec> specs;
  std::function<void(const ProcessSpec&)> on_run;
  std::vector<std::pair<std::string, std::string>> resolved = {{"acme-core", "2.0"}};
  ProcessResult resolve_result{0, 0, false, false};
  std::string resolve_output = "Would install acme-core-2.0\n";
  ProcessResult test_result{0, 0, false, false};
  std::string test_output = "1 passed\n";
  std::string name = "acme-logger";
  std::string version = "1.0";
};

class BuildRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StorageOptions storage_options;
    storage_options.root = tmp_.path() / "data";
    blobs_ = std::move(storage::MakeBlobStore(storage_options).value());
    catalog::CatalogOptions catalog_options;
    catalog_options.sqlite_path = tmp_.path() / "data" / "catalog.db";
    catalog_ = std::move(catalog::MakeCatalog(catalog_options).value());
    queue_ = std::move(catalog::SqliteBuildQueue::Open(catalog_options.sqlite_path).value());
    index_ = std::make_unique<index::Index>(*blobs_, *catalog_);
    git_ = std::move(OpenLibgit2Source(repo_.path().string(), tmp_.path() / "mirror").value());
    authenticator_ = std::make_unique<auth::Authenticator>(
        std::move(auth::Authenticator::Create(*catalog_, {}).value()));
    source_.name = "mono";
    source_.scope = "acme-*";
    // As Builder::Create lays it out: the work folder inside the data folder.
    options_.work_dir = tmp_.path() / "data" / "builds";
    options_.index_url = "http://127.0.0.1:1/simple/";
    options_.authenticator = authenticator_.get();
    options_.hidden_dirs = {tmp_.path() / "data"};
    config_file_ = tmp_.path() / "pipy.toml";
    std::ofstream(config_file_) << "[[sources]]\nwebhook_secret = \"s3cret\"\n";
    options_.hidden_files = {config_file_};
    options_.timeout = std::chrono::milliseconds(1234);
    options_.memory_limit = 777;
    runner_ = std::make_unique<BuildRunner>(
        options_, *queue_, *index_, processes_, clock_,
        std::map<std::string, SourceEntry>{{"mono", SourceEntry{source_, git_.get()}}},
        [this](BuildStatus s) { finished_.push_back(s); });
  }

  // Commits, fetches and enqueues `module` at the new head; returns the job id.
  std::int64_t Enqueue(const std::string& module) {
    std::string commit = repo_.Commit("change");
    EXPECT_TRUE(git_->Fetch().ok());
    auto job = queue_->Enqueue(catalog::NewBuild{"mono", module, commit, 1});
    EXPECT_TRUE(job.has_value());
    return job->id;
  }

  catalog::BuildJob RunAndGet(std::int64_t id) {
    auto ran = runner_->RunNext("node/0", nullptr);
    EXPECT_TRUE(ran.has_value() && *ran) << (ran ? "" : ran.error().ToString());
    auto job = queue_->Get(id);
    EXPECT_TRUE(job.has_value() && job->has_value());
    return job->value_or(catalog::BuildJob{});
  }

  std::string Log(std::int64_t id) { return queue_->ReadLog(id, 0, 1 << 20).value_or(""); }

  std::size_t FileCount(const std::string& project) {
    return catalog_->ListFiles(catalog::kPython, project).value_or(std::vector<catalog::FileRecord>{}).size();
  }

  pipy::testing::TempDir tmp_;
  TestRepo repo_;
  FakeClock clock_;
  FakeProcesses processes_;
  config::SourceConfig source_;
  RunnerOptions options_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<catalog::BuildQueue> queue_;
  std::unique_ptr<index::Index> index_;
  std::unique_ptr<GitSource> git_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::filesystem::path config_file_;
  std::unique_ptr<BuildRunner> runner_;
  std::vector<BuildStatus> finished_;
};

TEST_F(BuildRunnerTest, APassingModuleIsPublishedWithProvenance) {
  repo_.WriteModule("logger", "acme-logger", "1.0",
                    "dependencies = [\"acme-core\"]\n[project.optional-dependencies]\n"
                    "test = [\"pytest\"]\n[tool.pipy]\ntest = \"pytest -q\"\n");
  std::int64_t id = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kPassed) << job.message << "\n" << Log(id);
  EXPECT_EQ(job.project, "acme-logger");
  EXPECT_EQ(job.version, "1.0");
  EXPECT_EQ(job.finished_ms, 5'000);
  EXPECT_EQ(finished_, std::vector<BuildStatus>{BuildStatus::kPassed});

  auto files = catalog_->ListFiles(catalog::kPython, "acme-logger");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 2u);
  for (const auto& f : *files) {
    ASSERT_TRUE(f.provenance.has_value()) << f.filename;
    EXPECT_EQ(f.provenance->build_id, id);
    EXPECT_EQ(f.provenance->module, "logger");
    EXPECT_EQ(f.provenance->commit, job.commit);
    EXPECT_EQ(f.provenance->test_result, "passed");
    EXPECT_EQ(f.uploader, "builder:mono");
  }

  const ProcessSpec* venv = processes_.Find("venv");
  ASSERT_NE(venv, nullptr);
  EXPECT_TRUE(Has(Inner(*venv), "--system-site-packages"));
  const ProcessSpec* test = processes_.Find("pytest -q");
  ASSERT_NE(test, nullptr);
  EXPECT_TRUE(Has(test->argv, "--unshare-net"));
  EXPECT_FALSE(EnvValue(*test, "PIP_INDEX_URL").has_value())
      << "the module's tests must not see the index credential";
  EXPECT_EQ(test->timeout, std::chrono::milliseconds(1234));
  EXPECT_EQ(test->memory_limit, 777u);
  const ProcessSpec* build = processes_.Find("--no-isolation");
  ASSERT_NE(build, nullptr);
  EXPECT_EQ(std::find(build->argv.begin(), build->argv.end(), "-x"), build->argv.end());
  EXPECT_NE(Log(id).find("1 passed"), std::string::npos) << Log(id);
  EXPECT_FALSE(std::filesystem::exists(options_.work_dir / std::to_string(id)))
      << "the work folder was left behind";
}

TEST_F(BuildRunnerTest, FailingTestsPublishNothingAndTheLogShowsThem) {
  repo_.WriteModule("logger", "acme-logger", "1.0");
  processes_.test_result = ProcessResult{1, 0, false, false};
  processes_.test_output = "FAILED test_logger.py::test_it - assert 1 == 2\n";
  std::int64_t id = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("the tests failed (exit status 1)"), std::string::npos)
      << job.message;
  EXPECT_NE(Log(id).find("FAILED test_logger.py::test_it"), std::string::npos);
  EXPECT_EQ(processes_.Find("--no-isolation"), nullptr) << "built despite failing tests";
  EXPECT_EQ(FileCount("acme-logger"), 0u);
}

TEST_F(BuildRunnerTest, TimedOutTestsFailSayingSo) {
  repo_.WriteModule("logger", "acme-logger", "1.0");
  processes_.test_result = ProcessResult{-1, 0, true, false};
  std::int64_t id = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("timed out after 1234ms"), std::string::npos) << job.message;
  EXPECT_EQ(FileCount("acme-logger"), 0u);
}

TEST_F(BuildRunnerTest, AnAlreadyPublishedVersionIsSkipped) {
  repo_.WriteModule("logger", "acme-logger", "1.0");
  std::int64_t first = Enqueue("logger");
  ASSERT_EQ(RunAndGet(first).status, BuildStatus::kPassed);
  processes_.specs.clear();
  repo_.Write("logger/logger.py", "VALUE = 2\n");
  std::int64_t second = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(second);
  EXPECT_EQ(job.status, BuildStatus::kSkipped);
  EXPECT_NE(job.message.find("acme-logger 1.0 is already published"), std::string::npos)
      << job.message;
  EXPECT_NE(Log(second).find("already published"), std::string::npos);
  EXPECT_TRUE(processes_.specs.empty()) << "a skipped build ran commands";
}

TEST_F(BuildRunnerTest, AProjectOutsideTheScopeIsRefused) {
  repo_.WriteModule("evil", "requests", "99.0");
  processes_.name = "requests";
  processes_.version = "99.0";
  std::int64_t id = Enqueue("evil");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("outside the scope \"acme-*\""), std::string::npos) << job.message;
  EXPECT_EQ(FileCount("requests"), 0u);
  EXPECT_TRUE(processes_.specs.empty());
}

TEST_F(BuildRunnerTest, AMalformedPyprojectFailsWithAClearMessage) {
  repo_.Write("broken/pyproject.toml", "[project\nname = \"acme-broken\"\n");
  std::int64_t id = Enqueue("broken");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("pyproject.toml is not valid TOML"), std::string::npos)
      << job.message;
  EXPECT_NE(Log(id).find("not valid TOML"), std::string::npos);
}

TEST_F(BuildRunnerTest, HatchlingModulesAreBuiltWithSkipDependencyCheck) {
  repo_.WriteModule("logger", "acme-logger", "1.0",
                    "[build-system]\nrequires = [\"hatchling\"]\n"
                    "build-backend = \"hatchling.build\"\n");
  std::int64_t id = Enqueue("logger");
  EXPECT_EQ(RunAndGet(id).status, BuildStatus::kPassed);
  const ProcessSpec* build = processes_.Find("--no-isolation");
  ASSERT_NE(build, nullptr);
  EXPECT_NE(std::find(build->argv.begin(), build->argv.end(), "-x"), build->argv.end());
}

TEST_F(BuildRunnerTest, AnInterruptedJobStaysRunningAndItsRerunPublishesOnce) {
  repo_.WriteModule("logger", "acme-logger", "1.0");
  std::int64_t id = Enqueue("logger");
  processes_.test_result = ProcessResult{-1, 0, false, true};  // shutdown mid-test
  auto ran = runner_->RunNext("node/0", nullptr);
  ASSERT_TRUE(ran.has_value() && *ran);
  auto job = queue_->Get(id);
  ASSERT_TRUE(job.has_value() && job->has_value());
  EXPECT_EQ((*job)->status, BuildStatus::kRunning);
  EXPECT_TRUE(finished_.empty());

  // A crash after the sdist was published: the re-run finishes the publication.
  auto sdist_dir = tmp_.path() / "partial";
  std::filesystem::create_directories(sdist_dir);
  python::DistributionUpload upload;
  upload.file = pipy::testing::MakeSdist(sdist_dir, "acme-logger", "1.0");
  upload.filename = upload.file.filename().string();
  upload.provenance = catalog::Provenance{"mono", (*job)->commit, "logger", id, "passed"};
  auth::Principal admin;
  admin.anonymous = false;
  admin.scopes = {"admin"};
  ASSERT_TRUE(python::PublishDistribution(*index_, admin, upload).has_value());

  ASSERT_EQ(queue_->RequeueRunning("node/").value_or(0), 1);
  processes_.test_result = ProcessResult{0, 0, false, false};
  catalog::BuildJob rerun = RunAndGet(id);
  EXPECT_EQ(rerun.status, BuildStatus::kPassed) << rerun.message << "\n" << Log(id);
  EXPECT_EQ(FileCount("acme-logger"), 2u);
  EXPECT_NE(Log(id).find("re-queued"), std::string::npos);
}

TEST_F(BuildRunnerTest, AnUnknownSourceFails) {
  std::string commit = std::string(40, 'a');
  auto job = queue_->Enqueue(catalog::NewBuild{"gone", "logger", commit, 1});
  ASSERT_TRUE(job.has_value());
  catalog::BuildJob done = RunAndGet(job->id);
  EXPECT_EQ(done.status, BuildStatus::kFailed);
  EXPECT_NE(done.message.find("not configured"), std::string::npos);
}

TEST_F(BuildRunnerTest, DependenciesComeAsWheelsWithAPerBuildCredentialAndInstallOffline) {
  repo_.WriteModule("logger", "acme-logger", "1.0",
                    "dependencies = [\"acme-core\"]\n[project.optional-dependencies]\n"
                    "test = [\"pytest\"]\n");
  std::int64_t id = Enqueue("logger");
  // The server's own secrets live in its environment; no step may inherit them.
  setenv("AWS_SECRET_ACCESS_KEY", "server-secret-value", 1);
  std::vector<std::string> secrets_seen;
  processes_.on_run = [&](const ProcessSpec& spec) {
    std::optional<std::string> url = EnvValue(spec, "PIP_INDEX_URL");
    if (!url) {
      return;
    }
    // The credential works while the downloads run, as a read-only principal of its own.
    std::string secret = url->substr(url->find("__token__:") + 10);
    secret = secret.substr(0, secret.find('@'));
    secrets_seen.push_back(secret);
    auto who = authenticator_->Authenticate("Bearer " + secret);
    ASSERT_TRUE(who) << who.error().ToString();
    EXPECT_EQ(who->token_name, "builder:" + std::to_string(id));
    EXPECT_EQ(who->scopes, std::vector<std::string>{"read"});
    EXPECT_FALSE(who->CanUpload("acme-logger"));
  };
  catalog::BuildJob job = RunAndGet(id);
  unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_EQ(job.status, BuildStatus::kPassed) << job.message << "\n" << Log(id);

  const std::filesystem::path data = tmp_.path() / "data";
  const std::filesystem::path work = options_.work_dir / std::to_string(id);
  const std::string wheels = (work / "wheels").string();
  const std::string home = (work / "home").string();

  const ProcessSpec* resolve = processes_.Find("--dry-run");
  ASSERT_NE(resolve, nullptr);
  std::vector<std::string> resolve_cmd = Inner(*resolve);
  EXPECT_TRUE(Has(resolve_cmd, "--only-binary=:all:"));
  EXPECT_TRUE(Has(resolve_cmd, "-I")) << "the module's files must not shadow pip's modules";
  EXPECT_TRUE(Has(resolve_cmd, "acme-core") && Has(resolve_cmd, "pytest"));
  EXPECT_FALSE(Has(resolve->argv, "--unshare-net")) << "the resolver reads Pipy";
  EXPECT_TRUE(HasSequence(resolve->argv, "--ro-bind", work.string(), work.string()));
  EXPECT_TRUE(HasSequence(resolve->argv, "--bind", home, home));
  EXPECT_FALSE(HasSequence(resolve->argv, "--bind", work.string(), work.string()));

  const ProcessSpec* download = processes_.Find("download");
  ASSERT_NE(download, nullptr);
  std::vector<std::string> download_cmd = Inner(*download);
  EXPECT_TRUE(Has(download_cmd, "--only-binary=:all:"));
  EXPECT_TRUE(Has(download_cmd, "--no-deps"));
  EXPECT_TRUE(Has(download_cmd, "acme-core==2.0"));
  EXPECT_TRUE(HasSequence(download_cmd, "--dest", wheels));
  EXPECT_TRUE(HasSequence(download->argv, "--bind", wheels, wheels));
  EXPECT_FALSE(HasSequence(download->argv, "--bind", work.string(), work.string()));

  // One credential for both online steps, in their environment only (argv is logged).
  ASSERT_EQ(secrets_seen.size(), 2u);
  EXPECT_EQ(secrets_seen[0], secrets_seen[1]);
  const std::string& secret = secrets_seen[0];
  EXPECT_TRUE(secret.starts_with("pipy_")) << secret;
  EXPECT_EQ(EnvValue(*download, "PIP_INDEX_URL"),
            "http://__token__:" + secret + "@127.0.0.1:1/simple/");

  const ProcessSpec* install = processes_.Find("--no-index");
  ASSERT_NE(install, nullptr);
  std::vector<std::string> install_cmd = Inner(*install);
  EXPECT_TRUE(Has(install_cmd, "install") && Has(install_cmd, "--only-binary=:all:"));
  EXPECT_TRUE(HasSequence(install_cmd, "--find-links", wheels));
  EXPECT_TRUE(Has(install_cmd, "acme-core") && Has(install_cmd, "pytest"));
  EXPECT_TRUE(Has(install->argv, "--unshare-net")) << "the install runs offline";
  EXPECT_FALSE(EnvValue(*install, "PIP_INDEX_URL").has_value());

  for (const ProcessSpec& spec : processes_.specs) {
    std::string what = spec.argv.empty() ? "" : spec.argv.back();
    ASSERT_FALSE(spec.argv.empty());
    EXPECT_EQ(spec.argv[0], "bwrap") << what << ": every step runs in the sandbox";
    // bwrap mounts in order: the data folder is hidden, then the work folder bound back.
    auto hidden = std::find(spec.argv.begin(), spec.argv.end(), data.string());
    auto work_bound = std::find(spec.argv.begin(), spec.argv.end(), work.string());
    ASSERT_NE(hidden, spec.argv.end()) << what;
    EXPECT_EQ(*(hidden - 1), "--tmpfs") << what << ": the data folder must be hidden";
    EXPECT_LT(hidden, work_bound) << what;
    EXPECT_TRUE(HasSequence(spec.argv, "--ro-bind", "/dev/null", config_file_.string()))
        << what << ": the config file must be hidden";
    for (const std::string& e : spec.env) {
      EXPECT_EQ(e.find("server-secret-value"), std::string::npos) << what << ": " << e;
      if (&spec != &*resolve && &spec != &*download) {
        EXPECT_EQ(e.find(secret), std::string::npos) << what << ": " << e;
      }
    }
  }
  // Revoked once the downloads were done: a copy read later is worthless.
  auto after = authenticator_->Authenticate("Bearer " + secret);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Log(id).find(secret), std::string::npos) << Log(id);
  EXPECT_EQ(Log(id).find("127.0.0.1:1/simple"), std::string::npos) << Log(id);
}

TEST_F(BuildRunnerTest, ADependencyWithoutAWheelFailsSayingWheelsOnly) {
  repo_.WriteModule("logger", "acme-logger", "1.0", "dependencies = [\"evil-dep>=1\"]\n");
  processes_.resolve_result = ProcessResult{1, 0, false, false};
  processes_.resolve_output =
      "ERROR: Could not find a version that satisfies the requirement evil-dep>=1 (from "
      "versions: none)\nERROR: No matching distribution found for evil-dep>=1\n";
  std::string secret;
  processes_.on_run = [&](const ProcessSpec& spec) {
    std::string url = EnvValue(spec, "PIP_INDEX_URL").value_or("");
    if (!url.empty()) {
      secret = url.substr(url.find("__token__:") + 10);
      secret = secret.substr(0, secret.find('@'));
    }
  };
  std::int64_t id = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("from wheels only"), std::string::npos) << job.message;
  EXPECT_NE(job.message.find("\"evil-dep\""), std::string::npos) << job.message;
  EXPECT_NE(Log(id).find("from wheels only"), std::string::npos);
  EXPECT_EQ(processes_.Find("download"), nullptr);
  EXPECT_EQ(processes_.Find("--no-index"), nullptr);
  EXPECT_EQ(processes_.Find("/bin/sh"), nullptr) << "the tests ran without dependencies";
  ASSERT_FALSE(secret.empty());
  EXPECT_FALSE(authenticator_->Authenticate("Bearer " + secret)) << "credential not revoked";
  EXPECT_EQ(FileCount("acme-logger"), 0u);
}

TEST_F(BuildRunnerTest, AnIndexThatRefusesTheBuildersAddressSaysSo) {
  runner_->set_index("http://127.0.0.1:1/simple/",
                     "the allowlist ([access] allow) refuses 127.0.0.1");
  repo_.WriteModule("logger", "acme-logger", "1.0", "dependencies = [\"acme-core\"]\n");
  processes_.resolve_result = ProcessResult{1, 0, false, false};
  processes_.resolve_output = "ERROR: No matching distribution found for acme-core\n";
  std::int64_t id = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("the allowlist ([access] allow) refuses 127.0.0.1"),
            std::string::npos)
      << job.message;
}

TEST_F(BuildRunnerTest, DependenciesTheMachineAlreadyHasAreNotDownloaded) {
  repo_.WriteModule("logger", "acme-logger", "1.0",
                    "[project.optional-dependencies]\ntest = [\"pytest\"]\n");
  processes_.resolved = {};  // Debian's pytest satisfies it
  std::int64_t id = Enqueue("logger");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kPassed) << job.message << "\n" << Log(id);
  EXPECT_NE(processes_.Find("--dry-run"), nullptr);
  EXPECT_EQ(processes_.Find("download"), nullptr);
  EXPECT_EQ(processes_.Find("--no-index"), nullptr);
  EXPECT_NE(Log(id).find("already installed"), std::string::npos);
}

}  // namespace
}  // namespace pipy::builder
