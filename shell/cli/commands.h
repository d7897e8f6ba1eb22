// The `tink` subcommands: a table of (name, one-line help, setup, whether it can talk to a
// daemon). Each setup adds its flags to a CLI11 subcommand and stores the function main() runs
// when that subcommand was chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace tink::cli {

struct GlobalOptions {
  std::string store;   // --store; empty: engine::DefaultStorePath()
  std::string server;  // --server; empty: $TINKERBELL_SERVER unless --store was given
  std::vector<std::string> raw_args;  // argv as main() got it (tink exec's command after --)
  std::string StorePath() const;
  // The daemon a command talks to instead of opening a store (docs/shell.md "Talking to a
  // daemon"): --server; else $TINKERBELL_SERVER, unless --store names a store to open here;
  // "" for none. (StorePath() still names the store whose token file a client reads.)
  std::string ServerUrl() const;
  // ServerUrl() comes from $TINKERBELL_SERVER, not from --server.
  bool ServerFromEnv() const;
};

using RunFn = std::function<int()>;

struct CommandSpec {
  const char* name;
  const char* help;
  void (*setup)(CLI::App* cmd, GlobalOptions* global, RunFn* run);
  // What the command does with --server / $TINKERBELL_SERVER (main() checks it).
  enum class Server {
    kRefused,  // no remote form: either one is exit 2 (RemoteNotSupported)
    kClient,   // talks to the daemon (GlobalOptions::ServerUrl())
    kDaemon,   // is the daemon (tink serve): --server is exit 2, $TINKERBELL_SERVER is ignored
  };
  Server server = Server::kRefused;
};

std::span<const CommandSpec> Commands();

// One setup per command, each in its own file.
void SetupAppend(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupImport(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupLog(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupVerify(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupRecover(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupStats(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupReplay(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupTasks(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupReport(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupRuns(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupCanvas(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupMemory(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupShell(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupServe(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupMcp(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupExec(CLI::App* cmd, GlobalOptions* global, RunFn* run);

// Adds --store and --server to a subcommand (both are also accepted before the subcommand).
void AddStoreOption(CLI::App* cmd, GlobalOptions* global);

// The text of a command's line when it was given --server but has no remote form.
std::string RemoteNotSupported(const GlobalOptions& global);

}  // namespace tink::cli
