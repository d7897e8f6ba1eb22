#include "engine/engine.h"

#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "engine/kill_point.h"
#include "engine/projection_set.h"
#include "engine/store_lock.h"
#include "projections/state_store.h"

namespace tink::engine {

namespace {
// Read-only opens of the projection state before falling back to the log (OpenState).
constexpr int kReadOnlyStateAttempts = 5;
}  // namespace

struct Engine::Projections : ProjectionSet {};

std::string DefaultStorePath() {
  const char* env = std::getenv("TINKERBELL_STORE");
  return env != nullptr && *env != '\0' ? env : "./tinkerbell.store";
}

std::string LogDir(const std::string& store) { return log::JoinPath(store, "log"); }
std::string StateDir(const std::string& store) { return log::JoinPath(store, "state"); }

std::string NewEventId() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  static const char* kHex = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) id[half * 16 + i] = kHex[(v >> (i * 4)) & 15];
  }
  return id;
}

Result<Expected> Expected::Parse(std::string_view text) {
  if (text == "any") return Expected{};
  if (text == "no_stream") return Expected{Kind::kNoStream, 0};
  if (text == "exists") return Expected{Kind::kExists, 0};
  uint64_t v = 0;
  if (text.empty() || text.size() > 19) {
    return Status::InvalidArgument("expected version '" + std::string(text) +
                                   "': use any, no_stream, exists or a version number");
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("expected version '" + std::string(text) +
                                     "': use any, no_stream, exists or a version number");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return Expected{Kind::kExact, v};
}

std::string Expected::ToString() const {
  switch (kind) {
    case Kind::kAny: return "any";
    case Kind::kNoStream: return "no_stream";
    case Kind::kExists: return "exists";
    case Kind::kExact: return std::to_string(version);
  }
  return "any";
}

Engine::Engine() = default;

Engine::~Engine() { (void)Close(); }

static bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& dir, EngineOptions options) {
  if (options.read_only) options.access = Access::kRead;
  log::FileSystem* fs = options.fs ? options.fs : log::FileSystem::Default();
  std::unique_ptr<Engine> e(new Engine());
  e->dir_ = dir;
  if (options.access == Access::kAuto) {
    if (!IsDir(dir)) return Status::NotFound("no store at " + dir);
    bool busy = false;
    Result<std::unique_ptr<StoreLock>> lock = StoreLock::Acquire(dir, &busy);
    if (lock.ok()) {
      e->lock_ = std::move(lock).value();
      options.access = Access::kWrite;
    } else if (busy) {
      options.access = Access::kRead;
    } else {
      return lock.status();
    }
  } else if (options.access == Access::kRead) {
    if (!IsDir(dir)) return Status::NotFound("no store at " + dir);
  } else {
    RETURN_IF_ERROR(fs->CreateDir(dir));
    ASSIGN_OR_RETURN(e->lock_, StoreLock::Acquire(dir));
  }
  options.read_only = options.access == Access::kRead;
  e->options_ = options;

  log::LogOptions lo;
  lo.fs = fs;
  lo.durability = options.durability;
  lo.segment_size = options.segment_size;
  lo.read_only = options.read_only;
  lo.progress = options.progress;
  lo.on_commit = options.on_commit;
  ASSIGN_OR_RETURN(e->log_, log::Log::Open(LogDir(dir), lo, &e->recovery_));
  if (options.projections) RETURN_IF_ERROR(e->OpenState(options));
  return e;
}

