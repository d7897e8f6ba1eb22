#include "shell/cli/shell_session.h"

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "shell/cli/common.h"
#include "shell/cli/remote.h"
#include "shell/query/provider.h"

namespace tink::cli {
namespace {

bool Blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

const char* const kKeywords[] = {
    // sources
    "events", "runs", "tasks", "files", "nodes", "edges", "anomalies", "segments",
    // operators and their words
    "where", "select", "sort", "by", "asc", "desc", "limit", "count", "group", "as", "of",
    "between", "and", "or", "not", "in", "now", "true", "false", "null",
    // aggregates
    "sum", "avg", "min", "max",
    // verbs
    "timeline", "why", "history", "diff", "blame", "neighbors", "path", "divergence", "depth",
    "--run"};

}  // namespace

std::span<const char* const> QueryKeywords() { return kKeywords; }

// ---- StatementSplitter

void StatementSplitter::AddLine(std::string_view line, std::vector<Statement>* out) {
  ++line_;
  const size_t first = line.find_first_not_of(" \t\r\f\v");
  if (quote_ == 0 && first != std::string_view::npos && line[first] == '.') {
    Emit(out);
    std::string_view cmd = line.substr(first);
    while (!cmd.empty() && (std::strchr(" \t\r;", cmd.back()) != nullptr)) cmd.remove_suffix(1);
    out->push_back({std::string(cmd), line_, static_cast<int>(first) + 1, /*dot=*/true});
    return;
  }
  if (quote_ == 0 && Blank(line)) {
    Emit(out);
    return;
  }
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (text_.empty()) {
      if (std::strchr(" \t\r\f\v;", c) != nullptr) continue;
      if (c == '.') {
        // A statement that starts with '.' is a dot-command: the rest of the line.
        std::string_view cmd = line.substr(i);
        while (!cmd.empty() && std::strchr(" \t\r;", cmd.back()) != nullptr) cmd.remove_suffix(1);
        out->push_back({std::string(cmd), line_, static_cast<int>(i) + 1, /*dot=*/true});
        return;
      }
      start_line_ = line_;
      start_col_ = static_cast<int>(i) + 1;
    }
    if (quote_ != 0) {
      if (c == '\\' && i + 1 < line.size()) {
        text_ += c;
        text_ += line[++i];
        continue;
      }
      if (c == quote_) quote_ = 0;
    } else if (c == '\'' || c == '"') {
      quote_ = c;
    } else if (c == ';') {
      Emit(out);
      continue;
    }
    text_ += c;
  }
  if (!text_.empty()) text_ += '\n';
}

void StatementSplitter::Finish(std::vector<Statement>* out) { Emit(out); }

void StatementSplitter::Emit(std::vector<Statement>* out) {
  while (!text_.empty() && std::strchr(" \t\r\n", text_.back()) != nullptr) text_.pop_back();
  if (!text_.empty()) out->push_back({text_, start_line_, start_col_, /*dot=*/false});
  text_.clear();
  quote_ = 0;
}

// ---- dot-commands

std::span<const DotCommand> DotCommands() {
  static const DotCommand kCommands[] = {
      {".help", "", "This list", &ShellSession::Help},
      {".mode", "[FORMAT]", "Output format: table, json, jsonl, csv, markdown (alone: the current)",
       &ShellSession::Mode},
      {".timer", "on|off", "Print each query's run time (to stderr)", &ShellSession::Timer},
      {".read", "FILE", "Run the queries and dot-commands of FILE", &ShellSession::Read},
      {".output", "[FILE]", "Write results to FILE (alone: back to stdout)", &ShellSession::Output},
      {".schema", "[SOURCE]", "The sources and their fields", &ShellSession::Schema},
      {".open", "STORE", "Close this store and open STORE", &ShellSession::OpenCmd},
      {".quit", "", "Leave the shell (also .exit, Ctrl-D)", &ShellSession::Quit},
      {".exit", "", "Leave the shell", &ShellSession::Quit},
  };
  return kCommands;
}

// ---- ShellSession

ShellSession::ShellSession(ShellConfig config) : config_(std::move(config)) {}

