// StateStore: one RocksDB instance (STORE/state/) with a column family per projection, plus the
// default column family for metadata (the log's store id, each projection's applied position and
// format version). The state is derived: deleting it loses nothing (the engine rebuilds it).
//
// Generations. A projection's state is one column family; which one is named by the meta key
// `cf/<projection>` (absent: the column family named like the projection). A rebuild (Rebuild,
// Drop) writes a new generation `<projection>@<n>` next to the live one and Swap makes it current
// with one WriteBatch (`cf/`, `applied/`, `format/` of every swapped projection) and one switch
// of the in-memory view, so a reader sees either the old generations or the new ones, never a
// mix and never a half-built one. The old column families are dropped once the swap is durable
// (DropRetired); their handles live until the last reader that captured them is destroyed.
// Column families that no `cf/` key names (a rebuild cut short by a crash, or the old side of a
// swap whose drop did not happen) are dropped by the next writable Open.
//
// Thread safety: Apply, Drop, Swap, DropRetired and SetMeta from one thread at a time (the
// engine's applier lock); a Rebuild's Apply may run concurrently with them. Readers
// (StateReader, Digest, applied, min_applied, cf, Compact, Flush) from any thread.
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
#include "schema/thread_annotations.h"

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
  // One column family. Shared by the store's view and by the readers that captured it; the
  // handle is destroyed when the last of them lets go (a dropped column family stays readable
  // through its handle until then).
  struct Column {
    Column(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle) : db(db), handle(handle) {}
    ~Column();
    Column(const Column&) = delete;
    Column& operator=(const Column&) = delete;
    rocksdb::DB* db;
    rocksdb::ColumnFamilyHandle* handle;
  };
  // The current generation of every projection, immutable once published.
  struct View {
    std::map<std::string, std::shared_ptr<Column>, std::less<>> columns;  // by projection name
    rocksdb::ColumnFamilyHandle* cf(std::string_view projection) const;
  };

  // Projections being rebuilt next to the live state (new column families no reader sees until
  // Swap). Destroying it without a Swap drops what it built.
  class Rebuild {
   public:
    ~Rebuild();
    // As StateStore::Apply, into the new generations (each with its own applied position).
    Status Apply(std::span<const Event> events, std::span<const uint64_t> payload_hashes);
    // The lowest applied LSN of the rebuilt projections.
    Lsn applied() const;
    // Bulk mode (BeginRebuild with bulk_bytes > 0): writes the buffered state to SST files and
    // ingests them, then leaves bulk mode (later Applys go through the memtable). Swap does it
    // if the caller did not.
    Status EndBulk();
    // How many times the buffered state was ingested so far (for kill points in tests).
    uint64_t ingests() const { return ingests_; }

   private:
    friend class StateStore;
    struct Part {
      Projection* fresh;             // its own Projection object (caches), not the live one
      std::string name, cf_name;     // projection and column family
      std::shared_ptr<Column> column;
      Applied applied;
      std::shared_ptr<internal::BulkBuffer> bulk;  // bulk mode: writes not ingested yet
    };
    Status Ingest(bool last);  // every part's buffer into its column family
    StateStore* store_ = nullptr;
    std::vector<Part> parts_;
    bool swapped_ = false;
    size_t bulk_bytes_ = 0;  // 0: not in bulk mode
    uint64_t ingests_ = 0;
  };


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
  // Empties a projection's state and applied position (it will be rebuilt from LSN 1): a new,
  // empty generation swapped in (readers holding the old one keep it).
  Status Drop(std::string_view projection);

  // Starts a rebuild of the projections named like `fresh` (new Projection objects with empty
  // caches, owned by the caller until the Rebuild is gone). bulk_bytes > 0: bulk mode, the
  // rebuilt state is buffered in memory (up to about bulk_bytes) and ingested as SST files
  // written in key order instead of going through the memtables (projections/internal/
  // bulk_load.h); the same state either way.
  Result<std::unique_ptr<Rebuild>> BeginRebuild(std::vector<Projection*> fresh,
                                                size_t bulk_bytes = 0);
  // Makes the rebuilt generations current (atomically for readers) and resets the live
  // projections' caches. Serialise with Apply. The replaced column families are retired.
  Status Swap(Rebuild& rebuild);
  // Makes swaps durable (flushes every column family) and drops the retired column families.
  Status DropRetired();

  // Metadata in the default column family.
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);

  // XXH3-128 over every key and value of a projection's column family and its applied position,
  // as 32 hex digits: equal digests mean equal state.
  Result<std::string> Digest(std::string_view projection);

  // Flushes the memtables of every current column family and the metadata, atomically (with
  // the WAL off, atomic_flush): a read-only opener then sees data and applied positions that
  // match. Serialised with Swap, so a flush never writes a swap's metadata without the
  // generations it names.
  Status Flush();
  // Compacts a projection's column family into one sorted run.
  Status Compact(std::string_view projection);

  rocksdb::DB* db() { return db_.get(); }
  // The current column family of a projection. The raw handle is valid only until the next Swap
  // or Drop: readers use a View (Capture).
  rocksdb::ColumnFamilyHandle* cf(std::string_view projection) const;
  // The current view, and a snapshot taken with it: the snapshot never shows a swap the view
  // does not (the caller releases the snapshot).
  std::shared_ptr<const View> Capture(const rocksdb::Snapshot** snapshot) const;
  const std::vector<Projection*>& projections() const { return projections_; }
  Projection* projection(std::string_view name) const;
  bool read_only() const { return options_.read_only; }

 private:
  StateStore() = default;
  Status LoadApplied();
  Status MapGenerations(const std::vector<std::string>& cf_names,
                        const std::vector<rocksdb::ColumnFamilyHandle*>& handles);
  Status ApplyGroup(std::span<Projection* const> group, std::span<const Event> events,
                    std::span<const uint64_t> hashes);
  std::shared_ptr<const View> view() const;
  Result<std::shared_ptr<Column>> NewGeneration(std::string_view projection, std::string* cf_name);

  StateOptions options_;
  std::vector<Projection*> projections_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;  // owned
  std::vector<std::shared_ptr<Column>> others_;  // column families of no projection, kept open
  std::atomic<uint64_t> next_generation_{1};

  // Lock order: flush_mu_, view_mu_, applied_mu_.
  mutable std::mutex view_mu_ ACQUIRED_BEFORE(applied_mu_);
  std::shared_ptr<const View> view_ GUARDED_BY(view_mu_);
  std::vector<std::shared_ptr<Column>> retired_ GUARDED_BY(view_mu_);  // dropped by DropRetired
  mutable std::mutex applied_mu_;
  std::map<std::string, Applied, std::less<>> applied_ GUARDED_BY(applied_mu_);
  // Held for a whole Flush (from taking the view to the flushed memtables) and for Swap's
  // metadata write and view switch.
  std::mutex flush_mu_ ACQUIRED_BEFORE(view_mu_);
};

// Meta keys.
std::string AppliedKey(std::string_view projection);
std::string FormatKey(std::string_view projection);
std::string GenerationKey(std::string_view projection);  // "cf/<projection>"
inline constexpr std::string_view kStoreIdKey = "store_id";

// Opaque RocksDB status -> ours.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

}  // namespace tink::projections
