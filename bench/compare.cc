// tink_compare: our log and the baselines, side by side in one run, on the same disk and the
// same 256-byte payloads. Prints events/s, MB/s and the ratio of ours to each baseline, plus the
// machine's raw fdatasync rate (the physical limit for durable appends). Information only: it
// never fails on a missed goal.
//
//   tink_compare [--dir D] [--seconds S] [--json]
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "log/log.h"

namespace tink::bench {
namespace {

constexpr size_t kPayload = 256;
constexpr int kMany = 16;
constexpr uint64_t kBatch = 1000;

struct Row {
  std::string cls, name;
  Rate rate;
  double bytes_per_op = kPayload;
};

double g_seconds = 2;
std::string g_dir;
std::vector<std::string> g_data;
const std::string& P(uint64_t i) { return g_data[i % g_data.size()]; }

Rate RawFsync() {
  const std::string path = g_dir + "/raw.bin";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  uint64_t off = 0;
  Rate r = RunFor(1, g_seconds, UINT64_MAX, [&](int, uint64_t i) {
    const std::string& p = P(i);
    if (::pwrite(fd, p.data(), p.size(), static_cast<off_t>(off)) < 0) return false;
    off += p.size();
    return ::fdatasync(fd) == 0;
  });
  ::close(fd);
  return r;
}

Rate OursDurable(int threads) {
  log::LogOptions o;
  auto lg = log::Log::Open(ScratchDir("ours-durable-" + std::to_string(threads)), o);
  if (!lg.ok()) return {};
  return RunFor(threads, g_seconds, UINT64_MAX, [&](int t, uint64_t i) {
    return (*lg)->Append(P(i * kMany + t)).ok();
  });
}

// Bulk: batches of kBatch, mode none, one Sync at the end counted in the time.
Rate OursBulk(const std::string& dir, uint64_t max_events) {
  log::LogOptions o;
  o.durability.mode = log::Durability::Mode::kNone;
  auto lg = log::Log::Open(dir, o);
  if (!lg.ok()) return {};
  std::vector<std::string_view> batch(kBatch);
  Rate r = RunFor(1, g_seconds, max_events / kBatch, [&](int, uint64_t i) {
    for (uint64_t k = 0; k < kBatch; ++k) batch[k] = P(i * kBatch + k);
    return (*lg)->Append(batch).ok();
  });
  const auto t0 = std::chrono::steady_clock::now();
  if (!(*lg)->Sync().ok()) return {};
  r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.ops *= kBatch;
  return r;
}

Rate OursScan(const std::string& dir, double* bytes_per_op) {
  auto lg = log::Log::Open(dir, {});
  if (!lg.ok()) return {};
  uint64_t n = 0, bytes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto it = (*lg)->NewIterator(1);
  for (; it->Valid(); it->Next()) {
    ++n;
    bytes += log::RecordSpan(it->record().payload.size());
  }
  Rate r;
  r.ops = it->status().ok() ? n : 0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *bytes_per_op = n ? static_cast<double>(bytes) / n : 0;
  return r;
}

sqlite3* OpenSqlite(const std::string& path, const char* sync) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 60000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  sqlite3_exec(db, (std::string("PRAGMA synchronous=") + sync).c_str(), nullptr, nullptr, nullptr);
  sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS events(lsn INTEGER PRIMARY KEY, payload BLOB)",
               nullptr, nullptr, nullptr);
  return db;
}

