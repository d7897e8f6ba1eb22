// Determinism of the projections over a long pseudo-random run (>= 10,000 events: many tasks,
// every event kind, legal and illegal transitions, undecodable records):
//  - as of N on the full state equals a fresh replay of events 1..N, for every 100th N;
//  - batch boundaries do not matter: any batching gives the same Digest for every projection.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "projections_test_util.h"
#include "support/temp_dir.h"

namespace tink::projections {
namespace {

using testing::DumpAll;
using testing::EventLog;
using testing::Input;
using testing::Must;
using testing::OpenState;
using Json = nlohmann::json;
using TS = TaskStatus;

constexpr size_t kEvents = 12'000;

// Generates the run. A model of each task's status steers most events along legal paths; about
// one event in twenty is illegal on purpose (wrong state, unknown task, repeats, empty ids).
class RunGenerator {
 public:
  explicit RunGenerator(uint64_t seed) : rng_(seed) {}

  void Generate(EventLog* log, size_t n) {
    log_ = log;
    while (log_->size() < n) Step();
  }
  const std::set<std::string>& runs() const { return runs_seen_; }

 private:
  struct ModelTask {
    std::string run, id;
    TS status;
  };

  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  void Add(const std::string& type, const std::string& run, Json data, std::string stream = "") {
    // Record times never decrease and often repeat; `occurred` is set on about half the events
    // and wanders (importers' clocks), sometimes backwards.
    if (Chance(40)) time_ += 1 + static_cast<int64_t>(Pick(3000));
    int64_t occurred = 0;
    if (Chance(50)) {
      occurred = time_ - 50'000 + static_cast<int64_t>(Pick(100'000));
    }
    if (stream.empty()) stream = "run/" + run;
    log_->Add(Input(type, run, data, occurred, stream, "ev-" + std::to_string(log_->size() + 1)),
              time_);
    if (!run.empty()) runs_seen_.insert(run);
  }

  std::string RandomRun() {
    if (Chance(3)) return "";  // events without a run belong to run ""
    return "run-" + std::to_string(Pick(8));
  }

  ModelTask* RandomTask() {
    if (tasks_.empty()) return nullptr;
    return &tasks_[Pick(tasks_.size())];
  }

  void TaskEvent(const std::string& type, ModelTask* t, TS to, Json extra = Json::object()) {
    extra["task"] = t->id;
    Add(type, t->run, extra, "run/" + t->run + "/task/" + t->id);
    t->status = to;  // a known task moves even when the move is illegal
  }

  void Legal(ModelTask* t) {
    switch (t->status) {
      case TS::kCreated:
        if (Chance(90)) return TaskEvent("task.ready", t, TS::kReady);
        return TaskEvent("task.cancelled", t, TS::kCancelled);
      case TS::kReady:
        if (Chance(93)) return TaskEvent("task.started", t, TS::kRunning, {{"worker", "w"}});
        return TaskEvent("task.cancelled", t, TS::kCancelled);
      case TS::kRunning: {
        const size_t k = Pick(100);
        if (k < 20) return TaskEvent("task.yielded", t, TS::kReady);
        if (k < 45) {
          Json w = {{"wait_kind", Chance(50) ? "join" : "io"}};
          // Joins mostly name a task of the run, sometimes one that does not exist.
          w["waiting_on"] = Chance(85) ? "t" + std::to_string(Pick(next_task_ + 1)) : "ghost";
          return TaskEvent("task.waiting", t, TS::kWaiting, w);
        }
        if (k < 75) return TaskEvent("task.succeeded", t, TS::kSucceeded, {{"result", {{"k", k}}}});
        if (k < 95)
          return TaskEvent("task.failed", t, TS::kFailed, {{"error", "e" + std::to_string(k)}});
        return TaskEvent("task.cancelled", t, TS::kCancelled);
      }
      case TS::kWaiting:
        if (Chance(45)) return TaskEvent("task.resumed", t, TS::kReady);
        if (Chance(80)) return TaskEvent("task.ready", t, TS::kReady);
        return TaskEvent("task.cancelled", t, TS::kCancelled);
      case TS::kFailed:
        if (Chance(70)) return TaskEvent("task.retried", t, TS::kReady, {{"attempt", 2}});
        return Attributed(t);
      default:
        return Attributed(t);  // final: only counters
    }
  }

