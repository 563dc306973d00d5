// The build runner's logic with a fake process runner (which "builds" real distributions
// with the test dist builder), a real git repository, a real index and SQLite queue.
#include "builder/build_runner.h"

#include <gtest/gtest.h>

#include "builder/test_repo.h"
#include "catalog/factory.h"
#include "catalog/sqlite_build_queue.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::builder {
namespace {

using catalog::BuildStatus;
using testing::TestRepo;

struct FakeClock : Clock {
  std::int64_t NowMs() override { return 5'000; }
};

// Records every command. "the tests" answer with `test_result`; `python -m build` writes a
// wheel and an sdist of `name`/`version` into its --outdir.
class FakeProcesses : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec& spec, const OutputSink& sink) override {
    specs.push_back(spec);
    const auto& argv = spec.argv;
    auto has = [&argv](std::string_view arg) {
      return std::find(argv.begin(), argv.end(), arg) != argv.end();
    };
    if (has("-c") && argv.back() != "") {  // the sandboxed test command
      if (std::find(argv.begin(), argv.end(), "/bin/sh") != argv.end()) {
        sink(test_output);
        return test_result;
      }
    }
    if (has("build")) {
      auto out = std::find(argv.begin(), argv.end(), "--outdir");
      std::filesystem::path dir = *(out + 1);
      std::filesystem::create_directories(dir);
      pipy::testing::MakeWheel(dir, name, version);
      pipy::testing::MakeSdist(dir, name, version);
      sink("Successfully built\n");
    }
    return ProcessResult{0, 0, false, false};
  }

  const ProcessSpec* Find(std::string_view arg) const {
    for (const ProcessSpec& spec : specs) {
      if (std::find(spec.argv.begin(), spec.argv.end(), arg) != spec.argv.end()) {
        return &spec;
      }
    }
    return nullptr;
  }

  std::vector<ProcessSpec> specs;
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
    source_.name = "mono";
    source_.scope = "acme-*";
    options_.work_dir = tmp_.path() / "work";
    options_.index_url = "http://127.0.0.1:1/simple/";
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
    return catalog_->ListFiles(project).value_or(std::vector<catalog::FileRecord>{}).size();
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

  auto files = catalog_->ListFiles("acme-logger");
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
  EXPECT_NE(std::find(venv->argv.begin(), venv->argv.end(), "--system-site-packages"),
            venv->argv.end());
  const ProcessSpec* pip = processes_.Find("pip");
  ASSERT_NE(pip, nullptr);
  // The index URL (it may carry the server's credential) reaches pip through its
  // environment, only in the install step, and never through argv (which is logged).
  const std::string index_env = "PIP_INDEX_URL=http://127.0.0.1:1/simple/";
  EXPECT_NE(std::find(pip->env.begin(), pip->env.end(), index_env), pip->env.end());
  EXPECT_EQ(std::find(pip->argv.begin(), pip->argv.end(), "http://127.0.0.1:1/simple/"),
            pip->argv.end());
  EXPECT_EQ(Log(id).find("127.0.0.1:1/simple"), std::string::npos) << Log(id);
  EXPECT_NE(std::find(pip->argv.begin(), pip->argv.end(), "acme-core"), pip->argv.end());
  EXPECT_NE(std::find(pip->argv.begin(), pip->argv.end(), "pytest"), pip->argv.end());
  const ProcessSpec* test = processes_.Find("pytest -q");
  ASSERT_NE(test, nullptr);
  EXPECT_NE(std::find(test->argv.begin(), test->argv.end(), "--unshare-net"), test->argv.end());
  EXPECT_EQ(std::find(test->env.begin(), test->env.end(), index_env), test->env.end())
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
  index::PythonUpload upload;
  upload.file = pipy::testing::MakeSdist(sdist_dir, "acme-logger", "1.0");
  upload.filename = upload.file.filename().string();
  upload.provenance = catalog::Provenance{"mono", (*job)->commit, "logger", id, "passed"};
  auth::Principal admin;
  admin.anonymous = false;
  admin.scopes = {"admin"};
  ASSERT_TRUE(index_->PublishPython(admin, upload).has_value());

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

}  // namespace
}  // namespace pipy::builder
