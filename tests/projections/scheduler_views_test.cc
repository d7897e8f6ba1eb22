// The scheduler's derived data and views: attempts, per-state durations from `occurred` times,
// llm/tool counters, the ready queue, the task tree, run status derivation, task history and
// changed tasks.
#include <gtest/gtest.h>

#include "projections_test_util.h"

namespace tink::projections {
namespace {

using testing::Dump;
using testing::DumpAll;
using testing::Harness;
using Json = nlohmann::json;
using TS = TaskStatus;

constexpr int64_t kT0 = 1'800'000'000'000'000'000;  // an `occurred` time (2027)

std::vector<std::string> Ids(const std::vector<Task>& ts) {
  std::vector<std::string> out;
  for (const Task& t : ts) out.push_back(t.id);
  return out;
}

TEST(SchedulerViews, AttemptsCountStarts) {
  Harness h;
  h.EmitTask("task.created", "r", "t");
  h.EmitTask("task.ready", "r", "t");
  const Lsn s1 = h.EmitTask("task.started", "r", "t");
  EXPECT_EQ(h.GetTask("r", "t")->attempts, 1);
  h.EmitTask("task.failed", "r", "t", Json{{"error", "first"}});
  h.EmitTask("task.retried", "r", "t", Json{{"attempt", 2}});
  EXPECT_EQ(h.GetTask("r", "t")->attempts, 1) << "a retry is not a start";
  h.EmitTask("task.started", "r", "t");
  h.EmitTask("task.yielded", "r", "t");
  h.EmitTask("task.started", "r", "t");
  h.EmitTask("task.failed", "r", "t", Json{{"error", "second"}});
  h.EmitTask("task.retried", "r", "t");
  h.EmitTask("task.started", "r", "t");
  const Lsn done = h.EmitTask("task.succeeded", "r", "t");
  auto t = h.GetTask("r", "t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->attempts, 4);
  EXPECT_EQ(t->started_lsn, s1) << "the first start";
  EXPECT_EQ(t->finished_lsn, done);
  EXPECT_EQ(t->error, "second") << "the last failure's error";
  EXPECT_EQ(t->status, TS::kSucceeded);
  EXPECT_EQ(h.GetTask("r", "t", s1)->attempts, 1) << "as of the first start";
  EXPECT_TRUE(h.Anomalies().empty());
}

TEST(SchedulerViews, DurationsUseOccurredTimes) {
  Harness h;
  const int64_t ms = 1'000'000;
  h.EmitTask("task.created", "r", "t", Json::object(), kT0);
  h.EmitTask("task.ready", "r", "t", Json::object(), kT0 + 100 * ms);
  h.EmitTask("task.started", "r", "t", Json::object(), kT0 + 300 * ms);
  h.EmitTask("task.waiting", "r", "t", Json{{"wait_kind", "sleep"}}, kT0 + 600 * ms);
  h.EmitTask("task.resumed", "r", "t", Json::object(), kT0 + 1000 * ms);
  const Lsn second = h.EmitTask("task.started", "r", "t", Json::object(), kT0 + 1500 * ms);
  {
    auto t = h.GetTask("r", "t");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->since_ns, kT0 + 1500 * ms);
    EXPECT_EQ(t->duration_ns(), 0) << "0 while unfinished";
  }
  h.EmitTask("task.succeeded", "r", "t", Json::object(), kT0 + 2000 * ms);
  auto t = h.GetTask("r", "t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->created_ns, kT0);
  EXPECT_EQ(t->started_ns, kT0 + 300 * ms) << "the first start";
  EXPECT_EQ(t->finished_ns, kT0 + 2000 * ms);
  EXPECT_EQ(t->ready_total_ns, (200 + 500) * ms);
  EXPECT_EQ(t->running_total_ns, (300 + 500) * ms);
  EXPECT_EQ(t->waiting_total_ns, 400 * ms);
  EXPECT_EQ(t->duration_ns(), 2000 * ms);
  EXPECT_EQ(t->since_ns, kT0 + 2000 * ms);
  // As of the second start, the totals so far.
  auto mid = h.GetTask("r", "t", second);
  EXPECT_EQ(mid->ready_total_ns, 700 * ms);
  EXPECT_EQ(mid->running_total_ns, 300 * ms);
  EXPECT_EQ(mid->waiting_total_ns, 400 * ms);
}

TEST(SchedulerViews, DurationsFallBackToRecordedTimeAndNeverGoNegative) {
  Harness h;
  // No `occurred`: the recorded times (the harness records 1 µs apart).
  const Lsn c = h.EmitTask("task.created", "r", "a");
  h.EmitTask("task.ready", "r", "a");
  h.EmitTask("task.started", "r", "a");
  const Lsn d = h.EmitTask("task.succeeded", "r", "a");
  auto a = h.GetTask("r", "a");
  EXPECT_EQ(a->created_ns, h.log().at(c).time_ns);
  EXPECT_EQ(a->finished_ns, h.log().at(d).time_ns);
  EXPECT_EQ(a->ready_total_ns, 1000);
  EXPECT_EQ(a->running_total_ns, 1000);
  EXPECT_EQ(a->duration_ns(), 3000);
  // Occurred times that go backwards (an importer's clock): time spent is clamped at 0.
  h.EmitTask("task.created", "r", "b", Json::object(), kT0);
  h.EmitTask("task.ready", "r", "b", Json::object(), kT0 - 5000);
  h.EmitTask("task.started", "r", "b", Json::object(), kT0 - 9000);
  auto b = h.GetTask("r", "b");
  EXPECT_EQ(b->ready_total_ns, 0);
  EXPECT_EQ(b->running_total_ns, 0);
}

TEST(SchedulerViews, LlmAndToolCounters) {
  Harness h;
  h.EmitTask("task.created", "r", "t");
  h.EmitTask("llm.request", "r", "t", Json{{"call_id", "c1"}, {"model", "m"}});
  h.EmitTask("llm.response", "r", "t", Json{{"call_id", "c1"}, {"content", "hi"}});
  h.EmitTask("llm.request", "r", "t", Json{{"call_id", "c2"}});
  h.EmitTask("llm.error", "r", "t", Json{{"call_id", "c2"}, {"error", "429"}, {"status", 429}});
  h.EmitTask("tool.call", "r", "t", Json{{"call_id", "k1"}, {"tool", "bash"}});
  h.EmitTask("tool.result", "r", "t", Json{{"call_id", "k1"}, {"exit_code", 0}, {"ok", true}});
  h.EmitTask("tool.call", "r", "t", Json{{"call_id", "k2"}});
  h.EmitTask("tool.result", "r", "t", Json{{"call_id", "k2"}, {"exit_code", 2}});
  h.EmitTask("tool.call", "r", "t", Json{{"call_id", "k3"}});
  h.EmitTask("tool.result", "r", "t", Json{{"call_id", "k3"}, {"ok", false}});
  h.EmitTask("tool.call", "r", "t", Json{{"call_id", "k4"}});
  h.EmitTask("tool.result", "r", "t", Json{{"call_id", "k4"}, {"error", "timeout"}});
  h.EmitTask("tool.call", "r", "t", Json{{"call_id", "k5"}});
  h.EmitTask("tool.result", "r", "t", Json{{"call_id", "k5"}, {"error", ""}, {"output", "x"}});
  h.EmitTask("tool.result", "r", "t", Json{{"call_id", "k6"}, {"exit_code", -1}, {"ok", true}});
  // Not attributed to a task: counted nowhere, and no anomaly.
  h.Emit("tool.call", "r", Json{{"call_id", "k7"}});
  h.Emit("llm.request", "r", Json{{"call_id", "c3"}});
  auto t = h.GetTask("r", "t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->llm_calls, 2);
  EXPECT_EQ(t->tool_calls, 5);
  EXPECT_EQ(t->tool_errors, 4) << "exit_code 2, ok=false, error, exit_code -1: " << Dump(*t);
  EXPECT_EQ(t->status, TS::kCreated) << "counters do not move the state machine";
  EXPECT_TRUE(h.Anomalies().empty()) << ::testing::PrintToString(DumpAll(h.Anomalies()));
}

TEST(SchedulerViews, ReadyQueueByPriorityThenFifo) {
  Harness h;
  h.set_deferred(true);  // the cache path; checked again below with as-of reads
  struct Spec {
    std::string id;
    int priority;
  };
  const std::vector<Spec> specs = {{"a", 0}, {"b", 5}, {"c", 0}, {"d", 5}, {"e", -1}, {"f", 5}};
  for (const Spec& s : specs) {
    Json d = Json::object();
    if (s.priority != 0 || s.id == "a") d["priority"] = s.priority;  // "c": absent means 0
    h.EmitTask("task.created", "r", s.id, d);
  }
  // Ready in the order c, f, a, b, e, d.
  for (const char* id : {"c", "f", "a", "b", "e", "d"}) h.EmitTask("task.ready", "r", id);
  const Lsn all_ready = h.log().last();
  // f runs and yields: back of the priority-5 line. b runs and stays running: not in the queue.
  h.EmitTask("task.started", "r", "f");
  h.EmitTask("task.yielded", "r", "f");
  h.EmitTask("task.started", "r", "b");
  // A task of another run never shows up.
  h.EmitTask("task.created", "other", "z", Json{{"priority", 100}});
  h.EmitTask("task.ready", "other", "z");
  ASSERT_TRUE(h.ApplyPending().ok());
  EXPECT_EQ(Ids(h.ReadyQueue("r", all_ready)),
            (std::vector<std::string>{"f", "b", "d", "c", "a", "e"}));
  const auto q = h.ReadyQueue("r");
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"d", "f", "c", "a", "e"}));
  for (size_t i = 1; i < q.size(); ++i) {
    EXPECT_TRUE(q[i - 1].priority > q[i].priority ||
                (q[i - 1].priority == q[i].priority && q[i - 1].ready_lsn < q[i].ready_lsn));
  }
  EXPECT_EQ(Ids(h.ReadyQueue("other")), (std::vector<std::string>{"z"}));
  EXPECT_TRUE(h.ReadyQueue("nope").empty());
  EXPECT_TRUE(h.ReadyQueue("r", 1).empty()) << "nothing was ready at LSN 1";
}

TEST(SchedulerViews, TreeIsDepthFirstByCreation) {
  Harness h;
  h.set_deferred(true);
  // Ids chosen so that id order differs from creation order.
  h.EmitTask("task.created", "r", "root");
  h.EmitTask("task.created", "r", "z1", Json{{"parent", "root"}});
  h.EmitTask("task.created", "r", "a2", Json{{"parent", "root"}});
  h.EmitTask("task.created", "r", "m", Json{{"parent", "z1"}});
  h.EmitTask("task.created", "r", "b", Json{{"parent", "m"}});
  h.EmitTask("task.created", "r", "c", Json{{"parent", "a2"}});
  h.EmitTask("task.created", "r", "orphan", Json{{"parent", "ghost"}});  // unknown parent: root
  h.EmitTask("task.created", "r", "a0");                                 // second root
  // A parent cycle (only a hand-written log can hold one): y names x before x exists, then x
  // names y. Neither is reachable from a root; each still appears exactly once.
  h.EmitTask("task.created", "r", "y", Json{{"parent", "x"}});
  h.EmitTask("task.created", "r", "x", Json{{"parent", "y"}});
  ASSERT_TRUE(h.ApplyPending().ok());
  std::vector<std::pair<std::string, int>> got;
  for (const auto& n : h.Tree("r")) got.emplace_back(n.task.id, n.depth);
  const std::vector<std::pair<std::string, int>> want = {
      {"root", 0}, {"z1", 1},     {"m", 2},  {"b", 3}, {"a2", 1},
      {"c", 2},    {"orphan", 0}, {"a0", 0}, {"x", 0}, {"y", 1}};
  EXPECT_EQ(got, want);
  // As of an earlier LSN, only the tasks created by then.
  std::vector<std::pair<std::string, int>> early;
  for (const auto& n : h.Tree("r", 4)) early.emplace_back(n.task.id, n.depth);
  EXPECT_EQ(early, (std::vector<std::pair<std::string, int>>{
                       {"root", 0}, {"z1", 1}, {"m", 2}, {"a2", 1}}));
  // Unknown parent "ghost", and "x" when y was created: two anomalies.
  EXPECT_EQ(h.Anomalies().size(), 2u);
}

RunInfo Counts(int tasks, std::initializer_list<std::pair<TS, int>> counts,
               std::string finished = "") {
  RunInfo r;
  r.tasks = tasks;
  for (const auto& [s, n] : counts) r.counts[static_cast<int>(s)] = n;
  r.finished_status = std::move(finished);
  return r;
}

TEST(SchedulerViews, RunStatusDerivation) {
  EXPECT_EQ(RunStatus(Counts(0, {})), "running") << "no tasks yet";
  EXPECT_EQ(RunStatus(Counts(2, {{TS::kSucceeded, 1}, {TS::kRunning, 1}})), "running");
  EXPECT_EQ(RunStatus(Counts(2, {{TS::kSucceeded, 1}, {TS::kWaiting, 1}})), "running");
  EXPECT_EQ(RunStatus(Counts(1, {{TS::kCreated, 1}})), "running");
  EXPECT_EQ(RunStatus(Counts(2, {{TS::kSucceeded, 2}})), "succeeded");
  EXPECT_EQ(RunStatus(Counts(3, {{TS::kSucceeded, 1}, {TS::kFailed, 1}, {TS::kCancelled, 1}})),
            "failed");
  EXPECT_EQ(RunStatus(Counts(2, {{TS::kCancelled, 2}})), "cancelled");
  EXPECT_EQ(RunStatus(Counts(2, {{TS::kCancelled, 1}, {TS::kSucceeded, 1}})), "succeeded");
  EXPECT_EQ(RunStatus(Counts(2, {{TS::kRunning, 2}}, "failed")), "failed")
      << "run.finished's status wins";
  EXPECT_EQ(RunStatus(Counts(0, {}, "succeeded")), "succeeded");
}

TEST(SchedulerViews, RunInfoThroughEvents) {
  Harness h;
  const Lsn started =
      h.Emit("run.started", "r", Json{{"name", "Fix bug"}, {"agent", "ag"}, {"model", "m1"}}, kT0);
  for (const char* id : {"a", "b", "c"}) h.EmitTask("task.created", "r", id);
  for (const char* id : {"a", "b", "c"}) h.EmitTask("task.ready", "r", id);
  h.EmitTask("task.started", "r", "a");
  h.EmitTask("task.succeeded", "r", "a");
  h.EmitTask("task.cancelled", "r", "b");
  const Lsn mid = h.log().last();
  {
    auto r = h.Run("r");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, "running") << Dump(*r);
    EXPECT_EQ(r->tasks, 3);
    EXPECT_EQ(r->counts[static_cast<int>(TS::kSucceeded)], 1);
    EXPECT_EQ(r->counts[static_cast<int>(TS::kCancelled)], 1);
    EXPECT_EQ(r->counts[static_cast<int>(TS::kReady)], 1);
  }
  h.EmitTask("task.started", "r", "c");
  h.EmitTask("task.failed", "r", "c", Json{{"error", "x"}});
  EXPECT_EQ(h.Run("r")->status, "failed");
  h.EmitTask("task.retried", "r", "c");
  EXPECT_EQ(h.Run("r")->status, "running");
  h.EmitTask("task.started", "r", "c");
  h.EmitTask("task.succeeded", "r", "c");
  EXPECT_EQ(h.Run("r")->status, "succeeded");
  const Lsn fin =
      h.Emit("run.finished", "r", Json{{"status", "cancelled"}, {"error", "stop"}}, kT0 + 5);
  auto r = h.Run("r");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, "cancelled");
  EXPECT_EQ(r->finished_status, "cancelled");
  EXPECT_EQ(r->error, "stop");
  EXPECT_EQ(r->name, "Fix bug");
  EXPECT_EQ(r->agent, "ag");
  EXPECT_EQ(r->model, "m1");
  EXPECT_EQ(r->started_lsn, started);
  EXPECT_EQ(r->started_ns, kT0);
  EXPECT_EQ(r->finished_lsn, fin);
  EXPECT_EQ(r->finished_ns, kT0 + 5);
  EXPECT_EQ(r->version, fin);
  EXPECT_EQ(h.Run("r", mid)->status, "running") << "as of before the end";
  EXPECT_FALSE(h.Run("r", started - 1).has_value());
  // A run without run.started begins at its first event.
  const Lsn first = h.EmitTask("task.created", "solo", "t");
  auto solo = h.Run("solo");
  ASSERT_TRUE(solo.has_value());
  EXPECT_EQ(solo->started_lsn, first);
  EXPECT_EQ(solo->status, "running");
  const auto runs = h.Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "r");
  EXPECT_EQ(runs[1].id, "solo");
  EXPECT_EQ(h.Runs(mid).size(), 1u);
  EXPECT_TRUE(h.Anomalies().empty());
}

