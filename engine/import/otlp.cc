// OpenTelemetry GenAI spans (any-agent's trace export: {"spans": [...], "final_output": ...})
// -> events. The mapping is in import.h and docs/import.md ("## otlp").
//
// One run per trace. The spans are a tree (context.span_id / parent.span_id, decimal integers
// or strings); the file lists the root last, so the tree is rebuilt and walked depth-first with
// children in start_time order: a span's start events (at start_time), its children, then its
// end events (at end_time). invoke_agent root -> task "agent"; execute_tool (and a nested
// invoke_agent) -> a child task named after the span id; call_llm -> llm.request/llm.response on
// the task of its nearest task ancestor. Tool side effects (write_file) are never turned into
// file events: the spans do not record them.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/import/import.h"
#include "engine/import/json_internal.h"

namespace tink::engine::import {
namespace {

using jsondoc::Dump;
using jsondoc::KindOf;
using nlohmann::json;

struct Span {
  size_t index = 0;  // position in the file's "spans"
  std::string id, parent, trace, name, op;
  int64_t start = 0, end = 0;
  const json* attrs = nullptr;
  bool error = false;
  std::string status_text;
  std::vector<size_t> children;  // indexes into the trace's span vector, by start_time
  std::string task;              // the task its events go on
};

const json kEmptyObject = json::object();

std::string Attr(const Span& s, const char* key) {
  if (s.attrs == nullptr || !s.attrs->contains(key)) {
    return "";
  }
  const json& v = (*s.attrs)[key];
  return v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : Dump(v));
}

// JSON text that is JSON (gen_ai.* attributes hold serialised values) -> the value; else the text.
json MaybeJson(const std::string& text) {
  json v = jsondoc::ParseEmbedded(text);
  if (v.is_discarded()) {
    return text;
  }
  return v;
}

class Reader {
 public:
  Reader(const std::string& file, const Options& opt) : file_(file), opt_(opt) {}
  Result<std::vector<ImportedRun>> Read(const json& doc);

 private:
  Status Bad(const std::string& where, const std::string& msg) const {
    return Status::InvalidArgument(file_ + ": " + where + (where.empty() ? "" : ": ") + msg);
  }
  Result<std::string> IdText(const json& v, const std::string& where) const {
    if (v.is_null()) {
      return std::string();
    }
    if (v.is_number_unsigned()) {
      return std::to_string(v.get<uint64_t>());
    }
    if (v.is_number_integer()) {
      return std::to_string(v.get<int64_t>());
    }
    if (v.is_string()) {
      return v.get<std::string>();
    }
    return Bad(where, std::string("expected an integer or a string id, got ") + KindOf(v));
  }
  Result<int64_t> Time(const json& v, const std::string& where) const {
    if (v.is_number_integer() && !v.is_number_unsigned()) {
      return v.get<int64_t>();
    }
    if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(v.get<uint64_t>());
    }
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos) {
        return static_cast<int64_t>(std::stoll(s));
      }
    }
    return Bad(where, std::string("expected integer nanoseconds since the epoch, got ") +
                          (v.is_string() ? "\"" + v.get<std::string>() + "\"" : KindOf(v)));
  }
  Result<Span> ParseSpan(const json& s, size_t i) const;
  Result<ImportedRun> Trace(std::vector<Span> spans, const std::string& trace_id,
                            const std::string& source_id, const json& final_output);

  std::string file_;
  Options opt_;
};

