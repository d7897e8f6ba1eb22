// RFC 3339 time stamps <-> ns since the Unix epoch (UTC), with std::chrono's civil calendar.
//
// The representable range is that of int64 nanoseconds: 1677-09-21T00:12:43.145224192Z to
// 2262-04-11T23:47:16.854775807Z. ParseTime rejects stamps outside it instead of wrapping.
#include <chrono>
#include <cstdio>
#include <limits>

#include "schema/schema.h"

namespace tink::schema {
namespace {

namespace chr = std::chrono;

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

Status Bad(std::string_view text, const char* why) {
  return Status::InvalidArgument("bad time '" + std::string(text) + "': " + why +
                                 " (expected ISO 8601, e.g. 2026-11-24T06:33:20.123Z)");
}

}  // namespace

std::string FormatTime(int64_t ns) {
  // Floor division, not truncation: -1 ns is 1969-12-31T23:59:59.999999999Z. Done on seconds
  // and days by hand because near INT64_MIN the start of the day is not representable in ns.
  int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t in_day = secs % 86400;
  if (in_day < 0) {
    in_day += 86400;
    --days;
  }
  const chr::year_month_day ymd{chr::sys_days(chr::days(days))};
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(in_day / 3600),
                static_cast<long long>(in_day / 60 % 60), static_cast<long long>(in_day % 60),
                static_cast<long long>(frac));
  return buf;
}

Result<int64_t> ParseTime(std::string_view s) {
  int year, mon, day, hour = 0, min = 0, sec = 0;
  if (s.size() < 10 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &mon) ||
      s[7] != '-' || !Digits(s, 8, 2, &day)) {
    return Bad(s, "no YYYY-MM-DD date");
  }
  size_t p = 10;
  int64_t frac_ns = 0;
  if (p < s.size() && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
    if (!Digits(s, p + 1, 2, &hour) || p + 3 >= s.size() || s[p + 3] != ':' ||
        !Digits(s, p + 4, 2, &min)) {
      return Bad(s, "no HH:MM time after the date");
    }
    p += 6;
    if (p < s.size() && s[p] == ':') {
      if (!Digits(s, p + 1, 2, &sec)) return Bad(s, "bad seconds");
      p += 3;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int digits = 0;
        // Digits past the ninth are below our resolution: read and dropped (truncated).
        for (; p < s.size() && s[p] >= '0' && s[p] <= '9'; ++p, ++digits) {
          if (digits < 9) frac_ns = frac_ns * 10 + (s[p] - '0');
        }
        if (digits == 0) return Bad(s, "empty fraction of a second");
        for (; digits < 9; ++digits) frac_ns *= 10;
      }
    }
  }
  int64_t offset_s = 0;  // no zone: taken as UTC (several recorders write zone-less stamps)
  if (p < s.size()) {
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      const int sign = s[p] == '-' ? -1 : 1;
      if (!Digits(s, p + 1, 2, &oh)) return Bad(s, "bad zone offset");
      size_t q = p + 3;
      if (q < s.size() && s[q] == ':') ++q;
      if (!Digits(s, q, 2, &om) || oh > 23 || om > 59) return Bad(s, "bad zone offset");
      offset_s = sign * (oh * 3600 + om * 60);
      p = q + 2;
    }
  }
  if (p != s.size()) return Bad(s, "unexpected characters at the end");
  // Second 60 is a leap second (RFC 3339 allows it); it counts as the first second of the next
  // minute, since we keep POSIX time.
  if (hour > 23 || min > 59 || sec > 60) return Bad(s, "time of day out of range");
  const chr::year_month_day ymd{chr::year(year), chr::month(static_cast<unsigned>(mon)),
                                chr::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return Bad(s, "no such date");
  const int64_t days = chr::sys_days(ymd).time_since_epoch().count();
  const int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - offset_s;
  // Years are 4 digits, so secs cannot overflow; the ns value can (the range is 1677..2262), and
  // near the lower end secs * 1e9 alone overflows although the sum fits: use 128 bits.
  const __int128 ns = static_cast<__int128>(secs) * 1'000'000'000 + frac_ns;
  if (ns > std::numeric_limits<int64_t>::max() || ns < std::numeric_limits<int64_t>::min()) {
    return Bad(s, "outside the representable range 1677-09-21 .. 2262-04-11");
  }
  return static_cast<int64_t>(ns);
}

}  // namespace tink::schema
