// tink_compare's "shell" class: the query language (shell/query) on an agent-shaped store of
// --shell-events events (bench/agent_workload.h: runs of tasks doing LLM and tool calls), against
// SQLite holding the same events in one table.
//
// Ours: each query goes through query::PrepareQuery over an EngineProvider (what `tink shell -c`
// runs, without printing) and every row is pulled. SQLite: events(lsn INTEGER PRIMARY KEY, time,
// stream, type, run, doc) where doc is the event's whole JSON envelope, with indexes on stream,
// type and run; the same question as SQL. Both answer each query `reps` times after one warm-up
// (once when the warm-up took over 3 s); p50 and min wall time are shown, and for the scans the
// events read per second. Our count and group by run on LSN slices, one thread per core. The answers
// are compared (row count, and the count / groups where the query has them).
//
// The queries:
//   indexed  events | where stream == S                 S: the stream of the log's middle event
//            events | where run == R | where type == 'task.failed'
//            tasks as of N | where state == 'failed' | where run == R   (N: half the log)
//            tasks as of N | where state == 'failed' | count            (every task of the store)
//   scan     events | count
//            events | group by type
//            events | where stream ~ '/task/' | count
//            events | group by run max(lsn) as last | count
//            events | where data.exit_code != 0 | count                 (reads every payload)
//
// Keep the store with --shell-store DIR (reused by later runs with the same --shell-events).
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/agent_workload.h"
#include "bench/compare.h"
#include "engine/engine.h"
#include "schema/schema.h"
#include "shell/query/provider.h"
#include "shell/query/query.h"

namespace tink::bench {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Timing {
  double p50_ms = 0, min_ms = 0;
  uint64_t rows = 0;
  Json answer;  // count or groups, for the comparison
  std::string error;
};

// `reps` timed runs after a warm-up; one when the warm-up took over 3 s (the payload scans of a
// 10M-event store), so a whole run stays within minutes.
Timing Measure(int reps, const std::function<std::string(uint64_t*, Json*)>& run) {
  Timing t;
  std::vector<double> ms;
  for (int i = 0; i <= reps; ++i) {  // the first is a warm-up
    uint64_t rows = 0;
    Json answer;
    const auto t0 = Clock::now();
    std::string err = run(&rows, &answer);
    const double took = SecondsSince(t0) * 1e3;
    if (!err.empty()) {
      t.error = err;
      return t;
    }
    t.rows = rows;
    t.answer = std::move(answer);
    if (i > 0) ms.push_back(took);
    if (i == 0 && took > 3000) reps = 1;
  }
  std::sort(ms.begin(), ms.end());
  t.p50_ms = ms[ms.size() / 2];
  t.min_ms = ms.front();
  return t;
}

// Runs a query through the shell's executor, pulls every row. answer: the `count` of a one-row
// count, or the rows of a group by (sorted), else null.
std::string OursQuery(query::EngineProvider& p, const std::string& text, uint64_t* rows,
                      Json* answer) {
  query::Cancel cancel{false};
  auto prepared = query::PrepareQuery(p, text, &cancel);
  if (!prepared.ok()) return prepared.status().ToString();
  if (auto* e = std::get_if<query::QueryError>(&*prepared)) return e->ToString();
  query::Prepared& q = std::get<query::Prepared>(*prepared);
  if (!q.rows) return "no rows";
  query::Row r;
  std::vector<Json> groups;
  while (true) {
    Result<bool> more = q.rows->Next(&r);
    if (!more.ok()) return more.status().ToString();
    if (!*more) break;
    ++*rows;
    if (r.size() == 1 && r.contains("count")) {
      *answer = r["count"];
    } else if (text.find("group by type") != std::string::npos) {
      groups.push_back(Json::array({r["type"], r["count"]}));
    }
  }
  if (!groups.empty()) {
    std::sort(groups.begin(), groups.end());
    *answer = Json(groups);
  }
  return "";
}

std::string SqliteQuery(sqlite3* db, const std::string& sql, const std::vector<std::string>& args,
                        uint64_t* rows, Json* answer) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return std::string("prepare: ") + sqlite3_errmsg(db);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].data(),
                      static_cast<int>(args[i].size()), SQLITE_TRANSIENT);
  }
  std::vector<Json> groups;
  int rc;
  const int cols = sqlite3_column_count(st);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    ++*rows;
    // Touch every column, as our rows hold every field.
    for (int c = 0; c < cols; ++c) (void)sqlite3_column_text(st, c);
    if (cols == 1 && std::string(sqlite3_column_name(st, 0)) == "count") {
      *answer = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
    } else if (cols == 2 && std::string(sqlite3_column_name(st, 1)) == "count") {
      groups.push_back(Json::array({reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                    static_cast<uint64_t>(sqlite3_column_int64(st, 1))}));
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return std::string("step: ") + sqlite3_errmsg(db);
  if (!groups.empty()) {
    std::sort(groups.begin(), groups.end());
    *answer = Json(groups);
  }
  return "";
}