// One transaction per event (autocommit), or `batch` events per transaction. With threads > 1
// every thread has its own connection; SQLite serialises writers itself (busy_timeout).
Rate Sqlite(const char* sync, int threads, uint64_t batch) {
  const std::string path = ScratchDir(std::string("sqlite-") + sync + "-" +
                                      std::to_string(threads) + "-" + std::to_string(batch)) +
                           "/db.sqlite";
  sqlite3_close(OpenSqlite(path, sync));
  std::vector<sqlite3*> dbs(threads);
  std::vector<sqlite3_stmt*> stmts(threads);
  for (int t = 0; t < threads; ++t) {
    dbs[t] = OpenSqlite(path, sync);
    sqlite3_prepare_v2(dbs[t], "INSERT INTO events(payload) VALUES(?)", -1, &stmts[t], nullptr);
  }
  Rate r = RunFor(threads, g_seconds, UINT64_MAX, [&](int t, uint64_t i) {
    if (batch > 1) sqlite3_exec(dbs[t], "BEGIN", nullptr, nullptr, nullptr);
    for (uint64_t k = 0; k < batch; ++k) {
      const std::string& p = P(i * batch + k);
      sqlite3_bind_blob(stmts[t], 1, p.data(), static_cast<int>(p.size()), SQLITE_STATIC);
      if (sqlite3_step(stmts[t]) != SQLITE_DONE) return false;
      sqlite3_reset(stmts[t]);
    }
    if (batch > 1) return sqlite3_exec(dbs[t], "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    return true;
  });
  r.ops *= batch;
  for (int t = 0; t < threads; ++t) {
    sqlite3_finalize(stmts[t]);
    sqlite3_close(dbs[t]);
  }
  return r;
}

Rate Rocks(int threads, bool bulk) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const std::string dir = ScratchDir("rocksdb-" + std::to_string(threads) + (bulk ? "-bulk" : ""));
  if (!rocksdb::DB::Open(opts, dir, &raw).ok()) return {};
  std::unique_ptr<rocksdb::DB> db(raw);
  std::atomic<uint64_t> seq{0};
  rocksdb::WriteOptions wo;
  wo.sync = !bulk;
  auto key = [](uint64_t k) {
    char buf[8];
    for (int b = 0; b < 8; ++b) buf[b] = static_cast<char>(k >> (56 - 8 * b));
    return std::string(buf, 8);
  };
  Rate r = RunFor(threads, g_seconds, UINT64_MAX, [&](int, uint64_t i) {
    if (!bulk) return db->Put(wo, key(seq++), P(i)).ok();
    rocksdb::WriteBatch wb;
    for (uint64_t k = 0; k < kBatch; ++k) wb.Put(key(seq++), P(i * kBatch + k));
    return db->Write(wo, &wb).ok();
  });
  if (bulk) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)db->SyncWAL();
    r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.ops *= kBatch;
  }
  return r;
}

// JSONL + fdatasync per event; several writers share the file under one mutex.
Rate Jsonl(int threads, const std::string& path) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
  std::mutex mu;
  Rate r = RunFor(threads, g_seconds, UINT64_MAX, [&](int, uint64_t i) {
    const std::string line = "{\"lsn\":" + std::to_string(i) + ",\"payload\":\"" + P(i) + "\"}\n";
    std::lock_guard<std::mutex> l(mu);
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return false;
    return ::fdatasync(fd) == 0;
  });
  ::close(fd);
  return r;
}

Rate JsonlScan(const std::string& path, double* bytes_per_op) {
  const auto t0 = std::chrono::steady_clock::now();
  std::ifstream in(path, std::ios::binary);
  std::string line;
  uint64_t n = 0, bytes = 0;
  while (std::getline(in, line)) {
    ++n;
    bytes += line.size() + 1;
  }
  Rate r{n, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  *bytes_per_op = n ? static_cast<double>(bytes) / n : 0;
  return r;
}

}  // namespace
}  // namespace tink::bench

