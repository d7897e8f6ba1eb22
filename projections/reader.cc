#include "projections/reader.h"

#include "projections/internal/rocks_iter.h"

namespace tink::projections {

StateReader::StateReader(StateStore* store) : store_(store), view_(store->Capture(&snapshot_)) {}

StateReader::~StateReader() {
  idle_.clear();
  store_->db()->ReleaseSnapshot(snapshot_);
}

Lsn StateReader::applied(std::string_view projection) const {
  auto it = applied_.find(projection);
  if (it != applied_.end()) return it->second;
  // Read from the snapshot itself (not the StateStore's live position), so it matches the data
  // this reader sees; read lazily, as the append path needs at most one.
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::string v;
  Lsn lsn = 0;
  if (store_->db()->Get(ro, AppliedKey(projection), &v).ok() && v.size() == 24) {
    lsn = DecodeBE64(std::string_view(v).substr(0, 8));
  }
  applied_.emplace(std::string(projection), lsn);
  return lsn;
}

std::unique_ptr<rocksdb::Iterator> StateReader::NewIterator(std::string_view cf) {
  rocksdb::ColumnFamilyHandle* h = view_->cf(cf);
  if (h == nullptr) return nullptr;
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  return std::unique_ptr<rocksdb::Iterator>(store_->db()->NewIterator(ro, h));
}

StateReader::Lease::~Lease() {
  // An iterator that failed is not reused.
  if (it_ && it_->status().ok()) r_->idle_[key_].push_back(std::move(it_));
}

StateReader::Lease StateReader::Borrow(std::string_view cf, std::string_view key) {
  std::string k(cf);
  k.push_back('/');
  if (!key.empty()) k.push_back(key[0]);
  auto it = idle_.find(k);
  if (it != idle_.end() && !it->second.empty()) {
    std::unique_ptr<rocksdb::Iterator> i = std::move(it->second.back());
    it->second.pop_back();
    return Lease(this, std::move(k), std::move(i));
  }
  return Lease(this, std::move(k), NewIterator(cf));
}

static Status NoCf(std::string_view cf) {
  return Status::NotFound("no projection state named " + std::string(cf));
}

Result<Lsn> StateReader::LsnAtOrBefore(int64_t ns) {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator("times");
  if (!it) return NoCf("times");
  // Keys are BE64(time) -> BE64(first LSN recorded at that time); times never decrease.
  // Record times are not negative, so nothing was recorded at or before a time before the
  // epoch (as uint64 it would sort after every key and resolve to the head).
  if (ns < 0) return Lsn{0};
  std::string k;
  AppendBE64(&k, static_cast<uint64_t>(ns) + 1);
  it->Seek(k);
  if (it->Valid()) {
    return DecodeBE64(std::string_view(it->value().data(), it->value().size())) - 1;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "times index"));
  return applied("times");
}

Result<Lsn> StateReader::Resolve(const AsOf& at, std::string_view projection) {
  const Lsn head = applied(projection);
  switch (at.kind) {
    case AsOf::Kind::kHead:
      return head;
    case AsOf::Kind::kLsn:
      return std::min<Lsn>(at.value, head);
    case AsOf::Kind::kTime: {
      ASSIGN_OR_RETURN(Lsn n, LsnAtOrBefore(static_cast<int64_t>(at.value)));
      return std::min(n, head);
    }
  }
  return head;
}

Result<std::optional<Version>> StateReader::GetAsOf(std::string_view cf, std::string_view entity,
                                                    Lsn as_of) {
  Lease it = Borrow(cf, entity);
  if (!it) return NoCf(cf);
  const std::string k = VersionKey(entity, as_of);
  it->Seek(k);
  if (it->Valid()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.size() == entity.size() + 8 && key.substr(0, entity.size()) == entity) {
      return std::optional<Version>(Version{VersionOf(key), it->value().ToString()});
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "state read"));
  return std::optional<Version>();
}

namespace {

// Entity scans step with Next() over the few versions an entity usually has (one Next through a
// merging iterator is much cheaper than a Seek) and seek only past a longer run of them.
constexpr int kStepsBeforeSeek = 4;

std::string_view KeyOf(const rocksdb::Iterator* it) {
  return std::string_view(it->key().data(), it->key().size());
}

// Moves `it` from a version of `entity` to the first key of the next entity (or !Valid).
void SkipEntity(rocksdb::Iterator* it, const std::string& entity) {
  for (int i = 0; i < kStepsBeforeSeek; ++i) {
    it->Next();
    if (!it->Valid() || EntityOf(KeyOf(it)) != entity) return;
  }
  it->Seek(PrefixEnd(entity));
}

// Moves `it` from a version of `entity` newer than `as_of` to the newest version <= as_of, or
// past the entity's versions if it has none (or !Valid).
void SeekVersion(rocksdb::Iterator* it, const std::string& entity, Lsn as_of) {
  for (int i = 0; i < kStepsBeforeSeek; ++i) {
    it->Next();
    if (!it->Valid()) return;
    const std::string_view key = KeyOf(it);
    if (EntityOf(key) != entity || VersionOf(key) <= as_of) return;
  }
  it->Seek(VersionKey(entity, as_of));
}

}  // namespace

