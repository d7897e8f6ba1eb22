// tink runs: list the runs, and compare two of them (shell/query/runs.h; docs/shell.md
// "tink runs"). Local stores only (opened read-only, so it works beside a running daemon); over a
// daemon, `tink shell --server URL -c 'diff A B'` runs the same comparison there.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "projections/scheduler.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"
#include "shell/query/runs.h"

namespace tink::cli {
namespace {

struct RunsFlags {
  std::string a, b;
  bool json = false;
};

int Diff(const GlobalOptions& global, const RunsFlags& f) {
  auto eng = OpenForReading("runs diff", global.StorePath());
  if (!eng.ok()) return Fail("runs diff", eng.status());
  auto reader = (*eng)->NewReader();
  if (!reader.ok()) return Fail("runs diff", reader.status());
  auto d = query::DiffRuns(eng->get(), reader->get(), f.a, f.b, nullptr);
  if (!d.ok()) return Fail("runs diff", d.status());
  if (f.json) {
    std::printf("%s\n", query::RunsDiffJson(*d).dump(2).c_str());
  } else {
    const std::string text = query::RunsDiffText(*d);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return 0;
}

int List(const GlobalOptions& global, const RunsFlags& f) {
  auto eng = OpenForReading("runs list", global.StorePath());
  if (!eng.ok()) return Fail("runs list", eng.status());
  auto reader = (*eng)->NewReader();
  if (!reader.ok()) return Fail("runs list", reader.status());
  projections::SchedulerReader sched(**reader);
  auto runs = sched.ListRuns(sched.head());
  if (!runs.ok()) return Fail("runs list", runs.status());
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  if (!f.json) {
    std::printf("%-32s %-20s %-10s %7s %5s %5s %5s  %s\n", "RUN", "STARTED", "STATUS", "EVENTS",
                "TASKS", "LLM", "TOOL", "NAME");
  }
  for (const projections::RunInfo& r : *runs) {
    auto c = query::CountRunEvents(eng->get(), r.id, nullptr);
    if (!c.ok()) return Fail("runs list", c.status());
    auto replay_of = query::ReplayOf(eng->get(), r.id, nullptr);
    if (!replay_of.ok()) return Fail("runs list", replay_of.status());
    const int64_t started = r.started_ns != 0 ? r.started_ns : c->first_ns;
    const std::string when = started != 0 ? schema::FormatTime(started) : "";
    if (f.json) {
      nlohmann::ordered_json j;
      j["run"] = r.id;
      j["name"] = r.name;
      j["agent"] = r.agent;
      j["status"] = r.status;
      j["started"] = when;
      j["events"] = c->events;
      j["tasks"] = r.tasks;
      j["llm_calls"] = c->llm_calls;
      j["tool_calls"] = c->tool_calls;
      j["replay_of"] = *replay_of;
      j["divergences"] = c->divergences;
      array.push_back(std::move(j));
    } else {
      std::string name = r.name;
      if (!replay_of->empty()) name += " (replay of " + *replay_of + ")";
      std::printf("%-32.32s %-20.20s %-10s %7llu %5d %5llu %5llu  %s\n", r.id.c_str(),
                  when.substr(0, 19).c_str(), r.status.c_str(),
                  static_cast<unsigned long long>(c->events), r.tasks,
                  static_cast<unsigned long long>(c->llm_calls),
                  static_cast<unsigned long long>(c->tool_calls), name.c_str());
    }
  }
  if (f.json) std::printf("%s\n", array.dump().c_str());
  return 0;
}

}  // namespace

void SetupRuns(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<RunsFlags>();
  AddStoreOption(cmd, global);
  cmd->require_subcommand(1);
  cmd->footer(
      "Exit codes: 0 ok (also when the runs differ), 1 usage, 2 unknown run, 3 corruption, 4 I/O. "
      "No --server: over a daemon use tink shell --server URL -c 'diff A B'.");
  CLI::App* diff = cmd->add_subcommand(
      "diff",
      "Two runs side by side: headers, task trees, llm and tool calls aligned, the first "
      "divergence, the files each changed");
  AddStoreOption(diff, global);
  diff->add_option("a", f->a, "Run A")->required();
  diff->add_option("b", f->b, "Run B")->required();
  diff->add_flag("--json", f->json, "One JSON object (docs/replay.md lists its keys)");
  CLI::App* list = cmd->add_subcommand(
      "list", "Runs with start time, status, event, task, llm and tool call counts");
  AddStoreOption(list, global);
  list->add_flag("--json", f->json,
                 "One JSON array of {run, name, agent, status, started, events, tasks, "
                 "llm_calls, tool_calls, replay_of, divergences}");
  *run = [global, f, diff, list]() -> int {
    if (diff->parsed()) return Diff(*global, *f);
    if (list->parsed()) return List(*global, *f);
    return static_cast<int>(Exit::kUsage);
  };
}

}  // namespace tink::cli