  void Attributed(ModelTask* t) {
    const std::string id = t->id;
    const std::string run = t->run;
    const std::string call = "c" + std::to_string(log_->size());
    switch (Pick(6)) {
      case 0:
        return Add("llm.request", run, {{"task", id}, {"call_id", call}, {"model", "m"}});
      case 1:
        return Add("llm.response", run,
                   {{"task", id}, {"call_id", call}, {"content", "ok"}, {"input_tokens", 12}});
      case 2:
        return Add("llm.error", run, {{"task", id}, {"call_id", call}, {"error", "429"}});
      case 3:
        return Add("tool.call", run, {{"task", id}, {"call_id", call}, {"tool", "bash"}});
      default: {
        Json r = {{"task", id}, {"call_id", call}};
        const size_t k = Pick(5);
        if (k == 1) r["exit_code"] = 1;
        if (k == 2) r["ok"] = false;
        if (k == 3) r["error"] = "boom";
        if (k == 4) r["exit_code"] = 0;
        return Add("tool.result", run, r);
      }
    }
  }

  void Illegal() {
    static const std::vector<std::pair<std::string, TS>> kTaskEvents = {
        {"task.ready", TS::kReady},        {"task.started", TS::kRunning},
        {"task.yielded", TS::kReady},      {"task.waiting", TS::kWaiting},
        {"task.resumed", TS::kReady},      {"task.succeeded", TS::kSucceeded},
        {"task.failed", TS::kFailed},      {"task.retried", TS::kReady},
        {"task.cancelled", TS::kCancelled}};
    const auto& [type, to] = kTaskEvents[Pick(kTaskEvents.size())];
    const size_t k = Pick(10);
    if (k < 5) {
      if (ModelTask* t = RandomTask()) return TaskEvent(type, t, to);  // any state: maybe wrong
    }
    if (k < 7) return Add(type, RandomRun(), {{"task", "nobody"}});  // unknown task
    if (k < 8) return Add("tool.call", RandomRun(), {{"task", "nobody"}});
    if (k < 9) return Add(type, RandomRun(), {{"task", ""}});  // empty task id
    if (ModelTask* t = RandomTask()) {                         // a second task.created
      return Add("task.created", t->run, {{"task", t->id}, {"name", "again"}});
    }
  }

  void Create() {
    const std::string run = RandomRun();
    ModelTask t{run, "t" + std::to_string(next_task_++), TS::kCreated};
    Json d = {{"task", t.id}, {"name", "task " + t.id}};
    if (Chance(60)) d["priority"] = static_cast<int>(Pick(7)) - 2;
    if (Chance(50) && next_task_ > 1) {
      // Usually an earlier task (maybe of another run, then unknown here), sometimes a ghost.
      d["parent"] = Chance(90) ? "t" + std::to_string(Pick(next_task_ - 1)) : "ghost";
    }
    Add("task.created", run, d, "run/" + run + "/task/" + t.id);
    tasks_.push_back(std::move(t));
  }