ShellSession::~ShellSession() {
  if (out_ != base_out_) std::fclose(out_);
  // The provider reads through the engine: it goes first (owned_engine_, if any, after it).
  provider_.reset();
}

Status ShellSession::Open(const std::string& store_path) {
  // Read-only: a query never takes the writer's lock or changes the store.
  ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> engine, OpenForReading("shell", store_path));
  provider_.reset();
  owned_engine_ = std::move(engine);
  engine_ = owned_engine_.get();
  provider_ = std::make_unique<query::EngineProvider>(engine_);
  store_path_ = store_path;
  remote_.reset();
  return Status::Ok();
}

Status ShellSession::Connect(const std::string& url, std::string token) {
  ASSIGN_OR_RETURN(std::unique_ptr<RemoteClient> client,
                   RemoteClient::Create(url, std::move(token)));
  provider_.reset();
  owned_engine_.reset();
  engine_ = nullptr;
  store_path_.clear();
  remote_ = std::move(client);
  return Status::Ok();
}

void ShellSession::Attach(engine::Engine* engine) {
  provider_.reset();
  owned_engine_.reset();
  remote_.reset();
  engine_ = engine;
  provider_ = std::make_unique<query::EngineProvider>(engine_);
  store_path_ = engine->dir();
}

void ShellSession::set_output(std::FILE* out) {
  if (out_ != base_out_) std::fclose(out_);
  base_out_ = out;
  out_ = out;
}

void ShellSession::set_errors(std::FILE* err) { err_ = err; }

int ShellSession::Error(std::string_view origin, const std::string& message, int code) {
  std::string line = message;
  if (!origin.empty()) line = std::string(origin) + ": " + line;
  std::fflush(out_);
  std::fprintf(err_, "%s\n", line.c_str());
  std::fflush(err_);
  return code;
}

int ShellSession::Run(const Statement& st, std::string_view origin) {
  if (st.dot && !config_.allow_dot_commands) {
    return Error(origin, "error: dot-commands are not accepted here",
                 static_cast<int>(Exit::kInput));
  }
  return st.dot ? RunDot(st) : RunQuery(st, origin);
}

int ShellSession::RunScript(std::string_view text, std::string_view origin) {
  std::istringstream in{std::string(text)};
  return RunLines(in, origin);
}

int ShellSession::RunLines(std::istream& in, std::string_view origin) {
  StatementSplitter splitter;
  std::vector<Statement> statements;
  auto run_all = [&]() -> int {
    for (const Statement& st : statements) {
      if (int rc = Run(st, origin); rc != 0) return rc;
      if (quit_) return 0;
    }
    statements.clear();
    return 0;
  };
  // Statements run as soon as they are complete: a pipe of queries is answered as it comes.
  for (std::string line; std::getline(in, line);) {
    splitter.AddLine(line, &statements);
    if (int rc = run_all(); rc != 0 || quit_) return rc;
  }
  splitter.Finish(&statements);
  return run_all();
}

int ShellSession::RunQuery(const Statement& st, std::string_view origin) {
  if (remote_ != nullptr) return RunRemoteQuery(st, origin);
  if (provider_ == nullptr) return Error(origin, "error: no store is open (.open STORE)", 2);
  const auto t0 = std::chrono::steady_clock::now();
  auto prepared = query::PrepareQuery(*provider_, st.text, &cancel_);
  if (!prepared.ok())
    return Error(origin, "error: " + prepared.status().ToString(), ExitFor(prepared.status()));
  if (auto* qe = std::get_if<query::QueryError>(&*prepared)) {
    query::QueryError e = *qe;
    // Positions count from the start of the input, not of the statement.
    if (e.pos.line == 1) e.pos.col += st.col - 1;
    e.pos.line += st.line - 1;
    if (config_.interactive) {
      // The offending line with a caret under the column.
      std::istringstream in(st.text);
      std::string l;
      for (int i = 0; i < qe->pos.line && std::getline(in, l); ++i) {
      }
      std::fprintf(err_, "  %s\n  %*s^\n", l.c_str(), qe->pos.col - 1, "");
    }
    return Error(origin, e.ToString(), static_cast<int>(Exit::kInput));
  }
  query::Prepared& p = std::get<query::Prepared>(*prepared);
  uint64_t rows = 0;
  int rc = 0;
  if (p.text) query::WriteText(*p.text, out_);
  if (p.rows) {
    auto n = query::WriteRows(*p.rows, config_.format, out_, config_.format_options);
    if (n.ok()) {
      rows = *n;
    } else if (query::IsCancelled(n.status())) {
      rc = Error("", "cancelled", static_cast<int>(Exit::kInput));
    } else {
      rc = Error(origin, "error: " + n.status().ToString(), ExitFor(n.status()));
    }
  }
  std::fflush(out_);
  if (config_.timer) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(err_, "time: %.3f s, %llu row%s\n", s, static_cast<unsigned long long>(rows),
                 rows == 1 ? "" : "s");
  }
  return rc;
}

