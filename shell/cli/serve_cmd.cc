// tink serve: the daemon (docs/http.md). Opens the store for writing (it is then the store's
// only writer), binds loopback TCP and/or a UNIX socket, and serves until SIGTERM/SIGINT: the
// first signal stops accepting, lets in-flight requests finish, syncs and closes (exit 0); a
// second one exits at once (exit 4; the log is consistent by construction and the next open
// catches the projections up).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
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
};

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
  cmd->footer(
      "Every request but GET /healthz needs 'Authorization: Bearer TOKEN'; the token is created "
      "in STORE/token (0600) at the first start. Prints 'tink serve: listening on URL' when "
      "ready. SIGTERM/SIGINT: finish in-flight requests, sync, exit 0; a second signal exits at "
      "once. The API: docs/http.md.");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
