#include <signal.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "app/access.h"
#include "app/audit_routes.h"
#include "app/token_routes.h"
#include "auth/authenticator.h"
#include "builder/builder.h"
#include "builder/routes.h"
#include "catalog/build_queue.h"
#include "cli/commands.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "index/index.h"
#include "python/routes.h"
#include "npm/routes.h"
#include "upstream/npm_proxy.h"
#include "upstream/proxy.h"
#include "web/routes.h"

namespace pipy::cli {

namespace {

// Pages smaller than this stay in memory (a gather write of head and body); larger ones
// are sent from the page cache's spill file.
constexpr std::uint64_t kPageSpillMinBytes = 0;

// Removes request bodies and unpacked uploads a previous process left behind when it died.
void ClearFolder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
}

void AddServiceRoutes(http::Router& router, http::Metrics& metrics, const app::Access& access) {
  http::RouteOptions healthz;
  healthz.name = "healthz";
  healthz.open_to_all = true;
  http::RouteOptions metrics_route;
  metrics_route.name = "metrics";
  // /healthz answers every address, even outside the allowlist; it reveals nothing.
  router.Add("GET", "/healthz", healthz,
             [](http::Request&) { return http::TextResponse(200, "ok\n"); });
  router.Add("GET", "/metrics", metrics_route, [&metrics, &access](http::Request& request) {
    auto who = access.ForRead(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    return http::TextResponse(200, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace

int Serve(const config::Config& config) {
  // Block the stop signals before any thread starts, so only the waiter below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // With TLS, SIGHUP re-reads the certificate and key (without, it keeps its default).
  const bool tls = !config.server.tls_cert.empty();
  if (tls) {
    sigaddset(&stop_signals, SIGHUP);
  }
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (tls) {
    // Before anything else starts: a bad certificate or key stops start-up, naming the file.
    if (Status checked = http::CheckTlsFiles(config.server.tls_cert, config.server.tls_key);
        !checked.ok()) {
      std::cerr << "pipy: [server] " << checked.message() << "\n";
      return 1;
    }
  }

  {
    // Error answers never name these (http::ErrorResponse).
    std::vector<std::string> folders;
    std::error_code ec;
    for (const std::filesystem::path& p : {config.data_dir, config.config_file.parent_path()}) {
      if (p.empty()) {
        continue;
      }
      folders.push_back(std::filesystem::absolute(p, ec).lexically_normal().string());
      folders.push_back(std::filesystem::weakly_canonical(p, ec).string());
    }
    http::SetServerFolders(std::move(folders));
  }
  auto repo = OpenRepository(config, /*read_cache=*/true);
  if (!repo) {
    std::cerr << "pipy: " << repo.error().message() << "\n";
    return 1;
  }
  auth::AccessOptions access_options;
  access_options.allow = config.access.allow;
  access_options.anonymous_read = config.access.anonymous_read;
  auto authenticator = auth::Authenticator::Create(*repo->catalog, access_options);
  if (!authenticator) {
    std::cerr << "pipy: " << authenticator.error().message() << "\n";
    return 1;
  }
  auth::FailureLimiter::Options failed_auth;
  failed_auth.max_failures = config.limits.max_failed_auth_per_minute;
  app::Access access(*authenticator, failed_auth);
  index::Index index(*repo->blobs, *repo->catalog);
  access.SetAuditLog(&index.audit());  // guards record their refusals there
  http::Metrics metrics;

  const std::filesystem::path spool_dir = config.data_dir / "spool";
  const std::filesystem::path upload_dir = config.data_dir / "uploads";
  ClearFolder(spool_dir);
  ClearFolder(upload_dir);
  // Rendered pages live in an unnamed file beside the spooled bodies and are sent from it
  // (see index/page_spill.h): the kernel's page cache holds them, not pipy's heap.
  index.pages().SetSpill(
      std::make_unique<index::PageSpill>(spool_dir, 2 * index::PageCache::kDefaultMaxBytes),
      kPageSpillMinBytes);

  http::Router router;
  AddServiceRoutes(router, metrics, access);
  app::RegisterTokenRoutes(router, *repo->catalog, access);  // GET/POST/DELETE /api/tokens
  app::RegisterAuditRoutes(router, *repo->catalog, access);  // GET /api/audit
  python::PythonOptions python_options;
  python_options.max_upload_bytes = config.limits.max_upload_bytes;
  python_options.tmp_dir = upload_dir;
  // [upstream]: one index URL for internal and public packages (off when url is empty).
  std::unique_ptr<upstream::Proxy> proxy;
  if (!config.upstream.url.empty()) {
    upstream::ProxyOptions upstream_options;
    upstream_options.config = config.upstream;
    upstream_options.dir = config.data_dir / "upstream";
    upstream_options.max_fetches = config.upstream.max_fetches;
    upstream_options.fetch_slot_wait = config.upstream.fetch_slot_wait;
    upstream_options.max_file_bytes = config.upstream.max_file_bytes;
    auto created = upstream::Proxy::Create(upstream_options, index, metrics);
    if (!created) {
      std::cerr << "pipy: [upstream]: " << created.error().message() << "\n";
      return 1;
    }
    proxy = std::move(*created);
    python_options.unknown_projects = proxy.get();
    upstream::RegisterRoutes(router, *proxy, access);
  }
  // [npm] upstream: the public npm registry, for packages that do not exist here.
  std::unique_ptr<upstream::NpmProxy> npm_proxy;
  if (!config.npm.upstream.empty()) {
    upstream::NpmProxyOptions npm_upstream;
    npm_upstream.config = config.npm;
    npm_upstream.dir = config.data_dir / "upstream" / "npm";
    auto created = upstream::NpmProxy::Create(npm_upstream, index, metrics);
    if (!created) {
      std::cerr << "pipy: [npm]: " << created.error().message() << "\n";
      return 1;
    }
    npm_proxy = std::move(*created);
  }
  // Each upstream guards the names of its own format against being taken over here.
  if (proxy || npm_proxy) {
    index.SetNewProjectCheck([&proxy, &npm_proxy](const auth::Principal& who,
                                                  std::string_view format,
                                                  std::string_view name) {
      if (format == catalog::kPython && proxy) {
        return proxy->CheckNewProject(who, name);
      }
      if (format == catalog::kNpm && npm_proxy) {
        return npm_proxy->CheckNewProject(who, name);
      }
      return Status::Ok();
    });
  }
  python::RegisterRoutes(router, index, access, metrics, python_options);
  npm::NpmOptions npm_options;
  npm_options.max_upload_bytes = config.limits.max_upload_bytes;
  npm_options.tmp_dir = upload_dir;
  npm_options.public_url = config.server.public_url;
  npm_options.unknown_packages = npm_proxy.get();
  npm::RegisterRoutes(router, index, access, metrics, npm_options);
  web::WebOptions web_options;
  web_options.public_base_hint = config.server.public_url;  // /help and npm install lines
  web::RegisterRoutes(router, index, access, std::move(web_options));
  // The monorepo builder: jobs live in the catalog's database; watchers and runners only
  // when [[sources]] are configured.
  std::unique_ptr<catalog::BuildQueue> build_queue;
  std::unique_ptr<builder::Builder> monorepo_builder;
  {
    auto queue = catalog::MakeBuildQueue(catalog::CatalogOptions{
        config.catalog.backend, config.data_dir / "catalog.db", config.catalog.url,
        static_cast<std::size_t>(config.catalog.pool_size)});
    if (queue) {
      build_queue = std::move(*queue);
    } else if (!config.sources.empty()) {
      std::cerr << "pipy: build queue: " << queue.error().message() << "\n";
      return 1;
    }
  }
  if (build_queue && !config.sources.empty()) {
    // Each build reads this server with a credential of its own (a private repository
    // needs one), issued by the authenticator for the build's downloads only.
    auto created = builder::Builder::Create(
        config.sources, config.builder,
        builder::Builder::Paths{config.data_dir, config.config_file}, *build_queue, index,
        *authenticator, builder::DefaultNodeId(config.data_dir),
        [&metrics](std::string_view format, catalog::BuildStatus status) {
          const std::string_view name = catalog::BuildStatusName(status);
          metrics.Increment("pipy_builds_total", "status", name);
          metrics.Increment("pipy_builds_by_format_total", {{"format", format}, {"status", name}});
        });
    if (!created) {
      std::cerr << "pipy: [[sources]]: " << created.error().message() << "\n";
      return 1;
    }
    monorepo_builder = std::move(*created);
  }
  if (build_queue) {
    builder::RegisterRoutes(router, *build_queue, monorepo_builder.get(), access);
  }

  http::ServerOptions server_options;
  server_options.listen = config.server.listen;
  server_options.threads = config.server.threads;
  server_options.max_header_bytes = config.limits.max_header_bytes;
  server_options.header_timeout = config.limits.header_timeout;
  server_options.idle_timeout = config.limits.idle_timeout;
  server_options.body_timeout = config.limits.body_timeout;
  server_options.small_body_timeout = config.limits.small_body_timeout;
  server_options.max_connections_per_address = config.limits.max_connections_per_address;
  // The allowlist, before routing and before any body byte: only /healthz is open to all.
  server_options.admission = access.AdmissionGuard();
  server_options.spool_dir = spool_dir;
  server_options.access_log = config.server.access_log;
  server_options.tls_cert = config.server.tls_cert;
  server_options.tls_key = config.server.tls_key;
  http::Server server(server_options, router, metrics);
  auto port = server.Start();
  if (!port) {
    std::cerr << "pipy: cannot listen on " << config.server.listen << ": "
              << port.error().message() << "\n";
    return 1;
  }
  std::string host = config.server.listen.substr(0, config.server.listen.rfind(':'));
  const std::string scheme = tls ? "https://" : "http://";
  std::cerr << "pipy: serving " << config.data_dir.string() << " on " << scheme << host << ":"
            << *port << "/" << std::endl;
  if (monorepo_builder) {
    // Dependencies are installed from this server, over loopback when it listens on all.
    std::string loopback = host == "0.0.0.0" ? "127.0.0.1" : host == "[::]" ? "[::1]" : host;
    // The builder's credential passes the allowlist no more than any token.
    std::string address = loopback;
    if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
      address = address.substr(1, address.size() - 2);
    }
    std::string refusal;
    if (!authenticator->AddressAllowed(address)) {
      refusal = "the builder installs dependencies from this server at " + address +
                ", which the allowlist ([access] allow) refuses; add " + address +
                " to it to build modules that have dependencies";
      std::cerr << "pipy: warning: " << refusal << std::endl;
    }
    Status started = monorepo_builder->Start(
        scheme + loopback + ":" + std::to_string(*port) + "/", refusal);
    if (!started.ok()) {
      std::cerr << "pipy: builder: " << started.message() << std::endl;
      return 1;
    }
  }

  std::thread waiter([&server, &config, stop_signals] {
    int signal_number = 0;
    while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP) {
      // A bad file keeps the pair in use: serving goes on either way.
      Status reloaded = server.ReloadTls();
      if (reloaded.ok()) {
        std::cerr << "pipy: reloaded TLS certificate " << config.server.tls_cert.string()
                  << " and key " << config.server.tls_key.string() << std::endl;
      } else {
        std::cerr << "pipy: error: TLS reload failed, keeping the previous certificate: "
                  << reloaded.message() << std::endl;
      }
    }
    std::cerr << "pipy: stopping (signal " << signal_number << ")" << std::endl;
    server.Stop();
  });
  server.Run();
  // Run() also returns if the server stops on its own; wake the waiter so it can be joined.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (monorepo_builder) {
    monorepo_builder->Stop();  // a running build is killed; it runs again at the next start
  }
  std::cerr << "pipy: stopped" << std::endl;
  return 0;
}

}  // namespace pipy::cli