int ShellSession::RunRemoteQuery(const Statement& st, std::string_view origin) {
  const auto t0 = std::chrono::steady_clock::now();
  RemoteRequest req;
  req.method = "POST";
  req.target = "/v1/query";
  req.body =
      nlohmann::json{{"query", st.text}, {"format", query::FormatName(config_.format)}}.dump();
  req.cancel = &cancel_;
  bool write_failed = false;
  req.on_body = [this, &write_failed](std::string_view piece) {
    write_failed = std::fwrite(piece.data(), 1, piece.size(), out_) != piece.size();
    return !write_failed;
  };
  auto resp = remote_->Send(req);
  int rc = 0;
  if (!resp.ok()) {
    rc = Error("", "tink shell: " + resp.status().ToString(), ExitFor(resp.status()));
  } else if (resp->stopped && !write_failed) {
    rc = Error("", "cancelled", static_cast<int>(Exit::kInput));
  } else if (write_failed) {
    rc = Error("", "tink shell: writing the result failed: " + std::string(std::strerror(errno)),
               static_cast<int>(Exit::kIO));
  } else if (resp->status < 200 || resp->status >= 300) {
    const HttpError e = ParseHttpError(*resp);
    static const std::regex kAt(R"(^error at (\d+):(\d+): )");
    std::smatch m;
    if (e.code == "query_error" && std::regex_search(e.message, m, kAt)) {
      // The daemon counts positions from the start of the statement; the shell counts them from
      // the start of the input, as a local session does.
      query::Pos pos{std::stoi(m[1]), std::stoi(m[2])};
      if (config_.interactive) {
        std::istringstream in(st.text);
        std::string l;
        for (int i = 0; i < pos.line && std::getline(in, l); ++i) {
        }
        std::fflush(out_);
        std::fprintf(err_, "  %s\n  %*s^\n", l.c_str(), pos.col - 1, "");
      }
      if (pos.line == 1) pos.col += st.col - 1;
      pos.line += st.line - 1;
      const query::QueryError qe{pos, e.message.substr(m.length(0))};
      rc = Error(origin, qe.ToString(), static_cast<int>(Exit::kInput));
    } else if (e.code == "query_error" || e.code == "corruption" || e.code == "io_error") {
      // The error line of the daemon's session ("error: ..."), what a local one prints.
      rc = Error(origin, e.message, ExitForHttp(e));
    } else {
      rc = Error(origin, "tink shell: " + e.ToString(), ExitForHttp(e));
    }
  }
  std::fflush(out_);
  if (config_.timer) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(err_, "time: %.3f s (at the daemon and back)\n", s);
  }
  return rc;
}

int ShellSession::RunDot(const Statement& st) {
  std::vector<std::string> words = Words(st.text);
  for (const DotCommand& c : DotCommands()) {
    if (words[0] != c.name) continue;
    words.erase(words.begin());
    return (this->*c.run)(words);
  }
  return Error("", "error: unknown command '" + words[0] + "' (.help lists them)",
               static_cast<int>(Exit::kInput));
}

int ShellSession::Help(const std::vector<std::string>&) {
  for (const DotCommand& c : DotCommands()) {
    std::string head = std::string(c.name) + (*c.args ? " " : "") + c.args;
    std::fprintf(out_, "%-18s %s\n", head.c_str(), c.help);
  }
  std::fprintf(
      out_,
      "A query ends with ';' or a blank line: SOURCE [as of POINT] | OP | ...  or a verb.\n"
      "Sources and fields: .schema   Reference: docs/shell.md\n");
  return 0;
}

