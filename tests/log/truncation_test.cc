// A write torn at every byte offset of the last record (and of a multi-record batch) reopens to
// exactly the records before it, is reported, and appends continue with the next LSN.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "log/log.h"
#include "log_test_util.h"
#include "support/fault_fs.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

constexpr size_t kPayload = 100;  // span 144: 40 header + 100 payload + 4 padding
// A one-record append is one write: the record and the write's 8-byte end mark.
constexpr uint64_t kWrite = RecordSpan(kPayload) + kWriteEndMarkSize;

void Damage(const std::string& seg, uint64_t from, uint64_t to, char fill) {
  std::string d = testing::ReadFile(seg);
  for (uint64_t i = from; i < to; ++i) d[i] = fill;
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << d;
}

std::string SegmentName(Lsn first) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(first));
  return name;
}

// Builds `singles` one-record appends and then one batch of `batch` records (if > 0).
std::vector<Rec> Build(const std::string& dir, int singles, int batch) {
  auto log = Log::Open(dir, SmallSegments());
  EXPECT_TRUE(log.ok());
  std::vector<Rec> all;
  for (int i = 1; i <= singles; ++i) {
    EXPECT_TRUE((*log)->Append(Payload(i, kPayload)).ok());
    all.push_back({static_cast<Lsn>(i), Payload(i, kPayload)});
  }
  std::vector<std::string> items;
  for (int k = 0; k < batch; ++k) items.push_back(Payload(singles + 1 + k, kPayload));
  std::vector<std::string_view> views(items.begin(), items.end());
  if (batch > 0) {
    EXPECT_TRUE((*log)->Append(views).ok());
  }
  for (int k = 0; k < batch; ++k) all.push_back({static_cast<Lsn>(singles + 1 + k), items[k]});
  return all;
}

enum class Tear { kZeros, kGarbage, kFileEnds };

void CheckEveryCut(int singles, int batch) {
  testing::TempDir tmp;
  const std::string pristine = tmp.Sub("pristine"), work = tmp.Sub("work");
  const std::vector<Rec> all = Build(pristine, singles, batch);
  const int last_group = batch > 0 ? batch : 1;
  const uint64_t span = RecordSpan(kPayload);
  const uint64_t group_start = kSegmentHeaderSize + kWrite * (all.size() - last_group);
  const uint64_t group_end = group_start + span * last_group + kWriteEndMarkSize;
  const uint64_t last_payload_end =
      group_end - kWriteEndMarkSize - span + kRecordHeaderSize + kPayload;
  const std::vector<Rec> before(all.begin(), all.end() - last_group);
  const std::string pristine_seg = testing::ReadFile(SegmentFiles(pristine)[0]);

  for (Tear tear : {Tear::kZeros, Tear::kGarbage, Tear::kFileEnds}) {
    for (uint64_t cut = group_start; cut < group_end; ++cut) {
      SCOPED_TRACE("cut at " + std::to_string(cut) + " tear " + std::to_string(int(tear)));
      CopyDir(pristine, work);
      const std::string seg = SegmentFiles(work)[0];
      if (tear == Tear::kFileEnds) {
        std::filesystem::resize_file(seg, cut);  // the write and the preallocation never happened
      } else {
        Damage(seg, cut, group_end, tear == Tear::kZeros ? '\0' : '\xab');
      }
      RecoveryReport rep;
      auto log = Log::Open(work, SmallSegments(), &rep);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      Status st;
      const std::vector<Rec> got = ReadAll(**log, &st);
      ASSERT_TRUE(st.ok()) << st.ToString();
      if (cut >= last_payload_end) {
        // Only the zero padding after the last payload or the end mark changed: every record
        // is intact, nothing was lost.
        EXPECT_EQ(got, all);
        EXPECT_EQ((*log)->LastLsn(), all.size());
        continue;
      }
      EXPECT_EQ(got, before);
      EXPECT_EQ((*log)->LastLsn(), before.size());
      // What survives of the write is [group_start, cut): when that is empty, or happens to be
      // all zero bytes (the first header byte of the write is 0 about once in 256 runs: it
      // depends on the record's time), nothing of the write is there to see.
      const std::string kept = pristine_seg.substr(group_start, cut - group_start);
      const bool nothing_written =
          tear != Tear::kGarbage && kept.find_first_not_of('\0') == std::string::npos;
      EXPECT_EQ(rep.torn_tail, !nothing_written);
      EXPECT_EQ(rep.last_lsn, before.size());
      if (rep.torn_tail) {
        EXPECT_EQ(rep.offset, group_start);
        EXPECT_EQ(rep.segment, "00000000000000000001.seg");
        EXPECT_GT(rep.bytes_dropped, 0u);
      }
      auto r = (*log)->Append("next");
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->first_lsn, before.size() + 1);
      log->reset();
      auto reopened = Log::Open(work, SmallSegments(), &rep);
      ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
      EXPECT_FALSE(rep.torn_tail) << "the torn bytes were cleared";
      std::vector<Rec> want = before;
      want.push_back({before.size() + 1, "next"});
      EXPECT_EQ(ReadAll(**reopened), want);
      auto v = VerifyLog(work);
      ASSERT_TRUE(v.ok());
      EXPECT_TRUE(v->clean() && !v->torn_tail);
    }
  }
}

