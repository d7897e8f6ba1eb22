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

// Where BuildSmall's records are: per segment, [start, payload end) of each record. Each append
// is one write, so every record is followed by its padding and the write's 8-byte end mark.
struct SegLayout {
  std::string name;
  bool sealed = false;
  std::vector<std::pair<uint64_t, uint64_t>> records;
};

std::vector<SegLayout> LayoutOf(const std::string& dir, uint64_t segment_size) {
  LogOptions ro = SmallSegments(segment_size);
  ro.read_only = true;
  auto log = Log::Open(dir, ro);
  EXPECT_TRUE(log.ok());
  std::vector<SegLayout> out;
  for (const SegmentInfo& info : (*log)->Stats().segments) {
    SegLayout l{info.name, info.sealed, {}};
    uint64_t off = kSegmentHeaderSize;
    for (Lsn lsn = info.first_lsn; lsn <= info.last_lsn; ++lsn) {
      l.records.push_back({off, off + kRecordHeaderSize + 40 + lsn * 3});
      off += RecordSpan(40 + lsn * 3) + kWriteEndMarkSize;
    }
    out.push_back(std::move(l));
  }
  return out;
}

TEST(CorruptionTest, EveryFlippedByteIsDetectedOrHarmless) {
  testing::TempDir tmp;
  const std::string pristine = tmp.Sub("p"), work = tmp.Sub("w");
  // Two sealed segments and an active one, small enough to flip every byte.
  const std::vector<Rec> all = BuildSmall(pristine, 700, 18);
  const std::vector<SegLayout> layout = LayoutOf(pristine, 700);
  ASSERT_GE(layout.size(), 3u);
  ASSERT_TRUE(layout[0].sealed && !layout.back().sealed);
  ASSERT_GE(layout.back().records.size(), 2u);
  int detected = 0, harmless = 0;
  for (size_t f = 0; f < layout.size(); ++f) {
    const SegLayout& seg = layout[f];
    const bool active = f + 1 == layout.size();
    const std::string data = testing::ReadFile(pristine + "/" + seg.name);
    // The active segment is preallocated: flip its written part and a little beyond.
    const size_t limit = active ? std::min<size_t>(data.size(), 900) : data.size();
    for (size_t pos = 0; pos < limit; ++pos) {
      SCOPED_TRACE(seg.name + " byte " + std::to_string(pos));
      // What the flipped byte belongs to.
      bool in_last_record = false, in_padding = false, in_mark = false, past_end = false;
      for (const auto& [start, payload_end] : seg.records) {
        in_padding |= pos >= payload_end && pos < AlignUp(payload_end);
        in_mark |= pos >= AlignUp(payload_end) && pos < AlignUp(payload_end) + kWriteEndMarkSize;
      }
      if (active) {
        past_end = pos >= AlignUp(seg.records.back().second) + kWriteEndMarkSize;
        in_last_record = pos < AlignUp(seg.records.back().second) &&
                         pos >= seg.records.back().first;
      }
      CopyDir(pristine, work);
      std::string d = data;
      d[pos] = static_cast<char>(d[pos] ^ 0x5a);
      WriteFile(work + "/" + seg.name, d);

      // Verify reads every byte: it must notice anything but padding and preallocated space.
      auto v = VerifyLog(work);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      // Damage to the last record of an acknowledged write is corruption, never a torn tail:
      // the write's end mark after it shows the write reached the disk whole.
      if (!active || (!in_padding && !past_end)) {
        ASSERT_FALSE(v->clean()) << "VerifyLog missed it";
      }
      if (in_last_record) {
        ASSERT_FALSE(v->torn_tail);
      }

      RecoveryReport rep;
      auto log = Log::Open(work, SmallSegments(700), &rep);
      if (!log.ok()) {
        ASSERT_TRUE(log.status().IsCorruption()) << log.status().ToString();
        ASSERT_FALSE(v->clean()) << "Open refused what VerifyLog calls clean";
        ++detected;
        continue;
      }
      Status st;
      const std::vector<Rec> got = ReadAll(**log, &st);
      ASSERT_TRUE(IsPrefix(got, all)) << "a wrong record was served";
      if (!st.ok()) {
        ASSERT_TRUE(st.IsCorruption()) << st.ToString();
        ASSERT_NE(st.message().find("segment "), std::string::npos) << st.message();
        ++detected;
      } else {
        ASSERT_EQ(got.size(), all.size()) << "acknowledged records were dropped";
        // (A non-zero byte in the preallocated space after the end looks like a torn write
        // and is cleared as one.)
        ASSERT_TRUE(!rep.torn_tail || past_end) << rep.ToString();
        // Padding, an end mark (verify reports a damaged one), preallocated space: every record
        // is still intact.
        ASSERT_TRUE(in_padding || in_mark || past_end) << "damage went unnoticed";
        ++harmless;
      }
    }
  }
  EXPECT_GT(detected, 1000);
  EXPECT_GT(harmless, 0);
}

TEST(CorruptionTest, BadRecordFollowedByValidOnesRefusesToOpenAndNamesIt) {
  testing::TempDir tmp;
  const std::vector<Rec> all = BuildSmall(tmp.path(), 64 << 10, 10);
  const std::string seg = SegmentFiles(tmp.path())[0];
  std::string d = testing::ReadFile(seg);
  // Record 4 starts after three records of spans RecordSpan(43), (46), (49).
  const uint64_t off4 = kSegmentHeaderSize + RecordSpan(43) + RecordSpan(46) + RecordSpan(49) +
                        3 * kWriteEndMarkSize;
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
  const std::vector<Rec> want(all.begin(), all.begin() + 3);
  EXPECT_EQ(ReadAll(**reopened), want);
  auto r = (*reopened)->Append("new 4");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_lsn, 4u);
  reopened->reset();
  EXPECT_TRUE(VerifyLog(tmp.path())->clean());
}

