// Read-only engines (Access::kRead, and kAuto when the lock is taken) beside a writer that holds
// the store's lock: they answer stream/run/type scans completely (from the secondary's indexes,
// and from the log for what the secondary has not applied: ScanStats.tail_scanned), refuse
// every write, and change no byte of the store.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "projections/scheduler.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

using test::Note;
using test::ScanLsns;
namespace fs = std::filesystem;

std::unique_ptr<Engine> OpenOrDie(const std::string& dir, EngineOptions o = test::Fast()) {
  auto e = Engine::Open(dir, o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

EngineOptions ReadOnly() {
  EngineOptions o;
  o.access = Access::kRead;
  return o;
}

void AppendNotes(Engine& e, int from, int n) {
  for (int i = from; i < from + n; ++i) {
    auto r = e.Append(std::vector<schema::EventInput>{
        Note("s" + std::to_string(i % 3), std::to_string(i), "", "run" + std::to_string(i % 2))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

std::vector<Lsn> StreamOf(const std::vector<test::Logged>& all, const std::string& s,
                          Lsn upto = UINT64_MAX) {
  std::vector<Lsn> out;
  for (const auto& l : all) {
    if (l.stream == s && l.lsn <= upto) out.push_back(l.lsn);
  }
  return out;
}

// Path -> (size, XXH3 of the content) of every file under dir.
std::map<std::string, std::pair<uint64_t, uint64_t>> Snapshot(const std::string& dir) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) {
      out[f.path().string()] = {0, 0};
      continue;
    }
    const std::string bytes = testing::ReadFile(f.path());
    out[f.path().string()] = {bytes.size(), XXH3_64bits(bytes.data(), bytes.size())};
  }
  return out;
}

class EngineReadOnlyTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("s");
};

// The writer holds the lock without projections, so nothing but the reader touches STORE/state
// while it runs, and the state stays 100 events behind a log of 150.
TEST_F(EngineReadOnlyTest, ScansPastTheSecondaryAndWritesNothing) {
  {
    auto w = OpenOrDie(store_);
    AppendNotes(*w, 0, 100);
    ASSERT_TRUE(w->Close().ok());
  }
  EngineOptions wo = test::Fast();
  wo.projections = false;
  auto writer = OpenOrDie(store_, wo);
  AppendNotes(*writer, 100, 50);
  const auto all = test::ReadAll(*writer);
  ASSERT_EQ(all.size(), 150u);
  const auto before = Snapshot(store_);

  {
    auto r = OpenOrDie(store_, ReadOnly());
    EXPECT_FALSE(r->writable());
    EXPECT_EQ(r->log().LastLsn(), 150u);
    EXPECT_EQ(r->ProjectionsApplied(), 100u);
    for (const std::string s : {"s0", "s1", "s2"}) {
      LogQuery q;
      q.stream = s;
      ScanStats st;
      const std::vector<Lsn> got = ScanLsns(*r, q, &st);
      EXPECT_EQ(got, StreamOf(all, s)) << s;
      EXPECT_EQ(st.index, "stream");
      EXPECT_EQ(st.index_lsns, StreamOf(all, s, 100).size()) << s;
      EXPECT_EQ(st.tail_scanned, 50u) << "LSNs 101..150 come from the log";
      EXPECT_EQ(st.records_read, st.index_lsns + 50) << s;
    }
    LogQuery q;
    q.run = "run1";
    q.from = 90;
    q.to = 120;
    std::vector<Lsn> want;
    for (Lsn l = 90; l <= 120; ++l) {
      if ((l - 1) % 2 == 1) want.push_back(l);
    }
    EXPECT_EQ(ScanLsns(*r, q), want);

    auto refused = r->Append(std::vector<schema::EventInput>{Note("s0", "no")});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kNotSupported) << refused.status().ToString();
    EXPECT_FALSE(r->Replay("", 0, {}).ok());
    EXPECT_FALSE(r->Replay("streams", 10, {}).ok());
    EXPECT_FALSE(r->Check({}).ok());
    auto reader = r->NewReader();
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->applied("streams"), 100u);
    auto v = projections::StreamVersion(**reader, "s0");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, std::optional<uint64_t>(33)) << "s0 has 34 of the first 100 events";

    // kAuto finds the lock taken and opens for reading.
    EngineOptions ao;
    ao.access = Access::kAuto;
    auto a = OpenOrDie(store_, ao);
    EXPECT_FALSE(a->writable());
    q = LogQuery{};
    q.stream = "s2";
    EXPECT_EQ(ScanLsns(*a, q), StreamOf(all, "s2"));
    ASSERT_TRUE(a->Close().ok());
    reader->reset();
    ASSERT_TRUE(r->Close().ok());
  }
  EXPECT_EQ(Snapshot(store_), before) << "a read-only engine changed the store";
  // The writer is unaffected.
  AppendNotes(*writer, 150, 1);
  EXPECT_EQ(writer->log().LastLsn(), 151u);
}

