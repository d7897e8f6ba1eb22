#include "shell/server/llm_answer.h"

#include <map>

namespace tink::server {
namespace {

using nlohmann::json;

std::optional<int64_t> Int(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// usage of a chat completion ({prompt_tokens, completion_tokens, prompt_tokens_details}) or of
// a response ({input_tokens, output_tokens, input_tokens_details}).
void ReadUsage(const json& usage, LlmAnswer* a) {
  if (!usage.is_object()) return;
  if (auto v = Int(usage, "prompt_tokens")) a->input_tokens = v;
  if (auto v = Int(usage, "input_tokens")) a->input_tokens = v;
  if (auto v = Int(usage, "completion_tokens")) a->output_tokens = v;
  if (auto v = Int(usage, "output_tokens")) a->output_tokens = v;
  for (const char* details : {"prompt_tokens_details", "input_tokens_details"}) {
    if (usage.contains(details)) {
      if (auto v = Int(usage[details], "cached_tokens")) a->cached_tokens = v;
    }
  }
}

// Message content: a string, or a list of parts with "text".
std::string ContentText(const json& c) {
  if (c.is_string()) return c.get<std::string>();
  std::string out;
  for (const json& part : c.is_array() ? c : json::array()) {
    if (part.is_object() && part.contains("text") && part["text"].is_string()) {
      out += part["text"].get<std::string>();
    }
  }
  return out;
}

void ResponsesOutput(const json& body, LlmAnswer* a) {
  for (const json& item : body.value("output", json::array())) {
    if (!item.is_object()) continue;
    const std::string type = Str(item, "type");
    if (type == "message") {
      a->content += ContentText(item.value("content", json()));
    } else if (type == "function_call") {
      if (!a->tool_calls.is_array()) a->tool_calls = json::array();
      a->tool_calls.push_back({{"id", Str(item, "call_id")},
                               {"name", Str(item, "name")},
                               {"arguments", Str(item, "arguments")}});
    }
  }
  if (Str(body, "status") != "") a->finish_reason = Str(body, "status");
}

}  // namespace

LlmAnswer SummarizeBody(const json& body) {
  LlmAnswer a;
  if (!body.is_object()) return a;
  if (body.contains("error") && body["error"].is_object()) {
    a.error = Str(body["error"], "message");
    return a;
  }
  a.model = Str(body, "model");
  ReadUsage(body.value("usage", json()), &a);
  if (Str(body, "object") == "response" || body.contains("output")) {
    ResponsesOutput(body, &a);
    return a;
  }
  const json choices = body.value("choices", json::array());
  if (choices.is_array() && !choices.empty() && choices[0].is_object()) {
    const json& c = choices[0];
    a.finish_reason = Str(c, "finish_reason");
    const json msg = c.value("message", json());
    if (msg.is_object()) {
      a.content = ContentText(msg.value("content", json()));
      if (msg.contains("tool_calls") && msg["tool_calls"].is_array() &&
          !msg["tool_calls"].empty()) {
        a.tool_calls = msg["tool_calls"];
      }
    } else if (c.contains("text") && c["text"].is_string()) {  // legacy completions
      a.content = c["text"].get<std::string>();
    }
  }
  return a;
}

LlmAnswer SummarizeChunks(const json& chunks) {
  LlmAnswer a;
  if (!chunks.is_array()) return a;
  std::map<int64_t, json> calls;  // tool call index -> merged call
  for (const json& ch : chunks) {
    if (!ch.is_object()) continue;
    if (ch.contains("error") && ch["error"].is_object()) {
      a.error = Str(ch["error"], "message");
      continue;
    }
    const std::string type = Str(ch, "type");
    if (type == "response.completed" || type == "response.failed" ||
        type == "response.incomplete") {
      LlmAnswer done = SummarizeBody(ch.value("response", json()));
      done.error = a.error;
      return done;
    }
    if (type == "response.output_text.delta") {
      a.content += Str(ch, "delta");
      continue;
    }
    if (!Str(ch, "model").empty()) a.model = Str(ch, "model");
    if (ch.contains("usage")) ReadUsage(ch["usage"], &a);
    const json choices = ch.value("choices", json::array());
    if (!choices.is_array()) continue;
    for (const json& c : choices) {
      if (!c.is_object() || c.value("index", 0) != 0) continue;
      if (!Str(c, "finish_reason").empty()) a.finish_reason = Str(c, "finish_reason");
      const json d = c.value("delta", json());
      if (!d.is_object()) continue;
      a.content += ContentText(d.value("content", json()));
      for (const json& tc : d.value("tool_calls", json::array())) {
        if (!tc.is_object()) continue;
        json& m = calls[tc.value("index", int64_t{0})];
        if (!m.is_object()) m = {{"id", ""}, {"type", "function"},
                                 {"function", {{"name", ""}, {"arguments", ""}}}};
        if (!Str(tc, "id").empty()) m["id"] = Str(tc, "id");
        const json f = tc.value("function", json());
        if (f.is_object()) {
          m["function"]["name"] = m["function"]["name"].get<std::string>() + Str(f, "name");
          m["function"]["arguments"] =
              m["function"]["arguments"].get<std::string>() + Str(f, "arguments");
        }
      }
    }
  }
  if (!calls.empty()) {
    a.tool_calls = json::array();
    for (auto& [i, c] : calls) a.tool_calls.push_back(std::move(c));
  }
  return a;
}

void SseParser::Feed(std::string_view bytes, const Fn& on_event) {
  for (char c : bytes) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      Line(line_, on_event);
      line_.clear();
      continue;
    }
    line_ += c;
  }
}

void SseParser::Line(std::string_view line, const Fn& on_event) {
  if (line.empty()) {  // the end of an event
    if (has_data_) on_event(event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment (keep-alive)
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_ = value;
  }
}

std::string SseEvent(std::string_view name, std::string_view data) {
  std::string out;
  if (!name.empty()) out.append("event: ").append(name).append("\n");
  out.append("data: ").append(data).append("\n\n");
  return out;
}

}  // namespace tink::server
