#include "builder/build_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace pipy::builder {
namespace {

using Ids = std::vector<std::string>;
using Messages = std::map<std::string, std::string>;

ModuleNode Py(std::string folder, std::string package, std::vector<std::string> deps = {}) {
  return {ModuleId(folder, kPythonFormat), std::string(kPythonFormat), std::move(package),
          std::move(deps)};
}

ModuleNode Npm(std::string folder, std::string package, std::vector<std::string> deps = {}) {
  return {ModuleId(folder, kNpmFormat), std::string(kNpmFormat), std::move(package),
          std::move(deps)};
}

Plan MustPlan(const std::vector<ModuleNode>& modules) {
  Result<Plan> plan = PlanBuilds(modules);
  EXPECT_TRUE(plan.has_value()) << plan.error().ToString();
  return plan.has_value() ? *plan : Plan{};
}

// Everything a plan says, in one comparable string.
std::string Dump(const Plan& plan) {
  std::string out = "order:";
  for (const std::string& id : plan.order) {
    out += " " + id;
  }
  for (const auto& [id, m] : plan.modules) {
    out += "\n" + id + " " + m.format + " " + m.package +
           " state=" + std::to_string(static_cast<int>(m.state)) + " waits=";
    for (const std::string& w : m.waits_for) {
      out += w + ",";
    }
    out += " dependents=";
    for (const std::string& d : m.dependents) {
      out += d + ",";
    }
    out += " message=" + m.message;
  }
  return out;
}

TEST(BuildOrderTest, ModuleIdAndRequirementName) {
  EXPECT_EQ(ModuleId("logger", kPythonFormat), "logger:python");
  EXPECT_EQ(ModuleId("logger", kNpmFormat), "logger:npm");
  EXPECT_EQ(RequirementName("Acme_Core[x,y]>=1.0 ; python_version >= '3.8'"), "acme-core");
  EXPECT_EQ(RequirementName("  acme.log"), "acme-log");
  EXPECT_EQ(RequirementName("acme-log (>=1)"), "acme-log");
  EXPECT_EQ(RequirementName("acme-log @ https://example.com/a.whl"), "acme-log");
  EXPECT_EQ(RequirementName("acme-log~=1.0"), "acme-log");
  EXPECT_EQ(RequirementName("acme-log!=2"), "acme-log");
  EXPECT_EQ(RequirementName(""), "");
  EXPECT_EQ(RequirementName(">=1"), "");
  EXPECT_EQ(RequirementName("acme- >=1"), "");  // a name cannot end in '-'
}

TEST(BuildOrderTest, NodesFromParsedModules) {
  auto python = ParseModuleConfig(R"(
[project]
name = "Acme.Metrics"
version = "1.0"
dependencies = ["Acme_Logger>=1", "requests[socks]", ">=broken"]
[project.optional-dependencies]
test = ["acme-testkit"]
)");
  ASSERT_TRUE(python.has_value()) << python.error().ToString();
  ModuleNode py = PythonNode("metrics", *python);
  EXPECT_EQ(py.id, "metrics:python");
  EXPECT_EQ(py.format, "python");
  EXPECT_EQ(py.package, "acme-metrics");
  EXPECT_EQ(py.dependencies, (Ids{"acme-logger", "requests"}));  // test extras do not order

  auto npm = ParseNpmModule(R"({"name": "@acme/metrics", "version": "1.0.0",
      "dependencies": {"@acme/logger": "^1", "log2": "npm:@acme/log@^2", "lg": "npm:lg-core"},
      "peerDependencies": {"react": "*"},
      "devDependencies": {"@acme/testkit": "*"}})");
  ASSERT_TRUE(npm.has_value()) << npm.error().ToString();
  ModuleNode js = NpmNode("metrics", *npm);
  EXPECT_EQ(js.id, "metrics:npm");
  EXPECT_EQ(js.format, "npm");
  EXPECT_EQ(js.package, "@acme/metrics");
  std::sort(js.dependencies.begin(), js.dependencies.end());
  EXPECT_EQ(js.dependencies, (Ids{"@acme/log", "@acme/logger", "lg-core", "react"}));
}

TEST(BuildOrderTest, ChainWaitsForDirectDependencies) {
  Plan plan = MustPlan({Py("c", "acme-c", {"acme-b"}), Py("a", "acme-a", {"requests"}),
                        Py("b", "acme-b", {"acme-a", "numpy"})});
  EXPECT_EQ(plan.order, (Ids{"a:python", "b:python", "c:python"}));
  EXPECT_EQ(plan.modules.at("a:python").waits_for, Ids{});
  EXPECT_EQ(plan.modules.at("b:python").waits_for, Ids{"a:python"});
  EXPECT_EQ(plan.modules.at("c:python").waits_for, Ids{"b:python"});  // direct only
  EXPECT_EQ(plan.modules.at("a:python").dependents, Ids{"b:python"});
  for (const auto& [id, m] : plan.modules) {
    EXPECT_EQ(m.state, PlanState::kBuild) << id;
    EXPECT_EQ(m.message, "") << id;
  }
}

