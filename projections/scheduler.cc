// Folding task.* and run.* events into versioned TaskState / RunState (see scheduler.h).
#include "projections/scheduler.h"

#include <algorithm>
#include <cstring>

#include "projections/internal/fb_state.h"
#include "projections/scheduler_generated.h"

namespace tink::projections {

using internal::Pack;
using internal::Unpack;

using state::TaskStateT;
using state::RunStateT;

std::string_view TaskStatusName(TaskStatus s) {
  switch (s) {
    case TaskStatus::kNone: return "";
    case TaskStatus::kCreated: return "created";
    case TaskStatus::kReady: return "ready";
    case TaskStatus::kRunning: return "running";
    case TaskStatus::kWaiting: return "waiting";
    case TaskStatus::kSucceeded: return "succeeded";
    case TaskStatus::kFailed: return "failed";
    case TaskStatus::kCancelled: return "cancelled";
  }
  return "";
}

std::string TaskEntity(std::string_view run, std::string_view task) {
  std::string k = "T";
  AppendOrdered(&k, run);
  AppendOrdered(&k, task);
  return k;
}

std::string RunEntity(std::string_view run) {
  std::string k = "R";
  AppendOrdered(&k, run);
  return k;
}

namespace {

using S = state::TaskStatus;

std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

// Which states each task event may leave from, and where it goes.
struct Rule {
  S to;
  std::initializer_list<S> from;
};

const Rule* RuleFor(fb::Payload p) {
  static const Rule kReady{S::Ready, {S::Created, S::Waiting}};
  static const Rule kStarted{S::Running, {S::Ready}};
  static const Rule kYielded{S::Ready, {S::Running}};
  static const Rule kWaiting{S::Waiting, {S::Running}};
  static const Rule kResumed{S::Ready, {S::Waiting}};
  static const Rule kSucceeded{S::Succeeded, {S::Running}};
  static const Rule kFailed{S::Failed, {S::Running}};
  static const Rule kRetried{S::Ready, {S::Failed}};
  static const Rule kCancelled{S::Cancelled, {S::Created, S::Ready, S::Running, S::Waiting}};
  switch (p) {
    case fb::Payload::TaskReady: return &kReady;
    case fb::Payload::TaskStarted: return &kStarted;
    case fb::Payload::TaskYielded: return &kYielded;
    case fb::Payload::TaskWaiting: return &kWaiting;
    case fb::Payload::TaskResumed: return &kResumed;
    case fb::Payload::TaskSucceeded: return &kSucceeded;
    case fb::Payload::TaskFailed: return &kFailed;
    case fb::Payload::TaskRetried: return &kRetried;
    case fb::Payload::TaskCancelled: return &kCancelled;
    default: return nullptr;
  }
}

// The task id an event names, if its type carries one.
std::string_view TaskOf(const fb::Event* ev) {
  switch (ev->payload_type()) {
    case fb::Payload::TaskCreated: return Str(ev->payload_as_TaskCreated()->task());
    case fb::Payload::TaskReady: return Str(ev->payload_as_TaskReady()->task());
    case fb::Payload::TaskStarted: return Str(ev->payload_as_TaskStarted()->task());
    case fb::Payload::TaskYielded: return Str(ev->payload_as_TaskYielded()->task());
    case fb::Payload::TaskWaiting: return Str(ev->payload_as_TaskWaiting()->task());
    case fb::Payload::TaskResumed: return Str(ev->payload_as_TaskResumed()->task());
    case fb::Payload::TaskSucceeded: return Str(ev->payload_as_TaskSucceeded()->task());
    case fb::Payload::TaskFailed: return Str(ev->payload_as_TaskFailed()->task());
    case fb::Payload::TaskRetried: return Str(ev->payload_as_TaskRetried()->task());
    case fb::Payload::TaskCancelled: return Str(ev->payload_as_TaskCancelled()->task());
    case fb::Payload::LlmRequest: return Str(ev->payload_as_LlmRequest()->task());
    case fb::Payload::LlmResponse: return Str(ev->payload_as_LlmResponse()->task());
    case fb::Payload::LlmError: return Str(ev->payload_as_LlmError()->task());
    case fb::Payload::ToolCall: return Str(ev->payload_as_ToolCall()->task());
    case fb::Payload::ToolResult: return Str(ev->payload_as_ToolResult()->task());
    default: return {};
  }
}

bool IsTaskEvent(fb::Payload p) {
  return p >= fb::Payload::TaskCreated && p <= fb::Payload::TaskCancelled;
}

std::string StatusWord(S s) { return std::string(TaskStatusName(static_cast<TaskStatus>(s))); }

}  // namespace

struct SchedulerProjection::Cache {
  std::unordered_map<std::string, TaskStateT> tasks;  // entity -> current state
  std::unordered_map<std::string, RunStateT> runs;    // run id -> current state
};

SchedulerProjection::SchedulerProjection() : cache_(std::make_unique<Cache>()) {}
SchedulerProjection::~SchedulerProjection() = default;
void SchedulerProjection::ResetCache() { cache_ = std::make_unique<Cache>(); }

namespace {

class Folder {
 public:
  Folder(const Event& e, ApplyContext& ctx, std::unordered_map<std::string, TaskStateT>& tasks,
         std::unordered_map<std::string, RunStateT>& runs)
      : e_(e), ctx_(ctx), tasks_(tasks), runs_(runs), run_id_(e.view.run) {}

