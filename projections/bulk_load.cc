#include "projections/internal/bulk_load.h"

#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <filesystem>

#include "projections/internal/rocks_iter.h"
#include "projections/keys.h"
#include "projections/state_store.h"

namespace tink::projections::internal {

namespace {
constexpr size_t kEntryOverhead = 2 * sizeof(std::string);

bool KeyLess(const BulkBuffer::Entry& e, std::string_view k) { return e.first < k; }
}  // namespace

BulkBuffer::Run BulkBuffer::Merge(Run older, Run newer) {
  Run out;
  out.reserve(older.size() + newer.size());
  auto a = older.begin(), b = newer.begin();
  while (a != older.end() && b != newer.end()) {
    if (a->first < b->first) {
      out.push_back(std::move(*a++));
    } else if (b->first < a->first) {
      out.push_back(std::move(*b++));
    } else {
      out.push_back(std::move(*b++));  // the newer write of the same key wins
      ++a;
    }
  }
  for (; a != older.end(); ++a) out.push_back(std::move(*a));
  for (; b != newer.end(); ++b) out.push_back(std::move(*b));
  return out;
}

void BulkBuffer::Add(std::vector<Entry> sorted) {
  if (sorted.empty()) return;
  // Equal keys are adjacent in write order: keep the last of each.
  Run run;
  run.reserve(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && sorted[i + 1].first == sorted[i].first) continue;
    bytes_ += sorted[i].first.size() + sorted[i].second.size() + kEntryOverhead;
    run.push_back(std::move(sorted[i]));
  }
  runs_.push_back(std::move(run));
  // Binary merging keeps O(log n) runs, so a read costs a few binary searches.
  while (runs_.size() >= 2 && runs_[runs_.size() - 2].size() <= 2 * runs_.back().size()) {
    Run newer = std::move(runs_.back());
    runs_.pop_back();
    runs_.back() = Merge(std::move(runs_.back()), std::move(newer));
  }
}

const std::string* BulkBuffer::Get(std::string_view key) const {
  for (auto r = runs_.rbegin(); r != runs_.rend(); ++r) {
    auto it = std::lower_bound(r->begin(), r->end(), key, KeyLess);
    if (it != r->end() && it->first == key) return &it->second;
  }
  return nullptr;
}

const BulkBuffer::Entry* BulkBuffer::LowerBound(std::string_view key) const {
  const Entry* best = nullptr;
  for (auto r = runs_.rbegin(); r != runs_.rend(); ++r) {  // newest first: ties keep the newest
    auto it = std::lower_bound(r->begin(), r->end(), key, KeyLess);
    if (it != r->end() && (best == nullptr || it->first < best->first)) best = &*it;
  }
  return best;
}

const BulkBuffer::Entry* BulkBuffer::LastWithPrefix(std::string_view prefix) const {
  const std::string end = PrefixEnd(prefix);
  const Entry* best = nullptr;
  for (auto r = runs_.rbegin(); r != runs_.rend(); ++r) {
    auto it = end.empty() ? r->end() : std::lower_bound(r->begin(), r->end(), end, KeyLess);
    if (it == r->begin()) continue;
    --it;
    if (!std::string_view(it->first).starts_with(prefix)) continue;
    if (best == nullptr || best->first < it->first) best = &*it;
  }
  return best;
}

std::map<std::string_view, std::string_view> BulkBuffer::WithPrefix(std::string_view prefix) const {
  std::map<std::string_view, std::string_view> out;
  for (const Run& r : runs_) {  // oldest first: newer runs overwrite
    for (auto it = std::lower_bound(r.begin(), r.end(), prefix, KeyLess);
         it != r.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      out[it->first] = it->second;
    }
  }
  return out;
}

Status BulkBuffer::WriteAndIngest(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                  const rocksdb::Options& options, const std::string& path) {
  if (runs_.empty()) return Status::Ok();
  while (runs_.size() >= 2) {
    Run newer = std::move(runs_.back());
    runs_.pop_back();
    runs_.back() = Merge(std::move(runs_.back()), std::move(newer));
  }
  const Run& all = runs_.front();
  {
    rocksdb::SstFileWriter w(rocksdb::EnvOptions(), options, cf);
    RETURN_IF_ERROR(FromRocks(w.Open(path), "bulk load: creating " + path));
    for (const Entry& e : all) {
      RETURN_IF_ERROR(FromRocks(w.Put(e.first, e.second), "bulk load: writing " + path));
    }
    RETURN_IF_ERROR(FromRocks(w.Finish(), "bulk load: finishing " + path));
  }
  rocksdb::IngestExternalFileOptions io;
  io.move_files = true;  // a hard link into the DB; the path itself is removed below
  rocksdb::Status s = db->IngestExternalFile(cf, {path}, io);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  RETURN_IF_ERROR(FromRocks(s, "bulk load: ingesting " + path));
  runs_.clear();
  bytes_ = 0;
  return Status::Ok();
}

Result<std::optional<std::string>> BulkGet(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                           const BulkBuffer& pending, std::string_view key) {
  if (const std::string* v = pending.Get(key)) return std::optional<std::string>(*v);
  std::string v;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocks(s, "state read"));
  return std::optional<std::string>(std::move(v));
}

Result<std::optional<std::string>> BulkLatest(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                              const BulkBuffer& pending, std::string_view entity,
                                              uint64_t* version) {
  // The newest version is the smallest key at or after the entity (versions sort newest first).
  std::optional<std::pair<std::string, std::string>> found;
  if (const BulkBuffer::Entry* p = pending.LowerBound(entity)) found.emplace(p->first, p->second);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  it->Seek(rocksdb::Slice(entity.data(), entity.size()));
  if (it->Valid() && (!found || it->key().compare(found->first) < 0)) {
    found.emplace(it->key().ToString(), it->value().ToString());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "state read"));
  if (!found) return std::optional<std::string>();
  std::string_view k = found->first;
  if (k.size() != entity.size() + 8 || k.substr(0, entity.size()) != entity) {
    return std::optional<std::string>();
  }
  if (version) *version = VersionOf(k);
  return std::optional<std::string>(std::move(found->second));
}

Status BulkScanPrefix(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const BulkBuffer& pending,
                      std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& fn) {
  const std::map<std::string_view, std::string_view> mine = pending.WithPrefix(prefix);
  auto m = mine.begin();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  it->Seek(pre);
  while (true) {
    const bool db_ok = it->Valid() && it->key().starts_with(pre);
    if (!db_ok && m == mine.end()) break;
    std::string_view dk = db_ok ? std::string_view(it->key().data(), it->key().size()) : "";
    if (m != mine.end() && (!db_ok || m->first <= dk)) {
      if (db_ok && m->first == dk) it->Next();  // the buffered write replaces the stored one
      if (!fn(m->first, m->second)) return Status::Ok();
      ++m;
      continue;
    }
    if (!fn(dk, std::string_view(it->value().data(), it->value().size()))) return Status::Ok();
    it->Next();
  }
  return FromRocks(it->status(), "state scan");
}

Result<std::optional<std::pair<std::string, std::string>>> BulkLastWithPrefix(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const BulkBuffer& pending,
    std::string_view prefix) {
  using Out = std::optional<std::pair<std::string, std::string>>;
  Out found;
  if (const BulkBuffer::Entry* p = pending.LastWithPrefix(prefix)) found.emplace(*p);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  SeekToLastWithPrefix(it.get(), prefix);
  if (it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())) &&
      (!found || it->key().compare(found->first) > 0)) {
    found.emplace(it->key().ToString(), it->value().ToString());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "state read"));
  return found;
}

}  // namespace tink::projections::internal
