// OpenHands event streams -> events, under the mapping of import.h (details in docs/import.md).
//
// Two shapes are read: evaluation output (JSON Lines, one run per record: instance_id,
// instruction, metadata, history, error, test_result, instance) and a bare JSON list of events
// (OpenHands' tests/runtime/trajs/*.json). The whole file is checked before any event is made,
// so a bad record fails the file with nothing returned.
//
// What is interpreted: an edit takes effect only when its observation says so (never by re-running
// it); shell commands are never interpreted (a warning names the ones that change files).
#include <algorithm>
#include <map>
#include <set>

#include "engine/import/import.h"
#include "engine/import/json_internal.h"
#include "engine/import/openhands_internal.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;
namespace in = internal;

constexpr size_t kNameBytes = 80;    // task names: "run: <first line of the command>"
constexpr size_t kErrorBytes = 200;  // task.failed / tool.result error: one line

using in::Field;
using in::Int;
using in::Obj;
using in::Str;
using in::Where;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// --- one run ----------------------------------------------------------------------------------

struct RunSource {
  const json* record = nullptr;  // an output.jsonl record; nullptr for a bare event list
  const json* history = nullptr;
  std::string source_id;
};

struct PendingTool {
  std::string task, tool, kind;
  const json* action = nullptr;
  bool answered = false;
};

class Converter {
 public:
  Converter(const RunSource& src, const Options& opt, std::string file_name, std::string root)
      : src_(src),
        opt_(opt),
        file_name_(std::move(file_name)),
        root_(std::move(root)),
        b_(opt.run.empty() ? src.source_id : opt.run, src.source_id) {}

  Result<ImportedRun> Convert();

 private:
  static std::string Key(int64_t id, const char* what) {
    return "ev" + std::to_string(id) + "/" + what;
  }
  void Warn(std::string w) { b_.out().warnings.push_back(std::move(w)); }
  void Note(const std::string& key, const std::string& kind, const std::string& text, int64_t t) {
    b_.Add(key, "note", "agent", Dump({{"task", "agent"}, {"text", text}, {"kind", kind}}), t);
  }
  void TaskStart(const std::string& key, const std::string& task, const std::string& parent,
                 const std::string& name, int64_t t);

  void Prescan();
  void StartRun(int64_t t);
  bool EmitLlm(const json& ev, int64_t t);
  Status Action(const json& ev, int64_t t);
  void ToolAction(const json& ev, const std::string& kind, int64_t t);
  Status Observation(const json& ev, int64_t t);
  void LoneError(const json& ev, int64_t t);
  Status ApplyEdit(const json& action, const json& obs, const std::string& task, int64_t t);
  void EditFallback(const json& obs, const std::string& key, const std::string& task,
                    const std::string& rel, const std::string& reason, int64_t t);
  void FinishRun(int64_t t);
  json ToolArgs(const json& ev) const;
  std::string TaskName(const std::string& kind, const json* args) const;

  const RunSource& src_;
  const Options& opt_;
  std::string file_name_, root_;
  RunBuilder b_;
  std::string model_;                        // the run's main model
  std::map<std::string, double> latency_s_;  // response id -> seconds (metrics)
  std::set<std::string> responses_;          // model responses already emitted
  std::map<int64_t, PendingTool> pending_;   // action id -> its tool task
  std::string cwd_;                          // shell directory after the last run observation
  const json* finish_ = nullptr;
  int64_t finish_t_ = 0;
};

void Converter::Prescan() {
  const json* rec = src_.record;
  if (const json* md = Obj(rec, "metadata")) model_ = Str(Obj(md, "llm_config"), "model");
  if (const json* metrics = Obj(rec, "metrics")) {
    if (const json* lat = Field(metrics, "response_latencies"); lat && lat->is_array()) {
      for (const json& l : *lat) {
        const json* secs = Field(&l, "latency");
        if (secs != nullptr && secs->is_number()) latency_s_[Str(&l, "response_id")] = *secs;
      }
    }
  }
  if (model_.empty()) {
    for (const json& ev : *src_.history) {
      model_ = Str(Obj(Obj(&ev, "tool_call_metadata"), "model_response"), "model");
      if (!model_.empty()) break;
    }
  }
}

