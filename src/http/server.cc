// The HTTP/1.1 server: one io_context per I/O thread, as nginx runs one worker per core.
// The listener (on the first) hands each accepted connection to the next io_context in
// turn, and the connection stays on that thread for its whole life: its handlers never
// run concurrently, so no strand is needed, and no thread wakes another to serve it.
// Each connection is a Session (session_impl.h; session_read.cc and session_write.cc are
// the translation units with Beast). Start/Run/Stop live here.
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
        contexts(MakeContexts(threads)),
        acceptor(*contexts.front()),
        flush_timer(*contexts.front()) {
    for (auto& context : contexts) {
      work.push_back(asio::make_work_guard(*context));
    }
  }

  // One io_context per thread, each run by that thread alone (concurrency hint 1: the
  // blocking pool still posts completions to it, so it keeps its locks).
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (int i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
    }
    return contexts;
  }

  void DoAccept();
  void ScheduleFlush();

  int threads;
  // Declared before the io_contexts: sessions still queued in them unregister on
  // destruction.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // Keeps each io_context's run() going while it has no connection; Stop() ends them.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::size_t next_context = 0;  // the io_context the next connection goes to
  tcp::acceptor acceptor;
  asio::steady_timer flush_timer;
  bool started = false;
};

void Server::Impl::DoAccept() {
  asio::io_context& target = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  acceptor.async_accept(target.get_executor(), [this](boost::system::error_code ec,
                                                      Socket socket) {
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
  // Blocking work posts its results back to the io_contexts: let it finish while the
  // io_contexts still exist (members of Impl, destroyed after this body).
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
    tcp::resolver resolver(*s.contexts.front());
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
  auto run = [](asio::io_context& context) {
    while (true) {
      try {
        context.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: uncaught exception on an I/O thread: {}", e.what());
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < s.contexts.size(); ++i) {
    pool.emplace_back(run, std::ref(*s.contexts[i]));
  }
  run(*s.contexts.front());
  for (std::thread& t : pool) {
    t.join();
  }
}

void Server::Stop() {
  Impl& s = *impl_;
  if (!s.stopping.exchange(true)) {
    asio::post(*s.contexts.front(), [&s] {
      boost::system::error_code ignored;
      s.acceptor.close(ignored);
      s.flush_timer.cancel();
    });
    s.CloseIdleSessions();
  }
  // In-flight requests finish (their sessions then close); the rest are cut off.
  s.WaitForSessions(s.options.stop_grace);
  for (auto& context : s.contexts) {
    context->stop();
  }
  if (s.access_log) {
    s.access_log->Flush();
  }
}

}  // namespace pipy::http
