// Injected I/O failures through the FileSystem seam: the failing append is not acknowledged, the
// log turns read-only (sticky, fsync never retried), and a reopen is clean and complete. And
// power loss: everything acknowledged under `always` survives dropping unsynced data, also when
// the disk kept an arbitrary subset of the unsynced blocks; what opens is always readable.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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

TEST(FaultTest, EioOnWriteWithAndWithoutATornPrefix) {
  for (int64_t prefix : {-1, 0, 9, 40, 100}) {
    SCOPED_TRACE("bytes written before the error: " + std::to_string(prefix));
    testing::TempDir tmp;
    FaultInjectionFS fs;
    std::vector<Rec> acked;
    {
      auto log = Log::Open(tmp.path(), With(&fs));
      ASSERT_TRUE(log.ok());
      fs.FailAt(Op::kWrite, 7, Status::IOError("injected EIO"), prefix);
      Status failure;
      acked = AppendUntilFailure(**log, 100, &failure);
      EXPECT_EQ(acked.size(), 6u);
      EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
      EXPECT_FALSE(failure.IsNoSpace());
      ExpectSticky(**log);
    }
    RecoveryReport rep;
    ASSERT_TRUE(Log::Open(tmp.path(), SmallSegments(), &rep).ok());
    EXPECT_EQ(rep.torn_tail, prefix > 0) << "part of a record was on disk";
    ExpectCleanReopen(tmp.path(), acked);
  }
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
    for (int i = 0; i < 5; ++i) EXPECT_TRUE((*log)->Append("more").status().IsFailed());
    EXPECT_FALSE((*log)->Close().ok()) << "close reports the sticky error";
    EXPECT_EQ(fs.Calls(Op::kSync), syncs) << "a failed fsync must not be retried";
    EXPECT_EQ((*log)->LastLsn(), acked.size()) << "the unsynced record never became visible";
  }
  ExpectCleanReopen(tmp.path(), acked);
}

TEST(FaultTest, FailedBackgroundFsyncInIntervalModeIsSticky) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  LogOptions o = With(&fs);
  o.durability = *Durability::Parse("interval=1");
  // The log's clock stands still until the append is acknowledged (on a slow machine a real
  // millisecond could pass before the group commits, and the group would then sync itself).
  std::atomic<int64_t> now_ms{1000};
  o.clock = [&] {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms.load()));
  };
  {
    auto log = Log::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok());
    fs.FailAt(Op::kSync, 1, Status::IOError("injected fsync EIO"));
    // Acknowledged before the fsync: that is what interval mode promises.
    ASSERT_TRUE((*log)->Append("acked before the sync").ok());
    now_ms += 10;  // the interval passes: the idle writer syncs
    // The writer syncs within the interval; wait (generously) for the failure to land.
    for (int i = 0; i < 10000 && (*log)->status().ok(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_FALSE((*log)->status().ok());
    const int syncs = fs.Calls(Op::kSync);
    EXPECT_TRUE((*log)->Append("x").status().IsFailed());
    EXPECT_FALSE((*log)->Sync().ok());
    EXPECT_FALSE((*log)->Close().ok());
    EXPECT_EQ(fs.Calls(Op::kSync), syncs) << "a failed fsync must not be retried";
  }
  // Its fsync failed, so the record never became durable (interval mode acknowledged it before
  // the sync): the page cache may still show it, but no later open adopts it (fsyncgate).
  ExpectCleanReopen(tmp.path(), {});
}

TEST(FaultTest, FailedDirectorySyncAtRollover) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::vector<Rec> acked;
  {
    auto log = Log::Open(tmp.path(), With(&fs, 4096));
    ASSERT_TRUE(log.ok());
    fs.FailAt(Op::kSyncDir, 1, Status::IOError("injected directory fsync EIO"));
    Status failure;
    acked = AppendUntilFailure(**log, 1000, &failure);
    EXPECT_GT(acked.size(), 10u);
    EXPECT_LT(acked.size(), 40u) << "the first rollover must fail";
    EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
    ExpectSticky(**log);
  }
  ExpectCleanReopen(tmp.path(), acked);
}

