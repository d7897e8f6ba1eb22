// SWE-agent trajectories (.traj, 0.x and 1.x) -> events. The mapping is in import.h and
// docs/import.md ("## swe-agent"); what each SWE-agent command does to a file is in
// swe_agent_commands.h.
//
// Which version: 0.x records `state` as a JSON *string* taken before the step's action, 1.x as an
// object taken after it. So the open file and working directory *before* step i come from
// state[i] (0.x) or state[i-1] (1.x). Only the observation tells whether an edit took effect
// (a linter can reject an edit whose SEARCH text is present), so every file event is gated on it;
// the new content is computed from the builder's file view (--base, or a whole-file view the
// recording itself shows) and checked against the view the observation prints.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/import/import.h"
#include "engine/import/json_internal.h"
#include "engine/import/swe_agent_commands.h"
#include "engine/import/swe_agent_internal.h"

namespace tink::engine::import {
namespace swe {

using jsondoc::Dump;
using jsondoc::KindOf;

Status Reader::Validate(const json& doc) {
  if (!doc.is_object()) {
    return Bad("", std::string("expected a JSON object, got ") + KindOf(doc));
  }
  if (!doc.contains("trajectory")) {
    return Bad("", "field 'trajectory' is missing");
  }
  RETURN_IF_ERROR(
      Expect(doc["trajectory"], json::value_t::array, "field 'trajectory'", "an array", false));
  if (doc.contains("info") && !doc["info"].is_null()) {
    RETURN_IF_ERROR(Expect(doc["info"], json::value_t::object, "field 'info'", "an object"));
    info_ = doc["info"];
  }
  for (const char* f : {"exit_status", "submission"}) {
    if (info_.contains(f)) {
      RETURN_IF_ERROR(Expect(info_[f], json::value_t::string, std::string("field 'info.") + f + "'",
                             "a string"));
    }
  }
  if (doc.contains("history")) {
    RETURN_IF_ERROR(Expect(doc["history"], json::value_t::array, "field 'history'", "an array"));
    for (size_t k = 0; doc["history"].is_array() && k < doc["history"].size(); ++k) {
      RETURN_IF_ERROR(Expect(doc["history"][k], json::value_t::object,
                             "history[" + std::to_string(k) + "]", "an object", false));
    }
  }
  if (doc.contains("replay_config") && !doc["replay_config"].is_null()) {
    rc_ = doc["replay_config"];
    if (rc_.is_string()) {  // some 1.x versions store the config as JSON text
      auto parsed = jsondoc::ParseDocument(rc_.get<std::string>(), "field 'replay_config'");
      if (!parsed.ok()) {
        return Bad("", parsed.status().message());
      }
      rc_ = std::move(parsed).value();
    }
    if (!rc_.is_object()) {
      return Bad("field 'replay_config'", std::string("expected an object, got ") + KindOf(rc_));
    }
  }
  return Status::Ok();
}

Status Reader::ParseSteps(const json& doc) {
  const json& traj = doc["trajectory"];
  for (size_t i = 0; i < traj.size(); ++i) {
    const std::string rec = "trajectory[" + std::to_string(i) + "]";
    const json& s = traj[i];
    if (!s.is_object()) {
      return Bad(rec, std::string("expected an object, got ") + KindOf(s));
    }
    Step st;
    for (const char* f : {"action", "observation"}) {
      if (!s.contains(f)) {
        return Bad(rec, std::string("field '") + f + "' is missing");
      }
      RETURN_IF_ERROR(
          Expect(s[f], json::value_t::string, rec + ": field '" + f + "'", "a string", false));
    }
    st.action = s["action"].get<std::string>();
    st.observation = s["observation"].get<std::string>();
    st.obs_lf = swe::CrlfToLf(st.observation);
    for (auto [f, dst] : {std::pair{"thought", &st.thought}, {"response", &st.response}}) {
      if (!s.contains(f)) {
        continue;
      }
      RETURN_IF_ERROR(Expect(s[f], json::value_t::string, rec + ": field '" + f + "'", "a string"));
      if (s[f].is_string()) {
        *dst = s[f].get<std::string>();
      }
    }
    if (s.contains("execution_time")) {
      RETURN_IF_ERROR(Expect(s["execution_time"], json::value_t::number_float,
                             rec + ": field 'execution_time'", "a number (seconds)"));
      if (s["execution_time"].is_number()) {
        st.execution_time = s["execution_time"].get<double>();
      }
    }
    if (s.contains("state") && !s["state"].is_null()) {
      json state = s["state"];
      if (state.is_string()) {  // 0.x: JSON text, taken before the action ran
        v0_ = true;
        auto parsed = jsondoc::ParseDocument(state.get<std::string>(), rec + ": field 'state'");
        if (!parsed.ok()) {
          return Bad("", parsed.status().message());
        }
        state = std::move(parsed).value();
      }
      if (!state.is_object()) {
        return Bad(rec + ": field 'state'",
                   std::string("expected an object, got ") + KindOf(state));
      }
      for (auto [f, dst] :
           {std::pair{"open_file", &st.open_file}, {"working_dir", &st.working_dir}}) {
        if (!state.contains(f) || state[f].is_null()) {
          continue;
        }
        if (!state[f].is_string()) {
          return Bad(rec + ": field 'state." + f + "'",
                     std::string("expected a string, got ") + KindOf(state[f]));
        }
        std::string v = state[f].get<std::string>();
        if (!v.empty() && v != "n/a") {
          *dst = std::move(v);
        }
      }
    }
    steps_.push_back(std::move(st));
  }
  return Status::Ok();
}

// Pairs each step with the assistant message of `history` that chose its action (the same action
// text, in order) for the structured tool-call arguments of function-calling runs: they are
// preferred over re-parsing the shell-quoted action.
void Reader::MatchToolCalls(const json& doc) {
  if (!doc.contains("history") || !doc["history"].is_array()) {
    return;
  }
  const json& h = doc["history"];
  size_t cursor = 0;
  for (Step& st : steps_) {
    for (size_t k = cursor; k < h.size(); ++k) {
      const json& m = h[k];
      if (jsondoc::StrOr(m, "role") != "assistant" || !m.contains("action") ||
          !m["action"].is_string() || m["action"].get<std::string>() != st.action) {
        continue;
      }
      cursor = k + 1;
      const json* calls = At(m, {"tool_calls"});
      if (calls == nullptr || !calls->is_array() || calls->empty()) {
        break;
      }
      st.tool_calls = calls;
      const json* fn = At((*calls)[0], {"function"});
      if (calls->size() != 1 || fn == nullptr || !fn->is_object()) {
        break;
      }
      st.call_name = StrAt(*fn, {"name"});
      json args = fn->value("arguments", json::object());
      if (args.is_string()) {
        args = jsondoc::ParseEmbedded(args.get<std::string>());
      }
      if (args.is_object()) {
        st.call_args = std::move(args);
      }
      break;
    }
  }
}

Status Reader::Start(const json& doc) {
  RunBuilder& b = *b_;
  // The problem statement: the config's text, else the first (non-demo) user message.
  std::string task = StrAt(rc_, {"problem_statement", "text"});
  for (size_t k = 0; task.empty() && doc.contains("history") && k < doc["history"].size(); ++k) {
    const json& m = doc["history"][k];
    if (jsondoc::StrOr(m, "role") == "user" && !jsondoc::BoolOr(m, "is_demo", false) &&
        m.contains("content") && m["content"].is_string()) {
      task = swe::IssueText(m["content"].get<std::string>());
    }
  }
  json meta = {{"format", "swe-agent"},
               {"file", file_.substr(file_.find_last_of('/') + 1)},
               {"version", v0_ ? "0.x" : "1.x"}};
  const std::string repo = StrAt(rc_, {"env", "repo", "github_url"}).empty()
                               ? StrAt(rc_, {"env", "repo", "repo_name"})
                               : StrAt(rc_, {"env", "repo", "github_url"});
  const std::string instance = StrAt(rc_, {"problem_statement", "id"});
  const std::pair<const char*, std::string> fields[] = {
      {"repo", repo},
      {"base_commit", StrAt(rc_, {"env", "repo", "base_commit"})},
      {"image", StrAt(rc_, {"env", "deployment", "image"})},
      {"instance_id", instance},
      {"exit_status", StrAt(info_, {"exit_status"})},
      {"root", root_}};
  for (const auto& [k, v] : fields) {
    if (!v.empty()) {
      meta[k] = v;
    }
  }
  json started = {{"name", instance.empty() ? b.out().source_id : instance},
                  {"agent", "swe-agent"},
                  {"meta", meta}};
  model_ = StrAt(rc_, {"agent", "model", "name"});
  if (model_.empty()) {
    model_ = StrAt(info_, {"model_stats", "model"});
  }
  if (!model_.empty()) {
    started["model"] = model_;
  }
  if (!task.empty()) {
    started["task"] = task;
  }
  b.Add("run.started", "run.started", "", Dump(started), 0);
  b.Add("agent/created", "task.created", "agent", Dump({{"task", "agent"}, {"name", "swe-agent"}}),
        0);
  b.Add("agent/ready", "task.ready", "agent", Dump({{"task", "agent"}}), 0);
  b.Add("agent/started", "task.started", "agent", Dump({{"task", "agent"}}), 0);
  if (!opt_.base_dir.empty()) {
    RETURN_IF_ERROR(b.LoadBase(opt_.base_dir, 0));
  }
  submitted_ = swe::PatchIndex(StrAt(info_, {"submission"}));
  return Status::Ok();
}

Status Reader::DoStep(size_t i) {
  RunBuilder& b = *b_;
  const Step& st = steps_[i];
  const std::string n = std::to_string(i), id = "step-" + n;
  Context c;
  c.i = i;
  // The open file and working directory before the action.
  const Step* before = v0_ ? &st : (i > 0 ? &steps_[i - 1] : nullptr);
  c.cwd = before != nullptr && before->working_dir ? *before->working_dir : first_wd_;
  std::optional<std::string> open = before != nullptr ? before->open_file : std::nullopt;
  if (!open) {
    open = tracked_open_;
  }
  if (open) {
    c.open_path = ResolvePath(*open, c.cwd);
  }

  std::string action = st.action;
  while (!action.empty() && action.back() == '\n') {
    action.pop_back();
  }
  // Shell words of the whole action (a quoted argument may span lines); when its quotes do not
  // balance (a 0.x edit body with an apostrophe), of the first line; else blank-separated.
  std::optional<std::vector<std::string>> words = swe::ShellWords(action);
  if (!words) {
    words = swe::ShellWords(swe::FirstLine(action));
  }
  if (!words) {
    words.emplace();
    std::istringstream in(swe::FirstLine(action));
    for (std::string w; in >> w;) {
      words->push_back(w);
    }
  }
  c.words = std::move(*words);
  c.tool = c.words.empty() ? "" : c.words[0];

  json resp = {{"task", "agent"}, {"call_id", "llm-" + n}};
  if (!model_.empty()) {
    resp["model"] = model_;
  }
  if (!st.response.empty() || !st.thought.empty()) {
    resp["content"] = st.response.empty() ? st.thought : st.response;
  }
  if (st.tool_calls != nullptr) {
    resp["tool_calls"] = *st.tool_calls;
  }
  b.Add(id + "/llm", "llm.response", "agent", Dump(resp), 0);

  b.Add(
      id + "/created", "task.created", id,
      Dump(
          {{"task", id}, {"parent", "agent"}, {"name", swe::CutChars(swe::FirstLine(action), 80)}}),
      0);
  b.Add(id + "/ready", "task.ready", id, Dump({{"task", id}}), 0);
  b.Add(id + "/started", "task.started", id, Dump({{"task", id}}), 0);
  json call = {{"task", id}, {"call_id", id}, {"args", {{"command", st.action}}}};
  if (!c.tool.empty()) {
    call["tool"] = c.tool;
  }
  if (!st.call_name.empty()) {
    call["args"]["arguments"] = st.call_args;
  }
  b.Add(id + "/call", "tool.call", id, Dump(call), 0);

  Outcome out = Interpret(c);
  if ((c.tool == "open" || c.tool == "create") && !out.error && c.words.size() > 1) {
    tracked_open_ = swe::Normalise(Absolute(c.words[1], c.cwd));
  }

  json result = {{"task", id}, {"call_id", id}, {"output", st.observation}, {"ok", !out.error}};
  if (!c.tool.empty()) {
    result["tool"] = c.tool;
  }
  if (out.error) {
    result["error"] = *out.error;
  }
  if (st.execution_time) {
    result["duration_ms"] = *st.execution_time * 1000.0;
  }
  b.Add(id + "/result", "tool.result", id, Dump(result), 0);

  for (size_t k = 0; k < out.ops.size(); ++k) {
    FileOp& op = out.ops[k];
    const std::string key = id + "/file-" + std::to_string(k);
    switch (op.kind) {
      case FileOp::Kind::kEdit:
        if (Status s = b.EditFile(key, id, op.path, std::move(op.text), 0); !s.ok()) {
          return Status::InvalidArgument(file_ + ": trajectory[" + n + "]: " + s.message());
        }
        break;
      case FileOp::Kind::kPatch:
        b.PatchFile(key, id, op.path, std::move(op.text), 0);
        break;
      case FileOp::Kind::kDelete:
        b.DeleteFile(key, id, op.path, 0);
        break;
      case FileOp::Kind::kBase: {
        // The file as it was before the run, learnt from the recording: like a --base file
        // (base: true, on task "agent"). WriteFile seeds the builder's view; its event is then
        // marked as base, with the mode the final patch names.
        json data = {{"task", "agent"},
                     {"path", op.path},
                     {"content", op.text},
                     {"base", true},
                     {"mode", op.mode}};
        b.WriteFile("base/" + op.path, "agent", op.path, op.text, 0);
        b.out().events.back().data_json = Dump(data);
        break;
      }
    }
  }
  if (out.error) {
    b.Add(id + "/failed", "task.failed", id, Dump({{"task", id}, {"error", *out.error}}), 0);
  } else {
    b.Add(id + "/succeeded", "task.succeeded", id, Dump({{"task", id}}), 0);
  }
  return Status::Ok();
}

void Reader::Finish() {
  RunBuilder& b = *b_;
  const std::string patch = StrAt(info_, {"submission"});
  if (!patch.empty()) {
    b.out().final_patch = patch;
    b.Add("final-patch", "note", "agent",
          Dump({{"task", "agent"}, {"kind", "final_patch"}, {"text", patch}}), 0);
  }
  const std::string exit_status = StrAt(info_, {"exit_status"});
  json meta = json::object();
  if (!exit_status.empty()) {
    meta["exit_status"] = exit_status;
  }
  if (info_.contains("model_stats") && info_["model_stats"].is_object()) {
    meta["model_stats"] = info_["model_stats"];
  }
  if (exit_status == "submitted") {
    b.Add("agent/succeeded", "task.succeeded", "agent", Dump({{"task", "agent"}}), 0);
    b.Add("run.finished", "run.finished", "", Dump({{"status", "succeeded"}, {"meta", meta}}), 0);
  } else if (!exit_status.empty()) {
    const std::string err = "exit_status " + exit_status;
    b.Add("agent/failed", "task.failed", "agent", Dump({{"task", "agent"}, {"error", err}}), 0);
    b.Add("run.finished", "run.finished", "",
          Dump({{"status", "failed"}, {"error", err}, {"meta", meta}}), 0);
  } else {
    b.out().warnings.push_back("info.exit_status is missing: the run is left unfinished");
  }
}

Result<std::vector<ImportedRun>> Reader::Read(const json& doc) {
  RETURN_IF_ERROR(Validate(doc));
  RETURN_IF_ERROR(ParseSteps(doc));
  if (!v0_ && rc_.empty() && jsondoc::StrOr(doc, "environment") == "swe_main") {
    v0_ = true;
  }
  MatchToolCalls(doc);
  // The repository root inside the recording, and the directory the agent started in.
  for (const Step& st : steps_) {
    if (st.working_dir) {
      first_wd_ = *st.working_dir;
      break;
    }
  }
  if (first_wd_.empty() && !StrAt(rc_, {"env", "repo", "repo_name"}).empty()) {
    first_wd_ = "/" + StrAt(rc_, {"env", "repo", "repo_name"});
  }
  root_ = opt_.root.empty() ? first_wd_ : opt_.root;

  const std::string source_id = FileStem(file_);
  b_ = std::make_unique<RunBuilder>(opt_.run.empty() ? source_id : opt_.run, source_id);
  RETURN_IF_ERROR(Start(doc));
  for (size_t i = 0; i < steps_.size(); ++i) {
    RETURN_IF_ERROR(DoStep(i));
  }
  Finish();
  std::vector<ImportedRun> runs;
  runs.push_back(b_->Finish());
  return runs;
}

}  // namespace swe

Result<std::vector<ImportedRun>> ImportSweAgent(const std::string& path, const Options& opt) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  ASSIGN_OR_RETURN(nlohmann::json doc, jsondoc::ParseDocument(text, path));
  swe::Reader reader(path, opt);
  return reader.Read(doc);
}

}  // namespace tink::engine::import
