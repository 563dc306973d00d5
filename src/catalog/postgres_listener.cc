#include "catalog/postgres_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <string>

namespace pipy::catalog::pg {

// Shared with every watch, so a watch outliving its listener stays safe to destroy.
struct ChangeListener::Subscribers {
  std::mutex mu;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::function<void(std::string_view)>> callbacks;  // by mu

  // Holding `mu` while calling makes a watch's destructor wait for a running callback.
  void Dispatch(std::string_view project) {
    std::lock_guard lock(mu);
    for (auto& [id, callback] : callbacks) {
      callback(project);
    }
  }
};

namespace {

class Watch final : public ChangeWatch {
 public:
  Watch(std::shared_ptr<void> owner, std::function<void()> unsubscribe)
      : owner_(std::move(owner)), unsubscribe_(std::move(unsubscribe)) {}
  ~Watch() override { unsubscribe_(); }

 private:
  std::shared_ptr<void> owner_;
  std::function<void()> unsubscribe_;
};

}  // namespace

ChangeListener::ChangeListener(ConnectSettings settings)
    : settings_(std::move(settings)),
      subscribers_(std::make_shared<Subscribers>()),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ChangeListener::~ChangeListener() {
  stopping_.store(true);
  std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  std::thread thread;
  {
    std::lock_guard lock(mu_);
    thread.swap(thread_);
  }
  if (thread.joinable()) {
    thread.join();
  }
  close(wake_fd_);
}

std::unique_ptr<ChangeWatch> ChangeListener::Subscribe(
    std::function<void(std::string_view)> on_change) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(subscribers_->mu);
    id = subscribers_->next_id++;
    subscribers_->callbacks.emplace(id, std::move(on_change));
  }
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Run(); });
  }
  listening_changed_.wait_for(lock, std::chrono::seconds(5), [this] { return listening_.load(); });
  std::shared_ptr<Subscribers> subscribers = subscribers_;
  return std::make_unique<Watch>(subscribers, [subscribers, id] {
    std::lock_guard lock(subscribers->mu);
    subscribers->callbacks.erase(id);
  });
}

void ChangeListener::SetListening(bool listening) {
  std::lock_guard lock(mu_);
  listening_.store(listening);
  listening_changed_.notify_all();
}

void ChangeListener::Sleep(std::chrono::milliseconds delay) {
  pollfd wake{wake_fd_, POLLIN, 0};
  (void)poll(&wake, 1, static_cast<int>(delay.count()));
}

void ChangeListener::Run() {
  constexpr std::chrono::milliseconds kFirstDelay(100);
  constexpr std::chrono::milliseconds kMaxDelay(5000);
  std::chrono::milliseconds delay = kFirstDelay;
  const std::string listen = "LISTEN " + std::string(kChangeChannel);
  while (!stopping_.load()) {
    auto conn = Connection::Open(settings_);
    if (conn.has_value() && (*conn)->Exec(listen).ok()) {
      delay = kFirstDelay;
      SetListening(true);
      Listen(**conn);
      SetListening(false);
      continue;
    }
    Sleep(delay);
    delay = std::min(delay * 2, kMaxDelay);
  }
}

void ChangeListener::Listen(Connection& conn) {
  PGconn* raw = conn.raw();
  const int socket = PQsocket(raw);
  while (!stopping_.load() && !conn.broken()) {
    pollfd fds[2] = {{socket, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready = poll(fds, 2, 1000);
    if (ready < 0 && errno != EINTR) {
      return;
    }
    if (fds[1].revents != 0) {
      return;  // stopping
    }
    if (fds[0].revents == 0) {
      continue;
    }
    if (PQconsumeInput(raw) == 0) {
      return;  // the connection broke; Run reconnects
    }
    while (PGnotify* notify = PQnotifies(raw)) {
      subscribers_->Dispatch(notify->extra != nullptr ? notify->extra : "");
      PQfreemem(notify);
    }
  }
}

}  // namespace pipy::catalog::pg