// A live writer with its tail thread: the reader follows it (log Refresh; its state snapshot)
// and every scan is complete up to the LSN the reader's log has reached.
TEST_F(EngineReadOnlyTest, FollowsALiveWriter) {
  // With RocksDB's WAL on, a read-only open sees everything the writer had applied (not only
  // what it had flushed), so the index really answers here; the default (off) is covered above.
  EngineOptions wo = test::Fast();
  wo.rocksdb_wal = true;
  auto writer = OpenOrDie(store_, wo);
  AppendNotes(*writer, 0, 60);
  ASSERT_TRUE(writer->WaitForProjections(60, std::chrono::seconds(60)));
  auto r = OpenOrDie(store_, ReadOnly());
  for (int round = 0; round < 4; ++round) {
    AppendNotes(*writer, 60 + round * 30, 30);
    if (round % 2 == 0) {
      ASSERT_TRUE(writer->WaitForProjections(writer->log().LastLsn(), std::chrono::seconds(60)));
    }
    const Lsn seen = r->log().LastLsn();
    const auto all = test::ReadAll(*writer);
    LogQuery q;
    q.stream = "s1";
    EXPECT_EQ(ScanLsns(*r, q), StreamOf(all, "s1", seen)) << "round " << round << " before refresh";
    ASSERT_TRUE(r->log().Refresh().ok());
    EXPECT_EQ(r->log().LastLsn(), writer->log().LastLsn());
    for (const std::string s : {"s0", "s1", "s2"}) {
      q.stream = s;
      ScanStats st;
      EXPECT_EQ(ScanLsns(*r, q, &st), StreamOf(all, s)) << "round " << round;
      EXPECT_EQ(st.index, "stream");
      EXPECT_EQ(st.index_lsns + st.tail_scanned, st.records_read);
    }
    EXPECT_FALSE(r->Append(std::vector<schema::EventInput>{Note("s0", "no")}).ok());
  }
  ASSERT_TRUE(r->Close().ok());
  EXPECT_EQ(test::CheckProblems(*writer), "");
}

// A store whose state was never built (the writer runs without projections): the reader has no
// state and scans the log; it does not create STORE/state.
TEST_F(EngineReadOnlyTest, NoStateFallsBackToTheLog) {
  EngineOptions wo = test::Fast();
  wo.projections = false;
  auto writer = OpenOrDie(store_, wo);
  AppendNotes(*writer, 0, 30);
  ASSERT_FALSE(fs::exists(StateDir(store_)));
  auto r = OpenOrDie(store_, ReadOnly());
  const auto all = test::ReadAll(*writer);
  LogQuery q;
  q.stream = "s2";
  ScanStats st;
  EXPECT_EQ(ScanLsns(*r, q, &st), StreamOf(all, "s2"));
  EXPECT_EQ(st.index, "") << "no state: a log scan";
  EXPECT_EQ(st.records_read, 30u);
  EXPECT_TRUE(r->NewReader().status().IsNotFound());
  ASSERT_TRUE(r->Close().ok());
  EXPECT_FALSE(fs::exists(StateDir(store_)));
}

