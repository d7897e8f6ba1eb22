// tink: the command-line front end (DESIGN.md §6).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/engine.h"
#include "log/format.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {

std::string GlobalOptions::StorePath() const {
  return store.empty() ? engine::DefaultStorePath() : store;
}

std::string GlobalOptions::ServerUrl() const {
  if (!server.empty()) return server;
  // A --store on the command line names a store to open here: it beats the environment.
  if (!store.empty()) return "";
  const char* env = std::getenv("TINKERBELL_SERVER");
  return env == nullptr ? "" : env;
}

bool GlobalOptions::ServerFromEnv() const { return server.empty() && !ServerUrl().empty(); }

std::string RemoteNotSupported(const GlobalOptions& global) {
  return std::string(global.ServerFromEnv() ? "$TINKERBELL_SERVER is set, but " : "") +
         "--server is not supported for this command; run it on the daemon's machine with "
         "--store";
}

namespace {
const char kStoreHelp[] = "Store directory (default: $TINKERBELL_STORE or ./tinkerbell.store)";
const char kServerHelp[] =
    "Talk to a running tink serve at http://HOST:PORT or unix:PATH instead of opening the store "
    "(default: $TINKERBELL_SERVER unless --store is given)";
}  // namespace

void AddStoreOption(CLI::App* cmd, GlobalOptions* global) {
  // CLI11 binds options to a variable: both the global and the per-command flag fill the same
  // string, so `tink --store S log` and `tink log --store S` are the same.
  cmd->add_option("--store", global->store, kStoreHelp);
  cmd->add_option("--server", global->server, kServerHelp);
}

std::span<const CommandSpec> Commands() {
  static const CommandSpec kCommands[] = {
      {"append", "Append events: one from flags, or JSONL envelopes from stdin", SetupAppend,
       CommandSpec::Server::kClient},
      {"import", "Import recorded agent runs (openhands, swe-agent, otlp, jsonl) as events",
       SetupImport},
      {"log", "Print events in LSN order", SetupLog, CommandSpec::Server::kClient},
      {"verify", "Check every byte of the log (exit 3 on corruption)", SetupVerify},
      {"recover", "Cut the log at an LSN after corruption", SetupRecover},
      {"stats", "Events, segments, bytes, first/last LSN and time", SetupStats,
       CommandSpec::Server::kClient},
      {"replay", "Rebuild projections from the log (--check: compare with a fresh replay)",
       SetupReplay},
      {"tasks", "Tasks, runs and anomalies of the scheduler projection, as of any LSN or time",
       SetupTasks, CommandSpec::Server::kClient},
      {"canvas", "The files each run's agent wrote: ls, cat, diff, blame, export, git, verify",
       SetupCanvas},
      {"report", "A forensic summary of one run: tasks, failed tool calls, files changed",
       SetupReport, CommandSpec::Server::kClient},
      {"runs",
       "Runs: list them; diff two side by side (tasks, llm/tool calls aligned, first divergence, "
       "files)",
       SetupRuns},
      {"memory",
       "The memory graph as of any point: node, neighbors, path, about, history, nodes, "
       "anomalies",
       SetupMemory},
      {"shell", "The query shell: a pipeline language over events, runs, tasks, files, the graph",
       SetupShell, CommandSpec::Server::kClient},
      {"serve", "The daemon: HTTP and UNIX socket API for live agents and remote queries",
       SetupServe, CommandSpec::Server::kDaemon},
      {"mcp", "MCP server on stdio: agents query their own flight record (tools, resources)",
       SetupMcp, CommandSpec::Server::kClient},
      {"exec", "Run a command as a recorded task: output, exit code, rusage, files it changed",
       SetupExec, CommandSpec::Server::kClient},
  };
  return kCommands;
}

}  // namespace tink::cli

int main(int argc, char** argv) {
  using namespace tink::cli;
  // Store files are 0600 and folders 0700 (DESIGN.md §2), including the ones RocksDB creates
  // under STORE/state, which has no per-file mode option.
  ::umask(077);
  CLI::App app{"tink: the flight recorder for AI agents (event log, projections, query shell)",
               "tink"};
  app.set_version_flag("--version",
                       "tink " + std::string(TINK_VERSION) + " (log format " +
                           std::to_string(tink::log::kFormatVersion) + ")");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 usage, 2 bad input or query, 3 corruption, 4 I/O or durability "
      "failure.\nRun 'tink COMMAND --help' for a command's flags.");
  GlobalOptions global;
  global.raw_args.assign(argv, argv + argc);
  AddStoreOption(&app, &global);

  struct Sub {
    CLI::App* cmd;
    RunFn run;
    CommandSpec::Server server;
  };
  std::vector<Sub> subs;
  for (const CommandSpec& spec : Commands()) {
    CLI::App* cmd = app.add_subcommand(spec.name, spec.help);
    RunFn run;
    spec.setup(cmd, &global, &run);
    subs.push_back({cmd, std::move(run), spec.server});
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(Exit::kUsage);
  }
  for (auto& [cmd, run, server] : subs) {
    if (!cmd->parsed()) continue;
    if (server == CommandSpec::Server::kDaemon && !global.server.empty()) {
      std::fprintf(stderr, "tink %s: --server names a daemon to talk to; this is the daemon\n",
                   cmd->get_name().c_str());
      return static_cast<int>(Exit::kInput);
    }
    if (server == CommandSpec::Server::kRefused && !global.ServerUrl().empty()) {
      std::fprintf(stderr, "tink %s: %s\n", cmd->get_name().c_str(),
                   RemoteNotSupported(global).c_str());
      return static_cast<int>(Exit::kInput);
    }
    const int rc = RunGuarded(cmd->get_name(), run);
    // A read that stopped at damage printed what came before it and said where it stopped;
    // whatever else went wrong after that, the damage is the cause to report.
    return ReadHitDamage() ? static_cast<int>(Exit::kCorruption) : rc;
  }
  return static_cast<int>(Exit::kUsage);
}
