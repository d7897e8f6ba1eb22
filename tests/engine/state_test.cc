// The projection state against the log it claims to come from: after the log is truncated
// (tink recover --truncate-at) and different events are appended, with a state copied from
// another store, and with a damaged state, the next writable open rebuilds what does not match
// (Engine::state_resets says why) and every projection equals a fresh replay; a read-only open
// does not use such a state and still answers from the log. Replay leaves the engine usable.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
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

// Appends `batches` batches of 5 notes (ids prefix-<batch>-<k>) alternating streams a and b.
void AppendBatches(Engine& e, const std::string& prefix, int batches,
                   const std::string& type = "note") {
  for (int b = 0; b < batches; ++b) {
    std::vector<schema::EventInput> batch;
    for (int k = 0; k < 5; ++k) {
      const std::string id = prefix + "-" + std::to_string(b) + "-" + std::to_string(k);
      if (type == "note") {
        batch.push_back(Note(k % 2 ? "a" : "b", id, id, "run-" + prefix));
      } else {
        batch.push_back(test::Event(prefix, type, {{"n", b * 5 + k}}, id, "run-" + prefix));
      }
    }
    auto r = e.Append(batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

std::vector<Lsn> Where(const std::vector<test::Logged>& all,
                       const std::function<bool(const test::Logged&)>& pred) {
  std::vector<Lsn> out;
  for (const auto& l : all) {
    if (pred(l)) out.push_back(l.lsn);
  }
  return out;
}

// Every index query the engine answers agrees with the log itself.
void ExpectIndexesMatchLog(Engine& e) {
  // Scans are complete either way; the direct state lookups below need the tail thread done.
  ASSERT_TRUE(e.WaitForProjections(e.log().LastLsn(), std::chrono::seconds(60)));
  const auto all = test::ReadAll(e);
  std::set<std::string> streams, runs, types;
  for (const auto& l : all) {
    streams.insert(l.stream);
    runs.insert(l.run);
    types.insert(l.type);
  }
  streams.insert("a");
  streams.insert("never");
  for (const std::string& s : streams) {
    LogQuery q;
    q.stream = s;
    EXPECT_EQ(ScanLsns(e, q), Where(all, [&](const auto& l) { return l.stream == s; })) << s;
  }
  for (const std::string& r : runs) {
    if (r.empty()) continue;
    LogQuery q;
    q.run = r;
    EXPECT_EQ(ScanLsns(e, q), Where(all, [&](const auto& l) { return l.run == r; })) << r;
  }
  for (const std::string& t : types) {
    LogQuery q;
    q.type = t;
    EXPECT_EQ(ScanLsns(e, q), Where(all, [&](const auto& l) { return l.type == t; })) << t;
  }
  auto reader = e.NewReader();
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  for (const std::string& s : streams) {
    auto v = projections::StreamVersion(**reader, s);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, test::VersionOf(all, s)) << s;
  }
  for (const auto& l : all) {
    auto lsn = projections::LookupId(**reader, l.id);
    ASSERT_TRUE(lsn.ok());
    EXPECT_EQ(*lsn, std::optional<Lsn>(l.lsn)) << l.id;
  }
}

bool AnyContains(const std::vector<std::string>& lines, const std::string& what) {
  for (const auto& l : lines) {
    if (l.find(what) != std::string::npos) return true;
  }
  return false;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

class EngineStateTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("s");
};

// Truncate, then append different events without touching the state (projections off), so the
// log grows past where the state stood: the state's applied LSNs exist but name other events.
TEST_F(EngineStateTest, TruncatedLogWithDifferentEventsIsDetectedAndRebuilt) {
  {
    auto e = OpenOrDie(store_);
    AppendBatches(*e, "old", 10);  // LSNs 1..50
    ASSERT_TRUE(e->Close().ok());
  }
  {
    auto held = OpenOrDie(store_);
    auto refused = TruncateStoreAt(store_, 26);
    EXPECT_FALSE(refused.ok()) << "truncation must take the store's lock";
  }
  auto cut = TruncateStoreAt(store_, 28);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(*cut, 25u) << "rounded down to the start of the batch holding LSN 28";
  {
    EngineOptions o = test::Fast();
    o.projections = false;
    auto e = OpenOrDie(store_, o);
    AppendBatches(*e, "new", 10, "myapp.new");  // LSNs 26..75
    ASSERT_TRUE(e->Close().ok());
  }
  auto e = OpenOrDie(store_);
  EXPECT_FALSE(e->state_resets().empty());
  EXPECT_TRUE(AnyContains(e->state_resets(), "is not the one it was built from"))
      << Joined(e->state_resets());
  EXPECT_EQ(e->state_resets().size(), e->ProjectionNames().size()) << Joined(e->state_resets());
  EXPECT_EQ(e->ProjectionsApplied(), 75u);
  EXPECT_EQ(test::CheckProblems(*e), "");
  ExpectIndexesMatchLog(*e);
  // Ids that were truncated away are new again; ids of the new events are duplicates.
  auto again = e->Append(std::vector<schema::EventInput>{Note("a", "x", "old-9-0")});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->lsns, std::vector<Lsn>{76});
  auto dup = e->Append(std::vector<schema::EventInput>{Note("a", "x", "new-0-0")});
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->lsns, std::vector<Lsn>{26});
  // Stream versions come from the rebuilt state: "a" lost its truncated events.
  AppendOptions exact;
  exact.expected = Expected{Expected::Kind::kExact, 10};  // versions 0..9 kept, LSN 76 is 10
  EXPECT_TRUE(e->Append(std::vector<schema::EventInput>{Note("a", "y")}, exact).ok());
  ASSERT_TRUE(e->Close().ok());
  e = OpenOrDie(store_);
  EXPECT_EQ(e->state_resets(), std::vector<std::string>{}) << "a rebuilt state is kept";
  EXPECT_EQ(test::CheckProblems(*e), "");
}