  void Step() {
    const size_t k = Pick(1000);
    if (k < 5) {
      log_->AddUndecodable(time_);
    } else if (k < 15) {
      Add("run.started", RandomRun(), {{"name", "n"}, {"agent", "a"}, {"model", "m"}});
    } else if (k < 20) {
      static const char* kStatus[] = {"succeeded", "failed", "cancelled", "weird"};
      Add("run.finished", RandomRun(), {{"status", kStatus[Pick(4)]}, {"error", "x"}});
    } else if (k < 30) {
      Add("note", RandomRun(), {{"text", "thinking"}, {"kind", "thought"}});
    } else if (k < 35) {
      // The canvas: writes, patches (some apply, some not: anomalies), deletes, renames and
      // escaping paths, on a few paths per run.
      static const char* kPaths[] = {"a.txt", "d/b.txt", "c.txt", "../evil"};
      const std::string path = kPaths[Pick(4)];
      switch (Pick(5)) {
        case 0: Add("file.patch", RandomRun(), {{"path", path}, {"diff", "@@ -1 +1 @@\n-x\n+y\n"}}); break;
        case 1: Add("file.delete", RandomRun(), {{"path", path}}); break;
        case 2: Add("file.rename", RandomRun(), {{"path", path}, {"to", kPaths[Pick(4)]}}); break;
        default:
          Add("file.write", RandomRun(), {{"path", path}, {"content", Pick(2) ? "x\n" : "y\n"}});
      }
    } else if (k < 40) {
      Add("my.custom", RandomRun(), {{"anything", {1, 2, 3}}}, "custom");
    } else if (k < 140 || tasks_.size() < 20) {
      Create();
    } else if (k < 190) {
      Illegal();
    } else if (k < 330) {
      if (ModelTask* t = RandomTask()) Attributed(t);
    } else {
      // Prefer tasks that can still move, so the run keeps flowing.
      for (int tries = 0; tries < 8; ++tries) {
        ModelTask* t = RandomTask();
        if (t->status != TS::kSucceeded && t->status != TS::kCancelled) return Legal(t);
      }
      Create();
    }
  }

  std::mt19937_64 rng_;
  EventLog* log_ = nullptr;
  std::vector<ModelTask> tasks_;
  size_t next_task_ = 0;
  int64_t time_ = 1'750'000'000'000'000'000;
  std::set<std::string> runs_seen_;
};

// Everything the scheduler and index views say as of `as_of`, one string per row.
std::vector<std::string> Snapshot(StateStore* st, Lsn as_of, const std::set<std::string>& runs) {
  StateReader r(st);
  SchedulerReader s(r);
  std::vector<std::string> out;
  auto add = [&](const std::string& what, const std::vector<std::string>& rows) {
    out.push_back("== " + what);
    out.insert(out.end(), rows.begin(), rows.end());
  };
  add("tasks", DumpAll(Must(s.ListTasks(std::nullopt, as_of))));
  add("runs", DumpAll(Must(s.ListRuns(as_of))));
  add("anomalies", DumpAll(Must(s.Anomalies(std::nullopt, as_of))));
  for (const std::string& run : runs) {
    add("ready " + run, DumpAll(Must(s.ReadyQueue(run, as_of))));
    std::vector<std::string> tree;
    for (const auto& n : Must(s.Tree(run, as_of))) {
      tree.push_back(std::to_string(n.depth) + " " + n.task.id);
    }
    add("tree " + run, tree);
    std::vector<std::string> lsns;
    EXPECT_TRUE(RunLsns(r, run, 0, as_of, [&](Lsn l) {
                  lsns.push_back(std::to_string(l));
                  return true;
                }).ok());
    add("run lsns " + run, lsns);
  }
  return out;
}

class ReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_ = new EventLog();
    gen_ = new RunGenerator(20261125);
    gen_->Generate(log_, kEvents);
  }
  static void TearDownTestSuite() {
    delete gen_;
    delete log_;
  }
  static EventLog* log_;
  static RunGenerator* gen_;
};
EventLog* ReplayTest::log_ = nullptr;
RunGenerator* ReplayTest::gen_ = nullptr;

