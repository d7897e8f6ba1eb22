// Durability promises under faults: interval mode syncs on time under sustained load; data whose
// fsync failed is never adopted by a later open (fsyncgate); a failed rollover does not turn
// records it already sealed and published into failures.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "log/log.h"
#include "log_test_util.h"
#include "support/fault_fs.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

using testing::FaultInjectionFS;
using Op = FaultInjectionFS::Op;
using namespace std::chrono_literals;

LogOptions With(FaultInjectionFS* fs, uint64_t segment_size = 64 << 10) {
  LogOptions o = SmallSegments(segment_size);
  o.fs = fs;
  return o;
}

TEST(DurabilityTest, IntervalModeSyncsEveryIntervalUnderSustainedLoad) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::atomic<int64_t> now_ms{1000000};
  LogOptions o = With(&fs);
  o.durability = *Durability::Parse("interval=100");
  o.clock = [&] {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms.load()));
  };
  auto log = Log::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  const int base = fs.Calls(Op::kSync);
  // The writer never goes idle for long: every append follows the last at once. The log's clock
  // says 30 ms pass per append, so 100 appends span 3 s: about 30 intervals.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*log)->Append(Payload(i)).ok());
    now_ms += 30;
  }
  const int syncs = fs.Calls(Op::kSync) - base;
  EXPECT_GE(syncs, 24) << "interval=100 ms kept only " << syncs << " syncs over 3 s of appends";
  EXPECT_LE(syncs, 34) << "synced more often than every 100 ms: " << syncs;

  // With the clock standing still, the interval never passes: no sync however many appends
  // (after one explicit sync, which also restarts the interval).
  ASSERT_TRUE((*log)->Sync().ok());
  const int before = fs.Calls(Op::kSync);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*log)->Append(Payload(i)).ok());
  EXPECT_EQ(fs.Calls(Op::kSync), before);
}

TEST(DurabilityTest, DataWhoseFsyncFailedIsNeverAdoptedByALaterOpen) {
  // Second variant: the overwrite the log does after the failed fsync fails too (the disk is
  // gone for writes); the same process reopening must still not adopt the bytes.
  for (bool overwrite_fails : {false, true}) {
    SCOPED_TRACE(overwrite_fails ? "overwrite fails too" : "overwrite works");
    testing::TempDir tmp;
    FaultInjectionFS fs;
    std::vector<Rec> acked;
    {
      auto log = Log::Open(tmp.path(), With(&fs));
      ASSERT_TRUE(log.ok());
      for (int i = 1; i <= 5; ++i) {
        ASSERT_TRUE((*log)->Append(Payload(i)).ok());
        acked.push_back({static_cast<Lsn>(i), Payload(i)});
      }
      fs.FailAt(Op::kSync, 1, Status::IOError("injected fsync EIO"));
      if (overwrite_fails) fs.FailAt(Op::kWrite, 2, Status::IOError("injected write EIO"));
      EXPECT_FALSE((*log)->Append("never durable").ok());
      EXPECT_FALSE((*log)->status().ok());
    }
    // The disk works again (the fsync failure was transient); the machine did not crash, so the
    // page cache still holds the failed write's bytes, marked clean.
    fs.Clear();
    {
      auto log = Log::Open(tmp.path(), With(&fs));
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      EXPECT_EQ((*log)->LastLsn(), 5u) << "a record whose fsync failed was adopted";
      for (int i = 6; i <= 8; ++i) {
        auto r = (*log)->Append(Payload(i));
        ASSERT_TRUE(r.ok());
        acked.push_back({r->first_lsn, Payload(i)});
      }
    }
    // Power loss: only what was synced survives.
    fs.Crash();
    fs.DropUnsyncedData();
    fs.Restart();
    auto log = Log::Open(tmp.path(), With(&fs));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Status st;
    const std::vector<Rec> got = ReadAll(**log, &st);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(got, acked);
  }
}

// Holds the n-th next fsync until released (or 5 s pass), to queue appends behind it.
class SyncGate {
 public:
  explicit SyncGate(FaultInjectionFS* fs) : fs_(fs) {
    fs_->SetHook([this](Op op) {
      if (op != Op::kSync) return;
      std::unique_lock<std::mutex> l(mu_);
      if (!armed_) return;
      armed_ = false;
      held_ = true;
      cv_.notify_all();
      cv_.wait_for(l, 5s, [&] { return released_; });
    });
  }
  ~SyncGate() { fs_->SetHook({}); }
  void Arm() {
    std::lock_guard<std::mutex> l(mu_);
    armed_ = true;
  }
  void WaitHeld() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, 5s, [&] { return held_; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  FaultInjectionFS* fs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, held_ = false, released_ = false;
};

TEST(DurabilityTest, FailedRolloverKeepsTheRecordsItSealedAndPublished) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  auto log = Log::Open(tmp.path(), With(&fs, 4096));
  ASSERT_TRUE(log.ok());
  SyncGate gate(&fs);
  gate.Arm();
  const std::string x = Payload(1, 100), a = Payload(2, 1500), b = Payload(3, 3000);
  std::thread first([&] { EXPECT_TRUE((*log)->Append(x).ok()); });
  gate.WaitHeld();
  // Queued behind x's fsync: one group. a fits the segment; b does not, so the group rolls over
  // between them, and creating the next segment fails.
  std::string_view av = a, bv = b;
  auto pa = (*log)->Submit(std::span<const std::string_view>(&av, 1));
  auto pb = (*log)->Submit(std::span<const std::string_view>(&bv, 1));
  ASSERT_TRUE(pa.ok() && pb.ok());
  fs.FailAt(Op::kCreate, 1, Status::IOError("injected: cannot create the next segment"));
  gate.Release();
  first.join();
  auto ra = (*pa)->Wait();
  auto rb = (*pb)->Wait();
  ASSERT_TRUE(ra.ok()) << "a was sealed, synced and published before the rollover failed: "
                       << ra.status().ToString();
  EXPECT_EQ(ra->first_lsn, 2u);
  EXPECT_FALSE(rb.ok());
  EXPECT_EQ((*log)->LastLsn(), 2u);
  log->reset();
  fs.Clear();
  auto again = Log::Open(tmp.path(), With(&fs, 4096));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ReadAll(**again), (std::vector<Rec>{{1, x}, {2, a}}));
}

}  // namespace
}  // namespace tink::log
