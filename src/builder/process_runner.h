// ProcessRunner: runs one command to completion with limits, its output captured. Injected
// into the build runner so its logic has fast tests with a fake; the real one is
// PosixProcessRunner.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::builder {

struct ProcessSpec {
  std::vector<std::string> argv;        // argv[0] is the program (a path, or found in PATH)
  std::vector<std::string> env;         // the whole environment, "NAME=value"
  std::filesystem::path cwd;            // empty = inherit
  std::chrono::milliseconds timeout{0}; // wall clock for the command and all it starts; 0 = none
  std::uint64_t memory_limit = 0;       // address-space limit in bytes (RLIMIT_AS); 0 = none
  // When set and it becomes true, the command is killed as on a timeout (shutdown).
  const std::atomic<bool>* cancel = nullptr;
};

struct ProcessResult {
  int exit_code = -1;       // the exit status when the process exited normally, else -1
  int signal = 0;           // the signal that ended it, else 0
  bool timed_out = false;   // killed at spec.timeout
  bool cancelled = false;   // killed because *spec.cancel became true
  bool ok() const { return exit_code == 0 && !timed_out && !cancelled; }
};

// Receives the command's combined stdout and stderr as it arrives, in order. May also be
// called with an empty chunk while the command is silent (at least every 250 ms), so a
// buffering sink can flush.
using OutputSink = std::function<void(std::string_view chunk)>;

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs `spec` and waits for it. An error only when the command could not be started
  // (e.g. the program does not exist: kNotFound); a command that fails is a ProcessResult.
  virtual Result<ProcessResult> Run(const ProcessSpec& spec, const OutputSink& sink) = 0;
};

// fork/exec in a new process group; a timeout or cancellation SIGKILLs the whole group, so
// nothing a test started survives it. Thread-safe.
class PosixProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessSpec& spec, const OutputSink& sink) override;
};

}  // namespace pipy::builder
