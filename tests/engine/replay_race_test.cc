// Engine::Replay racing appends and reads. A replay rebuilds projections aside and swaps them in
// atomically, so while it runs:
//  - re-sent ids come back as duplicates with their original LSNs and nothing is written twice;
//  - expected stream versions are checked against the true versions (the live streams
//    projection, not a half-rebuilt one);
//  - readers never see an applied position older than one they saw before, nor a half-built
//    projection, and never touch a column family the replay has released (run under ASan:
//    -DTINK_SANITIZE=ON).
// Each test pauses the replay at one of its progress reports (the rebuild is then part-way) and
// runs its appends or reads from another thread before letting it go on; a second thread keeps
// doing the same for the whole replay.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "projections/indexes.h"
#include "projections/scheduler.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

constexpr int kBatches = 500;
constexpr int kPerBatch = 100;  // 50,000 events
constexpr int kStreams = 20;

std::string SeedId(int b, int k) { return "seed-" + std::to_string(b) + "-" + std::to_string(k); }
std::string SeedStream(int b) { return "st-" + std::to_string(b % kStreams); }

// Batch b: a task.created for task-b of run r1, then notes; all in stream st-(b % 20).
std::vector<schema::EventInput> SeedBatch(int b) {
  std::vector<schema::EventInput> out;
  for (int k = 0; k < kPerBatch; ++k) {
    if (k == 0) {
      out.push_back(test::Event(SeedStream(b), "task.created",
                                {{"task", "task-" + std::to_string(b)}, {"name", "work"}},
                                SeedId(b, k), "r1"));
    } else {
      out.push_back(test::Note(SeedStream(b), "n" + std::to_string(k), SeedId(b, k), "r1"));
    }
  }
  return out;
}

// The LSN of seed event (b, k) when the seed batches are the store's first events.
Lsn SeedLsn(int b, int k) { return static_cast<Lsn>(b) * kPerBatch + static_cast<Lsn>(k) + 1; }

class ReplayRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = tmp_.path() + "/store";
    auto e = Engine::Open(store_, test::Fast());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    for (int b = 0; b < kBatches; ++b) {
      auto r = engine_->Append(SeedBatch(b));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->lsns.front(), SeedLsn(b, 0));
    }
    ASSERT_TRUE(engine_->WaitForProjections(engine_->log().LastLsn(), std::chrono::seconds(120)));
  }

  // Runs Replay(projection, to) on this thread. At its second progress report `paused` runs on
  // another thread while the replay waits for it; `alongside` runs in a loop on a third thread
  // from before the replay starts until it has returned. Returns the replay's status.
  Status ReplayWith(const std::string& projection, Lsn to, const std::function<void()>& paused,
                    const std::function<void()>& alongside) {
    std::atomic<bool> done{false};
    std::thread side([&] {
      while (!done.load()) alongside();
    });
    std::mutex mu;
    std::condition_variable cv;
    bool paused_done = false;
    int reports = 0;
    std::thread pause_thread;
    Status s = engine_->Replay(projection, to, [&](uint64_t, uint64_t) {
      if (++reports != 2) return;
      pause_thread = std::thread([&] {
        paused();
        std::lock_guard<std::mutex> l(mu);
        paused_done = true;
        cv.notify_all();
      });
      std::unique_lock<std::mutex> l(mu);
      // Not a timing assertion: a guard so a replay that blocks appends or reads while it
      // rebuilds fails the test instead of hanging it.
      if (!cv.wait_for(l, std::chrono::seconds(120), [&] { return paused_done; })) {
        ADD_FAILURE() << "the appends/reads made while the replay was part-way did not finish: "
                         "the replay blocks them while it rebuilds";
      }
    });
    if (pause_thread.joinable()) pause_thread.join();
    done = true;
    side.join();
    EXPECT_GE(reports, 2) << "the replay reported progress fewer than twice: nothing ran "
                             "while it was part-way";
    return s;
  }

  testing::TempDir tmp_;
  std::string store_;
  std::unique_ptr<Engine> engine_;
};

