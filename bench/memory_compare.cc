// tink_compare's "memory" class: the bitemporal semantic memory graph (projections/memory.h,
// MemoryReader) against SQLite holding the same graph in adjacency tables queried with recursive
// CTEs. Both answer the same random probes; every answer is compared, and a mismatch is printed
// loudly (stderr and the table's check column), never asserted.
//
// The workload (deterministic, --memory-seed): --memory-nodes N nodes (memory.node, 1-2 labels
// of 6, props {name, v}), then --memory-edges M edge creations (memory.edge, id left to the
// projection: "src|rel|dst", one of 8 rels, props {w, v}; 30% with a valid_from in 2020-2025, 40%
// of those also a valid_to), interleaved with churn: per edge creation, on average 0.10 edge
// replacements (same src/rel/dst, new props and valid time), 0.03 edge retractions, 0.05 node
// replacements (new props, sometimes new labels) and 0.0002 node retractions (each also retracts
// every live edge at the node). Sources are uniform over live nodes (out-degree ~Poisson(M/N));
// destinations are drawn with weight (rank+1)^-skew over a random ranking of the nodes
// (--memory-skew, 0.3 by default: a mild power law, the biggest in-degree ~20x the mean; 0:
// uniform). No self-loops, no duplicate (src, rel, dst), no edge at a retracted node, so a
// replay records no anomaly (checked). Events go through engine::Engine::Append (projections off,
// durability none, batches of 1024), then Engine::Replay("memory") folds them (timed).
// With --memory-store DIR the store and the SQLite file are kept in DIR and reused by later runs
// with the same flags (the append, and the replay if the projection is at the head, are skipped;
// delete DIR/store/state to time the replay again).
//
// SQLite (WAL, default page cache), loaded from the generator's own model of the graph, not from
// our projection, so the comparison also checks the projection:
//   nodes(id PRIMARY KEY, labels, props): live nodes at the head
//   edges(eid, src, rel, dst, valid_from, valid_to, props): live edges at the head; indexes on
//       (src) and (dst)
//   nodes_asof(id, lsn_from, lsn_to, labels, props): every node version; index (id, lsn_from)
//   edges_asof(eid, src, rel, dst, lsn_from, lsn_to, valid_from, valid_to, props): every edge
//       version; indexes on (src) and (dst)
// A version holds for lsn_from <= X < lsn_to (a replacement or a retraction ends it).
//
// SQLite's Bloom-filter join optimisation is switched off on the query connection (see
// LoadSqlite's caller: with it, the valid-time query took 0.5 s instead of ~1 ms).
//
// Queries (ours through one StateReader; SQLite one prepared statement per query). Each query
// runs 50 warm-up probes on both sides, then the measured probes, alternating ours and SQLite
// probe by probe (a slow spell of a shared machine hits both); latency is per call, including
// materialising the answer (ours: MemNode/MemEdge; SQLite: every column read as text).
//   neighbours depth 2, out / both       Neighbors(start, 2) at the head vs a recursive CTE (UNION
//                                        on (id, depth)) joined with nodes; random live starts
//   neighbours depth 2, both, hubs       the same from the 50 nodes of highest degree (in + out)
//   shortest path, random pairs          ShortestPath(from, to, --memory-path-depth, out) vs a
//                                        bidirectional CTE (forward ceil(d/2), backward floor(d/2)
//                                        hops, MIN(df + db) over meeting nodes): length only
//   Node as of X, Edges (both) as of X   random node, X uniform in [1, head] / [N+1, head]
//   neighbours depth 2, out, as of X     X uniform in [N+1, head] (after the nodes), the start
//                                        live at X
//   neighbours depth 2, out, valid at T  at the head, T uniform in 2020-2025
#include <sqlite3.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <unordered_map>

#include "bench/agent_workload.h"
#include "bench/compare.h"
#include "bench/memory_workload.h"
#include "engine/engine.h"
#include "projections/memory.h"
#include "schema/schema.h"