Status Engine::OpenState(const EngineOptions& options) {
  proj_ = std::make_unique<Projections>();
  projections::StateOptions so;
  so.rocksdb_wal = options.rocksdb_wal;
  const std::string sdir = StateDir(dir_);
  if (options.read_only) {
    if (!IsDir(sdir)) return Status::Ok();  // no state yet: reads fall back to the log
    so.read_only = true;
    Result<std::unique_ptr<projections::StateStore>> st =
        projections::StateStore::Open(sdir, proj_->all(), so);
    // A writer's open, flush or compaction can replace files between RocksDB reading the
    // state's manifest and opening them (the writer may be gone by the time we notice); a second
    // look then finds the new set.
    for (int attempt = 1; !st.ok() && attempt < kReadOnlyStateAttempts; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      st = projections::StateStore::Open(sdir, proj_->all(), so);
    }
    if (!st.ok()) return Status::Ok();  // unreadable state: reads fall back to the log
    state_ = std::move(st).value();
    // The state was opened after the log, and the writer may have appended and flushed in
    // between: then the log is read again so that it covers what the state has applied.
    Lsn ahead = 0;
    for (projections::Projection* p : state_->projections()) {
      ahead = std::max(ahead, state_->applied(p->name()).lsn);
    }
    if (ahead > log_->LastLsn() && !log_->Refresh().ok()) {
      state_.reset();  // as for an unreadable state: reads fall back to the log as it was
      return Status::Ok();
    }
    // A state that does not match this log is not used (the writer will rebuild it).
    if (!ValidateState().ok() || !state_resets_.empty()) state_.reset();
    return Status::Ok();
  }
  struct stat sst;
  if (::stat(sdir.c_str(), &sst) == 0 && !S_ISDIR(sst.st_mode)) {
    // Not a directory: no state RocksDB could ever open. It is derived; start it again.
    state_resets_.push_back("state is not a directory; rebuilding it");
    if (::unlink(sdir.c_str()) != 0) {
      return Status::IOError("remove " + sdir + ": " + std::strerror(errno));
    }
  }
  ::mkdir(sdir.c_str(), 0700);
  Result<std::unique_ptr<projections::StateStore>> st =
      projections::StateStore::Open(sdir, proj_->all(), so);
  // Only a state RocksDB calls damaged or unusable is thrown away; an I/O error (a full disk,
  // too many open files, a permission) may pass, and deleting state/ for it would turn a
  // transient problem into a long rebuild.
  if (!st.ok() && st.status().code() == Code::kIOError) {
    return st.status().WithContext("opening the projection state " + sdir);
  }
  if (!st.ok()) {
    // The state is derived: if RocksDB cannot open it, start it again from the log.
    state_resets_.push_back("state could not be opened (" + st.status().ToString() +
                            "); rebuilding it");
    std::error_code ec;
    std::filesystem::remove_all(sdir, ec);
    ::mkdir(sdir.c_str(), 0700);
    ASSIGN_OR_RETURN(state_, projections::StateStore::Open(sdir, proj_->all(), so));
  } else {
    state_ = std::move(st).value();
  }
  ::chmod(sdir.c_str(), 0700);
  RETURN_IF_ERROR(ValidateState());
  if (options.catch_up) {
    const Lsn before = state_->min_applied();
    RETURN_IF_ERROR(CatchUp(log_->LastLsn(), options.replay_progress));
    RETURN_IF_ERROR(CompactAfterCatchUp(before));
  }
  if (options.tail) StartTail();
  return Status::Ok();
}

// A catch-up that folded most of the state (at least options_.compact_after_catch_up events,
// and at least half of the log) leaves it as a replay would before its final compaction: several
// L0 files and a memtable that every as-of read seeks through. It ends the same way, one
// CompactRange per projection (docs/performance.md, issue 16). A short tail (a crash reopen, a
// daemon restart) is left to RocksDB's own compactions.
Status Engine::CompactAfterCatchUp(Lsn before) {
  const Lsn min_events = options_.compact_after_catch_up;
  const Lsn after = state_->min_applied();
  if (min_events == 0 || after < before + min_events || (after - before) * 2 < after) {
    return Status::Ok();
  }
  for (projections::Projection* p : proj_->all()) RETURN_IF_ERROR(state_->Compact(p->name()));
  return Status::Ok();
}

