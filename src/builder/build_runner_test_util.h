// Test support for the build runner's tests (build_runner_test.cc, npm_job_test.cc): a fake
// process runner (which "builds" real distributions and npm tarballs with the test dist
// builder), a real git repository, a real index and SQLite queue.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "builder/build_runner.h"
#include "builder/test_repo.h"
#include "catalog/factory.h"
#include "catalog/sqlite_build_queue.h"
#include "python/publish.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::builder::testing {

using catalog::BuildStatus;

struct FakeClock : Clock {
  std::int64_t NowMs() override { return 5'000; }
};

// The command a sandboxed step runs: what follows bwrap's "--".
inline std::vector<std::string> Inner(const ProcessSpec& spec) {
  auto dashes = std::find(spec.argv.begin(), spec.argv.end(), "--");
  if (spec.argv.empty() || spec.argv[0] != "bwrap" || dashes == spec.argv.end()) {
    return {};
  }
  return std::vector<std::string>(dashes + 1, spec.argv.end());
}

inline bool Has(const std::vector<std::string>& argv, std::string_view arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

// True when argv holds `a` immediately followed by `b` (and `c`, when given).
inline bool HasSequence(const std::vector<std::string>& argv, std::string_view a, std::string_view b,
                 std::string_view c = "") {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == a && argv[i + 1] == b &&
        (c.empty() || (i + 2 < argv.size() && argv[i + 2] == c))) {
      return true;
    }
  }
  return false;
}

inline std::optional<std::string> EnvValue(const ProcessSpec& spec, std::string_view name) {
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
    if (argv[0] == "npm") {
      return RunNpm(argv, sink);
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

  // `npm install`/`ci` answer `npm_install_result`; `npm pack` writes a tarball of
  // `npm_name`/`npm_version` into its --pack-destination.
  Result<ProcessResult> RunNpm(const std::vector<std::string>& argv, const OutputSink& sink) {
    if (argv.size() > 1 && (argv[1] == "install" || argv[1] == "ci")) {
      sink("added 1 package\n");
      return npm_install_result;
    }
    if (argv.size() > 1 && argv[1] == "pack") {
      auto out = std::find(argv.begin(), argv.end(), "--pack-destination");
      std::filesystem::path dir = *(out + 1);
      std::filesystem::create_directories(dir);
      pipy::testing::WriteArchive(
          dir / (npm_name + "-" + npm_version + ".tgz"), /*zip=*/false,
          {{"package/package.json", "{\"name\":\"" + npm_name + "\",\"version\":\"" +
                                        npm_version + "\",\"description\":\"built\"}"},
           {"package/index.js", "module.exports = 1;\n"}});
      sink(npm_name + "-" + npm_version + ".tgz\n");
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
  ProcessResult npm_install_result{0, 0, false, false};
  std::string npm_name = "acme-web";
  std::string npm_version = "1.0.0";
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
    options_.npm_registry_url = "http://127.0.0.1:1/npm/";
    options_.authenticator = authenticator_.get();
    options_.hidden_dirs = {tmp_.path() / "data"};
    config_file_ = tmp_.path() / "pipy.toml";
    std::ofstream(config_file_) << "[[sources]]\nwebhook_secret = \"s3cret\"\n";
    options_.hidden_files = {config_file_};
    options_.timeout = std::chrono::milliseconds(1234);
    options_.memory_limit = 777;
    MakeRunner();
  }

  // (Re)makes the runner from options_, for a test that changes them.
  void MakeRunner() {
    runner_ = std::make_unique<BuildRunner>(
        options_, *queue_, *index_, processes_, clock_,
        std::map<std::string, SourceEntry>{{"mono", SourceEntry{source_, git_.get()}}},
        [this](std::string_view format, BuildStatus s) {
          finished_.push_back(s);
          finished_formats_.emplace_back(format);
        });
  }

  // Commits, fetches and enqueues the `format` module in `module` at the new head, waiting
  // for `waits_for`; returns the job id.
  std::int64_t Enqueue(const std::string& module, const std::string& format = "python",
                       std::vector<std::int64_t> waits_for = {}) {
    std::string commit = repo_.Commit("change");
    EXPECT_TRUE(git_->Fetch().ok());
    catalog::NewBuild build;
    build.source = "mono";
    build.module = module;
    build.format = format;
    build.commit = commit;
    build.created_ms = 1;
    build.waits_for = std::move(waits_for);
    auto job = queue_->Enqueue(build);
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
  std::vector<std::string> finished_formats_;
};

}  // namespace pipy::builder::testing
