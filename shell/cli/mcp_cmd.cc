// tink mcp: the MCP server over stdio (docs/mcp.md). Newline-delimited JSON-RPC 2.0 on stdin, one
// answer per line on stdout, nothing else on stdout; diagnostics go to stderr. Exit 0 at the end
// of stdin. With --store (or no --server) it opens the store for writing — the calls it answers
// are recorded, and `remember` appends — so a store a daemon holds is refused with a pointer to
// --server; with --server it forwards to the daemon (shell/mcp/backend.h).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "shell/cli/append_stream.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/cli/remote.h"
#include "shell/mcp/backend.h"
#include "shell/mcp/exec_tool.h"
#include "shell/mcp/mcp.h"

namespace tink::cli {
namespace {

// A line longer than this is answered with an error and skipped (the parser never sees it).
constexpr size_t kMaxLine = 64u << 20;

struct McpFlags {
  bool allow_exec = false;
  std::string sync = "always";
};

// Lines of stdin, never holding more than kMaxLine bytes of one: a longer line is dropped as it
// is read and reported as too long.
class LineReader {
 public:
  // false at the end of stdin (or a read error). A last line without '\n' is a line.
  bool Next(std::string* line, bool* too_long) {
    line->clear();
    *too_long = false;
    bool any = false;
    while (true) {
      if (pos_ == len_) {
        if (eof_) return any;
        ssize_t n;
        do {
          n = ::read(0, buf_, sizeof buf_);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) {
          eof_ = true;
          return any;
        }
        pos_ = 0;
        len_ = static_cast<size_t>(n);
      }
      any = true;
      const char* start = buf_ + pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', len_ - pos_));
      const size_t take = nl == nullptr ? len_ - pos_ : static_cast<size_t>(nl - start);
      if (!*too_long && line->size() + take <= kMaxLine) {
        line->append(start, take);
      } else {
        *too_long = true;
        line->clear();
      }
      pos_ += take;
      if (nl != nullptr) {
        ++pos_;
        return true;
      }
    }
  }

 private:
  char buf_[1 << 16];
  size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
};

int Serve(mcp::McpServer& server, mcp::Session& session) {
  auto reader = std::make_unique<LineReader>();
  std::string line;
  bool too_long = false;
  while (reader->Next(&line, &too_long)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    mcp::Reply reply;
    if (too_long) {
      reply.body = R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid )"
                   R"(Request: the message is over 64 MiB"}})";
    } else if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    } else {
      reply = server.Handle(line, &session, nullptr);
    }
    if (reply.body.empty()) continue;
    reply.body += '\n';
    if (std::fwrite(reply.body.data(), 1, reply.body.size(), stdout) != reply.body.size() ||
        std::fflush(stdout) != 0) {
      std::fprintf(stderr, "tink mcp: writing to stdout failed; exiting\n");
      return static_cast<int>(Exit::kIO);
    }
  }
  return 0;
}

// The exec tool's sink through a daemon: each group POSTed to /v1/events as JSONL.
exec::EventSink RemoteSink(std::unique_ptr<RemoteClient> owned) {
  std::shared_ptr<RemoteClient> client(std::move(owned));
  return [client](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
    RemoteRequest req;
    req.method = "POST";
    req.target = "/v1/events";
    req.content_type = "application/x-ndjson";
    for (const schema::EventInput& e : group) req.body += EnvelopeJson(e) + "\n";
    ASSIGN_OR_RETURN(RemoteResponse resp, client->Send(req));
    if (resp.status < 200 || resp.status >= 300) {
      return Status::Failed("refused by the daemon: " + ParseHttpError(resp).ToString());
    }
    const auto answer = nlohmann::json::parse(resp.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("lsns") || !answer["lsns"].is_array()) {
      return Status::IOError("the daemon's answer has no lsns");
    }
    std::vector<log::Lsn> lsns;
    for (const auto& l : answer["lsns"]) {
      if (!l.is_number_unsigned()) return Status::IOError("the daemon's answer has a bad lsn");
      lsns.push_back(l.get<log::Lsn>());
    }
    return lsns;
  };
}