TEST(BuildOrderTest, OrderBeatsIdWhenTheyDisagree) {
  // "a" depends on "z": the dependency goes first although its id sorts last.
  Plan plan = MustPlan({Npm("a", "pa", {"pz"}), Npm("z", "pz"), Npm("m", "pm")});
  EXPECT_EQ(plan.order, (Ids{"m:npm", "z:npm", "a:npm"}));
}

TEST(BuildOrderTest, Diamond) {
  Plan plan = MustPlan({Npm("d", "@x/d", {"@x/b", "@x/c"}), Npm("b", "@x/b", {"@x/a"}),
                        Npm("c", "@x/c", {"@x/a"}), Npm("a", "@x/a")});
  EXPECT_EQ(plan.order, (Ids{"a:npm", "b:npm", "c:npm", "d:npm"}));
  EXPECT_EQ(plan.modules.at("d:npm").waits_for, (Ids{"b:npm", "c:npm"}));
  EXPECT_EQ(plan.modules.at("a:npm").dependents, (Ids{"b:npm", "c:npm"}));
}

TEST(BuildOrderTest, IndependentModulesAreAllReadyAtOnce) {
  Plan plan = MustPlan({Py("z", "z"), Npm("y", "y"), Py("x", "x")});
  EXPECT_EQ(plan.order, (Ids{"x:python", "y:npm", "z:python"}));
  EXPECT_EQ(Ready(plan, {}, {}), (Ids{"x:python", "y:npm", "z:python"}));
}

TEST(BuildOrderTest, FormatsDoNotDependOnEachOther) {
  // The Python module depends on a "logger" that is an npm module here: unrelated. A folder
  // with both files gives two modules of the same folder.
  Plan plan = MustPlan({Py("app", "app", {"logger"}), Npm("logger", "logger"),
                        Npm("web", "web", {"logger"}), Py("logger", "logger"),
                        Py("tool", "tool", {"web"})});
  EXPECT_EQ(plan.modules.at("app:python").waits_for, Ids{"logger:python"});
  EXPECT_EQ(plan.modules.at("web:npm").waits_for, Ids{"logger:npm"});
  EXPECT_EQ(plan.modules.at("tool:python").waits_for, Ids{});
  EXPECT_EQ(plan.modules.at("logger:npm").dependents, Ids{"web:npm"});
  EXPECT_EQ(plan.modules.at("logger:python").dependents, Ids{"app:python"});
}

TEST(BuildOrderTest, PythonNamesAreComparedNormalized) {
  Plan plan = MustPlan({Py("m", "Acme.Metrics", {"ACME__logger"}), Py("l", "acme-logger")});
  EXPECT_EQ(plan.modules.at("m:python").package, "acme-metrics");
  EXPECT_EQ(plan.modules.at("m:python").waits_for, Ids{"l:python"});
}

TEST(BuildOrderTest, NpmNamesAreComparedAsBytes) {
  Plan plan = MustPlan(
      {Npm("m", "m", {"@Acme/log", "acme_log"}), Npm("l", "@acme/log"), Npm("k", "acme-log")});
  EXPECT_EQ(plan.modules.at("m:npm").waits_for, Ids{});
}

TEST(BuildOrderTest, SelfDependencyIsIgnored) {
  // Nothing to order: the module cannot wait for itself (pip resolves a self-reference, npm's
  // install refuses it with its own message).
  Plan plan =
      MustPlan({Py("a", "acme-a", {"acme-a[extra]"}), Npm("b", "b", {"b", "c"}), Npm("c", "c")});
  EXPECT_EQ(plan.modules.at("a:python").state, PlanState::kBuild);
  EXPECT_EQ(plan.modules.at("a:python").waits_for, Ids{});
  EXPECT_EQ(plan.modules.at("a:python").dependents, Ids{});
  EXPECT_EQ(plan.modules.at("b:npm").waits_for, Ids{"c:npm"});
  EXPECT_EQ(plan.order, (Ids{"a:python", "c:npm", "b:npm"}));
}

