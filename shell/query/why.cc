// `why TASK`: the causal chain from a task's failure back to its roots (DESIGN.md §7).
//
// Rows (step, lsn, type, task, link, detail), in this order:
//   1. the failure: the task's last task.failed (detail: its error);
//   2. what caused it, one event per step, each found from the previous one by
//        - its `causation` LSN when the event has one (link "causation"), else by inference:
//        - task.failed   <- the task's last failing tool.result / llm.error since its last retry
//                           (exit_code != 0, ok == false or an error), else its last tool.result
//                           or llm.response (link "last failing result" / "last result");
//        - tool.result   <- the tool.call with the same call_id (link "same call_id");
//        - tool.call     <- the last llm.response before it, in its task or else in the parent
//                           task (link "llm response before");
//        - llm.response / llm.error <- the llm.request with the same call_id (link "same call_id");
//      until an event has no predecessor (at most 64 steps; a causation cycle stops the walk);
//   3. the task's parent chain up to the root (link "parent"; lsn and type: the parent's last
//      event; detail: state, name and error);
//   4. anomalies up to the failure's LSN of the task, of its ancestors and of the run as a whole:
//      scheduler and canvas anomalies of those tasks or without a task, and the run's memory
//      anomalies (link "anomaly (PROJECTION)").
// Errors: NotFound for an unknown task; InvalidArgument when the task never failed (naming the
// failed tasks of its run) or when a run is named instead of a task.
#include <algorithm>
#include <map>
#include <set>

#include "shell/query/provider_internal.h"

namespace tink::query::internal {
namespace {

constexpr int kMaxSteps = 64;

bool Failing(const Row& e) {
  const std::string type = e.value("type", "");
  if (type == "llm.error") return true;
  if (type != "tool.result") return false;
  if (!e.contains("data") || !e["data"].is_object()) return false;
  const Json& d = e["data"];
  if (d.contains("exit_code") && d["exit_code"].is_number_integer() &&
      d["exit_code"].get<int64_t>() != 0) {
    return true;
  }
  if (d.contains("ok") && d["ok"].is_boolean() && !d["ok"].get<bool>()) return true;
  return d.contains("error") && d["error"].is_string() && !d["error"].get<std::string>().empty();
}

std::string CallId(const Row& e) {
  if (!e.contains("data") || !e["data"].is_object()) return "";
  auto it = e["data"].find("call_id");
  return it != e["data"].end() && it->is_string() ? it->get<std::string>() : "";
}

Lsn LsnOf(const Row& e) { return e.value("lsn", Lsn{0}); }

class WhyWalk {
 public:
  WhyWalk(const VerbContext& ctx, std::string run, Lsn limit)
      : ctx_(ctx), run_(std::move(run)), limit_(limit) {}

  // The run's events of `task` with lsn <= the failure, in LSN order (read once per task).
  Result<const std::vector<Row>*> Events(const std::string& task) {
    auto it = cache_.find(task);
    if (it != cache_.end()) return &it->second;
    std::vector<Row> rows;
    engine::LogQuery q;
    q.run = run_;
    q.to = limit_;
    RETURN_IF_ERROR(ScanRows(ctx_.engine, q, ctx_.cancel, [&](const Row& e) {
      if (EventTask(e) == task) rows.push_back(e);
      return true;
    }));
    return &cache_.emplace(task, std::move(rows)).first->second;
  }

