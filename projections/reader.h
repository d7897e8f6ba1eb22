// StateReader: the read API every projection's queries use. One RocksDB snapshot across all
// projections, so a multi-step query sees one consistent state.
//
// Time travel (DESIGN.md §5): versioned keys are `entity ‖ BE64(~lsn)` (projections/keys.h), so
//  - as of N:               GetAsOf / ScanAsOf seek to entity ‖ ~N (newest version <= N);
//  - history of an entity:  History, one range scan;
//  - changed between N1,N2: ChangedBetween, entities with a version in (N1, N2].
// A point in time is an AsOf: the head, an LSN, or a time (resolved to the last LSN recorded at
// or before it through the "times" index).
//
// Thread safety: a StateReader is used by one thread; make one per query. It must not outlive
// its StateStore. It keeps the column families of the generations current when it was made
// (StateStore::Capture), so a replay swapping in rebuilt projections meanwhile changes nothing
// it sees. Errors: IOError/Corruption from RocksDB.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/state_store.h"

namespace tink::projections {

struct AsOf {
  enum class Kind { kHead, kLsn, kTime };
  Kind kind = Kind::kHead;
  uint64_t value = 0;  // LSN, or ns since the epoch
  static AsOf Head() { return {}; }
  static AsOf AtLsn(Lsn n) { return {Kind::kLsn, n}; }
  static AsOf AtTime(int64_t ns) { return {Kind::kTime, static_cast<uint64_t>(ns)}; }
};

struct Version {
  Lsn lsn = 0;
  std::string value;
};

class StateReader {
 public:
  explicit StateReader(StateStore* store);
  ~StateReader();
  StateReader(const StateReader&) = delete;
  StateReader& operator=(const StateReader&) = delete;

  // The applied position of a projection in this snapshot.
  Lsn applied(std::string_view projection) const;

  // An AsOf as an LSN, clamped to what `projection` has applied (the head is its applied LSN).
  Result<Lsn> Resolve(const AsOf& at, std::string_view projection);
  // The last LSN whose record time is <= ns (0 if none), through the "times" index.
  Result<Lsn> LsnAtOrBefore(int64_t ns);

  // The newest version of `entity` with lsn <= as_of.
  Result<std::optional<Version>> GetAsOf(std::string_view cf, std::string_view entity, Lsn as_of);
  // Every entity under `prefix` with its newest version <= as_of, in key order. fn returns
  // false to stop.
  Status ScanAsOf(std::string_view cf, std::string_view prefix, Lsn as_of,
                  const std::function<bool(std::string_view entity, const Version&)>& fn);
  // Versions of `entity` with from <= lsn <= to, oldest first.
  Status History(std::string_view cf, std::string_view entity, Lsn from, Lsn to,
                 const std::function<bool(const Version&)>& fn);
  // Entities under `prefix` with at least one version in (n1, n2], in key order.
  Status ChangedBetween(std::string_view cf, std::string_view prefix, Lsn n1, Lsn n2,
                        const std::function<bool(std::string_view entity)>& fn);
  // Plain (unversioned) keys under `prefix`, from `start` (>= prefix) on, in order.
  Status Scan(std::string_view cf, std::string_view prefix, std::string_view start,
              const std::function<bool(std::string_view key, std::string_view value)>& fn);
  // Keys under `prefix`, last first.
  Status ScanReverse(std::string_view cf, std::string_view prefix,
                     const std::function<bool(std::string_view key, std::string_view value)>& fn);
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key);

  StateStore* store() const { return store_; }

 private:
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string_view cf);
  // Iterators are kept and re-seeked (the snapshot never changes, so they see the same data):
  // making one (a merging iterator over every sorted run) cost as much as the seek itself.
  // GetAsOf, ScanAsOf and ChangedBetween borrow one for the column family and the key's first
  // byte (the entity's kind: lookups of one kind in key order then often stay within the
  // current block) and give it back when done; a nested call (a scan's callback reading the
  // same column family) gets another one.
  class Lease {
   public:
    Lease(StateReader* r, std::string key, std::unique_ptr<rocksdb::Iterator> it)
        : r_(r), key_(std::move(key)), it_(std::move(it)) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    rocksdb::Iterator* get() const { return it_.get(); }
    rocksdb::Iterator* operator->() const { return it_.get(); }
    explicit operator bool() const { return it_ != nullptr; }

   private:
    StateReader* r_;
    std::string key_;
    std::unique_ptr<rocksdb::Iterator> it_;
  };
  Lease Borrow(std::string_view cf, std::string_view key);

  StateStore* store_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  std::shared_ptr<const StateStore::View> view_;  // taken with snapshot_
  mutable std::map<std::string, Lsn, std::less<>> applied_;  // read lazily from the snapshot
  // Idle iterators by column family and first key byte. Destroyed before view_ (whose column
  // family handles they read through).
  std::map<std::string, std::vector<std::unique_ptr<rocksdb::Iterator>>, std::less<>> idle_;
};

}  // namespace tink::projections
