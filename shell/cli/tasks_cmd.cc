// tink tasks: the scheduler projection as of any point (tasks, one task's history, runs,
// anomalies). The query shell (tink shell) will offer the same through its language; this is
// the direct view.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/cli/commands.h"
#include "shell/cli/common.h"

namespace tink::cli {
namespace {

using projections::Task;

struct TasksFlags {
  std::string run, task, as_of;
  bool history = false, runs = false, anomalies = false, json = false;
};

nlohmann::ordered_json TaskJson(const Task& t) {
  nlohmann::ordered_json j;
  j["run"] = t.run;
  j["task"] = t.id;
  j["parent"] = t.parent;
  j["name"] = t.name;
  j["state"] = std::string(projections::TaskStatusName(t.status));
  j["priority"] = t.priority;
  j["attempts"] = t.attempts;
  j["waiting_on"] = t.waiting_on;
  j["error"] = t.error;
  j["created_lsn"] = t.created_lsn;
  j["started_lsn"] = t.started_lsn;
  j["finished_lsn"] = t.finished_lsn;
  j["created"] = t.created_ns ? schema::FormatTime(t.created_ns) : "";
  j["finished"] = t.finished_ns ? schema::FormatTime(t.finished_ns) : "";
  j["duration_ms"] = static_cast<double>(t.duration_ns()) / 1e6;
  j["running_ms"] = static_cast<double>(t.running_total_ns) / 1e6;
  j["waiting_ms"] = static_cast<double>(t.waiting_total_ns) / 1e6;
  j["llm_calls"] = t.llm_calls;
  j["tool_calls"] = t.tool_calls;
  j["tool_errors"] = t.tool_errors;
  j["anomalies"] = t.anomalies;
  j["version"] = t.version;
  j["last_event"] = t.last_event_type;
  return j;
}

void PrintTaskLine(const Task& t) {
  std::printf("%-20.20s %-12.12s %-10s %3d %4d %7llu %-12.12s %-24.24s %s\n", t.run.c_str(),
              t.id.c_str(), std::string(projections::TaskStatusName(t.status)).c_str(),
              t.attempts, t.priority, static_cast<unsigned long long>(t.version),
              t.parent.c_str(), t.name.c_str(), t.error.c_str());
}

int Run(const GlobalOptions& global, const TasksFlags& f) {
  auto at = ParseAsOf(f.as_of);
  if (!at.ok()) return Fail("tasks", at.status().WithContext("--as-of"));
  if (f.history && (f.task.empty() || f.run.empty())) {
    return Fail("tasks", Status::InvalidArgument("--history needs --run and --task"));
  }
  auto eng = OpenForReading("tasks", global.StorePath());
  if (!eng.ok()) return Fail("tasks", eng.status());
  auto reader = (*eng)->NewReader();
  if (!reader.ok()) return Fail("tasks", reader.status());
  projections::SchedulerReader sched(**reader);
  auto lsn = sched.Resolve(*at);
  if (!lsn.ok()) return Fail("tasks", lsn.status());
  nlohmann::ordered_json out = nlohmann::ordered_json::array();

  if (f.runs) {
    auto runs = sched.ListRuns(*lsn);
    if (!runs.ok()) return Fail("tasks", runs.status());
    if (!f.json) std::printf("%-32s %-10s %5s %6s %6s %9s  %s\n", "RUN", "STATUS", "TASKS", "FAILED", "ANOMS", "LSN", "NAME");
    for (const auto& r : *runs) {
      if (!f.run.empty() && r.id != f.run) continue;
      const int failed = r.counts[static_cast<int>(projections::TaskStatus::kFailed)];
      if (f.json) {
        nlohmann::ordered_json j;
        j["run"] = r.id;
        j["status"] = r.status;
        j["name"] = r.name;
        j["agent"] = r.agent;
        j["tasks"] = r.tasks;
        j["failed"] = failed;
        j["anomalies"] = r.anomalies;
        j["started_lsn"] = r.started_lsn;
        j["finished_lsn"] = r.finished_lsn;
        j["error"] = r.error;
        out.push_back(j);
      } else {
        std::printf("%-32.32s %-10s %5d %6d %6d %9llu  %s\n", r.id.c_str(), r.status.c_str(),
                    r.tasks, failed, r.anomalies, static_cast<unsigned long long>(r.version),
                    r.name.c_str());
      }
    }
  } else if (f.anomalies) {
    auto an = sched.Anomalies(f.run.empty() ? std::nullopt : std::optional<std::string>(f.run), *lsn);
    if (!an.ok()) return Fail("tasks", an.status());
    for (const auto& a : *an) {
      if (f.json) {
        nlohmann::ordered_json j;
        j["lsn"] = a.lsn;
        j["run"] = a.run;
        j["task"] = a.task;
        j["type"] = a.event_type;
        j["from"] = std::string(projections::TaskStatusName(a.from));
        j["to"] = std::string(projections::TaskStatusName(a.to));
        j["reason"] = a.reason;
        out.push_back(j);
      } else {
        std::printf("%-7llu %-20.20s %-12.12s %-16s %s\n", static_cast<unsigned long long>(a.lsn),
                    a.run.c_str(), a.task.c_str(), a.event_type.c_str(), a.reason.c_str());
      }
    }
  } else {
    Result<std::vector<Task>> tasks = std::vector<Task>();
    if (f.history) {
      tasks = sched.TaskHistory(f.run, f.task, 0, *lsn);
    } else if (!f.task.empty()) {
      auto one = sched.GetTask(f.run, f.task, *lsn);
      if (!one.ok()) return Fail("tasks", one.status());
      if (!*one) {
        return Fail("tasks", Status::NotFound("no task '" + f.task + "' in run '" + f.run +
                                              "' as of LSN " + std::to_string(*lsn)));
      }
      tasks = std::vector<Task>{**one};
    } else {
      tasks = sched.ListTasks(f.run.empty() ? std::nullopt : std::optional<std::string>(f.run), *lsn);
    }
    if (!tasks.ok()) return Fail("tasks", tasks.status());
    if (!f.json) {
      std::printf("%-20s %-12s %-10s %3s %4s %7s %-12s %-24s %s\n", "RUN", "TASK", "STATE", "TRY",
                  "PRIO", "LSN", "PARENT", "NAME", "ERROR");
    }
    for (const Task& t : *tasks) {
      if (f.json) {
        out.push_back(TaskJson(t));
      } else {
        PrintTaskLine(t);
      }
    }
  }
  if (f.json) {
    std::printf("%s\n", out.dump().c_str());
  } else if (::isatty(1)) {
    // Honest about staleness: the state answers up to what it has applied, which lags a writer
    // by up to about a second (its periodic flush), or more if a writer stopped without one.
    const log::Lsn applied = (*reader)->applied("scheduler");
    const log::Lsn logged = (*eng)->log().LastLsn();
    if (*lsn == applied && applied < logged) {
      std::printf("(as of LSN %llu; the log has %llu)\n", static_cast<unsigned long long>(*lsn),
                  static_cast<unsigned long long>(logged));
    } else {
      std::printf("(as of LSN %llu)\n", static_cast<unsigned long long>(*lsn));
    }
  }
  return 0;
}

}  // namespace

void SetupTasks(CLI::App* cmd, GlobalOptions* global, RunFn* run) {
  auto f = std::make_shared<TasksFlags>();
  AddStoreOption(cmd, global);
  cmd->add_option("--run", f->run, "Only this run");
  cmd->add_option("--task", f->task, "One task (with --run)");
  cmd->add_option("--as-of", f->as_of,
                  "An LSN, an ISO 8601 time (the last event recorded at or before it), or now "
                  "(default)");
  cmd->add_flag("--history", f->history, "Every version of --task up to --as-of, oldest first");
  cmd->add_flag("--runs", f->runs, "Runs with their status and task counts instead of tasks");
  cmd->add_flag("--anomalies", f->anomalies,
                "Illegal transitions and events for unknown tasks, in LSN order");
  cmd->add_flag("--json", f->json, "One JSON array");
  cmd->footer("Times in --json are event times (the source's `occurred` when it has one).");
  *run = [global, f] { return Run(*global, *f); };
}

}  // namespace tink::cli