// Appends `n` task.created events to run "r" (tasks t<from>..) and returns the last LSN.
Lsn AppendTasks(Engine& e, int from, int n) {
  std::vector<schema::EventInput> evs;
  for (int i = from; i < from + n; ++i) {
    evs.push_back(test::Event("run/r/task/t" + std::to_string(i), "task.created",
                              {{"task", "t" + std::to_string(i)}, {"name", "step"}}, "", "r"));
  }
  auto r = e.Append(evs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->lsns.back() : 0;
}

// The tasks a fresh read-only open sees, and the LSN its scheduler state is at.
std::pair<size_t, Lsn> TasksSeenByAReader(const std::string& store) {
  auto r = Engine::Open(store, ReadOnly());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {0, 0};
  auto reader = (*r)->NewReader();
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return {0, 0};
  projections::SchedulerReader sched(**reader);
  const Lsn at = (*reader)->applied("scheduler");
  auto tasks = sched.ListTasks(std::nullopt, at);
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return {tasks.ok() ? tasks->size() : 0, at};
}

// With RocksDB's WAL off a reader sees only flushed state; the writer's tail thread flushes about
// once a second after applying, so a reader opened a little later sees the writer's tasks while
// the writer keeps the store open.
TEST_F(EngineReadOnlyTest, TheTailThreadFlushesTheStateForReaders) {
  EngineOptions wo = test::Fast();
  ASSERT_EQ(wo.state_flush_interval, std::chrono::milliseconds(1000)) << "the default";
  auto writer = OpenOrDie(store_, wo);
  const Lsn last = AppendTasks(*writer, 0, 20);
  ASSERT_EQ(last, 20u);
  ASSERT_TRUE(writer->WaitForProjections(last, std::chrono::seconds(60)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // The flush is due by now; a slow machine gets more time (a deadline, not a measurement).
  std::pair<size_t, Lsn> seen = TasksSeenByAReader(store_);
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       seen.second < last && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = TasksSeenByAReader(store_);
  }
  EXPECT_EQ(seen.second, last);
  EXPECT_EQ(seen.first, 20u);

  // More, while the writer stays open: seen again after the next flush.
  const Lsn more = AppendTasks(*writer, 20, 5);
  ASSERT_TRUE(writer->WaitForProjections(more, std::chrono::seconds(60)));
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       seen.second < more && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = TasksSeenByAReader(store_);
  }
  EXPECT_EQ(seen.second, more);
  EXPECT_EQ(seen.first, 25u);
  EXPECT_TRUE(writer->projection_status().ok()) << writer->projection_status().ToString();
  ASSERT_TRUE(writer->Close().ok());
}

// state_flush_interval 0: the state is flushed only at Close, so a reader meanwhile answers from
// what the last writer left, and says so: its state is behind its log.
TEST_F(EngineReadOnlyTest, WithoutThePeriodicFlushAReaderSeesTheStateBehindTheLog) {
  {
    auto w = OpenOrDie(store_);
    AppendTasks(*w, 0, 3);
    ASSERT_TRUE(w->Close().ok());
  }
  EngineOptions wo = test::Fast();
  wo.state_flush_interval = std::chrono::milliseconds(0);
  auto writer = OpenOrDie(store_, wo);
  const Lsn last = AppendTasks(*writer, 3, 4);
  ASSERT_TRUE(writer->WaitForProjections(last, std::chrono::seconds(60)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::pair<size_t, Lsn> seen = TasksSeenByAReader(store_);
  EXPECT_EQ(seen, (std::pair<size_t, Lsn>{3, 3}));
  auto r = OpenOrDie(store_, ReadOnly());
  EXPECT_EQ(r->ProjectionsApplied(), 3u);
  EXPECT_EQ(r->log().LastLsn(), last) << "the log itself is current";
  ASSERT_TRUE(r->Close().ok());
  ASSERT_TRUE(writer->Close().ok());
  EXPECT_EQ(TasksSeenByAReader(store_), (std::pair<size_t, Lsn>{7, 7}));
}

}  // namespace
}  // namespace tink::engine
