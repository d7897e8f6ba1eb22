// The open class of tink_compare (--only open): start-up cost on a big store. Builds a log of
// --open-events events (default 10,000,000; the bench's 256-byte random payloads, appended in
// batches of 1000 under durability none, closed cleanly), then times:
//   - log::Log::Open read-only and writable (Close outside the timing), warm and cold cache, and
//     writable with writer_scans_active_segment off (resuming from the checkpoint like a reader);
//   - engine::Engine::Open read-only (what every read command does first: the log, then the
//     projection state's RocksDB opened read-only), warm and cold.
// Each figure is the median of several opens (min and max printed too). The store's state/ was
// created by a writable Engine::Open before the raw appends, so it is small: RocksDB's own open
// cost depends on its files and MANIFEST, not on the events, and the payloads are not events.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/compare.h"
#include "engine/engine.h"
#include "log/log.h"

namespace tink::bench {
namespace {

struct Timing {
  double median = 0, min = 0, max = 0;
  std::string error;
};

Timing Summarize(std::vector<double> v, std::string error) {
  Timing t;
  t.error = std::move(error);
  if (v.empty()) return t;
  std::sort(v.begin(), v.end());
  t.median = v[v.size() / 2];
  t.min = v.front();
  t.max = v.back();
  return t;
}

// Opens `reps` times (dropping the cache of the store first when cold); `open` returns the
// seconds it took or an error.
template <typename F>
Timing Repeat(const std::string& store, bool cold, int reps, F open) {
  std::vector<double> v;
  std::string error;
  for (int i = 0; i < reps && error.empty(); ++i) {
    if (cold) DropCache(store);
    double s = 0;
    error = open(&s);
    v.push_back(s);
  }
  return Summarize(std::move(v), std::move(error));
}

std::string LogOpen(const std::string& dir, bool read_only, double* seconds,
                    bool writer_resumes = false) {
  log::LogOptions o;
  o.read_only = read_only;
  o.writer_scans_active_segment = !writer_resumes;
  const auto t0 = std::chrono::steady_clock::now();
  auto lg = log::Log::Open(dir, o);
  *seconds = SecondsSince(t0);
  if (!lg.ok()) return lg.status().ToString();
  if (Status s = (*lg)->Close(); !s.ok()) return s.ToString();
  return "";
}

std::string EngineOpenReadOnly(const std::string& store, double* seconds) {
  engine::EngineOptions o;
  o.access = engine::Access::kRead;
  const auto t0 = std::chrono::steady_clock::now();
  auto e = engine::Engine::Open(store, o);
  *seconds = SecondsSince(t0);
  return e.ok() ? "" : e.status().ToString();
}

}  // namespace

OpenResult OpenCompare(const std::string& store, uint64_t events) {
  OpenResult out;
  std::string report = "\nopen class: start-up on a store of " + std::to_string(events) +
                       " events (" + std::to_string(kPayload) + "-byte random payloads)\n";
  {
    // The store's directories and its (empty) projection state, as `tink` creates them.
    engine::EngineOptions eo;
    auto e = engine::Engine::Open(store, eo);
    if (!e.ok()) {
      out.report = report + "  ERROR: " + e.status().ToString() + "\n";
      return out;
    }
  }
  const std::string dir = store + "/log";
  const auto t_build = std::chrono::steady_clock::now();
  {
    log::LogOptions o;
    o.durability.mode = log::Durability::Mode::kNone;
    auto lg = log::Log::Open(dir, o);
    if (!lg.ok()) {
      out.report = report + "  ERROR: " + lg.status().ToString() + "\n";
      return out;
    }
    std::vector<std::string_view> batch(kBatch);
    for (uint64_t i = 0; i < events / kBatch; ++i) {
      for (uint64_t k = 0; k < kBatch; ++k) batch[k] = P(i * kBatch + k);
      auto r = (*lg)->Append(batch);
      if (!r.ok()) {
        out.report = report + "  ERROR: " + r.status().ToString() + "\n";
        return out;
      }
    }
    if (Status s = (*lg)->Close(); !s.ok()) {
      out.report = report + "  ERROR: " + s.ToString() + "\n";
      return out;
    }
  }
  const double build_s = SecondsSince(t_build);
  log::LogOptions ro;
  ro.read_only = true;
  uint64_t segments = 0, active_bytes = 0;
  if (auto lg = log::Log::Open(dir, ro); lg.ok()) {
    const log::LogStats st = (*lg)->Stats();
    segments = st.segments.size();
    if (!st.segments.empty()) active_bytes = st.segments.back().bytes;
  }
  char line[300];
  std::snprintf(line, sizeof(line),
                "  built in %.1f s: %llu segments, the active one holds %.1f MiB of records\n",
                build_s, static_cast<unsigned long long>(segments), active_bytes / 1048576.0);
  report += line;

  const int kWarm = 7, kCold = 5;
  struct Case {
    const char* name;
    bool cold;
    Timing t;
  };
  std::vector<Case> cases = {
      {"Log::Open read-only, warm", false, {}},  {"Log::Open read-only, cold", true, {}},
      {"Log::Open writable, warm", false, {}},   {"Log::Open writable, cold", true, {}},
      {"Engine::Open read-only, warm", false, {}}, {"Engine::Open read-only, cold", true, {}},
      {"Log::Open writable, resuming, warm", false, {}},
      {"Log::Open writable, resuming, cold", true, {}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Case& c = cases[i];
    const int reps = c.cold ? kCold : kWarm;
    if (i < 2) {
      (void)LogOpen(dir, true, &c.t.median);  // warm-up
      c.t = Repeat(store, c.cold, reps, [&](double* s) { return LogOpen(dir, true, s); });
    } else if (i < 4) {
      c.t = Repeat(store, c.cold, reps, [&](double* s) { return LogOpen(dir, false, s); });
    } else if (i < 6) {
      c.t = Repeat(store, c.cold, reps, [&](double* s) { return EngineOpenReadOnly(store, s); });
    } else {
      c.t = Repeat(store, c.cold, reps, [&](double* s) { return LogOpen(dir, false, s, true); });
    }
  }
  std::snprintf(line, sizeof(line), "  %-32s %10s %10s %10s\n", "", "median ms", "min ms",
                "max ms");
  report += line;
  for (const Case& c : cases) {
    std::snprintf(line, sizeof(line), "  %-32s %10.2f %10.2f %10.2f%s%s\n", c.name,
                  c.t.median * 1e3, c.t.min * 1e3, c.t.max * 1e3,
                  c.t.error.empty() ? "" : "  ERROR: ", c.t.error.c_str());
    report += line;
  }
  report +=
      "  (writable: Open only, its Close untimed; it scans the whole active segment by default,\n"
      "  so its cost follows how full that segment is; resuming: writer_scans_active_segment =\n"
      "  false.\n"
      "  cold: the page cache of every file of the store dropped before each open. The store was\n"
      "  closed cleanly, so its unsynced tail is empty)\n";
  std::snprintf(line, sizeof(line), "warm %.2f ms, cold %.2f ms (medians)",
                cases[0].t.median * 1e3, cases[1].t.median * 1e3);
  out.log_goal = line;
  out.log_pass = cases[0].t.error.empty() && cases[1].t.error.empty() &&
                 std::max(cases[0].t.median, cases[1].t.median) <= 0.020;
  std::snprintf(line, sizeof(line),
                "warm %.2f ms, cold %.2f ms (scans the %.1f MiB active segment; resuming from "
                "the checkpoint: %.2f / %.2f ms)",
                cases[2].t.median * 1e3, cases[3].t.median * 1e3, active_bytes / 1048576.0,
                cases[6].t.median * 1e3, cases[7].t.median * 1e3);
  out.writer_goal = line;
  out.writer_pass = cases[2].t.error.empty() && cases[3].t.error.empty() &&
                    std::max(cases[2].t.median, cases[3].t.median) <= 0.020;
  std::snprintf(line, sizeof(line), "warm %.2f ms, cold %.2f ms (log + RocksDB state)",
                cases[4].t.median * 1e3, cases[5].t.median * 1e3);
  out.engine_goal = line;
  out.engine_pass = cases[4].t.error.empty() && cases[5].t.error.empty() &&
                    std::max(cases[4].t.median, cases[5].t.median) <= 0.020;
  out.report = report;
  return out;
}

}  // namespace tink::bench
