// Damage to acknowledged bytes is never mistaken for a torn (never acknowledged) write: it is
// corruption, named by segment, offset and LSN range, and nothing is cut. A torn write is still
// cut. Readers serve what precedes damage in the active segment and say where it stops.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "log/internal/record.h"
#include "log/log.h"
#include "log_test_util.h"
#include "support/fault_fs.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

using testing::FaultInjectionFS;
using Op = FaultInjectionFS::Op;

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

const std::string kSeg = "00000000000000000001.seg";

// One acknowledged (always) batch of n records of `size` bytes; returns the payloads.
std::vector<std::string> AppendBatch(const std::string& dir, int n, size_t size) {
  std::vector<std::string> batch;
  for (int i = 1; i <= n; ++i) batch.push_back(Payload(i, size));
  const std::vector<std::string_view> views(batch.begin(), batch.end());
  auto log = Log::Open(dir, LogOptions{});
  EXPECT_TRUE(log.ok());
  auto r = (*log)->Append(views);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r->last_lsn, static_cast<Lsn>(n));
  return batch;
}

// Offset of the k-th record (1-based) of the first write in the first segment.
uint64_t RecordOffset(int k, size_t size) {
  return kSegmentHeaderSize + (k - 1) * RecordSpan(size);
}

TEST(DamageTest, ZeroedByteInTheLastRecordOfAnAckedBatchIsCorruptionNotATornTail) {
  testing::TempDir tmp;
  AppendBatch(tmp.path(), 20, 150);
  const std::string path = tmp.path() + "/" + kSeg;
  std::string d = testing::ReadFile(path);
  const uint64_t last = RecordOffset(20, 150);
  const uint64_t pos = last + kRecordHeaderSize + 70;
  ASSERT_NE(d[pos], 0);
  d[pos] = 0;
  WriteFile(path, d);

  // A writable open refuses, names the place and the write's LSNs, and changes nothing.
  RecoveryReport rep;
  auto log = Log::Open(tmp.path(), LogOptions{}, &rep);
  ASSERT_FALSE(log.ok()) << "the acknowledged batch was dropped as a torn tail: "
                         << rep.ToString();
  ASSERT_TRUE(log.status().IsCorruption()) << log.status().ToString();
  const std::string msg = log.status().message();
  EXPECT_NE(msg.find("segment " + kSeg + " offset " + std::to_string(last)), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("LSNs 1..20"), std::string::npos) << msg;
  EXPECT_EQ(testing::ReadFile(path), d) << "a refused open must not change the segment";

  // Verify calls it corruption (not a torn tail) with the same place and range.
  auto v = VerifyLog(tmp.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->clean());
  EXPECT_FALSE(v->torn_tail);
  EXPECT_EQ(v->problems[0].segment, kSeg);
  EXPECT_EQ(v->problems[0].offset, last);
  EXPECT_EQ(v->problems[0].lsn, 1u);
  EXPECT_EQ(v->problems[0].last_lsn, 20u);

  // A reader opens, serves what is before the damage (nothing: the batch is atomic) and
  // carries the damage in its report.
  LogOptions ro;
  ro.read_only = true;
  RecoveryReport rrep;
  auto reader = Log::Open(tmp.path(), ro, &rrep);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->LastLsn(), 0u);
  EXPECT_TRUE(rrep.damage.IsCorruption()) << rrep.damage.ToString();
  EXPECT_FALSE(rrep.torn_tail);
  EXPECT_EQ(testing::ReadFile(path), d);
}

