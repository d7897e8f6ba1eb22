// Google Benchmark for the projections (issue 3), on a store of agent-shaped events
// (bench/agent_workload.h, ~1M events over ~100 runs by default), generated once per process:
//
//   Replay/all/rocksdb_wal:1|0   Engine::Replay of every projection (the log read, decoded and
//                                folded into RocksDB), with and without RocksDB's WAL
//   Replay/one/<name>            Engine::Replay of one projection (the others stay at the head)
//   Replay/decode_only           what the driver does besides folding: read the log, copy each
//                                payload aligned, XXH3 it, verify and decode it
//   AsOf/GetTask/reader:R/dist:D SchedulerReader::GetTask(run, task, lsn) at random LSNs whose
//                                distance from the head is in bucket D, with a StateReader made
//                                for every lookup (fresh) or one for all (reused); p50/p90/p99;
//                                the state as Replay left it. .../compacted/...: the same after a
//                                full compaction of the scheduler's column family
//   CrashReopen/rocksdb_wal:1|0  on a copy of the store (state at the head), a child process
//                                (this binary, --crash-child) opens it for writing (tail thread
//                                running, durability always) and appends more of the workload
//                                from two threads until it is SIGKILLed after N more events; then
//                                Engine::Open is timed, with the catch-up of whatever the
//                                projections had not persisted (the tail). The log and RocksDB
//                                opens are also timed apart, on a copy of the killed store.
//   LiveIngest/flush_ms:0|1000   a fresh store opened for writing (tail thread on, durability
//                                none so that the state's work is most of the cost) takes
//                                --ingest-events events of the workload in Appends of 256 from
//                                one thread; the time runs until the projections have applied the
//                                last one. flush_ms is EngineOptions::state_flush_interval: the
//                                tail thread's periodic flush for read-only openers (0: none).
//                                written_MiB: bytes the process wrote meanwhile (/proc/self/io)
//
// Flags (before Google Benchmark's own): --events N (default 1000000), --runs R (100),
// --probes P (lookups per AsOf row, 20000), --crash-events N (appended by the child, 200000),
// --ingest-events N (LiveIngest, 500000), --bulk-bytes B (the replays' bulk-load bound,
// EngineOptions::replay_bulk_bytes; 0: through the memtables as before the bulk load),
// --store DIR (use the store at DIR, generating it there first if DIR does not exist, and keep
// it: for profiling one benchmark at a time without regenerating).
// Scratch data: a fresh <dir>/tink-bench-XXXXXX (dir: $TINK_BENCH_DIR, else the build directory),
// removed at exit. Information only: nothing here is asserted.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/agent_workload.h"
#include "bench/bench_util.h"
#include "engine/engine.h"
#include "projections/indexes.h"
#include "projections/scheduler.h"
#include "projections/state_store.h"
#include "schema/event_generated.h"

namespace tink::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  uint64_t events = 1'000'000;
  int runs = 100;
  uint64_t probes = 20'000;
  uint64_t crash_events = 200'000;
  uint64_t ingest_events = 500'000;
  int64_t bulk_bytes = -1;  // EngineOptions::replay_bulk_bytes of the replays (-1: the default)
  std::string store;  // kept store, "" for one in the scratch directory
};
Flags g_flags;
ScratchDir* g_scratch = nullptr;
std::string g_store;       // the generated store (log; state once a Replay ran)
AgentStore g_gen;          // its tasks, with their created LSNs
uint64_t g_log_bytes = 0;  // bytes of the log's segment files (preallocated space included)

double Secs(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Bytes this process has passed to write() and friends so far (/proc/self/io wchar): the log's
// and the state's writes, flushes and compactions included.
uint64_t ProcessWrittenBytes() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) {
    return 0;
  }
  char line[128];
  uint64_t n = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "wchar: %" SCNu64, &n) == 1) {
      break;
    }
  }
  std::fclose(f);
  return n;
}

// CPU time of the whole process (every thread, RocksDB's background threads included).
double ProcessCpu() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + t.tv_nsec / 1e9;
}