  Status Run() {
    const fb::Payload p = e_.fb->payload_type();
    if (p == fb::Payload::RunStarted || p == fb::Payload::RunFinished) return RunEvent(p);
    const std::string_view task = TaskOf(e_.fb);
    if (IsTaskEvent(p)) return TaskEvent(p, task);
    if (!task.empty()) return Attributed(p, task);
    return Status::Ok();
  }

 private:
  Result<RunStateT*> GetRun(bool create) {
    auto it = runs_.find(run_id_);
    if (it != runs_.end()) return &it->second;
    ASSIGN_OR_RETURN(std::optional<std::string> v, ctx_.Latest(RunEntity(run_id_)));
    if (!v && !create) return static_cast<RunStateT*>(nullptr);
    RunStateT r;
    if (v) {
      RETURN_IF_ERROR((Unpack<state::RunState>(*v, &r)));
    } else {
      r.id = run_id_;
      r.started_lsn = e_.lsn;
      r.started_ns = e_.when_ns();
    }
    if (r.counts.size() < 8) r.counts.resize(8, 0);
    return &runs_.emplace(run_id_, std::move(r)).first->second;
  }

  Result<TaskStateT*> GetTask(const std::string& entity) {
    auto it = tasks_.find(entity);
    if (it != tasks_.end()) return &it->second;
    ASSIGN_OR_RETURN(std::optional<std::string> v, ctx_.Latest(entity));
    if (!v) return static_cast<TaskStateT*>(nullptr);
    TaskStateT t;
    RETURN_IF_ERROR((Unpack<state::TaskState>(*v, &t)));
    return &tasks_.emplace(entity, std::move(t)).first->second;
  }

  void PutRun(RunStateT* r) {
    ctx_.Put(VersionKey(RunEntity(run_id_), e_.lsn), Pack(*r));
  }
  void PutTask(const std::string& entity, TaskStateT* t) {
    t->last_event_lsn = e_.lsn;
    t->last_event_type = std::string(e_.view.type);
    ctx_.Put(VersionKey(entity, e_.lsn), Pack(*t));
  }

  Status AddAnomaly(std::string_view task, S from, S to, std::string reason) {
    state::AnomalyT a;
    a.lsn = e_.lsn;
    a.run = run_id_;
    a.task = std::string(task);
    a.event_type = std::string(e_.view.type);
    a.from = from;
    a.to = to;
    a.reason = std::move(reason);
    std::string k = "A";
    AppendBE64(&k, e_.lsn);
    AppendBE64(&k, anomaly_seq_++);
    ctx_.Put(k, Pack(a));
    ASSIGN_OR_RETURN(RunStateT * r, GetRun(true));
    r->anomalies++;
    run_dirty_ = true;
    return Status::Ok();
  }

