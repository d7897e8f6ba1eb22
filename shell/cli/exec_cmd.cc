// tink exec: runs a command as a recorded task (engine/exec/exec.h, docs/exec.md). Locally the
// store is opened as its writer for as long as the command runs; with --server every group of
// events is POSTed to the daemon's /v1/events. The command's output passes through to tink's
// stdout and stderr as it arrives; tink exits with the command's exit code (128+N for signal N,
// 124 for a timeout) or, for its own failures, 2/4 (127 when the command is not found, 126 when
// it cannot be executed).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/exec/exec.h"
#include "shell/cli/append_stream.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"

namespace tink::cli {
namespace {

struct ExecFlags {
  std::string run, task, parent, workdir, sync = "always";
  bool sandbox = false;
  bool json = false;
  bool no_files = false;
  double timeout = 0;
  size_t output_cap = 8 << 20;
  std::vector<std::string> env;
  std::vector<std::string> command;
};

// SIGINT/SIGTERM/SIGHUP while the command runs: written to a self-pipe the executor polls (it
// then stops the command's process group: SIGTERM, SIGKILL after the grace).
int g_cancel_write = -1;
extern "C" void OnCancelSignal(int) {
  if (g_cancel_write >= 0) {
    const char c = 1;
    [[maybe_unused]] ssize_t r = ::write(g_cancel_write, &c, 1);
  }
}

int InstallCancel() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  g_cancel_write = p[1];
  struct sigaction sa {};
  sa.sa_handler = OnCancelSignal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &sa, nullptr);
  // A closed stdout must not kill tink before it has recorded the end: the executor stops
  // passing output through instead.
  ::signal(SIGPIPE, SIG_IGN);
  return p[0];
}

int ExitForExecError(const Status& s) {
  if (s.IsNotFound() && s.message().starts_with("command not found")) {
    std::fprintf(stderr, "tink exec: %s\n", s.message().c_str());
    return 127;
  }
  if (s.IsInvalidArgument() && s.message().ends_with("Permission denied")) {
    std::fprintf(stderr, "tink exec: %s\n", s.message().c_str());
    return 126;
  }
  return Fail("exec", s);
}

void PrintSummary(const exec::ExecOutcome& o) {
  nlohmann::json j = {{"run", o.run},
                      {"task", o.task},
                      {"call_id", o.call_id},
                      {"first_lsn", o.first_lsn},
                      {"last_lsn", o.last_lsn},
                      {"exit_code", o.ShellExitCode()},
                      {"duration_ms", o.duration_ms},
                      {"stdout_bytes", o.stdout_bytes},
                      {"stderr_bytes", o.stderr_bytes},
                      {"files_changed", o.files_changed}};
  if (o.signal != 0) j["signal"] = o.signal;
  if (o.timed_out) j["timed_out"] = true;
  if (o.dropped_bytes != 0) j["dropped_bytes"] = o.dropped_bytes;
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fprintf(stderr, "%s\n", line.c_str());
}

Result<exec::ExecOptions> Options(const ExecFlags& f) {
  exec::ExecOptions o;
  o.argv = f.command;
  o.run = f.run;
  o.task = f.task;
  o.parent = f.parent;
  o.workdir = f.workdir;
  o.sandbox = f.sandbox;
  o.timeout_s = f.timeout;
  o.record_files = !f.no_files;
  o.output_cap_bytes = f.output_cap;
  for (const std::string& kv : f.env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--env expects NAME=VALUE, got '" + kv.substr(0, 40) + "'");
    }
    o.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // A terminal stays with tink (the command runs in its own process group, where reading the
  // terminal would stop it): the command reads stdin only from a pipe or a file.
  o.stdin_fd = ::isatty(0) ? -1 : 0;
  return o;
}