TEST_F(EngineStateTest, TruncatedLogIsDetectedAtTheNextOpen) {
  {
    auto e = OpenOrDie(store_);
    AppendBatches(*e, "old", 6);
    ASSERT_TRUE(e->Close().ok());
  }
  ASSERT_TRUE(TruncateStoreAt(store_, 11).ok());
  {
    auto e = OpenOrDie(store_);
    EXPECT_TRUE(AnyContains(e->state_resets(), "but the log ends at 10"))
        << Joined(e->state_resets());
    EXPECT_EQ(test::CheckProblems(*e), "");
    AppendBatches(*e, "new", 3);
    ExpectIndexesMatchLog(*e);
    ASSERT_TRUE(e->Close().ok());
  }
  auto e = OpenOrDie(store_);
  EXPECT_EQ(e->state_resets(), std::vector<std::string>{});
  EXPECT_EQ(test::CheckProblems(*e), "");
  ExpectIndexesMatchLog(*e);
}

TEST_F(EngineStateTest, StateOfAnotherStoreIsDetectedAndRebuilt) {
  const std::string other = tmp_.Sub("other");
  {
    auto a = OpenOrDie(other);
    AppendBatches(*a, "foreign", 6);  // 30 events
    ASSERT_TRUE(a->Close().ok());
    auto b = OpenOrDie(store_);
    AppendBatches(*b, "mine", 4);  // 20 events
    ASSERT_TRUE(b->Close().ok());
  }
  fs::remove_all(StateDir(store_));
  fs::copy(StateDir(other), StateDir(store_), fs::copy_options::recursive);

  {
    // A reader must not answer from it either.
    EngineOptions ro;
    ro.access = Access::kRead;
    auto r = OpenOrDie(store_, ro);
    LogQuery q;
    q.stream = "a";
    EXPECT_EQ(ScanLsns(*r, q), (std::vector<Lsn>{2, 4, 7, 9, 12, 14, 17, 19}));
    q.stream = "";
    q.run = "run-foreign";
    EXPECT_EQ(ScanLsns(*r, q), std::vector<Lsn>{});
  }
  auto e = OpenOrDie(store_);
  EXPECT_TRUE(AnyContains(e->state_resets(), "belongs to store")) << Joined(e->state_resets());
  EXPECT_EQ(test::CheckProblems(*e), "");
  ExpectIndexesMatchLog(*e);
  auto r = e->Append(std::vector<schema::EventInput>{Note("a", "x", "foreign-0-0")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate) << "an id of the other store must not count here";
  ASSERT_TRUE(e->Close().ok());
  e = OpenOrDie(store_);
  EXPECT_EQ(e->state_resets(), std::vector<std::string>{});
  // The other store is untouched by all this.
  auto a = OpenOrDie(other);
  EXPECT_EQ(a->state_resets(), std::vector<std::string>{});
  EXPECT_EQ(test::CheckProblems(*a), "");
}

enum class Damage { kGarbageCurrent, kEmptyCurrent, kNoCurrent, kGarbageEverywhere, kStateIsAFile };

std::string DamageName(const ::testing::TestParamInfo<Damage>& info) {
  static const char* kNames[] = {"GarbageCurrent", "EmptyCurrent", "NoCurrent", "GarbageEverywhere",
                                 "StateIsAFile"};
  return kNames[static_cast<int>(info.param)];
}

class EngineDamagedStateTest : public ::testing::TestWithParam<Damage> {
 protected:
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("s");
};

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

TEST_P(EngineDamagedStateTest, IsRebuiltNotAnError) {
  {
    auto e = OpenOrDie(store_);
    AppendBatches(*e, "x", 8);
    ASSERT_TRUE(e->Close().ok());
  }
  const std::string sdir = StateDir(store_);
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  auto garbage = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  switch (GetParam()) {
    case Damage::kGarbageCurrent:
      WriteFile(sdir + "/CURRENT", garbage(64));
      break;
    case Damage::kEmptyCurrent:
      WriteFile(sdir + "/CURRENT", "");
      break;
    case Damage::kNoCurrent:
      fs::remove(sdir + "/CURRENT");
      break;
    case Damage::kGarbageEverywhere:
      for (const auto& f : fs::directory_iterator(sdir)) {
        if (f.is_regular_file()) WriteFile(f.path(), garbage(fs::file_size(f.path()) + 1));
      }
      break;
    case Damage::kStateIsAFile:
      fs::remove_all(sdir);
      WriteFile(sdir, garbage(100));
      break;
  }
  {
    EngineOptions ro;
    ro.access = Access::kRead;
    auto r = Engine::Open(store_, ro);
    ASSERT_TRUE(r.ok()) << "a reader answers from the log: " << r.status().ToString();
    LogQuery q;
    q.stream = "a";
    EXPECT_EQ(ScanLsns(**r, q).size(), 16u);
  }
  auto e = Engine::Open(store_, test::Fast());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE((*e)->state_resets().empty());
  EXPECT_TRUE(fs::is_directory(sdir));
  EXPECT_EQ((*e)->ProjectionsApplied(), 40u);
  EXPECT_EQ(test::CheckProblems(**e), "");
  ExpectIndexesMatchLog(**e);
  auto dup = (*e)->Append(std::vector<schema::EventInput>{Note("a", "?", "x-3-1")});
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->lsns, std::vector<Lsn>{17});
}