  // The event before `e` in its causal chain, and how it was found.
  Result<std::optional<std::pair<Row, std::string>>> Predecessor(const Row& e,
                                                                 const std::string& parent) {
    using Found = std::optional<std::pair<Row, std::string>>;
    if (e.contains("causation") && e["causation"].is_number_unsigned()) {
      ASSIGN_OR_RETURN(std::optional<Row> c, EventAt(ctx_.engine, e["causation"].get<Lsn>()));
      if (c) return Found(std::make_pair(std::move(*c), std::string("causation")));
    }
    const std::string type = e.value("type", "");
    const std::string task = EventTask(e);
    const Lsn lsn = LsnOf(e);
    ASSIGN_OR_RETURN(const std::vector<Row>* events, Events(task));
    // Events of the task before `e`, newest first.
    auto before = [&](const std::vector<Row>& v, auto&& pred) -> std::optional<Row> {
      for (auto it = v.rbegin(); it != v.rend(); ++it) {
        if (LsnOf(*it) < lsn && pred(*it)) return *it;
      }
      return std::nullopt;
    };
    if (type == "task.failed") {
      // Only since the last retry: an earlier attempt's failures are not this one's cause.
      Lsn since = 0;
      if (auto r =
              before(*events, [](const Row& x) { return x.value("type", "") == "task.retried"; })) {
        since = LsnOf(*r);
      }
      auto in_attempt = [&](const Row& x) { return LsnOf(x) > since; };
      if (auto f = before(*events, [&](const Row& x) { return in_attempt(x) && Failing(x); })) {
        return Found(std::make_pair(std::move(*f), std::string("last failing result")));
      }
      if (auto f = before(*events, [&](const Row& x) {
            const std::string t = x.value("type", "");
            return in_attempt(x) && (t == "tool.result" || t == "llm.response");
          })) {
        return Found(std::make_pair(std::move(*f), std::string("last result")));
      }
      return Found();
    }
    const std::string call = CallId(e);
    auto same_call = [&](const char* want) {
      return before(*events, [&](const Row& x) {
        return x.value("type", "") == want && !call.empty() && CallId(x) == call;
      });
    };
    if (type == "tool.result") {
      if (auto c = same_call("tool.call")) {
        return Found(std::make_pair(std::move(*c), std::string("same call_id")));
      }
      return Found();
    }
    if (type == "llm.response" || type == "llm.error") {
      if (auto c = same_call("llm.request")) {
        return Found(std::make_pair(std::move(*c), std::string("same call_id")));
      }
      return Found();
    }
    if (type == "tool.call") {
      auto is_response = [](const Row& x) { return x.value("type", "") == "llm.response"; };
      if (auto r = before(*events, is_response)) {
        return Found(std::make_pair(std::move(*r), std::string("llm response before")));
      }
      if (!parent.empty() && parent != task) {
        ASSIGN_OR_RETURN(const std::vector<Row>* pe, Events(parent));
        if (auto r = before(*pe, is_response)) {
          return Found(std::make_pair(std::move(*r), std::string("llm response before")));
        }
      }
      return Found();
    }
    return Found();
  }

