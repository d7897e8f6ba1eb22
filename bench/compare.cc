// tink_compare: our log and the baselines side by side in one run, on the same disk and the same
// 256-byte random payloads. Prints events/s, MB/s, events per fdatasync where known, and the ratio
// of ours to each baseline in the same class, then the goals as PASS/MISS (bench/goals.cc).
// Then the as-of class (bench/asof_compare.cc): as-of task lookups, ours against SQLite, on an
// agent-shaped store of --asof-events events (lookups/s, p50/p99 latency, ratio). Then the memory
// class (bench/memory_compare.cc): the memory graph's neighbours, shortest paths and as-of
// lookups against SQLite adjacency tables and recursive CTEs, on --memory-nodes nodes and
// --memory-edges edges (queries/s, p50/p99/max latency, ratio, answers compared). Then the shell
// class (bench/shell_compare.cc): indexed queries and full-scan aggregates of the query language
// against the same questions in SQL, on an agent-shaped store of --shell-events events. Then the
// http class (bench/http_compare.cc): tink serve's HTTP API, served from this process, against
// the engine in-process (ingest, JSONL batches, follow latency, query round trips).
// Information only: the exit status never depends on a goal.
//
//   tink_compare [--dir D] [--seconds S] [--count N] [--json]
//                [--only log,asof,memory,shell,http,llm,open] [--llm-calls N (600)]
//                [--llm-rounds R (3)] [--open-events N (10000000; 0 skips)]
//                [--otlp-traces N (2000; 0 skips)]
//                [--asof-events N (1000000; 0 skips)] [--asof-probes P (20000)] [--asof-only]
//                [--memory-nodes N (100000)] [--memory-edges M (1000000; 0 skips)]
//                [--memory-probes P (500)] [--memory-path-depth D (5)] [--memory-skew A (0.3)]
//                [--memory-seed S] [--memory-store DIR]
//                [--shell-events N (1000000; 0 skips)] [--shell-reps R (5)] [--shell-no-sqlite]
//                [--shell-store DIR]
//                [--http-seconds S (1)] [--http-rounds R (3)]
//                [--http-bulk-clients C (4)] [--http-follow-events N (2000)]
//                [--http-query-events N (20000)] [--http-query-reps R (50)] [--http-tink PATH]
//
// --only picks sections: log (every class of the log), asof, memory, shell, http, llm (the
// recording proxy's added latency, bench/llm_compare.cc), open (Log::Open and a read-only
// Engine::Open on a store of --open-events events, bench/open_compare.cc); --asof-only =
// --only asof.
// Each measurement runs for S seconds (default 2) or N events (default 2,000,000), whichever ends
// first. Scratch data goes to D/tink-bench-XXXXXX (D: --dir, else $TINK_BENCH_DIR, else the build
// directory) and is removed at the end.
#include "bench/compare.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "log/log.h"

// The tink executable the http class runs as `tink shell -c` (bench/CMakeLists.txt sets it to
// the build's own; --http-tink overrides).
#ifndef TINK_BENCH_TINK_BINARY
#define TINK_BENCH_TINK_BINARY "tink"
#endif

