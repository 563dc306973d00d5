// ChangeListener: the PostgreSQL side of Catalog::WatchChanges. One background thread per
// catalog holds its own connection with LISTEN on kChangeChannel and hands every
// notification's payload (the changed project) to the subscribers. When the connection
// breaks it reconnects with backoff (100 ms doubling to 5 s), so it heals with the server.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/postgres_db.h"

namespace pipy::catalog::pg {

// The channel every catalog write notifies (in its transaction), with the project as payload.
inline constexpr std::string_view kChangeChannel = "pipy_changes";

class ChangeListener {
 public:
  explicit ChangeListener(ConnectSettings settings);
  // Stops the thread (waking it at once) and joins it.
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // Adds `on_change` until the returned watch is destroyed. The first call starts the thread
  // and waits up to 5 s for it to listen, so a write made after it returns is seen; when the
  // server is down the thread keeps retrying in the background.
  std::unique_ptr<ChangeWatch> Subscribe(std::function<void(std::string_view)> on_change);

  // True while the thread holds a connection with LISTEN active.
  bool listening() const { return listening_.load(); }

 private:
  struct Subscribers;

  void Run();
  // Reads notifications until the connection breaks or the listener stops.
  void Listen(Connection& conn);
  // Sleeps up to `delay`, returning early when the listener stops.
  void Sleep(std::chrono::milliseconds delay);
  void SetListening(bool listening);

  const ConnectSettings settings_;
  const std::shared_ptr<Subscribers> subscribers_;
  const int wake_fd_;  // an eventfd written to stop the thread
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::mutex mu_;
  std::condition_variable listening_changed_;
  std::thread thread_;  // started by the first Subscribe; guarded by mu_
};

}  // namespace pipy::catalog::pg