TEST_F(ReplayTest, GeneratedRunIsRichEnough) {
  ASSERT_GE(log_->size(), 10'000u);
  std::map<std::string, int> types;
  int undecodable = 0;
  for (Lsn l = 1; l <= log_->last(); ++l) {
    if (log_->at(l).fb == nullptr) {
      ++undecodable;
      continue;
    }
    types[std::string(log_->at(l).view.type)]++;
  }
  for (const char* t :
       {"run.started",  "run.finished",   "task.created", "task.ready",     "task.started",
        "task.yielded", "task.waiting",   "task.resumed", "task.succeeded", "task.failed",
        "task.retried", "task.cancelled", "llm.request",  "llm.response",   "llm.error",
        "tool.call",    "tool.result",    "note",         "file.write",     "my.custom"}) {
    EXPECT_GT(types[t], 10) << t;
  }
  EXPECT_GT(undecodable, 10);
  tink::testing::TempDir dir;
  auto st = OpenState(dir.path());
  ASSERT_TRUE(log_->ApplyTo(st->store.get(), 1, log_->last()).ok());
  StateReader r(st->store.get());
  SchedulerReader s(r);
  const auto tasks = Must(s.ListTasks(std::nullopt, UINT64_MAX));
  const auto anomalies = Must(s.Anomalies(std::nullopt, UINT64_MAX));
  EXPECT_GT(tasks.size(), 500u);
  EXPECT_GT(anomalies.size(), 300u);
  EXPECT_LT(anomalies.size(), log_->size() / 4) << "mostly legal";
  int per_state[8] = {};
  for (const Task& t : tasks) per_state[static_cast<int>(t.status)]++;
  for (int i = 1; i < 8; ++i) EXPECT_GT(per_state[i], 5) << TaskStatusName(static_cast<TS>(i));
}

TEST_F(ReplayTest, AsOfEqualsPrefixReplay) {
  tink::testing::TempDir full_dir, prefix_dir;
  auto full = OpenState(full_dir.path());
  std::mt19937_64 rng(99);
  // Varying batch sizes, some past the threshold where the StateStore folds on two threads.
  ASSERT_TRUE(log_->ApplyInBatches(full->store.get(), 1, log_->last(),
                                   [&]() -> size_t {
                                     const size_t k = rng() % 10;
                                     return k < 6   ? 1 + rng() % 40
                                            : k < 9 ? 100 + rng() % 300
                                                    : 600 + rng() % 900;
                                   })
                  .ok());
  ASSERT_EQ(full->store->min_applied(), log_->last());

  // The prefix state, advanced 100 events at a time: at each step it is a replay of 1..N.
  auto prefix = OpenState(prefix_dir.path());
  size_t compared = 0;
  for (Lsn n = 100; n <= log_->last(); n += 100) {
    ASSERT_TRUE(log_->ApplyTo(prefix->store.get(), n - 99, n).ok());
    const auto want = Snapshot(prefix->store.get(), UINT64_MAX, gen_->runs());
    const auto got = Snapshot(full->store.get(), n, gen_->runs());
    ASSERT_EQ(got.size(), want.size()) << "as of " << n;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "as of " << n << ", row " << i;
    }
    compared += got.size();
  }
  EXPECT_GT(compared, 100'000u);
  // At the end both have folded the same events, in different batches.
  ASSERT_TRUE(log_->ApplyTo(prefix->store.get(), 1, log_->last()).ok());
  for (const char* p : testing::kAllProjectionNames) {
    EXPECT_EQ(Must(prefix->store->Digest(p)), Must(full->store->Digest(p))) << p;
  }
}

TEST_F(ReplayTest, BatchBoundariesDoNotMatter) {
  std::map<std::string, std::string> reference;
  const std::vector<std::pair<std::string, std::function<size_t()>>> batchings = [] {
    auto rng = std::make_shared<std::mt19937_64>(5);
    return std::vector<std::pair<std::string, std::function<size_t()>>>{
        {"all at once", [] { return kEvents * 2; }},
        {"one by one", [] { return size_t{1}; }},
        {"7", [] { return size_t{7}; }},
        {"512", [] { return size_t{512}; }},
        {"random", [rng] { return 1 + (*rng)() % 1200; }},
    };
  }();
  for (const auto& [name, sizes] : batchings) {
    SCOPED_TRACE(name);
    tink::testing::TempDir dir;
    auto st = OpenState(dir.path());
    ASSERT_TRUE(log_->ApplyInBatches(st->store.get(), 1, log_->last(), sizes).ok());
    for (const char* p : testing::kAllProjectionNames) {
      const std::string d = Must(st->store->Digest(p));
      if (reference.count(p) == 0) {
        reference[p] = d;
      } else {
        EXPECT_EQ(d, reference[p]) << p;
      }
    }
    // A reopen (caches gone) in the middle of the log changes nothing either.
    if (name == "7") {
      tink::testing::TempDir d2;
      {
        auto a = OpenState(d2.path());
        ASSERT_TRUE(log_->ApplyTo(a->store.get(), 1, log_->last() / 3).ok());
      }
      auto b = OpenState(d2.path());
      ASSERT_TRUE(log_->ApplyTo(b->store.get(), 1, log_->last()).ok());
      for (const char* p : testing::kAllProjectionNames) {
        EXPECT_EQ(Must(b->store->Digest(p)), reference[p]) << p << " after a reopen";
      }
    }
  }
  EXPECT_EQ(reference.size(), std::size(testing::kAllProjectionNames));
}

// A rebuild's bulk load (each batch's writes buffered in sorted runs that the fold reads
// through, SST files written in key order and ingested past a bound) folds the same state as the
// incremental fold through the memtables: every projection's digest, and every row of the
// scheduler and index views as of every 400th LSN. A small bound makes it ingest many times; the
// state stays the same after a reopen.
TEST_F(ReplayTest, BulkRebuildEqualsIncrementalFold) {
  tink::testing::TempDir inc_dir, bulk_dir;
  auto inc = OpenState(inc_dir.path());
  ASSERT_TRUE(
      log_->ApplyInBatches(inc->store.get(), 1, log_->last(), [] { return size_t{300}; }).ok());
  uint64_t ingests = 0;
  {
    auto bulk = OpenState(bulk_dir.path());
    testing::AllProjections fresh;
    auto rebuild = bulk->store->BeginRebuild(fresh.list(), /*bulk_bytes=*/96 << 10);
    ASSERT_TRUE(rebuild.ok()) << rebuild.status().ToString();
    std::mt19937_64 rng(7);
    for (Lsn from = 1; from <= log_->last();) {
      const Lsn to = std::min<Lsn>(log_->last(), from + rng() % 700);
      Status s = (*rebuild)->Apply(log_->Events(from, to), log_->Hashes(from, to));
      ASSERT_TRUE(s.ok()) << s.ToString();
      from = to + 1;
    }
    ingests = (*rebuild)->ingests();
    ASSERT_TRUE(bulk->store->Swap(**rebuild).ok());
    ASSERT_TRUE(bulk->store->DropRetired().ok());
    for (const char* p : testing::kAllProjectionNames) {
      EXPECT_EQ(Must(bulk->store->Digest(p)), Must(inc->store->Digest(p))) << p;
    }
    size_t compared = 0;
    for (Lsn n = 400; n <= log_->last() + 399; n += 400) {
      const auto want = Snapshot(inc->store.get(), n, gen_->runs());
      const auto got = Snapshot(bulk->store.get(), n, gen_->runs());
      ASSERT_EQ(got.size(), want.size()) << "as of " << n;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i], want[i]) << "as of " << n << ", row " << i;
      }
      compared += got.size();
    }
    EXPECT_GT(compared, 10'000u);
  }
  EXPECT_GE(ingests, 4u);
  auto reopened = OpenState(bulk_dir.path());
  for (const char* p : testing::kAllProjectionNames) {
    EXPECT_EQ(Must(reopened->store->Digest(p)), Must(inc->store->Digest(p))) << p << " reopened";
  }
  EXPECT_EQ(reopened->store->min_applied(), log_->last());
}

}  // namespace
}  // namespace tink::projections
