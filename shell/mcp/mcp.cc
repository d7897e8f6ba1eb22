// JSON-RPC 2.0 framing and the MCP lifecycle (mcp.h): validation of a message, initialize and
// version negotiation, and dispatch to the tools and resources.
#include "shell/mcp/mcp.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <exception>
#include <new>

#include "shell/cli/common.h"
#include "shell/mcp/mcp_internal.h"

namespace tink::mcp {
namespace {

constexpr std::array<const char*, 4> kProtocols = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                   "2024-11-05"};

const char* kInstructions =
    "Tinkerbell is the flight recorder of agent runs: every task, LLM call, tool call, file edit "
    "and memory fact is an event in an append-only log. Use `query` for the shell language "
    "(e.g. `runs | where failed > 0`, `tasks | where run == 'R' and state == 'failed'`), `why` "
    "for why a task failed, `timeline` for a run or task, `report` for a run's summary, "
    "`canvas_diff`/`canvas_blame` for the files an agent wrote, `memory_neighbors`/`memory_path` "
    "for the memory graph, `remember` to assert a fact. Every call you make is recorded.";

std::string Answer(const Json& id, const Json& result) {
  Json r;
  r["jsonrpc"] = "2.0";
  r["id"] = id;
  r["result"] = result;
  return r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ErrorAnswer(const Json& id, int code, const std::string& message) {
  Json r;
  r["jsonrpc"] = "2.0";
  r["id"] = id;
  r["error"] = {{"code", code}, {"message", message}};
  return r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Json Initialize(const Json& params, const ServerOptions& options, Session* session, RpcError* err) {
  if (!params.contains("protocolVersion") || !params["protocolVersion"].is_string()) {
    err->code = kInvalidParams;
    err->message = "initialize: params.protocolVersion (a string) is required";
    return nullptr;
  }
  const std::string asked = params["protocolVersion"].get<std::string>();
  std::string version = kLatestProtocol;
  for (const char* p : kProtocols) {
    if (asked == p) version = p;
  }
  session->protocol = version;
  if (params.contains("clientInfo") && params["clientInfo"].is_object()) {
    const Json& ci = params["clientInfo"];
    if (ci.contains("name") && ci["name"].is_string()) session->client_name = ci["name"];
    if (ci.contains("version") && ci["version"].is_string())
      session->client_version = ci["version"];
  }
  Json r;
  r["protocolVersion"] = version;
  r["capabilities"] = {{"tools", {{"listChanged", false}}},
                       {"resources", {{"subscribe", false}, {"listChanged", false}}}};
  r["serverInfo"] = {{"name", "tinkerbell"}, {"title", "Tinkerbell"}, {"version", options.version}};
  r["instructions"] = kInstructions;
  return r;
}

}  // namespace

std::string NewSessionId() {
  unsigned char bytes[16] = {};
  bool ok = false;
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ok = ::read(fd, bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes);
    ::close(fd);
  }
  if (!ok) {
    // No kernel randomness: distinct in this process at least (ids only name streams).
    static std::atomic<uint64_t> n{0};
    const uint64_t v = (static_cast<uint64_t>(::getpid()) << 32) ^ ++n ^
                       static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&n));
    for (int i = 0; i < 16; ++i) bytes[i] = static_cast<unsigned char>(v >> ((i % 8) * 8)) ^ i;
  }
  std::string id;
  char hex[3];
  for (unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    id += hex;
  }
  return id;
}

McpServer::McpServer(Backend* backend, ServerOptions options)
    : backend_(backend), options_(std::move(options)) {}

std::string McpServer::PeekMethod(std::string_view message) {
  if (cli::JsonDepth(message, kMaxDepth) > kMaxDepth) return "";
  Json j = Json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("method") || !j["method"].is_string()) return "";
  return j["method"].get<std::string>();
}