int Run(const GlobalOptions& global, const McpFlags& f) {
  ::signal(SIGPIPE, SIG_IGN);
  mcp::ServerOptions options;
  options.version = TINK_VERSION;
  mcp::Session session;
  session.id = mcp::NewSessionId();
  session.transport = "stdio";
  std::unique_ptr<mcp::Backend> backend;
  std::unique_ptr<engine::Engine> engine;
  if (const std::string url = global.ServerUrl(); !url.empty()) {
    auto client = ConnectRemote(url, global.StorePath());
    if (!client.ok()) return Fail("mcp", client.status());
    // A daemon that is not there (or a wrong token) fails here, once, not at every tool call.
    RemoteRequest probe;
    probe.target = "/v1/stats";
    auto answer = (*client)->Send(probe);
    if (!answer.ok()) return Fail("mcp", answer.status());
    if (answer->status != 200) return FailHttp("mcp", *answer);
    backend = mcp::NewRemoteBackend(std::move(client).value());
    if (f.allow_exec) {
      // The executor appends from its own thread: a client of its own.
      auto exec_client = ConnectRemote(url, global.StorePath());
      if (!exec_client.ok()) return Fail("mcp", exec_client.status());
      options.exec = mcp::NewExecTool(RemoteSink(std::move(exec_client).value()), {});
    }
    std::fprintf(stderr, "tink mcp: serving MCP on stdio for the daemon at %s (session %s)\n",
                 url.c_str(), session.id.c_str());
  } else {
    auto durability = log::Durability::Parse(f.sync);
    if (!durability.ok()) return Fail("mcp", durability.status().WithContext("--sync"));
    if (!std::filesystem::is_directory(global.StorePath())) {
      // Opening for writing would create it: a mistyped path would serve an empty store.
      return Fail("mcp", Status::NotFound("no store at " + global.StorePath() +
                                          " (tink import or tink append create one)"));
    }
    engine::EngineOptions eo;
    eo.durability = *durability;
    auto eng = engine::Engine::Open(global.StorePath(), eo);
    if (!eng.ok()) {
      Status s = eng.status();
      if (s.message().find("is locked by another process") != std::string::npos) {
        s = Status::IOError(s.message() +
                            "; a running tink serve holds it: use tink mcp --server "
                            "URL (or the daemon's POST /mcp)");
      }
      return Fail("mcp", s);
    }
    engine = std::move(eng).value();
    backend = mcp::NewEngineBackend(engine.get());
    if (f.allow_exec) {
      engine::Engine* eng = engine.get();
      options.exec = mcp::NewExecTool(
          [eng](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
            ASSIGN_OR_RETURN(engine::AppendOutcome out, eng->Append(group));
            return std::move(out.lsns);
          },
          {global.StorePath()});
    }
    std::fprintf(stderr, "tink mcp: serving MCP on stdio for store %s (session %s)\n",
                 global.StorePath().c_str(), session.id.c_str());
  }
  mcp::McpServer server(backend.get(), options);
  const int rc = Serve(server, session);
  backend.reset();
  if (engine != nullptr) {
    if (Status s = engine->Close(); !s.ok()) return Fail("mcp", s.WithContext("closing the store"));
  }
  return rc;
}

}  // namespace

void SetupMcp(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<McpFlags>();
  AddStoreOption(cmd, global);
  cmd->add_flag("--allow-exec", f->allow_exec,
                "List the exec tool: the client may run commands on this machine, recorded as "
                "tink exec records them (docs/exec.md)");
  cmd->add_option("--sync", f->sync,
                  "Durability of the appends of a local store: always (default), interval=<ms>, "
                  "none");
  cmd->footer(
      "An MCP server (Model Context Protocol 2025-11-25; 2025-06-18, 2025-03-26 and 2024-11-05 "
      "negotiated) on stdin/stdout, one JSON-RPC message per line; logs go to stderr; exit 0 at "
      "the end of stdin. Tools: query, why, timeline, report, runs_diff, canvas_diff, "
      "canvas_blame, memory_neighbors, memory_path, remember (and exec with --allow-exec). "
      "Every tool call is recorded on "
      "stream mcp/SESSION. A local store is opened for writing: while tink serve holds it, use "
      "--server URL (or POST /mcp on the daemon). docs/mcp.md.");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
