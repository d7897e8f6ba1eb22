// WriteReport (views.h): a forensic summary of one run, from the projections and the log: what
// the run was, how it ended, its tasks, the tool calls that failed (with what was asked and what
// came back), the files it changed (the canvas, from its base), canvas anomalies, whether the
// recording's own final patch matches the canvas, and the commands that dig further.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "projections/canvas.h"
#include "projections/scheduler.h"
#include "schema/schema.h"
#include "shell/cli/common.h"
#include "shell/cli/patch_compare.h"
#include "shell/cli/views.h"
#include "shell/query/runs.h"

namespace tink::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// First line of `s`, at most n characters, with an ellipsis when cut.
std::string OneLine(std::string_view s, size_t n) {
  while (!s.empty() && (s.front() == '\n' || s.front() == '\r' || s.front() == ' ')) s.remove_prefix(1);
  std::string line(s.substr(0, s.find('\n')));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  for (char& c : line) {
    if (c == '\t') c = ' ';
  }
  bool cut = line.size() < s.size() && s.find('\n') != std::string_view::npos;
  if (line.size() > n) {
    line.resize(n);
    cut = true;
  }
  return cut ? line + " …" : line;
}

// The last non-empty line of `s` (where errors usually are), cut to n.
std::string LastLine(std::string_view s, size_t n) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  size_t nl = s.rfind('\n');
  return OneLine(nl == std::string_view::npos ? s : s.substr(nl + 1), n);
}

struct ToolFailure {
  uint64_t lsn = 0;
  std::string task, tool, call, error;
  std::optional<int64_t> exit_code;
};

struct FileStat {
  int added = 0, removed = 0;
  int events = 0;
  std::string status;  // "modified", "added", "deleted"
};

std::map<std::string, FileStat> DiffStat(const std::string& diff) {
  std::map<std::string, FileStat> out;
  FileStat* cur = nullptr;
  size_t pos = 0;
  while (pos < diff.size()) {
    size_t end = diff.find('\n', pos);
    if (end == std::string::npos) end = diff.size();
    std::string_view l(diff.data() + pos, end - pos);
    if (l.starts_with("diff --git a/")) {
      std::string_view rest = l.substr(13);
      std::string path(rest.substr(0, rest.find(" b/")));
      cur = &out[path];
      cur->status = "modified";
    } else if (cur != nullptr && l.starts_with("new file mode")) {
      cur->status = "added";
    } else if (cur != nullptr && l.starts_with("deleted file mode")) {
      cur->status = "deleted";
    } else if (cur != nullptr && l.starts_with("+") && !l.starts_with("+++ ")) {
      ++cur->added;
    } else if (cur != nullptr && l.starts_with("-") && !l.starts_with("--- ")) {
      ++cur->removed;
    }
    pos = end + 1;
  }
  return out;
}

// The first divergence of a replay and how many there are.
void WriteDivergenceSection(const std::vector<query::Divergence>& ds, const std::string& run,
                            std::FILE* out) {
  const query::Divergence& d = ds.front();
  std::fprintf(out, "\nDivergence: %zu request%s did not match the recording%s\n", ds.size(),
               ds.size() == 1 ? "" : "s", d.original.empty() ? "" : (" of " + d.original).c_str());
  std::string closest = "none";
  if (d.closest.is_object()) {
    const query::Json& c = d.closest;
    closest = "call " + (c.contains("call_id") ? c["call_id"].dump() : std::string("?")) +
              " at position " + (c.contains("position") ? c["position"].dump() : "?") +
              ", LSN " + (c.contains("lsn") ? c["lsn"].dump() : "?");
  }
  std::fprintf(out, "  first at position %lld (LSN %llu): %s; closest recorded: %s\n",
               static_cast<long long>(d.position), static_cast<unsigned long long>(d.lsn),
               d.reason.c_str(), closest.c_str());
  size_t shown = 0;
  for (const auto& x : d.differences) {
    if (!x.is_object()) continue;
    if (++shown > 5) {
      std::fprintf(out, "    … %zu more fields\n", d.differences.size() - 5);
      break;
    }
    auto text = [&](const char* k) {
      if (!x.contains(k)) return std::string("(absent)");
      return OneLine(x[k].is_string() ? x[k].get<std::string>() : x[k].dump(), 100);
    };
    std::fprintf(out, "    %s\n      recorded: %s\n      actual:   %s\n",
                 x.contains("path") && x["path"].is_string()
                     ? x["path"].get<std::string>().c_str()
                     : "?",
                 text("recorded").c_str(), text("actual").c_str());
  }
  std::fprintf(out, "  all of them: tink shell -c 'divergence %s'\n", run.c_str());
}

}  // namespace

