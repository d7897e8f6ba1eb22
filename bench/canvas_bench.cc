// Throughput of the canvas and the importers (docs/performance.md, "Canvas and importers").
// A standalone program (no Google Benchmark: most rows are one long operation, timed once per
// process, or a short one repeated); prints one table at the end. Sections (--only picks some):
//
//   import   engine::import::ImportFile on the recorded runs in tests/data/agent-runs/ (OpenHands
//            output.jsonl, 3 runs; the SWE-agent marshmallow trajectory, without and with its
//            --base files), repeated: the importer alone (source MB/s, events/s); then what
//            `tink import FILE` does on a fresh store: Engine::Open with the default options
//            (durability always, tail thread), ImportFile, one Engine::Append of the file's
//            events, Engine::Close (catch-up of every projection and the RocksDB flush).
//   micro    projections::text::ApplyPatch and UnifiedDiff per call on a 20 KB and a 200 KB file
//            with small random edits (1-5 lines), and the two hashes of a content (XXH3-128, the
//            canvas's content address; git's SHA-1 blob id, what the export computes).
//   canvas   a synthetic agent run: --files base files (file.write base: true) of --file-kb KB,
//            then --events file events on tool tasks of --per-task events each: file.patch of
//            1-5 changed lines made by UnifiedDiff (99%), file.write of a new file (0.5%),
//            file.delete (0.3%), file.rename (0.2%); appended (durability none, log only), then
//            Engine::Replay("canvas") timed (apply, then the compaction Replay ends with).
//            Reads on the result: CanvasReader::Diff base..head, ReadFile and Tree as of random
//            LSNs (p50/p99), Blame of the live file whose version count is nearest 250.
//   export   ExportGit of that run (full), ExportTree at the head (`tink canvas export`), an
//            up-to-date re-export, and an incremental one after --more file events.
//
// Flags: --only LIST (import,micro,canvas; export implies canvas), --files N (200), --file-kb K
// (20), --events N (50000), --per-task N (25), --more N (1000), --probes N (ReadFile lookups,
// 2000; Tree: N/20), --reps N (repetitions of the short rows, 5; import alone 4N), --micro-secs S
// (0.3 per repetition), --data DIR (tests/data/agent-runs), --seed N, --keep (leave the scratch
// directory). Scratch: a fresh <dir>/tink-bench-XXXXXX (dir: $TINK_BENCH_DIR, else the build
// directory), removed at exit. Information only: nothing is asserted.
#include <git2.h>
#include <time.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/canvas_workload.h"
#include "engine/canvas_git.h"
#include "engine/engine.h"
#include "engine/import/import.h"
#include "projections/canvas.h"
#include "projections/textdiff.h"

#ifndef TINK_BENCH_DATA_DIR
#define TINK_BENCH_DATA_DIR "tests/data/agent-runs"
#endif

namespace tink::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using projections::Lsn;
namespace text = projections::text;

struct Flags {
  std::set<std::string> only = {"import", "micro", "canvas", "export"};
  int files = 200;
  size_t file_kb = 20;
  uint64_t events = 50'000;
  int per_task = 25;
  uint64_t more = 1000;
  uint64_t probes = 2000;
  int reps = 5;
  double micro_secs = 0.3;
  std::string data = TINK_BENCH_DATA_DIR;
  uint64_t seed = 7;
  bool keep = false;
};
Flags g_flags;

double Secs(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
double ProcessCpu() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9;
}
uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}
// Sorted-sample statistics.
struct Stats {
  double min = 0, p50 = 0, p99 = 0, max = 0;
  static Stats Of(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
    s.min = v.front();
    s.p50 = at(0.5);
    s.p99 = at(0.99);
    s.max = v.back();
    return s;
  }
};

// ---- The results table -----------------------------------------------------------------------

struct Row {
  std::string section, what, value, note;
};
std::vector<Row> g_rows;

void Add(const std::string& section, const std::string& what, const std::string& value,
         const std::string& note = "") {
  g_rows.push_back({section, what, value, note});
  std::fprintf(stderr, "  %-8s %-46s %s %s\n", section.c_str(), what.c_str(), value.c_str(),
               note.c_str());
}
std::string F(const char* fmt, double a) {
  char b[64];
  std::snprintf(b, sizeof(b), fmt, a);
  return b;
}
std::string F(const char* fmt, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}
// "min / median" of repeated measurements.
std::string MinMed(const char* fmt, const std::vector<double>& v) {
  const Stats s = Stats::Of(v);
  return F(fmt, s.min) + " / " + F(fmt, s.p50);
}
// The same for rates (higher is better): best / median.
std::string BestMed(const char* fmt, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return "-";
  return F(fmt, v.back()) + " / " + F(fmt, v[(v.size() - 1) / 2]);
}