namespace tink::bench {

namespace {

using Clock = std::chrono::steady_clock;
using projections::Direction;
using projections::GraphAt;
using projections::Lsn;
namespace pj = projections;
using memwork::kOpen;
using memwork::kRels;
using memwork::kSec;
using memwork::kT2020;
using memwork::kT2026;
using memwork::NodeVer;
using memwork::EdgeVer;
using memwork::GNode;
using memwork::GEdge;
using memwork::NodeId;
using memwork::EdgeId;
using memwork::NodeProps;
using memwork::EdgeProps;
using memwork::GenStats;
using memwork::Graph;

// ---- Answers, compared across the two systems -----------------------------------------------

// A neighbour set, an edge list, a path length or a node, canonicalised as text; compared as is.
using Answer = std::string;

std::string CanonNeighbors(std::vector<std::pair<int, std::string>> v) {
  std::sort(v.begin(), v.end());
  std::string s = std::to_string(v.size()) + ":";
  for (const auto& [d, id] : v) {
    s += std::to_string(d) + id + ";";
  }
  return s;
}
std::string CanonProps(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  return j.is_discarded() ? "<bad json " + std::string(json) + ">" : j.dump();
}

// ---- Timing ---------------------------------------------------------------------------------

struct Timed {
  std::vector<double> us;
  double seconds = 0;
  std::string error;
};

// Runs f1(i) and f2(i) for the warm-up indexes [0, warm) untimed, then times [warm, n) one by
// one, alternating the two systems probe by probe, so that a slow spell of a shared machine
// lands on both rather than on whichever ran then. A Timed's seconds are the sum of its own
// operations' times.
template <typename F1, typename F2>
std::pair<Timed, Timed> TimeBoth(size_t warm, size_t n, F1&& f1, F2&& f2) {
  std::pair<Timed, Timed> out;
  Timed* t[2] = {&out.first, &out.second};
  auto run = [&](int k, size_t i, bool timed) {
    if (!t[k]->error.empty()) {
      return;
    }
    const auto a = Clock::now();
    std::string e = k == 0 ? f1(i) : f2(i);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - a).count();
    if (!e.empty()) {
      t[k]->error = std::move(e);
    } else if (timed) {
      t[k]->us.push_back(us);
      t[k]->seconds += us / 1e6;
    }
  };
  for (size_t i = 0; i < warm && i < n; ++i) {
    run(0, i, false);
    run(1, i, false);
  }
  for (size_t i = warm; i < n; ++i) {
    run(0, i, true);
    run(1, i, true);
  }
  return out;
}

Row ToRow(const std::string& group, const std::string& name, const Timed& t) {
  Row r;
  r.group = group;
  r.name = name;
  r.rate = {t.us.size(), t.seconds, t.error};
  const Percentiles pc = Percentiles::Of(t.us);
  r.p50_us = pc.p50;
  r.p99_us = pc.p99;
  r.max_us = pc.max;
  return r;
}

// ---- SQLite ---------------------------------------------------------------------------------

class Sql {
 public:
  explicit Sql(sqlite3* db) : db_(db) {}
  ~Sql() {
    for (auto* s : stmts_) {
      sqlite3_finalize(s);
    }
  }
  std::string Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string e = std::string("sqlite: ") + (err ? err : "?");
      sqlite3_free(err);
      return e;
    }
    return "";
  }
  sqlite3_stmt* Prepare(const std::string& sql, std::string* error) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      *error = std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in " + sql;
      return nullptr;
    }
    stmts_.push_back(s);
    return s;
  }
  std::string Err() const { return std::string("sqlite: ") + sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  std::vector<sqlite3_stmt*> stmts_;
};

void Bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
std::string Col(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

// Loads the model into SQLite (one transaction per table, indexes built after). Returns rows.
std::string LoadSqlite(Sql& sql, const Graph& g, uint64_t* rows) {
  std::string err = sql.Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
      "CREATE TABLE nodes(id TEXT PRIMARY KEY, labels TEXT, props TEXT);"
      "CREATE TABLE edges(eid TEXT, src TEXT, rel TEXT, dst TEXT, valid_from INTEGER, "
      "valid_to INTEGER, props TEXT);"
      "CREATE TABLE nodes_asof(id TEXT, lsn_from INTEGER, lsn_to INTEGER, labels TEXT, props TEXT);"
      "CREATE TABLE edges_asof(eid TEXT, src TEXT, rel TEXT, dst TEXT, lsn_from INTEGER, "
      "lsn_to INTEGER, valid_from INTEGER, valid_to INTEGER, props TEXT);");
  if (!err.empty()) {
    return err;
  }
  sqlite3_stmt* in_node = sql.Prepare("INSERT INTO nodes VALUES(?,?,?)", &err);
  sqlite3_stmt* in_edge = sql.Prepare("INSERT INTO edges VALUES(?,?,?,?,?,?,?)", &err);
  sqlite3_stmt* in_node_v = sql.Prepare("INSERT INTO nodes_asof VALUES(?,?,?,?,?)", &err);
  sqlite3_stmt* in_edge_v = sql.Prepare("INSERT INTO edges_asof VALUES(?,?,?,?,?,?,?,?,?)", &err);
  if (!err.empty()) {
    return err;
  }
  auto step = [&](sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    ++*rows;
    return rc == SQLITE_DONE ? std::string() : sql.Err();
  };
  if (err = sql.Exec("BEGIN"); !err.empty()) {
    return err;
  }
  for (uint32_t n = 0; n < g.nodes().size(); ++n) {
    const GNode& node = g.nodes()[n];
    const std::string id = NodeId(n);
    Bind(in_node_v, 1, id);
    for (const NodeVer& v : node.vers) {
      const std::string props = NodeProps(n, v.v);
      sqlite3_bind_int64(in_node_v, 2, v.from);
      sqlite3_bind_int64(in_node_v, 3, v.to);
      Bind(in_node_v, 4, v.labels);
      Bind(in_node_v, 5, props);
      if (err = step(in_node_v); !err.empty()) {
        return err;
      }
      if (v.to == kOpen) {
        Bind(in_node, 1, id);
        Bind(in_node, 2, v.labels);
        Bind(in_node, 3, props);
        if (err = step(in_node); !err.empty()) {
          return err;
        }
      }
    }
  }
  for (const GEdge& e : g.edges()) {
    const std::string eid = EdgeId(e), src = NodeId(e.src), dst = NodeId(e.dst);
    const std::string rel = kRels[e.rel];
    for (const EdgeVer& v : e.vers) {
      const std::string props = EdgeProps(v.w, v.v);
      Bind(in_edge_v, 1, eid);
      Bind(in_edge_v, 2, src);
      Bind(in_edge_v, 3, rel);
      Bind(in_edge_v, 4, dst);
      sqlite3_bind_int64(in_edge_v, 5, v.from);
      sqlite3_bind_int64(in_edge_v, 6, v.to);
      sqlite3_bind_int64(in_edge_v, 7, v.valid_from);
      sqlite3_bind_int64(in_edge_v, 8, v.valid_to);
      Bind(in_edge_v, 9, props);
      if (err = step(in_edge_v); !err.empty()) {
        return err;
      }
      if (v.to == kOpen) {
        Bind(in_edge, 1, eid);
        Bind(in_edge, 2, src);
        Bind(in_edge, 3, rel);
        Bind(in_edge, 4, dst);
        sqlite3_bind_int64(in_edge, 5, v.valid_from);
        sqlite3_bind_int64(in_edge, 6, v.valid_to);
        Bind(in_edge, 7, props);
        if (err = step(in_edge); !err.empty()) {
          return err;
        }
      }
    }
  }
  return sql.Exec(
      "COMMIT;"
      "CREATE INDEX edges_src ON edges(src); CREATE INDEX edges_dst ON edges(dst);"
      "CREATE INDEX nodes_asof_id ON nodes_asof(id, lsn_from);"
      "CREATE INDEX edges_asof_src ON edges_asof(src);"
      "CREATE INDEX edges_asof_dst ON edges_asof(dst);"
      "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
}

// The recursive CTE of the neighbour queries. `edges` is the table, `cond` an extra condition on
// e (the as-of or valid-time filter, using ?3), `both` adds the in-edge step.
std::string NeighborsSql(const char* edges, const char* nodes, const std::string& cond,
                         const std::string& node_cond, bool both) {
  std::string s = std::string(
                      "WITH RECURSIVE r(id, d) AS (SELECT ?1, 0 UNION SELECT e.dst, r.d + 1 "
                      "FROM r JOIN ") +
                  edges + " e ON e.src = r.id WHERE r.d < ?2" + cond;
  if (both) {
    s += std::string(" UNION SELECT e.src, r.d + 1 FROM r JOIN ") + edges +
         " e ON e.dst = r.id WHERE r.d < ?2" + cond;
  }
  // Aggregate first, then look each node up (CROSS JOIN keeps that order: left to itself, the
  // planner may scan the whole node table in id order to save the GROUP BY's sort).
  s += std::string(
           ") SELECT n.id, m.d, n.labels, n.props FROM (SELECT id, MIN(d) AS d FROM r "
           "WHERE id <> ?1 GROUP BY id) m CROSS JOIN ") +
       nodes + " n ON n.id = m.id" + node_cond + " ORDER BY m.d, m.id";
  return s;
}

std::string Pct(const std::vector<double>& v) {
  const Percentiles p = Percentiles::Of(v);
  char b[96];
  std::snprintf(b, sizeof(b), "p50/p99/max %.0f/%.0f/%.0f", p.p50, p.p99, p.max);
  return b;
}

}  // namespace

