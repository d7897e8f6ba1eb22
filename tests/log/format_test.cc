// Round trips through the log: payload sizes and bytes, LSNs, batches, limits, reopen.
#include <gtest/gtest.h>

#include <filesystem>

#include "log/log.h"
#include "log_test_util.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

TEST(FormatTest, RoundTripOfVariedPayloadsAcrossReopen) {
  testing::TempDir tmp;
  std::vector<Rec> want;
  std::string store_id;
  std::vector<int64_t> appended_times;
  {
    auto log = Log::Open(tmp.path(), SmallSegments(16 << 10));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    store_id = (*log)->store_id_hex();
    EXPECT_EQ(store_id.size(), 32u);
    int64_t last_time = 0;
    for (size_t size : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 5000, 20000}) {
      std::string p(size, '\0');
      for (size_t i = 0; i < size; ++i) p[i] = static_cast<char>((i * 131 + size) & 0xff);
      auto r = (*log)->Append(p);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->first_lsn, want.size() + 1);
      EXPECT_GE(r->time_ns, last_time);
      last_time = r->time_ns;
      appended_times.push_back(r->time_ns);
      want.push_back({r->first_lsn, p});
    }
  }
  std::vector<int64_t> times;
  {
    auto log = Log::Open(tmp.path(), SmallSegments(16 << 10));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->store_id_hex(), store_id);
    Status st;
    EXPECT_EQ(ReadAll(**log, &st), want);
    EXPECT_TRUE(st.ok()) << st.ToString();
    // Recorded times come back as appended, non-decreasing with LSN.
    int64_t last = 0;
    for (auto it = (*log)->NewIterator(1); it->Valid(); it->Next()) {
      EXPECT_GE(it->record().time_ns, last) << it->record().lsn;
      EXPECT_GT(it->record().time_ns, 0);
      last = it->record().time_ns;
      times.push_back(last);
    }
    EXPECT_EQ(times, appended_times);
    auto r = (*log)->Append("after reopen");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first_lsn, want.size() + 1);
    EXPECT_EQ(r->last_lsn, want.size() + 1);
    EXPECT_GE(r->time_ns, last);
    want.push_back({r->first_lsn, "after reopen"});
  }
  // A second reopen sees the post-reopen append too, and the store keeps its identity.
  auto log = Log::Open(tmp.path(), SmallSegments(16 << 10));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->store_id_hex(), store_id);
  EXPECT_EQ(ReadAll(**log), want);
  EXPECT_EQ((*log)->LastLsn(), want.size());
}

