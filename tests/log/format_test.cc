// Round trips through the log: payload sizes and bytes, LSNs, batches, limits, reopen.
#include <gtest/gtest.h>

#include "log/log.h"
#include "log_test_util.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

TEST(FormatTest, RoundTripOfVariedPayloadsAcrossReopen) {
  testing::TempDir tmp;
  std::vector<Rec> want;
  std::string store_id;
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
      want.push_back({r->first_lsn, p});
    }
  }
  auto log = Log::Open(tmp.path(), SmallSegments(16 << 10));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->store_id_hex(), store_id);
  Status st;
  EXPECT_EQ(ReadAll(**log, &st), want);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto r = (*log)->Append("after reopen");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_lsn, want.size() + 1);
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
  auto all = ReadAll(**log);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(all[i + 1].payload, items[i]);
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
  EXPECT_TRUE((*log)->Append(ok).ok());
  EXPECT_EQ((*log)->LastLsn(), 1u);
}

TEST(FormatTest, DurabilityParse) {
  EXPECT_EQ(Durability::Parse("always")->mode, Durability::Mode::kAlways);
  EXPECT_EQ(Durability::Parse("none")->mode, Durability::Mode::kNone);
  auto iv = Durability::Parse("interval=5");
  ASSERT_TRUE(iv.ok());
  EXPECT_EQ(iv->mode, Durability::Mode::kInterval);
  EXPECT_EQ(iv->interval.count(), 5);
  EXPECT_EQ(iv->ToString(), "interval=5");
  for (const char* bad : {"", "sometimes", "interval=", "interval=0", "interval=-3",
                          "interval=5ms", "ALWAYS"}) {
    EXPECT_FALSE(Durability::Parse(bad).ok()) << bad;
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
