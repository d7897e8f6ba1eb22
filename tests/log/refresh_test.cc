// A read-only log follows a writer through Refresh(): new records, rollovers, sealed segments.
#include <gtest/gtest.h>

#include "log/log.h"
#include "log_test_util.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

TEST(RefreshTest, ReadOnlyLogSeesAppendsAndRolloversAfterRefresh) {
  testing::TempDir tmp;
  auto writer = Log::Open(tmp.path(), SmallSegments(4096));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(Payload(1)).ok());
  LogOptions ro = SmallSegments(4096);
  ro.read_only = true;
  auto reader = Log::Open(tmp.path(), ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->LastLsn(), 1u);
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 40; ++i) ASSERT_TRUE((*writer)->Append(Payload(round * 40 + i + 2)).ok());
    EXPECT_EQ((*reader)->LastLsn(), 1u + 40 * round) << "nothing new before Refresh";
    ASSERT_TRUE((*reader)->Refresh().ok());
    EXPECT_EQ((*reader)->LastLsn(), 1u + 40 * (round + 1));
  }
  Status st;
  auto got = ReadAll(**reader, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(got.size(), 201u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], (Rec{i + 1, Payload(i + 1)}));
  EXPECT_GT((*reader)->Stats().segments.size(), 5u);
  EXPECT_TRUE((*writer)->Refresh().ok()) << "a no-op for the writer";
}

}  // namespace
}  // namespace tink::log