TEST(FaultTest, ConcurrentAppendersAllSeeTheFailure) {
  testing::TempDir tmp;
  FaultInjectionFS fs;
  std::mutex mu;
  std::vector<Rec> acked;
  std::atomic<int> failed{0}, wrong_code{0};
  {
    auto log = Log::Open(tmp.path(), With(&fs, 8192));
    ASSERT_TRUE(log.ok());
    fs.FailAt(Op::kWrite, 40, Status::IOError("injected ENOSPC", SubCode::kNoSpace));
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          const std::string p = Payload(t * 1000 + i);
          auto r = (*log)->Append(p);
          if (!r.ok()) {
            ++failed;
            if (!r.status().IsNoSpace() && !r.status().IsFailed()) ++wrong_code;
            continue;  // keep trying: every later append must fail too
          }
          std::lock_guard<std::mutex> l(mu);
          acked.push_back({r->first_lsn, p});
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(failed.load() + acked.size(), 800u);
    EXPECT_EQ(wrong_code.load(), 0);
    EXPECT_LT(acked.size(), 800u);
    ExpectSticky(**log);
  }
  std::sort(acked.begin(), acked.end(), [](const Rec& a, const Rec& b) { return a.lsn < b.lsn; });
  for (size_t i = 0; i < acked.size(); ++i) ASSERT_EQ(acked[i].lsn, i + 1) << "acks are gapless";
  RecoveryReport rep;
  auto log = Log::Open(tmp.path(), SmallSegments(8192), &rep);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const std::vector<Rec> got = ReadAll(**log);
  ASSERT_GE(got.size(), acked.size());
  EXPECT_TRUE(std::equal(acked.begin(), acked.end(), got.begin()));
}

// Appends from four threads; the power goes off at the crash_at_sync-th fsync (0: after
// crash_after acks), while the writer has a group written but not yet durable.
std::vector<Rec> AppendAndPullThePlug(const std::string& dir, FaultInjectionFS& fs,
                                      LogOptions o, size_t crash_after, int crash_at_sync = 0) {
  std::mutex mu;
  std::vector<Rec> acked;
  {
    auto log = Log::Open(dir, o);
    EXPECT_TRUE(log.ok());
    if (crash_at_sync > 0) fs.CrashAt(Op::kSync, crash_at_sync);
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < 400; ++i) {
          // Varied sizes, so groups span several blocks and rollovers come at varied points.
          const std::string p = Payload(t * 1000 + i, 60 + (i * 37 + t * 11) % 700);
          auto r = (*log)->Append(p);
          if (!r.ok()) return;
          std::lock_guard<std::mutex> l(mu);
          acked.push_back({r->first_lsn, p});
          if (acked.size() == crash_after) fs.Crash();
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  std::sort(acked.begin(), acked.end(), [](const Rec& a, const Rec& b) { return a.lsn < b.lsn; });
  return acked;
}

// Opens after a simulated power loss. Unsynced blocks that reached the disk out of order can
// leave a hole with valid records after it, which the log reports as corruption (DESIGN.md §3);
// then the place VerifyLog names must lie past `durable` (nothing durable is damaged), and
// TruncateLogAt there must give a log that opens.
Result<std::unique_ptr<Log>> OpenOrRecover(const std::string& dir, uint64_t segment_size,
                                           Lsn durable, int* refused, int* torn) {
  RecoveryReport rep;
  auto log = Log::Open(dir, SmallSegments(segment_size), &rep);
  *torn += rep.torn_tail;
  if (log.ok()) return log;
  ++*refused;
  EXPECT_TRUE(log.status().IsCorruption()) << log.status().ToString();
  auto v = VerifyLog(dir);
  EXPECT_TRUE(v.ok() && !v->clean());
  if (!v.ok() || v->clean()) return log.status();
  EXPECT_GT(v->problems[0].lsn, durable) << v->problems[0].what;
  auto cut = TruncateLogAt(dir, v->problems[0].lsn);
  if (!cut.ok()) return cut.status();
  return Log::Open(dir, SmallSegments(segment_size));
}

void ExpectAllAcked(Log& log, const std::vector<Rec>& acked) {
  Status st;
  const std::vector<Rec> got = ReadAll(log, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_GE(got.size(), acked.size());
  for (const Rec& a : acked) {
    ASSERT_LE(a.lsn, got.size());
    ASSERT_EQ(got[a.lsn - 1], a);
  }
}

TEST(FaultTest, PowerLossKeepsEveryAckedRecordUnderAlways) {
  for (int crash_at_sync : {0, 3, 40, 123}) {
    SCOPED_TRACE("crash at sync " + std::to_string(crash_at_sync));
    testing::TempDir tmp;
    FaultInjectionFS fs;
    const std::vector<Rec> acked =
        AppendAndPullThePlug(tmp.path(), fs, With(&fs, 8192), 300, crash_at_sync);
    ASSERT_FALSE(acked.empty());
    ASSERT_LT(acked.size(), 1600u) << "the crash came too late to test anything";
    fs.DropUnsyncedData();
    fs.Restart();
    auto log = Log::Open(tmp.path(), SmallSegments(8192));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ExpectAllAcked(**log, acked);
  }
}

// The disk kept some unsynced blocks of the last write and not others (not a prefix). Nothing
// acknowledged may be lost; if Open calls it corruption, what verify names is past every ack and
// truncating there recovers the log.
TEST(FaultTest, PowerLossWithReorderedUnsyncedBlocks) {
  int refused = 0, torn = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::TempDir tmp;
    FaultInjectionFS fs;
    const std::vector<Rec> acked =
        AppendAndPullThePlug(tmp.path(), fs, With(&fs, 16384), 0, 20 + seed * 7);
    fs.DropUnsyncedData(seed, 512);
    fs.Restart();
    auto log = OpenOrRecover(tmp.path(), 16384, acked.empty() ? 0 : acked.back().lsn, &refused,
                             &torn);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ExpectAllAcked(**log, acked);
    // Whatever the crash left past the recovered end must not haunt later opens: append a few
    // short records over it and reopen.
    const Lsn last = (*log)->LastLsn();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*log)->Append("after " + std::to_string(i)).ok());
    log->reset();
    log = Log::Open(tmp.path(), SmallSegments(16384));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->LastLsn(), last + 3);
    log->reset();
    auto v = VerifyLog(tmp.path());
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->clean() && !v->torn_tail) << (v->clean() ? "torn" : v->problems[0].what);
  }
  EXPECT_GT(torn, 0) << "the simulated power losses never tore a write: the test tests nothing";
  // Informational: how often an ordinary power loss needed `tink recover`.
  RecordProperty("refused_to_open", refused);
  RecordProperty("torn_tails", torn);
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

