#include "builder/npm_module.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/npm_name.h"
#include "core/semver.h"

namespace pipy::builder {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string Quoted(std::string_view field) { return "\"" + std::string(field) + "\""; }

Result<boost::json::object> ParseObject(std::string_view text) {
  if (text.starts_with(kBom)) {
    text.remove_prefix(kBom.size());
  }
  boost::json::parser parser;
  boost::system::error_code ec;
  std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (ec) {
    // The parser stops where the error is; a line number is what an editor can jump to.
    consumed = std::min(consumed, text.size());
    std::size_t line = 1 + std::count(text.begin(), text.begin() + consumed, '\n');
    return InvalidArgument("package.json is not valid JSON: line " + std::to_string(line) + ": " +
                           ec.message());
  }
  boost::json::value value = parser.release();
  if (!value.is_object()) {
    return InvalidArgument("package.json must be a JSON object");
  }
  return std::move(value.as_object());
}

// Reads an optional {"name": "range", ...} table into `out`; with `override_existing` false,
// names already in `out` keep their range.
Status ReadDependencyTable(const boost::json::object& root, std::string_view field,
                           bool override_existing, std::map<std::string, std::string>& out) {
  const boost::json::value* table = root.if_contains(field);
  if (table == nullptr || table->is_null()) {
    return Status::Ok();
  }
  const boost::json::object* entries = table->if_object();
  if (entries == nullptr) {
    return InvalidArgument("package.json: " + Quoted(field) +
                           " must be an object of package names to version ranges");
  }
  for (const auto& [name, range] : *entries) {
    if (!range.is_string()) {
      return InvalidArgument("package.json: " + Quoted(field) + " entry " + Quoted(name) +
                             " must be a string (a version range)");
    }
    std::string key(name);
    if (!override_existing && out.contains(key)) {
      continue;
    }
    out[key] = std::string(range.as_string());
  }
  return Status::Ok();
}

Status ReadName(const boost::json::object& root, NpmModuleConfig& module) {
  const boost::json::value* name = root.if_contains("name");
  if (name == nullptr) {
    return InvalidArgument("package.json: \"name\" is missing");
  }
  if (!name->is_string()) {
    return InvalidArgument("package.json: \"name\" must be a string");
  }
  module.name = std::string(name->as_string());
  Status valid = npm_name::Validate(module.name);
  if (!valid.ok()) {
    return InvalidArgument("package.json: \"name\" " + Quoted(module.name) +
                           " is not a valid npm package name: " + valid.message());
  }
  return Status::Ok();
}

Status ReadVersion(const boost::json::object& root, NpmModuleConfig& module) {
  const boost::json::value* version = root.if_contains("version");
  if (version == nullptr) {
    return InvalidArgument(
        "package.json: \"version\" is missing (Pipy needs it to know what "
        "it publishes)");
  }
  if (!version->is_string()) {
    return InvalidArgument("package.json: \"version\" must be a string");
  }
  std::string text(version->as_string());
  Result<semver::Version> parsed = semver::Version::Parse(text);
  if (!parsed) {
    return InvalidArgument("package.json: \"version\" " + Quoted(text) +
                           " is not a valid SemVer 2.0 version: " + parsed.error().message());
  }
  module.version = parsed->Key();
  return Status::Ok();
}

Status ReadTestCommand(const boost::json::object& root, NpmModuleConfig& module) {
  if (const boost::json::value* scripts = root.if_contains("scripts")) {
    const boost::json::object* table = scripts->if_object();
    if (table == nullptr) {
      return InvalidArgument("package.json: \"scripts\" must be an object");
    }
    if (const boost::json::value* test = table->if_contains("test")) {
      if (!test->is_string()) {
        return InvalidArgument("package.json: \"scripts\".\"test\" must be a string");
      }
      module.has_test_script = !test->as_string().empty();
    }
  }
  if (module.has_test_script) {
    module.test_command = kDefaultNpmTestCommand;
  }
  const boost::json::value* pipy = root.if_contains("pipy");
  if (pipy == nullptr) {
    return Status::Ok();
  }
  const boost::json::object* table = pipy->if_object();
  if (table == nullptr) {
    return InvalidArgument("package.json: \"pipy\" must be an object, e.g. {\"test\": \"...\"}");
  }
  const boost::json::value* test = table->if_contains("test");
  if (test == nullptr) {
    return Status::Ok();
  }
  if (!test->is_string() || test->as_string().empty()) {
    return InvalidArgument(
        "package.json: \"pipy\".\"test\" must be a non-empty string (a "
        "shell command)");
  }
  module.test_command = std::string(test->as_string());
  return Status::Ok();
}

}  // namespace

Result<NpmModuleConfig> ParseNpmModule(std::string_view package_json) {
  PIPY_ASSIGN_OR_RETURN(boost::json::object root, ParseObject(package_json));
  NpmModuleConfig module;
  if (const boost::json::value* is_private = root.if_contains("private")) {
    // npm tests `private` for truthiness, so "false" (a string) would be private to npm;
    // refusing non-booleans avoids guessing which of the two the author meant.
    if (!is_private->is_bool()) {
      return InvalidArgument("package.json: \"private\" must be true or false");
    }
    module.is_private = is_private->as_bool();
  }
  if (module.is_private) {
    if (const boost::json::value* name = root.if_contains("name"); name && name->is_string()) {
      module.name = std::string(name->as_string());
    }
    return module;
  }
  PIPY_RETURN_IF_ERROR(ReadName(root, module));
  PIPY_RETURN_IF_ERROR(ReadVersion(root, module));
  PIPY_RETURN_IF_ERROR(ReadDependencyTable(root, "dependencies", true, module.dependencies));
  PIPY_RETURN_IF_ERROR(
      ReadDependencyTable(root, "optionalDependencies", true, module.dependencies));
  PIPY_RETURN_IF_ERROR(ReadDependencyTable(root, "peerDependencies", false, module.dependencies));
  PIPY_RETURN_IF_ERROR(ReadDependencyTable(root, "devDependencies", true, module.dev_dependencies));
  PIPY_RETURN_IF_ERROR(ReadTestCommand(root, module));
  return module;
}

}  // namespace pipy::builder