TEST(DamageTest, ReadersServeEverythingBeforeDamageInTheActiveSegment) {
  testing::TempDir tmp;
  {
    auto log = Log::Open(tmp.path(), LogOptions{});
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE((*log)->Append(Payload(i, 100)).ok());
  }
  // Each append is its own write: record, padding, end mark.
  const uint64_t span = RecordSpan(100) + kWriteEndMarkSize;
  const uint64_t off7 = kSegmentHeaderSize + 6 * span;
  const std::string path = tmp.path() + "/" + kSeg;
  std::string d = testing::ReadFile(path);
  d[off7 + kRecordHeaderSize + 10] ^= 0x40;
  WriteFile(path, d);

  // A writer scans the whole active segment (it will seal it): it refuses.
  EXPECT_TRUE(Log::Open(tmp.path(), LogOptions{}).status().IsCorruption());
  LogOptions ro;
  ro.read_only = true;
  {
    // A reader resumes from the checkpoint the writer left at close (it names record 10, which
    // is intact), so its open never reads record 7: the iterator finds the damage when it gets
    // there, names it and serves nothing past it.
    ASSERT_TRUE(std::filesystem::exists(CheckpointPath(tmp.path())));
    RecoveryReport rep;
    auto log = Log::Open(tmp.path(), ro, &rep);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_TRUE(rep.damage.ok()) << rep.damage.ToString();
    EXPECT_EQ((*log)->LastLsn(), 10u);
    Status st;
    const std::vector<Rec> got = ReadAll(**log, &st);
    ASSERT_EQ(got.size(), 6u);
    for (int i = 1; i <= 6; ++i) EXPECT_EQ(got[i - 1].payload, Payload(i, 100));
    ASSERT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("segment " + kSeg + " offset " + std::to_string(off7)),
              std::string::npos)
        << st.ToString();
    EXPECT_NE(st.message().find("LSN 7"), std::string::npos) << st.ToString();
  }
  // Without a checkpoint (a store an older build wrote) the open scans the segment and reports
  // the damage up front; readers serve everything before it.
  std::filesystem::remove(CheckpointPath(tmp.path()));
  RecoveryReport rep;
  auto log = Log::Open(tmp.path(), ro, &rep);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Status st;
  const std::vector<Rec> got = ReadAll(**log, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(got.size(), 6u);
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(got[i - 1].payload, Payload(i, 100));
  ASSERT_TRUE(rep.damage.IsCorruption());
  EXPECT_NE(rep.damage.message().find("offset " + std::to_string(off7)), std::string::npos)
      << rep.damage.ToString();
  EXPECT_NE(rep.damage.message().find("LSN 7"), std::string::npos) << rep.damage.ToString();
}

TEST(DamageTest, ATornWriteIsStillCutWhole) {
  // The write reached the file only in part (a short write, then the device failed): never
  // acknowledged, so the next open cuts it and reports a torn tail.
  for (int64_t keep : {0, 40, 100, 1500, 2900}) {
    SCOPED_TRACE("bytes kept " + std::to_string(keep));
    testing::TempDir tmp;
    FaultInjectionFS fs;
    LogOptions o;
    o.fs = &fs;
    {
      auto log = Log::Open(tmp.path(), o);
      ASSERT_TRUE(log.ok());
      ASSERT_TRUE((*log)->Append("before").ok());
      fs.FailAt(Op::kWrite, 1, Status::IOError("injected EIO"), keep);
      std::vector<std::string> batch;
      for (int i = 0; i < 20; ++i) batch.push_back(Payload(i, 150));
      const std::vector<std::string_view> views(batch.begin(), batch.end());
      EXPECT_FALSE((*log)->Append(views).ok());
    }
    fs.Clear();
    RecoveryReport rep;
    auto log = Log::Open(tmp.path(), LogOptions{}, &rep);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->LastLsn(), 1u);
    EXPECT_EQ(rep.torn_tail, keep > 0);
    EXPECT_EQ(ReadAll(**log), (std::vector<Rec>{{1, "before"}}));
    ASSERT_TRUE((*log)->Append("after").ok());
    log->reset();
    auto v = VerifyLog(tmp.path());
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->clean() && !v->torn_tail);
  }
}

