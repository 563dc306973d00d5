#include "upstream/url_policy.h"

#include <boost/url.hpp>
#include <charconv>

#include "core/strings.h"

namespace pipy::upstream {
namespace {

int DefaultPort(std::string_view scheme) {
  if (scheme == "http") {
    return 80;
  }
  if (scheme == "https") {
    return 443;
  }
  return -1;
}

}  // namespace

Result<std::string> ResolveUrl(std::string_view base, std::string_view ref) {
  auto base_url = boost::urls::parse_absolute_uri(base);
  if (!base_url) {
    return InvalidArgument("not an absolute URL: '" + std::string(base) + "'");
  }
  auto ref_url = boost::urls::parse_uri_reference(TrimAsciiWhitespace(ref));
  if (!ref_url) {
    return InvalidArgument("not a URL: '" + std::string(ref) + "'");
  }
  boost::urls::url out;
  auto resolved = boost::urls::resolve(*base_url, *ref_url, out);
  if (!resolved) {
    return InvalidArgument("cannot resolve '" + std::string(ref) + "' against '" +
                           std::string(base) + "'");
  }
  out.remove_fragment();
  return std::string(out.buffer());
}

std::string_view UrlFragment(std::string_view url) {
  std::size_t hash = url.find('#');
  return hash == std::string_view::npos ? std::string_view() : url.substr(hash + 1);
}

Result<UrlPolicy> UrlPolicy::Create(std::string_view upstream_url,
                                    const std::vector<std::string>& file_hosts) {
  auto parsed = boost::urls::parse_absolute_uri(upstream_url);
  if (!parsed || DefaultPort(parsed->scheme()) < 0 || parsed->encoded_host().empty()) {
    return InvalidArgument("[upstream] url must be an absolute http(s) URL, not '" +
                           std::string(upstream_url) + "'");
  }
  UrlPolicy policy;
  policy.allowed_.push_back(
      {AsciiLower(parsed->encoded_host()),
       parsed->has_port() ? static_cast<int>(parsed->port_number()) : 0});
  for (const std::string& entry : file_hosts) {
    std::string_view host = entry;
    int port = 0;
    // "host:port", but not a bare IPv6 literal's colons ("[::1]:8080" is fine).
    std::size_t colon = host.rfind(':');
    std::size_t bracket = host.rfind(']');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
      std::string_view digits = host.substr(colon + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      if (ec != std::errc() || end != digits.data() + digits.size() || port <= 0 ||
          port > 65535) {
        return InvalidArgument("[upstream] file_hosts: bad port in '" + entry + "'");
      }
      host = host.substr(0, colon);
    }
    if (host.empty() || host.find_first_of("/@?# ") != std::string_view::npos) {
      return InvalidArgument("[upstream] file_hosts: '" + entry + "' is not a host name");
    }
    policy.allowed_.push_back({AsciiLower(host), port});
  }
  return policy;
}

Status UrlPolicy::Check(std::string_view url) const {
  auto refused = [&](std::string_view why) {
    return PermissionDenied("refusing to fetch '" + std::string(url) + "': " + std::string(why));
  };
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return refused("not an absolute URL");
  }
  std::string scheme = AsciiLower(parsed->scheme());
  int default_port = DefaultPort(scheme);
  if (default_port < 0) {
    return refused("only http and https are fetched");
  }
  if (parsed->has_userinfo()) {
    return refused("URLs with user info are not fetched");
  }
  std::string host = AsciiLower(parsed->encoded_host());
  int port = parsed->has_port() ? static_cast<int>(parsed->port_number()) : default_port;
  if (parsed->has_port() && parsed->port_number() == 0) {
    return refused("bad port");
  }
  for (const Allowed& allowed : allowed_) {
    int allowed_port = allowed.port == 0 ? default_port : allowed.port;
    if (allowed.host == host && allowed_port == port) {
      return Status::Ok();
    }
  }
  return refused("the host is neither the upstream's nor one of [upstream] file_hosts");
}

}  // namespace pipy::upstream