TEST(CorruptionTest, DamageInASealedSegmentIsFoundByReadersVerifyAndCutByTruncate) {
  testing::TempDir tmp;
  const std::vector<Rec> all = BuildSmall(tmp.path(), 700, 18);
  const std::vector<SegLayout> layout = LayoutOf(tmp.path(), 700);
  ASSERT_GE(layout.size(), 3u);
  ASSERT_TRUE(layout[1].sealed);
  ASSERT_GE(layout[1].records.size(), 2u);
  // The payload of the second record of the second (sealed) segment.
  const Lsn bad = layout[0].records.size() + 2;
  const uint64_t off = layout[1].records[1].first;
  const std::string seg = tmp.path() + "/" + layout[1].name;
  std::string d = testing::ReadFile(seg);
  d[off + kRecordHeaderSize + 3] ^= 0x20;
  WriteFile(seg, d);

  auto log = Log::Open(tmp.path(), SmallSegments(700));
  if (log.ok()) {  // sealed segments may be opened from their footers alone
    Status st;
    const std::vector<Rec> got = ReadAll(**log, &st);
    EXPECT_EQ(got, std::vector<Rec>(all.begin(), all.begin() + (bad - 1)));
    ASSERT_TRUE(st.IsCorruption()) << st.ToString();
    EXPECT_NE(st.message().find("segment " + layout[1].name + " offset " + std::to_string(off)),
              std::string::npos) << st.message();
    EXPECT_NE(st.message().find("LSN " + std::to_string(bad)), std::string::npos) << st.message();
    log->reset();
  } else {
    EXPECT_TRUE(log.status().IsCorruption()) << log.status().ToString();
  }
  auto v = VerifyLog(tmp.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->clean());
  EXPECT_EQ(v->problems[0].segment, layout[1].name);
  EXPECT_EQ(v->problems[0].offset, off);
  EXPECT_EQ(v->problems[0].lsn, bad);

  auto cut = TruncateLogAt(tmp.path(), bad);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(*cut, bad - 1);
  EXPECT_EQ(SegmentFiles(tmp.path()).size(), 2u) << "later segments are removed";
  {
    auto reopened = Log::Open(tmp.path(), SmallSegments(700));
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    EXPECT_EQ(ReadAll(**reopened), std::vector<Rec>(all.begin(), all.begin() + (bad - 1)));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*reopened)->Append(Payload(100 + i)).ok());
    EXPECT_EQ((*reopened)->LastLsn(), bad - 1 + 20);
  }
  auto v2 = VerifyLog(tmp.path());
  ASSERT_TRUE(v2.ok());
  EXPECT_TRUE(v2->clean()) << v2->problems[0].what;
}

TEST(CorruptionTest, BadHeaderOfAMiddleSegmentCanBeTruncatedAway) {
  testing::TempDir tmp;
  const std::vector<Rec> all = BuildSmall(tmp.path(), 700, 18);
  const std::vector<SegLayout> layout = LayoutOf(tmp.path(), 700);
  ASSERT_GE(layout.size(), 3u);
  const Lsn first = layout[0].records.size() + 1;  // first LSN of the second segment
  const std::string seg = tmp.path() + "/" + layout[1].name;
  std::string d = testing::ReadFile(seg);
  d[50] ^= 1;  // created_ns: only the header checksum notices
  WriteFile(seg, d);

  auto log = Log::Open(tmp.path(), SmallSegments(700));
  ASSERT_FALSE(log.ok());
  EXPECT_TRUE(log.status().IsCorruption());
  EXPECT_NE(log.status().message().find(layout[1].name), std::string::npos)
      << log.status().ToString();
  auto v = VerifyLog(tmp.path());
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->clean());
  EXPECT_EQ(v->problems[0].segment, layout[1].name);
  EXPECT_EQ(v->problems[0].offset, 0u);
  EXPECT_EQ(v->problems[0].lsn, first);

  // What verify names is what recover can cut at.
  auto cut = TruncateLogAt(tmp.path(), v->problems[0].lsn);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(*cut, first - 1);
  auto reopened = Log::Open(tmp.path(), SmallSegments(700));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(ReadAll(**reopened), std::vector<Rec>(all.begin(), all.begin() + (first - 1)));
  auto r = (*reopened)->Append("after");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_lsn, first);
}

TEST(CorruptionTest, TruncateInsideABatchDropsTheWholeBatch) {
  testing::TempDir tmp;
  {
    auto log = Log::Open(tmp.path(), SmallSegments());
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("one").ok());
    std::vector<std::string_view> batch = {"b2", "b3", "b4", "b5"};
    ASSERT_TRUE((*log)->Append(batch).ok());
    ASSERT_TRUE((*log)->Append("six").ok());
  }
  auto cut = TruncateLogAt(tmp.path(), 4);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(*cut, 1u);
  auto log = Log::Open(tmp.path(), SmallSegments());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(ReadAll(**log), (std::vector<Rec>{{1, "one"}}));
  EXPECT_TRUE(TruncateLogAt(tmp.path(), 0).status().IsInvalidArgument());
}

TEST(CorruptionTest, DeletedOrSwappedRecordsBreakTheChain) {
  testing::TempDir tmp;
  const std::string pristine = tmp.Sub("p"), work = tmp.Sub("w");
  BuildSmall(pristine, 64 << 10, 6);
  const std::string name = "00000000000000000001.seg";
  const std::string d = testing::ReadFile(pristine + "/" + name);
  std::vector<uint64_t> off = {kSegmentHeaderSize};
  for (int i = 1; i <= 6; ++i) off.push_back(off.back() + RecordSpan(40 + i * 3) + 8);

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