namespace tink::bench {

Config g_cfg;
std::vector<std::string> g_data;

namespace {

// (b), and `none` for reference: single-record appends from `threads` threads on one Log.
Row OursAppend(const std::string& dir, int threads, log::Durability::Mode mode,
               bool zero_fill = false) {
  CountingFileSystem fs;
  fs.zero_fill = zero_fill;
  log::LogOptions o;
  o.fs = &fs;
  o.durability.mode = mode;
  Row row;
  auto lg = log::Log::Open(dir, o);
  if (!lg.ok()) {
    row.rate.error = lg.status().ToString();
    return row;
  }
  const uint64_t syncs0 = fs.syncs.load(), sync_ns0 = fs.sync_ns.load();
  row.rate = RunFor(threads, g_cfg.seconds, g_cfg.count, [&](int t, uint64_t i) -> std::string {
    auto r = (*lg)->Append(P(i * kMany + static_cast<uint64_t>(t)));
    return r.ok() ? "" : r.status().ToString();
  });
  const uint64_t syncs = fs.syncs.load() - syncs0;
  if (syncs > 0) {
    const double busy = (fs.sync_ns.load() - sync_ns0) / 1e9;
    row.events_per_sync = static_cast<double>(row.rate.ops) / syncs;
    // Records per write = group size (every payload is the same size; the 64-byte segment
    // headers are left out).
    std::vector<uint64_t> g;
    for (uint64_t w : fs.write_sizes) {
      if (w >= log::RecordSpan(kPayload)) {
        g.push_back(w / log::RecordSpan(kPayload));
      }
    }
    std::sort(g.begin(), g.end());
    auto pct = [&](double q) { return g.empty() ? 0 : g[static_cast<size_t>(q * (g.size() - 1))]; };
    char d[200];
    std::snprintf(
        d, sizeof(d),
        "%.0f fdatasync/s, mean %.0f us each, writer inside fdatasync "
        "%.0f%% of the time; group size p10/p50/p90/max %llu/%llu/%llu/%llu",
        syncs / row.rate.seconds, busy / syncs * 1e6, 100 * busy / row.rate.seconds,
        static_cast<unsigned long long>(pct(0.1)), static_cast<unsigned long long>(pct(0.5)),
        static_cast<unsigned long long>(pct(0.9)), static_cast<unsigned long long>(pct(1)));
    row.detail = d;
  }
  row.file_bytes_per_event = static_cast<double>(log::RecordSpan(kPayload));
  if (Status s = (*lg)->Close(); !s.ok() && row.rate.error.empty()) {
    row.rate.error = s.ToString();
  }
  return row;
}

// (c) Bulk: batches of kBatch, mode none, one Sync at the end counted in the time.
Row OursBulk(const std::string& dir) {
  log::LogOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  Row row;
  auto lg = log::Log::Open(dir, o);
  if (!lg.ok()) {
    row.rate.error = lg.status().ToString();
    return row;
  }
  std::vector<std::string_view> batch(kBatch);
  const auto t0 = std::chrono::steady_clock::now();
  row.rate = RunFor(1, g_cfg.seconds, g_cfg.count / kBatch, [&](int, uint64_t i) -> std::string {
    for (uint64_t k = 0; k < kBatch; ++k) {
      batch[k] = P(i * kBatch + k);
    }
    auto r = (*lg)->Append(batch);
    return r.ok() ? "" : r.status().ToString();
  });
  if (Status s = (*lg)->Sync(); !s.ok() && row.rate.error.empty()) {
    row.rate.error = s.ToString();
  }
  row.rate.seconds = SecondsSince(t0);
  row.rate.ops *= kBatch;
  row.file_bytes_per_event = static_cast<double>(log::RecordSpan(kPayload));
  (void)(*lg)->Close();
  return row;
}

// (g) Iterate every record (checksum over header+payload, LSN sequence, hash chain per record).
// The read-only Open before it (it scans the active segment from the log's checkpoint on; the
// open class times it on a big store) is timed apart into *open_seconds. Cold: the page cache of the segment files is
// dropped after Open, so the iterator reads from the device.
Row OursScan(const std::string& dir, bool cold, double* open_seconds) {
  Row row;
  log::LogOptions o;
  o.read_only = true;
  const auto t_open = std::chrono::steady_clock::now();
  auto lg = log::Log::Open(dir, o);
  *open_seconds = SecondsSince(t_open);
  if (!lg.ok()) {
    row.rate.error = lg.status().ToString();
    return row;
  }
  if (cold) {
    DropCache(dir);
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t n = 0, bytes = 0;
  auto it = (*lg)->NewIterator(1);
  for (; it->Valid(); it->Next()) {
    ++n;
    bytes += log::RecordSpan(it->record().payload.size());
  }
  row.rate = {n, SecondsSince(t0), it->status().ok() ? "" : it->status().ToString()};
  row.file_bytes_per_event = n ? static_cast<double>(bytes) / n : 0;
  return row;
}

// VerifyLog: every byte of every segment, footers, sparse indexes and whole-segment checksums.
Row OursVerify(const std::string& dir) {
  Row row;
  const auto t0 = std::chrono::steady_clock::now();
  auto v = log::VerifyLog(dir);
  if (!v.ok()) {
    row.rate.error = v.status().ToString();
    return row;
  }
  row.rate = {v->records, SecondsSince(t0), v->clean() ? "" : "verify found problems"};
  row.file_bytes_per_event = v->records ? static_cast<double>(v->bytes) / v->records : 0;
  return row;
}

int Run(int argc, char** argv) {
  // Piped into `head`: keep going (and remove the scratch directory) instead of dying mid-run.
  std::signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--json") {
      g_cfg.json = true;
    } else if (a == "--seconds" && has_value) {
      g_cfg.seconds = std::atof(argv[++i]);
    } else if (a == "--count" && has_value) {
      g_cfg.count = std::max<uint64_t>(kBatch, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--dir" && has_value) {
      g_cfg.dir = argv[++i];
    } else if (a == "--asof-events" && has_value) {
      g_cfg.asof_events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--asof-probes" && has_value) {
      g_cfg.asof_probes = std::max<uint64_t>(100, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--asof-only") {
      g_cfg.log = g_cfg.memory = g_cfg.shell = g_cfg.http = g_cfg.llm = g_cfg.ingest = false;
      g_cfg.open = false;
    } else if (a == "--only" && has_value) {
      g_cfg.log = g_cfg.asof = g_cfg.memory = g_cfg.shell = g_cfg.http = g_cfg.llm =
          g_cfg.ingest = false;
      g_cfg.open = false;
      const std::string list = argv[++i];
      for (size_t p = 0; p <= list.size();) {
        const size_t c = std::min(list.find(',', p), list.size());
        const std::string name = list.substr(p, c - p);
        bool* section = name == "log"      ? &g_cfg.log
                        : name == "asof"   ? &g_cfg.asof
                        : name == "memory" ? &g_cfg.memory
                        : name == "shell"  ? &g_cfg.shell
                        : name == "http"   ? &g_cfg.http
                        : name == "llm"    ? &g_cfg.llm
                        : name == "ingest" ? &g_cfg.ingest
                        : name == "open"   ? &g_cfg.open
                                           : nullptr;
        if (section == nullptr) {
          std::fprintf(stderr,
                       "tink_compare: --only: unknown section '%s' (log, asof, memory, shell, "
                       "http, llm, ingest, open)\n",
                       name.c_str());
          return 2;
        }
        *section = true;
        p = c + 1;
      }
    } else if (a == "--memory-nodes" && has_value) {
      g_cfg.mem.nodes = std::max<uint64_t>(100, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--memory-edges" && has_value) {
      g_cfg.mem.edges = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--memory-probes" && has_value) {
      g_cfg.mem.probes = std::max<uint64_t>(20, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--memory-path-depth" && has_value) {
      g_cfg.mem.path_depth = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--memory-skew" && has_value) {
      g_cfg.mem.skew = std::max(0.0, std::atof(argv[++i]));
    } else if (a == "--memory-seed" && has_value) {
      g_cfg.mem.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--memory-store" && has_value) {
      g_cfg.mem.store = argv[++i];
    } else if (a == "--shell-events" && has_value) {
      g_cfg.shell_opts.events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--shell-reps" && has_value) {
      g_cfg.shell_opts.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--shell-no-sqlite") {
      g_cfg.shell_opts.sqlite = false;
    } else if (a == "--shell-store" && has_value) {
      g_cfg.shell_opts.store = argv[++i];
    } else if (a == "--ingest-events" && has_value) {
      g_cfg.ingest_opts.events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--ingest-keep" && has_value) {
      g_cfg.ingest_opts.keep = argv[++i];
    } else if (a == "--open-events" && has_value) {
      g_cfg.open_events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--llm-calls" && has_value) {
      g_cfg.llm_opts.calls = std::max(10, std::atoi(argv[++i]));
    } else if (a == "--otlp-traces" && has_value) {
      g_cfg.llm_opts.otlp_traces = std::max(0, std::atoi(argv[++i]));
    } else if (a == "--llm-rounds" && has_value) {
      g_cfg.llm_opts.rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--http-seconds" && has_value) {
      g_cfg.http_opts.seconds = std::max(0.1, std::atof(argv[++i]));
    } else if (a == "--http-rounds" && has_value) {
      g_cfg.http_opts.rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--http-bulk-clients" && has_value) {
      g_cfg.http_opts.bulk_clients = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--http-follow-events" && has_value) {
      g_cfg.http_opts.follow_events = std::max(10, std::atoi(argv[++i]));
    } else if (a == "--http-query-events" && has_value) {
      g_cfg.http_opts.query_events = std::max<uint64_t>(100, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--http-query-reps" && has_value) {
      g_cfg.http_opts.query_reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--http-tink" && has_value) {
      g_cfg.http_opts.tink = argv[++i];
    } else {
      std::fprintf(a == "--help" ? stdout : stderr,
                   "usage: tink_compare [--dir D] [--seconds S] [--count N] [--json]\n"
                   "                    [--only log,asof,memory,shell,http,llm,ingest,open]\n"
                   "                    [--ingest-events N] [--ingest-keep FILE] [--open-events N]\n"
                   "                    [--asof-events N] [--asof-probes P] [--asof-only]\n"
                   "                    [--memory-nodes N] [--memory-edges M] [--memory-probes P]\n"
                   "                    [--memory-path-depth D] [--memory-skew A] "
                   "[--memory-seed S]\n"
                   "                    [--memory-store DIR]\n"
                   "                    [--shell-events N] [--shell-reps R] [--shell-no-sqlite]\n"
                   "                    [--shell-store DIR]\n"
                   "                    [--http-seconds S] [--http-rounds R]\n"
                   "                    [--http-bulk-clients C] [--http-follow-events N]\n"
                   "                    [--http-query-events N] [--http-query-reps R] "
                   "[--http-tink PATH]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (g_cfg.mem.edges == 0) {
    g_cfg.memory = false;
  }
  if (g_cfg.asof_events == 0) {
    g_cfg.asof = false;
  }
  if (g_cfg.shell_opts.events == 0) {
    g_cfg.shell = false;
  }
  if (g_cfg.ingest_opts.events == 0) {
    g_cfg.ingest = false;
  }
  if (g_cfg.open_events == 0) {
    g_cfg.open = false;
  }
  if (g_cfg.http_opts.tink.empty()) {
    g_cfg.http_opts.tink = TINK_BENCH_TINK_BINARY;
  }
  g_cfg.ingest_opts.tink = g_cfg.http_opts.tink;
  ScratchDir scratch(BenchBase(g_cfg.dir));
  const DiskInfo disk = DescribeDisk(scratch.path());
  const unsigned cpus = std::thread::hardware_concurrency();
  g_data = Payloads(8192, kPayload);
  std::fprintf(stderr,
               "tink_compare: %.1f s or %llu events per measurement, %zu-byte random "
               "payloads\n  dir %s on %s (%s, %s), %u CPUs\n",
               g_cfg.seconds, static_cast<unsigned long long>(g_cfg.count), kPayload,
               scratch.path().c_str(), disk.device.c_str(), disk.fstype.c_str(),
               disk.rotational.c_str(), cpus);
  if (disk.in_memory) {
    std::fprintf(stderr, "  WARNING: %s is in memory: durable numbers mean nothing here\n",
                 disk.fstype.c_str());
  }

  std::vector<Row> rows;
  auto add = [&](const char* cls, const std::string& name, Row row) {
    row.cls = cls;
    row.name = name;
    std::fprintf(stderr, "  %-44s %12.0f %s/s  %s\n", name.c_str(), row.rate.per_sec(),
                 row.cls == "as-of"                           ? "lookups"
                 : row.cls == "memory" && row.group != "load" ? "queries"
                                                              : "events",
                 row.rate.error.c_str());
    rows.push_back(std::move(row));
  };
  auto rate = [](Rate r, double file_bytes, double per_sync) {
    return Row{"", "", std::move(r), file_bytes, per_sync};
  };
  using M = log::Durability::Mode;
  const auto& S = scratch;
  double open_warm = 0, open_cold = 0;
  if (g_cfg.log) {
    add("limit", "raw pwrite+fdatasync, growing file", rate(RawFsync(S.path(), "append"), 256, 1));
    add("limit", "raw pwrite+fdatasync, fallocated", rate(RawFsync(S.path(), "fallocate"), 256, 1));
    add("limit", "raw pwrite+fdatasync, overwrite", rate(RawFsync(S.path(), "overwrite"), 256, 1));

    add("durable-1", "tinkerbell always", OursAppend(S.Sub("ours-1"), 1, M::kAlways));
    add("durable-1", "sqlite WAL FULL", Sqlite(S.Sub("sq-full-1"), "FULL", 1, 1, false));
    add("durable-1", "rocksdb sync=true", Rocks(S.Sub("rocks-1"), 1, false));
    add("durable-1", "jsonl+fdatasync", Jsonl(S.Sub("jsonl-1") + "/e.jsonl", 1));

    add("durable-16", "tinkerbell always x16", OursAppend(S.Sub("ours-16"), kMany, M::kAlways));
    add("durable-16", "sqlite WAL FULL x16, shared conn+mutex",
        Sqlite(S.Sub("sq-full-16s"), "FULL", kMany, 1, true));
    add("durable-16", "sqlite WAL FULL x16, 16 conns+busy_timeout",
        Sqlite(S.Sub("sq-full-16c"), "FULL", kMany, 1, false));
    add("durable-16", "rocksdb sync=true x16", Rocks(S.Sub("rocks-16"), kMany, false));
    add("durable-16", "jsonl+fdatasync x16 (mutex)", Jsonl(S.Sub("jsonl-16") + "/e.jsonl", kMany));

    // What-if: the same log with segments zero-filled instead of fallocated (emulated through the
    // FileSystem seam, see CountingFileSystem::zero_fill): no unwritten-extent conversion at sync.
    add("what-if", "tinkerbell always x16, zero-filled segments",
        OursAppend(S.Sub("ours-16z"), kMany, M::kAlways, true));

    add("not-durable", "tinkerbell none", OursAppend(S.Sub("ours-none"), 1, M::kNone));
    add("not-durable", "sqlite WAL NORMAL", Sqlite(S.Sub("sq-normal"), "NORMAL", 1, 1, false));

    const std::string bulk_dir = S.Sub("ours-bulk");
    add("bulk", "tinkerbell batch 1000, sync at end", OursBulk(bulk_dir));
    const uint64_t bulk_events = rows.back().rate.ops;
    add("bulk", "sqlite WAL FULL, 1000 per txn",
        Sqlite(S.Sub("sq-bulk"), "FULL", 1, kBatch, false));
    add("bulk", "rocksdb WriteBatch 1000, sync at end", Rocks(S.Sub("rocks-bulk"), 1, true));
    const std::string jsonl_path = S.Sub("jsonl-bulk") + "/e.jsonl";
    add("bulk", "jsonl 1000 lines/write, sync at end", JsonlBulk(jsonl_path, bulk_events));

    add("scan", "tinkerbell scan+verify (iterator)", OursScan(bulk_dir, false, &open_warm));
    add("scan", "jsonl read+split lines, no checks", JsonlScan(jsonl_path, false));
    add("scan", "tinkerbell VerifyLog (whole store)", OursVerify(bulk_dir));
    add("scan-cold", "tinkerbell scan+verify, cache dropped", OursScan(bulk_dir, true, &open_cold));
    add("scan-cold", "jsonl read+split, cache dropped", JsonlScan(jsonl_path, true));
  }

  // As-of task lookups, ours against SQLite, on an agent-shaped store (bench/asof_compare.cc).
  std::string asof_setup;
  if (g_cfg.asof) {
    std::fprintf(stderr, "  as-of: writing %llu agent events, building both sides...\n",
                 static_cast<unsigned long long>(g_cfg.asof_events));
    for (Row& r : AsOfCompare(S.Sub("asof"), g_cfg.asof_events, g_cfg.asof_probes, &asof_setup)) {
      const std::string name = r.name;
      // The replay and live-fold rows measured on the same store (events/s, not lookups).
      const bool fold = name.rfind("tinkerbell Replay", 0) == 0 ||
                        name.rfind("tinkerbell catch-up", 0) == 0 ||
                        name.rfind("tinkerbell live", 0) == 0;
      add(fold ? "fold" : "as-of", name, std::move(r));
    }
  }

  // The memory graph, ours against SQLite (bench/memory_compare.cc).
  std::string mem_setup;
  if (g_cfg.memory) {
    std::fprintf(stderr, "  memory: %llu nodes, %llu edges, building both sides...\n",
                 static_cast<unsigned long long>(g_cfg.mem.nodes),
                 static_cast<unsigned long long>(g_cfg.mem.edges));
    std::string mem_dir = g_cfg.mem.store;
    if (mem_dir.empty()) {
      mem_dir = S.Sub("memory");
    } else {
      std::filesystem::create_directories(mem_dir);
    }
    for (Row& r : MemoryCompare(mem_dir, g_cfg.mem, &mem_setup)) {
      const std::string name = r.group + ": " + r.name;
      add("memory", name, std::move(r));
      rows.back().name = rows.back().name.substr(rows.back().group.size() + 2);
    }
  }

  // The query language, ours against SQLite (bench/shell_compare.cc).
  std::string shell_report;
  if (g_cfg.shell) {
    std::string shell_dir = g_cfg.shell_opts.store;
    if (shell_dir.empty()) shell_dir = S.Sub("shell");
    shell_report = ShellCompare(shell_dir, g_cfg.shell_opts);
  }

  // JSON -> record and JSONL import (bench/ingest_compare.cc).
  std::string ingest_report;
  std::vector<Goal> ingest_goals;
  if (g_cfg.ingest) {
    ingest_report = IngestCompare(S.Sub("ingest"), g_cfg.ingest_opts, &ingest_goals);
  }

  // tink serve's HTTP API against the engine in-process (bench/http_compare.cc).
  std::string http_report;
  if (g_cfg.http) {
    http_report = HttpCompare(S.Sub("http"), g_cfg.http_opts);
  }

  // The recording LLM proxy (bench/llm_compare.cc).
  std::string llm_report;
  if (g_cfg.llm) {
    llm_report = LlmCompare(S.Sub("llm"), g_cfg.llm_opts);
    if (g_cfg.llm_opts.otlp_traces > 0) llm_report += OtlpCompare(S.Sub("otlp"), g_cfg.llm_opts);
  }

  if (g_cfg.log) {
    std::printf("\n%-11s %-44s %12s %9s %9s %8s %9s\n", "class", "system", "events/s", "MB/s",
                "file MB/s", "ev/sync", "ours/this");
    for (const Row& r : rows) {
      if (r.cls == "as-of" || r.cls == "memory") {
        continue;  // their own tables below
      }
      const Row* ours = OursFor(rows, r);
      char ratio[32] = "", file_mb[32] = "-", per_sync[32] = "-";
      if (ours && ours != &r && r.rate.per_sec() > 0) {
        std::snprintf(ratio, sizeof(ratio), "%.2fx", ours->rate.per_sec() / r.rate.per_sec());
      }
      if (r.file_bytes_per_event > 0) {
        std::snprintf(file_mb, sizeof(file_mb), "%.1f",
                      r.rate.per_sec() * r.file_bytes_per_event / 1e6);
      }
      if (r.events_per_sync > 0) {
        std::snprintf(per_sync, sizeof(per_sync), "%.1f", r.events_per_sync);
      }
      std::printf("%-11s %-44s %12.0f %9.1f %9s %8s %9s%s%s\n", r.cls.c_str(), r.name.c_str(),
                  r.rate.per_sec(), r.rate.per_sec() * kPayload / 1e6, file_mb, per_sync, ratio,
                  r.rate.error.empty() ? "" : "  ERROR: ", r.rate.error.c_str());
    }
    std::printf(
        "\nMB/s: payload bytes (256 B/event). file MB/s: bytes written or read per event on disk\n"
        "  (ours: 40 B header + payload; JSONL: base64 line). ev/sync: events per fdatasync (ours\n"
        "  counted through the FileSystem seam, RocksDB from its statistics). ours/this: our row\n"
        "  of the same class / this row (limit rows: our 1-writer durable append / this).\n");
    for (const Row& r : rows) {
      if (!r.detail.empty() && r.cls != "as-of" && r.cls != "memory") {
        std::printf("%s:\n  %s\n", r.name.c_str(), r.detail.c_str());
      }
    }
    std::printf(
        "Not in the scan rows: the read-only Log::Open before each scan (it scans the active\n"
        "  segment from the log's checkpoint on) took %.3f s (warm) and %.3f s (cold).\n",
        open_warm, open_cold);
  }

  const Row* asof_ours = nullptr;
  const bool have_asof =
      std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.cls == "as-of"; });
  if (have_asof) {
    std::printf("\nas-of: the state of one task as of a random LSN. %s.\n", asof_setup.c_str());
    std::printf("%-44s %12s %9s %9s %10s\n", "system", "lookups/s", "p50 us", "p99 us",
                "ours/this");
    asof_ours = Find(rows, "tinkerbell GetTask, reused StateReader");
    for (const Row& r : rows) {
      if (r.cls != "as-of") {
        continue;
      }
      char ratio[32] = "";
      if (asof_ours && asof_ours != &r && r.rate.per_sec() > 0) {
        std::snprintf(ratio, sizeof(ratio), "%.2fx", asof_ours->rate.per_sec() / r.rate.per_sec());
      }
      std::printf("%-44s %12.0f %9.1f %9.1f %10s%s%s\n", r.name.c_str(), r.rate.per_sec(), r.p50_us,
                  r.p99_us, ratio, r.rate.error.empty() ? "" : "  ERROR: ", r.rate.error.c_str());
    }
    std::printf("ours/this: lookups/s of our reused-reader row / this row. Latency per lookup:\n");
    for (const Row& r : rows) {
      if (r.cls == "as-of" && !r.detail.empty()) {
        std::printf("  %-44s %s\n", r.name.c_str(), r.detail.c_str());
      }
    }
  }
  if (std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.cls == "fold"; })) {
    std::printf("\nfold: projections rebuilt and fed on the as-of store (issue 16 rows 2, 3)\n");
    for (const Row& r : rows) {
      if (r.cls != "fold") continue;
      std::printf("  %-46s %10.0f events/s  %s%s%s\n", r.name.c_str(), r.rate.per_sec(),
                  r.detail.c_str(), r.rate.error.empty() ? "" : "  ERROR: ",
                  r.rate.error.c_str());
    }
  }

  const bool have_memory =
      std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.cls == "memory"; });
  if (have_memory) {
    std::printf(
        "\nmemory: the memory graph (projections/memory.h) vs SQLite adjacency tables. %s.\n",
        mem_setup.c_str());
    std::printf("%-48s %-38s %10s %9s %9s %9s %9s %9s  %s\n", "query", "system", "queries/s",
                "p50 ms", "p99 ms", "max ms", "ours/this", "p99 x", "answers");
    std::string last_group;
    for (const Row& r : rows) {
      if (r.cls != "memory" || r.group == "load") {
        continue;
      }
      const Row* ours = OursFor(rows, r);
      char ratio[32] = "", p99x[32] = "", check[64] = "";
      if (ours && ours != &r && r.rate.per_sec() > 0) {
        std::snprintf(ratio, sizeof(ratio), "%.2fx", ours->rate.per_sec() / r.rate.per_sec());
        if (ours->p99_us > 0) {
          std::snprintf(p99x, sizeof(p99x), "%.2fx", r.p99_us / ours->p99_us);
        }
      }
      if (ours && ours != &r) {
        std::snprintf(check, sizeof(check), "%s %llu/%llu", r.mismatched ? "MISMATCH" : "same",
                      static_cast<unsigned long long>(r.checked - r.mismatched),
                      static_cast<unsigned long long>(r.checked));
      }
      std::printf("%-48s %-38s %10.0f %9.3f %9.3f %9.3f %9s %9s  %s%s%s\n",
                  r.group == last_group ? "" : r.group.c_str(), r.name.c_str(), r.rate.per_sec(),
                  r.p50_us / 1e3, r.p99_us / 1e3, r.max_us / 1e3, ratio, p99x, check,
                  r.rate.error.empty() ? "" : "  ERROR: ", r.rate.error.c_str());
      last_group = r.group;
    }
    std::printf(
        "ours/this: our queries/s / this row's; p99 x: this row's p99 / ours (both > 1: ours is\n"
        "  faster). answers: probes (warm-up included) whose answers were equal on both sides.\n");
    for (const Row& r : rows) {
      if (r.cls == "memory" && r.group != "load" && !r.detail.empty()) {
        std::printf("  %s, %s: %s\n", r.group.c_str(), r.name.c_str(), r.detail.c_str());
      }
    }
    std::printf("load:\n");
    for (const Row& r : rows) {
      if (r.cls == "memory" && r.group == "load") {
        std::printf("  %-44s %10.0f %s/s  %s%s%s\n", r.name.c_str(), r.rate.per_sec(),
                    IsOurs(r) ? "events" : "rows", r.detail.c_str(),
                    r.rate.error.empty() ? "" : "  ERROR: ", r.rate.error.c_str());
      }
    }
  }

  std::fputs(shell_report.c_str(), stdout);
  std::fputs(http_report.c_str(), stdout);
  std::fputs(llm_report.c_str(), stdout);
  std::fputs(ingest_report.c_str(), stdout);

  // Start-up on a big store (bench/open_compare.cc).
  OpenResult open_result;
  if (g_cfg.open) {
    std::fprintf(stderr, "  open: building a log of %llu events...\n",
                 static_cast<unsigned long long>(g_cfg.open_events));
    open_result = OpenCompare(S.Sub("open"), g_cfg.open_events);
    std::fputs(open_result.report.c_str(), stdout);
  }

  GoalInputs goal_in;
  goal_in.log = g_cfg.log;
  goal_in.open = g_cfg.open;
  goal_in.asof_ours = asof_ours;
  goal_in.ingest_goals = std::move(ingest_goals);
  goal_in.open_result = open_result;
  const std::vector<Goal> goals = CollectGoals(rows, goal_in);
  std::printf("\ngoals (information only, never a failure):\n");
  for (const Goal& g : goals) {
    std::printf("  %-4s  %-52s %s\n", g.pass ? "PASS" : "MISS", g.what.c_str(), g.measured.c_str());
  }

  if (g_cfg.json) {
    nlohmann::json j;
    j["machine"] = {{"cpus", cpus},
                    {"device", disk.device},
                    {"fstype", disk.fstype},
                    {"rotational", disk.rotational}};
    j["seconds"] = g_cfg.seconds;
    j["count"] = g_cfg.count;
    j["payload_bytes"] = kPayload;
    j["read_only_open_seconds"] = {{"warm", open_warm}, {"cold", open_cold}};
    if (have_memory) {
      j["memory_setup"] = mem_setup;
    }
    for (const Row& r : rows) {
      const Row* ours = OursFor(rows, r);
      j["rows"].push_back(
          {{"class", r.cls},
           {"system", r.name},
           {"events", r.rate.ops},
           {"seconds", r.rate.seconds},
           {"events_per_s", r.rate.per_sec()},
           {"payload_mb_per_s", r.rate.per_sec() * kPayload / 1e6},
           {"file_mb_per_s", r.rate.per_sec() * r.file_bytes_per_event / 1e6},
           {"events_per_sync", r.events_per_sync},
           {"detail", r.detail},
           {"p50_us", r.p50_us},
           {"p99_us", r.p99_us},
           {"max_us", r.max_us},
           {"group", r.group},
           {"answers_checked", r.checked},
           {"answers_mismatched", r.mismatched},
           {"ours_ratio",
            ours && r.rate.per_sec() > 0 ? ours->rate.per_sec() / r.rate.per_sec() : 0.0},
           {"error", r.rate.error}});
    }
    for (const Goal& g : goals) {
      j["goals"].push_back({{"goal", g.what}, {"measured", g.measured}, {"pass", g.pass}});
    }
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace tink::bench

int main(int argc, char** argv) {
  // std::filesystem and the JSON writer report errors by exception; end with a message (and
  // with the scratch directory removed by unwinding) rather than std::terminate.
  try {
    return tink::bench::Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tink_compare: %s\n", e.what());
    return 1;
  }
}
