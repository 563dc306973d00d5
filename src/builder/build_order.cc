#include "builder/build_order.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "core/pep503.h"

namespace pipy::builder {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// "acme-a (a:npm)": the package says what a dependency list names, the id which build it is.
std::string Describe(const PlannedModule& module) {
  return module.package + " (" + module.id + ")";
}

// The shortest path along waits_for edges from `from` to `to` (both included), walking only
// modules in `within` and taking smaller ids first; empty when there is none. With from ==
// to it is the shortest cycle through `from`.
std::vector<std::string> ShortestPath(const Plan& plan, const std::string& from,
                                      const std::string& to, const std::set<std::string>& within) {
  std::map<std::string, std::string> parent;  // visited module -> the module it was reached from
  std::deque<std::string> queue{from};
  while (!queue.empty()) {
    std::string current = queue.front();
    queue.pop_front();
    for (const std::string& next : plan.modules.at(current).waits_for) {
      if (!within.contains(next) || parent.contains(next)) {
        continue;
      }
      parent[next] = current;
      if (next == to) {
        std::vector<std::string> path{to};
        std::string at = current;
        while (at != from) {
          path.push_back(at);
          at = parent.at(at);
        }
        path.push_back(from);
        return {path.rbegin(), path.rend()};
      }
      queue.push_back(next);
    }
  }
  return {};
}

// The nearest module in a cycle that `id` depends on, walking waits_for breadth first.
std::string NearestCyclic(const Plan& plan, const std::string& id) {
  std::set<std::string> seen{id};
  std::deque<std::string> queue{id};
  while (!queue.empty()) {
    std::string current = queue.front();
    queue.pop_front();
    for (const std::string& next : plan.modules.at(current).waits_for) {
      if (plan.modules.at(next).state == PlanState::kCycle) {
        return next;
      }
      if (seen.insert(next).second) {
        queue.push_back(next);
      }
    }
  }
  return "";
}

// Marks the modules Kahn's algorithm could not order: those on a cycle, and those behind one.
void MarkUnordered(Plan& plan, const std::set<std::string>& unordered) {
  for (const std::string& id : unordered) {
    std::vector<std::string> cycle = ShortestPath(plan, id, id, unordered);
    if (cycle.empty()) {
      continue;
    }
    PlannedModule& module = plan.modules.at(id);
    module.state = PlanState::kCycle;
    module.message = "dependency cycle: ";
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      module.message += (i == 0 ? "" : " -> ") + Describe(plan.modules.at(cycle[i]));
    }
  }
  // Every unordered module off a cycle depends on one: otherwise Kahn's algorithm would
  // have reached it.
  for (const std::string& id : unordered) {
    PlannedModule& module = plan.modules.at(id);
    if (module.state == PlanState::kCycle) {
      continue;
    }
    module.state = PlanState::kBehindCycle;
    std::string cyclic = NearestCyclic(plan, id);
    module.message = cyclic.empty()
                         ? "skipped: a dependency is in a dependency cycle"
                         : "skipped: its dependency " + Describe(plan.modules.at(cyclic)) +
                               " is in a dependency cycle";
  }
}

}  // namespace

std::string ModuleId(std::string_view folder, std::string_view format) {
  return std::string(folder) + ":" + std::string(format);
}

std::string RequirementName(std::string_view requirement) {
  std::size_t begin = requirement.find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    return "";
  }
  std::size_t end = begin;
  while (end < requirement.size() && IsNameChar(requirement[end])) {
    ++end;
  }
  std::string_view name = requirement.substr(begin, end - begin);
  if (!pep503::IsValidName(name)) {
    return "";
  }
  return pep503::NormalizeName(name);
}

ModuleNode PythonNode(std::string_view folder, const ModuleConfig& module) {
  // Only what installing the module pulls in orders it, as the issue defines it
  // (Requires-Dist). Test-only edges would order little and often form cycles that are not
  // real (a plugin tests against its host, the host against the plugin); the caller can
  // append module.test_dependencies' names if it wants them to count.
  ModuleNode node{
      ModuleId(folder, kPythonFormat), std::string(kPythonFormat), module.normalized_name, {}};
  for (const std::string& requirement : module.dependencies) {
    std::string name = RequirementName(requirement);
    if (!name.empty()) {
      node.dependencies.push_back(std::move(name));
    }
  }
  return node;
}

