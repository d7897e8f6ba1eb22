// The memory-graph events an import adds (import.h AddMemory, docs/import.md "Memory").
//
// One pass over the run's events: every entity (the run, a task, a file the agent changed, a
// tool) becomes one memory.node the first time an event names it, and every relation one
// memory.edge the first time it is seen, inserted right after that event. So the graph grows in
// log order (an as-of query mid-run sees what was known then), nodes always precede the edges
// that name them, and the existing events keep their order and ids.
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/import/import.h"
#include "schema/schema.h"

namespace tink::engine::import {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Str(const json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

class MemoryPass {
 public:
  explicit MemoryPass(std::string run) : run_(std::move(run)), stream_("run/" + run_ + "/memory") {}

  // The memory events that `e` introduces, appended to `out`.
  void After(const schema::EventInput& e, std::vector<schema::EventInput>& out);

 private:
  std::string RunNode(const json* started, int64_t t, std::vector<schema::EventInput>& out);
  std::string TaskNode(const std::string& task, const json* created, int64_t t,
                       std::vector<schema::EventInput>& out);
  std::string FileNode(const std::string& path, int64_t t, std::vector<schema::EventInput>& out);
  std::string ToolNode(const std::string& tool, int64_t t, std::vector<schema::EventInput>& out);
  void Node(const std::string& id, const char* label, json props, int64_t t,
            std::vector<schema::EventInput>& out);
  void Edge(const std::string& src, const char* rel, const std::string& dst, json props, int64_t t,
            std::vector<schema::EventInput>& out);
  // The task an event belongs to: data.task, else the T of its stream "run/<run>/task/T".
  std::string TaskOf(const schema::EventInput& e, const json& d) const;

  std::string run_, stream_;
  std::set<std::string> nodes_, edges_;
  std::unordered_map<std::string, std::string> tool_of_task_;  // the task's (last) tool.call
};

void MemoryPass::Node(const std::string& id, const char* label, json props, int64_t t,
                      std::vector<schema::EventInput>& out) {
  if (!nodes_.insert(id).second) return;
  schema::EventInput m;
  m.id = run_ + "/memory/node/" + id;
  m.stream = stream_;
  m.type = "memory.node";
  m.run = run_;
  m.occurred_ns = t;
  m.data_json = Dump({{"id", id}, {"labels", {label}}, {"props", std::move(props)}});
  out.push_back(std::move(m));
}

void MemoryPass::Edge(const std::string& src, const char* rel, const std::string& dst, json props,
                      int64_t t, std::vector<schema::EventInput>& out) {
  // The projection's default edge id, spelled out so the event says which edge it is.
  std::string id = src + "|" + rel + "|" + dst;
  if (!edges_.insert(id).second) return;
  json d = {{"id", id}, {"src", src}, {"rel", rel}, {"dst", dst}, {"props", std::move(props)}};
  if (t != 0) d["valid_from"] = schema::FormatTime(t);
  schema::EventInput m;
  m.id = run_ + "/memory/edge/" + id;
  m.stream = stream_;
  m.type = "memory.edge";
  m.run = run_;
  m.occurred_ns = t;
  m.data_json = Dump(d);
  out.push_back(std::move(m));
}

std::string MemoryPass::RunNode(const json* started, int64_t t,
                                std::vector<schema::EventInput>& out) {
  std::string id = "run:" + run_;
  json props = {{"run", run_}};
  if (started != nullptr) {
    for (const char* key : {"name", "agent", "model"}) {
      if (std::string v = Str(*started, key); !v.empty()) props[key] = v;
    }
  }
  Node(id, "Run", std::move(props), t, out);
  return id;
}

std::string MemoryPass::TaskNode(const std::string& task, const json* created, int64_t t,
                                 std::vector<schema::EventInput>& out) {
  std::string id = "task:" + run_ + "/" + task;
  if (nodes_.contains(id)) return id;
  std::string parent = created != nullptr ? Str(*created, "parent") : std::string();
  // The parent first (it is normally created already), so SUBTASK_OF finds it.
  std::string parent_id = parent.empty() ? std::string() : TaskNode(parent, nullptr, t, out);
  std::string run_id = RunNode(nullptr, t, out);
  json props = {{"run", run_}, {"task", task}};
  if (created != nullptr) {
    if (std::string name = Str(*created, "name"); !name.empty()) props["name"] = name;
  }
  Node(id, "Task", std::move(props), t, out);
  Edge(run_id, "HAS_TASK", id, json::object(), t, out);
  if (!parent_id.empty()) Edge(id, "SUBTASK_OF", parent_id, json::object(), t, out);
  return id;
}

std::string MemoryPass::FileNode(const std::string& path, int64_t t,
                                 std::vector<schema::EventInput>& out) {
  // Files are per run: each run has its own repository.
  std::string id = "file:" + run_ + "/" + path;
  Node(id, "File", {{"run", run_}, {"path", path}}, t, out);
  return id;
}

std::string MemoryPass::ToolNode(const std::string& tool, int64_t t,
                                 std::vector<schema::EventInput>& out) {
  // Tools are shared across runs: every run that uses one asserts the same node (a new version
  // of it with the same content; the event id is the run's own, so re-import stays a no-op).
  std::string id = "tool:" + tool;
  Node(id, "Tool", {{"name", tool}}, t, out);
  return id;
}

std::string MemoryPass::TaskOf(const schema::EventInput& e, const json& d) const {
  if (std::string t = Str(d, "task"); !t.empty()) return t;
  const std::string prefix = "run/" + run_ + "/task/";
  return e.stream.starts_with(prefix) ? e.stream.substr(prefix.size()) : std::string();
}

void MemoryPass::After(const schema::EventInput& e, std::vector<schema::EventInput>& out) {
  const std::string_view type = e.type;
  if (type != "run.started" && type != "task.created" && type != "tool.call" &&
      type != "tool.result" && !type.starts_with("file.")) {
    return;
  }
  json d = json::parse(e.data_json, nullptr, /*allow_exceptions=*/false);
  if (!d.is_object()) return;
  const int64_t t = e.occurred_ns;
  if (type == "run.started") {
    RunNode(&d, t, out);
    return;
  }
  const std::string task = TaskOf(e, d);
  if (task.empty()) return;
  if (type == "task.created") {
    TaskNode(task, &d, t, out);
    return;
  }
  if (type == "tool.call") {
    const std::string tool = Str(d, "tool");
    if (tool.empty()) return;
    tool_of_task_[task] = tool;
    std::string task_id = TaskNode(task, nullptr, t, out);
    Edge(task_id, "USES", ToolNode(tool, t, out), json::object(), t, out);
    return;
  }
  if (type == "tool.result") {
    auto ok = d.find("ok");
    if (ok == d.end() || !ok->is_boolean() || ok->get<bool>()) return;
    std::string tool = Str(d, "tool");
    if (tool.empty()) {
      auto it = tool_of_task_.find(task);
      if (it == tool_of_task_.end()) return;
      tool = it->second;
    }
    std::string task_id = TaskNode(task, nullptr, t, out);
    json props = json::object();
    if (std::string error = Str(d, "error"); !error.empty()) props["error"] = error;
    Edge(task_id, "FAILED_ON", ToolNode(tool, t, out), std::move(props), t, out);
    return;
  }
  // file.*: the agent's own changes; the base files are the repository, not the run's work.
  if (const auto b = d.find("base"); b != d.end() && b->is_boolean() && b->get<bool>()) return;
  const std::string path = Str(d, "path");
  if (path.empty()) return;
  const std::string kind(type.substr(5));  // write | patch | delete | rename
  std::string task_id = TaskNode(task, nullptr, t, out);
  std::string file_id = FileNode(path, t, out);
  Edge(task_id, "MODIFIES", file_id, {{"kind", kind}}, t, out);
  if (type == "file.rename") {
    const std::string to = Str(d, "to");
    if (to.empty()) return;
    std::string to_id = FileNode(to, t, out);
    Edge(task_id, "MODIFIES", to_id, {{"kind", kind}}, t, out);
    Edge(file_id, "RENAMED_TO", to_id, {{"task", task}}, t, out);
  }
}

}  // namespace

void AddMemory(const std::string& run, std::vector<schema::EventInput>& events) {
  MemoryPass pass(run);
  std::vector<schema::EventInput> out;
  out.reserve(events.size() + events.size() / 2);
  std::vector<schema::EventInput> added;
  for (schema::EventInput& e : events) {
    added.clear();
    pass.After(e, added);
    out.push_back(std::move(e));
    for (schema::EventInput& m : added) out.push_back(std::move(m));
  }
  events = std::move(out);
}

}  // namespace tink::engine::import
