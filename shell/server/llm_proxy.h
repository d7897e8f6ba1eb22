// The recording LLM proxy of tink serve (docs/replay.md): POST /v1/chat/completions and
// POST /v1/responses, OpenAI-compatible, forwarded with libcurl to an upstream chosen from
// --llm-upstream NAME=URL, and recorded as llm.request / llm.response / llm.error events on the
// run and task the caller names (X-Tinkerbell-Run / X-Tinkerbell-Task). A streamed answer
// (stream: true, Server-Sent Events) goes to the client piece by piece as it arrives, through a
// ResponseSink the transport provides, and is recorded whole when it ends. With a replay
// (--replay RUN, or the path prefix /replay/RUN/) the answers come from RUN's recording instead
// (replay.h) and no upstream is called.
//
// Secrets: no header is ever recorded; the Authorization sent upstream is the caller's own (when
// it authenticated with X-Tinkerbell-Token) or $TINK_LLM_KEY_<NAME>, never the daemon's token.
//
// Thread safety: Handle may be called from many threads at once (one call per thread, blocking
// for the whole upstream exchange).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "shell/server/api.h"
#include "shell/server/llm_recorder.h"

namespace tink::server {

class ReplayBooks;

// How a handler running on a worker thread writes a streamed (chunked) answer on the client's
// connection. Each call blocks until the bytes are written; false: the client is gone or too
// slow (the exchange should stop).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual bool Begin(int status, std::string_view content_type,
                     const std::vector<std::pair<std::string, std::string>>& headers) = 0;
  virtual bool Chunk(std::string_view data) = 0;
  virtual bool End() = 0;
};

// What the proxy tells the transport: a whole answer, or "already streamed through the sink".
struct ProxyOut {
  Response response;
  bool streamed = false;
  bool keep_alive = true;  // after a stream: whether the connection may be reused
};

class LlmProxy {
 public:
  LlmProxy(engine::Engine* engine, const ServerOptions& options);
  ~LlmProxy();

  // Whether a path is one of the proxy's: /v1/chat/completions, /v1/responses, and the same
  // under /replay/RUN.
  static bool Handles(std::string_view path);
  // Blocking: the whole exchange. Never throws.
  ProxyOut Handle(const Request& req, const Target& t, ResponseSink* sink);

 private:
  struct Call;
  ProxyOut Forward(Call& call, ResponseSink* sink);
  ProxyOut Replay(Call& call, const std::string& original, ResponseSink* sink);
  const LlmUpstream* Choose(const Request& req, std::string* model) const;

  // libcurl easy handles kept between calls: each keeps its connections to the upstreams open
  // (no TCP and TLS handshake per call). At most kIdleHandles are kept.
  void* TakeHandle();
  void GiveBack(void* handle);
  static constexpr size_t kIdleHandles = 64;

  engine::Engine* engine_;
  const ServerOptions& options_;
  LlmRecorder recorder_;
  std::unique_ptr<ReplayBooks> books_;
  std::mutex handles_mu_;
  std::vector<void*> idle_handles_;  // CURL*; guarded by handles_mu_
};

// The answer a client of the proxy sees for an error of ours (OpenAI's error shape, which is
// also ours: {"error": {"code", "type", "message"}}).
Response ProxyError(http::status status, std::string_view code, std::string_view message,
                    const std::string& extra_json_fields = "");

}  // namespace tink::server