std::vector<Row> MemoryCompare(const std::string& dir, const MemoryOptions& o, std::string* setup) {
  std::vector<Row> rows;
  auto fail = [&](const std::string& what) {
    Row r;
    r.group = "load";
    r.name = "tinkerbell memory";
    r.rate.error = what;
    rows.push_back(r);
    std::fprintf(stderr, "  memory: ERROR %s\n", what.c_str());
    return rows;
  };
  auto say = [](const std::string& s) { std::fprintf(stderr, "  memory: %s\n", s.c_str()); };

  // 1. Generate and append through the engine (log only, durability none).
  const std::string store = dir + "/store";
  const bool reuse_store = std::filesystem::exists(engine::LogDir(store));
  Graph g(o);
  double gen_s = 0, append_s = 0;
  uint64_t payload_bytes = 0;
  {
    std::unique_ptr<engine::Engine> eng;
    if (!reuse_store) {
      engine::EngineOptions eo;
      eo.durability.mode = log::Durability::Mode::kNone;
      eo.projections = false;
      eo.tail = false;
      auto e = engine::Engine::Open(store, eo);
      if (!e.ok()) {
        return fail("open: " + e.status().ToString());
      }
      eng = std::move(e).value();
    } else {
      say("reusing the store in " + store + " (only the model is generated)");
    }
    std::vector<schema::EventInput> batch;
    Lsn next = 1;
    bool more = true;
    while (more) {
      auto t0 = Clock::now();
      batch.clear();
      while (batch.size() < 1024) {
        schema::EventInput e;
        if (!(more = g.Next(next + batch.size(), &e))) {
          break;
        }
        payload_bytes += e.data_json.size();
        batch.push_back(std::move(e));
      }
      gen_s += SecondsSince(t0);
      if (batch.empty()) {
        break;
      }
      if (eng) {
        t0 = Clock::now();
        auto out = eng->Append(batch);
        append_s += SecondsSince(t0);
        if (!out.ok()) {
          return fail("append: " + out.status().ToString());
        }
        if (out->lsns.front() != next) {
          return fail("append: expected LSN " + std::to_string(next) + ", got " +
                      std::to_string(out->lsns.front()));
        }
      }
      next += batch.size();
      if ((next / 1024) % 128 == 0) {
        std::fprintf(stderr, "\r  memory: %s %" PRIu64 " events", eng ? "appended" : "generated",
                     next - 1);
      }
    }
    std::fprintf(stderr, "\n");
    if (eng) {
      const auto t0 = Clock::now();
      if (Status s = eng->Close(); !s.ok()) {
        return fail("close: " + s.ToString());
      }
      append_s += SecondsSince(t0);
    }
  }
  const GenStats st = g.stats();
  if (!reuse_store) {
    Row r;
    r.group = "load";
    r.name = "tinkerbell Engine::Append, log only, none";
    r.rate = {st.events, append_s, ""};
    char d[200];
    std::snprintf(d, sizeof(d),
                  "batches of 1024 (validate + encode + log), %.1f s; generating the events took "
                  "%.1f s more; data JSON %.0f B/event",
                  append_s, gen_s, static_cast<double>(payload_bytes) / st.events);
    r.detail = d;
    rows.push_back(r);
    say("append " + std::to_string(static_cast<uint64_t>(st.events / append_s)) + " events/s");
  }

  // 2. Fold: Engine::Replay("memory") (apply, then the compaction it ends with). A reused store
  // whose projection is already at the head is not replayed again.
  engine::EngineOptions qo;
  qo.durability.mode = log::Durability::Mode::kNone;
  qo.catch_up = false;
  qo.tail = false;
  auto eng_r = engine::Engine::Open(store, qo);
  if (!eng_r.ok()) {
    return fail("open: " + eng_r.status().ToString());
  }
  std::unique_ptr<engine::Engine> eng = std::move(eng_r).value();
  if (eng->log().LastLsn() != st.events) {
    return fail("the store's log has " + std::to_string(eng->log().LastLsn()) +
                " events, the workload " + std::to_string(st.events) +
                " (a reused store made with other --memory-* flags?)");
  }
  bool replay = true;
  if (reuse_store) {
    auto r = eng->NewReader();
    replay = !r.ok() || (*r)->applied("memory") != st.events;
  }
  if (replay) {
    double apply_s = 0;
    const auto t0 = Clock::now();
    Status s = eng->Replay("memory", 0, [&](uint64_t done, uint64_t total) {
      if (done == total) {
        apply_s = SecondsSince(t0);
      }
    });
    const double all_s = SecondsSince(t0);
    if (!s.ok()) {
      return fail("replay: " + s.ToString());
    }
    if (apply_s == 0) {
      apply_s = all_s;
    }
    Row r;
    r.group = "load";
    r.name = "tinkerbell Replay(memory), apply";
    r.rate = {st.events, apply_s, ""};
    char d[160];
    std::snprintf(d, sizeof(d),
                  "apply %.1f s; with the compaction Replay ends with %.1f s (%.0f events/s)",
                  apply_s, all_s, st.events / all_s);
    r.detail = d;
    rows.push_back(r);
    // The whole Replay (the last ingest of its bulk load and its compaction included): issue 16
    // row 4's number.
    Row whole = r;
    whole.name = "tinkerbell Replay(memory), whole";
    whole.rate = {st.events, all_s, ""};
    whole.detail = "Engine::Replay(\"memory\") from call to return";
    rows.push_back(whole);
    say(std::string("replay ") + d);
  } else {
    say("the memory projection is at the head already: not replayed");
  }
  auto reader_r = eng->NewReader();
  if (!reader_r.ok()) {
    return fail("reader: " + reader_r.status().ToString());
  }
  std::unique_ptr<pj::StateReader> reader = std::move(reader_r).value();
  pj::MemoryReader mr(*reader);
  const Lsn head = mr.head();
  if (head != st.events) {
    say("WARNING: the projection's head is LSN " + std::to_string(head) + ", the log has " +
        std::to_string(st.events) + " events");
  }
  std::string anomalies_note = "none";
  if (auto an = mr.Anomalies(head); !an.ok()) {
    return fail("anomalies: " + an.status().ToString());
  } else if (!an->empty()) {
    anomalies_note = std::to_string(an->size()) + " (expected none)";
    std::fprintf(stderr,
                 "  memory: MISMATCH the replay recorded %zu anomalies, the workload has none; "
                 "first: lsn %" PRIu64 " %s %s: %s\n",
                 an->size(), (*an)[0].lsn, (*an)[0].type.c_str(), (*an)[0].target.c_str(),
                 (*an)[0].reason.c_str());
  }
  std::string levels;
  {
    rocksdb::DB* rdb = reader->store()->db();
    std::string v;
    for (int l = 0; l < 7; ++l) {
      if (rdb->GetProperty(reader->store()->cf("memory"),
                           "rocksdb.num-files-at-level" + std::to_string(l), &v)) {
        levels += (l ? "/" : "") + v;
      }
    }
    if (rdb->GetProperty(reader->store()->cf("memory"), "rocksdb.total-sst-files-size", &v)) {
      levels += ", " + std::to_string(std::stoull(v) >> 20) + " MiB of SST";
    }
  }

  // 3. SQLite, from the generator's model.
  const std::string db_path = dir + "/memory.sqlite";
  const bool reuse_db = std::filesystem::exists(db_path) && reuse_store;
  if (!reuse_db) {
    std::filesystem::remove(db_path);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    return fail("sqlite3_open");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_closer(db, sqlite3_close);
  uint64_t sql_rows = 0;
  if (reuse_db) {
    say("reusing " + db_path);
  } else {
    Sql load(db);
    const auto t0 = Clock::now();
    if (std::string e = LoadSqlite(load, g, &sql_rows); !e.empty()) {
      return fail(e);
    }
    Row r;
    r.group = "load";
    r.name = "sqlite INSERT + CREATE INDEX + ANALYZE";
    r.rate = {sql_rows, SecondsSince(t0), ""};
    char d[200];
    std::snprintf(d, sizeof(d),
                  "%" PRIu64
                  " rows in 4 tables (1 transaction, synchronous=OFF) and 5 indexes, "
                  "%.1f s, %.0f MiB",
                  sql_rows, r.rate.seconds, std::filesystem::file_size(db_path) / 1048576.0);
    r.detail = d;
    rows.push_back(r);
    say(std::string("sqlite ") + d);
  }
  // SQLite >= 3.38 may put a Bloom filter on `edges` in the recursive step when the join has
  // extra conditions (the valid-time filter): it is built by scanning the whole table, on every
  // run of the statement (measured: 0.5 s per query instead of ~1 ms). Off for this connection
  // (SQLITE_BloomFilter, 0x00080000, of SQLITE_TESTCTRL_OPTIMIZATIONS), so SQLite gets its best
  // plan: an index lookup per expanded node.
  sqlite3_test_control(SQLITE_TESTCTRL_OPTIMIZATIONS, db, 0x00080000);
  Sql sql(db);
  std::string perr;

  // Degrees at the head (model).
  std::vector<double> outdeg(o.nodes, 0), indeg(o.nodes, 0);
  uint64_t live_edges = 0, live_nodes = 0;
  for (const GEdge& e : g.edges()) {
    if (e.live) {
      outdeg[e.src]++;
      indeg[e.dst]++;
      ++live_edges;
    }
  }
  for (const GNode& n : g.nodes()) {
    live_nodes += n.live;
  }
  std::vector<uint32_t> hubs(o.nodes);
  std::iota(hubs.begin(), hubs.end(), 0);
  std::partial_sort(
      hubs.begin(), hubs.begin() + std::min<size_t>(50, hubs.size()), hubs.end(),
      [&](uint32_t a, uint32_t b) { return indeg[a] + outdeg[a] > indeg[b] + outdeg[b]; });
  hubs.resize(std::min<size_t>(50, hubs.size()));

  std::mt19937_64& rng = g.rng();
  const GraphAt at_head{head, std::nullopt};
  const size_t warm = 50;
  const uint64_t np = o.probes;

  // Runs one query on both systems over the same probes (warm-up probes first on each), compares
  // every answer and adds the two rows.
  // `canon` (optional) rewrites an answer into its canonical form after the timing.
  using Fn = std::function<std::string(size_t, Answer*)>;
  auto compare = [&](const std::string& group, size_t n, const Fn& ours,
                     const std::string& sqlite_name, const Fn& theirs,
                     const std::function<std::string(const std::vector<Answer>&)>& describe,
                     const std::function<void(Answer*)>& canon = nullptr) {
    say(group + "...");
    std::vector<Answer> a(n + warm), b(n + warm);
    auto [t1, t2] = TimeBoth(
        warm, n + warm, [&](size_t i) { return ours(i, &a[i]); },
        [&](size_t i) { return theirs(i, &b[i]); });
    if (canon) {
      for (Answer& x : a) {
        canon(&x);
      }
      for (Answer& x : b) {
        canon(&x);
      }
    }
    Row r1 = ToRow(group, "tinkerbell", t1), r2 = ToRow(group, sqlite_name, t2);
    uint64_t bad = 0;
    for (size_t i = 0; i < a.size() && t1.error.empty() && t2.error.empty(); ++i) {
      if (a[i] != b[i]) {
        if (++bad <= 3) {
          std::fprintf(
              stderr, "  memory: MISMATCH %s, probe %zu:\n    ours:   %.300s\n    sqlite: %.300s\n",
              group.c_str(), i, a[i].c_str(), b[i].c_str());
        }
      }
    }
    r1.checked = r2.checked = t1.error.empty() && t2.error.empty() ? a.size() : 0;
    r1.mismatched = r2.mismatched = bad;
    if (bad) {
      std::fprintf(stderr, "  memory: MISMATCH %s: %" PRIu64 " of %zu answers differ\n",
                   group.c_str(), bad, a.size());
    }
    r1.detail = Pct(t1.us) + " us" + (describe ? "; " + describe(a) : "");
    r2.detail = Pct(t2.us) + " us";
    rows.push_back(r1);
    rows.push_back(r2);
    std::fprintf(stderr, "  memory:   ours p50/p99 %.0f/%.0f us, sqlite %.0f/%.0f us%s%s\n",
                 r1.p50_us, r1.p99_us, r2.p50_us, r2.p99_us,
                 r1.rate.error.empty() ? "" : ("  ours ERROR " + r1.rate.error).c_str(),
                 r2.rate.error.empty() ? "" : ("  sqlite ERROR " + r2.rate.error).c_str());
  };
  // Answer sizes: "results p50/p99/max a/b/c" from the leading count of canonical neighbour sets.
  auto sizes = [](const std::vector<Answer>& v) {
    std::vector<double> n;
    for (const Answer& a : v) {
      n.push_back(std::atof(a.c_str()));
    }
    const Percentiles p = Percentiles::Of(n);
    char b[96];
    std::snprintf(b, sizeof(b), "results p50/p99/max %.0f/%.0f/%.0f", p.p50, p.p99, p.max);
    return std::string(b);
  };

  auto ours_neighbors = [&](const std::string& start, pj::Direction dir, const GraphAt& at,
                            Answer* out) -> std::string {
    auto r = mr.Neighbors(start, 2, pj::Expand{dir, {}}, {}, at);
    if (!r.ok()) {
      return r.status().ToString();
    }
    std::vector<std::pair<int, std::string>> v;
    v.reserve(r->size());
    for (const pj::Neighbor& n : *r) {
      v.emplace_back(n.depth, n.node.id);
    }
    *out = CanonNeighbors(std::move(v));
    return "";
  };
  auto sqlite_neighbors = [&](sqlite3_stmt* s, const std::string& start, std::optional<int64_t> x,
                              Answer* out) -> std::string {
    Bind(s, 1, start);
    sqlite3_bind_int(s, 2, 2);
    if (x) {
      sqlite3_bind_int64(s, 3, *x);
    }
    std::vector<std::pair<int, std::string>> v;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      v.emplace_back(sqlite3_column_int(s, 1), Col(s, 0));
      // labels and props are read, as ours materialises whole nodes.
      (void)Col(s, 2);
      (void)Col(s, 3);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      return sql.Err();
    }
    *out = CanonNeighbors(std::move(v));
    return "";
  };

  // Start nodes, uniform over live nodes at the head.
  std::vector<std::string> starts(np + warm);
  for (auto& s : starts) {
    s = NodeId(g.RandomLiveNode());
  }

  sqlite3_stmt* q_out = sql.Prepare(NeighborsSql("edges", "nodes", "", "", false), &perr);
  sqlite3_stmt* q_both = sql.Prepare(NeighborsSql("edges", "nodes", "", "", true), &perr);
  sqlite3_stmt* q_valid = sql.Prepare(
      NeighborsSql("edges", "nodes", " AND e.valid_from <= ?3 AND ?3 < e.valid_to", "", false),
      &perr);
  sqlite3_stmt* q_asof = sql.Prepare(
      NeighborsSql("edges_asof", "nodes_asof", " AND e.lsn_from <= ?3 AND ?3 < e.lsn_to",
                   " AND n.lsn_from <= ?3 AND ?3 < n.lsn_to", false),
      &perr);
  sqlite3_stmt* q_path = sql.Prepare(
      "WITH RECURSIVE "
      "f(id, d) AS (SELECT ?1, 0 UNION SELECT e.dst, f.d + 1 FROM f JOIN edges e ON e.src = f.id "
      "WHERE f.d < ?3), "
      "b(id, d) AS (SELECT ?2, 0 UNION SELECT e.src, b.d + 1 FROM b JOIN edges e ON e.dst = b.id "
      "WHERE b.d < ?4) "
      "SELECT MIN(f.d + b.d) FROM f JOIN b ON f.id = b.id",
      &perr);
  sqlite3_stmt* q_node = sql.Prepare(
      "SELECT labels, props FROM nodes_asof WHERE id = ?1 AND lsn_from <= ?2 AND ?2 < lsn_to",
      &perr);
  sqlite3_stmt* q_edges = sql.Prepare(
      "SELECT eid, src, rel, dst, valid_from, valid_to, props FROM edges_asof "
      "WHERE src = ?1 AND lsn_from <= ?2 AND ?2 < lsn_to UNION ALL "
      "SELECT eid, src, rel, dst, valid_from, valid_to, props FROM edges_asof "
      "WHERE dst = ?1 AND lsn_from <= ?2 AND ?2 < lsn_to",
      &perr);
  if (!perr.empty()) {
    return fail(perr);
  }

  compare(
      "neighbours depth 2, out", np,
      [&](size_t i, Answer* a) { return ours_neighbors(starts[i], Direction::kOut, at_head, a); },
      "sqlite recursive CTE",
      [&](size_t i, Answer* a) { return sqlite_neighbors(q_out, starts[i], std::nullopt, a); },
      sizes);
  compare(
      "neighbours depth 2, both", np,
      [&](size_t i, Answer* a) { return ours_neighbors(starts[i], Direction::kBoth, at_head, a); },
      "sqlite recursive CTE",
      [&](size_t i, Answer* a) { return sqlite_neighbors(q_both, starts[i], std::nullopt, a); },
      sizes);
  {
    // The hubs: the 50 nodes of highest degree, each once (warm-up: the first 50 random starts).
    std::vector<std::string> hs(starts.begin(), starts.begin() + warm);
    for (uint32_t h : hubs) {
      hs.push_back(NodeId(h));
    }
    compare(
        "neighbours depth 2, both, top-50 hubs", hs.size() - warm,
        [&](size_t i, Answer* a) { return ours_neighbors(hs[i], Direction::kBoth, at_head, a); },
        "sqlite recursive CTE",
        [&](size_t i, Answer* a) { return sqlite_neighbors(q_both, hs[i], std::nullopt, a); },
        sizes);
  }

  // Shortest paths between random live pairs.
  {
    const uint64_t n = std::max<uint64_t>(20, np / 4);
    std::vector<std::pair<std::string, std::string>> pairs(n + warm);
    for (auto& [f, t] : pairs) {
      const uint32_t a = g.RandomLiveNode();
      uint32_t b;
      do {
        b = g.RandomLiveNode();
      } while (b == a);
      f = NodeId(a);
      t = NodeId(b);
    }
    const int depth = o.path_depth;
    uint64_t bad_paths = 0;
    compare(
        "shortest path, random pairs, out, max " + std::to_string(depth), n,
        [&](size_t i, Answer* a) -> std::string {
          auto r = mr.ShortestPath(pairs[i].first, pairs[i].second, depth,
                                   pj::Expand{Direction::kOut, {}}, at_head);
          if (!r.ok()) {
            return r.status().ToString();
          }
          if (!*r) {
            *a = "none";
            return "";
          }
          // The path must chain from -> to.
          std::string at = pairs[i].first;
          for (const pj::MemEdge& e : **r) {
            if (e.src != at) {
              ++bad_paths;
            }
            at = e.dst;
          }
          if (at != pairs[i].second) {
            ++bad_paths;
          }
          *a = std::to_string((*r)->size());
          return "";
        },
        "sqlite bidirectional recursive CTE",
        [&](size_t i, Answer* a) -> std::string {
          Bind(q_path, 1, pairs[i].first);
          Bind(q_path, 2, pairs[i].second);
          sqlite3_bind_int(q_path, 3, (depth + 1) / 2);
          sqlite3_bind_int(q_path, 4, depth / 2);
          const int rc = sqlite3_step(q_path);
          if (rc != SQLITE_ROW) {
            sqlite3_reset(q_path);
            return sql.Err();
          }
          *a = sqlite3_column_type(q_path, 0) == SQLITE_NULL
                   ? "none"
                   : std::to_string(sqlite3_column_int(q_path, 0));
          sqlite3_reset(q_path);
          return "";
        },
        [&](const std::vector<Answer>& v) {
          std::map<std::string, int> hist;
          for (const Answer& a : v) {
            hist[a]++;
          }
          std::string s = "path lengths";
          for (const auto& [k, c] : hist) {
            s += " " + k + ":" + std::to_string(c);
          }
          if (bad_paths) {
            std::fprintf(stderr, "  memory: MISMATCH %" PRIu64 " of our paths do not chain\n",
                         bad_paths);
            s += "; " + std::to_string(bad_paths) + " BROKEN paths";
          }
          return s;
        });
  }

  // As-of lookups.
  {
    const uint64_t n = np * 10;
    std::vector<std::pair<uint32_t, int64_t>> probes(n + warm);
    for (auto& [node, x] : probes) {
      node = static_cast<uint32_t>(rng() % o.nodes);
      x = 1 + static_cast<int64_t>(rng() % head);
    }
    uint64_t found = 0;
    compare(
        "Node as of a random LSN", n,
        [&](size_t i, Answer* a) -> std::string {
          auto r =
              mr.Node(NodeId(probes[i].first), GraphAt{static_cast<Lsn>(probes[i].second), {}});
          if (!r.ok()) {
            return r.status().ToString();
          }
          if (!*r) {
            *a = "none";
            return "";
          }
          std::string labels;
          for (const std::string& l : (*r)->labels) {
            labels += (labels.empty() ? "" : ",") + l;
          }
          *a = labels + " " + (*r)->props;  // canonicalised after timing
          return "";
        },
        "sqlite index (id, lsn_from)",
        [&](size_t i, Answer* a) -> std::string {
          const std::string id = NodeId(probes[i].first);
          Bind(q_node, 1, id);
          sqlite3_bind_int64(q_node, 2, probes[i].second);
          const int rc = sqlite3_step(q_node);
          *a = rc == SQLITE_ROW ? Col(q_node, 0) + " " + Col(q_node, 1) : "none";
          sqlite3_reset(q_node);
          return rc == SQLITE_ROW || rc == SQLITE_DONE ? "" : sql.Err();
        },
        [&](const std::vector<Answer>& v) {
          for (const Answer& a : v) {
            found += a != "none";
          }
          return std::to_string(found) + " of " + std::to_string(v.size()) + " found";
        },
        [](Answer* a) {
          const size_t sp = a->find(' ');
          if (sp != std::string::npos) {
            *a = a->substr(0, sp) + " " + CanonProps(a->substr(sp + 1));
          }
        });
  }
  {
    const uint64_t n = np * 5;
    std::vector<std::pair<std::string, int64_t>> probes(n + warm);
    for (auto& [node, x] : probes) {
      node = NodeId(static_cast<uint32_t>(rng() % o.nodes));
      x = static_cast<int64_t>(o.nodes) + 1 + static_cast<int64_t>(rng() % (head - o.nodes));
    }
    auto canon_edges = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      std::string s = std::to_string(v.size()) + ":";
      for (const auto& x : v) {
        s += x + ";";
      }
      return s;
    };
    compare(
        "Edges (both) as of a random LSN", n,
        [&](size_t i, Answer* a) -> std::string {
          auto r = mr.Edges(probes[i].first, pj::Expand{Direction::kBoth, {}},
                            GraphAt{static_cast<Lsn>(probes[i].second), {}});
          if (!r.ok()) {
            return r.status().ToString();
          }
          a->clear();
          for (const pj::MemEdge& e : *r) {
            *a += e.id + " " + std::to_string(e.valid_from) + " " + std::to_string(e.valid_to) +
                  "\t" + e.props + "\n";
          }
          return "";
        },
        "sqlite index (src), (dst)",
        [&](size_t i, Answer* a) -> std::string {
          Bind(q_edges, 1, probes[i].first);
          sqlite3_bind_int64(q_edges, 2, probes[i].second);
          a->clear();
          int rc;
          while ((rc = sqlite3_step(q_edges)) == SQLITE_ROW) {
            *a += Col(q_edges, 0) + " " + std::to_string(sqlite3_column_int64(q_edges, 4)) + " " +
                  std::to_string(sqlite3_column_int64(q_edges, 5)) + "\t" + Col(q_edges, 6) + "\n";
            (void)Col(q_edges, 1);
            (void)Col(q_edges, 2);
            (void)Col(q_edges, 3);
          }
          sqlite3_reset(q_edges);
          return rc == SQLITE_DONE ? "" : sql.Err();
        },
        sizes,
        [&](Answer* a) {
          std::vector<std::string> v;
          size_t p = 0;
          for (size_t nl; (nl = a->find('\n', p)) != std::string::npos; p = nl + 1) {
            const std::string line = a->substr(p, nl - p);
            const size_t tab = line.find('\t');
            v.push_back(line.substr(0, tab) + " " + CanonProps(line.substr(tab + 1)));
          }
          *a = canon_edges(std::move(v));
        });
  }
  {
    // Neighbours as of X: X after the nodes phase, a start live at X.
    std::vector<std::pair<std::string, int64_t>> probes(np + warm);
    for (auto& [node, x] : probes) {
      x = static_cast<int64_t>(o.nodes) + 1 + static_cast<int64_t>(rng() % (head - o.nodes));
      uint32_t s;
      do {
        s = static_cast<uint32_t>(rng() % o.nodes);
      } while (!g.NodeAt(s, x));
      node = NodeId(s);
    }
    compare(
        "neighbours depth 2, out, as of a random LSN", np,
        [&](size_t i, Answer* a) {
          return ours_neighbors(probes[i].first, Direction::kOut,
                                GraphAt{static_cast<Lsn>(probes[i].second), {}}, a);
        },
        "sqlite recursive CTE, lsn_from/lsn_to",
        [&](size_t i, Answer* a) {
          return sqlite_neighbors(q_asof, probes[i].first, probes[i].second, a);
        },
        sizes);
  }
  {
    std::vector<int64_t> ts(np + warm);
    for (auto& t : ts) {
      t = kT2020 + static_cast<int64_t>(rng() % ((kT2026 - kT2020) / kSec)) * kSec;
    }
    compare(
        "neighbours depth 2, out, valid at a random time", np,
        [&](size_t i, Answer* a) {
          return ours_neighbors(starts[i], Direction::kOut, GraphAt{head, ts[i]}, a);
        },
        "sqlite recursive CTE, valid_from/valid_to",
        [&](size_t i, Answer* a) { return sqlite_neighbors(q_valid, starts[i], ts[i], a); }, sizes);
  }
  reader.reset();
  (void)eng->Close();

  // The setup line.
  std::vector<double> od, id;
  for (uint32_t n = 0; n < o.nodes; ++n) {
    if (g.nodes()[n].live) {
      od.push_back(outdeg[n]);
      id.push_back(indeg[n]);
    }
  }
  const Percentiles po = Percentiles::Of(od), pi = Percentiles::Of(id);
  char buf[1200];
  std::snprintf(
      buf, sizeof(buf),
      "%" PRIu64 " events: %" PRIu64 " nodes, %" PRIu64 " edge creations (%" PRIu64
      " with a valid time), %" PRIu64 " edge replacements, %" PRIu64 " edge retractions, %" PRIu64
      " node replacements, %" PRIu64 " node retractions (retracting %" PRIu64
      " edges with them); at the head %" PRIu64 " live nodes, %" PRIu64
      " live edges; out-degree p50/p99/max %.0f/%.0f/%.0f, in-degree %.0f/%.0f/%.0f (skew %.2f); "
      "anomalies after the replay: %s; memory SST files per level L0..L6 %s",
      st.events, st.node_events, st.edge_creates, st.valid_edges, st.edge_replaces,
      st.edge_retracts, st.node_replaces, st.node_retracts, st.edges_retracted_with_node,
      live_nodes, live_edges, po.p50, po.p99, po.max, pi.p50, pi.p99, pi.max, o.skew,
      anomalies_note.c_str(), levels.c_str());
  *setup = buf;
  for (Row& r : rows) {
    if (r.mismatched) {
      r.detail += "; MISMATCH: " + std::to_string(r.mismatched) + " of " +
                  std::to_string(r.checked) + " answers differ";
    }
  }
  return rows;
}

}  // namespace tink::bench
