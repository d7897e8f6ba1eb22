#include "projections/state_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <filesystem>

#include "projections/internal/bulk_load.h"
#include "projections/internal/rocks_iter.h"
#include "projections/internal/state_apply.h"

namespace tink::projections {

namespace {
// Discards RocksDB's informational log (read-only opens).
class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};
}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsNoSpace()) return Status::IOError(msg, SubCode::kNoSpace);
  return Status::IOError(msg);
}

void ApplyContext::Put(std::string_view key, std::string_view value) {
  puts_.emplace_back(std::string(key), std::string(value));
}

std::vector<std::pair<std::string, std::string>> ApplyContext::TakeSortedPuts() {
  // Measured: inserting a batch's keys in order lets RocksDB's skiplist reuse its last splice
  // instead of searching from the top for every key (see docs/performance.md).
  std::stable_sort(puts_.begin(), puts_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return std::move(puts_);
}

Result<std::optional<std::string>> ApplyContext::Get(std::string_view key) {
  if (pending_ != nullptr) return internal::BulkGet(db_, cf_, *pending_, key);
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_, rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "state read"));
  return std::optional<std::string>(std::move(v));
}

Result<std::optional<std::string>> ApplyContext::Latest(std::string_view entity, Lsn* version) {
  if (pending_ != nullptr) return internal::BulkLatest(db_, cf_, *pending_, entity, version);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  it->Seek(rocksdb::Slice(entity.data(), entity.size()));
  if (it->Valid()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.size() == entity.size() + 8 && k.substr(0, entity.size()) == entity) {
      if (version) *version = VersionOf(k);
      return std::optional<std::string>(it->value().ToString());
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "state read"));
  return std::optional<std::string>();
}

Status ApplyContext::ScanPrefix(
    std::string_view prefix,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  if (pending_ != nullptr) return internal::BulkScanPrefix(db_, cf_, *pending_, prefix, fn);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  for (it->Seek(pre); it->Valid() && it->key().starts_with(pre); it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      return Status::Ok();
    }
  }
  return FromRocks(it->status(), "state scan");
}

Result<std::optional<std::pair<std::string, std::string>>> ApplyContext::LastWithPrefix(
    std::string_view prefix) {
  if (pending_ != nullptr) return internal::BulkLastWithPrefix(db_, cf_, *pending_, prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  internal::SeekToLastWithPrefix(it.get(), prefix);
  using Out = std::optional<std::pair<std::string, std::string>>;
  if (it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) {
    return Out(std::make_pair(it->key().ToString(), it->value().ToString()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "state read"));
  return Out();
}

std::string AppliedKey(std::string_view projection) {
  return "applied/" + std::string(projection);
}
std::string FormatKey(std::string_view projection) { return "format/" + std::string(projection); }

std::string GenerationKey(std::string_view projection) { return "cf/" + std::string(projection); }

namespace internal {

std::string EncodeApplied(const Applied& a) {
  std::string v;
  AppendBE64(&v, a.lsn);
  AppendBE64(&v, static_cast<uint64_t>(a.time_ns));
  AppendBE64(&v, a.payload_hash);
  return v;
}

bool DecodeApplied(std::string_view v, Applied* a) {
  if (v.size() != 24) return false;
  a->lsn = DecodeBE64(v.substr(0, 8));
  a->time_ns = static_cast<int64_t>(DecodeBE64(v.substr(8, 8)));
  a->payload_hash = DecodeBE64(v.substr(16, 8));
  return true;
}

// --- Read side: the block cache (table options) ---
// One LRU block cache for every column family of the process (RocksDB's default is 8 MiB per
// column family), sized to the state at each Open (SizeBlockCache): as-of lookups and graph
// reads seek all over the state, and a block that is not cached costs a pread from the page
// cache and a decompression (docs/performance.md, issue 16).
constexpr size_t kMinBlockCache = 32 << 20;
constexpr size_t kMaxBlockCache = 256 << 20;

const std::shared_ptr<rocksdb::Cache>& SharedBlockCache() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kMinBlockCache);
  return cache;
}

// Raises the shared cache to the size of the state's SST files (never lowers it: another store
// of the process may need it), within [kMinBlockCache, kMaxBlockCache].
void SizeBlockCache(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  uint64_t bytes = 0;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    uint64_t v = 0;
    if (db->GetIntProperty(h, "rocksdb.total-sst-files-size", &v)) bytes += v;
  }
  const size_t want = static_cast<size_t>(
      std::clamp<uint64_t>(bytes + bytes / 4, kMinBlockCache, kMaxBlockCache));
  const std::shared_ptr<rocksdb::Cache>& cache = SharedBlockCache();
  if (want > cache->GetCapacity()) cache->SetCapacity(want);
}

