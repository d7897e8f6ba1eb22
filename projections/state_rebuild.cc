// StateStore generations: which column family holds each projection (MapGenerations at open),
// rebuilds next to the live state, the atomic swap, and Drop as the swap of an empty generation.
// See the header comment of state_store.h.
#include <rocksdb/metadata.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "projections/internal/bulk_load.h"
#include "projections/internal/state_apply.h"
#include "projections/state_store.h"

namespace tink::projections {

using internal::EncodeApplied;

namespace {

// "<projection>@<n>" -> n, or 0 for any other name.
// Column family options while a bulk load buffers and ingests, and after it.
const std::unordered_map<std::string, std::string> kBulkCfOptions = {
    {"disable_auto_compactions", "true"},
    {"level0_file_num_compaction_trigger", "100000"},
    {"level0_slowdown_writes_trigger", "100000"},
    {"level0_stop_writes_trigger", "100000"}};

std::unordered_map<std::string, std::string> NormalCfOptions() {
  const rocksdb::ColumnFamilyOptions o = internal::CfOptions();
  return {{"disable_auto_compactions", o.disable_auto_compactions ? "true" : "false"},
          {"level0_file_num_compaction_trigger",
           std::to_string(o.level0_file_num_compaction_trigger)},
          {"level0_slowdown_writes_trigger", std::to_string(o.level0_slowdown_writes_trigger)},
          {"level0_stop_writes_trigger", std::to_string(o.level0_stop_writes_trigger)}};
}

uint64_t GenerationOf(std::string_view cf_name, std::string_view* projection) {
  const size_t at = cf_name.rfind('@');
  if (at == std::string_view::npos || at + 1 == cf_name.size()) return 0;
  uint64_t n = 0;
  for (char c : cf_name.substr(at + 1)) {
    if (c < '0' || c > '9' || n > UINT64_MAX / 10 - 1) return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *projection = cf_name.substr(0, at);
  return n;
}

}  // namespace

StateStore::Column::~Column() { (void)db->DestroyColumnFamilyHandle(handle); }

Status StateStore::MapGenerations(const std::vector<std::string>& cf_names,
                                  const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  // Own every handle first, so an error below leaks none.
  default_cf_ = handles[0];
  std::map<std::string, std::shared_ptr<Column>, std::less<>> by_name;
  uint64_t max_generation = 0;
  for (size_t i = 1; i < handles.size(); ++i) {
    by_name[cf_names[i]] = std::make_shared<Column>(db_.get(), handles[i]);
    std::string_view base;
    max_generation = std::max(max_generation, GenerationOf(cf_names[i], &base));
  }
  next_generation_ = max_generation + 1;
  auto view = std::make_shared<View>();
  for (Projection* p : projections_) {
    ASSIGN_OR_RETURN(std::optional<std::string> named, GetMeta(GenerationKey(p->name())));
    const std::string current = named ? *named : std::string(p->name());
    auto it = by_name.find(current);
    if (it != by_name.end()) {
      view->columns[std::string(p->name())] = it->second;
      by_name.erase(it);
      continue;
    }
    if (options_.read_only) continue;  // no state for it: its reads say NotFound
    // A new store or projection gets the plain name. A generation named but missing (only a
    // damaged state can do that) starts the projection over in a fresh one.
    rocksdb::ColumnFamilyHandle* h = nullptr;
    std::string name = std::string(p->name());
    // append(), not += "@" + ...: GCC 12 at -O3 reports a false -Wrestrict on the latter.
    if (named) name.append("@").append(std::to_string(next_generation_++));
    RETURN_IF_ERROR(FromRocks(db_->CreateColumnFamily(internal::CfOptions(), name, &h),
                              "creating " + name));
    view->columns[std::string(p->name())] = std::make_shared<Column>(db_.get(), h);
    if (named) {
      rocksdb::WriteBatch b;
      b.Put(GenerationKey(p->name()), name);
      b.Delete(AppliedKey(p->name()));
      RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &b), "state meta"));
    }
  }
  // What is left is a generation no meta key names (a rebuild cut short, or the old side of a
  // swap not dropped yet) or a column family of no projection (kept, as before).
  for (auto& [name, column] : by_name) {
    std::string_view base = name;
    const bool generation = GenerationOf(name, &base) != 0 || projection(name) != nullptr;
    if (!generation || projection(base) == nullptr || options_.read_only) {
      others_.push_back(column);
      continue;
    }
    RETURN_IF_ERROR(
        FromRocks(db_->DropColumnFamily(column->handle), "dropping stale state " + name));
    RETURN_IF_ERROR(
        FromRocks(db_->Delete(rocksdb::WriteOptions(), AppliedKey(name)), "state meta"));
  }
  std::lock_guard<std::mutex> l(view_mu_);
  view_ = std::move(view);
  return Status::Ok();
}