void PrintTable() {
  size_t w0 = 7, w1 = 11, w2 = 5;
  for (const Row& r : g_rows) {
    w0 = std::max(w0, r.section.size());
    w1 = std::max(w1, r.what.size());
    w2 = std::max(w2, r.value.size());
  }
  std::printf("%-*s  %-*s  %-*s  %s\n", static_cast<int>(w0), "section", static_cast<int>(w1),
              "measurement", static_cast<int>(w2), "value", "note");
  for (const Row& r : g_rows) {
    std::printf("%-*s  %-*s  %-*s  %s\n", static_cast<int>(w0), r.section.c_str(),
                static_cast<int>(w1), r.what.c_str(), static_cast<int>(w2), r.value.c_str(),
                r.note.c_str());
  }
}

// Task groups until `file_events` file events are emitted.
void Generate(CanvasWorkload& w, uint64_t file_events, std::vector<schema::EventInput>* out) {
  const uint64_t target = w.mix().files() + file_events;
  while (w.mix().files() < target) {
    const uint64_t left = target - w.mix().files();
    w.Task(static_cast<int>(std::min<uint64_t>(left, g_flags.per_task)), out);
  }
}

engine::EngineOptions Quiet() {
  engine::EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  o.catch_up = false;
  o.tail = false;
  return o;
}

// ---- import ----------------------------------------------------------------------------------

struct ImportCase {
  std::string name, file;
  engine::import::Options opt;
};

void BenchImport(const ScratchDir& scratch) {
  const std::string d = g_flags.data;
  std::vector<ImportCase> cases;
  {
    ImportCase c{"openhands output.jsonl (3 runs)", d + "/openhands/output.jsonl", {}};
    c.opt.format = "openhands";
    cases.push_back(c);
    ImportCase s{"swe-agent marshmallow-1867.traj",
                 d + "/swe-agent/marshmallow-code__marshmallow-1867.traj", {}};
    s.opt.format = "swe-agent";
    cases.push_back(s);
    ImportCase b = s;
    b.name += " --base";
    b.opt.base_dir = d + "/base/marshmallow-1867";
    cases.push_back(b);
  }
  int n = 0;
  for (const ImportCase& c : cases) {
    const double mb = std::filesystem::file_size(c.file) / 1e6;
    uint64_t events = 0, file_events = 0;
    std::vector<double> secs;
    // Importer alone: warm once, then 4 x reps.
    (void)Must(engine::import::ImportFile(c.file, c.opt), c.file);
    for (int r = 0; r < 4 * g_flags.reps; ++r) {
      const auto t0 = Clock::now();
      auto runs = Must(engine::import::ImportFile(c.file, c.opt), c.file);
      secs.push_back(Secs(t0));
      events = 0;
      file_events = 0;
      for (const auto& run : runs) {
        events += run.events.size();
        for (const auto& e : run.events) file_events += e.type.starts_with("file.");
      }
    }
    std::vector<double> mbs, evs;
    for (double s : secs) {
      mbs.push_back(mb / s);
      evs.push_back(events / s);
    }
    const std::string what = c.name;
    Add("import", what + ": source", F("%.3f MB", mb),
        std::to_string(events) + " events, " + std::to_string(file_events) + " file events");
    Add("import", what + ": ImportFile ms", MinMed("%.2f", [&] {
          std::vector<double> ms;
          for (double s : secs) ms.push_back(s * 1e3);
          return ms;
        }()), "min / median of " + std::to_string(secs.size()));
    Add("import", what + ": ImportFile MB/s", BestMed("%.1f", mbs), "best / median");
    Add("import", what + ": ImportFile events/s", BestMed("%.0f", evs), "best / median");

    // `tink import FILE` on a fresh store.
    std::vector<double> total, open_ms, imp_ms, app_ms, close_ms;
    for (int r = 0; r < g_flags.reps; ++r) {
      const std::string store = scratch.Sub("import-" + std::to_string(n++));
      const auto t0 = Clock::now();
      auto eng = Must(engine::Engine::Open(store, engine::EngineOptions{}), "open " + store);
      const auto t1 = Clock::now();
      auto runs = Must(engine::import::ImportFile(c.file, c.opt), c.file);
      std::vector<schema::EventInput> all;
      for (auto& run : runs) {
        for (auto& e : run.events) all.push_back(std::move(e));
      }
      const auto t2 = Clock::now();
      auto out = Must(eng->Append(all), "append");
      const auto t3 = Clock::now();
      Must(eng->Close(), "close");
      const auto t4 = Clock::now();
      auto ms = [](Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
      };
      total.push_back(ms(t0, t4) / 1e3);
      open_ms.push_back(ms(t0, t1));
      imp_ms.push_back(ms(t1, t2));
      app_ms.push_back(ms(t2, t3));
      close_ms.push_back(ms(t3, t4));
      std::filesystem::remove_all(store);
    }
    std::vector<double> tevs, tmbs, tms;
    for (double s : total) {
      tevs.push_back(events / s);
      tmbs.push_back(mb / s);
      tms.push_back(s * 1e3);
    }
    Add("import", what + ": tink import total ms", MinMed("%.1f", tms),
        "open+import+append+close, min / median of " + std::to_string(total.size()));
    Add("import", what + ": tink import events/s", BestMed("%.0f", tevs), "best / median");
    Add("import", what + ": tink import MB/s", BestMed("%.2f", tmbs), "best / median");
    std::vector<double> oevs;
    for (size_t r = 0; r < total.size(); ++r) {
      oevs.push_back(events / ((imp_ms[r] + app_ms[r] + close_ms[r]) / 1e3));
    }
    Add("import", what + ": into an open store events/s", BestMed("%.0f", oevs),
        "import+append+close, without the open of a new store; best / median");
    Add("import", what + ": split ms (median)",
        F("open %.1f, ", Stats::Of(open_ms).p50) + F("import %.1f, ", Stats::Of(imp_ms).p50) +
            F("append %.1f, ", Stats::Of(app_ms).p50) + F("close %.1f", Stats::Of(close_ms).p50),
        "append: durability always; close: projections catch-up + flush");
  }
}

