#include "builder/process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "builder/clock.h"

namespace pipy::builder {

std::int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Exit status the child uses when exec itself failed (as a shell does).
constexpr int kExecFailed = 127;

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(const ProcessSpec& spec, int out_fd, char* const* argv,
                            char* const* envp) {
  setpgid(0, 0);  // a group of its own, so a timeout can kill everything it starts
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
  }
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
    _exit(kExecFailed);
  }
  if (spec.memory_limit > 0) {
    struct rlimit limit;
    limit.rlim_cur = spec.memory_limit;
    limit.rlim_max = spec.memory_limit;
    setrlimit(RLIMIT_AS, &limit);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the server blocks SIGTERM in its threads
  signal(SIGPIPE, SIG_DFL);
  execvpe(argv[0], argv, envp);
  const char msg[] = "pipy: cannot execute the command\n";
  (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
  _exit(kExecFailed);
}

}  // namespace

Result<ProcessResult> PosixProcessRunner::Run(const ProcessSpec& spec, const OutputSink& sink) {
  if (spec.argv.empty()) {
    return InvalidArgument("no command to run");
  }
  // Everything the child needs is built before fork: no allocation after it.
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Internal(std::string("pipe: ") + strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Unavailable(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    ExecChild(spec, fds[1], argv.data(), envp.data());
  }
  setpgid(pid, pid);  // also from the parent, so the group exists before any kill below
  close(fds[1]);

  using Steady = std::chrono::steady_clock;
  const auto deadline = spec.timeout.count() > 0 ? Steady::now() + spec.timeout
                                                 : Steady::time_point::max();
  ProcessResult result;
  char buf[16 * 1024];
  bool open = true;
  bool killed = false;
  while (open) {
    pollfd p{fds[0], POLLIN, 0};
    int ready = poll(&p, 1, 200);
    if (ready > 0) {
      ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n > 0) {
        sink(std::string_view(buf, static_cast<std::size_t>(n)));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        open = false;  // every writer (the whole group) closed the pipe
      }
    } else {
      sink(std::string_view());
    }
    if (!killed) {
      bool cancelled = spec.cancel != nullptr && spec.cancel->load();
      bool timed_out = Steady::now() >= deadline;
      if (cancelled || timed_out) {
        result.cancelled = cancelled;
        result.timed_out = timed_out && !cancelled;
        kill(-pid, SIGKILL);
        killed = true;
        // Grandchildren that escaped the group (setsid) may keep the pipe open: stop reading.
        open = false;
      }
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!killed) {
    kill(-pid, SIGKILL);  // leftovers of a command that exited but left children behind
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  if (killed) {
    result.exit_code = -1;
  }
  return result;
}

}  // namespace pipy::builder
