// The one mapping from a trace's spans to events (otlp.h; docs/import.md "## otlp"), shared by
// `tink import --format otlp` and the daemon's POST /v1/traces.
//
// The spans are a tree (span id / parent id); it is walked depth-first with children in start
// order: a span's start events (at its start), its children, then its end events (at its end).
// The root -> run.started and task "agent"; execute_tool (and a nested invoke_agent) -> a child
// task named after the span id; an LLM call (chat, text_completion, generate_content, call_llm,
// or a span with gen_ai.system / gen_ai.provider.name and a request model) -> llm.request /
// llm.response / llm.error on the task of its nearest task ancestor. Tool side effects are never
// turned into file events: the spans do not record them.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/import/json_internal.h"
#include "engine/import/otlp.h"

namespace tink::engine::import {
namespace {

using jsondoc::Dump;
using nlohmann::json;

struct Node {
  OtelSpan* s = nullptr;
  std::string op;
  bool llm = false, task_span = false;
  std::vector<size_t> children;
  std::string task;
};

const json* Find(const json& attrs, const char* key) {
  if (!attrs.is_object()) return nullptr;
  auto it = attrs.find(key);
  return it == attrs.end() || it->is_null() ? nullptr : &*it;
}

std::string Attr(const json& attrs, const char* key) {
  const json* v = Find(attrs, key);
  if (v == nullptr) return "";
  return v->is_string() ? v->get<std::string>() : Dump(*v);
}

// An integer attribute: a JSON integer or (OTLP stringValue) decimal text.
std::optional<int64_t> IntAttr(const json& attrs, const char* key) {
  const json* v = Find(attrs, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    return v->get<int64_t>();
  }
  if (v->is_string()) {
    const std::string t = v->get<std::string>();
    if (!t.empty() && t.size() <= 18 && t.find_first_not_of("0123456789") == std::string::npos) {
      return std::stoll(t);
    }
  }
  return std::nullopt;
}

// JSON text that is JSON (gen_ai.* attributes hold serialised values) -> the value; else the text.
// Nesting is bounded (kMaxValueDepth) so the value fits an event's data.
json MaybeJson(const std::string& text) {
  bool too_deep = false;
  auto limit = [&too_deep](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) &&
        depth >= kMaxValueDepth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  json v = json::parse(text, limit, /*allow_exceptions=*/false);
  if (v.is_discarded() || too_deep) return text;
  return v;
}

// An attribute that holds JSON, as text (parsed) or already structured (OTLP arrays / kvlists).
json JsonAttr(const json& attrs, const char* key) {
  const json* v = Find(attrs, key);
  if (v == nullptr) return json();
  return v->is_string() ? MaybeJson(v->get<std::string>()) : *v;
}

bool IsLlmOp(const std::string& op) {
  return op == "chat" || op == "text_completion" || op == "generate_content" || op == "call_llm";
}

std::string Provider(const json& a) {
  std::string p = Attr(a, "gen_ai.provider.name");
  return p.empty() ? Attr(a, "gen_ai.system") : p;
}

// A message's text: a string `content`, or the text parts of `content` / `parts` lists.
std::string MessageText(const json& m) {
  if (!m.is_object()) return m.is_string() ? m.get<std::string>() : "";
  std::string out;
  for (const char* f : {"content", "parts"}) {
    auto it = m.find(f);
    if (it == m.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (!it->is_array()) continue;
    for (const json& part : *it) {
      if (part.is_string()) {
        out += (out.empty() ? "" : "\n") + part.get<std::string>();
        continue;
      }
      const std::string type = jsondoc::StrOr(part, "type", "text");
      if (type != "text") continue;
      for (const char* t : {"content", "text"}) {
        if (part.is_object() && part.contains(t) && part[t].is_string()) {
          out += (out.empty() ? "" : "\n") + part[t].get<std::string>();
          break;
        }
      }
    }
  }
  return out;
}

// The tool calls of an output message: its `tool_calls`, or its parts of type tool_call.
json MessageToolCalls(const json& m) {
  json calls = json::array();
  if (!m.is_object()) return calls;
  if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
    for (const json& c : m["tool_calls"]) calls.push_back(c);
  }
  if (m.contains("parts") && m["parts"].is_array()) {
    for (const json& p : m["parts"]) {
      if (jsondoc::StrOr(p, "type") == "tool_call") calls.push_back(p);
    }
  }
  return calls;
}

// Flattened gen_ai.prompt.N.* / gen_ai.completion.N.* attributes -> a message list.
json FlatMessages(const json& a, const std::string& prefix) {
  json out = json::array();
  for (int n = 0;; ++n) {
    const std::string p = prefix + "." + std::to_string(n) + ".";
    json m = json::object();
    for (const char* f : {"role", "content", "finish_reason"}) {
      if (const json* v = Find(a, (p + f).c_str())) m[f] = *v;
    }
    json calls = json::array();
    for (int k = 0;; ++k) {
      const std::string q = p + "tool_calls." + std::to_string(k) + ".";
      json c = json::object();
      for (const char* f : {"id", "name", "arguments"}) {
        if (const json* v = Find(a, (q + f).c_str())) c[f] = *v;
      }
      if (c.empty()) break;
      calls.push_back(std::move(c));
    }
    if (!calls.empty()) m["tool_calls"] = std::move(calls);
    if (m.empty()) break;
    out.push_back(std::move(m));
  }
  return out;
}

// A span event's message: its attributes, or a `body` object among them (older conventions).
json EventMessage(const OtelSpanEvent& e, const std::string& role) {
  json m = e.attributes.is_object() ? e.attributes : json::object();
  if (m.contains("body")) {
    json body = m["body"].is_string() ? MaybeJson(m["body"].get<std::string>()) : m["body"];
    if (body.is_object()) {
      m = body;
    } else if (!body.is_null()) {
      m = {{"content", body}};
    }
  }
  if (!role.empty() && !m.contains("role")) m["role"] = role;
  return m;
}

json InputMessages(const OtelSpan& s) {
  json m = JsonAttr(s.attributes, "gen_ai.input.messages");
  if (!m.is_null()) return m;
  m = FlatMessages(s.attributes, "gen_ai.prompt");
  if (!m.empty()) return m;
  static const std::map<std::string, std::string> kRoles = {{"gen_ai.system.message", "system"},
                                                           {"gen_ai.user.message", "user"},
                                                           {"gen_ai.assistant.message", "assistant"},
                                                           {"gen_ai.tool.message", "tool"}};
  for (const OtelSpanEvent& e : s.events) {
    auto it = kRoles.find(e.name);
    if (it != kRoles.end()) m.push_back(EventMessage(e, it->second));
  }
  return m.empty() ? json() : m;
}

// The answer's messages: gen_ai.output.messages, gen_ai.completion.N.*, or gen_ai.choice events.
json OutputMessages(const OtelSpan& s) {
  json m = JsonAttr(s.attributes, "gen_ai.output.messages");
  if (m.is_object()) m = json::array({m});
  if (m.is_array()) return m;
  m = FlatMessages(s.attributes, "gen_ai.completion");
  if (!m.empty()) return m;
  for (const OtelSpanEvent& e : s.events) {
    if (e.name != "gen_ai.choice") continue;
    json c = EventMessage(e, "");
    json msg = c.contains("message") && c["message"].is_object() ? c["message"] : c;
    if (c.contains("finish_reason") && !msg.contains("finish_reason")) {
      msg["finish_reason"] = c["finish_reason"];
    }
    m.push_back(std::move(msg));
  }
  return m;
}

// The first user message's text (run.started's task).
std::string FirstUserText(const json& msgs) {
  for (const json& m : msgs.is_array() ? msgs : json::array()) {
    if (m.is_object() && jsondoc::StrOr(m, "role") == "user") {
      std::string t = MessageText(m);
      if (!t.empty()) return t;
    }
  }
  return "";
}

class Mapper {
 public:
  explicit Mapper(TraceMapInput in) : in_(std::move(in)) {}
  Result<ImportedRun> Run();