void Converter::TaskStart(const std::string& key, const std::string& task,
                          const std::string& parent, const std::string& name, int64_t t) {
  json created = {{"task", task}};
  if (!parent.empty()) created["parent"] = parent;
  created["name"] = name;
  b_.Add(key + "task.created", "task.created", task, Dump(created), t);
  b_.Add(key + "task.ready", "task.ready", task, Dump({{"task", task}}), t);
  b_.Add(key + "task.started", "task.started", task, Dump({{"task", task}}), t);
}

void Converter::StartRun(int64_t t) {
  const json* rec = src_.record;
  json meta = {{"format", "openhands"}, {"file", file_name_}};
  std::string task;
  if (rec != nullptr) {
    const json* inst = Obj(rec, "instance");
    const json* md = Obj(rec, "metadata");
    meta["instance_id"] = src_.source_id;
    for (const char* key : {"repo", "base_commit", "version"}) {
      if (std::string v = Str(inst, key); !v.empty()) meta[key] = v;
    }
    if (auto mi = Int(md, "max_iterations")) meta["max_iterations"] = *mi;
    if (std::string ac = Str(md, "agent_class"); !ac.empty()) meta["agent_class"] = ac;
    task = Str(rec, "instruction");
  } else {
    for (const json& ev : *src_.history) {
      if (Str(&ev, "action") == "message" && Str(&ev, "source") == "user") {
        task = Str(Obj(&ev, "args"), "content");
        break;
      }
    }
  }
  meta["root"] = root_;
  json started = {{"name", src_.source_id}, {"agent", "openhands"}};
  if (!model_.empty()) started["model"] = model_;
  if (!task.empty()) started["task"] = task;
  started["meta"] = std::move(meta);
  b_.Add("run.started", "run.started", "", Dump(started), t);
  TaskStart("agent/", "agent", "", "openhands agent loop", t);
}

// llm.response for the model response behind an agent event, once per response id.
bool Converter::EmitLlm(const json& ev, int64_t t) {
  const json* mr = Obj(Obj(&ev, "tool_call_metadata"), "model_response");
  if (mr == nullptr) return false;
  const std::string rid = Str(mr, "id");
  if (!rid.empty() && !responses_.insert(rid).second) return true;
  json d = {{"task", "agent"}};
  if (!rid.empty()) d["call_id"] = rid;
  if (std::string m = Str(mr, "model"); !m.empty()) {
    d["model"] = m;
  } else if (!model_.empty()) {
    d["model"] = model_;
  }
  const json* choices = Field(mr, "choices");
  const json* choice =
      choices && choices->is_array() && !choices->empty() ? &(*choices)[0] : nullptr;
  const json* msg = Obj(choice, "message");
  if (std::string c = Str(msg, "content"); !c.empty()) d["content"] = c;
  if (const json* calls = Field(msg, "tool_calls"); calls && calls->is_array()) {
    json out = json::array();
    for (const json& c : *calls) {
      const json* fn = Obj(&c, "function");
      json call = {{"id", Str(&c, "id")}, {"name", Str(fn, "name")}};
      std::string a = Str(fn, "arguments");
      json parsed = jsondoc::ParseEmbedded(a);
      call["arguments"] = parsed.is_discarded() ? json(a) : parsed;
      out.push_back(std::move(call));
    }
    d["tool_calls"] = std::move(out);
  }
  if (std::string fr = Str(choice, "finish_reason"); !fr.empty()) d["finish_reason"] = fr;
  const json* usage = Obj(mr, "usage");
  if (auto in = Int(usage, "prompt_tokens")) d["input_tokens"] = *in;
  if (auto out = Int(usage, "completion_tokens")) d["output_tokens"] = *out;
  if (auto it = latency_s_.find(rid); !rid.empty() && it != latency_s_.end()) {
    d["latency_ms"] = it->second * 1000.0;
  }
  b_.Add(Key(ev["id"].get<int64_t>(), "llm.response"), "llm.response", "agent", Dump(d), t);
  return true;
}

