// tink shell: the query shell (DESIGN.md §7, docs/shell.md "tink shell"). `-c TEXT` and FILE run
// queries and dot-commands without a terminal and stop at the first error (exit 2 for a query
// error, printed as "error at L:C: ..."); stdin that is not a terminal is read the same way; on
// a terminal it is the REPL (shell_repl.cc). With --server (or --connect, or $TINKERBELL_SERVER)
// no store is opened: each query goes to the daemon (ShellSession::Connect).
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"
#include "shell/cli/shell_session.h"

namespace tink::cli {
namespace {

struct ShellFlags {
  std::string command;  // -c
  std::string format = "table";
  std::string file;
};

int RunShell(const GlobalOptions& global, const ShellFlags& f) {
  ShellConfig config;
  config.format = *query::ParseFormat(f.format);
  const bool repl = f.command.empty() && f.file.empty() && ::isatty(0) == 1;
  config.interactive = repl;
  if (repl && ::isatty(1) == 1) config.format_options.max_cell_width = 80;
  ShellSession session(config);
  if (const std::string server = global.ServerUrl(); !server.empty()) {
    auto token = FindToken(global.StorePath());
    if (!token.ok()) return Fail("shell", token.status());
    if (Status s = session.Connect(server, *token); !s.ok()) return Fail("shell", s);
  } else if (Status s = session.Open(global.StorePath()); !s.ok()) {
    return Fail("shell", s);
  }
  if (!f.command.empty()) return session.RunScript(f.command, "");
  if (!f.file.empty()) {
    std::ifstream in(f.file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "tink shell: cannot open %s: %s\n", f.file.c_str(),
                   std::strerror(errno));
      return static_cast<int>(Exit::kInput);
    }
    return session.RunLines(in, f.file);
  }
  if (!repl) return session.RunLines(std::cin, "");
  return RunRepl(&session);
}

}  // namespace

void SetupShell(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<ShellFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--connect", global->server, "The same as --server");
  cmd->add_option("-c,--command", f->command,
                  "Run QUERY and exit: queries and dot-commands, ';'-separated or one a line");
  cmd->add_option("--format", f->format, "Output format (default table)")
      ->check(CLI::IsMember({"table", "json", "jsonl", "csv", "markdown"}));
  cmd->add_option("FILE", f->file, "A script of queries and dot-commands to run, then exit");
  cmd->footer(
      "Without -c or FILE: the REPL on a terminal (history in $TINK_HISTORY or ~/.tink_history, "
      "TAB completion, Ctrl-C cancels the running query, Ctrl-D quits), else the queries read "
      "from stdin. A query ends with ';' or a blank line. Sources: events runs tasks files nodes "
      "edges anomalies segments; .schema lists their fields. Reference with examples: "
      "docs/shell.md. Exit codes: 0 ok, 1 usage, 2 query or input error (error at L:C), 3 "
      "corruption, 4 I/O (also: the daemon of --server cannot be reached).");
  *run = [global, f] { return RunShell(*global, *f); };
}

}  // namespace tink::cli
