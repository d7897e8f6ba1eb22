// StateStore: one RocksDB instance (STORE/state/) with a column family per projection, plus the
// default column family for metadata (the log's store id, each projection's applied position and
// format version). The state is derived: deleting it loses nothing (the engine rebuilds it).
//
// Thread safety: Apply, Drop and SetMeta from one thread at a time; readers (StateReader,
// Digest, Applied) from any thread.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "projections/projection.h"

namespace tink::projections {

// Where a projection stands: the last event folded into it, and a fingerprint of that event so a
// state can be checked against the log it claims to come from.
struct Applied {
  Lsn lsn = 0;
  int64_t time_ns = 0;
  uint64_t payload_hash = 0;  // XXH3-64 of the event's payload bytes
};

struct StateOptions {
  // A read-only snapshot as of Open (RocksDB OpenForReadOnly); another process may be writing.
  bool read_only = false;
  bool rocksdb_wal = false;      // true: also write RocksDB's WAL (the log is the record)
};

class StateStore {
 public:
  // Opens or creates the state in `dir` with a column family for each projection.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& dir,
                                                  std::vector<Projection*> projections,
                                                  StateOptions options = {});
  ~StateStore();

  // Folds `events` (consecutive LSNs) into every projection whose applied LSN is below them,
  // in one WriteBatch together with their new applied positions. `payload_hashes[i]` is the
  // fingerprint of events[i]. On error nothing is written and caches are reset.
  Status Apply(std::span<const Event> events, std::span<const uint64_t> payload_hashes);

  Applied applied(std::string_view projection) const;
  // The lowest applied LSN over all projections.
  Lsn min_applied() const;
  // Empties a projection's column family and applied position (it will be rebuilt from LSN 1).
  Status Drop(std::string_view projection);

  // Metadata in the default column family.
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);

  // XXH3-128 over every key and value of a projection's column family and its applied position,
  // as 32 hex digits: equal digests mean equal state.
  Result<std::string> Digest(std::string_view projection);

  // Flushes memtables (all column families).
  Status Flush();
  // Compacts a projection's column family into one sorted run.
  Status Compact(std::string_view projection);

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(std::string_view projection) const;
  const std::vector<Projection*>& projections() const { return projections_; }
  Projection* projection(std::string_view name) const;
  bool read_only() const { return options_.read_only; }

 private:
  StateStore() = default;
  Status LoadApplied();
  Status ApplyGroup(std::span<Projection* const> group, std::span<const Event> events,
                    std::span<const uint64_t> hashes);

  StateOptions options_;
  std::vector<Projection*> projections_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; handles_[0] is default
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> cf_by_name_;
  mutable std::mutex applied_mu_;
  std::map<std::string, Applied, std::less<>> applied_;  // guarded by applied_mu_
};

// Meta keys.
std::string AppliedKey(std::string_view projection);
std::string FormatKey(std::string_view projection);
inline constexpr std::string_view kStoreIdKey = "store_id";

// Opaque RocksDB status -> ours.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

}  // namespace tink::projections
