// The build runner's logic with a fake process runner, a real git repository, a real index
// and SQLite queue (build_runner_test_util.h).
#include "builder/build_runner.h"

#include <gtest/gtest.h>

#include "builder/build_runner_test_util.h"

namespace pipy::builder {
namespace {

using catalog::BuildStatus;
using testing::BuildRunnerTest;
using testing::EnvValue;
using testing::Has;
using testing::HasSequence;
using testing::Inner;
using testing::TestRepo;

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
  catalog::NewBuild build;
  build.source = "gone";
  build.module = "logger";
  build.commit = commit;
  auto job = queue_->Enqueue(build);
  ASSERT_TRUE(job.has_value());
  catalog::BuildJob done = RunAndGet(job->id);
  EXPECT_EQ(done.status, BuildStatus::kFailed);
  EXPECT_NE(done.message.find("not configured"), std::string::npos);
}

// With TLS on, the build reaches Pipy by a loopback address its certificate does not name:
// pip trusts that host (LoopbackHttpsHost) in the online steps, and only then.
TEST_F(BuildRunnerTest, AnHttpsIndexOnLoopbackIsTrustedWithoutItsCertificateNamingIt) {
  options_.index_url = "https://127.0.0.1:1/simple/";
  MakeRunner();
  repo_.WriteModule("logger", "acme-logger", "1.0", "dependencies = [\"acme-core\"]\n");
  catalog::BuildJob job = RunAndGet(Enqueue("logger"));
  ASSERT_EQ(job.status, BuildStatus::kPassed) << job.message;
  for (const char* step : {"--dry-run", "download"}) {
    const ProcessSpec* spec = processes_.Find(step);
    ASSERT_NE(spec, nullptr) << step;
    EXPECT_EQ(EnvValue(*spec, "PIP_TRUSTED_HOST"), "127.0.0.1:1") << step;
  }
  const ProcessSpec* install = processes_.Find("--no-index");
  ASSERT_NE(install, nullptr);
  EXPECT_FALSE(EnvValue(*install, "PIP_TRUSTED_HOST").has_value()) << "offline steps need none";
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
  EXPECT_FALSE(EnvValue(*download, "PIP_TRUSTED_HOST").has_value()) << "nothing to trust";

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
  runner_->set_server("http://127.0.0.1:1/", "the allowlist ([access] allow) refuses 127.0.0.1");
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
