// tink: the command-line front end (DESIGN.md §6).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "engine/engine.h"
#include "log/format.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {

std::string GlobalOptions::StorePath() const {
  return store.empty() ? engine::DefaultStorePath() : store;
}

void AddStoreOption(CLI::App* cmd, GlobalOptions* global) {
  // CLI11 binds options to a variable: both the global and the per-command flag fill the same
  // string, so `tink --store S log` and `tink log --store S` are the same.
  cmd->add_option("--store", global->store,
                  "Store directory (default: $TINKERBELL_STORE or ./tinkerbell.store)");
}

std::span<const CommandSpec> Commands() {
  static const CommandSpec kCommands[] = {
      {"append", "Append events: one from flags, or JSONL envelopes from stdin", SetupAppend},
      {"import", "Import recorded agent runs (openhands, swe-agent, otlp, jsonl) as events",
       SetupImport},
      {"log", "Print events in LSN order", SetupLog},
      {"verify", "Check every byte of the log (exit 3 on corruption)", SetupVerify},
      {"recover", "Cut the log at an LSN after corruption", SetupRecover},
      {"stats", "Events, segments, bytes, first/last LSN and time", SetupStats},
      {"replay", "Rebuild projections from the log (--check: compare with a fresh replay)",
       SetupReplay},
      {"tasks", "Tasks, runs and anomalies of the scheduler projection, as of any LSN or time",
       SetupTasks},
      {"canvas", "The files each run's agent wrote: ls, cat, diff, blame, export, git, verify",
       SetupCanvas},
      {"report", "A forensic summary of one run: tasks, failed tool calls, files changed",
       SetupReport},
      {"memory",
       "The memory graph as of any point: node, neighbors, path, about, history, nodes, "
       "anomalies",
       SetupMemory},
      {"shell", "The query shell: a pipeline language over events, runs, tasks, files, the graph",
       SetupShell},
      {"serve", "The daemon: HTTP and UNIX socket API for live agents and remote queries",
       SetupServe},
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
  app.add_option("--store", global.store,
                 "Store directory (default: $TINKERBELL_STORE or ./tinkerbell.store)");

  std::vector<std::pair<CLI::App*, RunFn>> subs;
  for (const CommandSpec& spec : Commands()) {
    CLI::App* cmd = app.add_subcommand(spec.name, spec.help);
    RunFn run;
    spec.setup(cmd, &global, &run);
    subs.emplace_back(cmd, std::move(run));
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
  for (auto& [cmd, run] : subs) {
    if (!cmd->parsed()) continue;
    const int rc = RunGuarded(cmd->get_name(), run);
    // A read that stopped at damage printed what came before it and said where it stopped;
    // whatever else went wrong after that, the damage is the cause to report.
    return ReadHitDamage() ? static_cast<int>(Exit::kCorruption) : rc;
  }
  return static_cast<int>(Exit::kUsage);
}