Result<std::shared_ptr<StateStore::Column>> StateStore::NewGeneration(std::string_view projection,
                                                                      std::string* cf_name) {
  *cf_name = std::string(projection) + "@" + std::to_string(next_generation_++);
  rocksdb::ColumnFamilyHandle* h = nullptr;
  RETURN_IF_ERROR(FromRocks(db_->CreateColumnFamily(internal::CfOptions(), *cf_name, &h),
                            "creating " + *cf_name));
  return std::make_shared<Column>(db_.get(), h);
}

Result<std::unique_ptr<StateStore::Rebuild>> StateStore::BeginRebuild(
    std::vector<Projection*> fresh, size_t bulk_bytes) {
  if (options_.read_only) return Status::NotSupported("projection state is open read-only");
  std::unique_ptr<Rebuild> r(new Rebuild());
  r->store_ = this;
  r->bulk_bytes_ = bulk_bytes;
  for (Projection* p : fresh) {
    if (projection(p->name()) == nullptr) {
      return Status::InvalidArgument("no projection named " + std::string(p->name()));
    }
    Rebuild::Part part;
    part.fresh = p;
    part.name = std::string(p->name());
    ASSIGN_OR_RETURN(part.column, NewGeneration(part.name, &part.cf_name));
    if (bulk_bytes > 0) {
      part.bulk = std::make_shared<internal::BulkBuffer>();
      // The ingested files overlap (ids are random, every other key space spans the whole log):
      // compacting them as they arrive rewrote the state two or three times over (half the
      // replay's CPU, measured). The replay compacts each rebuilt column family once at the
      // end, so nothing is compacted before; no L0 trigger may stall the held part meanwhile.
      RETURN_IF_ERROR(FromRocks(db_->SetOptions(part.column->handle, kBulkCfOptions),
                                "bulk load: options of " + part.cf_name));
    }
    p->ResetCache();
    r->parts_.push_back(std::move(part));
  }
  return r;
}

StateStore::Rebuild::~Rebuild() {
  if (swapped_ || store_ == nullptr) return;
  // Abandoned: what it built goes (a crash instead leaves it to the next Open).
  for (const Part& part : parts_) {
    (void)store_->db_->DropColumnFamily(part.column->handle);
    (void)store_->db_->Delete(rocksdb::WriteOptions(), AppliedKey(part.cf_name));
  }
}

Lsn StateStore::Rebuild::applied() const {
  Lsn m = UINT64_MAX;
  for (const Part& part : parts_) m = std::min(m, part.applied.lsn);
  return parts_.empty() ? 0 : m;
}