int main(int argc, char** argv) {
  using namespace tink::bench;
  bool json = false;
  g_dir = ScratchDir("compare");
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) g_seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) {
      setenv("TINK_BENCH_DIR", argv[++i], 1);
      g_dir = ScratchDir("compare");
    } else if (!std::strcmp(argv[i], "--help")) {
      std::printf("tink_compare [--dir D] [--seconds S] [--json]\n");
      return 0;
    }
  }
  g_data = Payloads(8192, kPayload);
  std::vector<Row> rows;
  auto add = [&](const char* cls, const char* name, Rate r, double bpo = kPayload) {
    rows.push_back({cls, name, r, bpo});
    std::fprintf(stderr, "  %-34s %12.0f events/s\n", name, r.per_sec());
  };
  std::fprintf(stderr, "tink_compare: %.1f s per measurement, 256-byte payloads, dir %s\n",
               g_seconds, g_dir.c_str());
  add("limit", "raw write+fdatasync (1 thread)", RawFsync());
  add("durable-1", "tinkerbell always", OursDurable(1));
  add("durable-1", "sqlite WAL synchronous=FULL", Sqlite("FULL", 1, 1));
  add("durable-1", "rocksdb sync=true", Rocks(1, false));
  add("durable-1", "jsonl + fdatasync", Jsonl(1, g_dir + "/one.jsonl"));
  add("durable-16", "tinkerbell always x16", OursDurable(kMany));
  add("durable-16", "sqlite WAL FULL x16 connections", Sqlite("FULL", kMany, 1));
  add("durable-16", "rocksdb sync=true x16", Rocks(kMany, false));
  add("durable-16", "jsonl + fdatasync x16 (mutex)", Jsonl(kMany, g_dir + "/many.jsonl"));
  add("unsynced-1", "sqlite WAL synchronous=NORMAL", Sqlite("NORMAL", 1, 1));
  const std::string bulk_dir = ScratchDir("ours-bulk");
  add("bulk", "tinkerbell batch 1000, sync at end", OursBulk(bulk_dir, 20000000));
  add("bulk", "sqlite WAL FULL, 1000 per txn", Sqlite("FULL", 1, kBatch));
  add("bulk", "rocksdb WriteBatch 1000, sync at end", Rocks(1, true));
  double ours_bpo = 0, jsonl_bpo = 0;
  Rate scan = OursScan(bulk_dir, &ours_bpo);
  add("scan", "tinkerbell scan+verify", scan, ours_bpo);
  Rate jscan = JsonlScan(g_dir + "/one.jsonl", &jsonl_bpo);
  add("scan", "jsonl read + split lines (no check)", jscan, jsonl_bpo);

  auto find = [&](const std::string& name) -> const Row* {
    for (const Row& r : rows)
      if (r.name == name) return &r;
    return nullptr;
  };
  std::printf("\n%-12s %-38s %14s %10s %10s\n", "class", "system", "events/s", "MB/s",
              "ours/this");
  for (const Row& r : rows) {
    const Row* ours = nullptr;
    for (const Row& o : rows)
      if (o.cls == r.cls && o.name.rfind("tinkerbell", 0) == 0) ours = &o;
    if (r.cls == "unsynced-1") ours = find("tinkerbell always");
    char ratio[32] = "";
    if (ours && ours != &r && r.rate.per_sec() > 0) {
      std::snprintf(ratio, sizeof(ratio), "%.2fx", ours->rate.per_sec() / r.rate.per_sec());
    }
    std::printf("%-12s %-38s %14.0f %10.1f %10s\n", r.cls.c_str(), r.name.c_str(),
                r.rate.per_sec(), r.rate.per_sec() * r.bytes_per_op / 1e6, ratio);
  }
  const double d16 = find("tinkerbell always x16")->rate.per_sec();
  const double rocks16 = find("rocksdb sync=true x16")->rate.per_sec();
  const double sqlite_full = std::max(find("sqlite WAL synchronous=FULL")->rate.per_sec(),
                                      find("sqlite WAL FULL x16 connections")->rate.per_sec());
  const double bulk = find("tinkerbell batch 1000, sync at end")->rate.per_sec();
  const double scan_gbs = scan.per_sec() * ours_bpo / 1e9;
  auto goal = [](bool ok) { return ok ? "PASS" : "MISS"; };
  std::printf("\ngoals (from the issue; information only)\n");
  std::printf("  durable 16-writer >= rocksdb sync=true x16   %.0f vs %.0f   %s\n", d16, rocks16,
              goal(d16 >= rocks16));
  std::printf("  durable 16-writer >= 20x sqlite WAL/FULL      %.0f vs 20 x %.0f   %s\n", d16,
              sqlite_full, goal(d16 >= 20 * sqlite_full));
  std::printf("  bulk append >= 1M events/s                    %.0f   %s\n", bulk,
              goal(bulk >= 1e6));
  std::printf("  scan+verify >= 1 GB/s                         %.2f GB/s   %s\n", scan_gbs,
              goal(scan_gbs >= 1.0));
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const Row& r : rows) {
      j.push_back({{"class", r.cls}, {"system", r.name}, {"events_per_s", r.rate.per_sec()},
                   {"mb_per_s", r.rate.per_sec() * r.bytes_per_op / 1e6}});
    }
    std::printf("%s\n", j.dump().c_str());
  }
  std::filesystem::remove_all(std::filesystem::path(g_dir).parent_path());
  return 0;
}