Status WriteReport(engine::Engine& eng, const ReportRequest& f, std::FILE* out) {
  auto at = ParseAsOf(f.as_of);
  if (!at.ok()) return at.status().WithContext("--as-of");
  auto reader = eng.NewReader();
  if (!reader.ok()) return reader.status();
  projections::SchedulerReader sched(**reader);
  projections::CanvasReader canvas(**reader);
  auto lsn = sched.Resolve(*at);
  if (!lsn.ok()) return lsn.status();

  std::string run_id = f.run;
  if (run_id.empty()) {
    // The most recent failed run, else the most recent run.
    auto runs = sched.ListRuns(*lsn);
    if (!runs.ok()) return runs.status();
    const projections::RunInfo* pick = nullptr;
    for (const auto& r : *runs) {
      if (r.status == "failed" && (pick == nullptr || r.started_lsn > pick->started_lsn)) pick = &r;
    }
    for (const auto& r : *runs) {
      if (pick == nullptr || (pick->status != "failed" && r.started_lsn > pick->started_lsn)) pick = &r;
    }
    if (pick == nullptr) return Status::NotFound("the store has no runs");
    run_id = pick->id;
  }
  auto run = sched.GetRun(run_id, *lsn);
  if (!run.ok()) return run.status();
  if (!*run) {
    return Status::NotFound("no run '" + run_id + "' as of LSN " + std::to_string(*lsn) +
                            " (tink tasks --runs lists them)");
  }
  const projections::RunInfo& ri = **run;
  auto tasks = sched.ListTasks(run_id, *lsn);
  if (!tasks.ok()) return tasks.status();

  // One pass over the run's events (the run index): the task of the run, tool calls and failed
  // results, and the recording's final patch.
  std::string instruction, final_patch, replay_of;
  std::vector<std::string> warnings;
  uint64_t first_lsn = 0, last_lsn = 0, events = 0;
  int64_t first_ns = 0, last_ns = 0;
  std::map<std::string, std::string> calls;  // task/call_id -> "tool: args"
  std::vector<ToolFailure> failures;
  uint64_t tool_results = 0;
  // The run's memory events (docs/import.md "Memory"): assertions, and nodes by label.
  uint64_t mem_nodes = 0, mem_edges = 0;
  std::map<std::string, uint64_t> mem_labels;
  Status bad;
  engine::LogQuery q;
  q.run = run_id;
  q.to = *lsn;
  Status scan = eng.Scan(q, [&](const log::LogRecord& rec) {
    auto js = schema::EventToJson(rec.lsn, rec.time_ns, rec.payload);
    if (!js.ok()) {
      bad = js.status();
      return false;
    }
    json e = json::parse(*js, nullptr, false);
    if (e.is_discarded()) return true;
    ++events;
    if (first_lsn == 0) first_lsn = rec.lsn;
    last_lsn = rec.lsn;
    int64_t when = rec.time_ns;
    if (e.contains("occurred")) {
      auto t = schema::ParseTime(e["occurred"].get<std::string>());
      if (t.ok()) when = *t;
    }
    if (first_ns == 0 || (when != 0 && when < first_ns)) first_ns = when;
    last_ns = std::max(last_ns, when);
    const std::string type = e.value("type", "");
    const json& d = e["data"];
    if (type == "run.started") {
      instruction = d.value("task", "");
      if (d.contains("meta") && d["meta"].is_object() && d["meta"].contains("replay_of") &&
          d["meta"]["replay_of"].is_string()) {
        replay_of = d["meta"]["replay_of"].get<std::string>();
      }
    } else if (type == "tool.call") {
      std::string args = d.contains("args") ? (d["args"].is_object() && d["args"].contains("command")
                                                   ? d["args"]["command"].dump()
                                                   : d["args"].dump())
                                            : "";
      if (d.contains("args") && d["args"].is_object() && d["args"].contains("command") &&
          d["args"]["command"].is_string()) {
        args = d["args"]["command"].get<std::string>();
        if (d["args"].contains("path") && d["args"]["path"].is_string()) {
          std::string path = d["args"]["path"].get<std::string>();
          size_t slash = path.find_last_of('/');
          args += " " + (slash == std::string::npos ? path : path.substr(slash + 1));
        }
      }
      calls[d.value("task", "") + "/" + d.value("call_id", "")] = args;
    } else if (type == "tool.result") {
      ++tool_results;
      bool failed = (d.contains("ok") && d["ok"].is_boolean() && !d["ok"].get<bool>()) ||
                    (d.contains("exit_code") && d["exit_code"].is_number() && d["exit_code"].get<int64_t>() != 0) ||
                    (d.contains("error") && d["error"].is_string() && !d["error"].get<std::string>().empty());
      if (failed) {
        ToolFailure tf;
        tf.lsn = rec.lsn;
        tf.task = d.value("task", "");
        tf.tool = d.value("tool", "");
        tf.call = calls[tf.task + "/" + d.value("call_id", "")];
        if (d.contains("exit_code") && d["exit_code"].is_number()) tf.exit_code = d["exit_code"].get<int64_t>();
        std::string err = d.value("error", "");
        tf.error = err.empty() ? LastLine(d.value("output", ""), 110) : OneLine(err, 110);
        failures.push_back(std::move(tf));
      }
    } else if (type == "memory.node") {
      ++mem_nodes;
      if (d.contains("labels") && d["labels"].is_array()) {
        for (const json& l : d["labels"]) {
          if (l.is_string()) ++mem_labels[l.get<std::string>()];
        }
      }
    } else if (type == "memory.edge") {
      ++mem_edges;
    } else if (type == "note" && d.value("kind", "") == "final_patch") {
      final_patch = d.value("text", "");
    } else if (type == "note" && d.value("kind", "") == "import_warning") {
      warnings.push_back(d.value("text", ""));
    }
    return true;
  });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  // A replay's divergences from its recording (docs/replay.md).
  auto divergences = query::ReadDivergences(&eng, run_id, nullptr, *lsn);
  if (!divergences.ok()) return divergences.status();

  // Files: the canvas from its base to this point.
  auto canvas_head = canvas.Resolve(*at);
  if (!canvas_head.ok()) return canvas_head.status();
  auto base = canvas.BasePoint(run_id, *canvas_head);
  if (!base.ok()) return base.status();
  auto diff = canvas.Diff(run_id, *base, *canvas_head);
  if (!diff.ok()) return diff.status();
  auto stat = DiffStat(*diff);
  auto changes = canvas.Changes(run_id, *base, *canvas_head);
  if (!changes.ok()) return changes.status();
  for (const auto& c : *changes) {
    if (stat.contains(c.path)) ++stat[c.path].events;
    if (!c.to.empty() && stat.contains(c.to)) ++stat[c.to].events;
  }
  auto anomalies = canvas.Anomalies(run_id, *canvas_head);
  if (!anomalies.ok()) return anomalies.status();
  std::optional<PatchDifference> patch_check;
  if (!final_patch.empty()) {
    patch_check = ComparePatches(ParsePatch(NormalizePatch(final_patch)),
                                 ParsePatch(NormalizePatch(*diff)));
  }

  int counts[8] = {};
  for (const auto& t : *tasks) ++counts[static_cast<int>(t.status)];

  if (f.json) {
    ordered_json report;
    report["run"] = run_id;
    report["name"] = ri.name;
    report["agent"] = ri.agent;
    report["model"] = ri.model;
    report["status"] = ri.status;
    report["error"] = ri.error;
    report["events"] = events;
    report["first_lsn"] = first_lsn;
    report["last_lsn"] = last_lsn;
    report["started"] = first_ns ? schema::FormatTime(first_ns) : "";
    report["ended"] = last_ns ? schema::FormatTime(last_ns) : "";
    ordered_json tc;
    for (int s = 1; s < 8; ++s) {
      if (counts[s] > 0) tc[std::string(projections::TaskStatusName(static_cast<projections::TaskStatus>(s)))] = counts[s];
    }
    report["tasks"] = tc;
    report["tool_results"] = tool_results;
    ordered_json fl = ordered_json::array();
    for (const auto& tf : failures) {
      ordered_json j;
      j["lsn"] = tf.lsn;
      j["task"] = tf.task;
      j["tool"] = tf.tool;
      j["call"] = tf.call;
      if (tf.exit_code) j["exit_code"] = *tf.exit_code;
      j["error"] = tf.error;
      fl.push_back(j);
    }
    report["failed_tool_calls"] = fl;
    ordered_json files = ordered_json::array();
    for (const auto& [path, s] : stat) {
      files.push_back({{"path", path}, {"status", s.status}, {"added", s.added},
                       {"removed", s.removed}, {"events", s.events}});
    }
    report["files"] = files;
    report["canvas_anomalies"] = anomalies->size();
    report["memory"] = {{"nodes", mem_nodes}, {"edges", mem_edges}, {"labels", mem_labels}};
    report["import_warnings"] = warnings;
    report["replay_of"] = replay_of;
    report["divergences"] = divergences->size();
    report["first_divergence"] =
        divergences->empty() ? ordered_json() : query::DivergenceJson(divergences->front());
    if (patch_check) {
      report["final_patch"] = patch_check->equal ? "matches the canvas" : "differs from the canvas";
      if (!patch_check->equal) {
        report["final_patch_difference"] = {{"path", patch_check->path}, {"what", patch_check->what},
                                         {"expected", patch_check->expected_line},
                                         {"canvas", patch_check->actual_line}};
      }
    }
    std::fprintf(out, "%s\n", report.dump(2).c_str());
    return Status::Ok();
  }

  std::fprintf(out, "Run %s: %s\n", run_id.c_str(), ri.status.c_str());
  std::fprintf(out, "  agent %s%s%s\n", ri.agent.empty() ? "?" : ri.agent.c_str(),
              ri.model.empty() ? "" : ", model ", ri.model.c_str());
  if (!instruction.empty()) {
    // The first line that says something (recordings often open with markup such as
    // "<uploaded_files>").
    std::string_view rest = instruction;
    std::string line;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view l = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      line = OneLine(l, 100);
      if (!line.empty() && line[0] != '<' && line[0] != '/' && line[0] != '#') break;
      line.clear();
    }
    std::fprintf(out, "  task   %s\n", (line.empty() ? OneLine(instruction, 100) : line).c_str());
  }
  std::fprintf(out, "  events %llu (LSN %llu..%llu)", static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(first_lsn), static_cast<unsigned long long>(last_lsn));
  if (first_ns != 0) {
    std::fprintf(out, ", %s .. %s", schema::FormatTime(first_ns).substr(0, 19).c_str(),
                schema::FormatTime(last_ns).substr(0, 19).c_str());
  }
  std::fprintf(out, "\n");
  if (!ri.error.empty()) std::fprintf(out, "  error  %s\n", OneLine(ri.error, 110).c_str());
  if (!replay_of.empty()) std::fprintf(out, "  Replay of %s\n", replay_of.c_str());

  std::fprintf(out, "\nTasks: %zu (", tasks->size());
  bool first = true;
  for (int s = 1; s < 8; ++s) {
    if (counts[s] == 0) continue;
    std::fprintf(out, "%s%d %s", first ? "" : ", ", counts[s],
                std::string(projections::TaskStatusName(static_cast<projections::TaskStatus>(s))).c_str());
    first = false;
  }
  std::fprintf(out, ")\n");

  std::fprintf(out, "\nFailed tool calls: %zu of %llu\n", failures.size(),
              static_cast<unsigned long long>(tool_results));
  for (size_t i = 0; i < failures.size() && i < f.max_failures; ++i) {
    const ToolFailure& tf = failures[i];
    std::string code = tf.exit_code ? "exit " + std::to_string(*tf.exit_code) : "error";
    std::fprintf(out, "  LSN %-6llu task %-8.8s %-8.8s %-38.38s %s\n", static_cast<unsigned long long>(tf.lsn),
                tf.task.c_str(), code.c_str(), OneLine(tf.call, 38).c_str(), tf.error.c_str());
  }
  if (failures.size() > f.max_failures) {
    std::fprintf(out, "  … %zu more: tink log --run %s --type tool.result\n",
                failures.size() - f.max_failures, run_id.c_str());
  }

  std::fprintf(out, "\nFiles changed (canvas, base LSN %llu -> %llu): %zu\n",
              static_cast<unsigned long long>(*base), static_cast<unsigned long long>(*canvas_head),
              stat.size());
  for (const auto& [path, s] : stat) {
    std::fprintf(out, "  %-8s %-50s +%d -%d  (%d event%s)\n", s.status.c_str(), path.c_str(), s.added,
                s.removed, s.events, s.events == 1 ? "" : "s");
  }
  if (mem_nodes + mem_edges > 0) {
    std::string labels;
    for (const auto& [l, n] : mem_labels) {
      labels += (labels.empty() ? "" : ", ") + std::to_string(n) + " " + l;
    }
    std::fprintf(out, "\nMemory: %llu nodes (%s), %llu edges asserted by the run\n",
                static_cast<unsigned long long>(mem_nodes), labels.c_str(),
                static_cast<unsigned long long>(mem_edges));
  }
  if (!anomalies->empty()) {
    std::fprintf(out, "\nCanvas anomalies: %zu\n", anomalies->size());
    for (const auto& a : *anomalies) {
      std::fprintf(out, "  LSN %-6llu %-12s %s: %s\n", static_cast<unsigned long long>(a.lsn),
                  a.type.c_str(), a.path.c_str(), OneLine(a.reason, 80).c_str());
    }
  }
  if (patch_check) {
    if (patch_check->equal) {
      std::fprintf(out, "\nThe recording's final patch matches the canvas.\n");
    } else {
      std::fprintf(out, "\nThe recording's final patch DIFFERS from the canvas at %s: %s\n",
                  patch_check->path.c_str(), patch_check->what.c_str());
      if (!patch_check->expected_line.empty() || !patch_check->actual_line.empty()) {
        std::fprintf(out, "  recorded: %s\n  canvas:   %s\n", patch_check->expected_line.c_str(),
                    patch_check->actual_line.c_str());
      }
      std::fprintf(out, "  (a change no file event records, e.g. a shell command such as sed -i)\n");
    }
  }
  if (!divergences->empty()) WriteDivergenceSection(*divergences, run_id, out);
  if (!warnings.empty()) {
    std::fprintf(out, "\nNot replayed at import (the recording changed files in ways no event records):\n");
    for (const std::string& w : warnings) std::fprintf(out, "  %s\n", OneLine(w, 120).c_str());
  }
  std::fprintf(out, "\nDig further:\n");
  std::fprintf(out, "  tink tasks --run %s\n", run_id.c_str());
  std::fprintf(out, "  tink log --run %s --type tool.result\n", run_id.c_str());
  std::fprintf(out, "  tink canvas diff --run %s\n", run_id.c_str());
  if (!stat.empty()) {
    std::fprintf(out, "  tink canvas blame --run %s %s\n", run_id.c_str(), stat.begin()->first.c_str());
  }
  std::fprintf(out, "  tink canvas git --run %s --out /tmp/%s.git   # then git log -p\n", run_id.c_str(),
              run_id.c_str());
  if (mem_nodes > 0) {
    std::fprintf(out, "  tink memory neighbors run:%s --depth 2 --label File   # who changed what\n",
                run_id.c_str());
  }
  return Status::Ok();
}

Status WriteReport(engine::Engine& eng, const std::string& run, bool json, std::FILE* out) {
  ReportRequest r;
  r.run = run;
  r.json = json;
  return WriteReport(eng, r, out);
}

}  // namespace tink::cli
