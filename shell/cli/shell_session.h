// The state of one `tink shell` (docs/shell.md, "tink shell"): the open store and its Provider,
// the settings the dot-commands change (a config struct with defaults), the table of
// dot-commands, and running statements — queries through query::PrepareQuery, rendered by
// shell/query/format.h. The REPL (shell_repl.cc) and the one-shot modes (-c, FILE, stdin) all
// feed statements cut by a StatementSplitter to a ShellSession.
//
// A session runs over a store it opens itself (Open, .open), over an Engine its caller owns
// (Attach: `tink serve` runs each /v1/query on a fresh session over the daemon's engine, with
// output and errors going to memory streams and dot-commands refused), or over a daemon (Connect:
// `tink shell --server`, each query POSTed to /v1/query in the session's format; dot-commands
// run here, .read reading a local file, and .open is refused).
//
// Thread safety: one thread; only cancel() is touched from elsewhere (the REPL's SIGINT handler,
// the daemon's timeout or disconnect): it is an atomic, and sticky: once set, every
// later query of the session is cancelled (the REPL clears it before each statement). Errors go
// to the set_errors FILE* (default stderr) as one line; Run returns the exit code of DESIGN.md §6.
#pragma once

#include <cstdio>
#include <istream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "shell/query/format.h"
#include "shell/query/query.h"

namespace tink::cli {

struct ShellConfig {
  query::Format format = query::Format::kTable;  // .mode, --format
  bool timer = false;                            // .timer on|off
  bool interactive = false;  // the REPL: a caret under a query error; the lock is not held
  // false: a dot-command is an error ("dot-commands are not accepted here", exit 2), e.g. in a
  // query a daemon runs for a client.
  bool allow_dot_commands = true;
  query::FormatOptions format_options;
};

// A query or a dot-command cut from the input, and where its first character is (1-based).
struct Statement {
  std::string text;
  int line = 1;
  int col = 1;
  bool dot = false;
};

// Cuts input into statements, a line at a time: `;` outside quotes ends a query, and so does a
// blank line; a statement whose first character is '.' is a dot-command running to the end of
// its line, and a line starting with '.' ends a pending query first.
class StatementSplitter {
 public:
  // One line without its '\n'; complete statements are appended to *out.
  void AddLine(std::string_view line, std::vector<Statement>* out);
  // The end of the input: a pending query is complete.
  void Finish(std::vector<Statement>* out);
  // A query has started and not ended (the REPL shows the continuation prompt).
  bool pending() const { return !text_.empty(); }
  // Drops a pending query and counts lines from 1 again (the REPL: positions per statement).
  void Reset() { text_.clear(), quote_ = 0, line_ = 0; }

 private:
  void Emit(std::vector<Statement>* out);
  std::string text_;  // from the query's first non-blank character
  int line_ = 0;      // lines seen
  int start_line_ = 1, start_col_ = 1;
  char quote_ = 0;  // inside '...' or "..."
};

class ShellSession;
class RemoteClient;

struct DotCommand {
  const char* name;  // ".mode"
  const char* args;  // "FORMAT"
  const char* help;
  int (ShellSession::*run)(const std::vector<std::string>& args);
};

std::span<const DotCommand> DotCommands();

// Keywords of the language, for TAB completion (sources and verbs included).
std::span<const char* const> QueryKeywords();

class ShellSession {
 public:
  explicit ShellSession(ShellConfig config);
  ~ShellSession();

  // Opens a store read-only and replaces the current one. On failure the current one stays.
  Status Open(const std::string& store_path);
  // Runs over `engine` from now on, replacing the current store. The caller owns the engine,
  // which must outlive the session (or the next Open/Attach); the session never closes it.
  void Attach(engine::Engine* engine);
  // Sends every query to the daemon at `url` (http://HOST:PORT or unix:PATH) from now on, with
  // the bearer token (remote.h FindToken); no store is open. InvalidArgument for a bad URL
  // (nothing is sent yet: an unreachable daemon shows at the first query, exit 4).
  Status Connect(const std::string& url, std::string token);
  bool remote() const { return remote_ != nullptr; }

  // Where results go (default stdout; `.output` with no file comes back here) and where error
  // lines, carets and timings go (default stderr). The session does not close these.
  void set_output(std::FILE* out);
  void set_errors(std::FILE* err);

  // Runs one statement. 0, or the exit code of its error (2 query/input, 3 corruption, 4 I/O);
  // `origin` ("" or a file name) prefixes error lines of scripts.
  int Run(const Statement& st, std::string_view origin);
  // Runs every statement of `text`; stops at the first error and returns its exit code.
  int RunScript(std::string_view text, std::string_view origin);
  // The same, reading lines as they come (stdin); each statement runs as soon as it is complete.
  int RunLines(std::istream& in, std::string_view origin);

  bool quit() const { return quit_; }
  query::Cancel& cancel() { return cancel_; }
  query::Provider* provider() { return provider_.get(); }
  const ShellConfig& config() const { return config_; }

  // Dot-commands (DotCommands() names them).
  int Help(const std::vector<std::string>& args);
  int Mode(const std::vector<std::string>& args);
  int Timer(const std::vector<std::string>& args);
  int Read(const std::vector<std::string>& args);
  int Output(const std::vector<std::string>& args);
  int Schema(const std::vector<std::string>& args);
  int OpenCmd(const std::vector<std::string>& args);
  int Quit(const std::vector<std::string>& args);

 private:
  int RunQuery(const Statement& st, std::string_view origin);
  int RunRemoteQuery(const Statement& st, std::string_view origin);
  int RunDot(const Statement& st);
  int Error(std::string_view origin, const std::string& message, int code);

  ShellConfig config_;
  std::unique_ptr<engine::Engine> owned_engine_;  // what Open opened; null after Attach
  engine::Engine* engine_ = nullptr;              // owned_engine_, or the caller's
  std::unique_ptr<query::Provider> provider_;     // over engine_; destroyed before it
  std::unique_ptr<RemoteClient> remote_;          // Connect: queries go to the daemon
  std::string store_path_;
  std::FILE* base_out_ = stdout;  // set_output
  std::FILE* out_ = stdout;       // base_out_, or the file of .output FILE (owned)
  std::FILE* err_ = stderr;       // set_errors
  query::Cancel cancel_{false};
  bool quit_ = false;
  int read_depth_ = 0;  // .read nesting
};

// The interactive shell (shell_repl.cc): libedit line editing, the history file ($TINK_HISTORY,
// else ~/.tink_history), TAB completion, multi-line queries, Ctrl-C cancelling the running query.
// Returns 0 at Ctrl-D or .quit.
int RunRepl(ShellSession* session);

}  // namespace tink::cli
