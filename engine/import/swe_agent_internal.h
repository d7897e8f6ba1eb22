// The swe-agent reader's internals, shared by swe_agent.cc (reading the trajectory, the events
// of each step) and swe_agent_replay.cc (what a step did to the files). Internal to engine/import.
//
// Reader: one trajectory file -> one run. Not thread-safe (one Reader per import); it holds
// pointers into the parsed document, which must outlive it.
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/import/import.h"
#include "engine/import/json_internal.h"
#include "engine/import/swe_agent_commands.h"

namespace tink::engine::import::swe {

using nlohmann::json;

struct Step {
  std::string action, observation, obs_lf, thought, response;
  std::optional<double> execution_time;
  std::optional<std::string> open_file, working_dir;  // the state recorded with the step
  const json* tool_calls = nullptr;                   // the history's tool_calls, when matched
  std::string call_name;                              // the single tool call's function name
  json call_args = json::object();                    // ... and its parsed arguments
};

// A file event of one step, emitted after the step's tool.result.
struct FileOp {
  enum class Kind { kEdit, kPatch, kDelete, kBase } kind;
  std::string path, text, mode;
};

struct Outcome {
  std::optional<std::string> error;  // set: the step failed
  std::vector<FileOp> ops;
};

// What one step is about to run, before the action.
struct Context {
  size_t i = 0;
  std::string tool, cwd;
  std::vector<std::string> words;
  std::optional<std::string> open_path;  // the open file, relative to the root
};

inline const json* At(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) {
      return nullptr;
    }
    cur = &(*cur)[k];
  }
  return cur;
}

inline std::string StrAt(const json& j, std::initializer_list<const char*> keys) {
  const json* v = At(j, keys);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

class Reader {
 public:
  Reader(const std::string& file, const Options& opt) : file_(file), opt_(opt) {}

  Result<std::vector<ImportedRun>> Read(const json& doc);

 private:
  Status Bad(const std::string& where, const std::string& msg) const {
    return Status::InvalidArgument(file_ + ": " + where + (where.empty() ? "" : ": ") + msg);
  }
  // `v` is of type `t` (or null when nullable); "number_float" accepts any number.
  Status Expect(const json& v, json::value_t t, const std::string& where, const char* want,
                bool nullable = true) const {
    if (v.type() == t || (nullable && v.is_null())) {
      return Status::Ok();
    }
    if (t == json::value_t::number_float && v.is_number()) {
      return Status::Ok();
    }
    return Bad(where, std::string("expected ") + want + ", got " + jsondoc::KindOf(v));
  }
  Status Validate(const json& doc);
  Status ParseSteps(const json& doc);
  void MatchToolCalls(const json& doc);
  Status Start(const json& doc);
  Status DoStep(size_t i);
  void Finish();

  std::string ResolvePath(std::string_view p, const std::string& cwd) const {
    return RelativeTo(swe::Normalise(Absolute(p, cwd)), root_);
  }
  static std::string Absolute(std::string_view p, const std::string& cwd) {
    if (p.starts_with("/") || cwd.empty()) {
      return std::string(p);
    }
    return cwd + "/" + std::string(p);
  }
  std::optional<std::string> Arg(const Context& c, const char* key, size_t word) const {
    const Step& st = steps_[c.i];
    if (st.call_name == c.tool && st.call_args.contains(key) && st.call_args[key].is_string()) {
      return st.call_args[key].get<std::string>();
    }
    if (word < c.words.size()) {
      return c.words[word];
    }
    return std::nullopt;
  }
  Outcome Interpret(const Context& c);
  Outcome Create(const Context& c);
  Outcome EditLike(const Context& c);
  Outcome Rm(const Context& c);
  Outcome Other(const Context& c);
  void Edited(size_t i, const std::string& path, std::string next, Outcome* out);
  void RebuildFromView(const Context& c, Outcome* out);
  void Warn(size_t i, const std::string& msg) {
    b_->out().warnings.push_back("step " + std::to_string(i) + ": " + msg);
  }

  std::string file_;
  Options opt_;
  json info_ = json::object(), rc_ = json::object();  // info, replay_config
  std::vector<Step> steps_;
  bool v0_ = false;
  std::string root_, first_wd_, model_;
  std::unique_ptr<RunBuilder> b_;
  std::set<std::string> touched_;  // paths a command of this run may have changed
  bool unknown_changes_ = false;   // a shell command may have changed files we cannot name
  std::optional<std::string> tracked_open_;  // absolute; from open/create, when state is silent
  std::map<std::string, swe::PatchIndexEntry> submitted_;  // the final patch's pre-images
};

}  // namespace tink::engine::import::swe