uint64_t DirBytes(const std::string& dir, const std::string& suffix = "") {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      break;
    }
    if (it->is_regular_file(ec) && (suffix.empty() || it->path().string().ends_with(suffix))) {
      n += it->file_size(ec);
    }
  }
  return n;
}

std::unique_ptr<engine::Engine> OpenOrDie(const std::string& dir, engine::EngineOptions o) {
  auto e = engine::Engine::Open(dir, o);
  if (!e.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), e.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(e).value();
}

engine::EngineOptions Quiet(bool wal) {
  engine::EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  o.rocksdb_wal = wal;
  o.catch_up = false;
  o.tail = false;
  if (g_flags.bulk_bytes >= 0) o.replay_bulk_bytes = static_cast<size_t>(g_flags.bulk_bytes);
  return o;
}

// The tasks of an existing store, from its task.created events.
std::vector<AgentTask> LoadTasks(const std::string& store) {
  std::vector<AgentTask> out;
  engine::EngineOptions o = Quiet(true);
  o.projections = false;
  o.access = engine::Access::kRead;
  auto eng = OpenOrDie(store, o);
  std::vector<uint64_t> buf;
  for (auto it = eng->Read(1); it->Valid(); it->Next()) {
    const log::LogRecord& rec = it->record();
    buf.assign(rec.payload.size() / 8 + 1, 0);
    std::memcpy(buf.data(), rec.payload.data(), rec.payload.size());
    const std::string_view bytes(reinterpret_cast<const char*>(buf.data()), rec.payload.size());
    auto v = schema::DecodeEvent(bytes);
    if (!v.ok() || v->type != "task.created") {
      continue;
    }
    const auto* tc = fb::GetEvent(bytes.data())->payload_as_TaskCreated();
    if (tc == nullptr || tc->task() == nullptr) {
      continue;
    }
    out.push_back({std::string(v->run), tc->task()->str(), rec.lsn});
  }
  return out;
}

void EnsureStore() {
  if (!g_store.empty()) {
    return;
  }
  if (!g_flags.store.empty() && std::filesystem::exists(g_flags.store)) {
    g_store = g_flags.store;
    const auto t0 = Clock::now();
    g_gen.tasks = LoadTasks(g_store);
    g_log_bytes = DirBytes(engine::LogDir(g_store));
    std::fprintf(stderr, "using the store at %s: %zu tasks (read in %.1f s)\n", g_store.c_str(),
                 g_gen.tasks.size(), Secs(t0));
    return;
  }
  g_store = g_flags.store.empty() ? g_scratch->Sub("store") : g_flags.store;
  std::fprintf(stderr, "generating %" PRIu64 " events over %d runs (log only)...\n", g_flags.events,
               g_flags.runs);
  g_gen = WriteAgentStore(g_store, g_flags.events, g_flags.runs);
  if (!g_gen.error.empty()) {
    std::fprintf(stderr, "generate: %s\n", g_gen.error.c_str());
    std::exit(1);
  }
  g_log_bytes = DirBytes(engine::LogDir(g_store));
  std::fprintf(stderr,
               "  %" PRIu64
               " events, %zu tasks, log %.0f MiB on disk (segments are preallocated), "
               "%.1f s (%.0f events/s)\n",
               g_gen.events, g_gen.tasks.size(), g_log_bytes / 1048576.0, g_gen.seconds,
               g_gen.events / g_gen.seconds);
}

// ---- Replay ---------------------------------------------------------------------------------

