// Engine: opens a store (DESIGN.md §2), owns its log and its projection state, validates and
// appends events (streams with optimistic concurrency, durable idempotency by event id), drives
// the projections (catch-up on open, live tailing, rebuild, check) and answers reads.
//
// Store layout: STORE/LOCK (flock: one writer process), STORE/log/ (segments), STORE/state/
// (RocksDB, derived: deleting it loses nothing, the next writable open rebuilds it). Folders
// 0700, files 0600.
//
// Access: kWrite takes the lock (IOError naming the holder's pid if another process has it),
// catches the projections up to the log before Open returns, and tails the log from then on.
// kRead takes no lock and changes nothing: the log is read as it is and the projection state as
// a read-only RocksDB snapshot of what the writer had flushed when Open ran. A writer's tail
// thread flushes about once a second while it applies events (state_flush_interval), so the
// snapshot lags the writer by about that much; reads say which LSN they answer for
// (ProjectionsApplied against log().LastLsn()), and Scan reads what the snapshot lacks from the
// log.
// kAuto is kWrite when the lock is free and kRead otherwise; it never creates a store.
//
// Thread safety: Engine is thread-safe. Append may be called from many threads: the stream and
// id checks are serialised, the log still commits concurrent appends as one group.
// Errors: InvalidArgument for bad events (nothing of the batch is written; the message names the
// event's position), Conflict when an expected stream version does not hold, IOError/Failed from
// the log (sticky) or the state, Corruption naming segment, offset and LSN.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "log/log.h"
#include "projections/indexes.h"
#include "projections/reader.h"
#include "projections/scheduler.h"
#include "schema/schema.h"
#include "schema/status.h"
#include "schema/thread_annotations.h"

namespace tink::engine {

using log::Lsn;

enum class Access { kWrite, kRead, kAuto };

// (done, total) of a long job: catch-up, replay, check.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

struct EngineOptions {
  Access access = Access::kWrite;
  bool read_only = false;  // shorthand for access = kRead
  log::Durability durability;
  log::FileSystem* fs = nullptr;  // nullptr: the real file system
  uint64_t segment_size = log::kDefaultSegmentSize;
  Progress progress;          // log scan at open
  Progress replay_progress;   // projection catch-up at open
  // The log's group-commit hook (log::LogOptions::on_commit): records and bytes per group.
  std::function<void(uint64_t records, uint64_t bytes)> on_commit;
  bool projections = true;    // false: the log only (no state/, no checks by id or stream)
  // Projection writes through RocksDB's WAL. Off by default: the log is the record, a crash
  // costs a catch-up from the last flush, and with it on reopen replayed RocksDB's WAL for
  // seconds (docs/performance.md).
  bool rocksdb_wal = false;
  bool tail = true;           // kWrite: a thread applies new events as they are appended
  // kWrite, tail on, RocksDB's WAL off: the tail thread flushes the projection state's memtables
  // when it has applied new events and this long has passed since its last flush, so read-only
  // openers (who see only flushed state) lag the writer by about this much. Never per batch.
  // 0: only Close (and Replay) flush.
  std::chrono::milliseconds state_flush_interval{1000};
  bool catch_up = true;       // kWrite: bring the projections to the head before Open returns
  // kWrite: a catch-up at open that folded at least this many events, and at least half of the
  // log, ends with a compaction of every projection (as a replay does). 0: never.
  uint64_t compact_after_catch_up = 100'000;
  // Replay's bulk load: the rebuilt state is buffered in memory up to about this many bytes and
  // ingested as SST files written in key order (no memtable inserts); 0: through the memtables
  // like every other write. The same state either way (docs/performance.md, "Replay").
  size_t replay_bulk_bytes = 128 << 20;
};

// The expected version of a stream for an append (KurrentDB's semantics): any; no_stream (the
// stream has no events); exists (it has at least one); or exactly N (its last event has
// version N; versions start at 0 and are gapless).
struct Expected {
  enum class Kind { kAny, kNoStream, kExists, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;
  static Result<Expected> Parse(std::string_view text);  // "any" | "no_stream" | "exists" | N
  std::string ToString() const;
};

struct AppendOptions {
  Expected expected;
};

struct AppendOutcome {
  std::vector<Lsn> lsns;     // per event, in order
  int64_t time_ns = 0;       // recorded time of the first event
  bool duplicate = false;    // every id already existed: nothing was written, lsns are the originals
};

// Selects events for Engine::Scan. Zero/empty fields do not filter. since/until are record
// times (ns), inclusive. With stream, run or type the matching index is read instead of the log.
struct LogQuery {
  Lsn from = 1;
  Lsn to = UINT64_MAX;
  std::string stream, run, type;
  int64_t since_ns = 0, until_ns = 0;
  bool has_since = false, has_until = false;
};

struct ScanStats {
  uint64_t index_lsns = 0;     // LSNs read from an index
  uint64_t records_read = 0;   // log records read
  uint64_t tail_scanned = 0;   // records past the index's applied LSN, filtered one by one
  std::string index;           // "stream", "run", "type", "time", or "" (log scan)
};

// A projection whose state differs from a fresh replay (Engine::Check).
struct CheckResult {
  std::string projection;
  std::string live_digest, replay_digest;
  Lsn lsn = 0;
  bool equal() const { return live_digest == replay_digest; }
};

class StoreLock;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir, EngineOptions options);
  ~Engine();