// Loads every event of `engine` into SQLite at `path`: one transaction, then the indexes.
std::string LoadSqlite(engine::Engine& engine, const std::string& path, double* seconds) {
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "sqlite3_open";
  const auto t0 = Clock::now();
  std::string err = SqliteExec(db,
                         "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"
                         "CREATE TABLE events(lsn INTEGER PRIMARY KEY, time TEXT, stream TEXT, "
                         "type TEXT, run TEXT, doc TEXT);");
  sqlite3_stmt* ins = nullptr;
  if (err.empty() &&
      sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?,?,?,?,?,?)", -1, &ins, nullptr) !=
          SQLITE_OK) {
    err = sqlite3_errmsg(db);
  }
  if (err.empty()) {
    Status s = engine.Scan(engine::LogQuery{}, [&](const log::LogRecord& rec) {
      auto v = schema::DecodeEvent(rec.payload);
      auto doc = schema::EventToJson(rec.lsn, rec.time_ns, rec.payload);
      if (!v.ok() || !doc.ok()) {
        err = "decode";
        return false;
      }
      const std::string time = schema::FormatTime(rec.time_ns);
      sqlite3_bind_int64(ins, 1, static_cast<int64_t>(rec.lsn));
      sqlite3_bind_text(ins, 2, time.data(), static_cast<int>(time.size()), SQLITE_TRANSIENT);
      auto text = [&](int i, std::string_view sv) {
        if (sv.empty()) {
          sqlite3_bind_null(ins, i);
        } else {
          sqlite3_bind_text(ins, i, sv.data(), static_cast<int>(sv.size()), SQLITE_TRANSIENT);
        }
      };
      text(3, v->stream);
      text(4, v->type);
      text(5, v->run);
      text(6, *doc);
      if (sqlite3_step(ins) != SQLITE_DONE) {
        err = sqlite3_errmsg(db);
        return false;
      }
      sqlite3_reset(ins);
      return true;
    });
    if (!s.ok() && err.empty()) err = s.ToString();
  }
  sqlite3_finalize(ins);
  if (err.empty()) {
    err = SqliteExec(db,
               "CREATE INDEX ev_stream ON events(stream); CREATE INDEX ev_type ON events(type);"
               "CREATE INDEX ev_run ON events(run); COMMIT;");
  }
  *seconds = SecondsSince(t0);
  sqlite3_close(db);
  return err;
}

long MaxRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace

std::string ShellCompare(const std::string& dir, const ShellOptions& o) {
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof(buf), fmt, args...);
    out += buf;
  };
  auto fail = [&](const std::string& what) { return out + "shell: ERROR: " + what + "\n"; };

  // The store: generated (log only) unless --shell-store holds one of this size.
  const std::string marker = dir + "/shell-bench-events";
  std::string have;
  if (std::ifstream f(marker); f) std::getline(f, have);
  double gen_s = 0;
  if (have != std::to_string(o.events)) {
    std::filesystem::remove_all(dir);
    std::fprintf(stderr, "  shell: writing %" PRIu64 " agent events...\n", o.events);
    const int runs = static_cast<int>(std::max<uint64_t>(1, o.events / 2000));
    AgentStore gen = WriteAgentStore(dir, o.events, runs);
    if (!gen.error.empty()) return fail("generate: " + gen.error);
    gen_s = gen.seconds;
  }
  engine::EngineOptions eo;
  eo.durability.mode = log::Durability::Mode::kNone;
  eo.tail = false;
  std::fprintf(stderr, "  shell: opening (the first open folds every projection)...\n");
  const auto t_open = Clock::now();
  auto eng = engine::Engine::Open(dir, eo);
  const double open_s = SecondsSince(t_open);
  if (!eng.ok()) return fail(eng.status().ToString());
  engine::Engine& engine = **eng;
  std::ofstream(marker) << o.events << "\n";
  const uint64_t head = engine.log().LastLsn();

  query::EngineProvider provider(&engine);
  // Probes, read through the language itself (untimed): the middle event's stream and run.
  std::string stream, run;
  {
    query::Cancel cancel{false};
    const std::string q = "events | where lsn == " + std::to_string(head / 2);
    auto p = query::PrepareQuery(provider, q, &cancel);
    if (!p.ok() || !std::holds_alternative<query::Prepared>(*p)) return fail("probe query");
    query::Row r;
    auto more = std::get<query::Prepared>(*p).rows->Next(&r);
    if (!more.ok() || !*more) return fail("probe row");
    stream = r.value("stream", "");
    run = r.value("run", "");
  }
  const std::string n = std::to_string(head / 2);

  double load_s = 0;
  sqlite3* db = nullptr;
  std::string sq_path = dir + "/events.sqlite";
  if (o.sqlite) {
    // A kept store (--shell-store) keeps its SQLite file too, marked complete by a file naming
    // the head LSN it holds.
    const std::string done = sq_path + ".head";
    std::string loaded;
    if (std::ifstream f(done); f) std::getline(f, loaded);
    if (o.store.empty() || loaded != std::to_string(head)) {
      std::fprintf(stderr, "  shell: loading the events into SQLite...\n");
      std::filesystem::remove(done);
      if (std::string e = LoadSqlite(engine, sq_path, &load_s); !e.empty()) {
        return fail("sqlite load: " + e);
      }
      std::ofstream(done) << head << "\n";
    }
    if (sqlite3_open_v2(sq_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      return fail("sqlite3_open");
    }
    SqliteExec(db, "PRAGMA cache_size=-1048576; PRAGMA mmap_size=17179869184;");
  }

  struct Q {
    const char* group;
    std::string ours, sql;
    std::vector<std::string> args;
    bool scan;  // events/s = head / time
  };
  const std::string q_run = "'" + run + "'";
  const std::vector<Q> qs = {
      {"indexed", "events | where stream == '" + stream + "'",
       "SELECT * FROM events WHERE stream = ?1", {stream}, false},
      {"indexed", "events | where run == " + q_run + " | where type == 'task.failed'",
       "SELECT * FROM events WHERE run = ?1 AND type = 'task.failed'", {run}, false},
      {"indexed",
       "tasks as of " + n + " | where state == 'failed' | where run == " + q_run, "", {}, false},
      {"indexed", "tasks as of " + n + " | where state == 'failed' | count", "", {}, false},
      {"scan", "events | count", "SELECT count(*) AS count FROM events", {}, true},
      {"scan", "events | group by type",
       "SELECT type, count(*) AS count FROM events GROUP BY type", {}, true},
      {"scan", "events | where stream ~ '/task/' | count",
       "SELECT count(*) AS count FROM events WHERE instr(stream, '/task/') > 0", {}, true},
      {"scan", "events | group by run max(lsn) as last | count",
       "SELECT count(*) AS count FROM (SELECT run, max(lsn) FROM events GROUP BY run)", {}, true},
      {"scan", "events | where data.exit_code != 0 | count",
       "SELECT count(*) AS count FROM events WHERE json_extract(doc, '$.data.exit_code') != 0",
       {}, true},
  };

  line("\nshell: the query language on an agent-shaped store of %" PRIu64
       " events (%.2f GB of log);\n"
       "  store written in %.1f s, first open (every projection folded) %.1f s; SQLite load %.1f "
       "s\n  (one transaction + 3 indexes; 0: reused from an earlier run with --shell-store). Probes: stream %s, run %s, N = %s. %d runs each "
       "after a warm-up.\n",
       head, static_cast<double>(engine.log().Stats().bytes) / 1e9, gen_s, open_s, load_s,
       stream.c_str(), run.c_str(), n.c_str(), o.reps);
  line("%-8s %-62s %10s %10s %10s %12s %9s\n", "group", "query / system", "rows", "p50 ms",
       "min ms", "events/s", "ours/this");
  uint64_t mismatches = 0;
  std::string goals;
  for (const Q& q : qs) {
    std::fprintf(stderr, "  shell: %s\n", q.ours.c_str());
    Timing ours = Measure(o.reps, [&](uint64_t* rows, Json* a) {
      return OursQuery(provider, q.ours, rows, a);
    });
    auto row = [&](const std::string& name, const Timing& t, const Timing* vs) {
      char rate[32] = "-", ratio[32] = "";
      if (q.scan && t.p50_ms > 0) std::snprintf(rate, sizeof(rate), "%.0f", head / t.p50_ms * 1e3);
      if (vs && t.p50_ms > 0 && vs->p50_ms > 0) {
        std::snprintf(ratio, sizeof(ratio), "%.2fx", t.p50_ms / vs->p50_ms);
      }
      if (!t.error.empty()) {
        line("%-8s %-62s ERROR: %s\n", q.group, name.c_str(), t.error.c_str());
        return;
      }
      line("%-8s %-62s %10" PRIu64 " %10.3f %10.3f %12s %9s\n", q.group, name.c_str(), t.rows,
           t.p50_ms, t.min_ms, rate, ratio);
    };
    row(q.ours, ours, nullptr);
    if (ours.error.empty() && std::string(q.group) == "indexed") {
      char g[400];
      std::snprintf(g, sizeof(g), "  %-4s  indexed < 10 ms: %-58s p50 %.3f ms (%" PRIu64 " rows)\n",
                    ours.p50_ms < 10 ? "PASS" : "MISS", q.ours.c_str(), ours.p50_ms, ours.rows);
      goals += g;
    }
    if (ours.error.empty() && q.ours == "events | group by type") {
      const double rate = head / ours.p50_ms * 1e3;
      char g[400];
      std::snprintf(g, sizeof(g), "  %-4s  full-scan aggregate >= 5M events/s: %-40s %.2f M events/s\n",
                    rate >= 5e6 ? "PASS" : "MISS", q.ours.c_str(), rate / 1e6);
      goals += g;
    }
    if (db == nullptr || q.sql.empty()) continue;
    Timing sq = Measure(o.reps, [&](uint64_t* rows, Json* a) {
      return SqliteQuery(db, q.sql, q.args, rows, a);
    });
    row("  sqlite: " + q.sql, sq, &ours);
    if (ours.error.empty() && sq.error.empty() && (ours.rows != sq.rows || ours.answer != sq.answer)) {
      ++mismatches;
      line("         ^ answers differ: ours %" PRIu64 " rows %s, sqlite %" PRIu64 " rows %s\n",
           ours.rows, ours.answer.dump().substr(0, 120).c_str(), sq.rows,
           sq.answer.dump().substr(0, 120).c_str());
    }
  }
  line("ours/this: SQLite's p50 / ours (above 1: ours is faster). events/s: events in the store /"
       " p50.\n  Answers compared: %" PRIu64 " differ. Peak RSS of the process: %ld MiB.\n",
       mismatches, MaxRssMiB());
  out += "shell goals (information only, never a failure):\n" + goals;
  if (db != nullptr) sqlite3_close(db);
  if (o.store.empty()) std::filesystem::remove(sq_path);  // the scratch directory goes anyway
  return out;
}

std::string SqliteExec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    return e;
  }
  return "";
}

}  // namespace tink::bench