Reply McpServer::Handle(std::string_view message, Session* session, const query::Cancel* cancel) {
  Reply reply;
  Json id = nullptr;
  try {
    if (cli::JsonDepth(message, kMaxDepth) > kMaxDepth) {
      reply.error = true;
      reply.body = ErrorAnswer(
          nullptr, kParseError,
          "Parse error: the message nests deeper than " + std::to_string(kMaxDepth) + " levels");
      return reply;
    }
    Json msg = Json::parse(message, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded()) {
      reply.error = true;
      reply.body = ErrorAnswer(nullptr, kParseError, "Parse error: the message is not JSON");
      return reply;
    }
    if (msg.is_array()) {
      reply.error = true;
      reply.body = ErrorAnswer(nullptr, kInvalidRequest,
                               "Invalid Request: batches are not supported (MCP removed JSON-RPC "
                               "batching in 2025-06-18): send one message at a time");
      return reply;
    }
    if (!msg.is_object()) {
      reply.error = true;
      reply.body = ErrorAnswer(nullptr, kInvalidRequest,
                               "Invalid Request: a JSON-RPC message is a JSON object");
      return reply;
    }
    const bool has_id = msg.contains("id");
    if (has_id) {
      const Json& i = msg["id"];
      if (i.is_string() || i.is_number_integer()) id = i;
    }
    auto invalid = [&](const std::string& why) {
      reply.error = true;
      reply.body = ErrorAnswer(id, kInvalidRequest, "Invalid Request: " + why);
      return reply;
    };
    if (!msg.contains("jsonrpc") || msg["jsonrpc"] != "2.0") {
      return invalid("\"jsonrpc\" must be \"2.0\"");
    }
    if (!msg.contains("method")) {
      // A response from the client (this server sends no requests): nothing to answer.
      if (msg.contains("result") || msg.contains("error")) return reply;
      return invalid("no \"method\"");
    }
    if (!msg["method"].is_string()) return invalid("\"method\" must be a string");
    const std::string method = msg["method"].get<std::string>();
    reply.method = method;
    if (has_id && id.is_null()) {
      return invalid("\"id\" must be a string or an integer (MCP forbids null)");
    }
    Json params = Json::object();
    if (msg.contains("params")) {
      if (!msg["params"].is_object()) {
        if (!has_id) return reply;
        reply.error = true;
        reply.body =
            ErrorAnswer(id, kInvalidParams, "Invalid params: \"params\" must be an object");
        return reply;
      }
      params = msg["params"];
    }
    if (!has_id) {
      // Notifications (initialized, cancelled, progress, roots/list_changed): nothing to answer.
      // Requests here run one at a time per session, so there is no running request to cancel.
      return reply;
    }
    int code = 0;
    std::string error_message;
    Json result = Dispatch(method, params, session, cancel, &code, &error_message);
    if (code != 0) {
      reply.error = true;
      reply.body = ErrorAnswer(id, code, error_message);
    } else {
      reply.body = Answer(id, result);
    }
    return reply;
  } catch (const std::bad_alloc&) {
    reply.error = true;
    reply.body = ErrorAnswer(id, kInternalError, "Internal error: out of memory");
  } catch (const std::exception& e) {
    reply.error = true;
    reply.body = ErrorAnswer(id, kInternalError, std::string("Internal error: ") + e.what());
  }
  return reply;
}

Json McpServer::Dispatch(const std::string& method, const Json& params, Session* session,
                         const query::Cancel* cancel, int* error_code, std::string* error_message) {
  RpcError err;
  Json result;
  if (method == "initialize") {
    result = Initialize(params, options_, session, &err);
  } else if (method == "ping") {
    result = Json::object();
  } else if (method == "tools/list") {
    result = ListTools(options_);
  } else if (method == "tools/call") {
    if (!params.contains("name") || !params["name"].is_string()) {
      err = {kInvalidParams, "Invalid params: tools/call needs \"name\" (a string)"};
    } else if (params.contains("arguments") && !params["arguments"].is_object()) {
      err = {kInvalidParams, "Invalid params: \"arguments\" must be an object"};
    } else {
      const Json args = params.contains("arguments") ? params["arguments"] : Json::object();
      result = CallTool(*this, params["name"].get<std::string>(), args, session, cancel, &err);
    }
  } else if (method == "resources/list") {
    result = ListResources(*backend_, &err);
  } else if (method == "resources/templates/list") {
    result = ListResourceTemplates();
  } else if (method == "resources/read") {
    if (!params.contains("uri") || !params["uri"].is_string()) {
      err = {kInvalidParams, "Invalid params: resources/read needs \"uri\" (a string)"};
    } else {
      result = ReadResource(*this, params["uri"].get<std::string>(), session, &err);
    }
  } else {
    err = {kMethodNotFound, "Method not found: " + method};
  }
  *error_code = err.code;
  *error_message = err.message;
  return result;
}

}  // namespace tink::mcp