int ShellSession::Mode(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(out_, "%s\n", query::FormatName(config_.format));
    return 0;
  }
  auto f = query::ParseFormat(args[0]);
  if (!f) {
    return Error("",
                 "error: .mode: unknown format '" + args[0] + "' (" + query::FormatNames() + ")",
                 static_cast<int>(Exit::kInput));
  }
  config_.format = *f;
  return 0;
}

int ShellSession::Timer(const std::vector<std::string>& args) {
  if (args.size() != 1 || (args[0] != "on" && args[0] != "off")) {
    return Error("", "error: usage: .timer on|off", static_cast<int>(Exit::kInput));
  }
  config_.timer = args[0] == "on";
  return 0;
}

int ShellSession::Read(const std::vector<std::string>& args) {
  if (args.size() != 1)
    return Error("", "error: usage: .read FILE", static_cast<int>(Exit::kInput));
  if (read_depth_ >= 16) {
    return Error("", "error: .read: nested too deeply (a file reads itself?)",
                 static_cast<int>(Exit::kInput));
  }
  std::ifstream in(args[0], std::ios::binary);
  if (!in) {
    return Error("", "error: .read: cannot open " + args[0] + ": " + std::strerror(errno),
                 static_cast<int>(Exit::kInput));
  }
  std::stringstream text;
  text << in.rdbuf();
  ++read_depth_;
  const int rc = RunScript(text.str(), args[0]);
  --read_depth_;
  return rc;
}

int ShellSession::Output(const std::vector<std::string>& args) {
  if (args.size() > 1)
    return Error("", "error: usage: .output [FILE]", static_cast<int>(Exit::kInput));
  std::FILE* next = base_out_;
  if (!args.empty() && args[0] != "stdout") {
    next = std::fopen(args[0].c_str(), "w");
    if (next == nullptr) {
      return Error("", "error: .output: cannot open " + args[0] + ": " + std::strerror(errno),
                   static_cast<int>(Exit::kIO));
    }
  }
  if (out_ != base_out_) std::fclose(out_);
  out_ = next;
  return 0;
}

int ShellSession::Schema(const std::vector<std::string>& args) {
  if (args.size() > 1)
    return Error("", "error: usage: .schema [SOURCE]", static_cast<int>(Exit::kInput));
  bool found = false;
  for (const query::SourceInfo& s : query::Sources()) {
    if (!args.empty() && args[0] != s.name) continue;
    found = true;
    std::string clauses;
    if (s.as_of) clauses += "as of";
    if (s.between) clauses += std::string(clauses.empty() ? "" : ", ") + "between";
    std::fprintf(out_, "%s: %s%s\n", s.name.c_str(), s.help.c_str(),
                 clauses.empty() ? "" : (" (" + clauses + ")").c_str());
    size_t w = 0;
    for (const query::FieldInfo& f : s.fields) w = std::max(w, f.name.size());
    for (const query::FieldInfo& f : s.fields) {
      std::fprintf(out_, "  %-*s  %-6s  %s\n", static_cast<int>(w), f.name.c_str(), f.type.c_str(),
                   f.help.c_str());
    }
  }
  if (!found) {
    std::string names;
    for (const query::SourceInfo& s : query::Sources())
      names += (names.empty() ? "" : " ") + s.name;
    return Error("", "error: .schema: unknown source '" + args[0] + "' (sources: " + names + ")",
                 static_cast<int>(Exit::kInput));
  }
  return 0;
}

int ShellSession::OpenCmd(const std::vector<std::string>& args) {
  if (args.size() != 1)
    return Error("", "error: usage: .open STORE", static_cast<int>(Exit::kInput));
  if (remote_ != nullptr) {
    return Error("",
                 "error: .open: not available with --server (the daemon serves one store; run "
                 "tink shell --store STORE on its machine)",
                 static_cast<int>(Exit::kInput));
  }
  Status s = Open(args[0]);
  if (!s.ok()) return Error("", "error: .open: " + s.ToString(), ExitFor(s));
  return 0;
}

int ShellSession::Quit(const std::vector<std::string>&) {
  quit_ = true;
  return 0;
}

}  // namespace tink::cli
