// WriteTasks (views.h): the scheduler projection as of any point — tasks, one task's history,
// runs, anomalies — as `tink tasks` prints it.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "projections/scheduler.h"
#include "schema/schema.h"
#include "shell/cli/common.h"
#include "shell/cli/views.h"

namespace tink::cli {
namespace {

using projections::Task;

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

void PrintTaskLine(const Task& t, std::FILE* out) {
  std::fprintf(out, "%-20.20s %-12.12s %-10s %3d %4d %7llu %-12.12s %-24.24s %s\n", t.run.c_str(),
               t.id.c_str(), std::string(projections::TaskStatusName(t.status)).c_str(), t.attempts,
               t.priority, static_cast<unsigned long long>(t.version), t.parent.c_str(),
               t.name.c_str(), t.error.c_str());
}

std::optional<std::string> RunFilter(const std::string& run) {
  return run.empty() ? std::nullopt : std::optional<std::string>(run);
}

}  // namespace

Status CheckTasksRequest(const TasksRequest& r) {
  auto at = ParseAsOf(r.as_of);
  if (!at.ok()) return at.status().WithContext("--as-of");
  if (r.history && (r.task.empty() || r.run.empty())) {
    return Status::InvalidArgument("--history needs --run and --task");
  }
  return Status::Ok();
}

Status WriteTasks(engine::Engine& eng, const TasksRequest& r, std::FILE* out) {
  RETURN_IF_ERROR(CheckTasksRequest(r));
  auto at = ParseAsOf(r.as_of);
  if (!at.ok()) return at.status();
  ASSIGN_OR_RETURN(auto reader, eng.NewReader());
  projections::SchedulerReader sched(*reader);
  ASSIGN_OR_RETURN(uint64_t lsn, sched.Resolve(*at));
  nlohmann::ordered_json array = nlohmann::ordered_json::array();

  if (r.runs) {
    ASSIGN_OR_RETURN(auto runs, sched.ListRuns(lsn));
    if (!r.json) {
      std::fprintf(out, "%-32s %-10s %5s %6s %6s %9s  %s\n", "RUN", "STATUS", "TASKS", "FAILED",
                   "ANOMS", "LSN", "NAME");
    }
    for (const auto& run : runs) {
      if (!r.run.empty() && run.id != r.run) continue;
      const int failed = run.counts[static_cast<int>(projections::TaskStatus::kFailed)];
      if (r.json) {
        nlohmann::ordered_json j;
        j["run"] = run.id;
        j["status"] = run.status;
        j["name"] = run.name;
        j["agent"] = run.agent;
        j["tasks"] = run.tasks;
        j["failed"] = failed;
        j["anomalies"] = run.anomalies;
        j["started_lsn"] = run.started_lsn;
        j["finished_lsn"] = run.finished_lsn;
        j["error"] = run.error;
        array.push_back(j);
      } else {
        std::fprintf(out, "%-32.32s %-10s %5d %6d %6d %9llu  %s\n", run.id.c_str(),
                     run.status.c_str(), run.tasks, failed, run.anomalies,
                     static_cast<unsigned long long>(run.version), run.name.c_str());
      }
    }
  } else if (r.anomalies) {
    ASSIGN_OR_RETURN(auto anomalies, sched.Anomalies(RunFilter(r.run), lsn));
    for (const auto& a : anomalies) {
      if (r.json) {
        nlohmann::ordered_json j;
        j["lsn"] = a.lsn;
        j["run"] = a.run;
        j["task"] = a.task;
        j["type"] = a.event_type;
        j["from"] = std::string(projections::TaskStatusName(a.from));
        j["to"] = std::string(projections::TaskStatusName(a.to));
        j["reason"] = a.reason;
        array.push_back(j);
      } else {
        std::fprintf(out, "%-7llu %-20.20s %-12.12s %-16s %s\n",
                     static_cast<unsigned long long>(a.lsn), a.run.c_str(), a.task.c_str(),
                     a.event_type.c_str(), a.reason.c_str());
      }
    }
  } else {
    std::vector<Task> tasks;
    if (r.history) {
      ASSIGN_OR_RETURN(tasks, sched.TaskHistory(r.run, r.task, 0, lsn));
    } else if (!r.task.empty()) {
      ASSIGN_OR_RETURN(std::optional<Task> one, sched.GetTask(r.run, r.task, lsn));
      if (!one) {
        return Status::NotFound("no task '" + r.task + "' in run '" + r.run + "' as of LSN " +
                                std::to_string(lsn));
      }
      tasks.push_back(std::move(*one));
    } else {
      ASSIGN_OR_RETURN(tasks, sched.ListTasks(RunFilter(r.run), lsn));
    }
    if (!r.json) {
      std::fprintf(out, "%-20s %-12s %-10s %3s %4s %7s %-12s %-24s %s\n", "RUN", "TASK", "STATE",
                   "TRY", "PRIO", "LSN", "PARENT", "NAME", "ERROR");
    }
    for (const Task& t : tasks) {
      if (r.json) {
        array.push_back(TaskJson(t));
      } else {
        PrintTaskLine(t, out);
      }
    }
  }
  if (r.json) {
    std::fprintf(out, "%s\n", array.dump().c_str());
  } else if (r.tty) {
    // Honest about staleness: the state answers up to what it has applied, which lags a writer
    // by up to about a second (its periodic flush), or more if a writer stopped without one.
    const log::Lsn applied = reader->applied("scheduler");
    const log::Lsn logged = eng.log().LastLsn();
    if (lsn == applied && applied < logged) {
      std::fprintf(out, "(as of LSN %llu; the log has %llu)\n", static_cast<unsigned long long>(lsn),
                   static_cast<unsigned long long>(logged));
    } else {
      std::fprintf(out, "(as of LSN %llu)\n", static_cast<unsigned long long>(lsn));
    }
  }
  return Status::Ok();
}

}  // namespace tink::cli
