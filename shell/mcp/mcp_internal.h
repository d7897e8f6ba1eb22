// The pieces of the MCP server behind mcp.h: the tools (tools.cc), the resources
// (resources.cc) and the recording of calls (record.cc). Not a public header.
#pragma once

#include <string>

#include "shell/mcp/mcp.h"

namespace tink::mcp {

// A JSON-RPC error to answer instead of a result.
struct RpcError {
  int code = 0;  // 0: none
  std::string message;
};

inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kResourceNotFound = -32002;

// tools/list's result.
Json ListTools(const ServerOptions& options);
// tools/call's result (a CallToolResult); an unknown tool sets *err.
Json CallTool(McpServer& server, const std::string& name, const Json& args, Session* session,
              const query::Cancel* cancel, RpcError* err);

Json ListResources(Backend& backend, RpcError* err);
Json ListResourceTemplates();
Json ReadResource(McpServer& server, const std::string& uri, Session* session, RpcError* err);

// A run of a tool (or a resource read) as the log keeps it.
struct CallRecord {
  std::string tool;
  Json args = Json::object();
  std::string call_id;    // SESSION-N
  uint64_t call_lsn = 0;  // set by RecordCall
};

// Appends the tool.call (after the session's note, the first time) on its own, so that events
// the call makes can name it as their causation (remember). Sets rec->call_id and call_lsn.
Status RecordCall(Backend& backend, Session* session, CallRecord* rec);
// Appends the tool.result of a call RecordCall recorded, or — call_lsn 0 — the tool.call and
// tool.result together (one append).
Status RecordResult(Backend& backend, Session* session, CallRecord* rec, bool ok,
                    const std::string& output, const std::string& error, double duration_ms);

// A Status as the one line a tool error shows.
std::string ErrorLine(const Status& s);

}  // namespace tink::mcp
