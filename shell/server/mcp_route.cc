#include "shell/server/mcp_route.h"

#include <array>

#include "shell/mcp/exec_tool.h"

namespace tink::server {
namespace {

constexpr std::array<std::string_view, 4> kVersions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                       "2024-11-05"};

Response Json(http::status status, std::string body) {
  if (!body.empty() && body.back() != '\n') body += '\n';
  return TextResponse(status, "application/json", std::move(body));
}

Response RpcError(http::status status, int code, const std::string& message) {
  mcp::Json j = {
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}};
  return Json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The host of an origin or Host value ("http://HOST:PORT", "HOST:PORT", "[::1]:PORT").
std::string_view HostOf(std::string_view s) {
  if (size_t p = s.find("://"); p != std::string_view::npos) s.remove_prefix(p + 3);
  if (size_t p = s.find('/'); p != std::string_view::npos) s = s.substr(0, p);
  if (s.starts_with("[")) {
    const size_t close = s.find(']');
    return close == std::string_view::npos ? s : s.substr(0, close + 1);
  }
  return s.substr(0, s.find(':'));
}

bool AllowedOrigin(std::string_view origin, std::string_view host_header) {
  if (!origin.starts_with("http://") && !origin.starts_with("https://")) return false;
  const std::string_view host = HostOf(origin);
  if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return true;
  // The origin the page was served from is the server itself (Host and Origin agree).
  std::string_view rest = origin.substr(origin.find("://") + 3);
  if (size_t p = rest.find('/'); p != std::string_view::npos) rest = rest.substr(0, p);
  return !host_header.empty() && rest == host_header;
}

}  // namespace

McpRoute::McpRoute(engine::Engine* engine, std::string version, bool allow_exec,
                   const std::string& store_path)
    : backend_(mcp::NewEngineBackend(engine)) {
  mcp::ServerOptions o;
  o.version = std::move(version);
  if (allow_exec) {
    o.exec = mcp::NewExecTool(
        [engine](std::span<const schema::EventInput> group) -> Result<std::vector<log::Lsn>> {
          ASSIGN_OR_RETURN(engine::AppendOutcome out, engine->Append(group));
          return std::move(out.lsns);
        },
        {store_path});
  }
  server_ = std::make_unique<mcp::McpServer>(backend_.get(), std::move(o));
}

McpRoute::~McpRoute() = default;

size_t McpRoute::sessions() const {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.size();
}

std::shared_ptr<McpRoute::Slot> McpRoute::Find(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

void McpRoute::Add(std::shared_ptr<Slot> slot) {
  std::lock_guard<std::mutex> l(mu_);
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second->used.load() < oldest->second->used.load()) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[slot->session.id] = std::move(slot);
}

Response McpRoute::Handle(const Request& req, CancelLink* cancel) {
  if (auto o = req.find(http::field::origin); o != req.end()) {
    std::string_view host;
    if (auto h = req.find(http::field::host); h != req.end()) host = h->value();
    if (!AllowedOrigin(o->value(), host)) {
      return ErrorResponse(http::status::forbidden, "forbidden",
                           "Origin " + std::string(o->value()) +
                               " is not allowed: /mcp answers loopback origins only");
    }
  }
  std::string session_id;
  if (auto s = req.find("Mcp-Session-Id"); s != req.end()) session_id = std::string(s->value());
  const http::verb m = req.method();
  if (m == http::verb::delete_) {
    if (session_id.empty()) {
      return ErrorResponse(http::status::bad_request, "bad_request",
                           "DELETE /mcp needs Mcp-Session-Id");
    }
    std::lock_guard<std::mutex> l(mu_);
    if (sessions_.erase(session_id) == 0) {
      return ErrorResponse(http::status::not_found, "not_found", "no MCP session " + session_id);
    }
    return TextResponse(http::status::no_content, "application/json", "");
  }
  if (m != http::verb::post) {
    Response r = ErrorResponse(
        http::status::method_not_allowed, "method_not_allowed",
        std::string(req.method_string()) + " /mcp: use POST (this server opens no SSE stream)");
    r.set(http::field::allow, "POST, DELETE");
    return r;
  }
  if (auto v = req.find("MCP-Protocol-Version"); v != req.end()) {
    bool known = false;
    for (std::string_view k : kVersions) known = known || v->value() == k;
    if (!known) {
      return RpcError(http::status::bad_request, -32600,
                      "Bad Request: unsupported MCP-Protocol-Version " + std::string(v->value()) +
                          " (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)");
    }
  }
  if (auto ct = req.find(http::field::content_type);
      ct != req.end() && ct->value().find("json") == std::string_view::npos) {
    return RpcError(http::status::unsupported_media_type, -32600,
                    "Unsupported Media Type: POST /mcp takes application/json");
  }
  const std::string& body = req.body();
  const std::string method = mcp::McpServer::PeekMethod(body);
  query::Cancel flag{false};
  cancel->Attach(&flag);
  struct Detach {
    CancelLink* c;
    ~Detach() { c->Attach(nullptr); }
  } detach{cancel};

  std::shared_ptr<Slot> slot;
  const bool init = method == "initialize";
  if (init) {
    slot = std::make_shared<Slot>();
    slot->session.id = mcp::NewSessionId();
    slot->session.transport = "http";
  } else if (session_id.empty()) {
    if (method.empty()) {
      // Not a request at all: the JSON-RPC error (parse error, batch, ...) as a 400.
      Slot scratch;
      mcp::Reply r = server_->Handle(body, &scratch.session, &flag);
      if (!r.body.empty()) return Json(http::status::bad_request, r.body);
      return TextResponse(http::status::accepted, "application/json", "");
    }
    return RpcError(http::status::bad_request, -32600,
                    "Bad Request: Mcp-Session-Id header is required (send initialize first)");
  } else {
    slot = Find(session_id);
    if (slot == nullptr) {
      return RpcError(http::status::not_found, -32001,
                      "Session not found: " + session_id + " (initialize a new session)");
    }
  }
  mcp::Reply reply;
  {
    std::lock_guard<std::mutex> l(slot->mu);
    slot->used.store(std::chrono::steady_clock::now().time_since_epoch().count());
    reply = server_->Handle(body, &slot->session, &flag);
  }
  if (reply.body.empty()) return TextResponse(http::status::accepted, "application/json", "");
  const http::status status =
      reply.error && reply.method.empty() ? http::status::bad_request : http::status::ok;
  Response res = Json(status, std::move(reply.body));
  if (init && !reply.error) {
    res.set("Mcp-Session-Id", slot->session.id);
    Add(slot);
  }
  return res;
}

}  // namespace tink::server
