// The builder's package.json parser (builder/npm_module.h) on any text:
//   - an accepted public module has a name npm_name::Validate accepts and a version that is
//     its own SemVer Key(); the test command is pipy.test, else "npm test" with a test
//     script, else "" (never a test command from nowhere);
//   - the config rendered back as a package.json (name, version, dependencies,
//     devDependencies, scripts.test, pipy.test) parses to the same config.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "builder/npm_module.h"
#include "core/npm_name.h"
#include "core/semver.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pipy::builder::NpmModuleConfig;
using pipy::fuzz::Check;

boost::json::object Table(const std::map<std::string, std::string>& deps) {
  boost::json::object o;
  for (const auto& [name, range] : deps) {
    o[name] = range;
  }
  return o;
}

std::string Render(const NpmModuleConfig& m) {
  boost::json::object o;
  o["name"] = m.name;
  o["version"] = m.version;
  o["dependencies"] = Table(m.dependencies);
  o["devDependencies"] = Table(m.dev_dependencies);
  if (m.has_test_script) {
    o["scripts"] = boost::json::object{{"test", "run the tests"}};
  }
  if (!m.test_command.empty() && m.test_command != pipy::builder::kDefaultNpmTestCommand) {
    o["pipy"] = boost::json::object{{"test", m.test_command}};
  }
  return boost::json::serialize(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = pipy::builder::ParseNpmModule(pipy::fuzz::AsText(data, size));
  if (!m.has_value() || m->is_private) {
    return 0;
  }
  Check(pipy::npm_name::Validate(m->name).ok(), "a module's name is a valid npm name");
  auto version = pipy::semver::Version::Parse(m->version);
  Check(version.has_value() && version->Key() == m->version, "the version is its own key");
  Check(!m->test_command.empty() || !m->has_test_script, "a test script gives a command");
  if (m->test_command.empty()) {
    Check(!m->has_test_script, "no command, no test script");
  }
  auto again = pipy::builder::ParseNpmModule(Render(*m));
  Check(again.has_value(), "a rendered package.json parses");
  Check(again->name == m->name && again->version == m->version &&
            again->dependencies == m->dependencies &&
            again->dev_dependencies == m->dev_dependencies &&
            again->has_test_script == m->has_test_script &&
            again->test_command == m->test_command && !again->is_private,
        "a rendered package.json parses to the same config");
  return 0;
}