// Checks the state against the log it claims to be derived from: the same store, and for each
// projection an applied position that names a record of this log (same LSN, time and payload
// hash). A projection that fails is dropped (kWrite) and rebuilt by the catch-up.
Status Engine::ValidateState() {
  ASSIGN_OR_RETURN(std::optional<std::string> sid, state_->GetMeta(projections::kStoreIdKey));
  const std::string& log_id = log_->store_id_hex();
  if (sid && *sid != log_id) {
    state_resets_.push_back("state belongs to store " + *sid + ", not " + log_id);
    if (state_->read_only()) return Status::Ok();
    for (projections::Projection* p : state_->projections()) RETURN_IF_ERROR(state_->Drop(p->name()));
  }
  if (!state_->read_only() && (!sid || *sid != log_id) && !log_id.empty()) {
    RETURN_IF_ERROR(state_->SetMeta(projections::kStoreIdKey, log_id));
  }
  const Lsn last = log_->LastLsn();
  for (projections::Projection* p : state_->projections()) {
    const projections::Applied a = state_->applied(p->name());
    if (a.lsn == 0) continue;
    std::string why;
    if (a.lsn > last) {
      why = "state is at LSN " + std::to_string(a.lsn) + " but the log ends at " +
            std::to_string(last);
    } else {
      std::unique_ptr<log::LogIterator> it = log_->NewIterator(a.lsn);
      if (!it->Valid() || it->record().lsn != a.lsn) {
        RETURN_IF_ERROR(it->status());
        why = "LSN " + std::to_string(a.lsn) + " is not in the log";
      } else if (it->record().time_ns != a.time_ns ||
                 XXH3_64bits(it->record().payload.data(), it->record().payload.size()) !=
                     a.payload_hash) {
        why = "the event at LSN " + std::to_string(a.lsn) + " is not the one it was built from";
      }
    }
    if (why.empty()) continue;
    state_resets_.push_back(std::string(p->name()) + ": " + why + "; rebuilding");
    if (!state_->read_only()) RETURN_IF_ERROR(state_->Drop(p->name()));
  }
  return Status::Ok();
}

Lsn Engine::ProjectionsApplied() const { return state_ ? state_->min_applied() : 0; }

std::vector<std::string> Engine::ProjectionNames() const {
  std::vector<std::string> out;
  ProjectionSet tmp;
  for (projections::Projection* p : tmp.all()) out.emplace_back(p->name());
  return out;
}

Result<std::unique_ptr<projections::StateReader>> Engine::NewReader() {
  if (!state_) {
    return Status::NotFound("the store has no projection state yet; open it for writing once "
                            "(any tink command that writes, or tink replay) to build it");
  }
  return std::make_unique<projections::StateReader>(state_.get());
}

std::unique_ptr<log::LogIterator> Engine::Read(log::Lsn from) { return log_->NewIterator(from); }

Status Engine::Close() {
  StopTail();
  Status s = log_ ? log_->Close() : Status::Ok();
  if (state_ && !state_->read_only()) {
    // Apply what the tail thread had not reached yet, so the next open starts current.
    if (options_.tail && s.ok() && projection_status().ok()) s = CatchUp(log_->LastLsn(), {});
    // Flush so the next open does not have to replay RocksDB's WAL (or, without it, the log).
    Status f = FailPoint("engine.close.flush") ? Status::IOError("injected: state flush failed")
                                               : state_->Flush();
    if (s.ok()) s = f;
  }
  state_.reset();
  lock_.reset();
  return s;
}

Result<log::VerifyReport> VerifyStore(const std::string& dir, const Progress& progress) {
  if (!IsDir(dir)) return Status::NotFound("no store at " + dir);
  ASSIGN_OR_RETURN(log::VerifyReport r,
                   log::VerifyLog(LogDir(dir), nullptr, progress,
                                  [&dir] { return StoreLock::HeldByAnyone(dir); }));
  // The log only knows checksummed bytes; an event is more: every payload must decode (the
  // projections and scans would otherwise have to skip it). Checked over what the log serves.
  log::LogOptions lo;
  lo.read_only = true;
  ASSIGN_OR_RETURN(std::unique_ptr<log::Log> log, log::Log::Open(LogDir(dir), lo));
  constexpr size_t kListed = 20;
  uint64_t bad = 0;
  std::unique_ptr<log::LogIterator> it = log->NewIterator(1);
  for (; it->Valid(); it->Next()) {
    const log::LogRecord& rec = it->record();
    Result<schema::EventView> v = schema::DecodeEvent(rec.payload);
    if (v.ok()) continue;
    if (++bad <= kListed) {
      r.problems.push_back({std::string(rec.segment), rec.offset, rec.lsn,
                            "the event does not decode: " + v.status().message()});
    }
  }
  if (bad > kListed) {
    r.problems.push_back({"", 0, 0, std::to_string(bad - kListed) + " more events do not decode"});
  }
  return r;
}

bool WriterActive(const std::string& dir) { return StoreLock::HeldByAnyone(dir); }

Result<log::Lsn> TruncateStoreAt(const std::string& dir, log::Lsn lsn) {
  if (!IsDir(dir)) return Status::NotFound("no store at " + dir);
  ASSIGN_OR_RETURN(std::unique_ptr<StoreLock> lock, StoreLock::Acquire(dir));
  return log::TruncateLogAt(LogDir(dir), lsn);
}

}  // namespace tink::engine
