// The projection driver: reads the log in order and folds it into the StateStore in batches
// (catch-up at open, the tail thread while open, Replay and Check on demand).
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "engine/engine.h"
#include "engine/kill_point.h"
#include "engine/projection_set.h"
#include "projections/state_store.h"

namespace tink::engine {

namespace {

constexpr size_t kBatchEvents = 4096;
constexpr size_t kBatchBytes = 8 << 20;

// Events of one batch in 8-byte aligned copies (FlatBuffers needs aligned tables).
class DecodedBatch {
 public:
  void Clear() {
    events_.clear();
    hashes_.clear();
    offsets_.clear();
    arena_.clear();
  }
  // Copies and verifies one record. A payload that does not decode (only a foreign or damaged
  // writer can produce one: the engine validates every event) is skipped and counted.
  void Add(const log::LogRecord& rec) {
    const size_t words = rec.payload.size() / 8 + 1;
    const size_t off = arena_.size();
    arena_.resize(off + words);
    std::memcpy(arena_.data() + off, rec.payload.data(), rec.payload.size());
    offsets_.push_back({off, rec.payload.size()});
    projections::Event e;
    e.lsn = rec.lsn;
    e.time_ns = rec.time_ns;
    events_.push_back(e);
    hashes_.push_back(XXH3_64bits(rec.payload.data(), rec.payload.size()));
  }
  // Resolves pointers once the arena no longer moves.
  size_t Finish() {
    size_t bad = 0;
    for (size_t i = 0; i < events_.size(); ++i) {
      std::string_view bytes(reinterpret_cast<const char*>(arena_.data() + offsets_[i].first),
                             offsets_[i].second);
      Result<schema::EventView> v = schema::DecodeEvent(bytes);
      if (!v.ok()) {
        events_[i].fb = nullptr;
        ++bad;
        continue;
      }
      events_[i].view = *v;
      events_[i].fb = fb::GetEvent(bytes.data());
    }
    return bad;
  }
  std::vector<projections::Event>& events() { return events_; }
  std::vector<uint64_t>& hashes() { return hashes_; }
  size_t bytes() const { return arena_.size() * 8; }