TEST(BuildOrderTest, ThreeCycleFailsAndItsDependentsAreNotBuilt) {
  Plan plan = MustPlan({Npm("a", "pa", {"pb"}), Npm("b", "pb", {"pc"}), Npm("c", "pc", {"pa"}),
                        Npm("d", "pd", {"pa"}), Npm("e", "pe", {"pd"}), Npm("f", "pf"),
                        Npm("g", "pg", {"pf"})});
  EXPECT_EQ(plan.order, (Ids{"f:npm", "g:npm"}));
  EXPECT_EQ(plan.modules.at("a:npm").state, PlanState::kCycle);
  EXPECT_EQ(plan.modules.at("b:npm").state, PlanState::kCycle);
  EXPECT_EQ(plan.modules.at("c:npm").state, PlanState::kCycle);
  EXPECT_EQ(plan.modules.at("a:npm").message,
            "dependency cycle: pa (a:npm) -> pb (b:npm) -> pc (c:npm) -> pa (a:npm)");
  EXPECT_EQ(plan.modules.at("b:npm").message,
            "dependency cycle: pb (b:npm) -> pc (c:npm) -> pa (a:npm) -> pb (b:npm)");
  EXPECT_EQ(plan.modules.at("d:npm").state, PlanState::kBehindCycle);
  EXPECT_EQ(plan.modules.at("d:npm").message,
            "skipped: its dependency pa (a:npm) is in a dependency cycle");
  // Transitively behind: e depends on d, which depends on the cycle.
  EXPECT_EQ(plan.modules.at("e:npm").state, PlanState::kBehindCycle);
  EXPECT_EQ(plan.modules.at("e:npm").message,
            "skipped: its dependency pa (a:npm) is in a dependency cycle");
  EXPECT_EQ(plan.modules.at("f:npm").state, PlanState::kBuild);
  // Blocked modules are never ready, whatever has finished.
  EXPECT_EQ(Ready(plan, {"f:npm", "g:npm"}, {}), Ids{});
}

TEST(BuildOrderTest, CycleMessageIsTheShortestCycleThroughTheModule) {
  // a <-> b and b -> c -> d -> b share one strongly connected component; a's own cycle is
  // the two-step one, c's goes through d.
  Plan plan = MustPlan(
      {Py("a", "a", {"b"}), Py("b", "b", {"a", "c"}), Py("c", "c", {"d"}), Py("d", "d", {"b"})});
  EXPECT_EQ(plan.order, Ids{});
  EXPECT_EQ(plan.modules.at("a:python").message,
            "dependency cycle: a (a:python) -> b (b:python) -> a (a:python)");
  EXPECT_EQ(plan.modules.at("b:python").message,
            "dependency cycle: b (b:python) -> a (a:python) -> b (b:python)");
  EXPECT_EQ(plan.modules.at("c:python").message,
            "dependency cycle: c (c:python) -> d (d:python) -> b (b:python) -> c (c:python)");
}

TEST(BuildOrderTest, FailurePropagatesThroughTwoLevels) {
  Plan plan = MustPlan({Py("core", "acme-core"), Py("log", "acme-log", {"acme-core"}),
                        Py("metrics", "acme-metrics", {"acme-log"}), Py("other", "other"),
                        Npm("core", "acme-core")});
  const std::string root_failure =
      "skipped: its dependency acme-core (core:python) failed in this commit";
  EXPECT_EQ(SkipAfterFailure(plan, "core:python"),
            (Messages{{"log:python", root_failure}, {"metrics:python", root_failure}}));
  EXPECT_EQ(SkipAfterFailure(plan, "log:python"),
            (Messages{{"metrics:python",
                       "skipped: its dependency acme-log (log:python) failed in this commit"}}));
  EXPECT_EQ(SkipAfterFailure(plan, "metrics:python"), Messages{});
  EXPECT_EQ(SkipAfterFailure(plan, "core:npm"), Messages{});
  EXPECT_EQ(SkipAfterFailure(plan, "nope:python"), Messages{});
}

TEST(BuildOrderTest, FailureInADiamondSkipsTheJoinOnce) {
  Plan plan = MustPlan(
      {Npm("a", "a"), Npm("b", "b", {"a"}), Npm("c", "c", {"a"}), Npm("d", "d", {"b", "c"})});
  Messages skipped = SkipAfterFailure(plan, "b:npm");
  EXPECT_EQ(skipped,
            (Messages{{"d:npm", "skipped: its dependency b (b:npm) failed in this commit"}}));
}

TEST(BuildOrderTest, FailureDoesNotReportModulesAlreadyBlockedByACycle) {
  Plan plan = MustPlan(
      {Npm("x", "x"), Npm("a", "a", {"b", "x"}), Npm("b", "b", {"a"}), Npm("y", "y", {"x"})});
  EXPECT_EQ(SkipAfterFailure(plan, "x:npm"),
            (Messages{{"y:npm", "skipped: its dependency x (x:npm) failed in this commit"}}));
}