Result<Span> Reader::ParseSpan(const json& s, size_t i) const {
  const std::string rec = "spans[" + std::to_string(i) + "]";
  if (!s.is_object()) {
    return Bad(rec, std::string("expected an object, got ") + KindOf(s));
  }
  Span sp;
  sp.index = i;
  if (!s.contains("context") || !s["context"].is_object()) {
    return Bad(rec, "field 'context' is missing or not an object");
  }
  ASSIGN_OR_RETURN(
      sp.id, IdText(s["context"].value("span_id", json()), rec + ": field 'context.span_id'"));
  if (sp.id.empty()) {
    return Bad(rec, "field 'context.span_id' is missing");
  }
  ASSIGN_OR_RETURN(
      sp.trace, IdText(s["context"].value("trace_id", json()), rec + ": field 'context.trace_id'"));
  if (s.contains("parent") && !s["parent"].is_null()) {
    // A root's parent is an object whose ids are null, not a missing field.
    if (!s["parent"].is_object()) {
      return Bad(rec + ": field 'parent'",
                 std::string("expected an object or null, got ") + KindOf(s["parent"]));
    }
    ASSIGN_OR_RETURN(
        sp.parent, IdText(s["parent"].value("span_id", json()), rec + ": field 'parent.span_id'"));
  }
  for (auto [f, dst] : {std::pair{"start_time", &sp.start}, {"end_time", &sp.end}}) {
    if (!s.contains(f)) {
      return Bad(rec, std::string("field '") + f + "' is missing");
    }
    ASSIGN_OR_RETURN(*dst, Time(s[f], rec + ": field '" + f + "'"));
  }
  if (sp.end < sp.start) {
    return Bad(rec, "field 'end_time' is before 'start_time'");
  }
  if (s.contains("name") && s["name"].is_string()) {
    sp.name = s["name"].get<std::string>();
  }
  sp.attrs = &kEmptyObject;
  if (s.contains("attributes") && !s["attributes"].is_null()) {
    if (!s["attributes"].is_object()) {
      return Bad(rec + ": field 'attributes'",
                 std::string("expected an object, got ") + KindOf(s["attributes"]));
    }
    sp.attrs = &s["attributes"];
  }
  sp.op = Attr(sp, "gen_ai.operation.name");
  if (s.contains("status") && s["status"].is_object()) {
    const json& st = s["status"];
    const json code = st.value("status_code", json());
    std::string c = code.is_string() ? code.get<std::string>() : "";
    std::transform(c.begin(), c.end(), c.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    sp.error = c == "error" || c == "status_code_error" ||
               (code.is_number_integer() && code.get<int64_t>() == 2);
    if (st.contains("description") && st["description"].is_string()) {
      sp.status_text = st["description"].get<std::string>();
    }
  }
  return sp;
}

Result<std::vector<ImportedRun>> Reader::Read(const json& doc) {
  if (!doc.is_object()) {
    return Bad("", std::string("expected a JSON object, got ") + KindOf(doc));
  }
  if (!doc.contains("spans")) {
    return Bad("", "field 'spans' is missing");
  }
  if (!doc["spans"].is_array()) {
    return Bad("field 'spans'", std::string("expected an array, got ") + KindOf(doc["spans"]));
  }
  std::map<std::string, std::vector<Span>> traces;  // trace id -> spans
  std::vector<std::string> order;                   // trace ids in file order
  for (size_t i = 0; i < doc["spans"].size(); ++i) {
    ASSIGN_OR_RETURN(Span sp, ParseSpan(doc["spans"][i], i));
    if (!traces.contains(sp.trace)) {
      order.push_back(sp.trace);
    }
    traces[sp.trace].push_back(std::move(sp));
  }
  if (order.empty()) {
    return Bad("field 'spans'", "no spans");
  }
  const json final_output = doc.value("final_output", json());
  const std::string stem = FileStem(file_);
  std::vector<ImportedRun> runs;
  for (const std::string& t : order) {
    // Several traces in one file: each run's source id names its trace.
    const std::string source_id =
        order.size() == 1 ? stem : std::string(stem).append("-").append(t);
    ASSIGN_OR_RETURN(ImportedRun run, Trace(std::move(traces[t]), t, source_id,
                                            order.size() == 1 ? final_output : json()));
    runs.push_back(std::move(run));
  }
  return runs;
}

Result<ImportedRun> Reader::Trace(std::vector<Span> spans, const std::string& trace_id,
                                  const std::string& source_id, const json& final_output) {
  std::stable_sort(spans.begin(), spans.end(),
                   [](const Span& a, const Span& b) { return a.start < b.start; });
  std::map<std::string, size_t> by_id;
  for (size_t k = 0; k < spans.size(); ++k) {
    if (!by_id.emplace(spans[k].id, k).second) {
      return Bad("spans[" + std::to_string(spans[k].index) + "]",
                 "field 'context.span_id': duplicate span id " + spans[k].id);
    }
  }
  RunBuilder b(opt_.run.empty() ? source_id : opt_.run, source_id);
  auto warn = [&](const Span& s, const std::string& msg) {
    b.out().warnings.push_back("spans[" + std::to_string(s.index) + "] (" + s.name + "): " + msg);
  };
  // The root: the earliest span without a parent (an invoke_agent span in any-agent's traces).
  std::optional<size_t> root;
  for (size_t k = 0; k < spans.size() && !root; ++k) {
    if (spans[k].parent.empty()) {
      root = k;
    }
  }
  if (!root) {
    return Bad("field 'spans'",
               "trace " + trace_id + " has no root span (every span has a parent)");
  }
  for (size_t k = 0; k < spans.size(); ++k) {
    if (k == *root) {
      continue;
    }
    auto it = spans[k].parent.empty() ? by_id.end() : by_id.find(spans[k].parent);
    if (it == by_id.end() || it->second == k) {
      warn(spans[k], spans[k].parent.empty() ? "a second root span; attached to task agent"
                                             : "parent span " + spans[k].parent +
                                                   " is not in the file; attached to task agent");
      spans[*root].children.push_back(k);
    } else {
      spans[it->second].children.push_back(k);
    }
  }

  const Span& r = spans[*root];
  // run.started: the task is the first user message any call_llm span sent.
  std::string task, model = Attr(r, "gen_ai.request.model");
  for (const Span& s : spans) {
    if (s.op != "call_llm") {
      continue;
    }
    if (model.empty()) {
      model = Attr(s, "gen_ai.request.model");
    }
    json msgs = MaybeJson(Attr(s, "gen_ai.input.messages"));
    for (const json& m : msgs.is_array() ? msgs : json::array()) {
      if (!task.empty() || !m.is_object() || jsondoc::StrOr(m, "role") != "user") {
        continue;
      }
      const json c = m.value("content", json());
      if (c.is_string()) {
        task = c.get<std::string>();
      }
      for (const json& part : c.is_array() ? c : json::array()) {
        if (part.is_object() && part.contains("text") && part["text"].is_string()) {
          task += (task.empty() ? "" : "\n") + part["text"].get<std::string>();
        }
      }
    }
    if (!task.empty()) {
      break;
    }
  }
  json meta = {{"format", "otlp"},
               {"file", file_.substr(file_.find_last_of('/') + 1)},
               {"trace_id", trace_id},
               {"spans", spans.size()}};
  if (!Attr(r, "any_agent.version").empty()) {
    meta["any_agent_version"] = Attr(r, "any_agent.version");
  }
  json started = {{"name", FileStem(file_)}, {"meta", meta}};
  if (!Attr(r, "gen_ai.agent.name").empty()) {
    started["agent"] = Attr(r, "gen_ai.agent.name");
  }
  if (!model.empty()) {
    started["model"] = model;
  }
  if (!task.empty()) {
    started["task"] = task;
  }
  b.Add("run.started", "run.started", "", Dump(started), r.start);
  const std::string agent_name =
      Attr(r, "gen_ai.agent.name").empty() ? r.name : Attr(r, "gen_ai.agent.name");
  b.Add("agent/created", "task.created", "agent", Dump({{"task", "agent"}, {"name", agent_name}}),
        r.start);
  b.Add("agent/ready", "task.ready", "agent", Dump({{"task", "agent"}}), r.start);
  b.Add("agent/started", "task.started", "agent", Dump({{"task", "agent"}}), r.start);
  if (!opt_.base_dir.empty()) {
    RETURN_IF_ERROR(b.LoadBase(opt_.base_dir, r.start));
  }
  spans[*root].task = "agent";

  const Span* first_error = nullptr;
  std::vector<bool> seen(spans.size(), false);
  // Depth-first, iteratively (a recording may nest deeply): {span, children visited?}.
  std::vector<std::pair<size_t, bool>> stack;
  for (auto it = r.children.rbegin(); it != r.children.rend(); ++it) {
    stack.emplace_back(*it, false);
  }
  seen[*root] = true;
  while (!stack.empty()) {
    auto [k, done] = stack.back();
    stack.pop_back();
    Span& s = spans[k];
    const std::string key = "span-" + s.id;
    const std::string parent_task =
        s.parent.empty() || !by_id.contains(s.parent) ? "agent" : spans[by_id[s.parent]].task;
    const bool is_task = s.op == "execute_tool" || s.op == "invoke_agent";
    const std::string tool = Attr(s, "gen_ai.tool.name");
    const double ms = static_cast<double>(s.end - s.start) / 1e6;
    if (!done) {
      seen[k] = true;
      s.task = is_task ? s.id : (parent_task.empty() ? "agent" : parent_task);
      if (is_task) {
        const std::string name =
            s.op == "execute_tool"
                ? "tool: " + tool
                : "agent: " + (Attr(s, "gen_ai.agent.name").empty() ? s.name
                                                                    : Attr(s, "gen_ai.agent.name"));
        b.Add(key + "/created", "task.created", s.task,
              Dump({{"task", s.task}, {"parent", parent_task}, {"name", name}}), s.start);
        b.Add(key + "/ready", "task.ready", s.task, Dump({{"task", s.task}}), s.start);
        b.Add(key + "/started", "task.started", s.task, Dump({{"task", s.task}}), s.start);
      }
      if (s.op == "execute_tool") {
        json call = {{"task", s.task}, {"call_id", s.id}, {"tool", tool}};
        const std::string raw_args = Attr(s, "gen_ai.tool.args");
        json args = raw_args.empty() ? json::object() : MaybeJson(raw_args);
        call["args"] = args;
        b.Add(key + "/call", "tool.call", s.task, Dump(call), s.start);
        const bool names_path =
            args.is_object() &&
            (args.contains("path") || args.contains("file_path") || args.contains("filename"));
        if (tool.find("write") != std::string::npos || tool.find("edit") != std::string::npos) {
          warn(s, names_path
                      ? "tool " + tool + " may change files; tool side effects are not replayed"
                      : "tool " + tool +
                            " may write a file but its arguments name no path; no file event");
        }
      } else if (s.op == "call_llm") {
        json req = {{"task", s.task}, {"call_id", s.id}};
        if (!Attr(s, "gen_ai.request.model").empty()) {
          req["model"] = Attr(s, "gen_ai.request.model");
        }
        if (!Attr(s, "gen_ai.input.messages").empty()) {
          req["messages"] = MaybeJson(Attr(s, "gen_ai.input.messages"));
        }
        b.Add(key + "/request", "llm.request", s.task, Dump(req), s.start);
      } else if (s.op != "invoke_agent") {
        warn(s, "operation '" + s.op + "' is not mapped; only its children are imported");
      }
      stack.emplace_back(k, true);
      for (auto it = s.children.rbegin(); it != s.children.rend(); ++it) {
        stack.emplace_back(*it, false);
      }
      continue;
    }
    if (s.error && first_error == nullptr) {
      first_error = &s;
    }
    const std::string error =
        s.status_text.empty() ? s.op + " " + s.name + " failed" : s.status_text;
    if (s.op == "call_llm") {
      const std::string model_k = Attr(s, "gen_ai.request.model");
      if (s.error) {
        json e = {{"task", s.task}, {"call_id", s.id}, {"error", error}};
        if (!model_k.empty()) {
          e["model"] = model_k;
        }
        b.Add(key + "/error", "llm.error", s.task, Dump(e), s.end);
      } else {
        json resp = {{"task", s.task}, {"call_id", s.id}, {"latency_ms", ms}};
        if (!model_k.empty()) {
          resp["model"] = model_k;
        }
        if (s.attrs->contains("gen_ai.output")) {
          resp["content"] = Attr(s, "gen_ai.output");
          json out = MaybeJson(Attr(s, "gen_ai.output"));
          bool calls = out.is_array() && !out.empty();
          for (const json& c : out.is_array() ? out : json::array()) {
            calls = calls && c.is_object() && c.contains("tool.name");
          }
          if (calls) {
            resp["tool_calls"] = out;
          }
        }
        for (auto [a, f] : {std::pair{"gen_ai.usage.input_tokens", "input_tokens"},
                            {"gen_ai.usage.output_tokens", "output_tokens"}}) {
          if (s.attrs->contains(a) && (*s.attrs)[a].is_number_integer()) {
            resp[f] = (*s.attrs)[a];
          }
        }
        double cost = 0;
        bool has_cost = false;
        for (const char* a : {"gen_ai.usage.input_cost", "gen_ai.usage.output_cost"}) {
          if (s.attrs->contains(a) && (*s.attrs)[a].is_number()) {
            cost += (*s.attrs)[a].get<double>();
            has_cost = true;
          }
        }
        if (has_cost) {
          resp["cost_usd"] = cost;
        }
        b.Add(key + "/response", "llm.response", s.task, Dump(resp), s.end);
      }
    }
    if (s.op == "execute_tool") {
      json res = {{"task", s.task},
                  {"call_id", s.id},
                  {"tool", tool},
                  {"ok", !s.error},
                  {"duration_ms", ms}};
      if (s.attrs->contains("gen_ai.output")) {
        res["output"] = Attr(s, "gen_ai.output");
      }
      if (s.error) {
        res["error"] = error;
      }
      b.Add(key + "/result", "tool.result", s.task, Dump(res), s.end);
    }
    if (is_task) {
      b.Add(key + (s.error ? "/failed" : "/succeeded"), s.error ? "task.failed" : "task.succeeded",
            s.task, s.error ? Dump({{"task", s.task}, {"error", error}}) : Dump({{"task", s.task}}),
            s.end);
    }
  }
  for (size_t k = 0; k < spans.size(); ++k) {
    if (!seen[k]) {
      return Bad("spans[" + std::to_string(spans[k].index) + "]",
                 "field 'parent.span_id': the parent chain loops and never reaches the root");
    }
  }
  if (r.error && first_error == nullptr) {
    first_error = &r;
  }

  json fin = {{"status", first_error ? "failed" : "succeeded"}};
  if (first_error != nullptr) {
    fin["error"] = first_error->status_text.empty()
                       ? first_error->op + " " + first_error->name + " failed"
                       : first_error->status_text;
  }
  if (!final_output.is_null()) {
    fin["summary"] =
        final_output.is_string() ? final_output.get<std::string>() : Dump(final_output);
  }
  if (first_error != nullptr) {
    b.Add("agent/failed", "task.failed", "agent",
          Dump({{"task", "agent"}, {"error", fin["error"]}}), r.end);
  } else {
    b.Add("agent/succeeded", "task.succeeded", "agent", Dump({{"task", "agent"}}), r.end);
  }
  b.Add("run.finished", "run.finished", "", Dump(fin), r.end);
  return b.Finish();
}

}  // namespace

Result<std::vector<ImportedRun>> ImportOtlp(const std::string& path, const Options& opt) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  ASSIGN_OR_RETURN(json doc, jsondoc::ParseDocument(text, path));
  Reader reader(path, opt);
  return reader.Read(doc);
}

}  // namespace tink::engine::import
