// FormatTime / ParseTime: RFC 3339 in, fixed 9-digit UTC out, the whole int64 ns range, and clear
// errors for everything else.
#include <gtest/gtest.h>

#include <limits>

#include "schema/schema.h"

namespace tink::schema {
namespace {

constexpr int64_t kS = 1'000'000'000;

TEST(TimeTest, FormatIsFixedWidthUtc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatTime(1'795'502'000'123'456'789), "2026-11-24T06:33:20.123456789Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999999999Z") << "floor, not truncation";
  EXPECT_EQ(FormatTime(-kS), "1969-12-31T23:59:59.000000000Z");
  EXPECT_EQ(FormatTime(-86'400 * kS), "1969-12-31T00:00:00.000000000Z");
  EXPECT_EQ(FormatTime(std::numeric_limits<int64_t>::max()), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatTime(std::numeric_limits<int64_t>::min()), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(FormatTime(951'782'400 * kS), "2000-02-29T00:00:00.000000000Z");
}

TEST(TimeTest, FormatAndParseRoundTrip) {
  for (int64_t ns : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{999'999'999},
                     int64_t{1'764'000'000'000'000'001}, int64_t{-1'000'000'001},
                     int64_t{-2'208'988'800} * kS /* 1900 */, int64_t{951'782'400} * kS,
                     std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    auto back = ParseTime(FormatTime(ns));
    ASSERT_TRUE(back.ok()) << FormatTime(ns) << ": " << back.status().ToString();
    EXPECT_EQ(*back, ns) << FormatTime(ns);
  }
  for (int64_t ns = -3 * 86'400 * kS; ns < 3 * 86'400 * kS; ns += 3'599 * kS + 123'456'789) {
    EXPECT_EQ(*ParseTime(FormatTime(ns)), ns) << FormatTime(ns);
  }
}

TEST(TimeTest, AcceptedForms) {
  const int64_t base = *ParseTime("2026-11-24T06:33:20Z");
  EXPECT_EQ(base, 1'795'502'000 * kS);  // date -u -d 2026-11-24T06:33:20Z +%s
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20.5Z"), base + 500'000'000);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20,5Z"), base + 500'000'000);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20.000000001Z"), base + 1);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20.123456789123Z"), base + 123'456'789)
      << "digits past ns are dropped";
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20"), base) << "no zone is UTC";
  EXPECT_EQ(*ParseTime("2026-11-24 06:33:20"), base);
  EXPECT_EQ(*ParseTime("2026-11-24t06:33:20z"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T08:33:20+02:00"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T01:33:20-0500"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33:20+00:00"), base);
  EXPECT_EQ(*ParseTime("2026-11-25T06:32:20+23:59"), base);
  EXPECT_EQ(*ParseTime("2026-11-24T06:33Z"), base - 20 * kS);
  EXPECT_EQ(*ParseTime("2026-11-24"), base - (6 * 3600 + 33 * 60 + 20) * kS);
  EXPECT_EQ(*ParseTime("1969-12-31T23:59:59.5Z"), -500'000'000);
  EXPECT_EQ(*ParseTime("1900-01-01T00:00:00Z"), -2'208'988'800 * kS);
  EXPECT_EQ(*ParseTime("1970-01-01T01:00:00+01:00"), 0);
}

TEST(TimeTest, CalendarEdges) {
  EXPECT_TRUE(ParseTime("2024-02-29").ok()) << "leap year";
  EXPECT_TRUE(ParseTime("2000-02-29").ok()) << "divisible by 400";
  EXPECT_FALSE(ParseTime("2023-02-29").ok());
  EXPECT_FALSE(ParseTime("1900-02-29").ok()) << "divisible by 100, not 400";
  EXPECT_FALSE(ParseTime("2026-04-31").ok());
  // A leap second counts as the first second of the next minute (POSIX time has none).
  EXPECT_EQ(*ParseTime("2016-12-31T23:59:60Z"), *ParseTime("2017-01-01T00:00:00Z"));
  // The ends of the int64 ns range.
  EXPECT_EQ(*ParseTime("2262-04-11T23:47:16.854775807Z"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*ParseTime("1677-09-21T00:12:43.145224192Z"), std::numeric_limits<int64_t>::min());
  for (const char* out : {"2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z",
                          "9999-12-31T23:59:59Z", "0000-01-01", "1677-09-21T00:12:43+00:01"}) {
    auto r = ParseTime(out);
    ASSERT_FALSE(r.ok()) << out;
    EXPECT_NE(r.status().message().find("outside the representable range"), std::string::npos)
        << r.status().message();
  }
}

TEST(TimeTest, RejectsGarbageWithAClearMessage) {
  for (const char* bad : {"",
                          "yesterday",
                          "2026-13-01",
                          "2026-00-10",
                          "2026-02-30",
                          "2026-11-00",
                          "2026-11-24T25:00:00Z",
                          "2026-11-24T23:60:00Z",
                          "2026-11-24T06:33:61Z",
                          "2026-11-24T06:33:20.Z",
                          "2026-11-24T06:33:20Zjunk",
                          "26-11-24",
                          "2026/11/24",
                          "2026-11-24T",
                          "2026-11-24T06",
                          "2026-11-24T06:3",
                          "2026-11-24T06:33:2",
                          "2026-11-24T06:33:20+2",
                          "2026-11-24T06:33:20+24:00",
                          "2026-11-24T06:33:20+01:60",
                          " 2026-11-24",
                          "2026-11-24 ",
                          "1700000000",
                          "-2026-11-24",
                          "+2026-11-24",
                          "2026-11-24T06:33:20.123-",
                          "２０２６-11-24"}) {
    auto r = ParseTime(bad);
    ASSERT_FALSE(r.ok()) << "accepted '" << bad << "'";
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_EQ(r.status().message().find("bad time '" + std::string(bad) + "': "), 0u)
        << r.status().message();
    EXPECT_NE(r.status().message().find("expected ISO 8601"), std::string::npos);
  }
}

}  // namespace
}  // namespace tink::schema
