#include <gtest/gtest.h>

#include "schema/schema.h"

namespace tink::schema {
namespace {

TEST(TimeTest, FormatAndParseRoundTrip) {
  for (int64_t ns : {int64_t{0}, int64_t{1}, int64_t{999'999'999}, int64_t{1'764'000'000'000'000'001},
                     int64_t{-1'000'000'001}}) {
    auto back = ParseTime(FormatTime(ns));
    ASSERT_TRUE(back.ok()) << FormatTime(ns);
    EXPECT_EQ(*back, ns) << FormatTime(ns);
  }
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(TimeTest, AcceptedForms) {
  const int64_t base = *ParseTime("2026-11-24T06:33:20Z");
  EXPECT_EQ(base, 1'795'502'000'000'000'000);  // date -u -d 2026-11-24T06:33:20Z +%s
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20.5Z"), base + 500'000'000);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20.123456789123Z"), base + 123'456'789);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20"), base) << "no zone is UTC";
  EXPECT_EQ(*ParseTime("2026-11-24 06:33:20"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T08:33:20+02:00"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T01:33:20-0500"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33Z"), base - 20'000'000'000);
  EXPECT_EQ(*ParseTime("2026-11-24"), base - (6 * 3600 + 33 * 60 + 20) * 1'000'000'000LL);
}

TEST(TimeTest, RejectsGarbage) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-24T25:00:00Z",
                          "2026-11-24T06:33:20.Z", "2026-11-24T06:33:20Zjunk", "26-11-24"}) {
    auto r = ParseTime(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument());
    }
  }
}

}  // namespace
}  // namespace tink::schema
