// tink serve (docs/http.md): the store as a service. Boost.Beast HTTP/1.1 on Boost.Asio, on a
// loopback TCP port and/or a UNIX socket; the daemon is the store's only writer.
//
// Structure: Server owns the sockets, an io_context run by a few threads, and two worker pools;
// each connection is one C++20 coroutine (Beast's async_read/async_write with use_awaitable) on
// its own strand. Anything that blocks — an append waiting for its fsync, a query, a log scan —
// runs on a worker pool (Api, api.h), never on the I/O threads: appends on a large pool, so that
// many concurrent requests share one group commit; queries and reads on a small one behind a
// bounded queue (429 beyond it). Follow streams (SSE) wait for new LSNs on a timer that a
// watcher thread cancels when the log advances.
//
// Limits (ServerOptions): header/body timeouts close slow clients (slowloris), the body limit
// answers 413 before reading the body, too many connections or appends answer 503: memory is
// bounded by the options, not by the clients.
//
// Thread safety: Start, Run and Stop may be called from different threads; Stop is also safe
// from a signal-handling context inside the server (it only posts to the io_context).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "schema/status.h"

namespace tink::server {

// An OpenAI-compatible upstream of the recording proxy (--llm-upstream NAME=URL): URL is the API
// base, e.g. https://api.openai.com/v1; key is $TINK_LLM_KEY_<NAME> (may be empty).
struct LlmUpstream {
  std::string name, url, key;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:7070";  // HOST:PORT; empty: no TCP listener; port 0: any free
  std::string socket_path;                // empty: no UNIX socket
  std::string token;                      // the bearer token every request but /healthz needs
  std::string store_path;                 // for /v1/stats and the start line
  std::string version = "0";              // serverInfo.version of /mcp
  bool mcp_allow_exec = false;            // /mcp lists the exec tool (--mcp-allow-exec)
  uint64_t max_body = 64ull << 20;        // bytes; 413 beyond
  uint64_t max_answer = 256ull << 20;     // bytes of one query's answer; 400 beyond
  std::chrono::milliseconds header_timeout{10000};   // first byte to end of headers
  std::chrono::milliseconds request_timeout{60000};  // headers to end of body
  std::chrono::milliseconds query_timeout{30000};    // a query is cancelled after this (503)
  std::chrono::milliseconds shutdown_grace{10000};   // Stop(graceful): in-flight requests get this
  size_t max_connections = 1024;     // 503 beyond
  size_t max_pending_appends = 4096; // append requests queued or running; 503 beyond
  size_t max_queued_reads = 64;      // queries and reads waiting for a worker; 429 beyond
  size_t append_workers = 96;        // threads blocking in Engine::Append (group commit)
  size_t read_workers = 2;           // threads running queries and reads
  size_t io_threads = 2;
  // The recording proxy and replay (llm_proxy.h, docs/replay.md).
  std::vector<LlmUpstream> llm_upstreams;
  std::string replay_run;                            // --replay RUN: /v1/... answers from RUN
  std::chrono::milliseconds llm_timeout{600000};     // a whole upstream exchange
  std::chrono::milliseconds llm_connect_timeout{10000};
  size_t llm_workers = 64;                           // threads blocking on upstream calls
  size_t max_pending_llm = 512;                      // proxy calls queued or running; 503 beyond
};

class Metrics;

class Server {
 public:
  // `engine` is opened for writing by the caller and must outlive the Server. `metrics` (may be
  // null: the server makes its own) is shared with the engine's on_commit hook when given.
  Server(engine::Engine* engine, ServerOptions options, std::shared_ptr<Metrics> metrics = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners (the UNIX socket is created 0600, a stale one replaced). IOError naming
  // the address if one cannot be bound.
  Status Start();
  // "http://127.0.0.1:PORT" with the port actually bound ("" without TCP).
  std::string url() const;
  // Serves until Stop; returns when every connection is closed (or the grace period ran out).
  void Run();
  // Graceful: stop accepting, let in-flight requests finish (up to shutdown_grace), close idle
  // keep-alive connections and follow streams. Returns at once; Run returns when done.
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A fresh token: 32 lowercase hex digits from the kernel's random source.
Result<std::string> NewToken();
// STORE/token: read it, or create it (0600) with a fresh token if there is none.
Result<std::string> LoadOrCreateToken(const std::string& store);
// A --token-file: must exist, be a regular file not readable or writable by group or others,
// and hold one non-empty line.
Result<std::string> ReadTokenFile(const std::string& path);

}  // namespace tink::server