  // Validates and appends events as one atomic batch; events without an id get a generated one.
  // An id already in the store makes the append idempotent: if every event's id exists, nothing
  // is written and the original LSNs come back (duplicate = true); if only some do, the batch is
  // refused. With an expected version other than any, all events must be in one stream, and a
  // mismatch is Conflict naming the stream's actual version; nothing is written.
  Result<AppendOutcome> Append(std::span<const schema::EventInput> events,
                               const AppendOptions& options = {});

  // Reads raw records from `from` (payloads are FlatBuffers events: schema::DecodeEvent).
  std::unique_ptr<log::LogIterator> Read(log::Lsn from);
  // Calls fn for every record matching q, in LSN order, using an index when q names a stream,
  // run or type (and the time index for since/until). fn returns false to stop.
  Status Scan(const LogQuery& q, const std::function<bool(const log::LogRecord&)>& fn,
              ScanStats* stats = nullptr);

  // A snapshot of the projection state (kRead: the state as of Open).
  // NotFound when the store has no state (kRead on a store never opened for writing).
  Result<std::unique_ptr<projections::StateReader>> NewReader();
  // kWrite: blocks until every projection has applied `lsn` (or the timeout passes).
  bool WaitForProjections(Lsn lsn, std::chrono::milliseconds timeout);
  // The lowest LSN every projection has applied.
  Lsn ProjectionsApplied() const;

  // Rebuilds projections from scratch (all, or one by name), applying events up to `to` (0: the
  // head), then compacts their column families (as-of reads after a rebuild are 1.4-2.5x
  // faster). The rebuild is built next to the live state, which keeps answering appends' id
  // and stream checks and readers and keeps being tailed; it is caught up to the head and
  // swapped in atomically (appends and the applier are held only for the last few events and
  // the swap). Readers made before the swap keep the old state until they are destroyed. A
  // crash at any point leaves the old state or the new one. With to != 0 the tail thread is
  // stopped and stays stopped: the replayed projections stay at `to` until the next catch-up.
  Status Replay(const std::string& projection, Lsn to, const Progress& progress);
  // Rebuilds every projection into a temporary state and compares digests with the live one.
  Result<std::vector<CheckResult>> Check(const Progress& progress);
  // Names of the projections, in apply order.
  std::vector<std::string> ProjectionNames() const;

  log::Log& log() { return *log_; }
  const log::RecoveryReport& recovery() const { return recovery_; }
  const std::string& dir() const { return dir_; }
  bool writable() const { return lock_ != nullptr; }
  // Why the state was (partly) rebuilt at open, one line per projection; empty if it was not.
  const std::vector<std::string>& state_resets() const { return state_resets_; }
  // The projection driver's sticky error (ok while healthy).
  Status projection_status() const;
  // Events the projections passed over since Open because their payload (checksum valid) does
  // not decode: only a foreign or broken writer makes them. `tink verify` lists them.
  uint64_t undecodable_events() const { return undecodable_events_.load(); }