// (a) Re-sent batches while every projection is rebuilt: all duplicates, nothing written.
TEST_F(ReplayRaceTest, ResentIdsAreDuplicatesDuringReplay) {
  std::atomic<int> resent{0};
  std::mutex err_mu;
  std::string errors;
  auto resend = [&](int b) {
    auto r = engine_->Append(SeedBatch(b));
    std::string err;
    if (!r.ok()) {
      err = "batch " + std::to_string(b) + ": " + r.status().ToString();
    } else if (!r->duplicate) {
      err = "batch " + std::to_string(b) + " was written again at LSN " +
            std::to_string(r->lsns.front());
    } else if (r->lsns.front() != SeedLsn(b, 0) || r->lsns.back() != SeedLsn(b, kPerBatch - 1)) {
      err = "batch " + std::to_string(b) + " answered LSN " + std::to_string(r->lsns.front()) +
            " instead of " + std::to_string(SeedLsn(b, 0));
    }
    ++resent;
    if (!err.empty()) {
      std::lock_guard<std::mutex> l(err_mu);
      if (errors.size() < 2000) errors += err + "; ";
    }
  };
  int next = 0;
  Status s = ReplayWith(
      "", 0,
      [&] {
        // Late batches first: their ids are the last a from-scratch rebuild reaches.
        for (int b = kBatches - 1; b >= kBatches - 40; --b) resend(b);
        for (int b = 0; b < 10; ++b) resend(b);
      },
      [&] { resend((next = (next + 37) % kBatches)); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(errors, "");
  EXPECT_GE(resent.load(), 50);
  EXPECT_EQ(engine_->log().LastLsn(), static_cast<Lsn>(kBatches * kPerBatch))
      << "re-sent ids were written to the log again";
  EXPECT_EQ(test::ReadAll(*engine_).size(), static_cast<size_t>(kBatches * kPerBatch));
  EXPECT_EQ(test::CheckProblems(*engine_), "");
}

// (b) Expected versions during a replay of the streams projection (and of all of them).
TEST_F(ReplayRaceTest, ExpectedVersionsHoldDuringReplay) {
  for (const std::string projection : {"streams", ""}) {
    SCOPED_TRACE("replay of '" + projection + "'");
    std::mutex mu;
    std::map<std::string, uint64_t> version;  // guarded by mu: the true version of each stream
    for (int s = 0; s < kStreams; ++s) {
      const std::string st = SeedStream(s);
      auto r = engine_->NewReader();
      ASSERT_TRUE(r.ok());
      auto v = projections::StreamVersion(**r, st);
      ASSERT_TRUE(v.ok() && v->has_value());
      version[st] = **v;
    }
    std::string errors;
    std::atomic<int> calls{0};
    // One stream: a wrong expected version must be Conflict, the right one must succeed.
    auto probe = [&](int s) {
      const std::string st = SeedStream(s);
      std::lock_guard<std::mutex> l(mu);
      const uint64_t v = version[st];
      std::vector<schema::EventInput> one = {test::Note(st, "probe")};
      AppendOptions wrong;
      wrong.expected = Expected{Expected::Kind::kExact, v - 1};
      auto w = engine_->Append(one, wrong);
      if (w.ok() || !w.status().IsConflict()) {
        errors += st + ": expected " + std::to_string(v - 1) + " (true version " +
                  std::to_string(v) + ") was " + (w.ok() ? "accepted" : w.status().ToString()) +
                  "; ";
      }
      AppendOptions none;
      none.expected = Expected{Expected::Kind::kNoStream, 0};
      auto n = engine_->Append(one, none);
      if (n.ok() || !n.status().IsConflict()) errors += st + ": no_stream was accepted; ";
      AppendOptions right;
      right.expected = Expected{Expected::Kind::kExact, v};
      auto g = engine_->Append(one, right);
      if (!g.ok()) {
        errors += st + ": expected " + std::to_string(v) + " (the true version) failed: " +
                  g.status().ToString() + "; ";
      } else {
        version[st] = v + 1;
      }
      ++calls;
    };
    int next = 0;
    Status s = ReplayWith(
        projection, 0,
        [&] {
          for (int k = kStreams - 1; k >= 0; --k) probe(k);
        },
        [&] { probe(next = (next + 7) % kStreams); });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(errors, "");
    EXPECT_GE(calls.load(), kStreams);
    // The log agrees with the versions we tracked, and so does the state.
    const auto all = test::ReadAll(*engine_);
    ASSERT_TRUE(engine_->WaitForProjections(engine_->log().LastLsn(), std::chrono::seconds(60)));
    auto r = engine_->NewReader();
    ASSERT_TRUE(r.ok());
    for (const auto& [st, v] : version) {
      EXPECT_EQ(test::VersionOf(all, st), std::optional<uint64_t>(v)) << st;
      auto got = projections::StreamVersion(**r, st);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, std::optional<uint64_t>(v)) << st;
    }
    r->reset();
    EXPECT_EQ(test::CheckProblems(*engine_), "");
  }
}

// (c) Readers during a replay: never an older applied position than before, never a half-built
// projection (the last seeded id is found, all tasks are there), no crash (ASan).
TEST_F(ReplayRaceTest, ReadersSeeWholeStatesDuringReplay) {
  const Lsn seeded = static_cast<Lsn>(kBatches * kPerBatch);
  std::mutex mu;
  std::string errors;  // guarded by mu
  std::atomic<int> reads{0};
  auto read_once = [&](Lsn* last_seen) {
    std::string err;
    auto r = engine_->NewReader();
    if (!r.ok()) {
      err = "NewReader: " + r.status().ToString();
    } else {
      projections::StateReader& reader = **r;
      Lsn lowest = UINT64_MAX;
      for (const std::string& p : engine_->ProjectionNames()) {
        lowest = std::min(lowest, reader.applied(p));
      }
      if (lowest < *last_seen) {
        err = "applied went back from " + std::to_string(*last_seen) + " to " +
              std::to_string(lowest);
      }
      *last_seen = std::max(*last_seen, lowest);
      if (lowest < seeded) err += "; a projection is at " + std::to_string(lowest);
      auto id = projections::LookupId(reader, SeedId(kBatches - 1, kPerBatch - 1));
      if (!id.ok() || *id != std::optional<Lsn>(seeded)) {
        err += "; the last seeded id is " +
               (id.ok() ? (id->has_value() ? std::to_string(**id) : "missing")
                        : id.status().ToString());
      }
      projections::SchedulerReader sched(reader);
      auto tasks = sched.ListTasks(std::string("r1"), sched.head());
      if (!tasks.ok() || tasks->size() != static_cast<size_t>(kBatches)) {
        err += "; run r1 has " +
               (tasks.ok() ? std::to_string(tasks->size()) : tasks.status().ToString()) +
               " tasks";
      }
      auto digest = reader.store()->Digest("ids");
      if (!digest.ok()) err += "; digest: " + digest.status().ToString();
    }
    ++reads;
    if (!err.empty()) {
      std::lock_guard<std::mutex> l(mu);
      if (errors.size() < 2000) errors += err + "\n";
    }
  };
  Lsn seen_paused = seeded, seen_alongside = seeded;  // the store was caught up before
  Status s = ReplayWith(
      "", 0,
      [&] {
        for (int i = 0; i < 5; ++i) read_once(&seen_paused);
      },
      [&] { read_once(&seen_alongside); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(errors, "");
  EXPECT_GE(reads.load(), 5);
  // And after the replay, the same reads are whole.
  Lsn after = 0;
  read_once(&after);
  EXPECT_EQ(errors, "");
  EXPECT_EQ(after, seeded);
  EXPECT_EQ(test::CheckProblems(*engine_), "");
}

}  // namespace
}  // namespace tink::engine