rocksdb::ColumnFamilyOptions CfOptions() {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 32 << 20;
  // Point lookups of keys that are not there (the append path's check of every new event id)
  // skip the files a bloom filter rules out; with the tail thread flushing about once a second
  // there are more, smaller files to rule out (docs/performance.md, "Live ingest").
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.block_cache = SharedBlockCache();
  // Uncompressed blocks: with mmap reads (StateStore::Open) a block the cache misses is used
  // where it lies in the page cache, no decompression and no heap copy.
  o.compression = rocksdb::kNoCompression;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

Status FoldInto(Projection* p, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h, Lsn at,
                std::span<const Event> events, rocksdb::WriteBatch* batch,
                const BulkBuffer* pending,
                std::vector<std::pair<std::string, std::string>>* bulk_out) {
  ApplyContext ctx(db, h, pending);
  for (const Event& e : events) {
    // fb == nullptr: an event that does not decode; its position still counts as applied.
    if (e.lsn <= at || e.fb == nullptr) continue;
    RETURN_IF_ERROR(p->Apply(e, ctx));
  }
  if (bulk_out != nullptr) {
    *bulk_out = ctx.TakeSortedPuts();
    return Status::Ok();
  }
  for (const auto& [k, v] : ctx.TakeSortedPuts()) batch->Put(h, k, v);
  return Status::Ok();
}

}  // namespace internal

using internal::CfOptions;
using internal::DecodeApplied;
using internal::EncodeApplied;

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir,
                                                     std::vector<Projection*> projections,
                                                     StateOptions options) {
  std::unique_ptr<StateStore> st(new StateStore());
  st->options_ = options;
  st->projections_ = std::move(projections);

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = !options.read_only;
  dbo.create_missing_column_families = !options.read_only;
  dbo.keep_log_file_num = 2;
  dbo.max_manifest_file_size = 16 << 20;
  dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // A reader must not change the store: RocksDB would otherwise create (and rotate) its LOG
  // file in the state directory even when it opens it read-only.
  if (options.read_only) dbo.info_log = std::make_shared<SilentLogger>();
  if (!options.rocksdb_wal) dbo.atomic_flush = true;
  // Read side: SST files are read through mmap, so a block the block cache does not hold is
  // decompressed straight from the page cache instead of being pread (a system call and a copy
  // per block: half the time of a graph read that missed the cache, docs/performance.md).
  dbo.allow_mmap_reads = true;

  std::vector<std::string> existing;
  rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(dbo, dir, &existing);
  if (!ls.ok()) existing.clear();  // a new state
  if (options.read_only && existing.empty()) {
    return Status::NotFound("no projection state in " + dir);
  }
  // Every column family there is (RocksDB opens all or none); which generation each projection
  // uses is read from the meta keys afterwards (MapGenerations).
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (const std::string& e : existing) {
    if (e != rocksdb::kDefaultColumnFamilyName) names.push_back(e);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const std::string& n : names) descs.emplace_back(n, CfOptions());

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  if (options.read_only) {
    // A read-only snapshot of what the writer had flushed or logged when we opened. Not a
    // RocksDB secondary: TryCatchUpWithPrimary of RocksDB 7.8 crashed (SIGSEGV in
    // VersionStorageInfo::LevelSummary) when the writer reopened meanwhile. Readers get the rest
    // from the log (engine::Engine::Scan). All files are opened now (max_open_files = -1), so a
    // compaction in the writer cannot pull one away later.
    dbo.max_open_files = -1;
    s = rocksdb::DB::OpenForReadOnly(dbo, dir, descs, &handles, &raw,
                                     /*error_if_wal_file_exists=*/false);
  } else {
    s = rocksdb::DB::Open(dbo, dir, descs, &handles, &raw);
  }
  RETURN_IF_ERROR(FromRocks(s, "opening projection state " + dir));
  st->db_.reset(raw);
  internal::SizeBlockCache(raw, handles);
  if (!options.read_only) {
    // SST files of a bulk load cut short (a crash between writing and ingesting them).
    std::error_code ec;
    std::filesystem::remove_all(dir + "/" + std::string(internal::kBulkDir), ec);
  }
  RETURN_IF_ERROR(st->MapGenerations(names, handles));
  RETURN_IF_ERROR(st->LoadApplied());
  if (!options.read_only) {
    // A state written with another layout of a projection is rebuilt, not misread.
    for (Projection* p : st->projections_) {
      ASSIGN_OR_RETURN(std::optional<std::string> f, st->GetMeta(FormatKey(p->name())));
      if (!f || *f != std::to_string(p->format_version())) RETURN_IF_ERROR(st->Drop(p->name()));
    }
  }
  return st;
}

