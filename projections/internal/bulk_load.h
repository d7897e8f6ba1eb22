// Bulk loading of a rebuilt projection (StateStore::Rebuild in bulk mode). Internal to
// projections/.
//
// A rebuild folds the whole log into an empty, new column family that no reader sees until the
// swap. Instead of inserting every key into RocksDB's memtable skiplist (4-7 µs per random key
// on the measured machine, docs/performance.md), the writes of each batch are kept in memory as
// sorted runs (BulkBuffer) and, past a size bound and at the end, merged into one SST file per
// column family written in key order (rocksdb::SstFileWriter) and ingested
// (IngestExternalFile, move_files). Reads during the fold (ApplyContext) see the committed column
// family merged with the buffer, newest first, so a projection folds exactly as it would through
// the memtable.
//
// Thread safety: none; one rebuild's Apply at a time. Errors: WriteAndIngest returns the
// RocksDB error; the buffer is then left as it was.
#pragma once

#include <rocksdb/db.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schema/status.h"

namespace tink::projections::internal {

// Where the SST files are written before they are ingested: a subdirectory of the state,
// removed by every writable open.
inline constexpr std::string_view kBulkDir = "bulk";

class BulkBuffer {
 public:
  using Entry = std::pair<std::string, std::string>;
  using Run = std::vector<Entry>;  // sorted by key, unique keys

  // Adds one batch's writes, sorted (stable) by key; of equal keys the last wins, and a batch
  // wins over every earlier one.
  void Add(std::vector<Entry> sorted);
  bool empty() const { return runs_.empty(); }
  // Approximate memory held (keys, values and per-entry overhead).
  size_t bytes() const { return bytes_; }
  size_t runs() const { return runs_.size(); }

  // The newest buffered value of `key`.
  const std::string* Get(std::string_view key) const;
  // The smallest buffered key >= `key` (with its newest value), if any.
  const Entry* LowerBound(std::string_view key) const;
  // The greatest buffered key starting with `prefix`, if any.
  const Entry* LastWithPrefix(std::string_view prefix) const;
  // Every buffered key starting with `prefix`, newest value each, in key order.
  std::map<std::string_view, std::string_view> WithPrefix(std::string_view prefix) const;

  // Writes every buffered entry, in key order, to one SST file at `path` and ingests it into
  // `cf` of `db` (the file is moved into the DB). On success the buffer is empty.
  Status WriteAndIngest(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                        const rocksdb::Options& options, const std::string& path);

 private:
  static Run Merge(Run older, Run newer);
  std::vector<Run> runs_;  // oldest first; sizes shrink towards the back (binary merging)
  size_t bytes_ = 0;
};

// ApplyContext's reads with a BulkBuffer: the column family `cf` merged with `pending` (which
// is newer), with the same answers as if `pending` had been written to `cf`.
Result<std::optional<std::string>> BulkGet(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                           const BulkBuffer& pending, std::string_view key);
Result<std::optional<std::string>> BulkLatest(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                              const BulkBuffer& pending, std::string_view entity,
                                              uint64_t* version);
Status BulkScanPrefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const BulkBuffer& pending,
                      std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& fn);
Result<std::optional<std::pair<std::string, std::string>>> BulkLastWithPrefix(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const BulkBuffer& pending,
    std::string_view prefix);

}  // namespace tink::projections::internal
