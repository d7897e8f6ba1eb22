// The Model Context Protocol server of Tinkerbell (issue 17, docs/mcp.md): JSON-RPC 2.0 messages
// in, answers out, apart from any transport. `tink mcp` feeds it lines of stdin
// (shell/cli/mcp_cmd.cc); `tink serve` feeds it the bodies of POST /mcp
// (shell/server/mcp_route.cc), which also keeps the table of HTTP sessions.
//
// Methods: initialize (protocol 2025-11-25; 2025-06-18, 2025-03-26 and 2024-11-05 are answered
// in kind), notifications/initialized, ping, tools/list, tools/call, resources/list,
// resources/templates/list, resources/read. Tools and resources: tools.cc, resources.cc.
//
// Errors: a message that is not JSON is -32700; not a JSON-RPC 2.0 request (a batch, a wrong
// "jsonrpc", an id that is null or not a string/integer, nesting deeper than kMaxDepth) is
// -32600; an unknown method -32601; bad params (an unknown tool, a missing name or uri) -32602;
// an unknown resource -32002. A tool that fails — bad arguments, a query error, a store error —
// answers a result with isError: true and one line of text (an MCP tool error). Handle never
// throws and never aborts: every exception below it becomes -32603.
//
// Recording: every tools/call and resources/read is appended to the store as a tool.call and
// tool.result pair on stream mcp/SESSION (and, before a session's first one, a note naming the
// client). An answer whose recording failed is not given: the call fails (isError) saying so.
//
// Thread safety: a McpServer may be used by several threads at once when its Backend may (the
// engine backend); a Session by one thread at a time.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "shell/mcp/backend.h"

namespace tink::mcp {

inline constexpr const char* kLatestProtocol = "2025-11-25";
// Nesting of a message, arrays and objects counted; deeper is refused before it is parsed
// (nlohmann's parser recurses).
inline constexpr int kMaxDepth = 64;

// What the server knows of one client: the stdio process, or one Mcp-Session-Id.
struct Session {
  std::string id;                   // 32 hex digits; the stream of its records is mcp/ID
  std::string transport = "stdio";  // or "http"
  std::string client_name = "unknown", client_version;
  std::string protocol;  // negotiated at initialize; "" before
  bool noted = false;    // the note naming the client was appended
  uint64_t calls = 0;    // tool calls recorded so far (call ids are ID-N)
};

// A fresh session id (32 hex digits from the kernel's random source).
std::string NewSessionId();

// The `exec` tool's runner (the executor of `tink exec`): argv, workdir ("" for the current
// one), timeout in seconds (0 for none) -> a JSON object (exit_code, ...), or a Status.
using ExecFn = std::function<Result<Json>(const Json& args, const Session& session)>;

struct ServerOptions {
  std::string version = "0";  // serverInfo.version
  ExecFn exec;                // set: the exec tool is listed (--allow-exec)
};

// One answer of Handle.
struct Reply {
  std::string body;    // the JSON-RPC response; "" for a notification or a client's response
  std::string method;  // the request's method, "" when it had none
  bool error = false;  // body is a JSON-RPC error
};

class McpServer {
 public:
  // `backend` must outlive the server.
  McpServer(Backend* backend, ServerOptions options);

  // One JSON-RPC message. `cancel` (may be null) stops a running query.
  Reply Handle(std::string_view message, Session* session, const query::Cancel* cancel);

  // The "method" of a message when it is a JSON object with a string method; "" otherwise
  // (never throws; refuses what Handle refuses before parsing).
  static std::string PeekMethod(std::string_view message);

  Backend& backend() { return *backend_; }
  const ServerOptions& options() const { return options_; }

 private:
  Json Dispatch(const std::string& method, const Json& params, Session* session,
                const query::Cancel* cancel, int* error_code, std::string* error_message);

  Backend* backend_;
  ServerOptions options_;
};

}  // namespace tink::mcp