Status StateReader::ScanAsOf(std::string_view cf, std::string_view prefix, Lsn as_of,
                             const std::function<bool(std::string_view, const Version&)>& fn) {
  Lease it = Borrow(cf, prefix);
  if (!it) return NoCf(cf);
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  it->Seek(pre);
  std::string entity;
  Version v;
  while (it->Valid() && it->key().starts_with(pre)) {
    std::string_view key = KeyOf(it.get());
    entity.assign(EntityOf(key));
    // Versions sort newest first: go to the newest one <= as_of, if the entity has one.
    if (VersionOf(key) > as_of) {
      SeekVersion(it.get(), entity, as_of);
      if (!it->Valid()) break;
      key = KeyOf(it.get());
    }
    if (EntityOf(key) == entity) {
      v.lsn = VersionOf(key);
      v.value.assign(it->value().data(), it->value().size());
      if (!fn(entity, v)) return Status::Ok();
      // Skip the entity's older versions.
      SkipEntity(it.get(), entity);
    }
  }
  return FromRocks(it->status(), "state scan");
}

Status StateReader::History(std::string_view cf, std::string_view entity, Lsn from, Lsn to,
                            const std::function<bool(const Version&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(cf);
  if (!it) return NoCf(cf);
  // Newest first on disk; walk backwards from the oldest wanted version for oldest-first.
  const std::string lo = VersionKey(entity, from);  // the last key wanted
  const std::string hi = VersionKey(entity, to);    // the first key wanted
  it->SeekForPrev(lo);
  Version v;
  while (it->Valid()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key < std::string_view(hi) || EntityOf(key) != entity || key.size() != entity.size() + 8) {
      break;
    }
    v.lsn = VersionOf(key);
    v.value.assign(it->value().data(), it->value().size());
    if (!fn(v)) return Status::Ok();
    it->Prev();
  }
  return FromRocks(it->status(), "state history");
}

Status StateReader::ChangedBetween(std::string_view cf, std::string_view prefix, Lsn n1, Lsn n2,
                                   const std::function<bool(std::string_view)>& fn) {
  Lease it = Borrow(cf, prefix);
  if (!it) return NoCf(cf);
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  it->Seek(pre);
  std::string entity;
  while (it->Valid() && it->key().starts_with(pre)) {
    std::string_view key = KeyOf(it.get());
    entity.assign(EntityOf(key));
    // The newest version <= n2; the entity changed in (n1, n2] iff that version is > n1.
    if (VersionOf(key) > n2) {
      SeekVersion(it.get(), entity, n2);
      if (!it->Valid()) break;
      key = KeyOf(it.get());
    }
    if (EntityOf(key) == entity) {
      if (VersionOf(key) > n1 && !fn(entity)) return Status::Ok();
      SkipEntity(it.get(), entity);
    }
  }
  return FromRocks(it->status(), "state scan");
}

Status StateReader::Scan(std::string_view cf, std::string_view prefix, std::string_view start,
                         const std::function<bool(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(cf);
  if (!it) return NoCf(cf);
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  std::string_view from = start.size() >= prefix.size() ? start : prefix;
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid() && it->key().starts_with(pre);
       it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      return Status::Ok();
    }
  }
  return FromRocks(it->status(), "state scan");
}

Status StateReader::ScanReverse(std::string_view cf, std::string_view prefix,
                                const std::function<bool(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(cf);
  if (!it) return NoCf(cf);
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  internal::SeekToLastWithPrefix(it.get(), prefix);
  for (; it->Valid() && it->key().starts_with(pre); it->Prev()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      return Status::Ok();
    }
  }
  return FromRocks(it->status(), "state scan");
}

Result<std::optional<std::string>> StateReader::Get(std::string_view cf, std::string_view key) {
  rocksdb::ColumnFamilyHandle* h = view_->cf(cf);
  if (h == nullptr) return NoCf(cf);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::string v;
  rocksdb::Status s = store_->db()->Get(ro, h, rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "state read"));
  return std::optional<std::string>(std::move(v));
}

}  // namespace tink::projections