  Status Close();

 private:
  struct Projections;
  Engine();
  Status OpenState(const EngineOptions& options);
  Status ValidateState();
  Status CatchUp(Lsn to, const Progress& progress);
  // After Open's catch-up from `before`: compacts the state if the catch-up wrote most of it.
  Status CompactAfterCatchUp(Lsn before);
  // Where ApplyRange folds a batch: the live StateStore, a rebuild next to it, a scratch state.
  using ApplyFn = std::function<Status(std::span<const projections::Event> events,
                                       std::span<const uint64_t> payload_hashes)>;
  Status ApplyRange(const ApplyFn& apply, Lsn from, Lsn to, const Progress& progress);
  void TailLoop();
  // Undecodable events met by the projections: counted, and their LSNs kept in the state's
  // metadata (kUndecodableKey, comma-separated, at most kUndecodableKept) for Scan.
  static constexpr std::string_view kUndecodableKey = "undecodable_lsns";
  static constexpr size_t kUndecodableKept = 1000;
  Status NoteUndecodable(std::span<const projections::Event> events);
  Result<std::vector<Lsn>> UndecodableLsns();
  void StartTail();
  void StopTail();
  void Prune(Lsn applied);

  std::string dir_;
  std::unique_ptr<StoreLock> lock_;
  std::unique_ptr<log::Log> log_;
  log::RecoveryReport recovery_;
  std::unique_ptr<Projections> proj_;
  std::unique_ptr<projections::StateStore> state_;
  std::vector<std::string> state_resets_;
  EngineOptions options_;

  // Append path: ids and stream events submitted to the log but perhaps not yet applied to the
  // ids/streams projections. Pruned by the tail thread once applied, from the front of
  // pending_order_ (submission = LSN order), so a prune costs what it removes, not what is
  // pending (a million-event import is pruned many times while it is applied).
  struct PendingEntry {
    Lsn lsn;
    const std::string* id;      // a key of pending_ids_ (node keys do not move)
    const std::string* stream;  // a key of pending_streams_
  };
  std::mutex append_mu_;
  std::unordered_map<std::string, Lsn> pending_ids_ GUARDED_BY(append_mu_);
  std::unordered_map<std::string, std::deque<Lsn>> pending_streams_ GUARDED_BY(append_mu_);
  std::deque<PendingEntry> pending_order_ GUARDED_BY(append_mu_);

  // Projection driver.
  // One applier at a time (tail thread, replay's swap, check). Taken before append_mu_.
  std::mutex apply_mu_ ACQUIRED_BEFORE(append_mu_);
  mutable std::mutex tail_mu_;
  std::condition_variable applied_cv_;
  bool tail_stop_ GUARDED_BY(tail_mu_) = false;
  Status tail_error_ GUARDED_BY(tail_mu_);
  std::thread tail_;
  std::atomic<uint64_t> undecodable_events_{0};
};

// Reads every byte of the store's log (log::VerifyLog); takes no lock, changes nothing.
Result<log::VerifyReport> VerifyStore(const std::string& dir, const Progress& progress = {});

// Whether a process holds the store's writer lock now (a writer may be appending). Never takes
// the lock. Readers use it to tell damage from a write in progress.
bool WriterActive(const std::string& dir);

// Takes the store's lock and removes every event with lsn >= `lsn` (rounded down to the start of
// its batch). Returns the new last LSN. The projection state is rebuilt at the next open (its
// applied positions no longer match the log). For `tink recover --truncate-at`.
Result<log::Lsn> TruncateStoreAt(const std::string& dir, log::Lsn lsn);

// $TINKERBELL_STORE if set, else ./tinkerbell.store.
std::string DefaultStorePath();
// STORE/log, STORE/state
std::string LogDir(const std::string& store);
std::string StateDir(const std::string& store);
// A fresh random event id: 32 lowercase hex digits.
std::string NewEventId();

}  // namespace tink::engine