StateStore::~StateStore() {
  if (!db_) return;
  {
    std::lock_guard<std::mutex> l(view_mu_);
    view_.reset();
    retired_.clear();
  }
  others_.clear();
  if (default_cf_ != nullptr) (void)db_->DestroyColumnFamilyHandle(default_cf_);
  (void)db_->Close();
}

Status StateStore::LoadApplied() {
  std::lock_guard<std::mutex> l(applied_mu_);
  applied_.clear();
  for (Projection* p : projections_) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), AppliedKey(p->name()), &v);
    Applied a;
    if (s.ok()) {
      if (!DecodeApplied(v, &a)) {
        return Status::Corruption("projection state: bad applied position for " +
                                  std::string(p->name()));
      }
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "reading applied position");
    }
    applied_[std::string(p->name())] = a;
  }
  return Status::Ok();
}

rocksdb::ColumnFamilyHandle* StateStore::View::cf(std::string_view projection) const {
  auto it = columns.find(projection);
  return it == columns.end() ? nullptr : it->second->handle;
}

std::shared_ptr<const StateStore::View> StateStore::view() const {
  std::lock_guard<std::mutex> l(view_mu_);
  return view_;
}

std::shared_ptr<const StateStore::View> StateStore::Capture(
    const rocksdb::Snapshot** snapshot) const {
  // Under view_mu_: Swap writes its batch and publishes its view under it, so the snapshot and
  // the view are from the same side of every swap.
  std::lock_guard<std::mutex> l(view_mu_);
  *snapshot = db_->GetSnapshot();
  return view_;
}

rocksdb::ColumnFamilyHandle* StateStore::cf(std::string_view projection) const {
  return view()->cf(projection);
}

Projection* StateStore::projection(std::string_view name) const {
  for (Projection* p : projections_) {
    if (p->name() == name) return p;
  }
  return nullptr;
}

Applied StateStore::applied(std::string_view projection) const {
  std::lock_guard<std::mutex> l(applied_mu_);
  auto it = applied_.find(projection);
  return it == applied_.end() ? Applied{} : it->second;
}

Lsn StateStore::min_applied() const {
  std::lock_guard<std::mutex> l(applied_mu_);
  Lsn m = UINT64_MAX;
  for (const auto& [name, a] : applied_) m = std::min(m, a.lsn);
  return applied_.empty() ? 0 : m;
}

Status StateStore::ApplyGroup(std::span<Projection* const> group, std::span<const Event> events,
                              std::span<const uint64_t> hashes) {
  const Lsn last = events.back().lsn;
  // Held for the batch: Swap runs under the same applier lock, so this is the current view.
  const std::shared_ptr<const View> v = view();
  rocksdb::WriteBatch batch;
  std::vector<std::pair<Projection*, Applied>> moved;
  for (Projection* p : group) {
    const Applied at = applied(p->name());
    Status s = internal::FoldInto(p, db_.get(), v->cf(p->name()), at.lsn, events, &batch);
    if (!s.ok()) {
      for (Projection* q : group) q->ResetCache();
      return s.WithContext("projection " + std::string(p->name()));
    }
    Applied a{last, events.back().time_ns, hashes.back()};
    batch.Put(AppliedKey(p->name()), EncodeApplied(a));
    moved.emplace_back(p, a);
  }
  if (moved.empty()) return Status::Ok();
  rocksdb::WriteOptions wo;
  wo.disableWAL = !options_.rocksdb_wal;
  rocksdb::Status ws = db_->Write(wo, &batch);
  if (!ws.ok()) {
    for (Projection* q : group) q->ResetCache();
    return FromRocks(ws, "writing projection state");
  }
  for (auto& [p, a] : moved) p->Committed();
  std::lock_guard<std::mutex> l(applied_mu_);
  for (auto& [p, a] : moved) applied_[std::string(p->name())] = a;
  return Status::Ok();
}

