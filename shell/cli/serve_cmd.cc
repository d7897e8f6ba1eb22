// tink serve: the daemon (docs/http.md). Opens the store for writing (it is then the store's
// only writer), binds loopback TCP and/or a UNIX socket, and serves until SIGTERM/SIGINT: the
// first signal stops accepting, lets in-flight requests finish, syncs and closes (exit 0); a
// second one exits at once (exit 4; the log is consistent by construction and the next open
// catches the projections up).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "engine/engine.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/server/metrics.h"
#include "shell/server/server.h"

namespace tink::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1:7070";
  std::string socket, token_file, sync = "always";
  uint64_t max_body = 64ull << 20;
  uint64_t query_timeout_ms = 30000;
  uint64_t header_timeout_ms = 10000;
  uint64_t max_connections = 1024;
  bool public_bind = false;
  bool mcp_allow_exec = false;
  std::vector<std::string> llm_upstreams;  // NAME=URL
  std::string replay;
  uint64_t llm_timeout_ms = 600000;
};

// --llm-upstream NAME=URL, its key from $TINK_LLM_KEY_<NAME> (uppercased, '-' and '.' as '_').
Result<server::LlmUpstream> ParseUpstream(const std::string& spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    return Status::InvalidArgument("--llm-upstream: expected NAME=URL, got '" + spec + "'");
  }
  server::LlmUpstream u{spec.substr(0, eq), spec.substr(eq + 1), ""};
  for (char c : u.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return Status::InvalidArgument("--llm-upstream: a NAME is letters, digits, '-', '_' and "
                                     "'.', got '" + u.name + "'");
    }
  }
  if (!u.url.starts_with("http://") && !u.url.starts_with("https://")) {
    return Status::InvalidArgument("--llm-upstream " + u.name + ": the URL must start with "
                                   "http:// or https://, got '" + u.url + "'");
  }
  std::string env = "TINK_LLM_KEY_";
  for (char c : u.name) env += (c == '-' || c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (const char* key = std::getenv(env.c_str())) u.key = key;
  return u;
}

bool IsLoopback(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1";
}

int Run(const GlobalOptions& global, const ServeFlags& f) {
  server::ServerOptions so;
  so.listen = f.listen == "none" ? "" : f.listen;
  so.socket_path = f.socket;
  so.max_body = f.max_body;
  so.query_timeout = std::chrono::milliseconds(f.query_timeout_ms);
  so.header_timeout = std::chrono::milliseconds(f.header_timeout_ms);
  so.max_connections = f.max_connections;
  so.store_path = global.StorePath();
  so.version = TINK_VERSION;
  so.mcp_allow_exec = f.mcp_allow_exec;
  for (const std::string& spec : f.llm_upstreams) {
    Result<server::LlmUpstream> u = ParseUpstream(spec);
    if (!u.ok()) return Fail("serve", u.status());
    for (const server::LlmUpstream& other : so.llm_upstreams) {
      if (other.name == u->name) {
        return Fail("serve", Status::InvalidArgument("--llm-upstream: '" + u->name + "' given twice"));
      }
    }
    so.llm_upstreams.push_back(*u);
  }
  so.replay_run = f.replay;
  so.llm_timeout = std::chrono::milliseconds(f.llm_timeout_ms);
  if (!so.listen.empty() && !IsLoopback(so.listen) && !f.public_bind) {
    return Fail("serve", Status::InvalidArgument(
                             "--listen " + so.listen +
                             " is not a loopback address: it would expose the store to the "
                             "network; add --public if that is what you want"));
  }
  auto durability = log::Durability::Parse(f.sync);
  if (!durability.ok()) return Fail("serve", durability.status().WithContext("--sync"));

  // Signals are taken by one thread (sigwait), so block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto metrics = std::make_shared<server::Metrics>();
  engine::EngineOptions eo;
  eo.durability = *durability;
  eo.on_commit = [metrics](uint64_t records, uint64_t bytes) {
    metrics->ObserveCommit(records, bytes);
  };
  Progress progress("catching up projections");
  if (::isatty(2)) eo.replay_progress = [&](uint64_t d, uint64_t t) { progress.Update(d, t); };
  auto eng = engine::Engine::Open(global.StorePath(), eo);
  if (!eng.ok()) return Fail("serve", eng.status());
  if ((*eng)->recovery().torn_tail) {
    std::fprintf(stderr, "tink serve: recovered: %s\n", (*eng)->recovery().ToString().c_str());
  }
  Result<std::string> token = f.token_file.empty() ? server::LoadOrCreateToken(global.StorePath())
                                                   : server::ReadTokenFile(f.token_file);
  if (!token.ok()) {
    (void)(*eng)->Close();
    return Fail("serve", token.status());
  }
  so.token = *token;

  server::Server srv(eng->get(), so, metrics);
  if (Status s = srv.Start(); !s.ok()) {
    (void)(*eng)->Close();
    return Fail("serve", s);
  }
  std::string where = srv.url();
  if (!so.socket_path.empty()) where += (where.empty() ? "unix:" : " and unix:") + so.socket_path;
  std::fprintf(stderr, "tink serve: listening on %s (store %s)\n", where.c_str(),
               global.StorePath().c_str());
  std::fflush(stderr);

  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    int received = 0;
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      const int sig = ::sigtimedwait(&signals, nullptr, &tick);
      if (sig < 0) continue;
      if (++received == 1) {
        std::fprintf(stderr, "tink serve: %s: finishing requests in flight, then exiting "
                     "(again to exit at once)\n", sig == SIGINT ? "interrupted" : "terminated");
        srv.Stop();
      } else {
        std::fprintf(stderr, "tink serve: second signal: exiting now\n");
        std::_Exit(static_cast<int>(Exit::kIO));
      }
    }
  });
  srv.Run();
  done.store(true);
  signal_thread.join();
  Status closed = (*eng)->Close();
  if (!closed.ok()) return Fail("serve", closed.WithContext("closing the store"));
  std::fprintf(stderr, "tink serve: stopped\n");
  return 0;
}

}  // namespace