INSTANTIATE_TEST_SUITE_P(Damage, EngineDamagedStateTest,
                         ::testing::Values(Damage::kGarbageCurrent, Damage::kEmptyCurrent,
                                           Damage::kNoCurrent, Damage::kGarbageEverywhere,
                                           Damage::kStateIsAFile),
                         DamageName);

TEST_F(EngineStateTest, DeletedStateIsRebuiltSilently) {
  {
    auto e = OpenOrDie(store_);
    AppendBatches(*e, "x", 4);
    ASSERT_TRUE(e->Close().ok());
  }
  fs::remove_all(StateDir(store_));
  auto e = OpenOrDie(store_);
  EXPECT_EQ(e->ProjectionsApplied(), 20u);
  EXPECT_EQ(test::CheckProblems(*e), "");
  ExpectIndexesMatchLog(*e);
}

// SST files per level (L0..L6) of a projection's column family, and the memtable's entries.
std::string Shape(Engine& e, const std::string& projection) {
  auto r = e.NewReader();
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return "";
  rocksdb::DB* db = (*r)->store()->db();
  rocksdb::ColumnFamilyHandle* h = (*r)->store()->cf(projection);
  std::string out, v;
  for (int l = 0; l < 7; ++l) {
    EXPECT_TRUE(db->GetProperty(h, "rocksdb.num-files-at-level" + std::to_string(l), &v));
    out += (l ? "/" : "") + v;
  }
  EXPECT_TRUE(db->GetProperty(h, "rocksdb.num-entries-active-mem-table", &v));
  return out + " mem " + v;
}