// Under `none` nothing is synced until a segment is sealed. One batch is written (one write), the
// next append rolls the segment over, and the power goes off at the sealing fsync (or the one
// after) with an arbitrary subset of the unsynced blocks on disk: the batch, footer, trailer,
// the trim. Unsynced records may be lost (that is `none`) but what opens must be a readable
// prefix, never a sealed segment whose footer promises records that are not there.
TEST(FaultTest, PowerLossWhileSealingABatch) {
  std::vector<std::string> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(Payload(i, 100));
  const std::vector<std::string_view> views(batch.begin(), batch.end());
  int torn = 0, refused = 0;
  for (int crash_at : {1, 2}) {
    for (uint32_t seed = 1; seed <= 30; ++seed) {
      SCOPED_TRACE("crash at sync " + std::to_string(crash_at) + ", seed " + std::to_string(seed));
      testing::TempDir tmp;
      FaultInjectionFS fs;
      LogOptions o = With(&fs, 4096);
      o.durability.mode = Durability::Mode::kNone;
      {
        auto log = Log::Open(tmp.path(), o);
        ASSERT_TRUE(log.ok());
        fs.CrashAt(Op::kSync, crash_at);
        ASSERT_TRUE((*log)->Append(views).ok());                          // 64 + 20 * 144 bytes
        EXPECT_FALSE((*log)->Append(std::string(1200, 'z')).ok());  // rolls over: fsyncs
      }
      fs.DropUnsyncedData(seed, 512);
      fs.Restart();
      auto log = OpenOrRecover(tmp.path(), 4096, 0, &refused, &torn);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      // Opened means readable: never a sealed segment whose footer promises what is not there.
      Status st;
      const std::vector<Rec> got = ReadAll(**log, &st);
      EXPECT_TRUE(st.ok()) << "read after a successful open: " << st.ToString();
      EXPECT_TRUE(got.empty() || got.size() == 20) << "a batch is atomic: " << got.size();
      for (size_t i = 0; i < got.size() && i < 20; ++i) ASSERT_EQ(got[i].payload, batch[i]);
      auto r = (*log)->Append("after");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      log->reset();
      auto v = VerifyLog(tmp.path());
      ASSERT_TRUE(v.ok());
      EXPECT_TRUE(v->clean()) << v->problems[0].segment << " " << v->problems[0].offset << ": "
                              << v->problems[0].what;
    }
  }
  EXPECT_GT(torn + refused, 0) << "no power loss tore anything: the test tests nothing";
  RecordProperty("refused_to_open", refused);
}

}  // namespace
}  // namespace tink::log
