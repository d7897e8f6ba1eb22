// The `tink` subcommands: a table of (name, one-line help, setup). Each setup adds its flags to a
// CLI11 subcommand and stores the function main() runs when that subcommand was chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <span>
#include <string>

namespace tink::cli {

struct GlobalOptions {
  std::string store;  // --store; empty: engine::DefaultStorePath()
  std::string StorePath() const;
};

using RunFn = std::function<int()>;

struct CommandSpec {
  const char* name;
  const char* help;
  void (*setup)(CLI::App* cmd, GlobalOptions* global, RunFn* run);
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
void SetupCanvas(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupMemory(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupShell(CLI::App* cmd, GlobalOptions* global, RunFn* run);
void SetupServe(CLI::App* cmd, GlobalOptions* global, RunFn* run);

// Adds --store to a subcommand (it is also accepted before the subcommand).
void AddStoreOption(CLI::App* cmd, GlobalOptions* global);

}  // namespace tink::cli
