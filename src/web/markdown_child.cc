#include "web/markdown_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "web/markdown.h"

extern char** environ;

namespace pipy::web {
namespace {

using Clock = std::chrono::steady_clock;

// ASan and TSan reserve terabytes of shadow address space at start-up, so under an
// RLIMIT_AS of any useful size their allocator's next mmap fails and the child dies
// (make test-asan, make test-tsan). Those builds keep the CPU limit, the clock and the
// output cap only.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kAddressSpaceLimit = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kAddressSpaceLimit = false;
#else
constexpr bool kAddressSpaceLimit = true;
#endif
#else
constexpr bool kAddressSpaceLimit = true;
#endif

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_;
};

std::string Errno(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The input as the child's stdin: an anonymous in-memory file, written completely before
// the child starts, so the parent never blocks feeding a child that stopped reading.
Result<int> InputFile(std::string_view markdown) {
  int fd = memfd_create("pipy-markdown", MFD_CLOEXEC);
  if (fd < 0) {
    return Unavailable(Errno("memfd_create"));
  }
  if (!WriteAll(fd, markdown) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return Unavailable(Errno("writing the markdown input"));
  }
  return fd;
}

// Reaps `pid`, SIGKILLing it first when `kill_now`, or once `deadline` passed. Returns
// the wait status.
int Reap(pid_t pid, Clock::time_point deadline, bool kill_now) {
  if (kill_now) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, kill_now ? 0 : WNOHANG);
    if (r == pid) {
      return status;
    }
    if (r < 0 && errno != EINTR) {
      return 0;  // already reaped elsewhere (SIGCHLD ignored): nothing more to learn
    }
    if (r == 0) {
      if (Clock::now() >= deadline) {
        kill(pid, SIGKILL);
        kill_now = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
}

bool ParseNumber(const char* text, std::uint64_t& out) {
  std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Result<std::string> RenderMarkdownInChild(std::string_view markdown,
                                          const MarkdownChildOptions& options) {
  if (markdown.size() > options.max_input_bytes) {
    return TooLarge("the description is too large to render");
  }
  PIPY_ASSIGN_OR_RETURN(int input_fd, InputFile(markdown));
  Fd input(input_fd);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Unavailable(Errno("pipe2"));
  }
  Fd out_read(pipe_fds[0]);
  Fd out_write(pipe_fds[1]);

  std::vector<std::string> args;
  args.push_back(options.executable);
  args.insert(args.end(), options.args.begin(), options.args.end());
  args.push_back(std::to_string(options.cpu_limit_seconds));
  args.push_back(std::to_string(options.memory_limit_bytes));
  args.push_back(std::to_string(options.max_input_bytes));
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The server blocks its stop signals in every thread and ignores SIGPIPE; the child
  // starts with neither, so SIGKILL, SIGXCPU and a closed pipe end it as usual.
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const Clock::time_point deadline = Clock::now() + options.timeout;
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, options.executable.c_str(), &actions, &attr, argv.data(),
                            environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    return Unavailable("starting the markdown renderer: " + std::string(std::strerror(spawned)));
  }
  out_write.Reset();
  input.Reset();

  std::string html;
  Status failure;
  char buf[64 * 1024];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      failure = Status(StatusCode::kDeadlineExceeded, "rendering the description took too long");
      break;
    }
    pollfd p{out_read.get(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      failure = Internal(Errno("poll"));
      break;
    }
    if (ready == 0) {
      continue;  // the deadline check above ends it
    }
    ssize_t n = read(out_read.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n < 0) {
      failure = Internal(Errno("reading the rendered description"));
      break;
    }
    if (n == 0) {
      break;  // EOF: the child is done (or died)
    }
    html.append(buf, static_cast<std::size_t>(n));
    if (html.size() > options.max_output_bytes) {
      failure = TooLarge("the rendered description is too large");
      break;
    }
  }
  out_read.Reset();
  // After EOF the child only has to exit: a little grace past the deadline for that.
  int status = Reap(pid, deadline + std::chrono::milliseconds(200), /*kill_now=*/!failure.ok());
  if (!failure.ok()) {
    return failure;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
      return TooLarge("the description is too large to render");
    }
    return Internal("the markdown renderer failed (status " + std::to_string(status) + ")");
  }
  return html;
}

int RenderMarkdownChildMain(int argc, char** argv) {
  std::uint64_t cpu_seconds = 0;
  std::uint64_t memory_bytes = 0;
  std::uint64_t max_input = 0;
  if (argc < 5 || !ParseNumber(argv[argc - 3], cpu_seconds) ||
      !ParseNumber(argv[argc - 2], memory_bytes) || !ParseNumber(argv[argc - 1], max_input)) {
    return 2;
  }
  // Backstops should the parent's wall clock fail: SIGXCPU at the soft CPU limit, SIGKILL
  // a second later; allocations beyond the memory limit fail (cmark then aborts).
  if (cpu_seconds > 0) {
    rlimit cpu{cpu_seconds, cpu_seconds + 1};
    setrlimit(RLIMIT_CPU, &cpu);
  }
  if (memory_bytes > 0 && kAddressSpaceLimit) {
    rlimit as{memory_bytes, memory_bytes};
    setrlimit(RLIMIT_AS, &as);
  }
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  // The server's own work comes first.
  setpriority(PRIO_PROCESS, 0, 10);
  close_range(3, ~0U, 0);

  std::string input;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return 4;
    }
    if (n == 0) {
      break;
    }
    input.append(buf, static_cast<std::size_t>(n));
    if (input.size() > max_input) {
      return 3;
    }
  }
  std::string html = RenderMarkdown(input);
  return WriteAll(1, html) ? 0 : 4;
}

}  // namespace pipy::web
