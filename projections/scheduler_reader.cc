// SchedulerReader: as-of reads of tasks, runs and anomalies (see scheduler.h).
#include <algorithm>
#include <cstring>
#include <map>

#include "projections/scheduler.h"
#include "projections/internal/fb_state.h"
#include "projections/scheduler_generated.h"

namespace tink::projections {

using internal::Pack;
using internal::Unpack;

namespace {

Result<Task> ToTask(const Version& v) {
  state::TaskStateT s;
  RETURN_IF_ERROR((Unpack<state::TaskState>(v.value, &s)));
  Task t;
  t.run = std::move(s.run);
  t.id = std::move(s.id);
  t.parent = std::move(s.parent);
  t.name = std::move(s.name);
  t.priority = s.priority;
  t.status = static_cast<TaskStatus>(s.status);
  t.attempts = s.attempts;
  t.wait_kind = std::move(s.wait_kind);
  t.waiting_on = std::move(s.waiting_on);
  t.error = std::move(s.error);
  t.created_lsn = s.created_lsn;
  t.started_lsn = s.started_lsn;
  t.finished_lsn = s.finished_lsn;
  t.ready_lsn = s.ready_lsn;
  t.created_ns = s.created_ns;
  t.started_ns = s.started_ns;
  t.finished_ns = s.finished_ns;
  t.since_ns = s.since_ns;
  t.ready_total_ns = s.ready_total_ns;
  t.running_total_ns = s.running_total_ns;
  t.waiting_total_ns = s.waiting_total_ns;
  t.llm_calls = s.llm_calls;
  t.tool_calls = s.tool_calls;
  t.tool_errors = s.tool_errors;
  t.last_event_lsn = s.last_event_lsn;
  t.last_event_type = std::move(s.last_event_type);
  t.anomalies = s.anomalies;
  t.version = v.lsn;
  return t;
}

Result<RunInfo> ToRun(const Version& v) {
  state::RunStateT s;
  RETURN_IF_ERROR((Unpack<state::RunState>(v.value, &s)));
  RunInfo r;
  r.id = std::move(s.id);
  r.name = std::move(s.name);
  r.agent = std::move(s.agent);
  r.model = std::move(s.model);
  r.finished_status = std::move(s.finished_status);
  r.error = std::move(s.error);
  r.started_lsn = s.started_lsn;
  r.finished_lsn = s.finished_lsn;
  r.started_ns = s.started_ns;
  r.finished_ns = s.finished_ns;
  r.tasks = s.tasks;
  for (size_t i = 0; i < s.counts.size() && i < 8; ++i) r.counts[i] = s.counts[i];
  r.anomalies = s.anomalies;
  r.version = v.lsn;
  r.status = RunStatus(r);
  return r;
}

// Converts the versions a scan yields, stopping at the first bad value. `scan` is called with
// the per-version callback (ScanAsOf or History).
template <typename T, typename Convert, typename ScanFn>
Result<std::vector<T>> Collect(Convert convert, ScanFn scan) {
  std::vector<T> out;
  Status err;
  RETURN_IF_ERROR(scan([&](const Version& v) {
    Result<T> t = convert(v);
    if (!t.ok()) {
      err = t.status();
      return false;
    }
    out.push_back(std::move(t).value());
    return true;
  }));
  RETURN_IF_ERROR(err);
  return out;
}

template <typename T, typename Convert>
Result<std::vector<T>> CollectAsOf(StateReader& r, std::string_view prefix, Lsn as_of,
                                   Convert convert) {
  return Collect<T>(convert, [&](const auto& each) {
    return r.ScanAsOf("scheduler", prefix, as_of,
                      [&](std::string_view, const Version& v) { return each(v); });
  });
}

}  // namespace

std::string RunStatus(const RunInfo& r) {
  if (!r.finished_status.empty()) return r.finished_status;
  const auto n = [&](TaskStatus s) { return r.counts[static_cast<int>(s)]; };
  const int terminal = n(TaskStatus::kSucceeded) + n(TaskStatus::kFailed) + n(TaskStatus::kCancelled);
  if (r.tasks == 0 || terminal < r.tasks) return "running";
  if (n(TaskStatus::kFailed) > 0) return "failed";
  if (n(TaskStatus::kCancelled) == r.tasks) return "cancelled";
  return "succeeded";
}

Result<std::vector<Task>> SchedulerReader::ListTasks(const std::optional<std::string>& run,
                                                     Lsn as_of) {
  std::string prefix = "T";
  if (run) AppendOrdered(&prefix, *run);
  return CollectAsOf<Task>(r_, prefix, std::min(as_of, head()), ToTask);
}

Result<std::optional<Task>> SchedulerReader::GetTask(std::string_view run, std::string_view task,
                                                     Lsn as_of) {
  ASSIGN_OR_RETURN(std::optional<Version> v,
                   r_.GetAsOf("scheduler", TaskEntity(run, task), std::min(as_of, head())));
  if (!v) return std::optional<Task>();
  ASSIGN_OR_RETURN(Task t, ToTask(*v));
  return std::optional<Task>(std::move(t));
}

Result<std::vector<Task>> SchedulerReader::TaskHistory(std::string_view run, std::string_view task,
                                                       Lsn from, Lsn to) {
  return Collect<Task>(ToTask, [&](const auto& each) {
    return r_.History("scheduler", TaskEntity(run, task), from, std::min(to, head()), each);
  });
}

Result<std::vector<std::string>> SchedulerReader::ChangedTasks(std::string_view run, Lsn n1,
                                                               Lsn n2) {
  std::string prefix = "T";
  AppendOrdered(&prefix, run);
  std::vector<std::string> out;
  RETURN_IF_ERROR(r_.ChangedBetween("scheduler", prefix, n1, std::min(n2, head()),
                                    [&](std::string_view entity) {
                                      std::string_view in = entity.substr(prefix.size());
                                      std::string id;
                                      if (DecodeOrdered(&in, &id)) out.push_back(std::move(id));
                                      return true;
                                    }));
  return out;
}

Result<std::vector<Anomaly>> SchedulerReader::Anomalies(const std::optional<std::string>& run,
                                                        Lsn as_of) {
  std::vector<Anomaly> out;
  const Lsn limit = std::min(as_of, head());
  Status err;
  RETURN_IF_ERROR(r_.Scan("scheduler", "A", "", [&](std::string_view key, std::string_view value) {
    if (DecodeBE64(key.substr(1, 8)) > limit) return false;
    state::AnomalyT a;
    err = Unpack<state::Anomaly>(value, &a);
    if (!err.ok()) return false;
    if (run && a.run != *run) return true;
    out.push_back(Anomaly{a.lsn, std::move(a.run), std::move(a.task), std::move(a.event_type),
                          static_cast<TaskStatus>(a.from), static_cast<TaskStatus>(a.to),
                          std::move(a.reason)});
    return true;
  }));
  RETURN_IF_ERROR(err);
  return out;
}

Result<std::vector<RunInfo>> SchedulerReader::ListRuns(Lsn as_of) {
  return CollectAsOf<RunInfo>(r_, "R", std::min(as_of, head()), ToRun);
}

Result<std::optional<RunInfo>> SchedulerReader::GetRun(std::string_view run, Lsn as_of) {
  ASSIGN_OR_RETURN(std::optional<Version> v,
                   r_.GetAsOf("scheduler", RunEntity(run), std::min(as_of, head())));
  if (!v) return std::optional<RunInfo>();
  ASSIGN_OR_RETURN(RunInfo r, ToRun(*v));
  return std::optional<RunInfo>(std::move(r));
}

Result<std::vector<Task>> SchedulerReader::ReadyQueue(std::string_view run, Lsn as_of) {
  ASSIGN_OR_RETURN(std::vector<Task> all, ListTasks(std::string(run), as_of));
  std::vector<Task> ready;
  for (Task& t : all) {
    if (t.status == TaskStatus::kReady) ready.push_back(std::move(t));
  }
  std::stable_sort(ready.begin(), ready.end(), [](const Task& a, const Task& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.ready_lsn < b.ready_lsn;
  });
  return ready;
}

Result<std::vector<SchedulerReader::TreeNode>> SchedulerReader::Tree(std::string_view run,
                                                                     Lsn as_of) {
  ASSIGN_OR_RETURN(std::vector<Task> all, ListTasks(std::string(run), as_of));
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < all.size(); ++i) by_id[all[i].id] = i;
  std::map<std::string, std::vector<size_t>> children;
  std::vector<size_t> roots;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].parent.empty() || !by_id.count(all[i].parent) || all[i].parent == all[i].id) {
      roots.push_back(i);
    } else {
      children[all[i].parent].push_back(i);
    }
  }
  auto by_creation = [&](size_t a, size_t b) { return all[a].created_lsn < all[b].created_lsn; };
  std::sort(roots.begin(), roots.end(), by_creation);
  for (auto& [id, c] : children) std::sort(c.begin(), c.end(), by_creation);
  std::vector<TreeNode> out;
  std::vector<bool> seen(all.size(), false);
  // Iterative DFS; `seen` guards against parent cycles (a -> b -> a), which only a log written
  // by hand can contain: the tasks of a cycle are then not reachable from a root and are added
  // as roots at the end.
  auto walk = [&](size_t root) {
    std::vector<std::pair<size_t, int>> stack{{root, 0}};
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (seen[i]) continue;
      seen[i] = true;
      out.push_back(TreeNode{all[i], depth});
      auto it = children.find(all[i].id);
      if (it == children.end()) continue;
      for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) stack.push_back({*c, depth + 1});
    }
  };
  for (size_t r : roots) walk(r);
  for (size_t i = 0; i < all.size(); ++i) {
    if (!seen[i]) walk(i);
  }
  return out;
}

}  // namespace tink::projections
