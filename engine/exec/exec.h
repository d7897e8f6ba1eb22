// The recorded executor (`tink exec`, the MCP `exec` tool): runs one command as a task of a run,
// optionally under bubblewrap, and records what it did as events (docs/exec.md):
//   run.started (only when the run id is generated), task.created, task.started,
//   tool.call (tool "exec": argv, cwd, env names, sandbox, timeout),
//   tool.output chunks of stdout/stderr as they arrive (capped per stream; a truncation is noted),
//   tool.result (exit code, signal, timeout, duration, rusage),
//   the canvas events for files changed under the workdir (before/after snapshot),
//   task.succeeded / task.failed, and run.finished for a generated run.
// Values of environment variables are never recorded; names only, and not even the name of a
// variable passed with `env` whose name looks secret (see IsSecretName).
//
// The command is never blocked by recording: its pipes are read continuously and chunks go to an
// appender thread through a bounded queue; when the sink is slower than the output, chunks are
// coalesced and, past the queue's bound, dropped with a count that is recorded.
//
// Threads: RunRecorded blocks its caller until the command has exited and everything is appended;
// it calls the sink from one thread at a time (not necessarily the caller's). Several RunRecorded
// may run at once (each has its own child, threads and queue).
// Errors (RunRecorded returns an error only for tink's own failures, never for the command's):
//   InvalidArgument - empty argv, bad workdir, a bad env entry, --sandbox without a usable bwrap
//                     (the command never runs unsandboxed);
//   NotFound        - argv[0] not found in PATH (nothing is run, nothing is recorded);
//                     InvalidArgument "NAME: Permission denied" when it is not executable;
//   whatever the sink returns (IOError, Conflict, ...), with what was recorded before it.
// The command's own failure (non-zero exit, signal, timeout) is an ExecOutcome, not an error.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log/log.h"
#include "schema/schema.h"
#include "schema/status.h"

namespace tink::exec {

struct ExecOptions {
  std::vector<std::string> argv;  // the command; argv[0] is looked up in PATH (unless it has a '/')
  std::string run;      // "" = a fresh generated run, recorded with run.started / run.finished
  std::string task;     // "" = generated
  std::string parent;   // parent task id for task.created ("" = none)
  std::string workdir;  // "" = the current directory; the command's cwd; files changed under it
                        // become canvas events
  bool record_files = true;  // snapshot the workdir before and after
  // Paths left out of the snapshot (e.g. the store itself when it lies under the workdir).
  std::vector<std::string> exclude;
  bool sandbox = false;  // run under bwrap (no network, read-only /, workdir writable)
  double timeout_s = 0;  // 0 = none; on expiry SIGTERM then SIGKILL the process group
  // Added to the inherited environment (K, V). Values are never recorded.
  std::vector<std::pair<std::string, std::string>> env;
  size_t chunk_bytes = 64 << 10;        // largest tool.output text per event (before encoding)
  size_t output_cap_bytes = 8 << 20;    // per stream; past it output is counted, not recorded
  size_t stdout_head_bytes = 64 << 10;  // how much of each stream ExecOutcome keeps
  // Where the command's output is also passed through as it arrives (-1 = nowhere).
  int stdout_fd = 1;
  int stderr_fd = 2;
  int stdin_fd = -1;  // the command's stdin (-1 = /dev/null)
  // Readable (e.g. a self-pipe written by a signal handler) = cancel: the process group gets
  // SIGTERM, then SIGKILL after kill_grace_s. -1 = none.
  int cancel_fd = -1;
  double kill_grace_s = 2;    // between SIGTERM and SIGKILL on timeout or cancel
  std::string tool = "exec";  // the tool name in tool.call/tool.result (the MCP server may set it)
  std::string worker;         // task.started's worker ("" = "tink exec pid N")
};

struct ExecOutcome {
  std::string run, task, call_id;
  bool run_generated = false;
  int exit_code = -1;  // the command's exit status; -1 if killed by a signal
  int signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;
  bool cancelled = false;  // cancel_fd became readable
  double duration_ms = 0;
  double user_cpu_ms = 0, sys_cpu_ms = 0;
  int64_t max_rss_kb = 0;
  uint64_t stdout_bytes = 0, stderr_bytes = 0;              // everything the command wrote
  bool stdout_truncated = false, stderr_truncated = false;  // past output_cap_bytes
  uint64_t dropped_bytes = 0;  // output not recorded (past the cap, or the store was too slow)
  std::string stdout_text, stderr_text;  // the first stdout_head_bytes of each stream
  size_t files_changed = 0;              // canvas events emitted for the workdir
  std::vector<std::string> file_notes;   // files skipped (too large, unreadable, ...)
  log::Lsn first_lsn = 0, last_lsn = 0;  // of everything recorded
  // What `tink exec` exits with: the exit code; 128+N for signal N; 124 for a timeout.
  int ShellExitCode() const;
  // "exit code 3", "killed by signal 9 (Killed)", "timed out after 2 s", ...; "" for exit 0.
  std::string Failure() const;
};

// Appends one group of events atomically and returns their LSNs in order (the local engine, or
// POST /v1/events to a daemon). Called from one thread at a time.
using EventSink = std::function<Result<std::vector<log::Lsn>>(std::span<const schema::EventInput>)>;

// Runs options.argv and records it through `sink`. Blocks until the command has ended (and its
// process group is gone, on timeout) and every event is appended.
Result<ExecOutcome> RunRecorded(const ExecOptions& options, const EventSink& sink);

// True for an environment variable name that looks like it holds a secret (contains TOKEN, KEY,
// SECRET, PASSWORD, PASSWD, AUTH, CREDENTIAL, COOKIE, SESSION, PRIVATE, case-insensitive).
bool IsSecretName(std::string_view name);

// Whether bwrap is installed and can create the namespaces the sandbox uses; the error says why
// not (InvalidArgument).
Status CheckSandbox();

}  // namespace tink::exec