TEST(DamageTest, DamagedEndMarkAloneLosesNothingAndVerifyReportsIt) {
  testing::TempDir tmp;
  AppendBatch(tmp.path(), 5, 100);
  const std::string path = tmp.path() + "/" + kSeg;
  std::string d = testing::ReadFile(path);
  const uint64_t mark = RecordOffset(6, 100);  // right after the fifth record
  ASSERT_EQ(GetU32(d.data() + mark), kWriteEndMagic);
  ASSERT_EQ(GetU32(d.data() + mark + 4), 5u);
  d[mark + 4] = 7;
  WriteFile(path, d);
  auto v = VerifyLog(tmp.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->clean());
  EXPECT_EQ(v->problems[0].offset, mark);
  auto log = Log::Open(tmp.path(), LogOptions{});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->LastLsn(), 5u);
}

TEST(DamageTest, ReadOnlyOpensNeverChangeTheStore) {
  // A torn tail is reported to a reader but only a writer cuts it.
  testing::TempDir tmp;
  {
    auto log = Log::Open(tmp.path(), LogOptions{});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("one").ok());
  }
  const std::string path = tmp.path() + "/" + kSeg;
  std::string d = testing::ReadFile(path);
  const uint64_t end = kSegmentHeaderSize + RecordSpan(3) + kWriteEndMarkSize;
  // Half a record header: what a write cut short leaves.
  for (int i = 0; i < 20; ++i) d[end + i] = static_cast<char>(0x11 + i);
  WriteFile(path, d);
  LogOptions ro;
  ro.read_only = true;
  RecoveryReport rep;
  auto log = Log::Open(tmp.path(), ro, &rep);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_TRUE(rep.torn_tail);
  EXPECT_TRUE(rep.damage.ok());
  EXPECT_EQ((*log)->LastLsn(), 1u);
  log->reset();
  EXPECT_EQ(testing::ReadFile(path), d);
}

// A store written by format version 1 (no end marks) opens: its records are read, a writer seals
// the old active segment as it is and continues in a version 2 segment, and verify is clean.
TEST(DamageTest, AVersionOneActiveSegmentIsSealedAndTheLogContinues) {
  testing::TempDir tmp;
  {
    auto log = Log::Open(tmp.path(), LogOptions{});
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE((*log)->Append(Payload(i, 50)).ok());
  }
  // Rewrite the segment as version 1 wrote it: the same records (checksums and chain do not
  // depend on offsets) without the end marks, version 1 in the header.
  const std::string path = tmp.path() + "/" + kSeg;
  const std::string v2 = testing::ReadFile(path);
  std::string v1 = v2.substr(0, kSegmentHeaderSize);
  PutU32(v1.data() + 8, 1);
  PutU64(v1.data() + 56, internal::Checksum(v1.data(), 56));
  uint64_t off = kSegmentHeaderSize;
  for (int i = 0; i < 5; ++i) {
    const uint64_t span = RecordSpan(GetU32(v2.data() + off + 32));
    v1 += v2.substr(off, span);
    off += span + kWriteEndMarkSize;
  }
  v1.resize(v2.size(), '\0');
  WriteFile(path, v1);

  LogOptions ro;
  ro.read_only = true;
  {
    auto reader = Log::Open(tmp.path(), ro);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ(ReadAll(**reader).size(), 5u);
  }
  {
    auto log = Log::Open(tmp.path(), LogOptions{});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->LastLsn(), 5u);
    auto r = (*log)->Append("six");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_lsn, 6u);
    const LogStats st = (*log)->Stats();
    ASSERT_EQ(st.segments.size(), 2u);
    EXPECT_TRUE(st.segments[0].sealed);
  }
  auto log = Log::Open(tmp.path(), LogOptions{});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const std::vector<Rec> got = ReadAll(**log);
  ASSERT_EQ(got.size(), 6u);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(got[i - 1].payload, Payload(i, 50));
  EXPECT_EQ(got[5].payload, "six");
  log->reset();
  auto v = VerifyLog(tmp.path());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->clean()) << v->problems[0].what;
  EXPECT_EQ(v->records, 6u);
}

}  // namespace
}  // namespace tink::log