Status StateStore::Rebuild::Apply(std::span<const Event> events, std::span<const uint64_t> hashes) {
  if (events.empty()) return Status::Ok();
  const Lsn first = events.front().lsn;
  const Lsn last = events.back().lsn;
  rocksdb::WriteBatch batch;
  std::vector<Part*> moved;
  // Bulk mode: each part's writes, added to its buffer once every part has folded the batch.
  std::vector<std::vector<std::pair<std::string, std::string>>> bulk_puts;
  const Applied a{last, events.back().time_ns, hashes.back()};
  for (Part& part : parts_) {
    if (part.applied.lsn >= last) continue;
    if (part.applied.lsn + 1 < first) {
      return Status::Failed("rebuild of " + part.name + " is at LSN " +
                            std::to_string(part.applied.lsn) + " but was given events from " +
                            std::to_string(first));
    }
    std::vector<std::pair<std::string, std::string>>* out = nullptr;
    if (part.bulk) out = &bulk_puts.emplace_back();
    Status s = internal::FoldInto(part.fresh, store_->db_.get(), part.column->handle,
                                  part.applied.lsn, events, &batch, part.bulk.get(), out);
    if (!s.ok()) {
      for (Part& q : parts_) q.fresh->ResetCache();
      return s.WithContext("rebuilding projection " + part.name);
    }
    batch.Put(AppliedKey(part.cf_name), EncodeApplied(a));
    moved.push_back(&part);
  }
  if (moved.empty()) return Status::Ok();

  rocksdb::WriteOptions wo;
  wo.disableWAL = !store_->options_.rocksdb_wal;
  rocksdb::Status ws = store_->db_->Write(wo, &batch);
  if (!ws.ok()) {
    for (Part& q : parts_) q.fresh->ResetCache();
    return FromRocks(ws, "writing rebuilt projection state");
  }
  size_t next_bulk = 0;
  size_t buffered = 0;
  for (Part& part : parts_) {
    if (!part.bulk) continue;
    if (part.applied.lsn < last) part.bulk->Add(std::move(bulk_puts[next_bulk++]));
    buffered += part.bulk->bytes();
  }
  for (Part* part : moved) {
    part->fresh->Committed();
    part->applied = a;
  }
  // Past the bound the buffers go to disk (one SST file per column family); the rest waits for
  // EndBulk. The applied positions above are only the rebuild's own: nothing names these
  // column families until Swap, which ingests what is left first.
  if (bulk_bytes_ > 0 && buffered >= bulk_bytes_) return Ingest(/*last=*/false);
  return Status::Ok();
}

