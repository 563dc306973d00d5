#include "upstream/url_policy.h"

#include <curl/curl.h>

#include <boost/url.hpp>
#include <charconv>
#include <memory>
#include <optional>

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

using CurlUrl = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// A part of a parsed URL; nullopt when curl has none (or cannot give it, e.g. an
// internationalized host without IDN support for CURLU_PUNYCODE).
std::optional<std::string> Part(CURLU* handle, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  const CURLUcode rc = curl_url_get(handle, part, &value, flags);
  // Debian 12's curl 7.88 can fail after allocating the part (found by the upstream_simple
  // fuzzer: a leak per such link on an upstream page): free whatever it handed back.
  std::unique_ptr<char, decltype(&curl_free)> owned(value, &curl_free);
  if (rc != CURLUE_OK || value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

// What the policy looks at, read from curl's parse of a URL.
struct Parts {
  std::string scheme;      // lowercase
  std::string host;        // lowercase, punycode, IPv4 normalized, IPv6 in brackets
  int port = 0;            // effective: explicit, else the scheme's default
  bool explicit_port = false;
  bool userinfo = false;   // user, password or login options, even empty ones
  bool zone = false;       // an IPv6 zone id ("[fe80::1%25eth0]")
};

// Parses `url` with libcurl into `handle`; a message saying why not otherwise.
Result<Parts> ParseWithCurl(CURLU* handle, std::string_view url) {
  if (url.find('\0') != std::string_view::npos) {
    return InvalidArgument("a NUL byte in the URL");
  }
  // curl takes "http:///x" for host "x" where RFC 3986 sees an empty host: refuse the
  // ambiguity rather than pick a side.
  std::size_t authority = url.find("://");
  if (authority != std::string_view::npos && authority + 3 < url.size() &&
      (url[authority + 3] == '/' || url[authority + 3] == '\\')) {
    return InvalidArgument("no host name");
  }
  CURLUcode rc = curl_url_set(handle, CURLUPART_URL, std::string(url).c_str(), 0);
  if (rc != CURLUE_OK) {
    return InvalidArgument(curl_url_strerror(rc));
  }
  Parts parts;
  parts.scheme = AsciiLower(Part(handle, CURLUPART_SCHEME).value_or(""));
  parts.host = AsciiLower(Part(handle, CURLUPART_HOST, CURLU_PUNYCODE).value_or(""));
  parts.explicit_port = Part(handle, CURLUPART_PORT).has_value();
  std::string port = Part(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("");
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), parts.port);
  if (ec != std::errc() || end != port.data() + port.size() || parts.port < 1 ||
      parts.port > 65535) {
    parts.port = -1;
  }
  parts.userinfo = Part(handle, CURLUPART_USER).has_value() ||
                   Part(handle, CURLUPART_PASSWORD).has_value() ||
                   Part(handle, CURLUPART_OPTIONS).has_value();
  parts.zone = Part(handle, CURLUPART_ZONEID).has_value();
  return parts;
}

CurlUrl NewCurlUrl() { return CurlUrl(curl_url(), &curl_url_cleanup); }

}  // namespace

void AllowedUrl::Deleter::operator()(Curl_URL* handle) const { curl_url_cleanup(handle); }

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
  auto bad_url = [&] {
    return InvalidArgument("[upstream] url must be an absolute http(s) URL, not '" +
                           std::string(upstream_url) + "'");
  };
  CurlUrl handle = NewCurlUrl();
  if (!handle) {
    return Internal("curl_url failed");
  }
  auto parsed = ParseWithCurl(handle.get(), upstream_url);
  if (!parsed || DefaultPort(parsed->scheme) < 0 || parsed->host.empty() || parsed->port < 0 ||
      parsed->zone) {
    return bad_url();
  }
  UrlPolicy policy;
  policy.allowed_.push_back({parsed->host, parsed->explicit_port ? parsed->port : 0});
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
    auto not_a_host = [&] {
      return InvalidArgument("[upstream] file_hosts: '" + entry + "' is not a host name");
    };
    if (host.empty() || host.find_first_of("/@?#\\ ") != std::string_view::npos) {
      return not_a_host();
    }
    // The host as curl will see it in a URL (lowercase, IPv4 and IDN normalized).
    CurlUrl host_handle = NewCurlUrl();
    if (!host_handle) {
      return Internal("curl_url failed");
    }
    auto host_parts = ParseWithCurl(host_handle.get(), "http://" + std::string(host) + "/");
    if (!host_parts || host_parts->host.empty() || host_parts->explicit_port ||
        host_parts->userinfo || host_parts->zone ||
        Part(host_handle.get(), CURLUPART_PATH).value_or("/") != "/") {
      return not_a_host();
    }
    policy.allowed_.push_back({host_parts->host, port});
  }
  return policy;
}

Result<AllowedUrl> UrlPolicy::Allow(std::string_view url) const {
  auto refused = [&](std::string_view why) {
    return PermissionDenied("refusing to fetch '" + std::string(url) + "': " + std::string(why));
  };
  AllowedUrl allowed;
  allowed.handle_.reset(curl_url());
  if (!allowed.handle_) {
    return Internal("curl_url failed");
  }
  auto parsed = ParseWithCurl(allowed.handle_.get(), url);
  if (!parsed) {
    return refused("not a URL curl accepts (" + parsed.error().message() + ")");
  }
  int default_port = DefaultPort(parsed->scheme);
  if (default_port < 0) {
    return refused("only http and https are fetched");
  }
  if (parsed->userinfo) {
    return refused("URLs with user info are not fetched");
  }
  if (parsed->host.empty() || parsed->zone) {
    return refused("no host name, or an IPv6 zone");
  }
  if (parsed->port < 0) {
    return refused("bad port");
  }
  std::optional<std::string> rendered = Part(allowed.handle_.get(), CURLUPART_URL);
  if (!rendered) {
    return refused("curl cannot render it");
  }
  for (const Allowed& entry : allowed_) {
    int allowed_port = entry.port == 0 ? default_port : entry.port;
    if (entry.host == parsed->host && allowed_port == parsed->port) {
      allowed.url_ = std::move(*rendered);
      return allowed;
    }
  }
  return refused("the host is neither the upstream's nor one of [upstream] file_hosts");
}

Status UrlPolicy::Check(std::string_view url) const {
  auto allowed = Allow(url);
  if (!allowed) {
    return allowed.error();
  }
  return Status::Ok();
}

}  // namespace pipy::upstream