TEST(TruncationTest, TornLastRecordAtEveryByte) { CheckEveryCut(19, 0); }

TEST(TruncationTest, TornBatchAtEveryByteIsAllOrNothing) { CheckEveryCut(10, 3); }

// A log whose last segment is sealed, as when the rollover's next segment could not be made.
std::vector<Rec> BuildSealedLast(const std::string& dir) {
  testing::FaultInjectionFS fs;
  LogOptions o = SmallSegments(4096);
  o.fs = &fs;
  auto log = Log::Open(dir, o);
  EXPECT_TRUE(log.ok());
  fs.FailAt(testing::FaultInjectionFS::Op::kCreate, 1, Status::IOError("injected"));
  std::vector<Rec> acked;
  for (int i = 1; i < 1000; ++i) {
    auto r = (*log)->Append(Payload(i, kPayload));
    if (!r.ok()) break;
    acked.push_back({r->first_lsn, Payload(i, kPayload)});
  }
  EXPECT_EQ(SegmentFiles(dir).size(), 1u);
  return acked;
}

void ExpectRecoversTo(const std::string& dir, const std::vector<Rec>& want, bool torn) {
  RecoveryReport rep;
  {
    auto log = Log::Open(dir, SmallSegments(4096), &rep);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ(rep.torn_tail, torn) << rep.ToString();
    EXPECT_EQ(ReadAll(**log), want);
    auto r = (*log)->Append("next");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_lsn, want.size() + 1);
  }
  auto log = Log::Open(dir, SmallSegments(4096), &rep);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_FALSE(rep.torn_tail);
  EXPECT_EQ((*log)->LastLsn(), want.size() + 1);
  log->reset();
  auto v = VerifyLog(dir);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->clean()) << v->problems[0].what;
}

TEST(TruncationTest, CrashWhileCreatingTheNextSegment) {
  for (uint64_t size : {0, 10, 64, 4096}) {
    SCOPED_TRACE("new segment of " + std::to_string(size) + " zero bytes");
    testing::TempDir tmp;
    const std::vector<Rec> acked = BuildSealedLast(tmp.path());
    const std::string next = tmp.Sub(SegmentName(acked.size() + 1));
    std::ofstream(next, std::ios::binary) << std::string(size, '\0');
    ExpectRecoversTo(tmp.path(), acked, /*torn=*/true);
  }
}

TEST(TruncationTest, CrashBetweenFooterAndTrim) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    testing::TempDir tmp;
    const std::vector<Rec> acked = BuildSealedLast(tmp.path());
    const std::string seg = SegmentFiles(tmp.path())[0];
    const uint64_t sealed_size = std::filesystem::file_size(seg);
    // The preallocated space is still there after the footer and trailer...
    std::filesystem::resize_file(seg, 4096 + 8192);
    // ...and maybe the trailer (variant 1) or half the footer (variant 2) never reached the disk.
    if (variant == 1) Damage(seg, sealed_size - kTrailerSize, sealed_size, '\0');
    if (variant == 2) Damage(seg, sealed_size - kTrailerSize - 20, sealed_size, '\0');
    ExpectRecoversTo(tmp.path(), acked, /*torn=*/variant == 2);
  }
}

TEST(TruncationTest, ReadOnlyOpenReportsTornTailAndChangesNothing) {
  testing::TempDir tmp;
  Build(tmp.path(), 5, 0);
  const std::string seg = SegmentFiles(tmp.path())[0];
  const uint64_t end = kSegmentHeaderSize + 5 * kWrite;
  Damage(seg, end - 30, end, '\x7f');
  const std::string before = testing::ReadFile(seg);
  LogOptions ro = SmallSegments();
  ro.read_only = true;
  RecoveryReport rep;
  auto log = Log::Open(tmp.path(), ro, &rep);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(rep.torn_tail);
  EXPECT_EQ((*log)->LastLsn(), 4u);
  EXPECT_FALSE((*log)->Append("x").ok());
  log->reset();
  EXPECT_EQ(testing::ReadFile(seg), before);
}

}  // namespace
}  // namespace tink::log