TEST(FormatTest, EveryStoreHasItsOwnId) {
  testing::TempDir tmp;
  auto a = Log::Open(tmp.Sub("a"), {});
  auto b = Log::Open(tmp.Sub("b"), {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->store_id_hex(), (*b)->store_id_hex());
  EXPECT_EQ((*a)->store_id_hex().find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(FormatTest, BatchGetsConsecutiveLsnsAndSharedTime) {
  testing::TempDir tmp;
  auto log = Log::Open(tmp.path(), {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append("single").ok());
  std::vector<std::string> items = {"a", "bb", "ccc", "dddd"};
  std::vector<std::string_view> views(items.begin(), items.end());
  auto r = (*log)->Append(views);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_lsn, 2u);
  EXPECT_EQ(r->last_lsn, 5u);
  EXPECT_EQ((*log)->LastLsn(), 5u);
  auto all = ReadAll(**log);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(all[i + 1].payload, items[i]);
  int n = 0;
  for (auto it = (*log)->NewIterator(2); it->Valid(); it->Next(), ++n) {
    EXPECT_EQ(it->record().time_ns, r->time_ns) << "a batch is committed at one time";
  }
  EXPECT_EQ(n, 4);
}

TEST(FormatTest, BatchLargerThanASegmentStaysInOne) {
  testing::TempDir tmp;
  std::vector<std::string> items;
  for (int i = 0; i < 64; ++i) items.push_back(Payload(i, 200));  // ~15 KB against 4 KB segments
  std::vector<std::string_view> views(items.begin(), items.end());
  {
    auto log = Log::Open(tmp.path(), SmallSegments(4096));
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("before").ok());
    auto r = (*log)->Append(views);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_lsn, 2u);
    EXPECT_EQ(r->last_lsn, 65u);
    ASSERT_TRUE((*log)->Append("after").ok());
  }
  auto log = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const auto all = ReadAll(**log);
  ASSERT_EQ(all.size(), 66u);
  EXPECT_EQ(all.front().payload, "before");
  for (int i = 0; i < 64; ++i) EXPECT_EQ(all[i + 1], (Rec{static_cast<Lsn>(i + 2), items[i]}));
  EXPECT_EQ(all.back(), (Rec{66, "after"}));
  for (const SegmentInfo& seg : (*log)->Stats().segments) {
    EXPECT_FALSE(seg.first_lsn > 2 && seg.first_lsn <= 65) << "the batch was split at " << seg.name;
  }
}

TEST(FormatTest, RejectsEmptyBatchAndOversizedRecordWithoutWriting) {
  testing::TempDir tmp;
  LogOptions o;
  o.max_record_size = 1000;
  auto log = Log::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  auto empty = (*log)->Append(std::span<const std::string_view>());
  EXPECT_TRUE(empty.status().IsInvalidArgument());
  std::string big(1001, 'x');
  std::string ok(1000, 'y');
  std::vector<std::string_view> batch = {ok, big};
  auto r = (*log)->Append(batch);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_EQ((*log)->LastLsn(), 0u);
  EXPECT_TRUE((*log)->status().ok()) << "bad input must not fail the log";
  EXPECT_TRUE((*log)->Append(big).status().IsInvalidArgument());
  EXPECT_TRUE((*log)->Append(ok).ok());
  EXPECT_EQ((*log)->LastLsn(), 1u);
  log->reset();
  // Nothing of the refused appends reached the disk.
  auto reopened = Log::Open(tmp.path(), o);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(ReadAll(**reopened), (std::vector<Rec>{{1, ok}}));
}

TEST(FormatTest, ReadOnlyOpenRefusesAppendsAndMissingLogs) {
  testing::TempDir tmp;
  LogOptions ro;
  ro.read_only = true;
  EXPECT_TRUE(Log::Open(tmp.Sub("none"), ro).status().IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("none"))) << "read-only must not create";
  {
    auto log = Log::Open(tmp.path(), {});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("x").ok());
  }
  auto log = Log::Open(tmp.path(), ro);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_FALSE((*log)->Append("y").ok());
  EXPECT_EQ((*log)->LastLsn(), 1u);
  EXPECT_EQ(ReadAll(**log), (std::vector<Rec>{{1, "x"}}));
}

TEST(FormatTest, DurabilityParse) {
  EXPECT_EQ(Durability::Parse("always")->mode, Durability::Mode::kAlways);
  EXPECT_EQ(Durability::Parse("none")->mode, Durability::Mode::kNone);
  auto iv = Durability::Parse("interval=5");
  ASSERT_TRUE(iv.ok());
  EXPECT_EQ(iv->mode, Durability::Mode::kInterval);
  EXPECT_EQ(iv->interval.count(), 5);
  EXPECT_EQ(iv->ToString(), "interval=5");
  for (const char* good : {"always", "none", "interval=1", "interval=250"}) {
    auto d = Durability::Parse(good);
    ASSERT_TRUE(d.ok()) << good;
    EXPECT_EQ(d->ToString(), good);
  }
  for (const char* bad : {"", "sometimes", "interval=", "interval=0", "interval=-3",
                          "interval=5ms", "ALWAYS", "always ", "interval=x", "never"}) {
    EXPECT_TRUE(Durability::Parse(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(FormatTest, EveryModeRoundTripsAndSyncWorks) {
  for (const char* mode : {"always", "interval=2", "none"}) {
    testing::TempDir tmp;
    LogOptions o;
    o.durability = *Durability::Parse(mode);
    {
      auto log = Log::Open(tmp.path(), o);
      ASSERT_TRUE(log.ok());
      for (int i = 0; i < 50; ++i) ASSERT_TRUE((*log)->Append(Payload(i)).ok());
      EXPECT_TRUE((*log)->Sync().ok());
    }
    auto log = Log::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->LastLsn(), 50u) << mode;
  }
}

}  // namespace
}  // namespace tink::log