int Run(const GlobalOptions& global, const ExecFlags& f, bool sync_given) {
  if (f.command.empty()) {
    std::fprintf(stderr, "tink exec: no command given (tink exec [flags] -- CMD ARGS...)\n");
    return static_cast<int>(Exit::kUsage);
  }
  auto options = Options(f);
  if (!options.ok()) return Fail("exec", options.status());
  if (f.sandbox) {
    // Checked before the store is opened or anything recorded: never run unsandboxed.
    Status sandbox = exec::CheckSandbox();
    if (!sandbox.ok()) return Fail("exec", sandbox);
  }

  exec::EventSink sink;
  std::unique_ptr<engine::Engine> eng;
  std::unique_ptr<RemoteClient> client;
  std::optional<RemoteResponse> refused;
  if (!global.ServerUrl().empty()) {
    if (sync_given) {
      std::fprintf(stderr,
                   "tink exec: --sync cannot be given with --server: durability is the "
                   "daemon's setting (tink serve --sync)\n");
      return static_cast<int>(Exit::kInput);
    }
    auto c = ConnectRemote(global.ServerUrl(), global.StorePath());
    if (!c.ok()) return Fail("exec", c.status());
    client = std::move(c).value();
    sink = [&](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
      std::string body;
      for (const schema::EventInput& e : group) body += EnvelopeJson(e) + "\n";
      ASSIGN_OR_RETURN(PostedEvents posted, PostEvents(*client, std::move(body), &refused));
      return std::move(posted.lsns);
    };
  } else {
    auto durability = log::Durability::Parse(f.sync);
    if (!durability.ok()) return Fail("exec", durability.status().WithContext("--sync"));
    engine::EngineOptions eo;
    eo.durability = *durability;
    auto opened = engine::Engine::Open(global.StorePath(), eo);
    if (!opened.ok()) return Fail("exec", opened.status());
    eng = std::move(opened).value();
    options->exclude.push_back(global.StorePath());  // its own writes are not the command's
    if (eng->recovery().torn_tail) {
      std::fprintf(stderr, "tink exec: recovered: %s\n", eng->recovery().ToString().c_str());
    }
    sink = [&](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
      ASSIGN_OR_RETURN(engine::AppendOutcome out, eng->Append(group));
      return std::move(out.lsns);
    };
  }

  exec::ExecOptions o = std::move(options).value();
  o.cancel_fd = InstallCancel();
  Result<exec::ExecOutcome> outcome = exec::RunRecorded(o, sink);
  int rc = 0;
  if (outcome.ok()) {
    rc = outcome->ShellExitCode();
    if (f.json) PrintSummary(*outcome);
  } else if (refused) {
    rc = FailHttp("exec", *refused);
  } else {
    rc = ExitForExecError(outcome.status());
  }
  if (eng) {
    Status closed = eng->Close();
    if (!closed.ok()) {
      std::fprintf(stderr, "tink exec: closing the store failed: %s\n", closed.ToString().c_str());
      if (rc == 0) rc = ExitFor(closed);
    }
  }
  return rc;
}

}  // namespace

void SetupExec(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<ExecFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--run", f->run,
                  "Run to record into (default: a new run, with run.started/run.finished)");
  cmd->add_option("--task", f->task, "Task id for the command (default: generated exec-XXXXXXXX)");
  cmd->add_option("--parent", f->parent, "Parent task id (task.created's parent)");
  cmd->add_option("--workdir", f->workdir,
                  "Directory to run in (default: the current one); files the command changes "
                  "under it are recorded as canvas events");
  cmd->add_flag("--sandbox", f->sandbox,
                "Run under bubblewrap: no network, read-only system, the workdir writable, a "
                "fresh /tmp. Without bwrap: exit 2, the command is not run");
  cmd->add_option("--timeout", f->timeout,
                  "Seconds; then SIGTERM to the command's process group, SIGKILL 2 s later; "
                  "exit 124")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--env", f->env,
                  "NAME=VALUE added to the environment (repeatable). Values are never recorded; "
                  "names are, unless they look secret (TOKEN, KEY, SECRET, PASSWORD, ...)")
      ->allow_extra_args(false);
  cmd->add_flag("--json", f->json,
                "After the command, one JSON line on stderr: run, task, LSNs, exit code, "
                "duration");
  cmd->add_flag("--no-files", f->no_files, "Do not snapshot the workdir or record file changes");
  cmd->add_option("--output-cap", f->output_cap,
                  "Bytes of each of stdout and stderr recorded (default 8 MiB); the rest is "
                  "counted and noted, and still passed through");
  CLI::Option* sync = cmd->add_option(
      "--sync", f->sync, "Durability: always (default), interval=<ms>, none (not with --server)");
  cmd->add_option("command", f->command, "The command and its arguments, after --");
  cmd->footer(
      "Records: task.created/ready/started, tool.call (argv, cwd, env names), tool.output "
      "chunks of stdout/stderr as they arrive, tool.result (exit code or signal, duration, "
      "rusage), file.write/patch/delete/rename for files changed under --workdir, then "
      "task.succeeded or task.failed (docs/exec.md).\n"
      "Exit code: the command's; 128+N if killed by signal N; 124 on timeout; 127 command not "
      "found; 126 not executable; 2/4 for tink's own errors.\n"
      "Locally the store stays locked while the command runs: prefer --server when a daemon "
      "runs.");
  *run = [global, f, sync] {
    // The command exactly as given after `--`: CLI11 would read an argument like "[ a, b ]" as
    // a list (it strips the brackets and splits at commas).
    const std::vector<std::string>& raw = global->raw_args;
    const auto dashes = std::find(raw.begin(), raw.end(), "--");
    if (dashes != raw.end()) f->command.assign(dashes + 1, raw.end());
    return Run(*global, *f, sync->count() > 0);
  };
}

}  // namespace tink::cli
