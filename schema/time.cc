// RFC 3339 time stamps <-> ns since the Unix epoch (UTC).
#include <cstdio>
#include <ctime>

#include "schema/schema.h"

namespace tink::schema {
namespace {

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
  int64_t secs = ns / 1000000000;
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

Result<int64_t> ParseTime(std::string_view s) {
  int year, mon, day, hour = 0, min = 0, sec = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mon) ||
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
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          if (digits < 9) {
            frac_ns = frac_ns * 10 + (s[p] - '0');
            ++digits;
          }
          ++p;
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
      if (!Digits(s, q, 2, &om)) return Bad(s, "bad zone offset");
      offset_s = sign * (oh * 3600 + om * 60);
      p = q + 2;
    }
  }
  if (p != s.size()) return Bad(s, "unexpected characters at the end");
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return Bad(s, "field out of range");
  }
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const time_t t = timegm(&tm);
  // timegm normalises 31 Feb to 3 Mar: a day that moved is not a real date.
  if (tm.tm_mday != day) return Bad(s, "no such day");
  return (static_cast<int64_t>(t) - offset_s) * 1000000000LL + frac_ns;
}

}  // namespace tink::schema
