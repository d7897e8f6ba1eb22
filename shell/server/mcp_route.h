// POST /mcp on tink serve: the MCP server (shell/mcp/mcp.h) over Streamable HTTP, with the
// daemon's own engine in-process (docs/http.md "/mcp", docs/mcp.md). One JSON-RPC message per
// POST, answered as application/json (no SSE stream: GET is 405, as the spec allows for a server
// that sends nothing on its own); a notification or a client's response is 202 with no body.
// Sessions: `initialize` issues an Mcp-Session-Id, every later request must carry it (400
// without, 404 for an unknown one, e.g. after a restart); DELETE /mcp ends one. The
// MCP-Protocol-Version header, when sent, must be a version this server speaks (400). An Origin
// header must be a loopback origin or the Host the request was sent to (403 otherwise: DNS
// rebinding). The bearer token is checked before this, as for every route.
//
// Thread safety: Handle may run on several worker threads at once; requests of one session are
// answered one at a time (a per-session lock). At most kMaxSessions live sessions; past that the
// least recently used one is forgotten (its client then gets 404 and initializes again).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "schema/thread_annotations.h"
#include "shell/mcp/mcp.h"
#include "shell/server/api.h"

namespace tink::server {

class McpRoute {
 public:
  static constexpr size_t kMaxSessions = 4096;

  // `engine` must outlive the route. `allow_exec`: list the exec tool (tink serve
  // --mcp-allow-exec), recording into `engine`; `store_path` is left out of its snapshots.
  McpRoute(engine::Engine* engine, std::string version, bool allow_exec = false,
           const std::string& store_path = "");
  ~McpRoute();

  // The whole exchange of one request to /mcp (any method).
  Response Handle(const Request& req, CancelLink* cancel);

  size_t sessions() const;

 private:
  struct Slot {
    std::mutex mu;  // one request of the session at a time
    mcp::Session session;
    // steady_clock ticks of the last request: written under `mu`, read under McpRoute::mu_.
    std::atomic<int64_t> used{0};
  };
  std::shared_ptr<Slot> Find(const std::string& id);
  void Add(std::shared_ptr<Slot> slot);

  std::unique_ptr<mcp::Backend> backend_;
  std::unique_ptr<mcp::McpServer> server_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> sessions_ GUARDED_BY(mu_);
};

}  // namespace tink::server
