// The scheduler projection: tasks and runs derived from task.* and run.* events (DESIGN.md §5),
// with the state machine enforced. docs/scheduler.md documents states and transitions.
//
//   created -> ready -> running -> ready (task.yielded) | waiting (task.waiting) |
//                                  succeeded | failed | cancelled
//   waiting -> ready (task.resumed or task.ready);  failed -> ready (task.retried);
//   created | ready | running | waiting -> cancelled.
//
// An event the machine does not allow is recorded as an Anomaly (lsn, run, task, from, to,
// reason) and never stops the projection. A transition from the wrong state is still applied
// (the log is the record: if it says the task succeeded, it did), flagged by its anomaly; an
// event for an unknown task, or a second task.created, changes nothing but the anomaly list.
//
// Keys in the "scheduler" column family (values: projections/scheduler.fbs):
//   'T' ostr(run) ostr(task) BE64(~lsn) -> TaskState    one version per change
//   'R' ostr(run) BE64(~lsn)            -> RunState     one version per change
//   'A' BE64(lsn) BE64(seq)             -> Anomaly      append-only
//
// Thread safety: as Projection; SchedulerReader as StateReader (one thread).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "projections/reader.h"

namespace tink::state {
struct TaskStateT;
struct RunStateT;
}  // namespace tink::state

namespace tink::projections {

enum class TaskStatus { kNone = 0, kCreated, kReady, kRunning, kWaiting, kSucceeded, kFailed, kCancelled };
std::string_view TaskStatusName(TaskStatus s);  // "created", ... ("" for kNone)

struct Task {
  std::string run, id, parent, name;
  int priority = 0;
  TaskStatus status = TaskStatus::kNone;
  int attempts = 0;
  std::string wait_kind, waiting_on, error;
  Lsn created_lsn = 0, started_lsn = 0, finished_lsn = 0, ready_lsn = 0;
  int64_t created_ns = 0, started_ns = 0, finished_ns = 0, since_ns = 0;
  int64_t ready_total_ns = 0, running_total_ns = 0, waiting_total_ns = 0;
  int llm_calls = 0, tool_calls = 0, tool_errors = 0;
  Lsn last_event_lsn = 0;
  std::string last_event_type;
  int anomalies = 0;
  Lsn version = 0;  // the LSN of this version (== last_event_lsn)
  // finished - created, or 0 while unfinished.
  int64_t duration_ns() const { return finished_ns > created_ns ? finished_ns - created_ns : 0; }
  bool terminal() const {
    return status == TaskStatus::kSucceeded || status == TaskStatus::kFailed ||
           status == TaskStatus::kCancelled;
  }
};

struct Anomaly {
  Lsn lsn = 0;
  std::string run, task, event_type;
  TaskStatus from = TaskStatus::kNone, to = TaskStatus::kNone;
  std::string reason;
};

struct RunInfo {
  std::string id, name, agent, model;
  std::string finished_status, error;
  std::string status;  // finished_status if finished, else derived (see RunStatus)
  Lsn started_lsn = 0, finished_lsn = 0;
  int64_t started_ns = 0, finished_ns = 0;
  int tasks = 0;
  int counts[8] = {};  // per TaskStatus
  int anomalies = 0;
  Lsn version = 0;
};

// The derived status of an unfinished run: "running" while any task is not terminal (or none
// exist yet), else "failed" if any task failed, "cancelled" if all were cancelled, else
// "succeeded".
std::string RunStatus(const RunInfo& r);

class SchedulerProjection final : public Projection {
 public:
  SchedulerProjection();
  ~SchedulerProjection() override;
  std::string_view name() const override { return "scheduler"; }
  uint32_t format_version() const override { return 1; }
  Status Apply(const Event& e, ApplyContext& ctx) override;
  void ResetCache() override;

 private:
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

// The C++ read API the shell uses. All "as of" arguments are LSNs (resolve times with
// StateReader::Resolve); they are clamped to what the scheduler has applied.
class SchedulerReader {
 public:
  explicit SchedulerReader(StateReader& r) : r_(r) {}
  Lsn head() const { return r_.applied("scheduler"); }
  Result<Lsn> Resolve(const AsOf& at) { return r_.Resolve(at, "scheduler"); }

  // Tasks as of `as_of`, of one run (or all runs when run is nullopt), in (run, id) order.
  Result<std::vector<Task>> ListTasks(const std::optional<std::string>& run, Lsn as_of);
  Result<std::optional<Task>> GetTask(std::string_view run, std::string_view task, Lsn as_of);
  // Every version of a task with from <= lsn <= to, oldest first.
  Result<std::vector<Task>> TaskHistory(std::string_view run, std::string_view task, Lsn from,
                                        Lsn to);
  // Tasks of a run that changed in (n1, n2].
  Result<std::vector<std::string>> ChangedTasks(std::string_view run, Lsn n1, Lsn n2);
  // Anomalies with lsn <= as_of, optionally of one run, in LSN order.
  Result<std::vector<Anomaly>> Anomalies(const std::optional<std::string>& run, Lsn as_of);
  Result<std::vector<RunInfo>> ListRuns(Lsn as_of);
  Result<std::optional<RunInfo>> GetRun(std::string_view run, Lsn as_of);
  // Ready tasks of a run by priority (highest first), then FIFO (the LSN they became ready).
  Result<std::vector<Task>> ReadyQueue(std::string_view run, Lsn as_of);
  // The task tree of a run in depth-first order (children by creation LSN) with depths;
  // tasks whose parent is unknown are roots.
  struct TreeNode {
    Task task;
    int depth = 0;
  };
  Result<std::vector<TreeNode>> Tree(std::string_view run, Lsn as_of);

 private:
  StateReader& r_;
};

// Key builders (exposed for tests and benchmarks).
std::string TaskEntity(std::string_view run, std::string_view task);
std::string RunEntity(std::string_view run);

}  // namespace tink::projections