// The tool call's arguments as the model sent them, else the action's args without OpenHands'
// bookkeeping.
json Converter::ToolArgs(const json& ev) const {
  const json* tcm = Obj(&ev, "tool_call_metadata");
  const std::string call_id = Str(tcm, "tool_call_id");
  const json* choices = Field(Obj(tcm, "model_response"), "choices");
  if (!call_id.empty() && choices && choices->is_array() && !choices->empty()) {
    const json* calls = Field(Obj(&(*choices)[0], "message"), "tool_calls");
    for (size_t i = 0; calls && calls->is_array() && i < calls->size(); ++i) {
      const json& c = (*calls)[i];
      if (Str(&c, "id") != call_id) continue;
      json a = jsondoc::ParseEmbedded(Str(Obj(&c, "function"), "arguments"));
      if (a.is_object()) return a;
    }
  }
  json out = json::object();
  if (const json* args = Obj(&ev, "args")) {
    static const std::set<std::string> kSkip = {"thought",
                                                "is_input",
                                                "blocking",
                                                "hidden",
                                                "confirmation_state",
                                                "is_static",
                                                "impl_source",
                                                "translated_ipython_code"};
    for (auto& [k, v] : args->items()) {
      if (!v.is_null() && !kSkip.contains(k)) out[k] = v;
    }
  }
  return out;
}

std::string Converter::TaskName(const std::string& kind, const json* args) const {
  std::string detail;
  if (std::string c = Str(args, "command"); !c.empty() && kind == "run") {
    detail = in::FirstLine(c, kNameBytes);
  } else if (std::string p = Str(args, "path"); !p.empty()) {
    detail = RelativeTo(p, root_);
    if (detail.empty()) detail = ".";
  } else if (std::string u = Str(args, "url"); !u.empty()) {
    detail = in::CutUtf8(u, kNameBytes);
  } else if (std::string code = Str(args, "code"); !code.empty()) {
    detail = in::FirstLine(code, kNameBytes);
  }
  return detail.empty() ? kind : kind + ": " + detail;
}

void Converter::ToolAction(const json& ev, const std::string& kind, int64_t t) {
  const int64_t id = ev["id"].get<int64_t>();
  const json* args = Obj(&ev, "args");
  if (!EmitLlm(ev, t)) {
    if (std::string th = Str(args, "thought"); !th.empty()) Note(Key(id, "note"), "thought", th, t);
  }
  const std::string task = std::to_string(id);
  std::string tool = Str(Obj(&ev, "tool_call_metadata"), "function_name");
  if (tool.empty()) tool = kind;
  if (kind == "run") {
    std::vector<std::string> changes = in::ShellFileChanges(Str(args, "command"), root_, cwd_);
    if (!changes.empty()) {
      std::string list;
      for (const std::string& c : changes) list += (list.empty() ? "" : ", ") + c;
      Warn("event " + task + ": shell command may change files (" + list + "); not replayed");
    }
  }
  TaskStart(Key(id, ""), task, "agent", TaskName(kind, args), t);
  json call = {{"task", task}, {"call_id", task}, {"tool", tool}, {"args", ToolArgs(ev)}};
  b_.Add(Key(id, "tool.call"), "tool.call", task, Dump(call), t);
  pending_[id] = PendingTool{task, tool, kind, &ev};
}

Status Converter::Action(const json& ev, int64_t t) {
  const int64_t id = ev["id"].get<int64_t>();
  const std::string kind = Str(&ev, "action");
  const std::string source = Str(&ev, "source");
  const json* args = Obj(&ev, "args");
  if (kind == "system") {
    if (std::string c = Str(args, "content"); !c.empty()) Note(Key(id, "note"), "system", c, t);
  } else if (kind == "message") {
    if (source == "agent") {
      if (!EmitLlm(ev, t)) {
        json d = {{"task", "agent"}};
        if (!model_.empty()) d["model"] = model_;
        d["content"] = Str(args, "content");
        b_.Add(Key(id, "llm.response"), "llm.response", "agent", Dump(d), t);
      }
    } else {
      Note(Key(id, "note"), source.empty() ? "user" : source, Str(args, "content"), t);
    }
  } else if (kind == "think") {
    EmitLlm(ev, t);
    Note(Key(id, "note"), "thought", Str(args, "thought"), t);
  } else if (kind == "finish") {
    EmitLlm(ev, t);
    finish_ = &ev;
    finish_t_ = t;
  } else if (kind == "recall" || kind == "change_agent_state" || kind == "null" ||
             kind == "condensation" || kind == "condensation_request") {
    // OpenHands' own bookkeeping (workspace context, agent state): not part of the run's work.
  } else if (Obj(&ev, "tool_call_metadata") != nullptr) {
    ToolAction(ev, kind, t);
  } else {
    // A tool action recorded without its tool call: a task only when an observation answers it.
    for (const json& o : *src_.history) {
      if (Field(&o, "observation") != nullptr && Int(&o, "cause") == id) {
        ToolAction(ev, kind, t);
        break;
      }
    }
  }
  return Status::Ok();
}