// ---- micro -----------------------------------------------------------------------------------

// Calls op over `n` prepared inputs in a loop for --micro-secs; returns µs per call.
template <typename Op>
double PerCall(size_t n, Op op) {
  uint64_t calls = 0;
  const auto t0 = Clock::now();
  double s = 0;
  do {
    for (size_t i = 0; i < n; ++i) op(i);
    calls += n;
    s = Secs(t0);
  } while (s < g_flags.micro_secs);
  return s * 1e6 / calls;
}

void BenchMicro() {
  for (size_t kb : {20, 200}) {
    TextGen g(g_flags.seed + kb);
    const std::string base = g.Content(kb * 1024);
    std::vector<std::string> after, diffs;
    for (int i = 0; i < 64; ++i) {
      after.push_back(g.Edit(base));
      diffs.push_back(Must(text::UnifiedDiff({"f.py", base}, {"f.py", after.back()}), "diff"));
    }
    double diff_bytes = 0;
    for (const auto& d : diffs) diff_bytes += d.size();
    std::vector<double> apply, apply_noverify, diff, xxh, sha;
    uint64_t sink = 0;
    for (int r = 0; r < g_flags.reps; ++r) {
      apply.push_back(PerCall(diffs.size(), [&](size_t i) {
        auto out = text::ApplyPatch(base, diffs[i]);
        if (!out.ok() || *out != after[i]) Die("ApplyPatch", out.ok() ? Status::Ok() : out.status());
        sink += out->size();
      }));
      diff.push_back(PerCall(diffs.size(), [&](size_t i) {
        auto out = text::UnifiedDiff({"f.py", base}, {"f.py", after[i]});
        sink += out.ok() ? out->size() : 0;
      }));
      xxh.push_back(PerCall(after.size(), [&](size_t i) {
        sink += XXH3_128bits(after[i].data(), after[i].size()).low64;
      }));
      sha.push_back(PerCall(after.size(), [&](size_t i) { sink += text::GitBlobId(after[i])[0]; }));
      // What-if: libgit2 re-hashes every object it reads back from the (in-memory) object
      // database unless told not to; a process-wide option, restored right after.
      git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
      apply_noverify.push_back(PerCall(diffs.size(), [&](size_t i) {
        auto out = text::ApplyPatch(base, diffs[i]);
        if (!out.ok() || *out != after[i]) Die("ApplyPatch", out.ok() ? Status::Ok() : out.status());
        sink += out->size();
      }));
      git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
    }
    const std::string k = std::to_string(kb) + " KB";
    const std::string reps = "µs/call, min / median of " + std::to_string(g_flags.reps);
    Add("micro", "ApplyPatch " + k + " (1-5 lines, " + F("%.0f B diff)", diff_bytes / 64),
        MinMed("%.1f", apply), reps);
    Add("micro", "ApplyPatch " + k + ", strict hash verification off", MinMed("%.1f", apply_noverify),
        reps + "; what-if (GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION 0)");
    Add("micro", "UnifiedDiff " + k, MinMed("%.1f", diff), reps);
    Add("micro", "XXH3-128 " + k + " (canvas content hash)", MinMed("%.2f", xxh), reps);
    Add("micro", "GitBlobId " + k + " (SHA-1, export)", MinMed("%.1f", sha), reps);
    if (sink == 42) std::fprintf(stderr, "%" PRIu64 "\n", sink);
  }
}

