// tink_compare's "ingest" class (issue 16, goal 1): JSON event -> stored record, and a JSONL
// import, against SQLite, RocksDB and plain JSONL on the same lines.
//
// The events are bench/agent_workload.h's (runs of tasks doing LLM and tool calls, ~0.5 KB of
// data each), written once as JSONL envelopes (what `tink append` reads and `tink import
// --format jsonl` imports; no ids, so the importer gives each "<file>/<line>").
//
// Encoding rows (one thread, CPU time of that thread per event, the events in memory):
//   EncodeEvent              simdjson DOM -> FlatBufferBuilder through the schema's tables
//   EncodeEventViaParser     the reference: nlohmann parse + checks + dump, flatbuffers::Parser
//   line -> record           ParseEnvelopeJson + EncodeEvent of a JSONL line (what import pays)
// Import rows (wall time, 1 process; durable at the end: every system fdatasyncs before the clock
// stops):
//   tink import              engine::import::ImportFile + Engine::Append (one batch, as `tink
//                            import` does) on a fresh store, projections on; "log durable" stops
//                            when Append returns (the events are acknowledged), "+ projections"
//                            also counts Close (the fold catches up, state flushed).
//   sqlite                   events(id TEXT PRIMARY KEY, stream, type, run, data) WAL, synchronous
//                            FULL, 10,000 rows per transaction; each line parsed and checked by
//                            SQLite's own json functions (json_extract), data stored minified.
//   rocksdb                  each line parsed by nlohmann (checked) and Put under its id,
//                            WriteBatch of 10,000, sync=false, SyncWAL at the end.
//   jsonl                    the lines copied to a file, fdatasync: nothing checked (the limit).
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/agent_workload.h"
#include "bench/compare.h"
#include "engine/engine.h"
#include "engine/import/import.h"
#include "schema/schema.h"

namespace tink::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string Envelope(const schema::EventInput& e) {
  using J = nlohmann::json;
  return "{\"stream\":" + J(e.stream).dump() + ",\"type\":" + J(e.type).dump() +
         ",\"run\":" + J(e.run).dump() + ",\"data\":" + e.data_json + "}";
}

struct Line {
  double us_per_event = 0;
  uint64_t events = 0;
  std::string error;
};

// CPU per event of fn over `n` items (at least 2 passes over small inputs).
template <typename Fn>
Line CpuPerEvent(size_t n, Fn fn) {
  Line l;
  const double c0 = ThreadCpuSeconds();
  for (size_t i = 0; i < n; ++i) {
    std::string err = fn(i);
    if (!err.empty()) {
      l.error = err;
      return l;
    }
  }
  l.events = n;
  l.us_per_event = (ThreadCpuSeconds() - c0) * 1e6 / static_cast<double>(n);
  return l;
}