 private:
  std::vector<projections::Event> events_;
  std::vector<uint64_t> hashes_;
  std::vector<std::pair<size_t, size_t>> offsets_;
  std::vector<uint64_t> arena_;
};

template <typename T>
auto LiveApply(T* st) {
  return [st](std::span<const projections::Event> e, std::span<const uint64_t> h) {
    return st->Apply(e, h);
  };
}

}  // namespace

Status Engine::ApplyRange(const ApplyFn& apply, Lsn from, Lsn to, const Progress& progress) {
  if (from > to) return Status::Ok();
  std::unique_ptr<log::LogIterator> it = log_->NewIterator(from);
  DecodedBatch batch;
  const uint64_t total = to - from + 1;
  uint64_t done = 0;
  auto flush = [&]() -> Status {
    if (batch.events().empty()) return Status::Ok();
    // Undecodable events stay in the batch: the StateStore advances past them without
    // showing them to projections, so batch boundaries never change the result. They are
    // counted (never skipped in silence); `tink verify` names each one.
    if (batch.Finish() > 0) RETURN_IF_ERROR(NoteUndecodable(batch.events()));
    std::vector<projections::Event>& evs = batch.events();
    std::vector<uint64_t>& hs = batch.hashes();
    KillPoint("projector.before_state_write");
    RETURN_IF_ERROR(apply(evs, hs));
    KillPoint("projector.after_state_write");
    done = evs.back().lsn - from + 1;
    if (progress) progress(done, total);
    batch.Clear();
    return Status::Ok();
  };
  for (; it->Valid(); it->Next()) {
    const log::LogRecord& rec = it->record();
    if (rec.lsn > to) break;
    batch.Add(rec);
    if (batch.events().size() >= kBatchEvents || batch.bytes() >= kBatchBytes) {
      RETURN_IF_ERROR(flush());
    }
  }
  RETURN_IF_ERROR(it->status());
  return flush();
}

Status Engine::NoteUndecodable(std::span<const projections::Event> events) {
  std::vector<Lsn> lsns;
  for (const projections::Event& e : events) {
    if (e.fb == nullptr) lsns.push_back(e.lsn);
  }
  undecodable_events_ += lsns.size();
  if (!state_ || state_->read_only()) return Status::Ok();
  // Kept in the state (the first kUndecodableKept of them) so that an index scan, which never
  // meets these events, can still refuse to answer in silence over their LSNs.
  ASSIGN_OR_RETURN(std::vector<Lsn> known, UndecodableLsns());
  for (Lsn l : lsns) {
    if (known.size() < kUndecodableKept && std::find(known.begin(), known.end(), l) == known.end()) {
      known.push_back(l);
    }
  }
  std::sort(known.begin(), known.end());
  std::string v;
  for (Lsn l : known) v += (v.empty() ? "" : ",") + std::to_string(l);
  return state_->SetMeta(kUndecodableKey, v);
}

Result<std::vector<Lsn>> Engine::UndecodableLsns() {
  std::vector<Lsn> out;
  if (!state_) return out;
  ASSIGN_OR_RETURN(std::optional<std::string> v, state_->GetMeta(kUndecodableKey));
  if (!v) return out;
  size_t pos = 0;
  while (pos < v->size()) {
    const size_t comma = std::min(v->find(',', pos), v->size());
    out.push_back(std::strtoull(v->substr(pos, comma - pos).c_str(), nullptr, 10));
    pos = comma + 1;
  }
  return out;
}

Status Engine::CatchUp(Lsn to, const Progress& progress) {
  std::lock_guard<std::mutex> l(apply_mu_);
  const Lsn from = state_->min_applied() + 1;
  RETURN_IF_ERROR(ApplyRange(LiveApply(state_.get()), from, to, progress));
  Prune(state_->min_applied());
  {
    // Pairs with WaitForProjections: a waiter is either before its check (and sees the new
    // position) or already waiting (and is woken).
    std::lock_guard<std::mutex> t(tail_mu_);
  }
  applied_cv_.notify_all();
  return Status::Ok();
}

void Engine::Prune(Lsn applied) {
  std::lock_guard<std::mutex> l(append_mu_);
  while (!pending_order_.empty() && pending_order_.front().lsn <= applied) {
    const PendingEntry p = pending_order_.front();
    pending_order_.pop_front();
    // Each pending LSN has one entry here and is the front of its stream's list (both in LSN
    // order), so the keys the entry points to are still there.
    pending_ids_.erase(*p.id);
    auto s = pending_streams_.find(*p.stream);
    s->second.pop_front();
    if (s->second.empty()) pending_streams_.erase(s);
  }
}

void Engine::StartTail() {
  tail_stop_ = false;
  tail_ = std::thread([this] { TailLoop(); });
}

void Engine::StopTail() {
  {
    std::lock_guard<std::mutex> l(tail_mu_);
    tail_stop_ = true;
  }
  if (tail_.joinable()) tail_.join();
}

void Engine::TailLoop() {
  using Clock = std::chrono::steady_clock;
  // Read-only openers see only what is flushed (with RocksDB's WAL off, memtables are invisible
  // to them). A flush at most every interval, and only after new events, bounds how far they lag
  // at a cost that does not grow with the append rate; with the WAL on they read it instead.
  const std::chrono::milliseconds interval = options_.state_flush_interval;
  const bool flush_for_readers = interval.count() > 0 && !options_.rocksdb_wal;
  Clock::time_point last_flush = Clock::now();
  // What the catch-up at open applied is not on disk yet either: flush it at the first turn.
  bool unflushed = true;
  while (true) {
    {
      std::lock_guard<std::mutex> l(tail_mu_);
      if (tail_stop_ || !tail_error_.ok()) return;
    }
    Status s;
    const Lsn next = state_->min_applied() + 1;
    if (log_->WaitFor(next, std::chrono::milliseconds(50))) {
      s = CatchUp(log_->LastLsn(), {});
      unflushed = true;
    }
    if (s.ok() && flush_for_readers && unflushed && Clock::now() - last_flush >= interval) {
      s = state_->Flush();
      if (!s.ok()) s = s.WithContext("flushing the projection state for readers");
      last_flush = Clock::now();
      unflushed = false;
    }
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(tail_mu_);
      tail_error_ = s;
      applied_cv_.notify_all();
      return;
    }
  }
}

Status Engine::projection_status() const {
  std::lock_guard<std::mutex> l(tail_mu_);
  return tail_error_;
}

bool Engine::WaitForProjections(Lsn lsn, std::chrono::milliseconds timeout) {
  if (!state_) return false;
  std::unique_lock<std::mutex> l(tail_mu_);
  return applied_cv_.wait_for(l, timeout, [&] {
    return !tail_error_.ok() || state_->min_applied() >= lsn;
  }) && tail_error_.ok();
}