void SetupServe(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<ServeFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--listen", f->listen,
                  "HOST:PORT for HTTP (default 127.0.0.1:7070; port 0 picks a free one; none: "
                  "no TCP)");
  cmd->add_option("--socket", f->socket, "Also serve on this UNIX socket (created 0600)");
  cmd->add_option("--token-file", f->token_file,
                  "Read the bearer token from this file (mode 0600) instead of STORE/token");
  cmd->add_option("--sync", f->sync, "Durability of appends: always (default), interval=<ms>, none");
  cmd->add_option("--max-body", f->max_body, "Largest request body in bytes (default 64 MiB; 413 beyond)");
  cmd->add_option("--query-timeout", f->query_timeout_ms,
                  "Cancel a query after this many milliseconds (default 30000; 503)");
  cmd->add_option("--header-timeout", f->header_timeout_ms,
                  "Close a connection whose request headers take longer than this many "
                  "milliseconds (default 10000; slow clients)");
  cmd->add_option("--max-connections", f->max_connections,
                  "Open connections at most (default 1024; 503 beyond)");
  cmd->add_flag("--public", f->public_bind, "Allow --listen on a non-loopback address");
  cmd->add_flag("--mcp-allow-exec", f->mcp_allow_exec,
                "POST /mcp lists the exec tool: MCP clients with the token may run commands on "
                "this machine, recorded as tink exec records them (docs/mcp.md)");
  cmd->add_option("--llm-upstream", f->llm_upstreams,
                  "NAME=URL: an OpenAI-compatible API the recording proxy (POST "
                  "/v1/chat/completions, /v1/responses) forwards to, e.g. "
                  "openai=https://api.openai.com/v1; repeatable; its key is $TINK_LLM_KEY_<NAME>")
      ->allow_extra_args(false);
  cmd->add_option("--replay", f->replay,
                  "Answer /v1/chat/completions and /v1/responses from the recording of run RUN "
                  "(hermetic replay; docs/replay.md)");
  cmd->add_option("--llm-timeout", f->llm_timeout_ms,
                  "Give up on an upstream LLM call after this many milliseconds (default "
                  "600000; 504)");
  cmd->footer(
      "Every request but GET /healthz needs 'Authorization: Bearer TOKEN'; the token is created "
      "in STORE/token (0600) at the first start. Prints 'tink serve: listening on URL' when "
      "ready. SIGTERM/SIGINT: finish in-flight requests, sync, exit 0; a second signal exits at "
      "once. The API: docs/http.md.");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