// An `error` observation that answers no action (a malformed tool call): a failed task of its own.
void Converter::LoneError(const json& ev, int64_t t) {
  const int64_t id = ev["id"].get<int64_t>();
  const std::string task = std::to_string(id);
  std::string content = Str(&ev, "content");
  if (content.empty()) content = Str(&ev, "message");
  std::string error = in::FirstLine(content, kErrorBytes);
  if (error.empty()) error = "error observation";
  TaskStart(Key(id, ""), task, "agent", "error: " + in::FirstLine(error, kNameBytes), t);
  b_.Add(Key(id, "task.failed"), "task.failed", task, Dump({{"task", task}, {"error", error}}), t);
}

Status Converter::Observation(const json& ev, int64_t t) {
  const int64_t id = ev["id"].get<int64_t>();
  const std::string okind = Str(&ev, "observation");
  std::optional<int64_t> cause = Int(&ev, "cause");
  auto it = cause ? pending_.find(*cause) : pending_.end();
  if (it == pending_.end()) {
    if (okind == "error") LoneError(ev, t);
    return Status::Ok();
  }
  PendingTool& p = it->second;
  if (p.answered) {
    Warn("event " + std::to_string(id) + ": a second observation of event " + p.task + "; ignored");
    return Status::Ok();
  }
  p.answered = true;
  const std::string content = Str(&ev, "content");
  const json* extras = Obj(&ev, "extras");
  json r = {{"task", p.task}, {"call_id", p.task}, {"tool", p.tool}, {"output", content}};
  bool ok = true;
  std::string error;
  if (okind == "error") {
    ok = false;
    error = in::FirstLine(content, kErrorBytes);
    if (error.empty()) error = "error observation";
  } else if (okind == "run") {
    const json* md = Obj(extras, "metadata");
    std::optional<int64_t> ec = Int(md, "exit_code");
    if (!ec) ec = Int(extras, "exit_code");
    if (std::string wd = Str(md, "working_dir"); !wd.empty()) cwd_ = wd;
    if (ec) {
      r["exit_code"] = *ec;
      ok = *ec == 0;
      if (!ok) {
        error = "exit code " + std::to_string(*ec);
        // -1: OpenHands stopped waiting (no output for a while); its suffix says so.
        if (std::string sfx = in::FirstLine(Str(md, "suffix"), kErrorBytes);
            *ec == -1 && !sfx.empty()) {
          error += ": " + sfx;
        }
      }
    } else if (const json* s = Field(&ev, "success"); s && s->is_boolean()) {
      ok = s->get<bool>();
      if (!ok) error = "command failed";
    }
  } else if (content.starts_with("ERROR:")) {
    ok = false;
    error = in::FirstLine(std::string_view(content).substr(6), kErrorBytes);
    if (error.empty()) error = "ERROR";
  }
  r["ok"] = ok;
  if (!ok) r["error"] = error;
  b_.Add(Key(id, "tool.result"), "tool.result", p.task, Dump(r), t);
  if (ok && okind == "edit") RETURN_IF_ERROR(ApplyEdit(*p.action, ev, p.task, t));
  if (ok) {
    b_.Add(Key(id, "task.succeeded"), "task.succeeded", p.task, Dump({{"task", p.task}}), t);
  } else {
    b_.Add(Key(id, "task.failed"), "task.failed", p.task,
           Dump({{"task", p.task}, {"error", error}}), t);
  }
  return Status::Ok();
}

void Converter::EditFallback(const json& obs, const std::string& key, const std::string& task,
                             const std::string& rel, const std::string& reason, int64_t t) {
  // Warnings name the edit action (the id the recording's readers know), not its observation.
  const std::string head = "event " + task + ": edit of " + rel + ": " + reason;
  std::string diff = Str(Obj(&obs, "extras"), "diff");
  if (diff.empty()) {
    Warn(head + "; not imported");
    return;
  }
  b_.PatchFile(key, task, rel, std::move(diff), t);
  Warn(head + "; the observation's diff is imported as is");
}