  Status RunEvent(fb::Payload p) {
    ASSIGN_OR_RETURN(RunStateT * r, GetRun(true));
    if (p == fb::Payload::RunStarted) {
      const fb::RunStarted* rs = e_.fb->payload_as_RunStarted();
      if (r->started_event_lsn != 0) {
        RETURN_IF_ERROR(AddAnomaly("", S::None, S::None,
                                   "run started twice (first at LSN " +
                                       std::to_string(r->started_event_lsn) + ")"));
      } else {
        r->started_event_lsn = e_.lsn;
      }
      r->name = std::string(Str(rs->name()));
      r->agent = std::string(Str(rs->agent()));
      r->model = std::string(Str(rs->model()));
      if (r->tasks == 0) {
        r->started_lsn = e_.lsn;
        r->started_ns = e_.when_ns();
      }
    } else {
      const fb::RunFinished* rf = e_.fb->payload_as_RunFinished();
      if (r->finished_lsn != 0) {
        RETURN_IF_ERROR(AddAnomaly("", S::None, S::None, "run finished twice"));
      }
      std::string st(Str(rf->status()));
      if (st != "succeeded" && st != "failed" && st != "cancelled") {
        RETURN_IF_ERROR(AddAnomaly("", S::None, S::None,
                                   "run.finished with status '" + st +
                                       "' (expected succeeded, failed or cancelled)"));
      }
      r->finished_status = st.empty() ? "unknown" : st;
      r->error = std::string(Str(rf->error()));
      r->finished_lsn = e_.lsn;
      r->finished_ns = e_.when_ns();
    }
    PutRun(r);
    return Status::Ok();
  }

  // llm.* and tool.* events that name a task: counted on the task.
  Status Attributed(fb::Payload p, std::string_view task) {
    const std::string entity = TaskEntity(run_id_, task);
    ASSIGN_OR_RETURN(TaskStateT * t, GetTask(entity));
    if (t == nullptr) {
      RETURN_IF_ERROR(AddAnomaly(task, S::None, S::None, "event for unknown task"));
      if (run_dirty_) PutRunIfAny();
      return Status::Ok();
    }
    if (p == fb::Payload::LlmRequest) t->llm_calls++;
    if (p == fb::Payload::ToolCall) t->tool_calls++;
    if (p == fb::Payload::ToolResult) {
      const fb::ToolResult* tr = e_.fb->payload_as_ToolResult();
      const bool failed = (tr->ok().has_value() && !*tr->ok()) ||
                          (tr->exit_code().has_value() && *tr->exit_code() != 0) ||
                          (tr->error() != nullptr && tr->error()->size() > 0);
      if (!failed) return Status::Ok();
      t->tool_errors++;
    }
    if (p == fb::Payload::LlmResponse) return Status::Ok();
    PutTask(entity, t);
    return Status::Ok();
  }

  void PutRunIfAny() {
    auto it = runs_.find(run_id_);
    if (it != runs_.end()) PutRun(&it->second);
  }

  void Move(RunStateT* r, TaskStateT* t, S to) {
    const int64_t now = e_.when_ns();
    const int64_t spent = std::max<int64_t>(0, now - t->since_ns);
    if (t->status == S::Ready) t->ready_total_ns += spent;
    if (t->status == S::Running) t->running_total_ns += spent;
    if (t->status == S::Waiting) t->waiting_total_ns += spent;
    r->counts[static_cast<int>(t->status)]--;
    r->counts[static_cast<int>(to)]++;
    t->status = to;
    t->since_ns = now;
    if (to == S::Ready) t->ready_lsn = e_.lsn;
    if (to == S::Succeeded || to == S::Failed || to == S::Cancelled) {
      t->finished_lsn = e_.lsn;
      t->finished_ns = now;
    } else {
      // Back in play (task.retried, or a move out of a final state the log insists on): no
      // longer finished, so Task::duration_ns() is 0 again until it finishes anew.
      t->finished_lsn = 0;
      t->finished_ns = 0;
    }
  }