Status StateStore::Rebuild::Ingest(bool last) {
  rocksdb::DB* db = store_->db_.get();
  const std::string dir = db->GetName() + "/" + std::string(internal::kBulkDir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("bulk load: creating " + dir + ": " + ec.message());
  rocksdb::Options options(db->GetDBOptions(), internal::CfOptions());
  // Files that a compaction will merge (the replay's, at the end) are written uncompressed:
  // compressing them only to decompress them there cost ~10% of the replay. A single ingest
  // is final, and compressed like any other file.
  if (!last || ingests_ > 0) options.compression = rocksdb::kNoCompression;
  bool any = false;
  for (Part& part : parts_) {
    if (!part.bulk || part.bulk->empty()) continue;
    const std::string path = dir + "/" + part.cf_name + "-" + std::to_string(ingests_) + ".sst";
    Status s = part.bulk->WriteAndIngest(db, part.column->handle, options, path);
    if (!s.ok()) return s.WithContext("rebuilding projection " + part.name);
    any = true;
  }
  if (any) ++ingests_;
  return Status::Ok();
}

Status StateStore::Rebuild::EndBulk() {
  if (bulk_bytes_ == 0) return Status::Ok();
  RETURN_IF_ERROR(Ingest(/*last=*/true));
  bulk_bytes_ = 0;
  rocksdb::DB* db = store_->db_.get();
  for (Part& part : parts_) {
    part.bulk.reset();
    // Several ingests left overlapping files on several levels (each ingest goes to the lowest
    // level it does not overlap), which a CompactRange rewrote once per level: 3 G instructions
    // for a 5 MiB state (callgrind). One CompactFiles merges them all into the last level in
    // one pass, compressed like any other file.
    rocksdb::ColumnFamilyMetaData md;
    db->GetColumnFamilyMetaData(part.column->handle, &md);
    std::vector<std::string> files;
    for (const rocksdb::LevelMetaData& level : md.levels) {
      for (const rocksdb::SstFileMetaData& f : level.files) files.push_back(f.name);
    }
    if (files.size() > 1) {
      rocksdb::CompactionOptions co;
      co.compression = rocksdb::kDisableCompressionOption;  // the column family's
      co.output_file_size_limit = 64 << 20;
      RETURN_IF_ERROR(FromRocks(db->CompactFiles(co, part.column->handle, files,
                                                 static_cast<int>(md.levels.size()) - 1),
                                "bulk load: merging the files of " + part.cf_name));
    }
    RETURN_IF_ERROR(FromRocks(db->SetOptions(part.column->handle, NormalCfOptions()),
                              "bulk load: options of " + part.cf_name));
  }
  return Status::Ok();
}

Status StateStore::Swap(Rebuild& r) {
  if (r.store_ != this || r.swapped_) return Status::InvalidArgument("not a rebuild of this state");
  RETURN_IF_ERROR(r.EndBulk());
  rocksdb::WriteBatch b;
  for (const Rebuild::Part& part : r.parts_) {
    b.Put(GenerationKey(part.name), part.cf_name);
    if (part.applied.lsn == 0) {
      b.Delete(AppliedKey(part.name));
    } else {
      b.Put(AppliedKey(part.name), EncodeApplied(part.applied));
    }
    b.Delete(AppliedKey(part.cf_name));
    b.Put(FormatKey(part.name), std::to_string(projection(part.name)->format_version()));
  }
  // Like the projection writes: without RocksDB's WAL it becomes durable with the next (atomic)
  // flush, together with the new generations' data; until then the old side is not dropped.
  rocksdb::WriteOptions wo;
  wo.disableWAL = !options_.rocksdb_wal;
  {
    std::lock_guard<std::mutex> f(flush_mu_);  // no flush between the write and the new view
    std::lock_guard<std::mutex> l(view_mu_);
    RETURN_IF_ERROR(FromRocks(db_->Write(wo, &b), "swapping in rebuilt projection state"));
    auto next = std::make_shared<View>(*view_);
    for (const Rebuild::Part& part : r.parts_) {
      std::shared_ptr<Column>& slot = next->columns[part.name];
      if (slot) retired_.push_back(slot);
      slot = part.column;
    }
    view_ = std::move(next);
    std::lock_guard<std::mutex> a(applied_mu_);
    for (const Rebuild::Part& part : r.parts_) applied_[part.name] = part.applied;
  }
  r.swapped_ = true;
  // The live Projection objects cached the old generation; they reload from the new one.
  for (const Rebuild::Part& part : r.parts_) projection(part.name)->ResetCache();
  return Status::Ok();
}

Status StateStore::DropRetired() {
  std::vector<std::shared_ptr<Column>> old;
  {
    std::lock_guard<std::mutex> l(view_mu_);
    old.swap(retired_);
  }
  if (old.empty()) return Status::Ok();
  // The swaps that retired these are written; the flush makes them durable (with the WAL off,
  // a crash before it recovers the old generations, which must still be there).
  Status s = Flush();
  if (!s.ok()) return s;  // not dropped: the next Open drops whichever side is stale
  for (const std::shared_ptr<Column>& c : old) {
    Status d = FromRocks(db_->DropColumnFamily(c->handle), "dropping replaced projection state");
    if (s.ok()) s = d;
  }
  return s;  // handles are destroyed when the last reader holding them lets go
}

Status StateStore::Drop(std::string_view projection) {
  Projection* p = this->projection(projection);
  if (p == nullptr) return Status::NotFound("no projection named " + std::string(projection));
  Rebuild r;
  r.store_ = this;
  Rebuild::Part part;
  part.fresh = p;  // applies nothing; Swap resets the live caches
  part.name = std::string(projection);
  ASSIGN_OR_RETURN(part.column, NewGeneration(part.name, &part.cf_name));
  r.parts_.push_back(std::move(part));
  RETURN_IF_ERROR(Swap(r));
  return DropRetired();
}

}  // namespace tink::projections