ModuleNode NpmNode(std::string_view folder, const NpmModuleConfig& module) {
  ModuleNode node{ModuleId(folder, kNpmFormat), std::string(kNpmFormat), module.name, {}};
  constexpr std::string_view kAlias = "npm:";
  for (const auto& [name, range] : module.dependencies) {
    std::string_view target = name;
    if (std::string_view(range).starts_with(kAlias)) {
      // "npm:<name>@<range>" or "npm:<name>"; a scoped name's own '@' comes first.
      std::string_view aliased = std::string_view(range).substr(kAlias.size());
      std::size_t at = aliased.find('@', 1);
      aliased = aliased.substr(0, at);
      if (!aliased.empty()) {
        target = aliased;
      }
    }
    node.dependencies.emplace_back(target);
  }
  return node;
}

Result<Plan> PlanBuilds(const std::vector<ModuleNode>& modules) {
  Plan plan;
  // (format, package) -> the ids of the modules publishing it.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> publishers;
  for (const ModuleNode& node : modules) {
    if (node.id.empty()) {
      return InvalidArgument("a module of the commit has an empty id");
    }
    // Normalizing again is idempotent, and it keeps a caller's unnormalized spelling from
    // hiding a dependency.
    std::string package =
        node.format == kPythonFormat ? pep503::NormalizeName(node.package) : node.package;
    PlannedModule planned{node.id, node.format, package, {}, {}, PlanState::kBuild, ""};
    if (!plan.modules.emplace(node.id, std::move(planned)).second) {
      return InvalidArgument("module id \"" + node.id + "\" appears twice in the commit");
    }
    publishers[{node.format, package}].push_back(node.id);
  }
  for (const ModuleNode& node : modules) {
    std::set<std::string> waits;
    for (const std::string& dependency : node.dependencies) {
      std::string name =
          node.format == kPythonFormat ? pep503::NormalizeName(dependency) : dependency;
      auto found = publishers.find({node.format, name});
      if (found == publishers.end()) {
        continue;
      }
      for (const std::string& id : found->second) {
        if (id != node.id) {
          waits.insert(id);
        }
      }
    }
    PlannedModule& planned = plan.modules.at(node.id);
    planned.waits_for.assign(waits.begin(), waits.end());
    for (const std::string& id : waits) {
      plan.modules.at(id).dependents.push_back(node.id);
    }
  }
  for (auto& [id, planned] : plan.modules) {
    std::sort(planned.dependents.begin(), planned.dependents.end());
  }
  // Kahn's algorithm; the ready set is ordered so ties go to the smaller id.
  std::map<std::string, std::size_t> waiting;
  std::set<std::string> ready;
  for (const auto& [id, planned] : plan.modules) {
    waiting[id] = planned.waits_for.size();
    if (planned.waits_for.empty()) {
      ready.insert(id);
    }
  }
  while (!ready.empty()) {
    std::string id = *ready.begin();
    ready.erase(ready.begin());
    plan.order.push_back(id);
    for (const std::string& dependent : plan.modules.at(id).dependents) {
      if (--waiting.at(dependent) == 0) {
        ready.insert(dependent);
      }
    }
  }
  std::set<std::string> unordered;
  for (const auto& [id, count] : waiting) {
    if (count > 0) {
      unordered.insert(id);
    }
  }
  MarkUnordered(plan, unordered);
  return plan;
}

std::map<std::string, std::string> SkipAfterFailure(const Plan& plan, std::string_view failed_id) {
  std::map<std::string, std::string> skipped;
  auto failed = plan.modules.find(std::string(failed_id));
  if (failed == plan.modules.end()) {
    return skipped;
  }
  std::string message =
      "skipped: its dependency " + Describe(failed->second) + " failed in this commit";
  std::set<std::string> seen{failed->first};
  std::deque<std::string> queue{failed->first};
  while (!queue.empty()) {
    std::string current = queue.front();
    queue.pop_front();
    for (const std::string& dependent : plan.modules.at(current).dependents) {
      if (!seen.insert(dependent).second) {
        continue;
      }
      queue.push_back(dependent);
      if (plan.modules.at(dependent).state == PlanState::kBuild) {
        skipped[dependent] = message;
      }
    }
  }
  return skipped;
}

std::vector<std::string> Ready(const Plan& plan, const std::set<std::string>& finished,
                               const std::set<std::string>& running) {
  std::vector<std::string> ready;
  for (const std::string& id : plan.order) {
    if (finished.contains(id) || running.contains(id)) {
      continue;
    }
    bool waiting = false;
    for (const std::string& dependency : plan.modules.at(id).waits_for) {
      if (!finished.contains(dependency)) {
        waiting = true;
        break;
      }
    }
    if (!waiting) {
      ready.push_back(id);
    }
  }
  return ready;
}

}  // namespace pipy::builder