  Status TaskEvent(fb::Payload p, std::string_view task) {
    const std::string entity = TaskEntity(run_id_, task);
    ASSIGN_OR_RETURN(TaskStateT * t, GetTask(entity));
    if (task.empty()) {
      RETURN_IF_ERROR(AddAnomaly(task, S::None, S::None, "task event without a task id"));
      PutRunIfAny();
      return Status::Ok();
    }
    if (p == fb::Payload::TaskCreated) {
      const fb::TaskCreated* tc = e_.fb->payload_as_TaskCreated();
      if (t != nullptr) {
        RETURN_IF_ERROR(AddAnomaly(task, t->status, S::Created, "task already exists (created at LSN " +
                                                                  std::to_string(t->created_lsn) + ")"));
        t->anomalies++;
        PutTask(entity, t);
        PutRunIfAny();
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(RunStateT * r, GetRun(true));
      TaskStateT n;
      n.run = run_id_;
      n.id = std::string(task);
      n.parent = std::string(Str(tc->parent()));
      n.name = std::string(Str(tc->name()));
      n.priority = tc->priority().value_or(0);
      n.status = S::Created;
      n.created_lsn = e_.lsn;
      n.created_ns = e_.when_ns();
      n.since_ns = n.created_ns;
      if (!n.parent.empty()) {
        ASSIGN_OR_RETURN(TaskStateT * parent, GetTask(TaskEntity(run_id_, n.parent)));
        if (parent == nullptr) {
          RETURN_IF_ERROR(AddAnomaly(task, S::None, S::Created,
                                     "parent task '" + n.parent + "' is unknown"));
          n.anomalies++;
        }
      }
      r->tasks++;
      r->counts[static_cast<int>(S::Created)]++;
      TaskStateT* t2 = &tasks_.emplace(entity, std::move(n)).first->second;
      PutTask(entity, t2);
      PutRun(r);
      return Status::Ok();
    }
    const Rule* rule = RuleFor(p);
    if (t == nullptr) {
      RETURN_IF_ERROR(AddAnomaly(task, S::None, rule ? rule->to : S::None, "event for unknown task"));
      PutRunIfAny();
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(RunStateT * r, GetRun(true));
    const S from = t->status;
    if (std::find(rule->from.begin(), rule->from.end(), from) == rule->from.end()) {
      std::string need;
      for (S s : rule->from) need += (need.empty() ? "" : " or ") + StatusWord(s);
      RETURN_IF_ERROR(AddAnomaly(task, from, rule->to,
                                 std::string(e_.view.type) + " needs the task " + need +
                                     ", it was " + StatusWord(from)));
      t->anomalies++;
    }
    Move(r, t, rule->to);
    switch (p) {
      case fb::Payload::TaskStarted:
        t->attempts++;
        if (t->started_lsn == 0) {
          t->started_lsn = e_.lsn;
          t->started_ns = e_.when_ns();
        }
        break;
      case fb::Payload::TaskWaiting: {
        const fb::TaskWaiting* w = e_.fb->payload_as_TaskWaiting();
        t->wait_kind = std::string(Str(w->wait_kind()));
        t->waiting_on = std::string(Str(w->waiting_on()));
        if (t->wait_kind == "join" && !t->waiting_on.empty()) {
          ASSIGN_OR_RETURN(TaskStateT * on, GetTask(TaskEntity(run_id_, t->waiting_on)));
          if (on == nullptr) {
            RETURN_IF_ERROR(AddAnomaly(task, from, S::Waiting,
                                       "joins unknown task '" + t->waiting_on + "'"));
            t->anomalies++;
          }
        }
        break;
      }
      case fb::Payload::TaskFailed:
        t->error = std::string(Str(e_.fb->payload_as_TaskFailed()->error()));
        break;
      default:
        break;
    }
    if (t->status != S::Waiting) {
      t->wait_kind.clear();
      t->waiting_on.clear();
    }
    PutTask(entity, t);
    PutRun(r);
    return Status::Ok();
  }

  const Event& e_;
  ApplyContext& ctx_;
  std::unordered_map<std::string, TaskStateT>& tasks_;
  std::unordered_map<std::string, RunStateT>& runs_;
  std::string run_id_;
  uint64_t anomaly_seq_ = 0;
  bool run_dirty_ = false;
};

}  // namespace

Status SchedulerProjection::Apply(const Event& e, ApplyContext& ctx) {
  return Folder(e, ctx, cache_->tasks, cache_->runs).Run();
}

}  // namespace tink::projections
