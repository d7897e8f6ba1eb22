// tink_compare's "as-of" class: the state of one task as of an LSN, ours (the scheduler
// projection's versioned keys in RocksDB, SchedulerReader::GetTask) against SQLite holding the
// same task versions in task_versions(run, task, lsn, <every field of the task>) with an index
// on (run, task, lsn), queried with
//   SELECT ... FROM task_versions WHERE run=? AND task=? AND lsn<=? ORDER BY lsn DESC LIMIT 1
// Both answer the same random probes and build the same projections::Task from what they read;
// every answer is compared (same version LSN and status), and mismatches are reported as an error.
// Ours is measured with one StateReader for all lookups, with one per lookup, and again (one
// reader) after a full compaction of the scheduler's column family.
#include <sqlite3.h>
#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>

#include "bench/agent_workload.h"
#include "bench/compare.h"
#include "engine/engine.h"
#include "projections/scheduler.h"
#include "projections/state_store.h"

namespace tink::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kColumns =
    "run, task, lsn, parent, name, priority, status, attempts, wait_kind, waiting_on, error, "
    "created_lsn, started_lsn, finished_lsn, ready_lsn, created_ns, started_ns, finished_ns, "
    "since_ns, ready_total_ns, running_total_ns, waiting_total_ns, llm_calls, tool_calls, "
    "tool_errors, last_event_type, anomalies";

