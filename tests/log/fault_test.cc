// Injected I/O failures through the FileSystem seam: the failing append is not acknowledged, the
// log turns read-only (sticky, fsync never retried), and a reopen is clean and complete. And
// power loss: everything acknowledged under `always` survives dropping unsynced data.
#include <gtest/gtest.h>

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

LogOptions With(FaultInjectionFS* fs, uint64_t segment_size = 64 << 10) {
  LogOptions o = SmallSegments(segment_size);
  o.fs = fs;
  return o;
}

// Appends until one fails; returns the acknowledged records and the failure.
std::vector<Rec> AppendUntilFailure(Log& log, int max, Status* failure) {
  std::vector<Rec> acked;
  for (int i = 1; i <= max; ++i) {
    auto r = log.Append(Payload(i));
    if (!r.ok()) {
      *failure = r.status();
      return acked;
    }
    acked.push_back({r->first_lsn, Payload(i)});
  }
  return acked;
}

void ExpectCleanReopen(const std::string& dir, const std::vector<Rec>& acked) {
  RecoveryReport rep;
  auto log = Log::Open(dir, SmallSegments(), &rep);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Status st;
  auto got = ReadAll(**log, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_GE(got.size(), acked.size());
  for (size_t i = 0; i < acked.size(); ++i) EXPECT_EQ(got[i], acked[i]);
  // Anything past the acknowledged records is an unacknowledged but complete append.
  EXPECT_LE(got.size(), acked.size() + 1);
  auto v = VerifyLog(dir);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->clean());
  auto r = (*log)->Append("after reopen");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

void ExpectSticky(Log& log) {
  EXPECT_FALSE(log.status().ok());
  auto again = log.Append("again");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsFailed()) << again.status().ToString();
}

TEST(FaultTest, NoSpaceMidAppend) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::vector<Rec> acked;
  {
    auto log = Log::Open(tmp.path(), With(&fs));
    ASSERT_TRUE(log.ok());
    fs.FailAt(Op::kWrite, 20, Status::IOError("injected ENOSPC", SubCode::kNoSpace));
    Status failure;
    acked = AppendUntilFailure(**log, 100, &failure);
    EXPECT_EQ(acked.size(), 19u);
    EXPECT_TRUE(failure.IsNoSpace()) << failure.ToString();
    ExpectSticky(**log);
  }
  ExpectCleanReopen(tmp.path(), acked);
}

TEST(FaultTest, NoSpaceAtRollover) {
  for (Op op : {Op::kCreate, Op::kAllocate}) {
    testing::TempDir tmp;
    FaultInjectionFS fs;
    std::vector<Rec> acked;
    {
      auto log = Log::Open(tmp.path(), With(&fs, 4096));
      ASSERT_TRUE(log.ok());
      fs.FailAt(op, 1, Status::IOError("injected ENOSPC", SubCode::kNoSpace));
      Status failure;
      acked = AppendUntilFailure(**log, 1000, &failure);
      EXPECT_GT(acked.size(), 10u);
      EXPECT_LT(acked.size(), 40u) << "the first rollover must fail";
      EXPECT_TRUE(failure.IsNoSpace()) << failure.ToString();
      ExpectSticky(**log);
    }
    ExpectCleanReopen(tmp.path(), acked);
  }
}

TEST(FaultTest, ShortWriteWithEio) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::vector<Rec> acked;
  {
    auto log = Log::Open(tmp.path(), With(&fs));
    ASSERT_TRUE(log.ok());
    fs.FailAt(Op::kWrite, 7, Status::IOError("injected EIO"), /*short_write=*/true);
    Status failure;
    acked = AppendUntilFailure(**log, 100, &failure);
    EXPECT_EQ(acked.size(), 6u);
    EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
    ExpectSticky(**log);
  }
  RecoveryReport rep;
  ASSERT_TRUE(Log::Open(tmp.path(), SmallSegments(), &rep).ok());
  EXPECT_TRUE(rep.torn_tail) << "half a record was on disk";
  ExpectCleanReopen(tmp.path(), acked);
}

TEST(FaultTest, FailedFsyncIsStickyAndNeverRetried) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::vector<Rec> acked;
  {
    auto log = Log::Open(tmp.path(), With(&fs));
    ASSERT_TRUE(log.ok());
    fs.FailAt(Op::kSync, 5, Status::IOError("injected fsync EIO"));
    Status failure;
    acked = AppendUntilFailure(**log, 100, &failure);
    EXPECT_EQ(acked.size(), 4u);
    EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
    const int syncs = fs.Calls(Op::kSync);
    ExpectSticky(**log);
    EXPECT_FALSE((*log)->Sync().ok());
    for (int i = 0; i < 5; ++i) EXPECT_FALSE((*log)->Append("more").ok());
    EXPECT_EQ(fs.Calls(Op::kSync), syncs) << "a failed fsync must not be retried";
    EXPECT_FALSE((*log)->Close().ok()) << "close reports the sticky error";
  }
  ExpectCleanReopen(tmp.path(), acked);
}

TEST(FaultTest, PowerLossKeepsEveryAckedRecordUnderAlways) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::mutex mu;
  std::vector<Rec> acked;
  {
    auto log = Log::Open(tmp.path(), With(&fs, 8192));
    ASSERT_TRUE(log.ok());
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < 400; ++i) {
          const std::string p = Payload(t * 1000 + i);
          auto r = (*log)->Append(p);
          if (!r.ok()) return;
          std::lock_guard<std::mutex> l(mu);
          acked.push_back({r->first_lsn, p});
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    fs.Crash();  // the power goes off while the writers are still going
    for (auto& t : ts) t.join();
  }
  fs.DropUnsyncedData();
  fs.Restart();
  std::sort(acked.begin(), acked.end(), [](const Rec& a, const Rec& b) { return a.lsn < b.lsn; });
  ASSERT_FALSE(acked.empty());
  auto log = Log::Open(tmp.path(), SmallSegments(8192));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Status st;
  auto got = ReadAll(**log, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_GE(got.size(), acked.size());
  for (size_t i = 0; i < acked.size(); ++i) ASSERT_EQ(got[acked[i].lsn - 1], acked[i]);
}

TEST(FaultTest, PowerLossUnderNoneLeavesAValidPrefix) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  LogOptions o = With(&fs, 8192);
  o.durability.mode = Durability::Mode::kNone;
  {
    auto log = Log::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE((*log)->Append(Payload(i)).ok());
    fs.Crash();
  }
  fs.DropUnsyncedData();
  fs.Restart();
  auto log = Log::Open(tmp.path(), SmallSegments(8192));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Status st;
  auto got = ReadAll(**log, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_LT(got.size(), 300u) << "unsynced records were dropped";
  EXPECT_GT(got.size(), 0u) << "sealed segments were synced";
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].payload, Payload(i));
}

}  // namespace
}  // namespace tink::log
