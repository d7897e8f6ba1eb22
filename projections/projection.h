// projections/: deterministic folds of the log into versioned state in RocksDB (DESIGN.md §5).
//
// A Projection folds events, in LSN order, into its own column family. The StateStore applies a
// batch of events to every projection that is behind and writes each projection's applied
// position (LSN, record time, payload hash) into the same rocksdb::WriteBatch: a crash leaves
// every projection exactly at the end of some applied batch, never half-way, and never applies an
// event twice. Readers (StateReader) see one RocksDB snapshot across all projections.
//
// Ownership: the caller owns the Projection objects and keeps them alive while a StateStore uses
// them. Thread safety: Apply is called from one thread at a time (the StateStore serialises it).
// Errors: Apply returns a non-ok Status only for I/O problems; an event that makes no sense for a
// projection (an illegal task transition, an unknown task) is recorded as an anomaly, not an error.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "projections/keys.h"
#include "schema/event_generated.h"
#include "schema/schema.h"
#include "schema/status.h"

namespace tink::projections {

// One event as projections see it. `fb` points into an 8-byte aligned, verified buffer that
// lives as long as the batch being applied; it is nullptr for a payload that does not decode
// (StateStore::Apply advances past such an event without showing it to any projection).
struct Event {
  Lsn lsn = 0;
  int64_t time_ns = 0;  // recorded (log) time
  const fb::Event* fb = nullptr;
  schema::EventView view;
  // World time of the event: the source's `occurred` when set, else the recorded time.
  int64_t when_ns() const { return view.occurred_ns != 0 ? view.occurred_ns : time_ns; }
};

namespace internal {
class BulkBuffer;
}

// What a projection may touch while applying: its own column family, through the batch.
// `pending` (a rebuild's bulk load): writes of earlier batches not in the column family yet; the
// reads below see them as committed.
class ApplyContext {
 public:
  ApplyContext(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
               const internal::BulkBuffer* pending = nullptr)
      : db_(db), cf_(cf), pending_(pending) {}
  // Buffers a write; the StateStore adds a batch's writes to its WriteBatch sorted by key (a
  // later Put of the same key still wins), so RocksDB's memtable inserts run in key order.
  void Put(std::string_view key, std::string_view value);
  // The buffered writes, sorted (stable) by key; clears the buffer.
  std::vector<std::pair<std::string, std::string>> TakeSortedPuts();
  // The newest stored version of `entity` (a versioned key's entity part) as of the last
  // committed batch: projections keep what they wrote in the current batch in their own cache.
  Result<std::optional<std::string>> Latest(std::string_view entity, Lsn* version = nullptr);
  // A plain point read of the last committed batch.
  Result<std::optional<std::string>> Get(std::string_view key);
  // Committed keys starting with `prefix`, in order; fn returns false to stop.
  Status ScanPrefix(std::string_view prefix,
                    const std::function<bool(std::string_view key, std::string_view value)>& fn);
  // The last key (and value) starting with `prefix`, if any.
  Result<std::optional<std::pair<std::string, std::string>>> LastWithPrefix(std::string_view prefix);

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const internal::BulkBuffer* pending_;
  std::vector<std::pair<std::string, std::string>> puts_;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Its name, which is also its column family's name ("scheduler", "streams", ...).
  virtual std::string_view name() const = 0;
  // The layout of its state; a stored state with another version is rebuilt.
  virtual uint32_t format_version() const = 0;
  // Folds `e` into the batch. Must depend on nothing but the events applied so far.
  virtual Status Apply(const Event& e, ApplyContext& ctx) = 0;
  // Forgets in-memory caches (after a failed batch, or when its state was dropped).
  virtual void ResetCache() = 0;
  // The batch just applied is committed: what it wrote can now be read through ApplyContext, so
  // batch-local buffers may be dropped.
  virtual void Committed() {}
};

}  // namespace tink::projections