 private:
  Status Bad(const OtelSpan* s, const std::string& msg) const {
    return Status::InvalidArgument((s != nullptr ? s->where + ": " : std::string()) + msg);
  }
  void Warn(const OtelSpan& s, const std::string& msg) {
    b_->out().warnings.push_back(s.where + " (" + s.name + "): " + msg);
  }
  void LlmStart(Node& n, const std::string& key);
  void LlmEnd(Node& n, const std::string& key, const std::string& error);

  TraceMapInput in_;
  std::optional<RunBuilder> b_;
};

void Mapper::LlmStart(Node& n, const std::string& key) {
  const OtelSpan& s = *n.s;
  json req = {{"task", n.task}, {"call_id", s.span_id}};
  if (!Attr(s.attributes, "gen_ai.request.model").empty()) {
    req["model"] = Attr(s.attributes, "gen_ai.request.model");
  }
  json msgs = InputMessages(s);
  if (!msgs.is_null()) req["messages"] = std::move(msgs);
  if (!Provider(s.attributes).empty()) req["provider"] = Provider(s.attributes);
  b_->Add(key + "/request", "llm.request", n.task, Dump(req), s.start_ns);
}

void Mapper::LlmEnd(Node& n, const std::string& key, const std::string& error) {
  const OtelSpan& s = *n.s;
  const json& a = s.attributes;
  std::string model = Attr(a, "gen_ai.response.model");
  if (model.empty()) model = Attr(a, "gen_ai.request.model");
  const std::string provider = Provider(a);
  if (s.status_code == 2) {
    json e = {{"task", n.task}, {"call_id", s.span_id}, {"error", error}};
    if (!model.empty()) e["model"] = model;
    if (!provider.empty()) e["provider"] = provider;
    b_->Add(key + "/error", "llm.error", n.task, Dump(e), s.end_ns);
    return;
  }
  json resp = {{"task", n.task},
               {"call_id", s.span_id},
               {"latency_ms", static_cast<double>(s.end_ns - s.start_ns) / 1e6}};
  if (!model.empty()) resp["model"] = model;
  if (!provider.empty()) resp["provider"] = provider;
  std::string finish;
  if (Find(a, "gen_ai.output") != nullptr) {
    // any-agent: the answer verbatim; a list of {tool.name, tool.args} is its tool calls.
    resp["content"] = Attr(a, "gen_ai.output");
    json out = JsonAttr(a, "gen_ai.output");
    bool calls = out.is_array() && !out.empty();
    for (const json& c : out.is_array() ? out : json::array()) {
      calls = calls && c.is_object() && c.contains("tool.name");
    }
    if (calls) resp["tool_calls"] = out;
  } else {
    const json msgs = OutputMessages(s);
    std::string text;
    json calls = json::array();
    for (const json& m : msgs) {
      const std::string t = MessageText(m);
      if (!t.empty()) text += (text.empty() ? "" : "\n") + t;
      for (json& c : MessageToolCalls(m)) calls.push_back(std::move(c));
      if (finish.empty()) finish = jsondoc::StrOr(m, "finish_reason");
    }
    if (!text.empty()) resp["content"] = text;
    if (!calls.empty()) resp["tool_calls"] = calls;
  }
  const json reasons = JsonAttr(a, "gen_ai.response.finish_reasons");
  if (reasons.is_array() && !reasons.empty() && reasons[0].is_string()) {
    finish = reasons[0].get<std::string>();
  } else if (reasons.is_string() && !reasons.get<std::string>().empty()) {
    finish = reasons.get<std::string>();
  }
  if (!finish.empty()) resp["finish_reason"] = finish;
  auto first_int = [&a](std::initializer_list<const char*> keys) -> std::optional<int64_t> {
    for (const char* k : keys) {
      if (auto v = IntAttr(a, k)) return v;
    }
    return std::nullopt;
  };
  auto in = first_int({"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                       "llm.usage.prompt_tokens"});
  auto out = first_int({"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                        "llm.usage.completion_tokens"});
  auto total = first_int({"llm.usage.total_tokens", "gen_ai.usage.total_tokens"});
  if (!out && in && total && *total >= *in) out = *total - *in;
  auto cached = first_int({"gen_ai.usage.cache_read.input_tokens",
                           "gen_ai.usage.cache_read_input_tokens"});
  if (in) resp["input_tokens"] = *in;
  if (out) resp["output_tokens"] = *out;
  if (cached) resp["cached_tokens"] = *cached;
  double cost = 0;
  bool has_cost = false;
  for (const char* k : {"gen_ai.usage.input_cost", "gen_ai.usage.output_cost"}) {
    if (const json* v = Find(a, k); v != nullptr && v->is_number()) {
      cost += v->get<double>();
      has_cost = true;
    }
  }
  if (has_cost) resp["cost_usd"] = cost;
  b_->Add(key + "/response", "llm.response", n.task, Dump(resp), s.end_ns);
}

Result<ImportedRun> Mapper::Run() {
  std::vector<OtelSpan>& spans = in_.spans;
  std::stable_sort(spans.begin(), spans.end(),
                   [](const OtelSpan& a, const OtelSpan& b) { return a.start_ns < b.start_ns; });
  const std::string id_field = in_.any_agent ? "field 'context.span_id': " : "field 'spanId': ";
  std::vector<Node> nodes(spans.size());
  std::map<std::string, size_t> by_id;
  for (size_t k = 0; k < spans.size(); ++k) {
    Node& n = nodes[k];
    n.s = &spans[k];
    n.op = Attr(spans[k].attributes, "gen_ai.operation.name");
    n.llm = IsLlmOp(n.op) ||
            (n.op.empty() && !Provider(spans[k].attributes).empty() &&
             !Attr(spans[k].attributes, "gen_ai.request.model").empty());
    n.task_span = n.op == "execute_tool" || n.op == "invoke_agent";
    if (!by_id.emplace(spans[k].span_id, k).second) {
      return Bad(&spans[k], id_field + "duplicate span id " + spans[k].span_id);
    }
  }
  std::optional<size_t> root;
  if (!in_.root_id.empty() && by_id.contains(in_.root_id)) root = by_id[in_.root_id];
  for (size_t k = 0; k < spans.size() && !root; ++k) {
    if (spans[k].parent_id.empty()) root = k;
  }
  if (!root) {
    const std::string trace = spans.empty() ? "" : spans.front().trace_id;
    return Bad(nullptr, (in_.any_agent ? "field 'spans': trace " : "trace ") + trace +
                            " has no root span (every span has a parent)");
  }
  b_.emplace(in_.run, in_.source_id);
  for (size_t k = 0; k < spans.size(); ++k) {
    if (k == *root) continue;
    auto it = spans[k].parent_id.empty() ? by_id.end() : by_id.find(spans[k].parent_id);
    if (it == by_id.end() || it->second == k) {
      Warn(spans[k], spans[k].parent_id.empty()
                         ? "a second root span; attached to task agent"
                         : "parent span " + spans[k].parent_id +
                               " is not in the file; attached to task agent");
      nodes[*root].children.push_back(k);
    } else {
      nodes[it->second].children.push_back(k);
    }
  }

  Node& r = nodes[*root];
  const OtelSpan& rs = *r.s;
  // run.started: the task is the root's own first user message (an invoke_agent span may carry
  // the run's input), else the first user message any LLM call sent. The root's own first: a
  // root that arrives before its calls (the live receiver maps it then) gets the same task.
  std::string task = FirstUserText(InputMessages(rs));
  std::string model = Attr(rs.attributes, "gen_ai.request.model");
  for (const Node& n : nodes) {
    if (!task.empty() && !model.empty()) break;
    if (!n.llm) continue;
    if (model.empty()) model = Attr(n.s->attributes, "gen_ai.request.model");
    if (task.empty()) task = FirstUserText(InputMessages(*n.s));
  }
  json meta = in_.meta;
  meta["trace_id"] = rs.trace_id;
  meta["spans"] = spans.size();
  if (!Attr(rs.attributes, "any_agent.version").empty()) {
    meta["any_agent_version"] = Attr(rs.attributes, "any_agent.version");
  }
  const std::string agent = Attr(rs.attributes, "gen_ai.agent.name");
  json started = {{"name", in_.name}, {"meta", meta}};
  if (!agent.empty()) started["agent"] = agent;
  if (!model.empty()) started["model"] = model;
  if (!task.empty()) started["task"] = task;
  b_->Add("run.started", "run.started", "", Dump(started), rs.start_ns);
  b_->Add("agent/created", "task.created", "agent",
          Dump({{"task", "agent"}, {"name", agent.empty() ? rs.name : agent}}), rs.start_ns);
  b_->Add("agent/ready", "task.ready", "agent", Dump({{"task", "agent"}}), rs.start_ns);
  b_->Add("agent/started", "task.started", "agent", Dump({{"task", "agent"}}), rs.start_ns);
  if (!in_.base_dir.empty()) {
    RETURN_IF_ERROR(b_->LoadBase(in_.base_dir, rs.start_ns));
  }
  r.task = "agent";
  const std::string root_key = "span-" + rs.span_id;
  // A trace that is a single LLM call (no agent span around it): the call is the agent's.
  if (r.llm) LlmStart(r, root_key);

  const OtelSpan* first_error = nullptr;
  std::vector<bool> seen(spans.size(), false);
  // Depth-first, iteratively (a recording may nest deeply): {node, children visited?}.
  std::vector<std::pair<size_t, bool>> stack;
  for (auto it = r.children.rbegin(); it != r.children.rend(); ++it) stack.emplace_back(*it, false);
  seen[*root] = true;
  while (!stack.empty()) {
    auto [k, done] = stack.back();
    stack.pop_back();
    Node& n = nodes[k];
    const OtelSpan& s = *n.s;
    const std::string key = "span-" + s.span_id;
    auto pit = s.parent_id.empty() ? by_id.end() : by_id.find(s.parent_id);
    const std::string parent_task = pit == by_id.end() ? "agent" : nodes[pit->second].task;
    const std::string tool = Attr(s.attributes, "gen_ai.tool.name");
    std::string call_id = Attr(s.attributes, "gen_ai.tool.call.id");
    if (call_id.empty()) call_id = s.span_id;
    const double ms = static_cast<double>(s.end_ns - s.start_ns) / 1e6;
    if (!done) {
      seen[k] = true;
      n.task = n.task_span ? s.span_id : (parent_task.empty() ? "agent" : parent_task);
      if (n.task_span) {
        const std::string an = Attr(s.attributes, "gen_ai.agent.name");
        const std::string name =
            n.op == "execute_tool" ? "tool: " + tool : "agent: " + (an.empty() ? s.name : an);
        b_->Add(key + "/created", "task.created", n.task,
                Dump({{"task", n.task}, {"parent", parent_task}, {"name", name}}), s.start_ns);
        b_->Add(key + "/ready", "task.ready", n.task, Dump({{"task", n.task}}), s.start_ns);
        b_->Add(key + "/started", "task.started", n.task, Dump({{"task", n.task}}), s.start_ns);
      }
      if (n.op == "execute_tool") {
        json call = {{"task", n.task}, {"call_id", call_id}, {"tool", tool}};
        json args = JsonAttr(s.attributes, "gen_ai.tool.call.arguments");
        if (args.is_null()) args = JsonAttr(s.attributes, "gen_ai.tool.args");
        if (args.is_null()) args = json::object();
        call["args"] = args;
        b_->Add(key + "/call", "tool.call", n.task, Dump(call), s.start_ns);
        const bool names_path =
            args.is_object() &&
            (args.contains("path") || args.contains("file_path") || args.contains("filename"));
        if (tool.find("write") != std::string::npos || tool.find("edit") != std::string::npos) {
          Warn(s, names_path
                      ? "tool " + tool + " may change files; tool side effects are not replayed"
                      : "tool " + tool +
                            " may write a file but its arguments name no path; no file event");
        }
      } else if (n.llm) {
        LlmStart(n, key);
      } else if (n.op != "invoke_agent") {
        Warn(s, "operation '" + n.op + "' is not mapped; only its children are imported");
      }
      stack.emplace_back(k, true);
      for (auto it = n.children.rbegin(); it != n.children.rend(); ++it) {
        stack.emplace_back(*it, false);
      }
      continue;
    }
    const bool error = s.status_code == 2;
    if (error && first_error == nullptr) first_error = &s;
    const std::string error_text =
        s.status_message.empty() ? n.op + " " + s.name + " failed" : s.status_message;
    if (n.llm) LlmEnd(n, key, error_text);
    if (n.op == "execute_tool") {
      json res = {{"task", n.task}, {"call_id", call_id}, {"tool", tool}, {"ok", !error},
                  {"duration_ms", ms}};
      const char* out_key = Find(s.attributes, "gen_ai.tool.call.result") != nullptr
                                ? "gen_ai.tool.call.result"
                                : "gen_ai.output";
      if (Find(s.attributes, out_key) != nullptr) res["output"] = Attr(s.attributes, out_key);
      if (error) res["error"] = error_text;
      b_->Add(key + "/result", "tool.result", n.task, Dump(res), s.end_ns);
    }
    if (n.task_span) {
      b_->Add(key + (error ? "/failed" : "/succeeded"), error ? "task.failed" : "task.succeeded",
              n.task,
              error ? Dump({{"task", n.task}, {"error", error_text}}) : Dump({{"task", n.task}}),
              s.end_ns);
    }
  }
  for (size_t k = 0; k < spans.size(); ++k) {
    if (!seen[k]) {
      return Bad(&spans[k],
                 std::string(in_.any_agent ? "field 'parent.span_id'" : "field 'parentSpanId'") +
                     ": the parent chain loops and never reaches the root");
    }
  }
  if (r.llm) LlmEnd(r, root_key, rs.status_message.empty() ? r.op + " " + rs.name + " failed"
                                                           : rs.status_message);
  if (rs.status_code == 2 && first_error == nullptr) first_error = &rs;
  json fin = {{"status", first_error ? "failed" : "succeeded"}};
  if (first_error != nullptr) {
    const std::string op = Attr(first_error->attributes, "gen_ai.operation.name");
    fin["error"] = first_error->status_message.empty() ? op + " " + first_error->name + " failed"
                                                       : first_error->status_message;
  }
  if (!in_.final_output.is_null()) {
    fin["summary"] = in_.final_output.is_string() ? in_.final_output.get<std::string>()
                                                  : Dump(in_.final_output);
  }
  if (first_error != nullptr) {
    b_->Add("agent/failed", "task.failed", "agent",
            Dump({{"task", "agent"}, {"error", fin["error"]}}), rs.end_ns);
  } else {
    b_->Add("agent/succeeded", "task.succeeded", "agent", Dump({{"task", "agent"}}), rs.end_ns);
  }
  b_->Add("run.finished", "run.finished", "", Dump(fin), rs.end_ns);
  return b_->Finish();
}

}  // namespace

Result<ImportedRun> MapTrace(TraceMapInput in) {
  Mapper m(std::move(in));
  return m.Run();
}

}  // namespace tink::engine::import