Rate SqliteImport(const std::string& dir, const std::vector<std::string>& lines) {
  Rate r;
  sqlite3* db = nullptr;
  const std::string path = dir + "/ingest.sqlite";
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    r.error = "sqlite3_open";
    return r;
  }
  const auto t0 = Clock::now();
  std::string err = SqliteExec(db,
                               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                               "CREATE TABLE events(id TEXT PRIMARY KEY, stream TEXT NOT NULL, "
                               "type TEXT NOT NULL, run TEXT, data TEXT);");
  sqlite3_stmt* st = nullptr;
  if (err.empty() &&
      sqlite3_prepare_v2(db,
                         "INSERT INTO events VALUES(?1, json_extract(?2,'$.stream'), "
                         "json_extract(?2,'$.type'), json_extract(?2,'$.run'), "
                         "json(json_extract(?2,'$.data')))",
                         -1, &st, nullptr) != SQLITE_OK) {
    err = sqlite3_errmsg(db);
  }
  constexpr size_t kTx = 10'000;
  for (size_t i = 0; err.empty() && i < lines.size(); ++i) {
    if (i % kTx == 0) err = SqliteExec(db, "BEGIN");
    const std::string id = "ingest/" + std::to_string(i + 1);
    sqlite3_bind_text(st, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, lines[i].data(), static_cast<int>(lines[i].size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) err = sqlite3_errmsg(db);
    sqlite3_reset(st);
    if (err.empty() && (i % kTx == kTx - 1 || i + 1 == lines.size()))
      err = SqliteExec(db, "COMMIT");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  r.seconds = SecondsSince(t0);
  r.ops = lines.size();
  r.error = err;
  return r;
}

Rate RocksImport(const std::string& dir, const std::vector<std::string>& lines) {
  Rate r;
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const auto t0 = Clock::now();
  rocksdb::Status s = rocksdb::DB::Open(o, dir + "/ingest.rocksdb", &raw);
  if (!s.ok()) {
    r.error = s.ToString();
    return r;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions wo;
  for (size_t i = 0; i < lines.size() && s.ok(); ++i) {
    auto j = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      r.error = "line " + std::to_string(i + 1) + " is not a JSON object";
      return r;
    }
    batch.Put("ingest/" + std::to_string(i + 1), lines[i]);
    if (batch.Count() == 10'000 || i + 1 == lines.size()) {
      s = db->Write(wo, &batch);
      batch.Clear();
    }
  }
  if (s.ok()) s = db->SyncWAL();
  r.seconds = SecondsSince(t0);
  r.ops = lines.size();
  if (!s.ok()) r.error = s.ToString();
  return r;
}

Rate JsonlCopy(const std::string& dir, const std::string& text, uint64_t events) {
  Rate r;
  const auto t0 = Clock::now();
  const int fd = ::open((dir + "/copy.jsonl").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    r.error = Errno("open");
    return r;
  }
  for (size_t off = 0; off < text.size();) {
    const ssize_t w = ::write(fd, text.data() + off, std::min<size_t>(text.size() - off, 1 << 20));
    if (w <= 0) {
      r.error = Errno("write");
      break;
    }
    off += static_cast<size_t>(w);
  }
  if (r.error.empty() && ::fdatasync(fd) != 0) r.error = Errno("fdatasync");
  ::close(fd);
  r.seconds = SecondsSince(t0);
  r.ops = events;
  return r;
}

// Runs `tink args...` (stdout and stderr to /dev/null); its wall time, and its peak RSS in MiB.
struct Child {
  double seconds = 0, rss_mib = 0;
  std::string error;
};
Child RunTink(const std::string& tink, std::vector<std::string> args) {
  Child c;
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    c.error = Errno("fork");
    return c;
  }
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(tink.c_str()));
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(tink.c_str(), argv.data());
    ::_exit(127);
  }
  // Its peak RSS from /proc (VmHWM, its own address space's high-water mark), polled until it
  // exits: wait4's ru_maxrss would also count this process's memory, which the child had until
  // its exec.
  int status = 0;
  uint64_t hwm_kib = 0;
  while (true) {
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    bool execed = false;  // before its exec the child's address space is a copy of ours
    for (std::string line; std::getline(st, line);) {
      if (line.rfind("Name:", 0) == 0) execed = line.find("tink_compare") == std::string::npos;
      if (execed && line.rfind("VmHWM:", 0) == 0) {
        hwm_kib = std::max<uint64_t>(hwm_kib, std::strtoull(line.c_str() + 6, nullptr, 10));
      }
    }
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0) {
      c.error = Errno("waitpid");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  c.seconds = SecondsSince(t0);
  c.rss_mib = static_cast<double>(hwm_kib) / 1024.0;
  if (c.error.empty() && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    c.error = "tink " + args.at(0) + " exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return c;
}

}  // namespace

