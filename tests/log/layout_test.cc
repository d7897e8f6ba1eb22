// The bytes on disk match docs/log-format.md and log/format.h: header fields at the documented
// offsets, the first record at 64, padding to 8, the sealed-segment footer and trailer.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>

#include "log/log.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace tink::log {
namespace {

uint64_t U64(const std::string& d, size_t off) { return GetU64(d.data() + off); }
uint32_t U32(const std::string& d, size_t off) { return GetU32(d.data() + off); }

TEST(LayoutTest, HeaderAndRecordsAreWhereTheSpecSays) {
  testing::TempDir tmp;
  {
    auto log = Log::Open(tmp.path(), {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append("hello").ok());
    ASSERT_TRUE((*log)->Append(std::string(8, 'x')).ok());
  }
  const std::string d = testing::ReadFile(tmp.Sub("00000000000000000001.seg"));
  ASSERT_EQ(d.size(), kAllocationStep) << "active segments are preallocated, a step at a time";
  EXPECT_EQ(std::memcmp(d.data(), "TINKLOG\0", 8), 0);
  EXPECT_EQ(U32(d, 8), kFormatVersion);
  EXPECT_EQ(U32(d, 12), 64u);
  EXPECT_EQ(U64(d, 32), 1u);  // first LSN
  EXPECT_EQ(U64(d, 40), 0u);  // prev checksum of the first segment
  EXPECT_EQ(U64(d, 56), XXH3_64bits(d.data(), 56));

  // Record 1 at 64: checksum over [8, 40+len), prev 0, lsn 1, length 5, type FULL.
  EXPECT_EQ(U64(d, 64 + 8), 0u);
  EXPECT_EQ(U64(d, 64 + 16), 1u);
  EXPECT_EQ(U32(d, 64 + 32), 5u);
  EXPECT_EQ(static_cast<uint8_t>(d[64 + 36]), 1u);
  EXPECT_EQ(U64(d, 64), XXH3_64bits(d.data() + 64 + 8, 32 + 5));
  EXPECT_EQ(d.substr(64 + 40, 5), "hello");
  EXPECT_EQ(d.substr(64 + 45, 3), std::string(3, '\0')) << "padding is zeros";
  EXPECT_EQ(static_cast<uint8_t>(d[64 + 37]), kFlagWriteEnd) << "the append was one write";
  // The write's end mark at 64 + align8(45) = 112: magic, then the write's record count.
  EXPECT_EQ(U32(d, 112), 0xE7D1A5F3u);
  EXPECT_EQ(U32(d, 116), 1u);

  // Record 2 at 112 + 8 = 120, chained to record 1.
  const size_t r2 = 64 + RecordSpan(5) + kWriteEndMarkSize;
  EXPECT_EQ(r2, 120u);
  EXPECT_EQ(U64(d, r2 + 8), U64(d, 64));
  EXPECT_EQ(U64(d, r2 + 16), 2u);
  EXPECT_GE(U64(d, r2 + 24), U64(d, 64 + 24)) << "time is non-decreasing";
  EXPECT_EQ(d.substr(r2 + 40, 8), std::string(8, 'x'));
  EXPECT_EQ(U32(d, r2 + RecordSpan(8)), 0xE7D1A5F3u);
  const size_t end = r2 + RecordSpan(8) + kWriteEndMarkSize;
  EXPECT_EQ(d.substr(end, 1024), std::string(1024, '\0')) << "zeros after the last record";
}

TEST(LayoutTest, SealedSegmentEndsWithFooterAndTrailer) {
  testing::TempDir tmp;
  LogOptions o;
  o.segment_size = 4096;
  {
    auto log = Log::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE((*log)->Append(std::string(100, 'a')).ok());
  }
  const std::string d = testing::ReadFile(tmp.Sub("00000000000000000001.seg"));
  ASSERT_LT(d.size(), 8192u) << "sealed segments are trimmed";
  EXPECT_EQ(U64(d, d.size() - 8), 0x00444e454b4e4954ULL);  // "TINKEND\0"
  const uint64_t footer = U64(d, d.size() - 16);
  EXPECT_EQ(static_cast<uint8_t>(d[footer + 36]), 0x10u);  // FOOTER
  const std::string payload = d.substr(footer + 40, U32(d, footer + 32));
  EXPECT_EQ(U64(payload, 8), 1u);                                  // first LSN
  EXPECT_EQ(U64(payload, 16), U64(d, footer + 16));                // last LSN == footer lsn
  EXPECT_EQ(U64(payload, 48), XXH3_64bits(d.data(), footer));      // data checksum
  ASSERT_GE(U32(payload, 56), 1u);
  EXPECT_EQ(U64(payload, 64), 1u);   // first index entry: LSN 1
  EXPECT_EQ(U64(payload, 72), 64u);  // at offset 64
  // The next segment continues the chain: its prev_checksum is this one's last record checksum.
  const uint64_t last = U64(d, footer + 16);
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(last + 1));
  const std::string next = testing::ReadFile(tmp.Sub(name));
  ASSERT_GE(next.size(), 64u) << name;
  EXPECT_EQ(U64(next, 40), U64(d, footer + 8));
}

}  // namespace
}  // namespace tink::log
