// The baselines of tink_compare: the raw fdatasync rate, SQLite, RocksDB and a JSONL file, each
// driven the plain way its documentation suggests, on the same payloads as our log.
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "bench/compare.h"

namespace tink::bench {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Drops the page cache of every file under `dir` (fdatasync first, so the pages are clean), so
// the next scan reads from the device. Only our own files are touched.
void DropCache(const std::string& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) {
      continue;
    }
    int fd = ::open(e.path().c_str(), O_RDONLY);
    if (fd < 0) {
      continue;
    }
    (void)::fdatasync(fd);
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// (a) The physical limit: 256 B pwrite + fdatasync in a loop. `prep`: "append" grows the file
// (every fdatasync also commits the new size), "fallocate" overwrites posix_fallocate'd space
// (unwritten extents get converted, as in our preallocated segments), "overwrite" rewrites
// blocks already written and synced (pure data, no metadata).
Rate RawFsync(const std::string& dir, const std::string& prep) {
  constexpr off_t kSpace = 64 << 20;
  const std::string path = dir + "/raw-" + prep + ".bin";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
  if (fd < 0) {
    return {0, 0, Errno("open")};
  }
  if (prep == "fallocate" && ::posix_fallocate(fd, 0, kSpace) != 0) {
    ::close(fd);
    return {0, 0, "posix_fallocate failed"};
  }
  if (prep == "overwrite") {
    const std::string zeros(1 << 20, '\0');
    for (off_t o = 0; o < kSpace; o += 1 << 20) {
      if (::pwrite(fd, zeros.data(), zeros.size(), o) < 0) {
        ::close(fd);
        return {0, 0, Errno("pwrite")};
      }
    }
    if (::fsync(fd) != 0) {
      ::close(fd);
      return {0, 0, Errno("fsync")};
    }
  }
  off_t off = 0;
  Rate r = RunFor(1, g_cfg.seconds, g_cfg.count, [&](int, uint64_t i) -> std::string {
    const std::string& p = P(i);
    if (::pwrite(fd, p.data(), p.size(), off) != static_cast<ssize_t>(p.size())) {
      return Errno("pwrite");
    }
    off += static_cast<off_t>(p.size());
    if (prep != "append" && off + static_cast<off_t>(kPayload) > kSpace) {
      off = 0;
    }
    return ::fdatasync(fd) == 0 ? "" : Errno("fdatasync");
  });
  ::close(fd);
  return r;
}

namespace {

sqlite3* OpenSqlite(const std::string& path, const char* sync, std::string* err) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    *err = std::string("sqlite3_open: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 60000);
  const std::string sql = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + sync +
                          "; CREATE TABLE IF NOT EXISTS events(lsn INTEGER PRIMARY KEY, "
                          "payload BLOB NOT NULL);";
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    *err = std::string("sqlite setup: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return nullptr;
  }
  return db;
}

}  // namespace

// (d) SQLite in WAL mode. batch == 1: one transaction (autocommit) per event; else `batch` events
// per explicit transaction. With threads > 1: `shared` makes all threads use one connection
// under a mutex (no lock contention inside SQLite); otherwise every thread has its own connection
// and SQLite serialises writers itself (busy_timeout; its busy handler sleeps while it waits).
Row Sqlite(const std::string& dir, const char* sync, int threads, uint64_t batch, bool shared) {
  Row row;
  const std::string path = dir + "/db.sqlite";
  const int conns = shared ? 1 : threads;
  std::vector<sqlite3*> dbs(conns, nullptr);
  std::vector<sqlite3_stmt*> stmts(conns, nullptr);
  auto cleanup = [&] {
    for (int c = 0; c < conns; ++c) {
      sqlite3_finalize(stmts[c]);
      sqlite3_close(dbs[c]);
    }
  };
  for (int c = 0; c < conns; ++c) {
    dbs[c] = OpenSqlite(path, sync, &row.rate.error);
    if (!dbs[c] || sqlite3_prepare_v2(dbs[c], "INSERT INTO events(payload) VALUES(?)", -1,
                                      &stmts[c], nullptr) != SQLITE_OK) {
      if (row.rate.error.empty()) {
        row.rate.error = sqlite3_errmsg(dbs[c]);
      }
      cleanup();
      return row;
    }
  }
  std::mutex mu;
  row.rate =
      RunFor(threads, g_cfg.seconds, g_cfg.count / batch, [&](int t, uint64_t i) -> std::string {
        const int c = shared ? 0 : t;
        std::unique_lock<std::mutex> l(mu, std::defer_lock);
        if (shared) {
          l.lock();
        }
        auto fail = [&] { return std::string("sqlite: ") + sqlite3_errmsg(dbs[c]); };
        if (batch > 1 && sqlite3_exec(dbs[c], "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
          return fail();
        }
        for (uint64_t k = 0; k < batch; ++k) {
          const std::string& p = P(i * batch * kMany + static_cast<uint64_t>(t) * batch + k);
          sqlite3_bind_blob(stmts[c], 1, p.data(), static_cast<int>(p.size()), SQLITE_STATIC);
          const int rc = sqlite3_step(stmts[c]);
          sqlite3_reset(stmts[c]);
          if (rc != SQLITE_DONE) {
            return fail();
          }
        }
        if (batch > 1 && sqlite3_exec(dbs[c], "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
          return fail();
        }
        return "";
      });
  row.rate.ops *= batch;
  cleanup();
  return row;
}

// (e) RocksDB, default options plus statistics (to count WAL syncs). Keys: 8-byte big-endian
// sequence numbers. Not bulk: one Put per event with sync=true (RocksDB groups concurrent
// writers itself). Bulk: WriteBatch of kBatch, sync=false, SyncWAL at the end counted in the time.
Row Rocks(const std::string& dir, int threads, bool bulk) {
  Row row;
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.statistics = rocksdb::CreateDBStatistics();
  rocksdb::DB* raw = nullptr;
  if (rocksdb::Status s = rocksdb::DB::Open(opts, dir, &raw); !s.ok()) {
    row.rate.error = s.ToString();
    return row;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::atomic<uint64_t> seq{0};
  rocksdb::WriteOptions wo;
  wo.sync = !bulk;
  auto key = [](uint64_t k) {
    char buf[8];
    for (int b = 0; b < 8; ++b) {
      buf[b] = static_cast<char>(k >> (56 - 8 * b));
    }
    return std::string(buf, 8);
  };
  const uint64_t syncs0 = opts.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  const auto t0 = std::chrono::steady_clock::now();
  row.rate = RunFor(threads, g_cfg.seconds, bulk ? g_cfg.count / kBatch : g_cfg.count,
                    [&](int, uint64_t) -> std::string {
                      rocksdb::Status s;
                      if (!bulk) {
                        const uint64_t k = seq++;
                        s = db->Put(wo, key(k), P(k));
                      } else {
                        rocksdb::WriteBatch wb;
                        for (uint64_t k = 0; k < kBatch; ++k) {
                          const uint64_t n = seq++;
                          wb.Put(key(n), P(n));
                        }
                        s = db->Write(wo, &wb);
                      }
                      return s.ok() ? "" : s.ToString();
                    });
  if (bulk) {
    if (rocksdb::Status s = db->SyncWAL(); !s.ok()) {
      row.rate.error = s.ToString();
    }
    row.rate.seconds = SecondsSince(t0);
    row.rate.ops *= kBatch;
  }
  const uint64_t syncs = opts.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED) - syncs0;
  if (!bulk && syncs > 0) {
    row.events_per_sync = static_cast<double>(row.rate.ops) / syncs;
    row.detail = std::to_string(static_cast<uint64_t>(syncs / row.rate.seconds)) + " WAL syncs/s";
  }
  return row;
}

namespace {

// JSONL can only carry text: the same random bytes, base64-encoded (256 B -> 344 chars).
std::string JsonLine(uint64_t lsn, const std::string& payload) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "{\"lsn\":" + std::to_string(lsn) + ",\"payload\":\"";
  const auto* s = reinterpret_cast<const unsigned char*>(payload.data());
  size_t i = 0;
  for (; i + 3 <= payload.size(); i += 3) {
    const uint32_t v = (s[i] << 16) | (s[i + 1] << 8) | s[i + 2];
    for (int k = 18; k >= 0; k -= 6) {
      out += kB64[(v >> k) & 63];
    }
  }
  if (size_t rest = payload.size() - i; rest > 0) {
    const uint32_t v = (s[i] << 16) | (rest == 2 ? s[i + 1] << 8 : 0);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  out += "\"}\n";
  return out;
}

}  // namespace

// (f) JSONL + fdatasync per event. Several writers share the file under one mutex held across
// write and fdatasync (no grouping: what a naive append-only file does).
Row Jsonl(const std::string& path, int threads) {
  Row row;
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
  if (fd < 0) {
    row.rate.error = Errno("open");
    return row;
  }
  std::mutex mu;
  std::atomic<uint64_t> seq{0}, bytes{0};
  row.rate = RunFor(threads, g_cfg.seconds, g_cfg.count, [&](int, uint64_t) -> std::string {
    std::lock_guard<std::mutex> l(mu);
    const uint64_t n = seq++;
    const std::string line = JsonLine(n + 1, P(n));
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return Errno("write");
    }
    bytes += line.size();
    return ::fdatasync(fd) == 0 ? "" : Errno("fdatasync");
  });
  ::close(fd);
  row.events_per_sync = 1;
  row.file_bytes_per_event = row.rate.ops ? static_cast<double>(bytes) / row.rate.ops : 0;
  return row;
}

// JSONL bulk: kBatch lines per write(), one fdatasync at the end counted in the time. Then,
// untimed, the file is topped up to `fill_to` events, so the scans read as many events as ours.
Row JsonlBulk(const std::string& path, uint64_t fill_to) {
  Row row;
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
  if (fd < 0) {
    row.rate.error = Errno("open");
    return row;
  }
  uint64_t bytes = 0;
  std::string buf;
  auto write_batch = [&](uint64_t i) -> std::string {
    buf.clear();
    for (uint64_t k = 0; k < kBatch; ++k) {
      buf += JsonLine(i * kBatch + k + 1, P(i * kBatch + k));
    }
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) {
      return Errno("write");
    }
    bytes += buf.size();
    return "";
  };
  const auto t0 = std::chrono::steady_clock::now();
  row.rate = RunFor(1, g_cfg.seconds, g_cfg.count / kBatch,
                    [&](int, uint64_t i) { return write_batch(i); });
  if (::fdatasync(fd) != 0 && row.rate.error.empty()) {
    row.rate.error = Errno("fdatasync");
  }
  row.rate.seconds = SecondsSince(t0);
  row.file_bytes_per_event = row.rate.ops ? static_cast<double>(bytes) / row.rate.ops / kBatch : 0;
  for (uint64_t i = row.rate.ops; i < fill_to / kBatch && row.rate.error.empty(); ++i) {
    row.rate.error = write_batch(i);
  }
  if (::fdatasync(fd) != 0 && row.rate.error.empty()) {
    row.rate.error = Errno("fdatasync");
  }
  row.rate.ops *= kBatch;
  ::close(fd);
  return row;
}

// (g) The baseline scan: read the JSONL file in 1 MiB chunks and find the line ends; no parsing,
// no checking of any kind.
Row JsonlScan(const std::string& path, bool cold) {
  Row row;
  if (cold) {
    DropCache(std::filesystem::path(path).parent_path());
  }
  const auto t0 = std::chrono::steady_clock::now();
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    row.rate.error = Errno("open");
    return row;
  }
  std::vector<char> buf(1 << 20);
  uint64_t lines = 0, bytes = 0;
  for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;) {
    bytes += static_cast<uint64_t>(n);
    const char* p = buf.data();
    const char* end = p + n;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr) {
      ++lines;
      ++p;
    }
  }
  ::close(fd);
  row.rate = {lines, SecondsSince(t0), ""};
  row.file_bytes_per_event = lines ? static_cast<double>(bytes) / lines : 0;
  return row;
}

}  // namespace tink::bench