TEST(BuildOrderTest, ReadyEvolvesAsModulesFinish) {
  // a, e independent; b and c need a; d needs b and c.
  Plan plan = MustPlan({Npm("d", "d", {"b", "c"}), Npm("b", "b", {"a"}), Npm("c", "c", {"a"}),
                        Npm("a", "a"), Npm("e", "e")});
  std::set<std::string> finished;
  std::set<std::string> running;
  EXPECT_EQ(Ready(plan, finished, running), (Ids{"a:npm", "e:npm"}));
  running = {"a:npm"};  // concurrency 1: only the first starts
  EXPECT_EQ(Ready(plan, finished, running), Ids{"e:npm"});
  running = {"a:npm", "e:npm"};
  EXPECT_EQ(Ready(plan, finished, running), Ids{});
  finished = {"a:npm"};
  running = {"e:npm"};
  EXPECT_EQ(Ready(plan, finished, running), (Ids{"b:npm", "c:npm"}));
  running = {"e:npm", "b:npm", "c:npm"};
  EXPECT_EQ(Ready(plan, finished, running), Ids{});
  finished = {"a:npm", "b:npm", "e:npm"};
  running = {"c:npm"};
  EXPECT_EQ(Ready(plan, finished, running), Ids{});  // d still waits for c
  finished = {"a:npm", "b:npm", "c:npm", "e:npm"};
  running = {};
  EXPECT_EQ(Ready(plan, finished, running), Ids{"d:npm"});
  finished.insert("d:npm");
  EXPECT_EQ(Ready(plan, finished, running), Ids{});  // the commit is done
}

TEST(BuildOrderTest, ReadyAfterAFailureAndItsSkips) {
  Plan plan = MustPlan({Npm("a", "a"), Npm("b", "b", {"a"}), Npm("c", "c", {"b"}), Npm("z", "z")});
  std::set<std::string> finished{"a:npm"};
  EXPECT_EQ(Ready(plan, finished, {"z:npm"}), Ids{"b:npm"});
  finished.insert("b:npm");  // b failed
  for (const auto& [id, message] : SkipAfterFailure(plan, "b:npm")) {
    finished.insert(id);  // the caller records c as skipped
  }
  EXPECT_EQ(Ready(plan, finished, {"z:npm"}), Ids{});
  EXPECT_TRUE(finished.contains("c:npm"));
}

TEST(BuildOrderTest, SamePlanForEveryInputOrder) {
  std::vector<ModuleNode> modules = {
      Py("core", "acme-core"),
      Py("log", "acme-log", {"acme-core"}),
      Npm("log", "@acme/log"),
      Npm("metrics", "@acme/metrics", {"@acme/log", "x"}),
      Py("api", "acme-api", {"acme-log", "acme-core"}),
      Npm("a", "@acme/a", {"@acme/b"}),
      Npm("b", "@acme/b", {"@acme/a"}),
      Npm("c", "@acme/c", {"@acme/a"}),
      Py("solo", "solo"),
  };
  // Dependency lists in another order too.
  for (ModuleNode& m : modules) {
    std::reverse(m.dependencies.begin(), m.dependencies.end());
  }
  const std::string expected = Dump(MustPlan(modules));
  std::mt19937 random(11);
  for (int round = 0; round < 50; ++round) {
    std::shuffle(modules.begin(), modules.end(), random);
    for (ModuleNode& m : modules) {
      std::shuffle(m.dependencies.begin(), m.dependencies.end(), random);
    }
    ASSERT_EQ(Dump(MustPlan(modules)), expected) << "round " << round;
  }
  Plan plan = MustPlan(modules);
  EXPECT_EQ(plan.order, (Ids{"core:python", "log:npm", "log:python", "api:python", "metrics:npm",
                             "solo:python"}));
}

TEST(BuildOrderTest, SamePackageTwiceMeansWaitingForBoth) {
  Plan plan = MustPlan({Npm("one", "log"), Npm("two", "log"), Npm("app", "app", {"log"})});
  EXPECT_EQ(plan.modules.at("app:npm").waits_for, (Ids{"one:npm", "two:npm"}));
}

TEST(BuildOrderTest, EmptyOrDuplicateIdsAreRefused) {
  Result<Plan> duplicate = PlanBuilds({Npm("a", "a"), Npm("a", "b")});
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(duplicate.error().message().find("a:npm"), std::string::npos);
  Result<Plan> empty = PlanBuilds({ModuleNode{"", "npm", "a", {}}});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
  Result<Plan> none = PlanBuilds({});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->order.empty());
}

}  // namespace
}  // namespace pipy::builder
