// What the recording proxy (llm_proxy.h) and the replay (replay.h) read out of the OpenAI-style
// wire format: the summary of an answer (text, tool calls, tokens) from a whole JSON body or from
// the chunks of a streamed one, and an incremental parser of Server-Sent Events. Pure functions
// and a small value type; no I/O. Thread safety: none needed.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "shell/cli/common.h"

namespace tink::server {

// The parts of an answer the llm.response event carries as typed fields.
struct LlmAnswer {
  std::string model, content, finish_reason;
  nlohmann::json tool_calls;  // null when the answer calls no tool
  std::optional<int64_t> input_tokens, output_tokens, cached_tokens;
  std::string error;  // an error body's error.message
};

// A chat.completion (POST /v1/chat/completions) or a response (POST /v1/responses) body; an
// error body ({"error": {...}}) fills `error` only.
LlmAnswer SummarizeBody(const nlohmann::json& body);
// The data objects of a stream, in order: chat.completion.chunk deltas merged (content
// concatenated, tool call arguments concatenated per index, the last usage and finish reason),
// or the Responses API's events (the response.completed event's response, else the text deltas).
LlmAnswer SummarizeChunks(const nlohmann::json& chunks);

// The JSON depth of a text (brackets outside strings), without parsing it (shell/cli/common.h).
using cli::JsonDepth;

// Server-Sent Events (the WHATWG format OpenAI streams in), fed in arbitrary pieces: calls
// on_event(event_name, data) for each complete event (data lines joined with '\n'; comments and
// events without data skipped). Holds at most one partial event.
class SseParser {
 public:
  using Fn = std::function<void(std::string_view event, std::string_view data)>;
  void Feed(std::string_view bytes, const Fn& on_event);
  size_t buffered() const { return line_.size() + data_.size(); }

 private:
  void Line(std::string_view line, const Fn& on_event);
  std::string line_, event_, data_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the previous piece ended on '\r'
};

// The SSE text of one event: "event: NAME\n" (when NAME is not empty) and "data: DATA\n\n".
std::string SseEvent(std::string_view name, std::string_view data);

}  // namespace tink::server