// ---- canvas + export -------------------------------------------------------------------------

void BenchCanvas(const ScratchDir& scratch, bool do_canvas_reads, bool do_export) {
  const std::string run = "canvas-bench";
  const std::string store = scratch.Sub("canvas-store");
  CanvasWorkload w(run, g_flags.seed);
  std::vector<schema::EventInput> evs;

  // Generate (UnifiedDiff of every edit) and append, log only.
  auto t0 = Clock::now();
  w.Base(g_flags.files, g_flags.file_kb * 1024, &evs);
  Generate(w, g_flags.events, &evs);
  const double gen_s = Secs(t0);
  uint64_t payload = 0;
  for (const auto& e : evs) payload += e.data_json.size();
  const Mix mix = w.mix();
  Add("canvas", "workload",
      std::to_string(evs.size()) + " events",
      std::to_string(mix.base) + " base writes of " + std::to_string(g_flags.file_kb) + " KB, " +
          std::to_string(mix.patch) + " patches, " + std::to_string(mix.write) + " new files, " +
          std::to_string(mix.del) + " deletes, " + std::to_string(mix.rename) + " renames, " +
          std::to_string(mix.other) + " task/tool events; data JSON " +
          F("%.1f MB", payload / 1e6));
  Add("canvas", "generate (UnifiedDiff per edit) s", F("%.2f", gen_s));
  {
    engine::EngineOptions o = Quiet();
    o.projections = false;
    auto eng = Must(engine::Engine::Open(store, o), "open " + store);
    t0 = Clock::now();
    for (size_t i = 0; i < evs.size(); i += 1024) {
      const size_t n = std::min<size_t>(1024, evs.size() - i);
      (void)Must(eng->Append(std::span<const schema::EventInput>(evs.data() + i, n)), "append");
    }
    Must(eng->Close(), "close");
    const double s = Secs(t0);
    Add("canvas", "append (log only, durability none) events/s", F("%.0f", evs.size() / s),
        F("%.2f s", s));
  }
  const uint64_t total_events = evs.size();
  evs.clear();
  evs.shrink_to_fit();

  // Replay of the canvas alone.
  {
    auto eng = Must(engine::Engine::Open(store, Quiet()), "open " + store);
    double apply_s = 0;
    t0 = Clock::now();
    const double c0 = ProcessCpu();
    Must(eng->Replay("canvas", 0,
                     [&](uint64_t done, uint64_t total) {
                       if (done == total) apply_s = Secs(t0);
                     }),
         "replay canvas");
    const double all_s = Secs(t0);
    const double cpu = ProcessCpu() - c0;
    Add("canvas", "Replay(canvas) apply s", F("%.2f", apply_s),
        F("whole replay with its compaction %.2f s", all_s) + F(", process CPU %.2f s", cpu));
    Add("canvas", "Replay(canvas) events/s (apply)", F("%.0f", total_events / apply_s),
        F("%.0f with compaction", total_events / all_s));
    Add("canvas", "Replay(canvas) file events/s (apply)", F("%.0f", mix.files() / apply_s));
    Add("canvas", "Replay(canvas) patch events/s (apply)", F("%.0f", mix.patch / apply_s),
        F("%.0f µs per file event", apply_s * 1e6 / mix.files()));
    Must(eng->Close(), "close");
    Add("canvas", "state after replay MB", F("%.0f", DirBytes(engine::StateDir(store)) / 1e6),
        F("log %.0f MB (segments preallocated)", DirBytes(engine::LogDir(store)) / 1e6));
  }
  if (!do_canvas_reads && !do_export) return;

  // The other projections caught up (untimed), tail thread on for the incremental part.
  engine::EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  t0 = Clock::now();
  auto eng = Must(engine::Engine::Open(store, o), "open " + store);
  std::fprintf(stderr, "  (other projections caught up in %.1f s)\n", Secs(t0));
  auto reader = Must(eng->NewReader(), "reader");
  projections::CanvasReader cr(*reader);
  const Lsn head = cr.head();
  const Lsn base = Must(cr.BasePoint(run, head), "base point");
  std::mt19937_64 rng(g_flags.seed * 13 + 5);

  if (do_canvas_reads) {
    std::vector<double> diff_ms;
    size_t diff_bytes = 0;
    for (int r = 0; r < 3; ++r) {
      t0 = Clock::now();
      std::string d = Must(cr.Diff(run, base, head), "diff");
      diff_ms.push_back(Secs(t0) * 1e3);
      diff_bytes = d.size();
    }
    Add("reads", "Diff base..head ms", MinMed("%.1f", diff_ms),
        F("min / median of 3; %.2f MB of diff", diff_bytes / 1e6) + ", " +
            std::to_string(w.live_files()) + " files at head");

    const auto& paths = w.base_paths();
    auto read_probe = [&](uint64_t n, std::vector<double>* us, uint64_t* found) {
      for (uint64_t i = 0; i < n; ++i) {
        const Lsn at = base + rng() % (head - base + 1);
        const std::string& p = paths[rng() % paths.size()];
        const auto a = Clock::now();
        auto f = Must(cr.ReadFile(run, p, at), "read file");
        if (us) us->push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
        if (found && f) ++*found;
      }
    };
    read_probe(200, nullptr, nullptr);  // warm
    std::vector<double> us;
    uint64_t found = 0;
    read_probe(g_flags.probes, &us, &found);
    const Stats rs = Stats::Of(us);
    Add("reads", "ReadFile as of random LSN µs p50 / p99", F("%.0f / %.0f", rs.p50, rs.p99),
        std::to_string(us.size()) + " lookups of base paths, " + std::to_string(found) +
            " existed then; max " + F("%.0f µs", rs.max));

    std::vector<double> tree_ms;
    uint64_t tree_files = 0;
    const uint64_t tn = std::max<uint64_t>(20, g_flags.probes / 20);
    for (uint64_t i = 0; i < tn; ++i) {
      const Lsn at = base + rng() % (head - base + 1);
      const auto a = Clock::now();
      auto t = Must(cr.Tree(run, at), "tree");
      tree_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      tree_files += t.size();
    }
    const Stats ts = Stats::Of(tree_ms);
    Add("reads", "Tree as of random LSN ms p50 / p99", F("%.2f / %.2f", ts.p50, ts.p99),
        std::to_string(tn) + " lookups, " + F("%.0f files on average", double(tree_files) / tn));

    const auto [bpath, bver] = w.FileWithVersions(250);
    const auto hist = Must(cr.FileHistory(run, bpath, 0, head), "history");
    std::vector<double> blame_ms;
    size_t lines = 0;
    for (int r = 0; r < 3; ++r) {
      t0 = Clock::now();
      auto b = Must(cr.Blame(run, bpath, head), "blame");
      blame_ms.push_back(Secs(t0) * 1e3);
      lines = b.size();
    }
    Add("reads", "Blame ms", MinMed("%.1f", blame_ms),
        "min / median of 3; " + bpath + ": " + std::to_string(bver) + " versions (" +
            std::to_string(hist.size()) + " under this path), " + std::to_string(lines) +
            " lines");
  }

  if (do_export) {
    const std::string git_dir = scratch.path() + "/export-git";
    t0 = Clock::now();
    const double c0 = ProcessCpu();
    auto g = Must(engine::ExportGit(*reader, run, git_dir), "export git");
    const double gs = Secs(t0);
    const double gcpu = ProcessCpu() - c0;
    Add("export", "ExportGit full s", F("%.2f", gs),
        std::to_string(g.commits_added) + " commits, " +
            F("%.0f MB on disk", DirBytes(git_dir) / 1e6) + F(", process CPU %.2f s", gcpu));
    Add("export", "ExportGit full commits/s", F("%.0f", g.commits_added / gs));

    t0 = Clock::now();
    auto again = Must(engine::ExportGit(*reader, run, git_dir), "export git again");
    Add("export", "ExportGit again, up to date, ms", F("%.1f", Secs(t0) * 1e3),
        again.up_to_date ? "nothing added" : "added " + std::to_string(again.commits_added));

    const std::string tree_dir = scratch.path() + "/export-tree";
    t0 = Clock::now();
    auto t = Must(engine::ExportTree(*reader, run, head, tree_dir), "export tree");
    Add("export", "ExportTree at head (tink canvas export) ms", F("%.1f", Secs(t0) * 1e3),
        std::to_string(t.files) + " files, " + F("%.1f MB", t.bytes / 1e6));

    // Incremental: more file events, applied by the tail thread, then exported again.
    std::vector<schema::EventInput> more;
    Generate(w, g_flags.more, &more);
    auto out = Must(eng->Append(more), "append more");
    if (!eng->WaitForProjections(out.lsns.back(), std::chrono::minutes(5))) {
      Die("wait", Status::Failed("projections did not reach the head"));
    }
    reader.reset();
    auto r2 = Must(eng->NewReader(), "reader");
    t0 = Clock::now();
    auto inc = Must(engine::ExportGit(*r2, run, git_dir), "export git incremental");
    const double is = Secs(t0);
    Add("export", "ExportGit incremental s", F("%.3f", is),
        "after " + std::to_string(g_flags.more) + " more file events (" +
            std::to_string(more.size()) + " events): " + std::to_string(inc.commits_added) +
            " commits, " + F("%.0f commits/s", inc.commits_added / is));
  }
  reader.reset();
  Must(eng->Close(), "close");
}

}  // namespace
}  // namespace tink::bench