std::string IngestCompare(const std::string& dir, const IngestOptions& o,
                          std::vector<Goal>* goals) {
  std::string out;
  char buf[512];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);

  // The events, as EventInput and as JSONL lines.
  AgentWorkload w(o.events, std::max<int>(1, static_cast<int>(o.events / 10'000)));
  std::vector<schema::EventInput> events;
  events.reserve(o.events);
  while (!w.done()) w.Next(&events);
  std::vector<std::string> lines;
  lines.reserve(events.size());
  std::string text;
  for (const schema::EventInput& e : events) {
    lines.push_back(Envelope(e));
    text += lines.back();
    text += '\n';
  }
  const std::string jsonl = dir + "/events.jsonl";
  {
    std::ofstream f(jsonl, std::ios::binary);
    f << text;
    if (!f) return "ingest: cannot write " + jsonl + "\n";
  }
  if (!o.keep.empty())
    std::filesystem::copy_file(jsonl, o.keep, std::filesystem::copy_options::overwrite_existing,
                               ec);
  uint64_t data_bytes = 0;
  for (const auto& e : events) data_bytes += e.data_json.size();
  std::snprintf(buf, sizeof buf,
                "\ningest (issue 16 goal 1): %zu agent events, %.0f bytes of data per event on "
                "average, %.1f MB of JSONL\n",
                events.size(), static_cast<double>(data_bytes) / static_cast<double>(events.size()),
                static_cast<double>(text.size()) / 1e6);
  out += buf;

  // Encoding, one thread.
  const size_t ref_n = std::min<size_t>(events.size(), 100'000);  // the reference is slow
  std::vector<schema::EventInput> with_ids = events;
  for (size_t i = 0; i < with_ids.size(); ++i) with_ids[i].id = "ingest/" + std::to_string(i + 1);
  uint64_t bytes = 0;
  Line fast = CpuPerEvent(with_ids.size(), [&](size_t i) {
    auto enc = schema::EncodeEvent(with_ids[i]);
    if (!enc.ok()) return enc.status().ToString();
    bytes += enc->size();
    return std::string();
  });
  Line ref = CpuPerEvent(ref_n, [&](size_t i) {
    auto enc = schema::EncodeEventViaParser(with_ids[i]);
    return enc.ok() ? std::string() : enc.status().ToString();
  });
  Line line = CpuPerEvent(lines.size(), [&](size_t i) {
    auto e = schema::ParseEnvelopeJson(lines[i]);
    if (!e.ok()) return e.status().ToString();
    auto enc = schema::EncodeEvent(*e);
    return enc.ok() ? std::string() : enc.status().ToString();
  });
  out +=
      "row                                                 us/event (CPU)    events/s  vs before\n";
  auto enc_row = [&](const char* name, const Line& l) {
    if (!l.error.empty()) {
      std::snprintf(buf, sizeof buf, "%-50s  error: %s\n", name, l.error.c_str());
    } else {
      std::snprintf(buf, sizeof buf, "%-50s  %14.2f  %10.0f  %8.1fx\n", name, l.us_per_event,
                    1e6 / l.us_per_event, ref.us_per_event / l.us_per_event);
    }
    out += buf;
  };
  enc_row("EncodeEvent (simdjson -> FlatBufferBuilder)", fast);
  enc_row("EncodeEventViaParser (nlohmann + Parser, before)", ref);
  enc_row("JSONL line -> record (ParseEnvelopeJson+Encode)", line);
  std::snprintf(buf, sizeof buf,
                "  (%.0f bytes stored per event; the reference measured on %zu events)\n",
                static_cast<double>(bytes) / static_cast<double>(with_ids.size()), ref_n);
  out += buf;

  // Import, durable at the end.
  Rate log_durable, all;
  double cpu_parse = 0, cpu_append = 0, cpu_close = 0;  // process CPU seconds of each phase
  {
    const std::string store = dir + "/store";
    const auto t0 = Clock::now();
    double c0 = ProcessCpuSeconds();
    auto eng = engine::Engine::Open(store, engine::EngineOptions{});
    std::string err;
    if (!eng.ok()) err = eng.status().ToString();
    std::vector<schema::EventInput> evs;
    if (err.empty()) {
      auto runs = engine::import::ImportFile(jsonl, engine::import::Options{.format = "jsonl"});
      if (!runs.ok()) err = runs.status().ToString();
      for (auto& r : *runs) {
        for (auto& e : r.events) evs.push_back(std::move(e));
      }
    }
    cpu_parse = ProcessCpuSeconds() - c0;
    c0 = ProcessCpuSeconds();
    if (err.empty()) {
      auto res = (*eng)->Append(evs);
      if (!res.ok()) err = res.status().ToString();
    }
    cpu_append = ProcessCpuSeconds() - c0;
    c0 = ProcessCpuSeconds();
    log_durable.seconds = SecondsSince(t0);
    log_durable.ops = evs.size();
    log_durable.error = err;
    if (err.empty()) {
      Status c = (*eng)->Close();
      if (!c.ok()) err = c.ToString();
    }
    all.seconds = SecondsSince(t0);
    all.ops = evs.size();
    all.error = err;
    cpu_close = ProcessCpuSeconds() - c0;
  }
  const Rate sq = SqliteImport(dir, lines);
  const Rate rk = RocksImport(dir, lines);
  const Rate jl = JsonlCopy(dir, text, lines.size());
  out +=
      "\nimport of the JSONL file, durable at the end          events/s   seconds  "
      "ours(log)/this\n";
  auto imp_row = [&](const char* name, const Rate& r) {
    if (!r.error.empty()) {
      std::snprintf(buf, sizeof buf, "%-50s  error: %s\n", name, r.error.c_str());
    } else {
      std::snprintf(buf, sizeof buf, "%-50s  %10.0f  %8.2f  %8.2fx\n", name, r.per_sec(), r.seconds,
                    log_durable.per_sec() / r.per_sec());
    }
    out += buf;
  };
  imp_row("tink import: log durable (Append returned)", log_durable);
  imp_row("tink import: + projections caught up (Close)", all);
  imp_row("sqlite WAL FULL, json_extract, 10k rows/tx", sq);
  imp_row("rocksdb WriteBatch 10k + SyncWAL, nlohmann check", rk);
  imp_row("jsonl copy + fdatasync (nothing checked)", jl);
  if (log_durable.ops > 0) {
    const double n = static_cast<double>(log_durable.ops);
    std::snprintf(
        buf, sizeof buf,
        "  ours, CPU of the whole process per event: open + read + check %.2f us, Append "
        "(tail thread folding meanwhile) %.2f us, Close (fold catches up, flush) %.2f us\n",
        cpu_parse * 1e6 / n, cpu_append * 1e6 / n, cpu_close * 1e6 / n);
    out += buf;
  }

  // The tink command itself, as a process: its wall time and peak RSS (goal 9), import then a
  // full replay of what it imported.
  const std::string cli_store = dir + "/cli-store";
  const Child imp = RunTink(o.tink, {"import", "--store", cli_store, "--format", "jsonl", jsonl});
  const Child rep = imp.error.empty() ? RunTink(o.tink, {"replay", "--store", cli_store}) : Child{};
  out +=
      "\nthe tink process                                      events/s   seconds  peak RSS MiB\n";
  auto cli_row = [&](const char* name, const Child& c) {
    if (!c.error.empty()) {
      std::snprintf(buf, sizeof buf, "%-50s  error: %s\n", name, c.error.c_str());
    } else {
      std::snprintf(buf, sizeof buf, "%-50s  %10.0f  %8.2f  %12.0f\n", name,
                    static_cast<double>(events.size()) / c.seconds, c.seconds, c.rss_mib);
    }
    out += buf;
  };
  cli_row("tink import --format jsonl (projections at Close)", imp);
  cli_row("tink replay (every projection rebuilt)", rep);
  out += "  (peak RSS: the process's VmHWM, polled every 5 ms)\n";

  if (goals != nullptr) {
    std::snprintf(
        buf, sizeof buf, "import %.0f MiB, replay %.0f MiB peak RSS on %zu events%s", imp.rss_mib,
        rep.rss_mib, events.size(),
        events.size() < 10'000'000 ? " (the goal is for 10M: --ingest-events 10000000)" : "");
    goals->push_back({"#9 RSS during import/replay < 256 MiB", buf,
                      imp.error.empty() && rep.error.empty() && imp.rss_mib < 256 &&
                          rep.rss_mib < 256 && events.size() >= 10'000'000});
    std::snprintf(buf, sizeof buf, "%.2f us of CPU per event (%.1fx the reference's %.1f us)",
                  fast.us_per_event, ref.us_per_event / fast.us_per_event, ref.us_per_event);
    goals->push_back({"#1 JSON event -> stored record <= 3 us of CPU", buf,
                      fast.error.empty() && fast.us_per_event <= 3.0});
    std::snprintf(buf, sizeof buf, "%.0f events/s to durable (%.0f with the projections caught up)",
                  log_durable.per_sec(), all.per_sec());
    goals->push_back({"#1 JSONL import >= 300 k events/s, durable at the end", buf,
                      log_durable.per_sec() >= 300'000});
  }
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace tink::bench