// An accepted edit (its observation says it took effect) as file events, from the builder's view.
Status Converter::ApplyEdit(const json& action, const json& obs, const std::string& task,
                            int64_t t) {
  const std::string key = Key(obs["id"].get<int64_t>(), "file");
  static const json kEmpty = json::object();
  const json* args = Obj(&action, "args");
  if (args == nullptr) args = &kEmpty;
  const json* extras = Obj(&obs, "extras");
  json cmd = *args;
  std::string command = Str(args, "command");
  const bool old_shape = command.empty();
  if (old_shape) {
    // Older OpenHands kept the editor call only as Python source.
    if (std::string code = Str(args, "translated_ipython_code"); !code.empty()) {
      auto parsed = in::ParsePythonKwargs(code, "file_editor");
      if (parsed.ok()) {
        cmd = std::move(parsed).value();
        command = Str(&cmd, "command");
      }
    }
  }
  std::string path = Str(&cmd, "path");
  if (path.empty()) path = Str(args, "path");
  if (path.empty()) path = Str(extras, "path");
  if (path.empty()) {
    Warn("event " + task + ": accepted edit names no path; not imported");
    return Status::Ok();
  }
  const std::string rel = RelativeTo(path, root_);
  const json* new_content = Field(extras, "new_content");
  const bool created = Field(extras, "old_content") == nullptr ||
                       (Field(extras, "prev_exist") && !(*extras)["prev_exist"].get<bool>());
  if (old_shape && new_content != nullptr && created && (command.empty() || command == "create")) {
    // The old shape's observation holds the whole new file.
    b_.WriteFile(key, task, rel, new_content->get<std::string>(), t);
    return Status::Ok();
  }
  if (command == "create") {
    const json* text = Field(&cmd, "file_text");
    if (text == nullptr || !text->is_string()) text = new_content;
    if (text == nullptr) {
      EditFallback(obs, key, task, rel, "create without file text", t);
      return Status::Ok();
    }
    b_.WriteFile(key, task, rel, text->get<std::string>(), t);
    return Status::Ok();
  }
  if (command != "str_replace" && command != "insert") {
    EditFallback(obs, key, task, rel,
                 command.empty() ? "the edit command is not recorded"
                                 : "command '" + command + "' is not replayed",
                 t);
    return Status::Ok();
  }
  const std::string* view = b_.File(rel);
  if (view == nullptr) {
    EditFallback(obs, key, task, rel, "file not in the imported view (no --base copy)", t);
    return Status::Ok();
  }
  std::string next;
  if (command == "str_replace") {
    size_t found = 0;
    auto replaced = in::StrReplaceOnce(*view, Str(&cmd, "old_str"), Str(&cmd, "new_str"), &found);
    if (!replaced) {
      EditFallback(obs, key, task, rel,
                   "old_str occurs " + std::to_string(found) + " times in the imported view", t);
      return Status::Ok();
    }
    next = std::move(*replaced);
  } else {
    auto inserted = in::InsertAfterLine(*view, Int(&cmd, "insert_line"), Str(&cmd, "new_str"));
    if (!inserted) {
      EditFallback(obs, key, task, rel, "insert_line outside the imported view", t);
      return Status::Ok();
    }
    next = std::move(*inserted);
  }
  Status s = b_.EditFile(key, task, rel, std::move(next), t);
  if (!s.ok()) return s.WithContext("event " + task);
  return Status::Ok();
}

void Converter::FinishRun(int64_t t) {
  for (const auto& [id, p] : pending_) {
    if (!p.answered)
      Warn("event " + p.task + ": no observation answers it; its task stays running");
  }
  const json* rec = src_.record;
  std::string patch = Str(Obj(rec, "test_result"), "git_patch");
  if (!patch.empty()) {
    b_.out().final_patch = patch;
    Note("final_patch", "final_patch", patch, t);
  }
  const std::string error = Str(rec, "error");
  const json* fargs = finish_ ? Obj(finish_, "args") : nullptr;
  std::string summary = Str(fargs, "final_thought");
  if (summary.empty()) summary = Str(fargs, "thought");
  if (!error.empty()) {
    b_.Add("agent/task.failed", "task.failed", "agent", Dump({{"task", "agent"}, {"error", error}}),
           t);
    json fin = {{"status", "failed"}, {"error", error}};
    if (!summary.empty()) fin["summary"] = summary;
    b_.Add("run.finished", "run.finished", "", Dump(fin), t);
  } else if (finish_ != nullptr) {
    json done = {{"task", "agent"}};
    if (std::string tc = Str(fargs, "task_completed"); !tc.empty()) {
      done["result"] = {{"task_completed", tc}};
    }
    b_.Add("agent/task.succeeded", "task.succeeded", "agent", Dump(done), finish_t_);
    json fin = {{"status", "succeeded"}};
    if (!summary.empty()) fin["summary"] = summary;
    b_.Add("run.finished", "run.finished", "", Dump(fin), finish_t_);
  } else if (rec != nullptr) {
    Warn("the record has neither a finish action nor an error; the run stays unfinished");
  }
}

