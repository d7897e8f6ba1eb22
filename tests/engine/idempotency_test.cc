// Durable idempotency by event id: re-appending an id answers with the original LSNs and writes
// nothing, across Close+reopen, after the state is deleted and rebuilt, while the id is only
// pending (appended, not yet applied), and when many threads send the same batch at once. Mixed
// batches (some ids known, some new) and an id twice in one batch are refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "support/fault_fs.h"
#include "support/temp_dir.h"

namespace tink::engine {
namespace {

using test::Note;

std::unique_ptr<Engine> OpenOrDie(const std::string& dir, EngineOptions o = test::Fast()) {
  auto e = Engine::Open(dir, o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

Result<AppendOutcome> Put(Engine& e, std::vector<schema::EventInput> batch,
                          const AppendOptions& o = {}) {
  return e.Append(batch, o);
}

std::vector<schema::EventInput> Batch3() {
  return {Note("s", "one", "id-1"), Note("t", "two", "id-2"), Note("s", "three", "id-3")};
}

// Asserts that re-sending Batch3 (first written at LSNs first..first+2) is a duplicate and that
// the log did not grow.
void ExpectDuplicate(Engine& e, Lsn first) {
  const Lsn last = e.log().LastLsn();
  auto again = Put(e, Batch3());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->lsns, (std::vector<Lsn>{first, first + 1, first + 2}));
  // One id alone is a duplicate of its own event.
  auto one = Put(e, {Note("elsewhere", "different body", "id-2")});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_TRUE(one->duplicate);
  EXPECT_EQ(one->lsns, std::vector<Lsn>{first + 1});
  EXPECT_EQ(e.log().LastLsn(), last) << "a duplicate must write nothing";
}

class EngineIdempotencyTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string store_ = tmp_.Sub("s");
};

TEST_F(EngineIdempotencyTest, ReappendReturnsOriginalLsnsAndWritesNothing) {
  auto e = OpenOrDie(store_);
  ASSERT_TRUE(Put(*e, {Note("x", "before")}).ok());
  auto first = Put(*e, Batch3());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->lsns, (std::vector<Lsn>{2, 3, 4}));
  ASSERT_TRUE(Put(*e, {Note("x", "after")}).ok());
  ExpectDuplicate(*e, 2);
  // Whatever the expected version says: a retry of an append that succeeded is not a Conflict.
  auto retry =
      Put(*e, {Note("u", "u0", "u-0")}, AppendOptions{Expected{Expected::Kind::kNoStream}});
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  auto again =
      Put(*e, {Note("u", "u0", "u-0")}, AppendOptions{Expected{Expected::Kind::kNoStream}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->lsns, retry->lsns);
  EXPECT_EQ(e->log().LastLsn(), 6u);
  const auto all = test::ReadAll(*e);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[2].id, "id-2");
  EXPECT_EQ(all[2].data["text"], "two") << "the duplicate must not have replaced the event";
  EXPECT_EQ(test::CheckProblems(*e), "");
}

TEST_F(EngineIdempotencyTest, SurvivesCloseAndReopen) {
  {
    auto e = OpenOrDie(store_);
    ASSERT_TRUE(Put(*e, Batch3()).ok());
    ASSERT_TRUE(e->Close().ok());
  }
  for (bool tail : {true, false}) {
    EngineOptions o = test::Fast();
    o.tail = tail;
    auto e = OpenOrDie(store_, o);
    ExpectDuplicate(*e, 1);
    ASSERT_TRUE(e->Close().ok());
  }
}

TEST_F(EngineIdempotencyTest, SurvivesDeletingTheState) {
  {
    auto e = OpenOrDie(store_);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(Put(*e, {Note("pad", std::to_string(i))}).ok());
    ASSERT_TRUE(Put(*e, Batch3()).ok());
    ASSERT_TRUE(e->Close().ok());
  }
  std::filesystem::remove_all(StateDir(store_));
  auto e = OpenOrDie(store_);
  EXPECT_TRUE(std::filesystem::is_directory(StateDir(store_)));
  EXPECT_EQ(e->ProjectionsApplied(), 23u) << "the open rebuilds the state before it returns";
  ExpectDuplicate(*e, 21);
  EXPECT_EQ(test::CheckProblems(*e), "");
}

// Without the tail thread nothing appended after open reaches the ids projection: the id is
// only in the engine's pending list, and must still be found there.
TEST_F(EngineIdempotencyTest, PendingIdIsADuplicate) {
  EngineOptions o = test::Fast();
  o.tail = false;
  auto e = OpenOrDie(store_, o);
  auto first = Put(*e, Batch3());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(e->ProjectionsApplied(), 0u) << "nothing applies without the tail thread";
  ExpectDuplicate(*e, 1);
  auto mixed = Put(*e, {Note("s", "new"), Note("s", "one", "id-1")});
  ASSERT_FALSE(mixed.ok());
  EXPECT_TRUE(mixed.status().IsInvalidArgument()) << mixed.status().ToString();
  EXPECT_EQ(e->log().LastLsn(), 3u);
  ASSERT_TRUE(e->Close().ok());  // applies what was pending
  e = OpenOrDie(store_, o);
  EXPECT_EQ(e->ProjectionsApplied(), 3u);
  ExpectDuplicate(*e, 1);
}

// Append, then at once re-append the same ids from another thread, with the tail thread
// running: the second append sees the first whether or not it has been applied yet.
TEST_F(EngineIdempotencyTest, ImmediateReappendFromAnotherThread) {
  auto e = OpenOrDie(store_);
  for (int round = 0; round < 100; ++round) {
    const std::string id = "r" + std::to_string(round);
    auto first = Put(*e, {Note("s", "a", id + "-a"), Note("s", "b", id + "-b")});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    Result<AppendOutcome> second = Status::Failed("not run");
    std::thread t([&] {
      second = Put(*e, {Note("s", "a", id + "-a"), Note("s", "b", id + "-b")});
    });
    t.join();
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_TRUE(second->duplicate) << "round " << round;
    EXPECT_EQ(second->lsns, first->lsns) << "round " << round;
  }
  EXPECT_EQ(e->log().LastLsn(), 200u);
  EXPECT_EQ(test::CheckProblems(*e), "");
}

// Many threads send the same batch at the same moment: exactly one writes it, every other one
// gets its LSNs back as a duplicate.
TEST_F(EngineIdempotencyTest, ConcurrentSameBatchIsWrittenOnce) {
  auto e = OpenOrDie(store_);
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::vector<Result<AppendOutcome>> results(kThreads, Status::Failed("not run"));
  int round = 0;
  std::barrier sync(kThreads);
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  std::vector<std::string> problems;
  std::mutex problems_mu;
  auto check_round = [&]() noexcept {
    int written = 0;
    for (int t = 0; t < kThreads; ++t) {
      const auto& r = results[t];
      if (!r.ok()) {
        ++failures;
        std::lock_guard<std::mutex> l(problems_mu);
        problems.push_back("round " + std::to_string(round) + ": " + r.status().ToString());
        continue;
      }
      if (!r->duplicate) ++written;
      if (!results[0].ok() || r->lsns != results[0]->lsns) ++failures;
    }
    if (written != 1) {
      std::lock_guard<std::mutex> l(problems_mu);
      problems.push_back("round " + std::to_string(round) + ": " + std::to_string(written) +
                         " appends wrote the batch");
    }
    ++round;
  };
  std::barrier done(kThreads, check_round);
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        sync.arrive_and_wait();
        const std::string id = "round-" + std::to_string(r);
        results[t] = Put(
            *e, {Note("s", "x", id + "-1"), Note("s", "y", id + "-2"), Note("s", "z", id + "-3")});
        done.arrive_and_wait();
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(problems, std::vector<std::string>{});
  EXPECT_EQ(e->log().LastLsn(), 3u * kRounds);
  std::set<std::string> ids;
  for (const auto& l : test::ReadAll(*e)) EXPECT_TRUE(ids.insert(l.id).second) << l.id;
  EXPECT_EQ(test::CheckProblems(*e), "");
}

TEST_F(EngineIdempotencyTest, MixedBatchIsRefusedAndWritesNothing) {
  auto e = OpenOrDie(store_);
  ASSERT_TRUE(Put(*e, {Note("s", "old", "old-1")}).ok());
  ASSERT_TRUE(e->WaitForProjections(1, std::chrono::seconds(60)));
  for (int applied = 0; applied < 2; ++applied) {
    auto r = Put(*e, {Note("s", "new", "new-1"), Note("s", "old", "old-1"), Note("s", "n2")});
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("event 2"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("'old-1'"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("LSN 1"), std::string::npos) << r.status().ToString();
    EXPECT_EQ(e->log().LastLsn(), 1u);
    ASSERT_TRUE(e->Close().ok());
    e = OpenOrDie(store_);
  }
  // The new ids of the refused batch were not remembered: they can be written now.
  auto ok = Put(*e, {Note("s", "new", "new-1")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(ok->duplicate);
  EXPECT_EQ(ok->lsns, std::vector<Lsn>{2});
}

TEST_F(EngineIdempotencyTest, SameIdTwiceInOneBatchIsRefused) {
  auto e = OpenOrDie(store_);
  auto r = Put(*e, {Note("s", "a", "dup"), Note("t", "b", "other"), Note("s", "c", "dup")});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("'dup'"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("event 3"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(e->log().LastLsn(), 0u);
  // Also when the id is already in the store.
  ASSERT_TRUE(Put(*e, {Note("s", "a", "dup")}).ok());
  r = Put(*e, {Note("s", "a", "dup"), Note("s", "a", "dup")});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_EQ(e->log().LastLsn(), 1u);
}

TEST_F(EngineIdempotencyTest, GeneratedIdsNeverCollide) {
  auto e = OpenOrDie(store_);
  std::vector<schema::EventInput> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(Note("s", std::to_string(i)));
  auto r = Put(*e, batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  r = Put(*e, batch);  // the same inputs again get fresh ids: a new batch, not a duplicate
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(e->log().LastLsn(), 1000u);
}


// A retry of an append whose original is still in flight (written, its fsync not yet returned)
// must not be acknowledged before the original is: here the original's fsync fails, so the retry
// must fail too, and nothing may be in the store afterwards.
TEST(IdempotencyTest, RetryOfAnInFlightAppendSharesTheOriginalsOutcome) {
  testing::TempDir tmp;
  testing::FaultInjectionFS fs;
  EngineOptions o;  // durability always
  o.fs = &fs;
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, held = false, released = false;
  fs.SetHook([&](testing::FaultInjectionFS::Op op) {
    if (op != testing::FaultInjectionFS::Op::kSync) return;
    std::unique_lock<std::mutex> l(mu);
    if (!armed) return;
    armed = false;
    held = true;
    cv.notify_all();
    // Held until the test releases it, or 2 s (so a fixed engine, which waits for this fsync,
    // cannot deadlock the test).
    cv.wait_for(l, std::chrono::seconds(2), [&] { return released; });
  });
  {
    auto e = OpenOrDie(tmp.path(), o);
    ASSERT_NE(e, nullptr);
    {
      std::lock_guard<std::mutex> l(mu);
      armed = true;
    }
    fs.FailAt(testing::FaultInjectionFS::Op::kSync, 1, Status::IOError("injected fsync EIO"));
    Result<AppendOutcome> original = Status::Ok();
    std::thread first([&] { original = Put(*e, {Note("s", "x", "the-id")}); });
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::seconds(5), [&] { return held; });
      ASSERT_TRUE(held);
    }
    // The original is written and waiting for its fsync. The client retries.
    auto retry = Put(*e, {Note("s", "x", "the-id")});
    {
      std::lock_guard<std::mutex> l(mu);
      released = true;
      cv.notify_all();
    }
    first.join();
    EXPECT_FALSE(original.ok());
    EXPECT_FALSE(retry.ok()) << "the retry was acknowledged (LSN "
                             << (retry.ok() ? retry->lsns[0] : 0)
                             << ") although the original's fsync failed";
  }
  fs.SetHook({});
  fs.Clear();
  auto e = OpenOrDie(tmp.path(), o);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->log().LastLsn(), 0u) << "the failed append is in the store";
}

}  // namespace
}  // namespace tink::engine