std::string CreateTable(const std::string& table, bool without_rowid) {
  std::string sql = "CREATE TABLE " + table +
                    "(run TEXT NOT NULL, task TEXT NOT NULL, lsn INTEGER NOT NULL, parent TEXT, "
                    "name TEXT, priority INTEGER, status INTEGER, attempts INTEGER, wait_kind "
                    "TEXT, waiting_on TEXT, error TEXT, created_lsn INTEGER, started_lsn INTEGER, "
                    "finished_lsn INTEGER, ready_lsn INTEGER, created_ns INTEGER, started_ns "
                    "INTEGER, finished_ns INTEGER, since_ns INTEGER, ready_total_ns INTEGER, "
                    "running_total_ns INTEGER, waiting_total_ns INTEGER, llm_calls INTEGER, "
                    "tool_calls INTEGER, tool_errors INTEGER, last_event_type TEXT, anomalies "
                    "INTEGER";
  sql += without_rowid ? ", PRIMARY KEY(run, task, lsn)) WITHOUT ROWID;" : ");";
  return sql;
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

void BindTask(sqlite3_stmt* s, const projections::Task& t) {
  int i = 1;
  BindText(s, i++, t.run);
  BindText(s, i++, t.id);
  sqlite3_bind_int64(s, i++, static_cast<int64_t>(t.version));
  BindText(s, i++, t.parent);
  BindText(s, i++, t.name);
  sqlite3_bind_int(s, i++, t.priority);
  sqlite3_bind_int(s, i++, static_cast<int>(t.status));
  sqlite3_bind_int(s, i++, t.attempts);
  BindText(s, i++, t.wait_kind);
  BindText(s, i++, t.waiting_on);
  BindText(s, i++, t.error);
  for (uint64_t v : {t.created_lsn, t.started_lsn, t.finished_lsn, t.ready_lsn}) {
    sqlite3_bind_int64(s, i++, static_cast<int64_t>(v));
  }
  for (int64_t v : {t.created_ns, t.started_ns, t.finished_ns, t.since_ns, t.ready_total_ns,
                    t.running_total_ns, t.waiting_total_ns}) {
    sqlite3_bind_int64(s, i++, v);
  }
  sqlite3_bind_int(s, i++, t.llm_calls);
  sqlite3_bind_int(s, i++, t.tool_calls);
  sqlite3_bind_int(s, i++, t.tool_errors);
  BindText(s, i++, t.last_event_type);
  sqlite3_bind_int(s, i++, t.anomalies);
}

std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

// The row as the Task our reader returns.
projections::Task ReadTask(sqlite3_stmt* s) {
  projections::Task t;
  int i = 0;
  t.run = ColText(s, i++);
  t.id = ColText(s, i++);
  t.version = static_cast<uint64_t>(sqlite3_column_int64(s, i++));
  t.parent = ColText(s, i++);
  t.name = ColText(s, i++);
  t.priority = sqlite3_column_int(s, i++);
  t.status = static_cast<projections::TaskStatus>(sqlite3_column_int(s, i++));
  t.attempts = sqlite3_column_int(s, i++);
  t.wait_kind = ColText(s, i++);
  t.waiting_on = ColText(s, i++);
  t.error = ColText(s, i++);
  t.created_lsn = static_cast<uint64_t>(sqlite3_column_int64(s, i++));
  t.started_lsn = static_cast<uint64_t>(sqlite3_column_int64(s, i++));
  t.finished_lsn = static_cast<uint64_t>(sqlite3_column_int64(s, i++));
  t.ready_lsn = static_cast<uint64_t>(sqlite3_column_int64(s, i++));
  t.created_ns = sqlite3_column_int64(s, i++);
  t.started_ns = sqlite3_column_int64(s, i++);
  t.finished_ns = sqlite3_column_int64(s, i++);
  t.since_ns = sqlite3_column_int64(s, i++);
  t.ready_total_ns = sqlite3_column_int64(s, i++);
  t.running_total_ns = sqlite3_column_int64(s, i++);
  t.waiting_total_ns = sqlite3_column_int64(s, i++);
  t.llm_calls = sqlite3_column_int(s, i++);
  t.tool_calls = sqlite3_column_int(s, i++);
  t.tool_errors = sqlite3_column_int(s, i++);
  t.last_event_type = ColText(s, i++);
  t.anomalies = sqlite3_column_int(s, i++);
  t.last_event_lsn = t.version;
  return t;
}

struct Answer {
  uint64_t version = 0;  // 0: no task
  int status = 0;
};

// Runs `lookup` on the warm-up probes, then times each of `probes`; fills the row's rate and
// latency percentiles, and the answers.
Row Measure(const std::vector<AgentTask>& tasks, const std::vector<AsOfProbe>& warm,
            const std::vector<AsOfProbe>& probes,
            const std::function<std::string(const AgentTask&, uint64_t, Answer*)>& lookup,
            std::vector<Answer>* answers) {
  Row row;
  Answer a;
  for (const AsOfProbe& p : warm) {
    if (std::string e = lookup(tasks[p.task], p.lsn, &a); !e.empty()) {
      row.rate.error = e;
      return row;
    }
  }
  answers->assign(probes.size(), Answer{});
  std::vector<double> us(probes.size());
  const auto t0 = Clock::now();
  for (size_t i = 0; i < probes.size(); ++i) {
    const auto a0 = Clock::now();
    if (std::string e = lookup(tasks[probes[i].task], probes[i].lsn, &(*answers)[i]); !e.empty()) {
      row.rate.error = e;
      return row;
    }
    us[i] = std::chrono::duration<double, std::micro>(Clock::now() - a0).count();
  }
  row.rate.ops = probes.size();
  row.rate.seconds = SecondsSince(t0);
  const Percentiles pc = Percentiles::Of(us);
  row.p50_us = pc.p50;
  row.p99_us = pc.p99;
  char d[160];
  std::snprintf(d, sizeof(d), "p50/p90/p99/p99.9/max %.1f/%.1f/%.1f/%.1f/%.0f us", pc.p50, pc.p90,
                pc.p99, pc.p999, pc.max);
  row.detail = d;
  return row;
}

uint64_t Mismatches(const std::vector<Answer>& a, const std::vector<Answer>& b) {
  uint64_t n = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    n += a[i].version != b[i].version || a[i].status != b[i].status;
  }
  return n + (a.size() != b.size() ? 1 : 0);
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Issue 16 row 3: engine appends of the agent workload (JSON inputs: id, validation, encoding,
// log) into a fresh store with projections on and the tail thread folding them, batches of 256
// from one thread, durability none; timed until the projections have applied the last event.
Row LiveIngest(const std::string& store, uint64_t events) {
  Row row;
  row.name = "tinkerbell live append + fold";
  std::error_code ec;
  std::filesystem::remove_all(store, ec);
  engine::EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  auto eng = engine::Engine::Open(store, o);
  if (!eng.ok()) {
    row.rate.error = eng.status().ToString();
    return row;
  }
  AgentWorkload w(events, 100, 42);
  std::vector<schema::EventInput> evs;
  const auto t0 = Clock::now();
  const double c0 = ProcessCpuSeconds();
  uint64_t last = 0;
  while (!w.done()) {
    evs.clear();
    while (evs.size() < 256 && !w.done()) w.Next(&evs);
    auto r = (*eng)->Append(evs);
    if (!r.ok()) {
      row.rate.error = r.status().ToString();
      return row;
    }
    last = r->lsns.back();
  }
  const double appended = SecondsSince(t0);
  if (!(*eng)->WaitForProjections(last, std::chrono::minutes(10))) {
    row.rate.error = (*eng)->projection_status().ToString();
    return row;
  }
  const double secs = SecondsSince(t0);
  const double cpu = ProcessCpuSeconds() - c0;
  row.rate = {last, secs, ""};
  char d[200];
  std::snprintf(d, sizeof(d),
                "%" PRIu64 " events; appends done at %.1f s, projections at %.1f s; CPU %.1f "
                "us/event (all threads)",
                last, appended, secs, cpu * 1e6 / static_cast<double>(last));
  row.detail = d;
  (void)(*eng)->Close();
  std::filesystem::remove_all(store, ec);
  return row;
}

}  // namespace

std::vector<Row> AsOfCompare(const std::string& dir, uint64_t events, uint64_t nprobes,
                             std::string* setup) {
  std::vector<Row> rows;
  auto fail = [&](const std::string& what) {
    Row r;
    r.name = "tinkerbell GetTask as-of";
    r.rate.error = what;
    rows.push_back(r);
    return rows;
  };
  // The store: the workload in the log, then the projections built by the first writable open.
  const std::string store = dir + "/store";
  AgentStore gen = WriteAgentStore(store, events, 100);
  if (!gen.error.empty()) {
    return fail("generate: " + gen.error);
  }
  engine::EngineOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  o.tail = false;
  const auto t_open = Clock::now();
  auto eng = engine::Engine::Open(store, o);
  const double build_s = SecondsSince(t_open);
  if (!eng.ok()) {
    return fail(eng.status().ToString());
  }
  auto reader = (*eng)->NewReader();
  if (!reader.ok()) {
    return fail(reader.status().ToString());
  }
  projections::SchedulerReader sr(**reader);
  const uint64_t head = sr.head();
  // The LSM shape the lookups meet: SST files per level of the scheduler's column family.
  std::string levels;
  {
    rocksdb::DB* rdb = (*reader)->store()->db();
    std::string v;
    for (int l = 0; l < 7; ++l) {
      if (rdb->GetProperty((*reader)->store()->cf("scheduler"),
                           "rocksdb.num-files-at-level" + std::to_string(l), &v)) {
        levels += (l ? "/" : "") + v;
      }
    }
  }

  // SQLite: every version of every task, from our projection (so both hold the same data).
  const std::string db_path = dir + "/asof.sqlite";
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    return fail("sqlite3_open");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_closer(db, sqlite3_close);
  const std::string schema = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" +
                             CreateTable("task_versions", false) +
                             CreateTable("task_versions_pk", true);
  if (sqlite3_exec(db, schema.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail(std::string("sqlite: ") + sqlite3_errmsg(db));
  }
  uint64_t versions = 0;
  const auto t_load = Clock::now();
  {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    std::string ins = std::string("INSERT INTO task_versions(") + kColumns + ") VALUES(?";
    for (int i = 1; i < 27; ++i) {
      ins += ",?";
    }
    ins += ")";
    std::string ins_pk = ins;
    ins_pk.replace(ins_pk.find("task_versions"), 13, "task_versions_pk");
    sqlite3_stmt* s1 = nullptr;
    sqlite3_stmt* s2 = nullptr;
    sqlite3_prepare_v2(db, ins.c_str(), -1, &s1, nullptr);
    sqlite3_prepare_v2(db, ins_pk.c_str(), -1, &s2, nullptr);
    for (const AgentTask& t : gen.tasks) {
      auto h = sr.TaskHistory(t.run, t.task, 1, head);
      if (!h.ok()) {
        return fail(h.status().ToString());
      }
      for (const projections::Task& v : *h) {
        for (sqlite3_stmt* s : {s1, s2}) {
          BindTask(s, v);
          if (sqlite3_step(s) != SQLITE_DONE) {
            return fail(std::string("sqlite insert: ") + sqlite3_errmsg(db));
          }
          sqlite3_reset(s);
        }
        ++versions;
      }
    }
    sqlite3_finalize(s1);
    sqlite3_finalize(s2);
    if (sqlite3_exec(db,
                     "COMMIT; CREATE INDEX task_versions_idx ON task_versions(run, task, lsn);"
                     "ANALYZE;",
                     nullptr, nullptr, nullptr) != SQLITE_OK) {
      return fail(std::string("sqlite: ") + sqlite3_errmsg(db));
    }
  }
  const double load_s = SecondsSince(t_load);
  reader->reset();

  const auto probes = MakeAsOfProbes(gen.tasks, head, 0, head, nprobes, 4242);
  const auto warm = MakeAsOfProbes(gen.tasks, head, 0, head, 2000, 77);
  std::vector<Answer> ours_ans, other_ans;

  // Ours, one StateReader (RocksDB snapshot) for all lookups.
  auto rr = (*eng)->NewReader();
  if (!rr.ok()) {
    return fail(rr.status().ToString());
  }
  std::unique_ptr<projections::StateReader> shared = std::move(rr).value();
  auto ours_lookup = [&](projections::StateReader& r, const AgentTask& t, uint64_t lsn,
                         Answer* a) -> std::string {
    projections::SchedulerReader s(r);
    auto got = s.GetTask(t.run, t.task, lsn);
    if (!got.ok()) {
      return got.status().ToString();
    }
    *a = *got ? Answer{(*got)->version, static_cast<int>((*got)->status)} : Answer{};
    return "";
  };
  Row reused = Measure(
      gen.tasks, warm, probes,
      [&](const AgentTask& t, uint64_t lsn, Answer* a) { return ours_lookup(*shared, t, lsn, a); },
      &ours_ans);
  reused.name = "tinkerbell GetTask, reused StateReader";
  rows.push_back(reused);
  shared.reset();
  std::vector<Answer> fresh_ans;
  Row fresh = Measure(
      gen.tasks, warm, probes,
      [&](const AgentTask& t, uint64_t lsn, Answer* a) -> std::string {
        auto r = (*eng)->NewReader();
        if (!r.ok()) {
          return r.status().ToString();
        }
        return ours_lookup(**r, t, lsn, a);
      },
      &fresh_ans);
  fresh.name = "tinkerbell GetTask, StateReader per lookup";
  if (uint64_t m = Mismatches(ours_ans, fresh_ans); m && fresh.rate.error.empty()) {
    fresh.rate.error = std::to_string(m) + " answers differ from the reused reader's";
  }
  rows.push_back(fresh);

  // Ours again after a full compaction of the scheduler's column family (the state as the
  // catch-up left it has several L0 files; SQLite's B-tree has no such phase).
  {
    auto r = (*eng)->NewReader();
    if (!r.ok()) {
      return fail(r.status().ToString());
    }
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    rocksdb::Status s =
        (*r)->store()->db()->CompactRange(co, (*r)->store()->cf("scheduler"), nullptr, nullptr);
    if (!s.ok()) {
      return fail(s.ToString());
    }
  }
  auto rc = (*eng)->NewReader();
  if (!rc.ok()) {
    return fail(rc.status().ToString());
  }
  shared = std::move(rc).value();
  std::vector<Answer> compacted_ans;
  Row compacted = Measure(
      gen.tasks, warm, probes,
      [&](const AgentTask& t, uint64_t lsn, Answer* a) { return ours_lookup(*shared, t, lsn, a); },
      &compacted_ans);
  compacted.name = "tinkerbell GetTask, reused, compacted";
  if (uint64_t m = Mismatches(ours_ans, compacted_ans); m && compacted.rate.error.empty()) {
    compacted.rate.error = std::to_string(m) + " answers differ from the reused reader's";
  }
  rows.push_back(compacted);
  shared.reset();

  // SQLite, the same probes, one prepared statement per variant.
  struct Variant {
    const char* name;
    const char* table;
    int cache_kib;  // 0: SQLite's default (2 MB)
  };
  const Variant variants[] = {
      {"sqlite index(run,task,lsn)", "task_versions", 0},
      {"sqlite WITHOUT ROWID pk(run,task,lsn)", "task_versions_pk", 0},
      {"sqlite index(run,task,lsn), 256 MiB cache", "task_versions", 262144},
  };
  for (const Variant& v : variants) {
    sqlite3* q = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &q, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      return fail("sqlite3_open");
    }
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> q_closer(q, sqlite3_close);
    if (v.cache_kib) {
      const std::string p = "PRAGMA cache_size=-" + std::to_string(v.cache_kib) + ";";
      sqlite3_exec(q, p.c_str(), nullptr, nullptr, nullptr);
    }
    const std::string sql = std::string("SELECT ") + kColumns + " FROM " + v.table +
                            " WHERE run=? AND task=? AND lsn<=? ORDER BY lsn DESC LIMIT 1";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(q, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return fail(std::string("sqlite prepare: ") + sqlite3_errmsg(q));
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st_closer(st, sqlite3_finalize);
    Row row = Measure(
        gen.tasks, warm, probes,
        [&](const AgentTask& t, uint64_t lsn, Answer* a) -> std::string {
          sqlite3_bind_text(st, 1, t.run.data(), static_cast<int>(t.run.size()), SQLITE_STATIC);
          sqlite3_bind_text(st, 2, t.task.data(), static_cast<int>(t.task.size()), SQLITE_STATIC);
          sqlite3_bind_int64(st, 3, static_cast<int64_t>(lsn));
          const int rc = sqlite3_step(st);
          *a = Answer{};
          if (rc == SQLITE_ROW) {
            const projections::Task task = ReadTask(st);
            *a = Answer{task.version, static_cast<int>(task.status)};
          } else if (rc != SQLITE_DONE) {
            return std::string("sqlite: ") + sqlite3_errmsg(q);
          }
          sqlite3_reset(st);
          return "";
        },
        &other_ans);
    row.name = v.name;
    if (uint64_t m = Mismatches(ours_ans, other_ans); m && row.rate.error.empty()) {
      row.rate.error = std::to_string(m) + " answers differ from ours";
    }
    rows.push_back(row);
  }

  // Issue 16 row 2: a full replay into every projection (Engine::Replay: the bulk load, the
  // swap, and the compaction of each rebuilt column family), on the same store. Its state must
  // equal the one the catch-up at open folded incrementally: every projection's digest.
  {
    std::string err;
    auto digest_reader = (*eng)->NewReader();
    if (!digest_reader.ok()) return fail(digest_reader.status().ToString());
    // The engine's StateStore outlives the reader (and the replay's swap).
    projections::StateStore* state = (*digest_reader)->store();
    digest_reader->reset();
    std::map<std::string, std::string> before;
    for (const std::string& name : (*eng)->ProjectionNames()) {
      auto d = state->Digest(name);
      if (!d.ok()) err = d.status().ToString();
      before[name] = d.ok() ? *d : "";
    }
    double apply_s = 0;
    const auto t0 = Clock::now();
    const double c0 = ProcessCpuSeconds();
    Status s = (*eng)->Replay("", 0, [&](uint64_t done, uint64_t total) {
      if (done == total) apply_s = SecondsSince(t0);
    });
    const double all_s = SecondsSince(t0);
    const double cpu_s = ProcessCpuSeconds() - c0;
    if (!s.ok()) err = "replay: " + s.ToString();
    for (const auto& [name, d] : before) {
      auto again = state->Digest(name);
      if (err.empty() && (!again.ok() || *again != d)) {
        err = "the replayed " + name + " differs from the incremental fold";
      }
    }
    Row row;
    row.name = "tinkerbell Replay(all)";
    row.rate = {head, all_s, err};
    char d[300];
    std::snprintf(d, sizeof(d),
                  "%.1f s in all: folding %.1f s, then the last ingest, swap and compaction "
                  "%.1f s; CPU %.1f us/event (all threads); digests of %zu projections equal to "
                  "the incremental fold's: %s",
                  all_s, apply_s, all_s - apply_s, cpu_s * 1e6 / static_cast<double>(head),
                  before.size(), err.empty() ? "yes" : "NO");
    row.detail = d;
    rows.push_back(row);
    // The live fold's own path: the catch-up at open applied the whole log through
    // StateStore::Apply (memtables), as the tail thread does while appends arrive.
    Row live;
    live.name = "tinkerbell catch-up at open (live fold path)";
    live.rate = {head, build_s, ""};
    live.detail = "StateStore::Apply of every event, no encoding";
    rows.push_back(live);
  }
  (void)(*eng)->Close();
  rows.push_back(LiveIngest(dir + "/live", std::min<uint64_t>(events, 300'000)));

  char buf[600];
  std::snprintf(buf, sizeof(buf),
                "%" PRIu64 " agent events (%zu tasks, %" PRIu64
                " task versions), %zu probes at uniform random LSNs; our state built at open in "
                "%.1f s (scheduler SST files per level L0..L6 after it: %s), SQLite loaded (both "
                "tables) and indexed in %.1f s",
                gen.events, gen.tasks.size(), versions, probes.size(), build_s, levels.c_str(),
                load_s);
  *setup = buf;
  return rows;
}

}  // namespace tink::bench