int main(int argc, char** argv) {
  using namespace tink::bench;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool v = i + 1 < argc;
    auto num = [&] { return std::strtoull(argv[++i], nullptr, 10); };
    if (a == "--only" && v) {
      g_flags.only.clear();
      std::string s = argv[++i];
      for (size_t p = 0; p <= s.size();) {
        size_t c = s.find(',', p);
        if (c == std::string::npos) c = s.size();
        g_flags.only.insert(s.substr(p, c - p));
        p = c + 1;
      }
    } else if (a == "--files" && v) {
      g_flags.files = static_cast<int>(num());
    } else if (a == "--file-kb" && v) {
      g_flags.file_kb = num();
    } else if (a == "--events" && v) {
      g_flags.events = num();
    } else if (a == "--per-task" && v) {
      g_flags.per_task = std::max(1, static_cast<int>(num()));
    } else if (a == "--more" && v) {
      g_flags.more = std::max<uint64_t>(1, num());
    } else if (a == "--probes" && v) {
      g_flags.probes = std::max<uint64_t>(20, num());
    } else if (a == "--reps" && v) {
      g_flags.reps = std::max(1, static_cast<int>(num()));
    } else if (a == "--micro-secs" && v) {
      g_flags.micro_secs = std::atof(argv[++i]);
    } else if (a == "--data" && v) {
      g_flags.data = argv[++i];
    } else if (a == "--seed" && v) {
      g_flags.seed = num();
    } else if (a == "--keep") {
      g_flags.keep = true;
    } else {
      std::fprintf(stderr, "usage: %s [--only import,micro,canvas,export] [--files N] "
                           "[--file-kb K] [--events N] [--per-task N] [--more N] [--probes N] "
                           "[--reps N] [--micro-secs S] [--data DIR] [--seed N] [--keep]\n",
                   argv[0]);
      return 2;
    }
  }
  static ScratchDir scratch(BenchBase(""));
  const DiskInfo disk = DescribeDisk(scratch.path());
  std::fprintf(stderr, "scratch %s on %s %s %s%s\n", scratch.path().c_str(), disk.device.c_str(),
               disk.fstype.c_str(), disk.rotational.c_str(),
               disk.in_memory ? " (in memory: durable numbers mean nothing)" : "");
  const auto has = [](const char* s) { return g_flags.only.contains(s); };
  if (has("import")) BenchImport(scratch);
  if (has("micro")) BenchMicro();
  if (has("canvas") || has("export")) BenchCanvas(scratch, has("canvas"), has("export"));
  PrintTable();
  if (g_flags.keep) {
    std::fprintf(stderr, "kept %s\n", scratch.path().c_str());
    std::fflush(nullptr);
    std::_Exit(0);  // skip ScratchDir's removal
  }
  return 0;
}