void ReplayAll(benchmark::State& st, bool wal) {
  EnsureStore();
  uint64_t events = 0;
  for (auto _ : st) {
    auto eng = OpenOrDie(g_store, Quiet(wal));
    const auto t0 = Clock::now();
    const double c0 = ProcessCpu();
    Status s = eng->Replay("", 0, {});
    const double replay = Secs(t0);
    st.counters["cpu_us/ev"] =
        (ProcessCpu() - c0) * 1e6 / std::max<uint64_t>(1, eng->log().LastLsn());
    if (!s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      return;
    }
    st.SetIterationTime(replay);
    events = eng->log().LastLsn();
    st.counters["wal_MiB"] = DirBytes(engine::StateDir(g_store), ".log") / 1048576.0;
    {
      // Sanity: the workload follows the state machine, so there must be no anomaly.
      auto r = std::move(eng->NewReader()).value();
      projections::SchedulerReader sr(*r);
      auto an = sr.Anomalies(std::nullopt, sr.head());
      st.counters["anomalies"] = an.ok() ? static_cast<double>(an->size()) : -1;
      for (size_t i = 0; an.ok() && i < an->size() && i < 3; ++i) {
        std::fprintf(stderr, "  anomaly at LSN %" PRIu64 ": run %s task %s: %s\n", (*an)[i].lsn,
                     (*an)[i].run.c_str(), (*an)[i].task.c_str(), (*an)[i].reason.c_str());
      }
    }
    const auto t1 = Clock::now();
    s = eng->Close();
    st.counters["close_s"] = Secs(t1);  // the tail's catch-up (none) and the memtable flush
    if (!s.ok()) {
      st.SkipWithError(s.ToString().c_str());
    }
    st.counters["state_MiB"] = DirBytes(engine::StateDir(g_store)) / 1048576.0;
  }
  st.SetItemsProcessed(static_cast<int64_t>(events * st.iterations()));
  st.counters["events"] = static_cast<double>(events);
}

void ReplayOne(benchmark::State& st, const std::string& name) {
  EnsureStore();
  uint64_t events = 0;
  for (auto _ : st) {
    auto eng = OpenOrDie(g_store, Quiet(true));
    if (eng->ProjectionsApplied() != eng->log().LastLsn()) {
      // The others must be at the head so that only `name` is folded.
      if (Status s = eng->Replay("", 0, {}); !s.ok()) {
        st.SkipWithError(s.ToString().c_str());
        return;
      }
    }
    const auto t0 = Clock::now();
    const double c0 = ProcessCpu();
    Status s = eng->Replay(name, 0, {});
    st.SetIterationTime(Secs(t0));
    st.counters["cpu_us/ev"] =
        (ProcessCpu() - c0) * 1e6 / std::max<uint64_t>(1, eng->log().LastLsn());
    if (!s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      return;
    }
    events = eng->log().LastLsn();
    (void)eng->Close();
  }
  st.SetItemsProcessed(static_cast<int64_t>(events * st.iterations()));
}

// The driver's own work per event (engine/projector.cc DecodedBatch): no projection, no RocksDB.
void DecodeOnly(benchmark::State& st) {
  EnsureStore();
  engine::EngineOptions o = Quiet(true);
  o.projections = false;
  auto eng = OpenOrDie(g_store, o);
  uint64_t n = 0, sink = 0, bytes_total = 0;
  std::vector<uint64_t> arena;
  for (auto _ : st) {
    n = bytes_total = 0;
    for (auto it = eng->Read(1); it->Valid(); it->Next()) {
      const log::LogRecord& rec = it->record();
      arena.resize(rec.payload.size() / 8 + 1);
      std::memcpy(arena.data(), rec.payload.data(), rec.payload.size());
      sink += XXH3_64bits(rec.payload.data(), rec.payload.size());
      std::string_view bytes(reinterpret_cast<const char*>(arena.data()), rec.payload.size());
      auto v = schema::DecodeEvent(bytes);
      if (!v.ok()) {
        st.SkipWithError(v.status().ToString().c_str());
        return;
      }
      sink += v->type.size();
      bytes_total += rec.payload.size();
      ++n;
    }
  }
  benchmark::DoNotOptimize(sink);
  st.SetItemsProcessed(static_cast<int64_t>(n * st.iterations()));
  st.counters["payload_B"] = static_cast<double>(bytes_total) / std::max<uint64_t>(n, 1);
}

// ---- As-of lookups ----------------------------------------------------------------------------

struct Bucket {
  const char* name;
  uint64_t lo, hi;  // head - lsn in [lo, hi)
};
constexpr Bucket kBuckets[] = {{"0-1k", 0, 1000},
                               {"1k-10k", 1000, 10000},
                               {"10k-100k", 10000, 100000},
                               {"100k-1M", 100000, 1000000}};