Result<ImportedRun> Converter::Convert() {
  Prescan();
  const json& history = *src_.history;
  int64_t t0 = 0, last = 0;
  for (const json& ev : history) {
    if (const json* ts = Field(&ev, "timestamp")) {
      t0 = ParseSourceTime(ts->get<std::string>());
      break;
    }
  }
  StartRun(t0);
  if (!opt_.base_dir.empty()) RETURN_IF_ERROR(b_.LoadBase(opt_.base_dir, t0));
  last = t0;
  for (const json& ev : history) {
    if (const json* ts = Field(&ev, "timestamp")) last = ParseSourceTime(ts->get<std::string>());
    if (Field(&ev, "action") != nullptr) {
      RETURN_IF_ERROR(Action(ev, last));
    } else if (Field(&ev, "observation") != nullptr) {
      RETURN_IF_ERROR(Observation(ev, last));
    }
  }
  FinishRun(last);
  return b_.Finish();
}

// The repository root inside the recording: /workspace/<owner>__<repo>__<version> for SWE-bench
// style evaluation records, /workspace otherwise.
std::string GuessRoot(const json* rec) {
  const json* inst = Obj(rec, "instance");
  std::string repo = Str(inst, "repo"), version = Str(inst, "version");
  if (repo.empty()) return "/workspace";
  std::string dir;
  for (char c : repo) {
    if (c == '/') {
      dir += "__";
    } else {
      dir += c;
    }
  }
  return "/workspace/" + dir + (version.empty() ? "" : "__" + version);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<std::vector<ImportedRun>> ImportOpenHands(const std::string& path, const Options& opt) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  std::vector<json> docs;  // parsed records, or the one event list
  bool list = false;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::InvalidArgument(path + ": empty file");
  if (text[first] == '[') {
    // A bare event list: one run, the whole file one document.
    Where w{path, 0, 0};
    ASSIGN_OR_RETURN(json doc, in::ParseJson(text, w));
    RETURN_IF_ERROR(in::CheckHistory(w, doc, ""));
    docs.push_back(std::move(doc));
    list = true;
  } else {
    size_t record = 0, line = 0;
    for (size_t i = 0; i < text.size();) {
      size_t end = text.find('\n', i);
      if (end == std::string::npos) end = text.size();
      std::string_view ln(text.data() + i, end - i);
      ++line;
      i = end + 1;
      if (!ln.empty() && ln.back() == '\r') ln.remove_suffix(1);
      if (ln.find_first_not_of(" \t") == std::string_view::npos) continue;
      Where w{path, ++record, line};
      ASSIGN_OR_RETURN(json rec, in::ParseJson(ln, w));
      RETURN_IF_ERROR(in::CheckRecord(w, rec));
      docs.push_back(std::move(rec));
    }
  }

  std::vector<RunSource> sources;
  for (const json& d : docs) {
    RunSource s;
    if (list) {
      s.history = &d;
      s.source_id = FileStem(path);
    } else {
      s.record = &d;
      s.history = &d["history"];
      s.source_id = d["instance_id"].get<std::string>();
    }
    if (opt.select.empty() || opt.select == s.source_id) sources.push_back(s);
  }
  if (sources.empty()) {
    std::string ids;
    for (const json& d : docs) ids += (ids.empty() ? "" : ", ") + Str(&d, "instance_id");
    return Status::InvalidArgument(path + ": no run '" + opt.select +
                                   "' in the file (runs: " + ids + ")");
  }
  if ((!opt.run.empty() || !opt.base_dir.empty()) && sources.size() > 1) {
    return Status::InvalidArgument(path + ": holds " + std::to_string(sources.size()) +
                                   " runs; --run and --base need one (pick it with --select)");
  }
  std::vector<ImportedRun> runs;
  for (const RunSource& s : sources) {
    std::string root = opt.root.empty() ? (list ? "/workspace" : GuessRoot(s.record)) : opt.root;
    Converter c(s, opt, BaseName(path), root);
    auto run = c.Convert();
    if (!run.ok()) return run.status().WithContext(path + ": run " + s.source_id);
    runs.push_back(std::move(run).value());
  }
  return runs;
}

}  // namespace tink::engine::import