Status StateStore::Apply(std::span<const Event> events, std::span<const uint64_t> hashes) {
  if (options_.read_only) return Status::NotSupported("projection state is open read-only");
  if (events.empty()) return Status::Ok();
  const Lsn first = events.front().lsn;
  const Lsn last = events.back().lsn;
  std::vector<Projection*> behind;
  for (Projection* p : projections_) {
    const Applied at = applied(p->name());
    if (at.lsn >= last) continue;
    if (at.lsn + 1 < first) {
      return Status::Failed("projection " + std::string(p->name()) + " is at LSN " +
                            std::to_string(at.lsn) + " but was given events from " +
                            std::to_string(first));
    }
    behind.push_back(p);
  }
  // One WriteBatch for all. Folding the groups on two threads was measured slower: concurrent
  // memtable inserts do not reuse the skiplist's last insert position (docs/performance.md).
  return ApplyGroup(behind, events, hashes);
}

Result<std::optional<std::string>> StateStore::GetMeta(std::string_view key) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "state meta"));
  return std::optional<std::string>(std::move(v));
}

Status StateStore::SetMeta(std::string_view key, std::string_view value) {
  return FromRocks(db_->Put(rocksdb::WriteOptions(), rocksdb::Slice(key.data(), key.size()),
                            rocksdb::Slice(value.data(), value.size())),
                   "state meta");
}

Result<std::string> StateStore::Digest(std::string_view projection) {
  // One snapshot with its view: the column family and the applied position agree even while
  // the tail thread applies or a replay swaps.
  const rocksdb::Snapshot* snap = nullptr;
  const std::shared_ptr<const View> v = Capture(&snap);
  rocksdb::ColumnFamilyHandle* h = v->cf(projection);
  if (h == nullptr) {
    db_->ReleaseSnapshot(snap);
    return Status::NotFound("no projection named " + std::string(projection));
  }
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  auto add = [&](std::string_view s) {
    char len[8];
    uint64_t n = s.size();
    std::memcpy(len, &n, 8);
    XXH3_128bits_update(st, len, 8);
    XXH3_128bits_update(st, s.data(), s.size());
  };
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.snapshot = snap;
  Status s;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      add(std::string_view(it->key().data(), it->key().size()));
      add(std::string_view(it->value().data(), it->value().size()));
    }
    s = FromRocks(it->status(), "reading " + std::string(projection));
  }
  if (s.ok()) {
    std::string raw;
    Applied a;
    rocksdb::Status gs = db_->Get(ro, AppliedKey(projection), &raw);
    if (gs.ok() && !DecodeApplied(raw, &a)) {
      s = Status::Corruption("projection state: bad applied position for " +
                             std::string(projection));
    } else if (!gs.ok() && !gs.IsNotFound()) {
      s = FromRocks(gs, "reading applied position");
    }
    add(EncodeApplied(a));
  }
  db_->ReleaseSnapshot(snap);
  XXH128_hash_t h128 = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  RETURN_IF_ERROR(s);
  char hex[33];
  snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h128.high64),
           static_cast<unsigned long long>(h128.low64));
  return std::string(hex);
}

Status StateStore::Compact(std::string_view projection) {
  const std::shared_ptr<const View> v = view();  // keeps the handle alive meanwhile
  rocksdb::ColumnFamilyHandle* h = v->cf(projection);
  if (h == nullptr) return Status::NotFound("no projection named " + std::string(projection));
  rocksdb::CompactRangeOptions o;
  return FromRocks(db_->CompactRange(o, h, nullptr, nullptr), "compacting " + std::string(projection));
}

Status StateStore::Flush() {
  // Without this lock a Swap between taking the view and switching the memtables would put its
  // metadata (in the default column family) on disk naming generations this flush leaves out.
  std::lock_guard<std::mutex> l(flush_mu_);
  rocksdb::FlushOptions fo;
  const std::shared_ptr<const View> v = view();
  std::vector<rocksdb::ColumnFamilyHandle*> hs = {default_cf_};
  for (const auto& [name, c] : v->columns) hs.push_back(c->handle);
  for (const std::shared_ptr<Column>& c : others_) hs.push_back(c->handle);
  return FromRocks(db_->Flush(fo, hs), "flushing projection state");
}

}  // namespace tink::projections