 private:
  const VerbContext& ctx_;
  std::string run_;
  Lsn limit_;
  std::map<std::string, std::vector<Row>> cache_;
};

}  // namespace

Result<VerbResult> Why(const VerbContext& ctx, const VerbCall& call) {
  if (call.args.size() != 1) return Status::InvalidArgument("why: usage: why RUN/TASK");
  const std::string& id = call.args[0];
  projections::SchedulerReader s(*ctx.reader);
  const Lsn head = s.head();

  auto failed_of = [&](const std::string& run) -> Result<std::string> {
    ASSIGN_OR_RETURN(std::vector<projections::Task> tasks, s.ListTasks(run, head));
    std::vector<std::string> failed;
    for (const auto& t : tasks) {
      if (t.status == projections::TaskStatus::kFailed) failed.push_back(run + "/" + t.id);
    }
    if (failed.empty()) return std::string("run " + run + " has no failed task");
    std::string list;
    for (size_t i = 0; i < failed.size() && i < 8; ++i) list += (i ? ", " : "") + failed[i];
    if (failed.size() > 8) list += ", … (" + std::to_string(failed.size()) + " in all)";
    return "failed tasks of run " + run + ": " + list;
  };

  ASSIGN_OR_RETURN(std::optional<projections::Task> task, FindTask(s, id, head));
  if (!task) {
    ASSIGN_OR_RETURN(std::optional<projections::RunInfo> run, s.GetRun(id, head));
    if (run) {
      ASSIGN_OR_RETURN(std::string failed, failed_of(id));
      return Status::InvalidArgument("why takes a task (RUN/TASK), not a run; " + failed);
    }
    return Status::NotFound("why: no task '" + id + "' (tasks are named RUN/TASK)");
  }
  const std::string run = task->run;

  // The failure: the task's last task.failed (a retried task may have failed before).
  WhyWalk walk(ctx, run, UINT64_MAX);
  ASSIGN_OR_RETURN(const std::vector<Row>* events, walk.Events(task->id));
  std::optional<Row> failure;
  for (auto it = events->rbegin(); it != events->rend(); ++it) {
    if (it->value("type", "") == "task.failed") {
      failure = *it;
      break;
    }
  }
  if (!failure) {
    ASSIGN_OR_RETURN(std::string failed, failed_of(run));
    return Status::InvalidArgument("why: task " + id + " did not fail (it is " +
                                   std::string(projections::TaskStatusName(task->status)) + "); " +
                                   failed);
  }
  const Lsn failed_at = LsnOf(*failure);

  std::vector<Row> rows;
  auto add = [&](const Row& e, const std::string& link, std::string detail) {
    Row r = Row::object();
    r["step"] = static_cast<int>(rows.size()) + 1;
    r["lsn"] = e["lsn"];
    r["type"] = e["type"];
    r["task"] = EventTask(e);
    r["link"] = link;
    r["detail"] = std::move(detail);
    rows.push_back(std::move(r));
  };
  add(*failure, "failure", Summary(*failure));

  // The chain of causes.
  std::set<Lsn> seen{failed_at};
  Row cur = *failure;
  for (int step = 0; step < kMaxSteps; ++step) {
    if (IsSet(ctx.cancel)) return Cancelled();
    // The parent of the event's own task (for a tool.call asked for by the parent's LLM).
    std::string parent;
    const std::string cur_task = EventTask(cur);
    if (cur_task == task->id) {
      parent = task->parent;
    } else if (!cur_task.empty()) {
      ASSIGN_OR_RETURN(std::optional<projections::Task> t, s.GetTask(run, cur_task, head));
      if (t) parent = t->parent;
    }
    ASSIGN_OR_RETURN(auto prev, walk.Predecessor(cur, parent));
    if (!prev) break;
    const Lsn lsn = LsnOf(prev->first);
    if (!seen.insert(lsn).second) break;
    add(prev->first, prev->second, Summary(prev->first));
    cur = std::move(prev->first);
  }

  // The parent chain.
  std::set<std::string> chain{task->id};
  std::string p = task->parent;
  while (!p.empty() && chain.insert(p).second) {
    ASSIGN_OR_RETURN(std::optional<projections::Task> t, s.GetTask(run, p, head));
    if (!t) break;
    Row e = Row::object();
    e["lsn"] = t->last_event_lsn;
    e["type"] = t->last_event_type;
    e["data"] = Row::object();
    e["data"]["task"] = t->id;
    std::string detail = std::string(projections::TaskStatusName(t->status)) + ": " + t->name;
    if (!t->error.empty()) detail += ": " + t->error;
    add(e, "parent", OneLine(detail, 100));
    p = t->parent;
  }

  // Anomalies of those tasks and of the run, up to the failure.
  auto anomaly = [&](Lsn lsn, const std::string& type, const std::string& t,
                     const std::string& projection, const std::string& reason) {
    Row e = Row::object();
    e["lsn"] = lsn;
    e["type"] = type;
    e["data"] = Row::object();
    e["data"]["task"] = t;
    add(e, "anomaly (" + projection + ")", OneLine(reason, 100));
  };
  auto relevant = [&](Lsn lsn, const std::string& t) {
    return lsn <= failed_at && (t.empty() || chain.count(t));
  };
  std::vector<std::tuple<Lsn, std::string, std::string, std::string, std::string>> found;
  ASSIGN_OR_RETURN(std::vector<projections::Anomaly> sa, s.Anomalies(run, head));
  for (const auto& a : sa) {
    if (relevant(a.lsn, a.task))
      found.emplace_back(a.lsn, a.event_type, a.task, "scheduler", a.reason);
  }
  projections::CanvasReader c(*ctx.reader);
  ASSIGN_OR_RETURN(std::vector<projections::CanvasAnomaly> ca, c.Anomalies(run, c.head()));
  for (const auto& a : ca) {
    if (relevant(a.lsn, a.task)) {
      found.emplace_back(a.lsn, a.type, a.task, "canvas", a.path + ": " + a.reason);
    }
  }
  projections::MemoryReader m(*ctx.reader);
  ASSIGN_OR_RETURN(std::vector<projections::MemAnomaly> ma, m.Anomalies(m.head()));
  for (const auto& a : ma) {
    if (a.run == run && a.lsn <= failed_at) {
      found.emplace_back(a.lsn, a.type, "", "memory", a.target + ": " + a.reason);
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  for (const auto& [lsn, type, t, proj, reason] : found) anomaly(lsn, type, t, proj, reason);

  VerbResult out;
  out.rows = std::make_unique<VectorStream>(
      std::vector<std::string>{"step", "lsn", "type", "task", "link", "detail"}, std::move(rows),
      ctx.cancel);
  return out;
}

}  // namespace tink::query::internal