TEST(SchedulerViews, TaskHistoryAndChangedTasks) {
  Harness h;
  const Lsn c = h.EmitTask("task.created", "r", "a");
  const Lsn other = h.EmitTask("task.created", "r", "b");
  const Lsn rd = h.EmitTask("task.ready", "r", "a");
  const Lsn st = h.EmitTask("task.started", "r", "a");
  h.EmitTask("tool.result", "r", "a", Json{{"ok", true}});  // no new version
  const Lsn dn = h.EmitTask("task.succeeded", "r", "a");
  StateReader reader(h.store());
  SchedulerReader s(reader);
  auto hist = testing::Must(s.TaskHistory("r", "a", 0, UINT64_MAX));
  std::vector<std::pair<Lsn, TS>> got;
  for (const Task& t : hist) got.emplace_back(t.version, t.status);
  EXPECT_EQ(got,
            (std::vector<std::pair<Lsn, TS>>{
                {c, TS::kCreated}, {rd, TS::kReady}, {st, TS::kRunning}, {dn, TS::kSucceeded}}));
  EXPECT_EQ(testing::Must(s.TaskHistory("r", "a", rd, st)).size(), 2u);
  EXPECT_EQ(testing::Must(s.ChangedTasks("r", 0, UINT64_MAX)),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(testing::Must(s.ChangedTasks("r", other, UINT64_MAX)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(testing::Must(s.ChangedTasks("r", c, other)), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(testing::Must(s.ChangedTasks("r", dn, UINT64_MAX)).empty());
  EXPECT_EQ(s.head(), h.applied());
}

}  // namespace
}  // namespace tink::projections