void AsOf(benchmark::State& st, bool fresh, bool compact, Bucket b) {
  EnsureStore();
  engine::EngineOptions o = Quiet(true);
  auto eng = OpenOrDie(g_store, o);
  if (eng->ProjectionsApplied() != eng->log().LastLsn()) {
    if (Status s = eng->Replay("", 0, {}); !s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  static bool compacted = false;  // once per process: the compaction outlives the engine
  if (compact && !compacted) {
    compacted = true;
    // What a full compaction of the scheduler's column family changes (Replay leaves many L0
    // files behind): reached through the reader's StateStore, untimed.
    auto r = std::move(eng->NewReader()).value();
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    const auto t0 = Clock::now();
    rocksdb::Status s =
        r->store()->db()->CompactRange(co, r->store()->cf("scheduler"), nullptr, nullptr);
    st.counters["compact_s"] = Secs(t0);
    if (!s.ok()) {
      st.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  {
    auto r = std::move(eng->NewReader()).value();
    std::string v;
    if (r->store()->db()->GetProperty(r->store()->cf("scheduler"), "rocksdb.num-files-at-level0",
                                      &v)) {
      st.counters["L0_files"] = std::atof(v.c_str());  // of the scheduler's column family
    }
  }
  const uint64_t head = eng->ProjectionsApplied();
  const auto probes = MakeAsOfProbes(g_gen.tasks, head, b.lo, b.hi, g_flags.probes, 1234 + b.lo);
  const auto warm = MakeAsOfProbes(g_gen.tasks, head, b.lo, b.hi, 2000, 99 + b.lo);
  if (probes.empty()) {
    st.SkipWithError("bucket beyond the store's head");
    return;
  }
  std::unique_ptr<projections::StateReader> reused;
  uint64_t missing = 0;
  auto lookup = [&](const AsOfProbe& p) -> bool {
    std::unique_ptr<projections::StateReader> own;
    projections::StateReader* r = reused.get();
    if (fresh) {
      auto nr = eng->NewReader();
      if (!nr.ok()) {
        return false;
      }
      own = std::move(nr).value();
      r = own.get();
    }
    projections::SchedulerReader sr(*r);
    const AgentTask& t = g_gen.tasks[p.task];
    auto got = sr.GetTask(t.run, t.task, p.lsn);
    if (!got.ok()) {
      return false;
    }
    if (!*got || (*got)->version > p.lsn) {
      ++missing;  // the probes name tasks that exist
    }
    return true;
  };
  if (!fresh) {
    reused = std::move(eng->NewReader()).value();
  }
  for (const AsOfProbe& p : warm) {
    lookup(p);
  }
  missing = 0;
  std::vector<double> us;
  us.reserve(probes.size());
  for (auto _ : st) {
    us.clear();
    const auto t0 = Clock::now();
    for (const AsOfProbe& p : probes) {
      const auto a = Clock::now();
      if (!lookup(p)) {
        st.SkipWithError("GetTask failed");
        return;
      }
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
    }
    st.SetIterationTime(Secs(t0));
  }
  const Percentiles pc = Percentiles::Of(us);
  st.SetItemsProcessed(static_cast<int64_t>(probes.size() * st.iterations()));
  st.counters["p50_us"] = pc.p50;
  st.counters["p90_us"] = pc.p90;
  st.counters["p99_us"] = pc.p99;
  st.counters["p999_us"] = pc.p999;
  st.counters["max_us"] = pc.max;
  st.counters["not_found"] = static_cast<double>(missing);
  reused.reset();
  (void)eng->Close();
}

// ---- Reopen after kill -9 -------------------------------------------------------------------

// The child: opens `store` for writing (tail thread on, durability always) and appends the
// workload from two threads (each its own runs, other than the store's: other seeds) in batches
// of 256 until killed or `max` events are in; after each batch, one line
// "<last lsn of the batch> <projections applied>" on stdout (one write(): atomic on a pipe).
int CrashChild(const std::string& store, uint64_t max, bool wal) {
  engine::EngineOptions o;
  o.rocksdb_wal = wal;
  auto eng = engine::Engine::Open(store, o);
  if (!eng.ok()) {
    std::fprintf(stderr, "crash child: %s\n", eng.status().ToString().c_str());
    return 3;
  }
  auto writer = [&](uint64_t seed) {
    AgentWorkload w(max / 2, g_flags.runs, seed);
    std::vector<schema::EventInput> evs;
    while (!w.done()) {
      evs.clear();
      while (evs.size() < 256 && !w.done()) {
        w.Next(&evs);
      }
      auto r = (*eng)->Append(evs);
      if (!r.ok()) {
        std::fprintf(stderr, "crash child: %s\n", r.status().ToString().c_str());
        _exit(4);
      }
      char line[64];
      const int n = std::snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", r->lsns.back(),
                                  (*eng)->ProjectionsApplied());
      if (::write(1, line, static_cast<size_t>(n)) != n) {
        _exit(5);
      }
    }
  };
  std::thread other(writer, 101);
  writer(100);
  other.join();
  // Not reached when the parent kills us first (it always should).
  _exit(0);
}

// Opens the log (for writing: a torn tail is cut) and the projection state of `store` apart,
// as Engine::Open does, and returns their times.
std::pair<double, double> TimeLogAndStateOpen(const std::string& store, bool wal) {
  auto t0 = Clock::now();
  {
    log::LogOptions lo;
    lo.durability.mode = log::Durability::Mode::kNone;
    auto lg = log::Log::Open(engine::LogDir(store), lo);
    if (!lg.ok()) {
      return {-1, -1};
    }
  }
  const double log_s = Secs(t0);
  projections::IdsIndex ids;
  projections::StreamsIndex streams;
  projections::RunsIndex runs;
  projections::TypesIndex types;
  projections::TimesIndex times;
  projections::SchedulerProjection scheduler;
  projections::StateOptions so;
  so.rocksdb_wal = wal;
  t0 = Clock::now();
  auto st = projections::StateStore::Open(engine::StateDir(store),
                                          {&ids, &streams, &runs, &types, &times, &scheduler}, so);
  const double state_s = Secs(t0);
  return {log_s, st.ok() ? state_s : -1};
}

void CrashReopen(benchmark::State& st, bool wal) {
  EnsureStore();
  {
    auto eng = OpenOrDie(g_store, Quiet(true));
    if (eng->ProjectionsApplied() != eng->log().LastLsn()) {
      if (Status s = eng->Replay("", 0, {}); !s.ok()) {
        st.SkipWithError(s.ToString().c_str());
        return;
      }
    }
    (void)eng->Close();
  }
  const uint64_t more = g_flags.crash_events;
  namespace fs = std::filesystem;
  for (auto _ : st) {
    const std::string store = g_scratch->path() + (wal ? "/crash-wal" : "/crash-nowal");
    const std::string probe = store + "-probe";
    fs::remove_all(store);
    fs::copy(g_store, store, fs::copy_options::recursive);
    const uint64_t base = [&] {
      log::LogOptions lo;
      lo.read_only = true;
      auto lg = log::Log::Open(engine::LogDir(store), lo);
      return lg.ok() ? (*lg)->LastLsn() : 0;
    }();
    const uint64_t target = base + more;
    int fds[2];
    if (::pipe(fds) != 0) {
      st.SkipWithError("pipe");
      return;
    }
    const std::string max = std::to_string(more * 2);
    const std::string runs = std::to_string(g_flags.runs);
    const auto t_child = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl("/proc/self/exe", "tink_projection_bench", "--crash-child", store.c_str(),
              max.c_str(), wal ? "1" : "0", runs.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ::close(fds[1]);
    FILE* in = ::fdopen(fds[0], "r");
    uint64_t last = 0, applied = 0;
    char line[128];
    while (last < target && std::fgets(line, sizeof(line), in) != nullptr) {
      uint64_t l = 0, a = 0;
      if (std::sscanf(line, "%" SCNu64 " %" SCNu64, &l, &a) == 2 && l > last) {
        last = l;
        applied = a;
      }
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::fclose(in);
    const double child_s = Secs(t_child);
    if (last < target) {
      st.SkipWithError("the child stopped before reaching the target");
      return;
    }
    const uint64_t wal_bytes = DirBytes(engine::StateDir(store), ".log");
    // The parts of an open, measured apart on a copy of the killed store.
    fs::remove_all(probe);
    fs::copy(store, probe, fs::copy_options::recursive);
    const auto [log_open, state_open] = TimeLogAndStateOpen(probe, wal);
    fs::remove_all(probe);
    // The timed open: what `tink` does after a crash (catch-up before Open returns).
    engine::EngineOptions o;
    o.rocksdb_wal = wal;
    uint64_t tail = 0;
    o.replay_progress = [&](uint64_t, uint64_t total) { tail = total; };
    const auto t0 = Clock::now();
    auto eng = engine::Engine::Open(store, o);
    const double open_s = Secs(t0);
    st.SetIterationTime(open_s);
    if (!eng.ok()) {
      st.SkipWithError(eng.status().ToString().c_str());
      return;
    }
    const uint64_t head = (*eng)->log().LastLsn();
    (void)(*eng)->Close();
    eng->reset();
    const auto t1 = Clock::now();
    auto again = engine::Engine::Open(store, o);
    const double clean_open = Secs(t1);
    if (again.ok()) {
      (void)(*again)->Close();
    }
    st.counters["events"] = static_cast<double>(head);
    st.counters["child_events"] = static_cast<double>(head - base);
    st.counters["child_ev_per_s"] = (head - base) / child_s;
    st.counters["applied_at_kill"] = static_cast<double>(applied);  // as last reported
    st.counters["tail_events"] = static_cast<double>(tail);
    st.counters["log_open_s"] = log_open;
    st.counters["state_open_s"] = state_open;  // RocksDB open, its WAL replayed if any
    // The rest of the open: validation, catch-up of the tail, starting the tail thread.
    // (Three measurements of noisy work: clamped at 0.)
    st.counters["catchup_s"] = std::max(0.0, open_s - log_open - state_open);
    st.counters["state_wal_MiB"] = wal_bytes / 1048576.0;
    st.counters["clean_reopen_s"] = clean_open;
    fs::remove_all(store);
  }
}

// ---- Live ingest ---------------------------------------------------------------------------

void LiveIngest(benchmark::State& st, int flush_ms) {
  namespace fs = std::filesystem;
  for (auto _ : st) {
    const std::string store = g_scratch->path() + "/ingest-" + std::to_string(flush_ms);
    fs::remove_all(store);
    engine::EngineOptions o;
    o.durability.mode = log::Durability::Mode::kNone;
    o.state_flush_interval = std::chrono::milliseconds(flush_ms);
    auto eng = OpenOrDie(store, o);
    AgentWorkload w(g_flags.ingest_events, g_flags.runs, 42);
    std::vector<schema::EventInput> evs;
    const auto t0 = Clock::now();
    const double c0 = ProcessCpu();
    const uint64_t w0 = ProcessWrittenBytes();
    uint64_t last = 0;
    while (!w.done()) {
      evs.clear();
      while (evs.size() < 256 && !w.done()) {
        w.Next(&evs);
      }
      auto r = eng->Append(evs);
      if (!r.ok()) {
        st.SkipWithError(r.status().ToString().c_str());
        return;
      }
      last = r->lsns.back();
    }
    const double appended = Secs(t0);
    if (!eng->WaitForProjections(last, std::chrono::minutes(10))) {
      st.SkipWithError(eng->projection_status().ToString().c_str());
      return;
    }
    const double secs = Secs(t0);
    st.SetIterationTime(secs);
    st.counters["events"] = static_cast<double>(last);
    st.counters["append_s"] = appended;        // until the last Append returned
    st.counters["applied_lag_s"] = secs - appended;  // then until the projections had it
    st.counters["cpu_us/ev"] = (ProcessCpu() - c0) * 1e6 / static_cast<double>(last);
    // Everything written meanwhile: the log's share is the same with and without the periodic
    // flush, so the difference is the state's flushes and compactions.
    st.counters["written_MiB"] = (ProcessWrittenBytes() - w0) / 1048576.0;
    st.counters["sst_files"] = 0;
    for (const auto& f : fs::directory_iterator(engine::StateDir(store))) {
      if (f.path().extension() == ".sst") {
        st.counters["sst_files"] += 1;  // what the flushes (and compactions) left at the end
      }
    }
    st.SetItemsProcessed(static_cast<int64_t>(last));
    (void)eng->Close();
    fs::remove_all(store);
  }
}

void Register() {
  using benchmark::RegisterBenchmark;
  for (bool wal : {true, false}) {
    RegisterBenchmark(wal ? "Replay/all/rocksdb_wal:1" : "Replay/all/rocksdb_wal:0",
                      [wal](benchmark::State& st) { ReplayAll(st, wal); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (const char* name : {"ids", "streams", "runs", "types", "times", "scheduler"}) {
    RegisterBenchmark((std::string("Replay/one/") + name).c_str(),
                      [name = std::string(name)](benchmark::State& st) { ReplayOne(st, name); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  RegisterBenchmark("Replay/decode_only", DecodeOnly)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (int mode = 0; mode < 3; ++mode) {
    const bool fresh = mode == 1, compact = mode == 2;
    for (const Bucket& b : kBuckets) {
      const std::string name = std::string("AsOf/GetTask/reader:") + (fresh ? "fresh" : "reused") +
                               (compact ? "/compacted" : "") + "/dist:" + b.name;
      RegisterBenchmark(name.c_str(),
                        [fresh, compact, b](benchmark::State& st) { AsOf(st, fresh, compact, b); })
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (int flush_ms : {0, 1000}) {
    RegisterBenchmark(("LiveIngest/flush_ms:" + std::to_string(flush_ms)).c_str(),
                      [flush_ms](benchmark::State& st) { LiveIngest(st, flush_ms); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (bool wal : {true, false}) {
    RegisterBenchmark(wal ? "CrashReopen/rocksdb_wal:1" : "CrashReopen/rocksdb_wal:0",
                      [wal](benchmark::State& st) { CrashReopen(st, wal); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace tink::bench

int main(int argc, char** argv) {
  using namespace tink::bench;
  // Our flags first (they are removed from argv before Google Benchmark sees it).
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool v = i + 1 < argc;
    if (a == "--crash-child" && i + 4 < argc) {
      g_flags.runs = std::atoi(argv[i + 4]);
      return CrashChild(argv[i + 1], std::strtoull(argv[i + 2], nullptr, 10),
                        std::atoi(argv[i + 3]) != 0);
    } else if (a == "--events" && v) {
      g_flags.events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--runs" && v) {
      g_flags.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--probes" && v) {
      g_flags.probes = std::max<uint64_t>(100, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--store" && v) {
      g_flags.store = argv[++i];
    } else if (a == "--crash-events" && v) {
      g_flags.crash_events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--ingest-events" && v) {
      g_flags.ingest_events = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--bulk-bytes" && v) {
      g_flags.bulk_bytes = std::strtoll(argv[++i], nullptr, 10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) {
    return 1;
  }
  // Static, so that it is removed on std::exit too (OpenOrDie, a failed generation).
  static ScratchDir scratch(BenchBase(""));
  g_scratch = &scratch;
  const DiskInfo disk = DescribeDisk(scratch.path());
  benchmark::AddCustomContext("bench_dir", scratch.path());
  benchmark::AddCustomContext("bench_disk",
                              disk.device + " " + disk.fstype + " " + disk.rotational);
  benchmark::AddCustomContext("events", std::to_string(g_flags.events));
  benchmark::AddCustomContext("runs", std::to_string(g_flags.runs));
  if (disk.in_memory) {
    std::fprintf(stderr, "WARNING: %s is %s (in memory): durable numbers mean nothing\n",
                 scratch.path().c_str(), disk.fstype.c_str());
  }
  Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
