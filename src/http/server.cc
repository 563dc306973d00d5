// The HTTP/1.1 server, after Beast's advanced server: a listener accepts connections onto
// strands of one io_context run by a pool of threads; each connection is a Session
// (session_impl.h; session_read.cc and session_write.cc are the translation units with
// Beast). Start/Run/Stop live here.
#include "http/server.h"

#include <unistd.h>

#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/access_log.h"
#include "http/session.h"
#include "http/target.h"
#include "http/tls.h"

namespace pipy::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Server::Impl : SessionHost {
  Impl(ServerOptions o, const Router& r, Metrics& m)
      : SessionHost(std::move(o), r, m),
        threads(options.threads > 0 ? options.threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        ioc(threads) {}

  void DoAccept();
  void ScheduleFlush();

  int threads;
  // Declared before the io_context: sessions still queued in it unregister on destruction.
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer flush_timer{ioc};
  bool started = false;
};

void Server::Impl::DoAccept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](boost::system::error_code ec,
                                                       tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
      return;
    }
    if (!ec && !stopping.load()) {
      StartSession(std::move(socket), *this);
    } else if (ec) {
      // EMFILE and friends: keep accepting; the peer sees a reset.
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    DoAccept();
  });
}

void Server::Impl::ScheduleFlush() {
  flush_timer.expires_after(std::chrono::seconds(1));
  flush_timer.async_wait([this](boost::system::error_code ec) {
    if (access_log) {
      access_log->Flush();
    }
    if (!ec && !stopping.load()) {
      ScheduleFlush();
    }
  });
}

Server::Server(ServerOptions options, const Router& router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() {
  // Blocking work posts its results back to the io_context: let it finish while the
  // io_context still exists (it is a member of Impl, destroyed after this body).
  impl_->blocking.join();
  if (impl_->access_log) {
    impl_->access_log->Flush();
  }
}

Result<int> Server::Start() {
  Impl& s = *impl_;
  if (s.started) {
    return Internal("http server already started");
  }
  if (s.options.spool_dir.empty()) {
    return InvalidArgument("http server: spool_dir is required");
  }
  if (s.options.tls_cert.empty() != s.options.tls_key.empty()) {
    return InvalidArgument("http server: a TLS certificate needs a key and a key a certificate");
  }
  if (tls()) {
    PIPY_ASSIGN_OR_RETURN(auto context, LoadTlsContext(s.options.tls_cert, s.options.tls_key));
    s.SetTlsContext(std::move(context));
  }
  PIPY_ASSIGN_OR_RETURN(ListenAddress listen, ParseListenAddress(s.options.listen));
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(listen.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, static_cast<unsigned short>(listen.port));
  } else {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(listen.host, std::to_string(listen.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return InvalidArgument(fmt::format("cannot resolve listen host \"{}\": {}", listen.host,
                                         ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }
  auto fail = [&](std::string_view what) -> Status {
    return Unavailable(fmt::format("cannot {} {}: {}", what, s.options.listen, ec.message()));
  };
  if (s.acceptor.open(endpoint.protocol(), ec)) {
    return fail("open a socket for");
  }
  if (s.acceptor.set_option(asio::socket_base::reuse_address(true), ec)) {
    return fail("set SO_REUSEADDR on");
  }
  if (s.acceptor.bind(endpoint, ec)) {
    return fail("bind");
  }
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    return fail("listen on");
  }
  int port = s.acceptor.local_endpoint(ec).port();
  if (ec) {
    return fail("read the port of");
  }
  if (s.options.access_log) {
    s.access_log = std::make_unique<AccessLog>(STDOUT_FILENO);
  }
  s.started = true;
  s.DoAccept();
  if (s.access_log) {
    s.ScheduleFlush();
  }
  return port;
}

Status CheckTlsFiles(const std::filesystem::path& cert, const std::filesystem::path& key) {
  return LoadTlsContext(cert, key).status();
}

bool Server::tls() const {
  return !impl_->options.tls_cert.empty() && !impl_->options.tls_key.empty();
}

Status Server::ReloadTls() {
  if (!tls()) {
    return InvalidArgument("the server has no TLS certificate to reload");
  }
  PIPY_ASSIGN_OR_RETURN(auto context,
                        LoadTlsContext(impl_->options.tls_cert, impl_->options.tls_key));
  impl_->SetTlsContext(std::move(context));
  return Status::Ok();
}

void Server::Run() {
  Impl& s = *impl_;
  auto run = [&s] {
    while (true) {
      try {
        s.ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: uncaught exception on an I/O thread: {}", e.what());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < s.threads; ++i) {
    pool.emplace_back(run);
  }
  run();
  for (std::thread& t : pool) {
    t.join();
  }
}

void Server::Stop() {
  Impl& s = *impl_;
  if (!s.stopping.exchange(true)) {
    asio::post(s.ioc, [&s] {
      boost::system::error_code ignored;
      s.acceptor.close(ignored);
      s.flush_timer.cancel();
    });
    s.CloseIdleSessions();
  }
  // In-flight requests finish (their sessions then close); the rest are cut off.
  s.WaitForSessions(s.options.stop_grace);
  s.ioc.stop();
  if (s.access_log) {
    s.access_log->Flush();
  }
}

}  // namespace pipy::http
