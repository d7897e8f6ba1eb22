// A write torn at every byte offset of the last record (and of a multi-record batch) reopens to
// exactly the records before it, is reported, and appends continue with the next LSN.
#include <gtest/gtest.h>

#include <fstream>

#include "log/log.h"
#include "log_test_util.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

constexpr size_t kPayload = 100;  // span 144: 40 header + 100 payload + 4 padding

void Damage(const std::string& seg, uint64_t from, uint64_t to, char fill) {
  std::string d = testing::ReadFile(seg);
  for (uint64_t i = from; i < to; ++i) d[i] = fill;
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << d;
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

void CheckEveryCut(int singles, int batch) {
  testing::TempDir tmp;
  const std::string pristine = tmp.Sub("pristine"), work = tmp.Sub("work");
  const std::vector<Rec> all = Build(pristine, singles, batch);
  const int last_group = batch > 0 ? batch : 1;
  const uint64_t span = RecordSpan(kPayload);
  const uint64_t group_start = kSegmentHeaderSize + span * (all.size() - last_group);
  const uint64_t group_end = kSegmentHeaderSize + span * all.size();
  const uint64_t last_payload_end = group_end - span + kRecordHeaderSize + kPayload;
  const std::vector<Rec> before(all.begin(), all.end() - last_group);

  for (char fill : {'\0', '\xab'}) {
    for (uint64_t cut = group_start; cut < group_end; ++cut) {
      SCOPED_TRACE("cut at " + std::to_string(cut) + " fill " + std::to_string(int(fill)));
      CopyDir(pristine, work);
      Damage(SegmentFiles(work)[0], cut, group_end, fill);
      RecoveryReport rep;
      auto log = Log::Open(work, SmallSegments(), &rep);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      Status st;
      const std::vector<Rec> got = ReadAll(**log, &st);
      ASSERT_TRUE(st.ok()) << st.ToString();
      if (cut >= last_payload_end) {
        // Only the zero padding after the last payload changed: nothing was lost.
        EXPECT_EQ(got, all);
        continue;
      }
      EXPECT_EQ(got, before);
      const bool nothing_written = fill == '\0' && cut == group_start;
      EXPECT_EQ(rep.torn_tail, !nothing_written);
      if (rep.torn_tail) {
        EXPECT_EQ(rep.offset, group_start);
        EXPECT_EQ(rep.last_lsn, before.size());
      }
      auto r = (*log)->Append("next");
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->first_lsn, before.size() + 1);
      log->reset();
      auto reopened = Log::Open(work, SmallSegments(), &rep);
      ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
      EXPECT_FALSE(rep.torn_tail) << "the torn bytes were cleared";
      EXPECT_EQ((*reopened)->LastLsn(), before.size() + 1);
    }
  }
}

TEST(TruncationTest, TornLastRecordAtEveryByte) { CheckEveryCut(19, 0); }

TEST(TruncationTest, TornBatchAtEveryByteIsAllOrNothing) { CheckEveryCut(10, 3); }

TEST(TruncationTest, ReadOnlyOpenReportsTornTailAndChangesNothing) {
  testing::TempDir tmp;
  Build(tmp.path(), 5, 0);
  const std::string seg = SegmentFiles(tmp.path())[0];
  const uint64_t end = kSegmentHeaderSize + 5 * RecordSpan(kPayload);
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
