// The npm job and the dependency gate of the build runner, with the fake process runner of
// build_runner_test_util.h: what each step runs, with which network, environment and
// credential, and what reaches the index.
#include <gtest/gtest.h>

#include "builder/build_runner_test_util.h"
#include "builder/npm_module.h"
#include "npm/npm_format.h"

namespace pipy::builder {
namespace {

using catalog::BuildStatus;
using testing::BuildRunnerTest;
using testing::EnvValue;
using testing::Has;
using testing::Inner;

class NpmJobTest : public BuildRunnerTest {
 protected:
  void WritePackage(const std::string& folder, const std::string& name,
                    const std::string& version, const std::string& extra = "") {
    repo_.Write(folder + "/package.json",
                "{\"name\": \"" + name + "\", \"version\": \"" + version + "\"" + extra + "}");
  }

  std::vector<catalog::FileRecord> NpmFiles(const std::string& name) {
    return catalog_->ListFiles(catalog::kNpm, name)
        .value_or(std::vector<catalog::FileRecord>{});
  }

  // The spec of the first npm command `npm <sub>`.
  const ProcessSpec* FindNpm(std::string_view sub) const {
    for (const ProcessSpec& spec : processes_.specs) {
      std::vector<std::string> argv = Inner(spec);
      if (argv.size() > 1 && argv[0] == "npm" && argv[1] == sub) {
        return &spec;
      }
    }
    return nullptr;
  }
};

TEST_F(NpmJobTest, APassingModuleIsInstalledTestedPackedAndPublishedWithProvenance) {
  WritePackage("web", "acme-web", "1.0.0",
               ", \"scripts\": {\"test\": \"node test.js\"}, "
               "\"dependencies\": {\"acme-logger\": \"^1.0.0\"}");
  std::string secret;
  processes_.on_run = [&](const ProcessSpec& spec) {
    std::vector<std::string> argv = Inner(spec);
    if (argv.size() > 1 && argv[0] == "npm" && argv[1] == "install") {
      secret = EnvValue(spec, "PIPY_BUILD_NPM_TOKEN").value_or("");
      EXPECT_TRUE(authenticator_->Authenticate("Bearer " + secret))
          << "the install step's credential does not authenticate";
    }
  };
  std::int64_t id = Enqueue("web", "npm");
  catalog::BuildJob job = RunAndGet(id);
  ASSERT_EQ(job.status, BuildStatus::kPassed) << job.message << "\n" << Log(id);
  EXPECT_EQ(job.project, "acme-web");
  EXPECT_EQ(job.version, "1.0.0");
  EXPECT_EQ(finished_formats_, std::vector<std::string>{"npm"});

  // Install: network, the credential in its environment only, --ignore-scripts, and an
  // .npmrc that names the variable, not the secret.
  const ProcessSpec* install = FindNpm("install");
  ASSERT_NE(install, nullptr);
  EXPECT_FALSE(Has(install->argv, "--unshare-net"));
  EXPECT_TRUE(Has(Inner(*install), "--ignore-scripts"));
  ASSERT_FALSE(secret.empty());
  EXPECT_FALSE(authenticator_->Authenticate("Bearer " + secret)) << "credential not revoked";
  EXPECT_EQ(Log(id).find(secret), std::string::npos) << "the credential is in the log";
  // Every later step: no network, no credential.
  for (std::string_view sub : {"rebuild", "pack"}) {
    const ProcessSpec* step = FindNpm(sub);
    ASSERT_NE(step, nullptr) << sub;
    EXPECT_TRUE(Has(step->argv, "--unshare-net")) << sub;
    EXPECT_FALSE(EnvValue(*step, "PIPY_BUILD_NPM_TOKEN").has_value()) << sub;
  }
  const ProcessSpec* test = processes_.Find("/bin/sh");
  ASSERT_NE(test, nullptr);
  EXPECT_TRUE(Has(Inner(*test), "npm test"));
  EXPECT_TRUE(Has(test->argv, "--unshare-net"));
  EXPECT_FALSE(EnvValue(*test, "PIPY_BUILD_NPM_TOKEN").has_value());
  EXPECT_EQ(test->timeout, std::chrono::milliseconds(1234));
  EXPECT_EQ(test->memory_limit, 777u);
  EXPECT_EQ(EnvValue(*test, "npm_config_offline"), "true");
  // npm reads Pipy's registry and never the host's configuration.
  const std::string userconfig = EnvValue(*test, "npm_config_userconfig").value_or("");
  EXPECT_NE(userconfig.find(options_.work_dir.string()), std::string::npos) << userconfig;
  EXPECT_NE(EnvValue(*install, "npm_config_userconfig"), userconfig)
      << "the install step reads its own configuration, the one with the credential";

  std::vector<catalog::FileRecord> files = NpmFiles("acme-web");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename, "acme-web-1.0.0.tgz");
  EXPECT_EQ(files[0].uploader, "builder:mono");
  ASSERT_TRUE(files[0].provenance.has_value());
  EXPECT_EQ(files[0].provenance->build_id, id);
  EXPECT_EQ(files[0].provenance->module, "web");
  EXPECT_EQ(files[0].provenance->commit, job.commit);
  EXPECT_EQ(files[0].provenance->test_result, "passed");
  EXPECT_FALSE(std::filesystem::exists(options_.work_dir / std::to_string(id)));
}

TEST_F(NpmJobTest, TheInstallStepsConfigurationCarriesTheCredentialByName) {
  WritePackage("web", "acme-web", "1.0.0",
               ", \"scripts\": {\"test\": \"true\"}, \"dependencies\": {\"acme-x\": \"1\"}");
  std::string npmrc;
  processes_.on_run = [&](const ProcessSpec& spec) {
    std::vector<std::string> argv = Inner(spec);
    if (argv.size() > 1 && argv[0] == "npm" && argv[1] == "install") {
      npmrc = pipy::testing::ReadFile(EnvValue(spec, "npm_config_userconfig").value_or(""));
    }
  };
  RunAndGet(Enqueue("web", "npm"));
  EXPECT_NE(npmrc.find("registry=http://127.0.0.1:1/npm/\n"), std::string::npos) << npmrc;
  EXPECT_NE(npmrc.find("//127.0.0.1:1/npm/:_authToken=${PIPY_BUILD_NPM_TOKEN}\n"),
            std::string::npos)
      << npmrc;
  EXPECT_EQ(npmrc.find("strict-ssl"), std::string::npos) << "certificates stay checked";
}

// With TLS on, the job reaches Pipy by a loopback address its certificate does not name:
// npm trusts that registry (LoopbackHttpsHost), and only then.
TEST_F(NpmJobTest, AnHttpsRegistryOnLoopbackIsTrustedWithoutItsCertificateNamingIt) {
  options_.npm_registry_url = "https://127.0.0.1:1/npm/";
  MakeRunner();
  WritePackage("web", "acme-web", "1.0.0",
               ", \"scripts\": {\"test\": \"true\"}, \"dependencies\": {\"acme-x\": \"1\"}");
  std::string npmrc;
  processes_.on_run = [&](const ProcessSpec& spec) {
    std::vector<std::string> argv = Inner(spec);
    if (argv.size() > 1 && argv[0] == "npm" && argv[1] == "install") {
      npmrc = pipy::testing::ReadFile(EnvValue(spec, "npm_config_userconfig").value_or(""));
    }
  };
  RunAndGet(Enqueue("web", "npm"));
  EXPECT_NE(npmrc.find("registry=https://127.0.0.1:1/npm/\n"), std::string::npos) << npmrc;
  EXPECT_NE(npmrc.find("strict-ssl=false\n"), std::string::npos) << npmrc;
}

TEST_F(NpmJobTest, ALockfileInstallsWithNpmCiAndNoDependenciesInstallsNothing) {
  WritePackage("web", "acme-web", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  repo_.Write("web/package-lock.json", "{\"lockfileVersion\": 3}");
  RunAndGet(Enqueue("web", "npm"));
  EXPECT_NE(FindNpm("ci"), nullptr);
  EXPECT_EQ(FindNpm("install"), nullptr);

  processes_.specs.clear();
  processes_.npm_name = "acme-lone";
  WritePackage("lone", "acme-lone", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  std::int64_t id = Enqueue("lone", "npm");
  EXPECT_EQ(RunAndGet(id).status, BuildStatus::kPassed) << Log(id);
  EXPECT_EQ(FindNpm("ci"), nullptr);
  EXPECT_EQ(FindNpm("install"), nullptr);
  EXPECT_NE(Log(id).find("no dependencies to install"), std::string::npos);
}

TEST_F(NpmJobTest, ATarballNamingAnotherVersionThanTheCommitIsNotPublished) {
  WritePackage("web", "acme-web", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  processes_.npm_version = "6.6.6";  // as if a prepack script rewrote package.json
  std::int64_t id = Enqueue("web", "npm");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("does not name acme-web@1.0.0"), std::string::npos) << job.message;
  EXPECT_TRUE(NpmFiles("acme-web").empty());
}

TEST_F(NpmJobTest, AModuleWithoutATestScriptFailsSayingSo) {
  WritePackage("web", "acme-web", "1.0.0");
  std::int64_t id = Enqueue("web", "npm");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_EQ(job.message, std::string(kNoTestScriptMessage));
  EXPECT_TRUE(processes_.specs.empty());
  EXPECT_TRUE(NpmFiles("acme-web").empty());
}

TEST_F(NpmJobTest, FailingTestsPackAndPublishNothing) {
  WritePackage("web", "acme-web", "1.0.0", ", \"pipy\": {\"test\": \"node t.js\"}");
  processes_.test_result = ProcessResult{1, 0, false, false};
  processes_.test_output = "AssertionError: the npm failure\n";
  std::int64_t id = Enqueue("web", "npm");
  catalog::BuildJob job = RunAndGet(id);
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("the tests failed (exit status 1)"), std::string::npos);
  EXPECT_NE(Log(id).find("the npm failure"), std::string::npos);
  EXPECT_TRUE(Has(Inner(*processes_.Find("/bin/sh")), "node t.js"));
  EXPECT_EQ(FindNpm("pack"), nullptr);
  EXPECT_TRUE(NpmFiles("acme-web").empty());
}

TEST_F(NpmJobTest, APackageOutsideTheScopeOrPrivateIsRefused) {
  WritePackage("evil", "left-pad", "9.0.0", ", \"scripts\": {\"test\": \"true\"}");
  catalog::BuildJob job = RunAndGet(Enqueue("evil", "npm"));
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("package \"left-pad\" is outside the scope \"acme-*\""),
            std::string::npos)
      << job.message;
  repo_.Write("tools/package.json", "{\"private\": true}");
  job = RunAndGet(Enqueue("tools", "npm"));
  EXPECT_EQ(job.status, BuildStatus::kFailed);
  EXPECT_NE(job.message.find("\"private\": true"), std::string::npos) << job.message;
  EXPECT_TRUE(processes_.specs.empty());
}

TEST_F(NpmJobTest, AnAlreadyPublishedVersionIsSkipped) {
  WritePackage("web", "acme-web", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  std::int64_t first = Enqueue("web", "npm");
  ASSERT_EQ(RunAndGet(first).status, BuildStatus::kPassed);
  repo_.Write("web/index.js", "module.exports = 2;\n");
  std::int64_t second = Enqueue("web", "npm");
  catalog::BuildJob job = RunAndGet(second);
  EXPECT_EQ(job.status, BuildStatus::kSkipped);
  EXPECT_NE(job.message.find("acme-web 1.0.0 is already published"), std::string::npos)
      << job.message;
  EXPECT_EQ(NpmFiles("acme-web").size(), 1u);
}

TEST_F(NpmJobTest, TheDependentsOfAFailedBuildAreSkippedNamingIt) {
  repo_.WriteModule("core", "acme-core", "1.0");
  processes_.test_result = ProcessResult{1, 0, false, false};
  std::int64_t core = Enqueue("core");
  WritePackage("web", "acme-web", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  std::int64_t web = Enqueue("web", "npm", {core});
  WritePackage("app", "acme-app", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  std::int64_t app = Enqueue("app", "npm", {web});

  // The dependents cannot start before their dependency ended.
  ASSERT_EQ(RunAndGet(core).status, BuildStatus::kFailed);
  processes_.specs.clear();
  catalog::BuildJob skipped = RunAndGet(web);
  EXPECT_EQ(skipped.status, BuildStatus::kSkipped);
  EXPECT_EQ(skipped.blocked_by, core);
  EXPECT_NE(skipped.message.find("its dependency acme-core (build " + std::to_string(core)),
            std::string::npos)
      << skipped.message;
  EXPECT_NE(Log(web).find("failed in this commit"), std::string::npos);
  // Transitively: the skip names the failure at the start of the chain.
  catalog::BuildJob behind = RunAndGet(app);
  EXPECT_EQ(behind.status, BuildStatus::kSkipped);
  EXPECT_EQ(behind.blocked_by, core);
  EXPECT_NE(behind.message.find("acme-core"), std::string::npos) << behind.message;
  EXPECT_TRUE(processes_.specs.empty()) << "a skipped build ran commands";
  EXPECT_TRUE(NpmFiles("acme-web").empty());
  EXPECT_TRUE(NpmFiles("acme-app").empty());
}

TEST_F(NpmJobTest, ADependencyThatWasAlreadyPublishedDoesNotBlock) {
  WritePackage("lib", "acme-lib", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  processes_.npm_name = "acme-lib";
  ASSERT_EQ(RunAndGet(Enqueue("lib", "npm")).status, BuildStatus::kPassed);
  repo_.Write("lib/README.md", "docs only\n");
  std::int64_t lib = Enqueue("lib", "npm");
  ASSERT_EQ(RunAndGet(lib).status, BuildStatus::kSkipped);  // already published
  processes_.npm_name = "acme-web";
  WritePackage("web", "acme-web", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  std::int64_t web = Enqueue("web", "npm", {lib});
  catalog::BuildJob job = RunAndGet(web);
  EXPECT_EQ(job.status, BuildStatus::kPassed) << job.message;
  EXPECT_EQ(job.blocked_by, 0);
}

TEST_F(NpmJobTest, AJobWaitingForARunningOneIsNotClaimed) {
  repo_.WriteModule("core", "acme-core", "1.0");
  std::int64_t core = Enqueue("core");
  WritePackage("web", "acme-web", "1.0.0", ", \"scripts\": {\"test\": \"true\"}");
  Enqueue("web", "npm", {core});
  auto claimed = queue_->ClaimNext("other/0", 1);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  EXPECT_EQ((*claimed)->id, core);
  auto next = runner_->RunNext("node/0", nullptr);
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(*next) << "ran a build whose dependency is still running";
}

}  // namespace
}  // namespace pipy::builder
