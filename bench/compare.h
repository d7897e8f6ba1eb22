// Shared by tink_compare's files: the run's configuration and payloads, the result row, the
// baseline measurements (bench/baselines.cc), the as-of class (bench/asof_compare.cc) and the
// memory-graph class (bench/memory_compare.cc). Our log's measurements and the report are in
// bench/compare.cc. Not thread-safe except where a
// function says so; bench/ only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"

struct sqlite3;

namespace tink::bench {

inline constexpr size_t kPayload = 256;   // bytes of every event, for every system
inline constexpr int kMany = 16;          // writer threads of the "x16" rows
inline constexpr uint64_t kBatch = 1000;  // events per batch in the bulk rows

// The memory-graph class (bench/memory_compare.cc describes the workload and the queries).
struct MemoryOptions {
  uint64_t nodes = 100'000;
  uint64_t edges = 1'000'000;  // edge creations (0: skip the class)
  uint64_t probes = 500;       // per neighbour row; paths probes/4, Edges x5, Node x10
  int path_depth = 5;          // ShortestPath max depth
  double skew = 0.3;           // destination popularity (rank+1)^-skew; 0: uniform
  uint64_t seed = 11;
  // Keep the store and the SQLite file here and reuse them in later runs with the same flags
  // (for profiling one side); empty: a scratch directory, removed at the end.
  std::string store;
};

// The shell class (bench/shell_compare.cc describes the store and the queries).
struct ShellOptions {
  uint64_t events = 1'000'000;  // store size (0: skip the class)
  int reps = 5;                 // timed runs of each query, after one warm-up
  bool sqlite = true;           // load the events into SQLite and run the same questions
  // Keep the store (and the SQLite file) here and reuse it in later runs of the same size.
  std::string store;
};

// The http class (bench/http_compare.cc describes the rows).
struct HttpOptions {
  double seconds = 1;            // per measurement of a throughput row...
  int rounds = 3;                // ...each row measured this many times, interleaved
  int bulk_clients = 4;          // clients of the JSONL rows (threads of the in-process row)
  int follow_events = 2000;      // events of the follow-latency row, after a warm-up
  uint64_t query_events = 20'000;  // store size of the query rows
  int query_reps = 50;           // timed runs per query (the tink process: a fifth, at least 5)
  std::string tink;              // the tink executable for `tink shell -c`
};

// The llm class (bench/llm_compare.cc): the recording proxy's added latency; OTLP ingest.
struct LlmOptions {
  int calls = 600;  // per row, split over the rounds
  int rounds = 3;
  int otlp_traces = 2000;  // agent runs of 10 spans for the OTLP ingest rows (0: skip them)
};

// The ingest class (bench/ingest_compare.cc): JSON -> record encoding and a JSONL import.
struct IngestOptions {
  uint64_t events = 1'000'000;  // 0: skip the class
  std::string keep;             // also write the JSONL file here (for profiling `tink import`)
  std::string tink;             // the tink executable (import and replay as processes: RSS)
};

// One goal line of the report ("information only, never a failure").
struct Goal {
  std::string what, measured;
  bool pass = false;
};

// The open class (bench/open_compare.cc): start-up on a big store.
struct OpenResult {
  std::string report;                 // the section's table
  // Measured, for the goals list: read-only Log::Open, writable Log::Open, read-only
  // Engine::Open.
  std::string log_goal, writer_goal, engine_goal;
  bool log_pass = false, writer_pass = false, engine_pass = false;
};

struct Config {
  std::string dir;
  double seconds = 2;          // each measurement stops after this long...
  uint64_t count = 2'000'000;  // ...or after this many events, whichever comes first
  bool json = false;
  uint64_t asof_events = 1'000'000;  // store size of the as-of class (0: skip the class)
  uint64_t asof_probes = 20'000;     // lookups per as-of row
  // Sections (--only): "log" (every class but the ones below), "asof", "memory", "shell", "http",
  // "llm", "ingest", "open".
  bool log = true, asof = true, memory = true, shell = true, http = true, llm = true,
       ingest = true;
  IngestOptions ingest_opts;
  bool open = true;
  uint64_t open_events = 10'000'000;  // store size of the open class (0: skip the class)
  LlmOptions llm_opts;
  MemoryOptions mem;
  ShellOptions shell_opts;
  HttpOptions http_opts;
};

struct Row {
  std::string cls, name;
  Rate rate;
  double file_bytes_per_event = 0;  // bytes the system wrote/read per event; 0: not measured
  double events_per_sync = 0;       // 0: not measured
  std::string detail;               // printed under the table
  double p50_us = 0, p99_us = 0;    // per-operation latency (as-of rows); 0: not measured
  double max_us = 0;                // memory rows
  // Memory rows: the query (the ratio column pairs rows of one group), and how many answers were
  // compared with the other system's and how many differed.
  std::string group;
  uint64_t checked = 0, mismatched = 0;
};

// What the goals list needs besides the rows (bench/goals.cc).
struct GoalInputs {
  bool log = false, open = false;   // the sections that ran
  const Row* asof_ours = nullptr;   // our as-of lookup row, if the as-of class ran
  std::vector<Goal> ingest_goals;   // the ingest class's own goal lines
  OpenResult open_result;
};

// Set once by main before any measurement; read-only afterwards (so safe from any thread).
extern Config g_cfg;
extern std::vector<std::string> g_data;
inline const std::string& P(uint64_t i) { return g_data[i % g_data.size()]; }

// The report's goal lines, PASS or MISS (bench/goals.cc).
std::vector<Goal> CollectGoals(const std::vector<Row>& rows, const GoalInputs& in);
// Rows by system: ours ("tinkerbell ..."), ours in r's class (and group), by name.
bool IsOurs(const Row& r);
const Row* OursFor(const std::vector<Row>& rows, const Row& r);
const Row* Find(const std::vector<Row>& rows, const std::string& name);
double PerSec(const std::vector<Row>& rows, const std::string& name);

// sqlite3_exec; "" or SQLite's error message (bench/shell_compare.cc).
std::string SqliteExec(sqlite3* db, const std::string& sql);

// "what: strerror(errno)".
std::string Errno(const char* what);

// Drops the page cache of every file under `dir` (after fdatasync, so the pages are clean).
void DropCache(const std::string& dir);

// (a) 256 B pwrite + fdatasync in a loop on a plain file in `dir`. `prep`: "append" (the file
// grows), "fallocate" (overwrites posix_fallocate'd space) or "overwrite" (written and synced
// blocks).
Rate RawFsync(const std::string& dir, const std::string& prep);

// (d) SQLite WAL mode in `dir`, synchronous=`sync`. batch == 1: one autocommit transaction per
// event; else `batch` events per transaction. threads > 1: `shared` = one connection under a
// mutex, else one connection per thread with busy_timeout.
Row Sqlite(const std::string& dir, const char* sync, int threads, uint64_t batch, bool shared);

// (e) RocksDB in `dir`: Put with sync=true per event, or (bulk) WriteBatch of kBatch with
// sync=false and SyncWAL at the end, counted in the time.
Row Rocks(const std::string& dir, int threads, bool bulk);

// (f) JSONL at `path` (payload base64-encoded), write + fdatasync per event under one mutex.
Row Jsonl(const std::string& path, int threads);
// kBatch lines per write, one fdatasync at the end, counted in the time. Then, untimed, tops the
// file up to `fill_to` events so a later scan reads as many events as our bulk log holds.
Row JsonlBulk(const std::string& path, uint64_t fill_to);
// (g) Reads the file back and splits lines; nothing is parsed or checked.
Row JsonlScan(const std::string& path, bool cold);

// The as-of class (bench/asof_compare.cc): builds an agent-shaped store of `events` events in
// `dir`, loads the same task versions into SQLite, and times `probes` random as-of task lookups
// on each (rate = lookups). *setup describes the data. Rows come back without a class.
std::vector<Row> AsOfCompare(const std::string& dir, uint64_t events, uint64_t probes,
                             std::string* setup);

// The memory class: generates the graph workload into a store in `dir` through the engine, folds
// it (Replay("memory")), loads the same graph into SQLite and times the same probes on both.
// Rows come back without a class: group "load" (append, fold, SQLite load; rate = events) and
// one group per query with a "tinkerbell" row and a "sqlite ..." row (rate = queries).
// *setup describes the data.
std::vector<Row> MemoryCompare(const std::string& dir, const MemoryOptions& o, std::string* setup);

// The shell class: builds (or reuses) an agent-shaped store in `dir`, loads its events into
// SQLite, times indexed queries and full-scan aggregates on both. Returns the report section
// (a table; not part of --json).
std::string ShellCompare(const std::string& dir, const ShellOptions& o);

// The http class: tink serve's API (server::Server run in this process over fresh stores in
// `dir`) against the engine in-process: ingest, bulk JSONL, follow latency, query round trips.
// Returns the report section (tables and goals; not part of --json).
std::string HttpCompare(const std::string& dir, const HttpOptions& o);
// The open class: builds a log of `events` events in the store `dir` and times Log::Open
// (read-only, writable) and Engine::Open read-only, warm and cold.
OpenResult OpenCompare(const std::string& dir, uint64_t events);
// The llm class: the report text.
std::string LlmCompare(const std::string& dir, const LlmOptions& o);
// The ingest class: the report text; its goals are added to *goals.
std::string IngestCompare(const std::string& dir, const IngestOptions& o, std::vector<Goal>* goals);
// Its OTLP ingest rows (bench/otlp_compare.cc).
std::string OtlpCompare(const std::string& dir, const LlmOptions& o);

}  // namespace tink::bench
