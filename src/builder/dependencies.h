// The pure parts of installing a module's dependencies (see build_runner.h for the steps):
// reading pip's installation report and its failures, and the per-build index URL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::builder {

// The pins ("name==version") of everything a `pip install --dry-run --report FILE` would
// install, read from that report
// (https://pip.pypa.io/en/stable/reference/installation-report/). kInvalidArgument for text
// that is not such a report, or for an entry fetched from a direct URL rather than the
// index (Pipy installs dependencies from its own index only), naming it.
Result<std::vector<std::string>> PinsFromInstallReport(std::string_view report_json);

// The requirement pip says it could not satisfy ("No matching distribution found for X"),
// reduced to its project name; empty when pip's output says nothing of the kind.
std::string MissingDistribution(std::string_view pip_output);

// `index_url` ("http://host:port/simple/") with "__token__:SECRET@" after the scheme.
std::string IndexUrlWithCredential(std::string_view index_url, std::string_view secret);

// "host:port" of an https:// URL on this machine's loopback (127.0.0.0/8, [::1],
// localhost), else empty. With TLS on, the builder reaches its own server over loopback by
// address, which the server's certificate (issued for its public name) does not name: the
// build's pip and npm are told to trust that host alone, which they may, since loopback
// traffic never leaves the machine.
std::string LoopbackHttpsHost(std::string_view url);

}  // namespace pipy::builder