Status Engine::Replay(const std::string& projection, Lsn to, const Progress& progress) {
  if (!state_ || state_->read_only()) {
    return Status::NotSupported("replay needs the store open for writing");
  }
  if (!projection.empty() && state_->projection(projection) == nullptr) {
    std::string names;
    for (const std::string& n : ProjectionNames()) names += (names.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("no projection named '" + projection + "' (have " + names +
                                   ")");
  }
  // --to: the point is to leave the state at that LSN, so nothing may apply past it.
  if (to != 0) StopTail();
  Status s = [&]() -> Status {
    // Fresh Projection objects (empty caches) fold into new column families next to the live
    // ones, which keep serving appends and readers and keep being tailed meanwhile.
    ProjectionSet fresh;
    std::vector<projections::Projection*> parts;
    for (projections::Projection* p : fresh.all()) {
      if (projection.empty() || p->name() == projection) parts.push_back(p);
    }
    ASSIGN_OR_RETURN(std::unique_ptr<projections::StateStore::Rebuild> rebuild,
                     state_->BeginRebuild(parts, options_.replay_bulk_bytes));
    projections::StateStore::Rebuild* r = rebuild.get();
    const auto into = [r](std::span<const projections::Event> e, std::span<const uint64_t> h) {
      const uint64_t ingests = r->ingests();
      Status s = r->Apply(e, h);
      if (s.ok() && r->ingests() != ingests) KillPoint("replay.after_ingest");
      return s;
    };
    const Lsn until = to == 0 ? log_->LastLsn() : std::min(to, log_->LastLsn());
    RETURN_IF_ERROR(ApplyRange(into, 1, until, progress));
    if (to == 0) {
      // Follow what was appended meanwhile, so little is left for the held part.
      for (int round = 0; round < 4 && rebuild->applied() < log_->LastLsn(); ++round) {
        RETURN_IF_ERROR(ApplyRange(into, rebuild->applied() + 1, log_->LastLsn(), {}));
      }
    }
    // The held part below is short: it goes through the memtables, after the buffered state.
    RETURN_IF_ERROR(rebuild->EndBulk());
    KillPoint("replay.after_bulk");
    // Most of the rebuilt state goes to disk now rather than while appends wait.
    RETURN_IF_ERROR(state_->Flush());
    {
      // Held: no append checks ids or versions and nothing is applied to the live state until
      // the rebuilt one has the last events and is current (lock order: apply_mu_ first, as
      // in CatchUp -> Prune).
      std::lock_guard<std::mutex> a(apply_mu_);
      std::lock_guard<std::mutex> b(append_mu_);
      if (to == 0) RETURN_IF_ERROR(ApplyRange(into, rebuild->applied() + 1, log_->LastLsn(), {}));
      KillPoint("replay.before_swap");
      RETURN_IF_ERROR(state_->Swap(*rebuild));
    }
    KillPoint("replay.after_swap");
    {
      std::lock_guard<std::mutex> t(tail_mu_);  // pairs with WaitForProjections
    }
    applied_cv_.notify_all();
    RETURN_IF_ERROR(state_->DropRetired());
    KillPoint("replay.after_drop");
    for (projections::Projection* p : parts) RETURN_IF_ERROR(state_->Compact(p->name()));
    return Status::Ok();
  }();
  // After a replay to the head the tail runs (again, if an earlier --to or an error stopped it).
  if (to == 0 && options_.tail) {
    bool running = false;
    {
      std::lock_guard<std::mutex> l(tail_mu_);
      running = !tail_stop_ && tail_error_.ok();
    }
    if (!running || !tail_.joinable()) {
      StopTail();
      {
        std::lock_guard<std::mutex> l(tail_mu_);
        tail_error_ = Status::Ok();
      }
      StartTail();
    }
  }
  return s;
}

Result<std::vector<CheckResult>> Engine::Check(const Progress& progress) {
  if (!state_ || state_->read_only()) {
    return Status::NotSupported("replay --check needs the store open for writing");
  }
  // Bring the live state to the head, hold the applier, and rebuild next to it.
  RETURN_IF_ERROR(CatchUp(log_->LastLsn(), {}));
  std::lock_guard<std::mutex> l(apply_mu_);
  const std::string tmp = dir_ + "/state.check";
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  ProjectionSet fresh;
  std::vector<CheckResult> out;
  {
    projections::StateOptions so;
    so.rocksdb_wal = false;  // scratch: nothing to recover
    ASSIGN_OR_RETURN(std::unique_ptr<projections::StateStore> scratch,
                     projections::StateStore::Open(tmp, fresh.all(), so));
    const Lsn head = state_->min_applied();
    Status s = ApplyRange(LiveApply(scratch.get()), 1, head, progress);
    if (s.ok()) {
      for (projections::Projection* p : state_->projections()) {
        CheckResult r;
        r.projection = std::string(p->name());
        r.lsn = state_->applied(p->name()).lsn;
        Result<std::string> live = state_->Digest(p->name());
        Result<std::string> again = scratch->Digest(p->name());
        if (!live.ok()) { s = live.status(); break; }
        if (!again.ok()) { s = again.status(); break; }
        r.live_digest = *live;
        r.replay_digest = *again;
        out.push_back(r);
      }
    }
    scratch.reset();
    std::filesystem::remove_all(tmp, ec);
    RETURN_IF_ERROR(s);
  }
  return out;
}

}  // namespace tink::engine
