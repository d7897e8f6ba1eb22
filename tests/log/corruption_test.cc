// Damage is always detected: a flipped byte anywhere gives an error or an exact prefix, never a
// wrong record; a bad record with valid ones after it is corruption named by segment, offset and
// LSN; deleted or reordered records break the hash chain; foreign segments are refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "log/log.h"
#include "log_test_util.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::vector<Rec> BuildSmall(const std::string& dir, uint64_t segment_size, int n) {
  auto log = Log::Open(dir, SmallSegments(segment_size));
  EXPECT_TRUE(log.ok());
  std::vector<Rec> all;
  for (int i = 1; i <= n; ++i) {
    EXPECT_TRUE((*log)->Append(Payload(i, 40 + i * 3)).ok());
    all.push_back({static_cast<Lsn>(i), Payload(i, 40 + i * 3)});
  }
  return all;
}

bool IsPrefix(const std::vector<Rec>& got, const std::vector<Rec>& all) {
  if (got.size() > all.size()) return false;
  return std::equal(got.begin(), got.end(), all.begin());
}

TEST(CorruptionTest, EveryFlippedByteIsDetectedOrHarmless) {
  testing::TempDir tmp;
  const std::string pristine = tmp.Sub("p"), work = tmp.Sub("w");
  // Two sealed segments and an active one, small enough to flip every byte.
  const std::vector<Rec> all = BuildSmall(pristine, 700, 18);
  const auto files = SegmentFiles(pristine);
  ASSERT_GE(files.size(), 3u);
  int detected = 0, harmless = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string name = std::filesystem::path(files[f]).filename();
    std::string data = testing::ReadFile(files[f]);
    // The active segment is preallocated: flip its written part and a little beyond.
    size_t limit = data.size();
    if (f + 1 == files.size()) limit = std::min<size_t>(limit, 900);
    for (size_t pos = 0; pos < limit; ++pos) {
      CopyDir(pristine, work);
      std::string d = data;
      d[pos] = static_cast<char>(d[pos] ^ 0x5a);
      WriteFile(work + "/" + name, d);
      RecoveryReport rep;
      auto log = Log::Open(work, SmallSegments(700), &rep);
      if (!log.ok()) {
        ASSERT_TRUE(log.status().IsCorruption()) << log.status().ToString();
        ++detected;
        continue;
      }
      Status st;
      const std::vector<Rec> got = ReadAll(**log, &st);
      ASSERT_TRUE(IsPrefix(got, all)) << name << " byte " << pos << ": a wrong record was served";
      if (!st.ok()) {
        ASSERT_TRUE(st.IsCorruption()) << st.ToString();
        ++detected;
      } else if (got.size() < all.size()) {
        // Records may only go missing as a reported torn tail, never silently.
        ASSERT_TRUE(rep.torn_tail) << name << " byte " << pos;
        ++detected;
      } else {
        ++harmless;  // padding, preallocated space: every record is still intact
      }
    }
  }
  EXPECT_GT(detected, 1000);
  EXPECT_GT(harmless, 0);
}

TEST(CorruptionTest, BadRecordFollowedByValidOnesRefusesToOpenAndNamesIt) {
  testing::TempDir tmp;
  BuildSmall(tmp.path(), 64 << 10, 10);
  const std::string seg = SegmentFiles(tmp.path())[0];
  std::string d = testing::ReadFile(seg);
  // Record 4 starts after three records of spans RecordSpan(43), (46), (49).
  const uint64_t off4 = kSegmentHeaderSize + RecordSpan(43) + RecordSpan(46) + RecordSpan(49);
  d[off4 + kRecordHeaderSize + 5] ^= 1;  // payload byte of LSN 4
  WriteFile(seg, d);

  auto log = Log::Open(tmp.path(), SmallSegments());
  ASSERT_FALSE(log.ok());
  ASSERT_TRUE(log.status().IsCorruption());
  const std::string msg = log.status().message();
  EXPECT_NE(msg.find("segment 00000000000000000001.seg offset " + std::to_string(off4)),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("(LSN 4)"), std::string::npos) << msg;

  auto v = VerifyLog(tmp.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->clean());
  EXPECT_EQ(v->problems[0].segment, "00000000000000000001.seg");
  EXPECT_EQ(v->problems[0].offset, off4);
  EXPECT_EQ(v->problems[0].lsn, 4u);

  auto cut = TruncateLogAt(tmp.path(), 4);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(*cut, 3u);
  auto reopened = Log::Open(tmp.path(), SmallSegments());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->LastLsn(), 3u);
  EXPECT_TRUE(VerifyLog(tmp.path())->clean());
}

TEST(CorruptionTest, DeletedOrSwappedRecordsBreakTheChain) {
  testing::TempDir tmp;
  const std::string pristine = tmp.Sub("p"), work = tmp.Sub("w");
  BuildSmall(pristine, 64 << 10, 6);
  const std::string name = "00000000000000000001.seg";
  const std::string d = testing::ReadFile(pristine + "/" + name);
  std::vector<uint64_t> off = {kSegmentHeaderSize};
  for (int i = 1; i <= 6; ++i) off.push_back(off.back() + RecordSpan(40 + i * 3));

  // Delete record 3: records 4..6 move up; each is intact but the LSNs and chain no longer fit.
  CopyDir(pristine, work);
  std::string del = d.substr(0, off[2]) + d.substr(off[3]);
  del.resize(d.size(), '\0');
  WriteFile(work + "/" + name, del);
  auto a = Log::Open(work, SmallSegments());
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.status().IsCorruption()) << a.status().ToString();

  // Swap records 2 and 3 (same length class does not matter: offsets are recomputed).
  CopyDir(pristine, work);
  std::string swp = d.substr(0, off[1]) + d.substr(off[2], off[3] - off[2]) +
                    d.substr(off[1], off[2] - off[1]) + d.substr(off[3]);
  WriteFile(work + "/" + name, swp);
  auto b = Log::Open(work, SmallSegments());
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().IsCorruption()) << b.status().ToString();
  EXPECT_FALSE(VerifyLog(work)->clean());
}

TEST(CorruptionTest, SegmentFromAnotherStoreIsRefused) {
  testing::TempDir tmp;
  BuildSmall(tmp.Sub("a"), 700, 18);
  BuildSmall(tmp.Sub("b"), 700, 18);
  const auto a = SegmentFiles(tmp.Sub("a"));
  const auto b = SegmentFiles(tmp.Sub("b"));
  ASSERT_EQ(a.size(), b.size());
  // Same LSN range, other store: the store id gives it away.
  std::filesystem::copy_file(b[1], a[1], std::filesystem::copy_options::overwrite_existing);
  auto log = Log::Open(tmp.Sub("a"), SmallSegments(700));
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("another store"), std::string::npos)
      << log.status().ToString();
  auto v = VerifyLog(tmp.Sub("a"));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->clean());
}

TEST(CorruptionTest, MissingMiddleSegmentIsCorruption) {
  testing::TempDir tmp;
  BuildSmall(tmp.path(), 700, 18);
  const auto files = SegmentFiles(tmp.path());
  ASSERT_GE(files.size(), 3u);
  std::filesystem::remove(files[1]);
  auto log = Log::Open(tmp.path(), SmallSegments(700));
  ASSERT_FALSE(log.ok());
  EXPECT_TRUE(log.status().IsCorruption());
  EXPECT_NE(log.status().message().find("missing"), std::string::npos) << log.status().ToString();
}

}  // namespace
}  // namespace tink::log
