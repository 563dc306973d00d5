#include "builder/dependencies.h"

#include <boost/json.hpp>

namespace pipy::builder {

Result<std::vector<std::string>> PinsFromInstallReport(std::string_view report_json) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(report_json, ec);
  const boost::json::object* report = ec ? nullptr : value.if_object();
  const boost::json::value* install = report == nullptr ? nullptr : report->if_contains("install");
  if (install == nullptr || !install->is_array()) {
    return InvalidArgument("pip's installation report is unreadable");
  }
  std::vector<std::string> pins;
  for (const boost::json::value& entry : install->as_array()) {
    const boost::json::object* item = entry.if_object();
    const boost::json::value* metadata = item == nullptr ? nullptr : item->if_contains("metadata");
    const boost::json::object* fields = metadata == nullptr ? nullptr : metadata->if_object();
    const boost::json::value* name = fields == nullptr ? nullptr : fields->if_contains("name");
    const boost::json::value* version =
        fields == nullptr ? nullptr : fields->if_contains("version");
    if (name == nullptr || !name->is_string() || version == nullptr || !version->is_string()) {
      return InvalidArgument("pip's installation report has an entry without name and version");
    }
    std::string project(name->as_string());
    const boost::json::value* direct = item->if_contains("is_direct");
    if (direct != nullptr && direct->is_bool() && direct->as_bool()) {
      return InvalidArgument("dependency \"" + project +
                             "\" is a direct URL requirement; Pipy installs build "
                             "dependencies from its own index only");
    }
    pins.push_back(project + "==" + std::string(version->as_string()));
  }
  return pins;
}

std::string MissingDistribution(std::string_view pip_output) {
  constexpr std::string_view kMarker = "No matching distribution found for ";
  std::size_t at = pip_output.find(kMarker);
  if (at == std::string_view::npos) {
    return "";
  }
  std::string_view rest = pip_output.substr(at + kMarker.size());
  std::size_t end = rest.find_first_of(" \t\r\n<>=!~;[(@,");
  return std::string(rest.substr(0, end));
}

std::string IndexUrlWithCredential(std::string_view index_url, std::string_view secret) {
  std::size_t scheme = index_url.find("://");
  if (scheme == std::string_view::npos) {
    return std::string(index_url);
  }
  return std::string(index_url.substr(0, scheme + 3)) + "__token__:" + std::string(secret) + "@" +
         std::string(index_url.substr(scheme + 3));
}

std::string LoopbackHttpsHost(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) {
    return "";
  }
  std::string_view rest = url.substr(kScheme.size());
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view host = authority;
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  const bool loopback = host == "[::1]" || host == "localhost" ||
                        (host.starts_with("127.") &&
                         host.find_first_not_of("0123456789.") == std::string_view::npos);
  return loopback ? std::string(authority) : "";
}

}  // namespace pipy::builder