// A catch-up at open that folds most of the log (at least compact_after_catch_up events) ends
// with a compaction of every projection, as a replay does: no memtable, no L0 file, one sorted
// run. Below the threshold the catch-up's writes stay in the memtable. Answers are the same.
TEST_F(EngineStateTest, LargeCatchUpAtOpenIsCompacted) {
  {
    auto e = OpenOrDie(store_);
    AppendBatches(*e, "x", 40);
    ASSERT_TRUE(e->Close().ok());
  }
  for (const uint64_t threshold : {1000u, 100u}) {
    fs::remove_all(StateDir(store_));
    EngineOptions o = test::Fast();
    o.tail = false;  // no flush of its own
    o.compact_after_catch_up = threshold;
    auto e = OpenOrDie(store_, o);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->ProjectionsApplied(), 200u);
    for (const char* p : {"ids", "streams", "types"}) {
      const std::string shape = Shape(*e, p);
      if (threshold > 200) {
        EXPECT_TRUE(shape.starts_with("0/0/0/0/0/0/0 mem ")) << p << ": " << shape;
        EXPECT_NE(shape, "0/0/0/0/0/0/0 mem 0") << p;
      } else {
        EXPECT_TRUE(shape.starts_with("0/")) << p << ": " << shape;
        EXPECT_TRUE(shape.ends_with(" mem 0")) << p << ": " << shape;
        EXPECT_NE(shape, "0/0/0/0/0/0/0 mem 0") << p;
      }
    }
    EXPECT_EQ(test::CheckProblems(*e), "");
    ExpectIndexesMatchLog(*e);
    ASSERT_TRUE(e->Close().ok());
  }
}

// Replay to an LSN leaves the state there; Check catches it up again and finds it equal. A
// replay of an unknown projection is refused and leaves the engine tailing as before.
TEST_F(EngineStateTest, ReplayToAnLsnThenCheck) {
  auto e = OpenOrDie(store_);
  AppendBatches(*e, "x", 6);
  ASSERT_TRUE(e->Replay("", 12, {}).ok());
  EXPECT_EQ(e->ProjectionsApplied(), 12u);
  ASSERT_TRUE(e->Replay("streams", 0, {}).ok());
  EXPECT_EQ(test::CheckProblems(*e), "");
  EXPECT_EQ(e->ProjectionsApplied(), 30u);

  Status bad = e->Replay("nope", 0, {});
  EXPECT_TRUE(bad.IsInvalidArgument()) << bad.ToString();
  EXPECT_NE(bad.message().find("scheduler"), std::string::npos)
      << "lists the names: " << bad.ToString();
  auto r = e->Append(std::vector<schema::EventInput>{Note("a", "after")});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(e->WaitForProjections(r->lsns[0], std::chrono::seconds(60)))
      << "the tail thread must still apply new events after a refused replay";
  EXPECT_EQ(test::CheckProblems(*e), "");
}

// The state is derived, but rebuilding it costs a replay of the whole log: an open that fails for
// a passing reason (here another process holds RocksDB's lock on it) must fail, not delete it.
TEST_F(EngineStateTest, StateThatCannotBeOpenedForNowIsKeptNotDeleted) {
  {
    auto e = OpenOrDie(store_);
    AppendBatches(*e, "x", 4);
    ASSERT_TRUE(e->Close().ok());
  }
  const std::string sdir = StateDir(store_);
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Holds RocksDB's lock (an fcntl lock on state/LOCK) until the parent closes `done`.
    ::close(done[1]);
    ::close(ready[0]);
    const int fd = ::open((sdir + "/LOCK").c_str(), O_RDWR);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    char c;
    (void)!::read(done[0], &c, 1);
    ::_exit(0);
  }
  ::close(done[0]);
  ::close(ready[1]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  auto busy = Engine::Open(store_, test::Fast());
  ::close(done[1]);
  ::waitpid(child, nullptr, 0);
  ASSERT_FALSE(busy.ok()) << "the state was thrown away and rebuilt";
  EXPECT_TRUE(busy.status().IsIOError()) << busy.status().ToString();
  EXPECT_TRUE(fs::exists(sdir + "/CURRENT")) << "the state was deleted";
  auto e = OpenOrDie(store_);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->state_resets().empty()) << e->state_resets()[0];
  EXPECT_EQ(e->ProjectionsApplied(), 20u);
}

}  // namespace
}  // namespace tink::engine
