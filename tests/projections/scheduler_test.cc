// The scheduler's state machine (projections/scheduler.h): every legal transition lands in the
// right state without an anomaly; every illegal event yields exactly the expected Anomaly and
// never an error. Each table runs twice: one batch per event (the projection reads its committed
// state back) and all events in one batch (it works from its cache). The cases of a table share
// one state (a RocksDB open costs more than a case) and are told apart by run id.
#include <gtest/gtest.h>

#include "projections_test_util.h"

namespace tink::projections {
namespace {

using testing::Dump;
using testing::DumpAll;
using testing::Harness;
using Json = nlohmann::json;
using TS = TaskStatus;

struct Step {
  std::string type;
  Json data;  // the task id "t" is added to task.* events unless data names one
  std::string run = "r";
};

// Each case plays in its own runs ("<case>/r", "<case>/other") of one shared state, so a case
// sees only its own tasks and anomalies (those with an LSN after the case began).
std::string RunOf(const std::string& name, const std::string& run) { return name + "/" + run; }

Lsn Play(Harness& h, const std::string& name, const Step& s) {
  Json d = s.data.is_null() ? Json::object() : s.data;
  if (!d.contains("task") && s.type.starts_with("task.")) d["task"] = "t";
  return h.Emit(s.type, RunOf(name, s.run), d);
}

std::vector<Anomaly> AnomaliesAfter(Harness& h, Lsn after, Lsn as_of) {
  std::vector<Anomaly> out;
  for (Anomaly& a : h.Anomalies(std::nullopt, as_of)) {
    if (a.lsn > after) out.push_back(std::move(a));
  }
  return out;
}

const Json kNone = Json::object();

// ---------------------------------------------------------------------------------------------
// Legal transitions.

struct LegalCase {
  std::string name;
  // Each step and the task's status after it.
  std::vector<std::pair<Step, TS>> steps;
};

const std::vector<LegalCase>& LegalCases() {
  static const std::vector<LegalCase> cases = [] {
    const std::pair<Step, TS> created{{"task.created", Json{{"name", "n"}}}, TS::kCreated};
    const std::pair<Step, TS> ready{{"task.ready", kNone}, TS::kReady};
    const std::pair<Step, TS> started{{"task.started", Json{{"worker", "w1"}}}, TS::kRunning};
    const std::pair<Step, TS> waiting{
        {"task.waiting", Json{{"wait_kind", "io"}, {"waiting_on", "socket"}}}, TS::kWaiting};
    const std::pair<Step, TS> failed{{"task.failed", Json{{"error", "boom"}}}, TS::kFailed};
    const std::pair<Step, TS> cancelled{{"task.cancelled", kNone}, TS::kCancelled};
    return std::vector<LegalCase>{
        {"CreatedToReady", {created, ready}},
        {"ReadyToRunning", {created, ready, started}},
        {"RunningToReadyViaYielded",
         {created, ready, started, {{"task.yielded", kNone}, TS::kReady}}},
        {"RunningToWaiting", {created, ready, started, waiting}},
        {"WaitingToReadyViaResumed",
         {created, ready, started, waiting, {{"task.resumed", kNone}, TS::kReady}}},
        {"WaitingToReadyViaReady", {created, ready, started, waiting, ready}},
        {"RunningToSucceeded",
         {created,
          ready,
          started,
          {{"task.succeeded", Json{{"result", {{"x", 1}}}}}, TS::kSucceeded}}},
        {"RunningToFailed", {created, ready, started, failed}},
        {"FailedToReadyViaRetried",
         {created, ready, started, failed, {{"task.retried", Json{{"attempt", 2}}}, TS::kReady}}},
        {"CreatedToCancelled", {created, cancelled}},
        {"ReadyToCancelled", {created, ready, cancelled}},
        {"RunningToCancelled", {created, ready, started, cancelled}},
        {"WaitingToCancelled", {created, ready, started, waiting, cancelled}},
        {"FullLifecycleTwice",
         {created,
          ready,
          started,
          {{"task.yielded", kNone}, TS::kReady},
          started,
          waiting,
          {{"task.resumed", kNone}, TS::kReady},
          started,
          failed,
          {{"task.retried", kNone}, TS::kReady},
          started,
          {{"task.succeeded", kNone}, TS::kSucceeded}}},
    };
  }();
  return cases;
}

struct Played {
  Lsn start = 0;  // the LSN before the case's first event
  std::vector<Lsn> lsns;
};

void CheckLegal(Harness& h, const LegalCase& c, const Played& p) {
  SCOPED_TRACE(c.name);
  const std::string run = RunOf(c.name, "r");
  // Every intermediate state as of its LSN (time travel), then the end state.
  for (size_t i = 0; i < c.steps.size(); ++i) {
    auto t = h.GetTask(run, "t", p.lsns[i]);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(TaskStatusName(t->status), TaskStatusName(c.steps[i].second))
        << "as of step " << i << " (" << c.steps[i].first.type << ")";
    EXPECT_EQ(t->version, p.lsns[i]);
    EXPECT_EQ(t->last_event_lsn, p.lsns[i]);
    EXPECT_EQ(t->last_event_type, c.steps[i].first.type);
  }
  const auto anomalies = AnomaliesAfter(h, p.start, UINT64_MAX);
  EXPECT_TRUE(anomalies.empty()) << ::testing::PrintToString(DumpAll(anomalies));
  auto t = h.GetTask(run, "t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->anomalies, 0);
  EXPECT_EQ(t->name, "n");
  EXPECT_EQ(t->created_lsn, p.lsns.front());
  const TS end = c.steps.back().second;
  EXPECT_EQ(t->terminal(), end == TS::kSucceeded || end == TS::kFailed || end == TS::kCancelled);
  EXPECT_EQ(t->finished_lsn, t->terminal() ? p.lsns.back() : 0u) << Dump(*t);
  EXPECT_EQ(t->finished_ns != 0, t->terminal()) << Dump(*t);
  EXPECT_EQ(t->duration_ns() != 0, t->terminal()) << "0 while unfinished: " << Dump(*t);
  if (end == TS::kWaiting) {
    EXPECT_EQ(t->wait_kind, "io");
    EXPECT_EQ(t->waiting_on, "socket");
  } else {
    EXPECT_EQ(t->wait_kind, "") << "wait fields clear on leaving waiting";
    EXPECT_EQ(t->waiting_on, "");
  }
  auto r = h.Run(run);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->tasks, 1);
  EXPECT_EQ(r->anomalies, 0);
  for (int s = 0; s < 8; ++s) {
    EXPECT_EQ(r->counts[s], s == static_cast<int>(end) ? 1 : 0)
        << "count of " << TaskStatusName(static_cast<TS>(s)) << " in " << Dump(*r);
  }
}

// One batch per event: after each, the live state is checked, and the projection reads its
// committed state back for the next.
TEST(LegalTransitionTest, EachEventItsOwnBatch) {
  Harness h;
  for (const LegalCase& c : LegalCases()) {
    SCOPED_TRACE(c.name);
    Played p{h.log().last(), {}};
    for (const auto& [step, want] : c.steps) {
      p.lsns.push_back(Play(h, c.name, step));
      auto t = h.GetTask(RunOf(c.name, "r"), "t");
      ASSERT_TRUE(t.has_value()) << step.type;
      EXPECT_EQ(TaskStatusName(t->status), TaskStatusName(want)) << "after " << step.type;
    }
    CheckLegal(h, c, p);
  }
}

// Every case in one batch: the projection works from its cache throughout.
TEST(LegalTransitionTest, AllInOneBatch) {
  Harness h;
  h.set_deferred(true);
  std::vector<Played> played;
  for (const LegalCase& c : LegalCases()) {
    Played p{h.log().last(), {}};
    for (const auto& [step, want] : c.steps) p.lsns.push_back(Play(h, c.name, step));
    played.push_back(std::move(p));
  }
  ASSERT_TRUE(h.ApplyPending().ok());
  for (size_t i = 0; i < LegalCases().size(); ++i) CheckLegal(h, LegalCases()[i], played[i]);
}

// ---------------------------------------------------------------------------------------------
// Illegal events.

struct IllegalCase {
  std::string name;
  std::vector<Step> setup;  // legal
  Step bad;
  // The one anomaly expected (its lsn is the bad event's, its event_type the bad event's type).
  std::string run = "r", task = "t";
  TS from = TS::kNone, to = TS::kNone;
  std::string reason;  // a substring of Anomaly::reason; "$0" stands for the first setup LSN
  // Task "t" of run "r" afterwards (nullopt: it must not exist) and its anomaly count.
  std::optional<TS> after;
  int task_anomalies = 0;
};

const std::vector<IllegalCase>& IllegalCases() {
  static const std::vector<IllegalCase> cases = [] {
    const Step created{"task.created", kNone};
    const Step ready{"task.ready", kNone};
    const Step started{"task.started", kNone};
    const Step waiting{"task.waiting", Json{{"wait_kind", "sleep"}}};
    const Step succeeded{"task.succeeded", kNone};
    const Step failed{"task.failed", Json{{"error", "e"}}};
    const Step cancelled{"task.cancelled", kNone};
    const std::vector<Step> to_created{created};
    const std::vector<Step> to_ready{created, ready};
    const std::vector<Step> to_running{created, ready, started};
    const std::vector<Step> to_waiting{created, ready, started, waiting};
    const std::vector<Step> to_succeeded{created, ready, started, succeeded};
    const std::vector<Step> to_failed{created, ready, started, failed};
    const std::vector<Step> to_cancelled{created, cancelled};
    std::vector<IllegalCase> v;
    auto wrong = [&](std::string name, std::vector<Step> setup, Step bad, TS from, TS to,
                     std::string reason) {
      v.push_back(IllegalCase{std::move(name), std::move(setup), std::move(bad), "r", "t", from, to,
                              std::move(reason), to, 1});
    };
    // A transition from the wrong state: flagged, and applied anyway.
    wrong("SucceededBeforeStarted", to_ready, succeeded, TS::kReady, TS::kSucceeded,
          "task.succeeded needs the task running, it was ready");
    wrong("SucceededFromCreated", to_created, succeeded, TS::kCreated, TS::kSucceeded,
          "task.succeeded needs the task running, it was created");
    wrong("StartedTwice", to_running, started, TS::kRunning, TS::kRunning,
          "task.started needs the task ready, it was running");
    wrong("StartedFromCreated", to_created, started, TS::kCreated, TS::kRunning,
          "task.started needs the task ready, it was created");
    wrong("StartedAfterSucceeded", to_succeeded, started, TS::kSucceeded, TS::kRunning,
          "task.started needs the task ready, it was succeeded");
    wrong("StartedAfterFailedWithoutRetry", to_failed, started, TS::kFailed, TS::kRunning,
          "task.started needs the task ready, it was failed");
    wrong("RetriedWhenRunning", to_running, Step{"task.retried", kNone}, TS::kRunning, TS::kReady,
          "task.retried needs the task failed, it was running");
    wrong("RetriedWhenSucceeded", to_succeeded, Step{"task.retried", kNone}, TS::kSucceeded,
          TS::kReady, "task.retried needs the task failed, it was succeeded");
    wrong("RetriedWhenCreated", to_created, Step{"task.retried", kNone}, TS::kCreated, TS::kReady,
          "task.retried needs the task failed, it was created");
    wrong("ReadyWhenRunning", to_running, ready, TS::kRunning, TS::kReady,
          "task.ready needs the task created or waiting, it was running");
    wrong("ReadyTwice", to_ready, ready, TS::kReady, TS::kReady,
          "task.ready needs the task created or waiting, it was ready");
    wrong("ReadyAfterFailed", to_failed, ready, TS::kFailed, TS::kReady,
          "task.ready needs the task created or waiting, it was failed");
    wrong("YieldedWhenReady", to_ready, Step{"task.yielded", kNone}, TS::kReady, TS::kReady,
          "task.yielded needs the task running, it was ready");
    wrong("YieldedWhenWaiting", to_waiting, Step{"task.yielded", kNone}, TS::kWaiting, TS::kReady,
          "task.yielded needs the task running, it was waiting");
    wrong("WaitingWhenReady", to_ready, waiting, TS::kReady, TS::kWaiting,
          "task.waiting needs the task running, it was ready");
    wrong("WaitingWhenCreated", to_created, waiting, TS::kCreated, TS::kWaiting,
          "task.waiting needs the task running, it was created");
    wrong("ResumedWhenRunning", to_running, Step{"task.resumed", kNone}, TS::kRunning, TS::kReady,
          "task.resumed needs the task waiting, it was running");
    wrong("ResumedWhenCancelled", to_cancelled, Step{"task.resumed", kNone}, TS::kCancelled,
          TS::kReady, "task.resumed needs the task waiting, it was cancelled");
    wrong("FailedWhenWaiting", to_waiting, failed, TS::kWaiting, TS::kFailed,
          "task.failed needs the task running, it was waiting");
    wrong("FailedWhenReady", to_ready, failed, TS::kReady, TS::kFailed,
          "task.failed needs the task running, it was ready");
    wrong("SucceededTwice", to_succeeded, succeeded, TS::kSucceeded, TS::kSucceeded,
          "task.succeeded needs the task running, it was succeeded");
    wrong("CancelledAfterSucceeded", to_succeeded, cancelled, TS::kSucceeded, TS::kCancelled,
          "task.cancelled needs the task created or ready or running or waiting, it was succeeded");
    wrong("CancelledTwice", to_cancelled, cancelled, TS::kCancelled, TS::kCancelled,
          "task.cancelled needs the task created or ready or running or waiting, it was cancelled");
    wrong("CancelledAfterFailed", to_failed, cancelled, TS::kFailed, TS::kCancelled,
          "it was failed");

    // Events for a task that does not exist: nothing but the anomaly.
    const std::vector<std::pair<std::string, TS>> task_events = {
        {"task.ready", TS::kReady},        {"task.started", TS::kRunning},
        {"task.yielded", TS::kReady},      {"task.waiting", TS::kWaiting},
        {"task.resumed", TS::kReady},      {"task.succeeded", TS::kSucceeded},
        {"task.failed", TS::kFailed},      {"task.retried", TS::kReady},
        {"task.cancelled", TS::kCancelled}};
    for (const auto& [type, to] : task_events) {
      v.push_back(IllegalCase{"UnknownTask_" + type,
                              {},
                              Step{type, kNone},
                              "r",
                              "t",
                              TS::kNone,
                              to,
                              "event for unknown task",
                              std::nullopt,
                              0});
    }
    for (const std::string type :
         {"llm.request", "llm.response", "llm.error", "tool.call", "tool.result"}) {
      v.push_back(IllegalCase{"UnknownTask_" + type,
                              {},
                              Step{type, Json{{"task", "t"}, {"call_id", "c1"}}},
                              "r",
                              "t",
                              TS::kNone,
                              TS::kNone,
                              "event for unknown task",
                              std::nullopt,
                              0});
    }
    // The task exists, but in another run.
    v.push_back(IllegalCase{"TaskOfAnotherRun",
                            {Step{"task.created", kNone, "other"}},
                            Step{"task.started", kNone},
                            "r",
                            "t",
                            TS::kNone,
                            TS::kRunning,
                            "event for unknown task",
                            std::nullopt,
                            0});
    v.push_back(IllegalCase{"SecondTaskCreated", to_ready, created, "r", "t", TS::kReady,
                            TS::kCreated, "task already exists (created at LSN $0)", TS::kReady,
                            1});
    v.push_back(IllegalCase{"SecondTaskCreatedAfterSucceeded", to_succeeded, created, "r", "t",
                            TS::kSucceeded, TS::kCreated, "task already exists (created at LSN $0)",
                            TS::kSucceeded, 1});
    v.push_back(IllegalCase{"UnknownParent",
                            {},
                            Step{"task.created", Json{{"parent", "p"}}},
                            "r",
                            "t",
                            TS::kNone,
                            TS::kCreated,
                            "parent task 'p' is unknown",
                            TS::kCreated,
                            1});
    v.push_back(IllegalCase{"OwnParent",
                            {},
                            Step{"task.created", Json{{"parent", "t"}}},
                            "r",
                            "t",
                            TS::kNone,
                            TS::kCreated,
                            "parent task 't' is unknown",
                            TS::kCreated,
                            1});
    v.push_back(IllegalCase{"JoinOnUnknownTask", to_running,
                            Step{"task.waiting", Json{{"wait_kind", "join"}, {"waiting_on", "x"}}},
                            "r", "t", TS::kRunning, TS::kWaiting, "joins unknown task 'x'",
                            TS::kWaiting, 1});
    v.push_back(IllegalCase{"RunFinishedTwice",
                            {Step{"run.finished", Json{{"status", "succeeded"}}}},
                            Step{"run.finished", Json{{"status", "failed"}}},
                            "r",
                            "",
                            TS::kNone,
                            TS::kNone,
                            "run finished twice",
                            std::nullopt,
                            0});
    v.push_back(IllegalCase{"RunStartedTwice",
                            {Step{"run.started", Json{{"name", "a"}}}},
                            Step{"run.started", Json{{"name", "b"}}},
                            "r",
                            "",
                            TS::kNone,
                            TS::kNone,
                            "run started twice (first at LSN $0)",
                            std::nullopt,
                            0});
    v.push_back(IllegalCase{"RunFinishedWithUnknownStatus",
                            {},
                            Step{"run.finished", Json{{"status", "done"}}},
                            "r",
                            "",
                            TS::kNone,
                            TS::kNone,
                            "run.finished with status 'done' (expected succeeded, failed or "
                            "cancelled)",
                            std::nullopt,
                            0});
    for (const std::string type : {"task.created", "task.started", "task.cancelled"}) {
      v.push_back(IllegalCase{"EmptyTaskId_" + type,
                              {},
                              Step{type, Json{{"task", ""}}},
                              "r",
                              "",
                              TS::kNone,
                              TS::kNone,
                              "task event without a task id",
                              std::nullopt,
                              0});
    }
    v.push_back(IllegalCase{"AbsentTaskId", to_ready,
                            Step{"task.started", Json{{"worker", "w"}, {"task", nullptr}}}, "r", "",
                            TS::kNone, TS::kNone, "task event without a task id", TS::kReady, 0});
    return v;
  }();
  return cases;
}

struct PlayedIllegal {
  Lsn start = 0, first_setup = 0, bad = 0;
};

PlayedIllegal PlayIllegal(Harness& h, const IllegalCase& c, bool check_setup) {
  PlayedIllegal p;
  p.start = h.log().last();
  for (const Step& s : c.setup) {
    const Lsn l = Play(h, c.name, s);
    if (p.first_setup == 0) p.first_setup = l;
  }
  if (check_setup) {
    EXPECT_TRUE(AnomaliesAfter(h, p.start, UINT64_MAX).empty()) << c.name << ": setup is legal";
  }
  // A null task id means "leave it out", not "t".
  Step bad = c.bad;
  if (bad.data.contains("task") && bad.data["task"].is_null()) bad.data.erase("task");
  Json d = bad.data;
  if (!d.contains("task") && bad.type.starts_with("task.") && !c.bad.data.contains("task")) {
    d["task"] = "t";
  }
  p.bad = h.Emit(bad.type, RunOf(c.name, bad.run), d);
  return p;
}

void CheckIllegal(Harness& h, const IllegalCase& c, const PlayedIllegal& p) {
  SCOPED_TRACE(c.name);
  EXPECT_TRUE(AnomaliesAfter(h, p.start, p.bad - 1).empty()) << "none before the bad event";
  const std::vector<Anomaly> all = AnomaliesAfter(h, p.start, p.bad);
  ASSERT_EQ(all.size(), 1u) << ::testing::PrintToString(DumpAll(all));
  const Anomaly& a = all[0];
  EXPECT_EQ(a.lsn, p.bad);
  EXPECT_EQ(a.run, RunOf(c.name, c.run));
  EXPECT_EQ(a.task, c.task);
  EXPECT_EQ(a.event_type, c.bad.type);
  EXPECT_EQ(TaskStatusName(a.from), TaskStatusName(c.from)) << Dump(a);
  EXPECT_EQ(TaskStatusName(a.to), TaskStatusName(c.to)) << Dump(a);
  std::string reason = c.reason;
  if (auto at = reason.find("$0"); at != std::string::npos) {
    reason.replace(at, 2, std::to_string(p.first_setup));
  }
  EXPECT_NE(a.reason.find(reason), std::string::npos) << Dump(a) << " wants " << reason;
  EXPECT_EQ(h.Anomalies(RunOf(c.name, c.run)).size(), 1u) << "the run filter";
  EXPECT_TRUE(h.Anomalies(RunOf(c.name, "other")).empty());

  auto run = h.Run(RunOf(c.name, c.run));
  ASSERT_TRUE(run.has_value()) << "the anomaly is counted on its run";
  EXPECT_EQ(run->anomalies, 1) << Dump(*run);
  EXPECT_EQ(h.Run(RunOf(c.name, c.run), p.bad - 1).value_or(RunInfo{}).anomalies, 0);
  int sum = 0;
  for (int n : run->counts) sum += n;
  EXPECT_EQ(sum, run->tasks) << "per-state counts stay consistent: " << Dump(*run);

  auto t = h.GetTask(RunOf(c.name, "r"), "t");
  if (!c.after) {
    EXPECT_FALSE(t.has_value()) << Dump(*t);
    EXPECT_EQ(h.Tasks(RunOf(c.name, "r")).size(), 0u);
    return;
  }
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(TaskStatusName(t->status), TaskStatusName(*c.after)) << Dump(*t);
  EXPECT_EQ(t->anomalies, c.task_anomalies) << Dump(*t);
  EXPECT_EQ(run->counts[static_cast<int>(*c.after)], 1) << Dump(*run);
}

TEST(IllegalEventTest, EachEventItsOwnBatch) {
  Harness h;
  for (const IllegalCase& c : IllegalCases()) {
    // Never an error: Emit checks every Apply.
    const PlayedIllegal p = PlayIllegal(h, c, /*check_setup=*/true);
    ASSERT_EQ(h.applied(), p.bad);
    CheckIllegal(h, c, p);
  }
}

TEST(IllegalEventTest, AllInOneBatch) {
  Harness h;
  h.set_deferred(true);
  std::vector<PlayedIllegal> played;
  for (const IllegalCase& c : IllegalCases()) played.push_back(PlayIllegal(h, c, false));
  Status s = h.ApplyPending();
  ASSERT_TRUE(s.ok()) << "never an error: " << s.ToString();
  for (size_t i = 0; i < IllegalCases().size(); ++i) CheckIllegal(h, IllegalCases()[i], played[i]);
}

// Several illegal events in one batch: each gets its own anomaly, in LSN order, with the state
// machine continuing from where each left it.
TEST(SchedulerAnomalies, ManyInOneBatchKeepOrderAndCounts) {
  Harness h;
  h.set_deferred(true);
  h.EmitTask("task.created", "r", "a");
  const Lsn l1 = h.EmitTask("task.started", "r", "a");    // created -> running: anomaly
  const Lsn l2 = h.EmitTask("task.started", "r", "a");    // running -> running: anomaly
  const Lsn l3 = h.EmitTask("task.ready", "r", "ghost");  // unknown task
  const Lsn l4 =
      h.EmitTask("task.waiting", "r", "a", Json{{"wait_kind", "join"}, {"waiting_on", "nope"}});
  h.EmitTask("task.resumed", "r", "a");  // legal
  ASSERT_TRUE(h.ApplyPending().ok());
  const auto all = h.Anomalies();
  ASSERT_EQ(all.size(), 4u) << ::testing::PrintToString(DumpAll(all));
  EXPECT_EQ(all[0].lsn, l1);
  EXPECT_EQ(all[0].from, TS::kCreated);
  EXPECT_EQ(all[1].lsn, l2);
  EXPECT_EQ(all[1].from, TS::kRunning);
  EXPECT_EQ(all[2].lsn, l3);
  EXPECT_EQ(all[2].task, "ghost");
  EXPECT_EQ(all[3].lsn, l4);
  EXPECT_NE(all[3].reason.find("joins unknown task 'nope'"), std::string::npos);
  auto t = h.GetTask("r", "a");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->status, TS::kReady);
  EXPECT_EQ(t->anomalies, 3);
  EXPECT_EQ(t->attempts, 2);
  EXPECT_EQ(h.Run("r")->anomalies, 4);
}

// An illegal waiting transition that also joins an unknown task: two anomalies at one LSN.
TEST(SchedulerAnomalies, TwoAnomaliesFromOneEvent) {
  Harness h;
  h.EmitTask("task.created", "r", "a");
  const Lsn l =
      h.EmitTask("task.waiting", "r", "a", Json{{"wait_kind", "join"}, {"waiting_on", "z"}});
  const auto all = h.Anomalies();
  ASSERT_EQ(all.size(), 2u) << ::testing::PrintToString(DumpAll(all));
  EXPECT_EQ(all[0].lsn, l);
  EXPECT_EQ(all[1].lsn, l);
  EXPECT_NE(all[0].reason.find("task.waiting needs the task running, it was created"),
            std::string::npos);
  EXPECT_EQ(all[1].reason, "joins unknown task 'z'");
  EXPECT_EQ(all[1].from, TS::kCreated);
  EXPECT_EQ(all[1].to, TS::kWaiting);
  EXPECT_EQ(h.GetTask("r", "a")->anomalies, 2);
  EXPECT_EQ(h.Run("r")->anomalies, 2);
}

// A join on a task that does exist is no anomaly; nor is a join without a target, or a
// non-join wait naming something that is not a task.
TEST(SchedulerAnomalies, JoinOnKnownTaskIsLegal) {
  Harness h;
  h.EmitTask("task.created", "r", "child");
  h.EmitTask("task.created", "r", "a");
  h.EmitTask("task.ready", "r", "a");
  h.EmitTask("task.started", "r", "a");
  h.EmitTask("task.waiting", "r", "a", Json{{"wait_kind", "join"}, {"waiting_on", "child"}});
  h.EmitTask("task.resumed", "r", "a");
  h.EmitTask("task.started", "r", "a");
  h.EmitTask("task.waiting", "r", "a", Json{{"wait_kind", "io"}, {"waiting_on", "not-a-task"}});
  EXPECT_TRUE(h.Anomalies().empty()) << ::testing::PrintToString(DumpAll(h.Anomalies()));
  EXPECT_EQ(h.GetTask("r", "a")->waiting_on, "not-a-task");
}

}  // namespace
}  // namespace tink::projections
